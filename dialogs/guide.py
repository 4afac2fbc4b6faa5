"""The application object: everything a channel (Telegram, the console, the command line, a
web page) and a job needs, built in one place by ``build_guide``.

``Guide(engine, store, checklists, settings)``: the engine renders and dispatches; the store
keeps users' data (None: a store-less guide, e.g. ``eport-guide show``); ``checklists``
computes users' checklists; ``settings`` is the configuration (``bot.settings.Settings`` or
``Defaults``). Feature functions receive the Guide as their first argument.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from knowledge import Knowledge, load_knowledge

from . import i18n
from .engine import Engine

if TYPE_CHECKING:
    from .features.checklist import Checklists
    from .store import Store

DB_ENV = "EPORT_GUIDE_DB"
DEFAULT_DB = "eport-guide.db"
OVERLAY_FILE = "knowledge-overlay.yaml"  # beside the database: question forms staff taught (knowledge.overlay)


class GuideSettings(Protocol):
    """The configuration the dialogs read (``bot.settings.Settings`` has these and more)."""

    @property
    def stale_days(self) -> int: ...

    @property
    def retention_days(self) -> int | None: ...


@dataclass(frozen=True)
class Defaults:
    """Settings for a guide built without a configuration (tests, scripts)."""

    stale_days: int = 180
    retention_days: int | None = None


@dataclass(frozen=True)
class Guide:
    engine: Engine
    store: "Store | None"
    checklists: "Checklists | None"
    settings: GuideSettings
    overlay: Path | None = None  # the local knowledge overlay this guide reads and teaching writes

    def load_knowledge(self, directory: str | os.PathLike | None = None) -> Knowledge:
        """The knowledge files (``directory``, default as at start-up) with this guide's overlay: what
        /reload swaps in. Raises KnowledgeError (file and line) if either is invalid."""
        from knowledge.overlay import apply_overlay

        return apply_overlay(load_knowledge(directory), self.overlay)

    @property
    def kb(self) -> Knowledge:
        return self.engine.kb

    def language(self, user_id: int | None, client: str | None = None, *, stored: str | None = None) -> str:
        """The one answer to "which language does this user read?", for every channel and job: the
        language the user chose (/language; ``stored`` when the caller already read it), else the
        one their client reports (Telegram's language_code, the console's --lang), else Chinese.
        Never raises: a failing database (the fault an error reply may be about) counts as unknown."""
        if stored is None and user_id is not None and self.store is not None:
            try:
                stored = self.store.get_language(user_id)
            except Exception:  # noqa: BLE001 - the database may be what failed
                stored = None
        return i18n.normalise_language(stored or client)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def db_path_from_env() -> str:
    return os.environ.get(DB_ENV) or DEFAULT_DB


def overlay_path(db_path: str | os.PathLike | None, settings: object | None = None) -> Path | None:
    """Where the local knowledge overlay is: EPORT_GUIDE_OVERLAY (``settings.overlay_path``), else
    ``knowledge-overlay.yaml`` in the database's directory; None for a database in memory."""
    explicit = getattr(settings, "overlay_path", None)
    if explicit:
        return Path(explicit).expanduser().absolute()
    if db_path is None:
        db_path = getattr(settings, "db_path", None)
    if db_path is None or str(db_path) == ":memory:":
        return None
    return Path(db_path).expanduser().absolute().parent / OVERLAY_FILE


def build_guide(db_path: str | os.PathLike | None = None, kb: Knowledge | None = None, *,
                settings: GuideSettings | None = None, store: bool = True, writable: bool = True,
                reminders: bool = True) -> Guide:
    """The guide with every feature. ``store=False``: no database (the screens for everyone only);
    otherwise ``db_path`` (None → EPORT_GUIDE_DB or ./eport-guide.db). ``reminders=False`` for a
    channel that cannot send a message later."""
    from knowledge.overlay import apply_overlay

    from . import features

    if store and db_path is None:
        db_path = db_path_from_env()
    # the question forms staff taught, beside the database (a guide without a database or settings has none)
    overlay = overlay_path(db_path, settings) if db_path is not None or settings is not None else None
    engine = Engine(apply_overlay(kb or load_knowledge(), overlay))
    database = None
    lists = None
    if store:  # the database's libraries are loaded only for a guide that has one
        from .features.checklist import Checklists
        from .store import Store

        database = Store(Path(db_path), writable=writable)
        lists = Checklists(engine, database)
    guide = Guide(engine, database, lists, settings or Defaults(), overlay)
    features.install(guide, off=() if reminders else ("reminders",))
    return guide
