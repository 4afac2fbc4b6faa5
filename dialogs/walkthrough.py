"""The online walkthrough's steps: which apply to a business, and where its walk starts."""

from __future__ import annotations

from typing import Any

from knowledge import Knowledge


def first_step(kb: Knowledge) -> str | None:
    """The walkthrough's first step (every business), for the 🧭 buttons."""
    return kb.steps[0].id if kb.steps else None


def walk_track(kb: Knowledge, topic: str | None) -> list[Any]:
    """The walkthrough steps for a business (all steps without one)."""
    if topic is None:
        return list(kb.steps)
    if "online" not in kb.businesses[topic].methods:
        return []
    return [s for s in kb.steps if not s.applies_to or topic in s.applies_to]


def first_walk_route(kb: Knowledge, topic: str) -> str | None:
    """The route of the first walkthrough step for a business, None when it cannot apply online."""
    steps = walk_track(kb, topic)
    return f"walk:{topic}.{steps[0].id}" if steps else None
