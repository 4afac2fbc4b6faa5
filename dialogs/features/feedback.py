"""👍/👎 on answers (👎 asks for an optional one-line reason) and usage events."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from ..engine import Context, NotFound, Screen
from ..i18n import t
from ..routes import Route
from ..store import StoreError
from ._shared import App


log = logging.getLogger("eport_guide.stats")
MAX_REASON = 200


def reason_screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """ "Why was it not helpful?" after a 👎 on a business."""
    arg = route.arg
    if arg not in guide.kb.businesses:
        raise NotFound(arg)
    return {"business": guide.kb.businesses[arg]}


def vote(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """👍 / 👎 under an answer: one vote per user and topic; 👎 asks why."""
    args = route.arg or ""
    engine = guide.engine
    topic, value = route.params if len(route.params) == 2 else ("", "")
    if topic not in guide.kb.businesses or value not in ("1", "-1"):
        raise NotFound(args)
    feedback_id = guide.store.add_feedback(ctx.user_id or 0, topic, int(value))
    if value == "1":
        return replace(engine.render(Route("topic", (topic,)), ctx), toast=t("感谢反馈！", ctx))
    screen = engine.render(Route("feedback_reason", (topic,)), ctx)
    return replace(screen, awaiting=str(Route("feedback_reason", (str(feedback_id), topic))))


def reason(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """The text answering "why not helpful?" (awaiting "feedback_reason:<feedback id>:<topic>")."""
    arg = route.arg or ""
    engine = guide.engine
    feedback_id, topic = route.params if len(route.params) == 2 else ("", "")
    if not re.fullmatch(r"[0-9]{1,18}", feedback_id) or topic not in guide.kb.businesses:
        raise NotFound(arg)
    text = " ".join(text.split())[:MAX_REASON]
    if text:
        guide.store.set_feedback_reason(int(feedback_id), ctx.user_id or 0, text)
    return engine.render(Route("topic", (topic,)), ctx, notice=t("谢谢，您的意见已记录。", ctx))


def listen(guide: App, kind: str, ctx: Context, value: str) -> None:
    """Topic views and unanswered questions, for /stats."""
    try:
        if kind == "view":
            guide.store.log_event("view", topic=Route.parse(value).arg, user_id=ctx.user_id)
        elif kind == "unanswered":
            guide.store.record_unanswered(value, user_id=ctx.user_id)
    except StoreError as exc:  # statistics are best effort: a busy database never costs the user the answer
        log.info("%s not recorded: %s", kind, exc)
