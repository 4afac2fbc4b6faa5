"""/privacy and /forget: what is stored, and deleting every row about the user."""

from __future__ import annotations

from typing import Any

from dataclasses import replace

from . import i18n, providers
from .engine import Context, Engine, Screen


def install(engine: Engine, store: Any, retention_days: int | None = None) -> None:
    def forget(engine: Engine, ctx: Context, args: str) -> Screen:
        if ctx.user_id is None or args != str(ctx.user_id):  # only the user the confirmation was shown to
            raise providers.NotFound(args)
        rows = store.forget_user(ctx.user_id or 0)
        return engine.render("main", ctx, notice=engine._("已删除关于您的全部数据（%(n)s 条记录）。", ctx) % {"n": rows})

    def privacy_provider(kb, arg, ctx):
        return {"hotline": kb.facts["hotline"], "kb": kb, "retention_days": retention_days}

    def settings_provider(kb, arg, ctx):
        uid = ctx.user_id or 0
        return {"hotline": kb.facts["hotline"], "kb": kb, "retention_days": retention_days,
                "reminders": bool(store.get_setting(uid, "reminders", True)),
                "language_name": i18n.LANGUAGE_NAMES.get(ctx.lang, ctx.lang)}

    def language_provider(kb, arg, ctx):
        return {"hotline": kb.facts["hotline"], "kb": kb,
                "languages": [{"code": c, "name": i18n.LANGUAGE_NAMES.get(c, c)} for c in i18n.LANGUAGES]}

    def set_reminders(engine: Engine, ctx: Context, args: str) -> Screen:
        if args not in ("on", "off"):
            raise providers.NotFound(args)
        store.set_setting(ctx.user_id or 0, "reminders", args == "on")
        screen = engine.render("settings", ctx)
        return replace(screen, toast=engine._("提醒已开启", ctx) if args == "on" else engine._("提醒已关闭", ctx))

    def set_language(engine: Engine, ctx: Context, args: str) -> Screen:
        if args not in i18n.LANGUAGES:
            raise providers.NotFound(args)
        store.set_language(ctx.user_id or 0, args)
        return engine.render("settings", replace(ctx, lang=args))

    engine.extend(
        "store",
        providers={"privacy": privacy_provider, "settings": settings_provider, "language": language_provider},
        actions={"forget_confirm": forget, "settings_reminders": set_reminders, "set_language": set_language},
    )
