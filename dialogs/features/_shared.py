"""Helpers several features use (not a feature: screens.yaml names none of these)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from knowledge import Knowledge

if TYPE_CHECKING:
    from ..checklists import Checklists
    from ..engine import Engine
    from ..store import Store


class App(Protocol):
    """What a feature function gets first: the application object (``dialogs.guide.Guide``), as far
    as features use it — typed here so that features need not import the guide that installs them."""

    engine: "Engine"
    store: "Store | None"
    checklists: "Checklists | None"
    settings: Any
    overlay: Path | None

    @property
    def kb(self) -> Knowledge:
        """The current knowledge."""


CITY_ORDER = ("满洲里", "呼伦贝尔", "赤峰", "通辽", "乌兰浩特")


def sources(kb: Knowledge, files: Iterable[str]) -> list[dict[str, str]]:
    """The source documents behind a screen, each once, with the date they were checked."""
    seen = sorted({f for f in files if f})
    return [{"label": kb.source_label(f), "verified_on": str(kb.sources[f].verified_on)} for f in seen]


def ordered_cities(kb: Knowledge) -> list[str]:
    """The office cities, Manzhouli first, then the Inner Mongolia order."""
    return sorted(kb.cities, key=lambda c: (CITY_ORDER.index(c) if c in CITY_ORDER else 99, c))


def localised(value: Any, lang: str) -> str:
    """A knowledge text given per language (zh/ru/en), Chinese where the language has none."""
    return getattr(value, lang, None) or value.zh
