"""Where to go: the offices by city, and one city's offices."""

from __future__ import annotations

from typing import Any

from ..engine import Context, NotFound
from ..routes import Route
from ._shared import App, ordered_cities, sources


def offices(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """Every office, by city."""
    kb = guide.kb
    cities = [{"name": c, "count": len(kb.cities[c]), "offices": kb.cities[c]} for c in ordered_cities(kb)]
    return {
        "cities": cities,
        "onsite": kb.facts["onsite"],
        "sources": sources(kb, [o.source for o in kb.offices.values()]),
    }


def city(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The offices of one city."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.cities:
        raise NotFound(arg)
    offices_ = kb.cities[arg]
    return {
        "city": arg,
        "offices": offices_,
        "onsite": kb.facts["onsite"],
        "usbkey": kb.facts["usbkey"],
        "has_agents": any(o.kind == "ccb_agent" for o in offices_),
        "sources": sources(kb, [o.source for o in offices_]),
    }
