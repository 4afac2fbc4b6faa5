"""The application object: everything a channel (Telegram, the console, the command line, a
web page) and a job needs, built in one place by ``build_guide``.

``Guide(engine, store, checklists, settings)``: the engine renders and dispatches; the store
keeps users' data (None: a store-less guide, e.g. ``eport-guide show``); ``checklists``
computes users' checklists; ``settings`` is the configuration (``bot.settings.Settings`` or
``Defaults``). Feature functions receive the Guide as their first argument.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from knowledge import Knowledge, load_knowledge

from . import i18n, retention
from .engine import Context, Engine, Screen

if TYPE_CHECKING:
    from .checklists import Checklists
    from .store import Store

DB_ENV = "EPORT_GUIDE_DB"
DEFAULT_DB = "eport-guide.db"
OVERLAY_FILE = "knowledge-overlay.yaml"  # beside the database: question forms staff taught (knowledge.overlay)

# Which features each channel offers, decided here only (a feature that needs a database is on only
# in a guide with one): ``on`` adds what only that channel can do, ``off`` drops what it cannot.
CHANNELS: dict[str, dict[str, tuple[str, ...]]] = {
    "telegram": {"on": ("inline",), "off": ()},  # share buttons need Telegram's inline mode
    "web": {"on": (), "off": ("reminders",)},  # a web page cannot send a message later
    "console": {"on": (), "off": ()},  # the console chat, the command line, scripts and tests
}


class GuideSettings(Protocol):
    """The configuration the dialogs read (``bot.settings.Settings`` has these and more)."""

    @property
    def stale_days(self) -> int:
        """Days after which a knowledge record counts as not re-checked."""

    @property
    def retention_days(self) -> int | None:
        """Days of inactivity after which a user's data is deleted (None: kept)."""


@dataclass(frozen=True)
class Defaults:
    """Settings for a guide built without a configuration (tests, scripts)."""

    stale_days: int = 180
    retention_days: int | None = None


@dataclass(frozen=True)
class Guide:
    """The application object: the engine, the store, the checklists, the settings and the overlay."""

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
        """The current knowledge."""
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
        """Close the database (a store-less guide has nothing to close)."""
        if self.store is not None:
            self.store.close()

    # -- services a channel uses besides the engine (they wire feature code; channels import none) --
    def check_file(
        self, ctx: Context, data: bytes | None, file_name: str | None, size: int | None, *, photo: bool = False
    ) -> Screen:
        """The pre-check screen for a file the user sent (``data`` None: only its size is known)."""
        from .features.upload import check_file

        return check_file(self, ctx, data, file_name, size, photo=photo)

    async def check_file_off_loop(
        self, ctx: Context, data: bytes | None, file_name: str | None, size: int | None, *, photo: bool = False
    ) -> Screen:
        """``check_file`` for an event loop: a large file is checked in the bounded pre-check pool."""
        from .features.upload import check_file_off_loop

        return await check_file_off_loop(self, ctx, data, file_name, size, photo=photo)

    def inline_results(self, ctx: Context, query: str, popular: list[str] | None = None, limit: int = 8) -> list[Any]:
        """Answers to an inline query (``dialogs.features.inline.InlineResult``), most viewed first when empty."""
        from .features.inline import results

        return results(self, ctx, query, popular=popular, limit=limit)

    def missed_groups(self) -> list[Any]:
        """The questions the guide could not answer and the 👎 reasons, grouped by similarity, most asked
        first (``dialogs.features.teach.Group``)."""
        from .features.teach import missed_groups

        return missed_groups(self)

    def route_label(self, route: str, ctx: Context) -> str:
        """The name of what ``route`` opens (a business, an answer's title, a city …), as on a button."""
        from .features.answers import route_label

        return route_label(self, route, ctx)

    def full_answer(self, ctx: Context, topic: str, *, html: bool = False) -> str:
        """A business's whole answer: its first screen, the verbatim rules, the labelled Jiangsu extras."""
        from .features.topics import full_answer

        return full_answer(self.engine, ctx, topic, html=html)

    def stale_records(self, max_age_days: int) -> list[dict[str, Any]]:
        """Knowledge records not re-checked for ``max_age_days`` days, oldest first."""
        from .features.admin import stale_records

        return stale_records(self.kb, max_age_days)

    def reminder_message(self, reminder: Any, lang: str) -> Screen:
        """The screen a due reminder (a store row) is delivered as."""
        from .features.reminders import reminder_message

        return reminder_message(self.engine, reminder, lang)

    def retention_due(self, now: dt.datetime, retention_days: int) -> tuple[list[int], list[int]]:
        """(users to warn now, users whose data is due for deletion): ``dialogs.retention``."""
        return retention.retention_due(self.store, now, retention_days)

    def expire(self, now: dt.datetime, retention_days: int, *, whose: Callable[[int], bool] | None = None) -> list[int]:
        """The one retention routine (``dialogs.retention.expire``) on this guide's store; the users deleted."""
        return retention.expire(self.store, now, retention_days, whose=whose)


def db_path_from_env() -> str:
    """EPORT_GUIDE_DB, else ./eport-guide.db."""
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


def build_guide(
    db_path: str | os.PathLike | None = None,
    kb: Knowledge | None = None,
    *,
    settings: GuideSettings | None = None,
    store: bool = True,
    writable: bool = True,
    channel: str = "console",
) -> Guide:
    """The guide for ``channel`` (a key of ``CHANNELS``: its features are decided there).
    ``store=False``: no database (the screens for everyone only); otherwise ``db_path`` (None →
    EPORT_GUIDE_DB or ./eport-guide.db)."""
    from knowledge.overlay import apply_overlay

    from . import features

    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    if store and db_path is None:
        db_path = db_path_from_env()
    # the question forms staff taught, beside the database (a guide without a database or settings has none)
    overlay = overlay_path(db_path, settings) if db_path is not None or settings is not None else None
    engine = Engine(apply_overlay(kb or load_knowledge(), overlay))
    database = None
    lists = None
    if store:  # the database's libraries are loaded only for a guide that has one
        from .checklists import Checklists
        from .store import Store

        database = Store(Path(db_path), writable=writable)
        lists = Checklists(engine, database)
    guide = Guide(engine, database, lists, settings or Defaults(), overlay)
    features.install(guide, off=CHANNELS[channel]["off"])
    for feature in CHANNELS[channel]["on"]:
        engine.extend(feature)
    return guide
