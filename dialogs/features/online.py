"""Applying online: the online screen and the step-by-step walkthrough of the online system."""

from __future__ import annotations

from typing import Any


from ..engine import Context, NotFound
from ..routes import Route
from ..walkthrough import first_step, first_walk_route, walk_track  # noqa: F401 - first_walk_route re-exported
from ._shared import App, sources


def online(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """Applying online: the system, its address and the Jiangsu guide's labelled rules."""
    kb = guide.kb
    jiangsu = [
        kb.facts[f]
        for f in ("upload_files", "statuses", "refund_deadline", "max_operators", "one_card_per_operator", "free_first_set")
    ]
    online_fact, system = kb.facts["online"], kb.facts["online_system"]
    return {
        "online": online_fact,
        "system": system,
        "system_url": system.values["url"],
        "first_step": first_step(kb),
        "jiangsu": jiangsu,
        "sources": sources(kb, [online_fact.source, system.source, *(f.source for f in jiangsu)]),
    }


def walk(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """One step of the online walkthrough: "walk:<step>" (every step) or
    "walk:<topic>.<step>" (only the steps that apply to that business)."""
    arg = route.arg
    kb = guide.kb
    topic_id, _, step_id = (arg or "").rpartition(".")
    if topic_id and topic_id not in kb.businesses:
        raise NotFound(arg)
    track = walk_track(kb, topic_id or None)
    ids = [s.id for s in track]
    if step_id not in ids:
        raise NotFound(arg)
    i = ids.index(step_id)
    step = track[i]
    prefix = f"{topic_id}." if topic_id else ""
    facts = [kb.facts[f] for f in step.facts]
    quote_sources = [q.source or step.source for q in step.quotes]
    skipped = len(kb.steps) - len(track) if topic_id else 0
    return {
        "step": step,
        "index": i + 1,
        "total": len(ids),
        "prev": prefix + ids[i - 1] if i > 0 else None,
        "next": prefix + ids[i + 1] if i + 1 < len(ids) else None,
        "business": kb.businesses[topic_id] if topic_id else None,
        "skipped": skipped,
        "quotes": step.quotes,
        "facts": facts,
        "notes": [getattr(n, ctx.lang) for n in step.notes],
        "mzl_source": kb.facts["hotline"].source,
        "sources": sources(kb, [step.source, *quote_sources, *(f.source for f in facts)]),
    }
