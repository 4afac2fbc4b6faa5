"""/privacy and /forget: what is stored, and deleting every row about the user."""

from __future__ import annotations

from typing import Any

from .engine import Context, Engine, Screen


def install(engine: Engine, store: Any, retention_days: int | None = None) -> None:
    def forget(engine: Engine, ctx: Context, args: str) -> Screen:
        rows = store.forget_user(ctx.user_id or 0)
        return engine.render("main", ctx, notice=engine._("已删除关于您的全部数据（%(n)s 条记录）。", ctx) % {"n": rows})

    def privacy_provider(kb, arg, ctx):
        return {"hotline": kb.facts["hotline"], "kb": kb, "retention_days": retention_days}

    engine.features = engine.features | {"store"}
    engine.actions["forget_confirm"] = forget
    engine.providers["privacy"] = privacy_provider
