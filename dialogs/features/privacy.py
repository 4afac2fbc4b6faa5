"""/privacy, /settings, /language and /forget: what is stored, the user's settings, deleting
every row about the user. Retention itself is ``dialogs.retention``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import i18n
from ..engine import Context, NotFound, Screen
from ..i18n import t
from ..retention import RetentionRun, expire, retention_due  # noqa: F401 - re-exported (their home: dialogs.retention)
from ..routes import Route
from ._shared import App


# -- screens ----------------------------------------------------------------------------------
def privacy(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """What is stored and for how long (no period without a store: nothing is kept)."""
    return {"retention_days": guide.settings.retention_days if guide.store is not None else None}


def settings(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The user's settings: language and reminders."""
    return {
        "retention_days": guide.settings.retention_days,
        "reminders": bool(guide.store.get_setting(ctx.user_id or 0, "reminders", True)),
        "language_name": i18n.LANGUAGE_NAMES.get(ctx.lang, ctx.lang),
    }


def language(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The language choice."""
    return {"languages": [{"code": c, "name": i18n.LANGUAGE_NAMES.get(c, c)} for c in i18n.LANGUAGES]}


def forget_screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The confirmation before deleting everything about the user."""
    return {}


# -- button actions ---------------------------------------------------------------------------
def forget(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Delete every row about the user (only the user the confirmation was shown to)."""
    args = route.arg or ""
    if ctx.user_id is None or args != str(ctx.user_id):  # only the user the confirmation was shown to
        raise NotFound(args)
    rows = guide.store.forget_user(ctx.user_id or 0)
    return guide.engine.render("main", ctx, notice=t("已删除关于您的全部数据（%(n)s 条记录）。", ctx) % {"n": rows})


def set_reminders(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Reminders on or off."""
    args = route.arg or ""
    if args not in ("on", "off"):
        raise NotFound(args)
    guide.store.set_setting(ctx.user_id or 0, "reminders", args == "on")
    screen = guide.engine.render("settings", ctx)
    return replace(screen, toast=t("提醒已开启", ctx) if args == "on" else t("提醒已关闭", ctx))


def set_language(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Set the user's language; the settings screen in it."""
    args = route.arg or ""
    if args not in i18n.LANGUAGES:
        raise NotFound(args)
    guide.store.set_language(ctx.user_id or 0, args)
    return guide.engine.render("settings", replace(ctx, lang=args))
