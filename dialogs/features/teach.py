"""Learning from what was missed (admins only, checked by the engine): the unanswered questions
and 👎 reasons grouped by similarity, and teaching a group to the answer or business that answers
it. Taught questions go to the local knowledge overlay (knowledge.overlay) beside the database;
/reload (or a restart) reads them, and the matcher then answers them and their like."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from knowledge import KnowledgeError
from knowledge.overlay import (
    TeachError,
    normalise,
    packaged_forms,
    question_problem,
    read_overlay,
    route_problem,
    teach,
)

from ..engine import Context, NotFound, Screen
from ..i18n import t
from ..routes import Route
from ._shared import App


SIMILAR = 70  # rapidfuzz token_sort_ratio (0–100) at which two questions are one group
MAX_ROWS = 1000  # the newest logged rows grouped (bounded work per screen)
SHOWN_GROUPS = 10  # groups listed on the admin screen
MAX_MEMBERS = 10  # phrasings of one group taught at once
PAGE = 12  # answers per page when picking a general answer
GENERAL = "_"  # the "business" of answers that belong to none


@dataclass
class Group:
    """Similar missed questions: the most asked phrasing first."""

    ref: str  # a logged row of ``question`` (what buttons carry)
    question: str
    count: int = 0
    members: list[tuple[str, int]] = field(default_factory=list)  # (phrasing, times), most asked first
    down: Counter = field(default_factory=Counter)  # 👎 reasons among them: business id → times


def similarity_key(text: str) -> str:
    """How two questions are compared: NFKC, lower case, punctuation as spaces."""
    return " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).lower()).split())


def taught_questions(guide: App) -> set[str]:
    """The questions taught so far (normalised): the overlay file as it is now (also what /reload has
    not read yet), else what the running knowledge has."""
    kb = guide.kb
    taught = {normalise(t.question) for t in kb.taught}
    if guide.overlay is not None and guide.overlay.exists():
        entries, problems = read_overlay(guide.overlay, kb)
        if not problems:
            taught |= {normalise(t.question) for t in entries}
    return taught


def group_missed(rows: list[tuple[str, str, str | None]], skip: set[str] = frozenset()) -> list[Group]:
    """Group logged rows (ref, text, 👎 topic; newest first) by similarity, most asked group first.
    Texts in ``skip`` (normalised: already taught) are left out."""
    from rapidfuzz import fuzz, process

    distinct: dict[str, dict[str, Any]] = {}
    for ref, text, topic in rows:
        text = " ".join((text or "").split())
        key = similarity_key(text)
        if not key or normalise(text) in skip:
            continue
        d = distinct.setdefault(key, {"text": text, "ref": ref, "count": 0, "down": Counter()})
        d["count"] += 1
        if topic:
            d["down"][topic] += 1
    groups: list[Group] = []
    keys: list[str] = []  # each group's first (most asked) key, what later questions are compared with
    for key, d in sorted(distinct.items(), key=lambda kv: -kv[1]["count"]):  # stable: newest first among equals
        hit = process.extractOne(key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=SIMILAR) if keys else None
        if hit is None:
            groups.append(Group(d["ref"], d["text"]))
            keys.append(key)
            group = groups[-1]
        else:
            group = groups[hit[2]]
        group.count += d["count"]
        group.members.append((d["text"], d["count"]))
        group.down.update(d["down"])
    return sorted(groups, key=lambda g: -g.count)


def missed_groups(guide: App, limit: int = MAX_ROWS) -> list[Group]:
    """What the guide missed and nobody has taught yet, grouped (the newest ``limit`` rows)."""
    return group_missed(guide.store.missed(limit), taught_questions(guide))


def _group_of(guide: App, ref: str) -> Group:
    text = guide.store.missed_text(ref or "")
    if text is None:
        raise NotFound(ref)  # expired, forgotten, or a forged reference
    key = similarity_key(text)
    for group in missed_groups(guide):
        if any(similarity_key(t) == key for t, _ in group.members):
            return group
    return Group(ref, text, 1, [(text, 1)])  # taught meanwhile: still shown, and can be taught again


def _label(guide: App, route: str, ctx: Context) -> str:
    from .answers import route_label

    return route_label(guide, route, ctx)


# -- screens --------------------------------------------------------------------------------
def missed(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The groups of missed questions, most asked first, each a button to teach it."""
    groups = missed_groups(guide)
    kb = guide.kb
    taught = taught_questions(guide)
    return {
        "groups": groups[:SHOWN_GROUPS],
        "more": max(len(groups) - SHOWN_GROUPS, 0),
        "questions": sum(g.count for g in groups),
        "taught": len(taught),
        "pending": len(taught - {normalise(t.question) for t in kb.taught}),
        "names": {t: b.name for t, b in kb.businesses.items()},
    }


def group(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """One group: its phrasings and counts, how the guide reads it now, and where to attach it."""
    arg = route.arg
    g = _group_of(guide, arg or "")
    kb = guide.kb
    result = guide.engine.matcher.match(g.question)
    now = _label(guide, result.best.route, ctx) if result.confident and result.best else None
    teachable = lambda route: Route.parse(route).screen in ("answer", "topic")  # noqa: E731
    suggestions = [m.route for m in result.suggestions if teachable(m.route)]
    if result.best and teachable(result.best.route) and result.best.route not in suggestions:
        suggestions.insert(0, result.best.route)
    return {
        "ref": g.ref,
        "group": g,
        "now": now,
        "names": {t: b.name for t, b in kb.businesses.items()},
        "suggestions": [{"route": r, "label": _label(guide, r, ctx)} for r in suggestions[:3]],
        "businesses": list(kb.businesses.values()),
    }


def pick(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """Where to attach a group, within one business (the business itself and its answers) or among
    the answers of no business ("<ref>.<business>" or "<ref>._<page>")."""
    arg = route.arg
    ref, _, where = (arg or "").partition(".")
    g = _group_of(guide, ref)
    kb = guide.kb
    business, page, pages = None, 0, 1
    if where.startswith(GENERAL):
        if not where[1:].isdigit():
            raise NotFound(arg)
        general = [f"answer:{a.id}" for a in kb.answers.values() if not a.businesses]
        pages = max(1, -(-len(general) // PAGE))
        page = int(where[1:])
        if page >= pages:
            raise NotFound(arg)
        routes = general[page * PAGE : (page + 1) * PAGE]
    elif where in kb.businesses:
        business = kb.businesses[where]
        routes = [f"topic:{where}"] + [f"answer:{a.id}" for a in kb.answers.values() if where in a.businesses]
    else:
        raise NotFound(arg)
    return {
        "ref": g.ref,
        "group": g,
        "business": business,
        "page": page,
        "pages": pages,
        "routes": [{"route": r, "label": _label(guide, r, ctx)} for r in routes],
    }


# -- the teach button -----------------------------------------------------------------------
def teach_group(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Attach a group ("<ref>|<route>") to a route: every phrasing of it that can be a question form
    is written to the overlay; /reload applies it."""
    args = route.arg or ""
    engine = guide.engine
    ref, _, route = args.partition("|")
    if route_problem(guide.kb, route) is not None or guide.overlay is None:
        raise NotFound(args)
    g = _group_of(guide, ref)
    packaged = packaged_forms(guide.kb)  # a phrasing the knowledge has for another answer stays there
    phrasings = [
        t for t, _ in g.members[:MAX_MEMBERS] if question_problem(t) is None and packaged.get(normalise(t), route) == route
    ]
    label = _label(guide, route, ctx)
    if not phrasings:
        notice = t("❌ 这组问题不能作为问法记录（过长或含有号码）。", ctx)
        return engine.render(f"missed_group:{g.ref}", ctx, notice=notice)
    try:
        lessons = teach(guide.overlay, guide.kb, [(t, route) for t in phrasings])
    except (KnowledgeError, TeachError) as exc:  # an overlay edited by hand into an invalid one, say
        problem = str(exc.problems[0]) if isinstance(exc, KnowledgeError) else str(exc)
        notice = t("❌ 没有记录：%(problem)s", ctx) % {"problem": problem}
        return engine.render(f"missed_group:{g.ref}", ctx, notice=notice)
    notice = t("✅ 已把 %(n)s 个问法归到“%(route)s”。发送 /reload 后生效。", ctx) % {"n": len(lessons), "route": label}
    return engine.render("missed", ctx, notice=notice)
