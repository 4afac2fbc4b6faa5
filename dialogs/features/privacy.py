"""/privacy, /settings, /language and /forget: what is stored, the user's settings, deleting
every row about the user; and retention (inactive users lose their data, warned 7 days before)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from .. import i18n
from ..engine import Context, NotFound, Screen
from ..routes import Route

if TYPE_CHECKING:
    from ..guide import Guide

WARN_DAYS_BEFORE = 7
log = logging.getLogger("eport_guide.retention")


# -- screens ----------------------------------------------------------------------------------
def privacy(guide: "Guide", ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """What is stored and for how long (no period without a store: nothing is kept)."""
    return {"retention_days": guide.settings.retention_days if guide.store is not None else None}


def settings(guide: "Guide", ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    return {"retention_days": guide.settings.retention_days,
            "reminders": bool(guide.store.get_setting(ctx.user_id or 0, "reminders", True)),
            "language_name": i18n.LANGUAGE_NAMES.get(ctx.lang, ctx.lang)}


def language(guide: "Guide", ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    return {"languages": [{"code": c, "name": i18n.LANGUAGE_NAMES.get(c, c)} for c in i18n.LANGUAGES]}


def forget_screen(guide: "Guide", ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    return {}


# -- button actions ---------------------------------------------------------------------------
def forget(guide: "Guide", ctx: Context, route: Route, text: str | None = None) -> Screen:
    args = route.arg or ""
    if ctx.user_id is None or args != str(ctx.user_id):  # only the user the confirmation was shown to
        raise NotFound(args)
    rows = guide.store.forget_user(ctx.user_id or 0)
    return guide.engine.render("main", ctx, notice=guide.engine._("已删除关于您的全部数据（%(n)s 条记录）。", ctx) % {"n": rows})


def set_reminders(guide: "Guide", ctx: Context, route: Route, text: str | None = None) -> Screen:
    args = route.arg or ""
    if args not in ("on", "off"):
        raise NotFound(args)
    guide.store.set_setting(ctx.user_id or 0, "reminders", args == "on")
    screen = guide.engine.render("settings", ctx)
    return replace(screen, toast=guide.engine._("提醒已开启", ctx) if args == "on" else guide.engine._("提醒已关闭", ctx))


def set_language(guide: "Guide", ctx: Context, route: Route, text: str | None = None) -> Screen:
    args = route.arg or ""
    if args not in i18n.LANGUAGES:
        raise NotFound(args)
    guide.store.set_language(ctx.user_id or 0, args)
    return guide.engine.render("settings", replace(ctx, lang=args))


# -- retention (run daily by the channel's job) --------------------------------------------------
@dataclass(frozen=True)
class RetentionRun:
    warned: list[int]
    deleted: list[int]


def retention_due(store: Any, now: dt.datetime, retention_days: int) -> tuple[list[int], list[int]]:
    """(users to warn now, users whose data is due for deletion)."""
    delete_before = now - dt.timedelta(days=retention_days)
    warn_before = now - dt.timedelta(days=max(retention_days - WARN_DAYS_BEFORE, 0))
    to_delete = store.inactive_users(delete_before)
    # web sessions (negative ids, web/sessions.py) cannot be sent a warning; any visit keeps their data
    to_warn = [u for u in store.users_to_warn(warn_before) if u not in to_delete and u > 0]
    return to_warn, to_delete


def expire(store: Any, now: dt.datetime, retention_days: int, *, whose: Callable[[int], bool] | None = None) -> list[int]:
    """The one retention routine of every channel (the bot's daily job, the web server's): deletes
    everything the promised period covers — the data of users inactive for longer (of those ``whose``
    accepts: the web deletes only web sessions, whose users cannot be warned; the bot warns its users
    first), and questions and 👎 reasons older than the period, whoever wrote them. One failure
    (a busy database) is logged and retried on the next run; returns the users deleted."""
    from ..store import StoreError

    deleted: list[int] = []
    try:
        _, due = retention_due(store, now, retention_days)
    except StoreError as exc:
        log.warning("retention: cannot read the users: %s", exc)
        due = []
    for user_id in due:
        if whose is not None and not whose(user_id):
            continue
        try:
            store.forget_user(user_id)
            deleted.append(user_id)
        except StoreError as exc:  # the next run tries again
            log.warning("retention: could not delete the data of user %s: %s", user_id, exc)
    try:
        store.expire_free_text(now - dt.timedelta(days=retention_days))
    except StoreError as exc:
        log.warning("retention: could not expire old questions and reasons: %s", exc)
    return deleted
