"""The upload pre-check screen: a file the user sent, checked by ``dialogs.uploads`` (formats, size,
damage; bounded work off the event loop), shown on the ``precheck`` screen."""

from __future__ import annotations

from typing import Any

from ..engine import Context, Screen, clean_text
from ..routes import Route
from ..uploads import INLINE_BYTES, PrecheckBusy, PrecheckResult, PrecheckTimeout, off_loop, precheck, unchecked
from ._shared import App, sources
from .online import first_step


# -- the screen ------------------------------------------------------------------------------
def check_file(
    guide: App, ctx: Context, data: bytes | None, file_name: str | None, size: int | None, *, photo: bool = False
) -> Screen:
    """A file the user sent (a channel downloads it, or only knows its size): the precheck screen."""
    file_name = clean_text(file_name)[:200] or None
    result = precheck(guide.kb, data, file_name, size, photo=photo)
    return guide.engine.render("precheck", ctx, variables={"result": result})


async def check_file_off_loop(
    guide: App, ctx: Context, data: bytes | None, file_name: str | None, size: int | None, *, photo: bool = False
) -> Screen:
    """``check_file`` for a channel's event loop: the check runs in the pre-check pool, bounded."""
    file_name = clean_text(file_name)[:200] or None
    kb = guide.kb

    def work(deadline: float) -> PrecheckResult:
        return precheck(kb, data, file_name, size, photo=photo, deadline=deadline)

    if data is None or len(data) <= INLINE_BYTES:  # bounded and tiny: cheaper than the hop to a thread
        return check_file(guide, ctx, data, file_name, size, photo=photo)
    try:
        result = await off_loop(work)
    except PrecheckBusy:
        result = unchecked(file_name, size, "busy", photo=photo)
    except PrecheckTimeout:
        result = unchecked(file_name, size, "timeout", photo=photo)
    return guide.engine.render("precheck", ctx, variables={"result": result})


def screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The precheck screen's rule and sources (``check_file`` passes the ``result``)."""
    kb = guide.kb
    rule = kb.facts["upload_files"]
    return {"rule": rule, "first_step": first_step(kb), "sources": sources(kb, [rule.source])}
