"""The routes of the screens: each screen's parameters as ``screens.yaml`` declares them, and the
list of every route a user can open, derived from those declarations and the knowledge.

A screen's ``params:`` in ``screens.yaml`` lists the type of each parameter of its route
(``topic: params: [business]`` → ``topic:reissue_lost``). A type names what the parameter is and
which values it takes in the current knowledge (``PARAM_TYPES``); a type whose values are made at
run time (a feedback id, a group of missed questions) lists none, and its screens are reached
from their actions only. The value type itself, ``Route``, and its one parser are
``knowledge.route`` (the knowledge files write routes too).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from knowledge import Knowledge
from knowledge.route import BadRoute, Route, parse_or_none, screen_of

from .walkthrough import walk_track


class Screens(Protocol):
    """What the routes are derived from (``engine.Engine`` has these): the screens of screens.yaml,
    the features that are on, the knowledge."""

    screens: dict[str, dict[str, Any]]
    features: frozenset[str]
    kb: Knowledge


__all__ = ["PARAM_TYPES", "BadRoute", "Route", "all_routes", "params_of", "parse_or_none", "screen_of"]

# (knowledge, the parameters before this one) -> the values this parameter takes
Values = Callable[[Knowledge, tuple[str, ...]], Iterable[str]]


def _walk_steps(kb: Knowledge, _before: tuple[str, ...]) -> list[str]:
    steps = [s.id for s in kb.steps]  # "walk:<step>": the whole walkthrough
    return steps + [f"{t}.{s.id}" for t in kb.businesses for s in walk_track(kb, t)]  # one business's track


def _businesses_with_copies(kb: Knowledge, _before: tuple[str, ...]) -> list[str]:
    from .pictures import copies_of  # the drawing libraries load only when a picture is drawn

    return [t for t in kb.businesses if copies_of(kb, t)]


def _checklist_materials(kb: Knowledge, before: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(i.material for i in kb.checklist_items(before[0])))


PARAM_TYPES: dict[str, Values | None] = {
    "category": lambda kb, _: kb.categories,
    "business": lambda kb, _: kb.businesses,
    "material": lambda kb, _: kb.materials,
    "fact": lambda kb, _: kb.facts,
    "answer": lambda kb, _: kb.answers,
    "quoted_answer": lambda kb, _: [a for a, v in kb.answers.items() if not v.silent],  # has a 📖 原文
    "city": lambda kb, _: kb.cities,
    "business_aspect": lambda kb, _: [a.id for a in kb.aspects.values() if a.asks_business],
    "business_with_copies": _businesses_with_copies,  # 🖼 看示例
    "walk_step": _walk_steps,  # "<step>" or "<business>.<step>"
    "checklist_material": _checklist_materials,  # a material of the business before it
    "reminder_kind": lambda kb, _: ("refund", "expiry"),
    # made at run time: no list
    "missed_group": None,  # a group of missed questions (admin)
    "missed_pick": None,  # "<group>.<business>" or "<group>._<page>" (admin)
}


def params_of(engine: Screens, screen: str) -> tuple[str, ...]:
    """The parameter types ``screens.yaml`` declares for ``screen`` (() for none)."""
    return tuple(engine.screens[screen].get("params") or ())


def _routes_of(kb: Knowledge, screen: str, types: tuple[str, ...]) -> list[Route]:
    prefixes: list[tuple[str, ...]] = [()]
    for kind in types:
        values = PARAM_TYPES[kind]
        if values is None:
            return []
        prefixes = list(itertools.chain.from_iterable([(*before, str(v)) for v in values(kb, before)] for before in prefixes))
    return [Route(screen, p) for p in prefixes]


def listed(engine: Screens, screen: str, spec: dict[str, Any]) -> bool:
    """Whether a screen's routes are among everyone's: not internal, not for admins, not opened by
    its action only, its feature on."""
    if spec.get("internal") or spec.get("admin") or spec.get("from_action"):
        return False
    return not spec.get("feature") or spec["feature"] in engine.features


def all_routes(engine: Screens) -> list[str]:
    """Every route a user can open (tests, snapshots, the web pages' links), as written: each listed
    screen (``listed``) with every value of its declared parameters, in screens.yaml's order."""
    out: list[str] = []
    for screen, spec in engine.screens.items():
        if listed(engine, screen, spec):
            out += [str(r) for r in _routes_of(engine.kb, screen, params_of(engine, screen))]
    return out


def check_declarations(screens: dict[str, dict[str, Any]]) -> None:
    """Every ``params:`` names known types (raises ValueError at start-up otherwise)."""
    for screen, spec in screens.items():
        unknown = [p for p in spec.get("params") or () if p not in PARAM_TYPES]
        if unknown:
            raise ValueError(f"screens.yaml: screen {screen!r} declares unknown parameter types {unknown}")
