"""Shared fixtures. Each block below belongs to one feature; keep them separate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import load_knowledge
from knowledge.loader import DEFAULT_DATA_DIR

REPO = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO.parent / "shared" / "seeds"


# -- knowledge and engine ----------------------------------------------------------------
@pytest.fixture(scope="session")
def kb():
    return load_knowledge(DEFAULT_DATA_DIR)


@pytest.fixture(scope="session")
def engine(kb):
    from dialogs.engine import Engine

    return Engine(kb)


@pytest.fixture
def ctx():
    from dialogs.engine import Context

    return Context(user_id=1)


@pytest.fixture
def knowledge_copy(tmp_path):
    """A writable copy of the knowledge directory, for breaking it on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target
