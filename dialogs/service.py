"""Assemble an engine with the features a channel needs (store-backed or not)."""

from __future__ import annotations

import os
from pathlib import Path

from knowledge import Knowledge, load_knowledge

from .engine import Engine

DB_ENV = "EPORT_GUIDE_DB"
DEFAULT_DB = "eport-guide.db"


def db_path_from_env() -> str:
    return os.environ.get(DB_ENV) or DEFAULT_DB


def build_engine(db_path: str | os.PathLike | None = None, kb: Knowledge | None = None, *, stale_days: int = 180,
                 retention_days: int | None = None, writable: bool = True, reminders: bool = True) -> Engine:
    """The engine with every feature; ``db_path`` None → EPORT_GUIDE_DB or ./eport-guide.db.
    ``reminders=False`` for channels that cannot send a message later (the web)."""
    from . import admin, checklist, feedback, privacy, remind
    from .store import Store

    engine = Engine(kb or load_knowledge())
    store = Store(Path(db_path) if db_path is not None else db_path_from_env(), writable=writable)
    engine.store = store  # type: ignore[attr-defined]
    checklist.install(engine, store)
    feedback.install(engine, store)
    privacy.install(engine, store, retention_days)
    admin.install(engine, store, stale_days)
    if reminders:
        remind.install(engine, store)
    return engine
