"""Admin views: usage statistics and knowledge records due for re-checking."""

from __future__ import annotations

import datetime as dt
from typing import Any

from knowledge import Knowledge

from ..engine import Context
from ..routes import Route
from ._shared import App


def stale_records(kb: Knowledge, max_age_days: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Knowledge records whose ``verified_on`` is older than ``max_age_days``, oldest first."""
    today = today or dt.date.today()
    out = []
    for kind, rec in kb.records():
        age = (today - rec.verified_on).days
        if age > max_age_days:
            out.append({"kind": kind, "id": rec.id, "verified_on": str(rec.verified_on), "age": age, "source": rec.source})
    return sorted(out, key=lambda r: (-r["age"], r["kind"], r["id"]))


def stats(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """/stats (admins only, checked by the engine): the last 7 days and the records due for re-checking."""
    kb, stale_days = guide.kb, guide.settings.stale_days
    items = {t: len(kb.checklist_items(t)) for t in kb.businesses}
    return {
        "stats": guide.store.stats(days=7, items_per_topic=items),
        "names": {t: b.name for t, b in kb.businesses.items()},
        "stale": stale_records(kb, stale_days),
        "stale_days": stale_days,
    }
