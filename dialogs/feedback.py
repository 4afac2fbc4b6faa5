"""👍/👎 on answers (👎 asks for an optional one-line reason) and usage events."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from . import providers
from .store import StoreError

log = logging.getLogger("eport_guide.stats")
from .engine import Context, Engine, Screen

MAX_REASON = 200


def install(engine: Engine, store: Any) -> None:
    """Record feedback (one vote per user and topic), topic views and unanswered questions in ``store``."""

    def vote(engine: Engine, ctx: Context, args: str) -> Screen:
        topic, _, value = args.partition(":")
        if topic not in engine.kb.businesses or value not in ("1", "-1"):
            raise providers.NotFound(args)
        feedback_id = store.add_feedback(ctx.user_id or 0, topic, int(value))
        if value == "1":
            return replace(engine.render(f"topic:{topic}", ctx), toast=engine._("感谢反馈！", ctx))
        screen = engine.render(f"feedback_reason:{topic}", ctx)
        return replace(screen, awaiting=f"feedback_reason:{feedback_id}:{topic}")

    def reason(engine: Engine, ctx: Context, arg: str, text: str) -> Screen:
        feedback_id, _, topic = arg.partition(":")
        if not re.fullmatch(r"[0-9]{1,18}", feedback_id) or topic not in engine.kb.businesses:
            raise providers.NotFound(arg)
        text = " ".join(text.split())[:MAX_REASON]
        if text:
            store.set_feedback_reason(int(feedback_id), ctx.user_id or 0, text)
        return engine.render(f"topic:{topic}", ctx, notice=engine._("谢谢，您的意见已记录。", ctx))

    def listen(kind: str, ctx: Context, value: str) -> None:
        try:
            if kind == "view":
                store.log_event("view", topic=value.split(":", 1)[1], user_id=ctx.user_id)
            elif kind == "unanswered":
                store.record_unanswered(value, user_id=ctx.user_id)
        except StoreError as exc:  # statistics are best effort: a busy database never costs the user the answer
            log.info("%s not recorded: %s", kind, exc)

    def feedback_provider(kb, arg, ctx):
        if arg not in kb.businesses:
            raise providers.NotFound(arg)
        return {"hotline": kb.facts["hotline"], "kb": kb, "business": kb.businesses[arg]}

    engine.extend("feedback", providers={"feedback_reason": feedback_provider}, actions={"fb": vote},
                  inputs={"feedback_reason": reason}, listeners=[listen])
