"""Admin views: usage statistics and knowledge records due for re-checking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from knowledge import Knowledge

from .engine import Context, Engine


def stale_records(kb: Knowledge, max_age_days: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Knowledge records whose ``verified_on`` is older than ``max_age_days``, oldest first."""
    today = today or dt.date.today()
    out = []
    for kind, rec in kb.records():
        age = (today - rec.verified_on).days
        if age > max_age_days:
            out.append({"kind": kind, "id": rec.id, "verified_on": str(rec.verified_on), "age": age, "source": rec.source})
    return sorted(out, key=lambda r: (-r["age"], r["kind"], r["id"]))


def install(engine: Engine, store: Any, stale_days: int = 180) -> None:
    def provider(kb: Knowledge, arg: str | None, ctx: Context) -> dict[str, Any]:
        now = ctx.extra.get("now") if ctx.extra else None
        items = {t: len(kb.checklist_items(t)) for t in kb.businesses}
        stats = store.stats(now=now, days=7, items_per_topic=items)
        names = {t: b.name for t, b in kb.businesses.items()}
        return {
            "hotline": kb.facts["hotline"], "kb": kb, "stats": stats, "names": names,
            "stale": stale_records(kb, stale_days, (now.date() if now else None)), "stale_days": stale_days,
        }

    engine.providers["stats"] = provider
