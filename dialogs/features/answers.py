"""Free-text questions: the best answer, or 2–3 suggestions below the confidence threshold; one
fact answering a question (knowledge/data/answers.yaml) and its verbatim source."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from knowledge import Knowledge

from .. import i18n
from ..engine import Context, NotFound, Screen
from ..i18n import t
from ..routes import Route, parse_or_none
from ._shared import App, localised, sources


def _see(kb: Knowledge, route: str) -> dict[str, str]:
    """The screen behind an answer's "full answer" button: its kind and its (Chinese) name."""
    parsed = Route.parse(route)
    kind, arg = parsed.screen, parsed.arg
    names = {
        "topic": lambda: kb.businesses[arg].name,
        "category": lambda: kb.categories[arg].name,
        "material": lambda: kb.materials[arg].name,
        "walk": lambda: next(s.title for s in kb.steps if s.id == arg),
    }
    return {"kind": kind, "name": names[kind]() if kind in names else "", "route": route}


def answer(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """One fact answering one question: the plain line in the user's language."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.answers:
        raise NotFound(arg)
    phones = kb.offices[kb.facts["hotline"].office].phones
    return {**answer_item(kb, arg, ctx), "see": _see(kb, kb.answers[arg].see), "hotline_phone": phones[0]}


def answer_item(kb: Knowledge, answer_id: str, ctx: Context) -> dict[str, Any]:
    """One fact as the answer screens show it: its line in the user's language and, for a Jiangsu
    fact, what the Manzhouli document says on the same point (``manzhouli``: that answer's line;
    None: the Manzhouli document says nothing on it, and the screen says so)."""
    a = kb.answers[answer_id]
    counterpart = kb.answers[a.manzhouli] if a.region == "jiangsu" and a.manzhouli else None
    return {
        "answer": a,
        "title": localised(a.title, ctx.lang),
        "plain": localised(a.plain, ctx.lang),
        "manzhouli": localised(counterpart.plain, ctx.lang) if counterpart else None,
        "manzhouli_silent": bool(counterpart and counterpart.silent),
    }


def answer_source(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The verbatim clause(s) behind an answer, with file and line."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.answers or kb.answers[arg].silent:
        raise NotFound(arg)
    a = kb.answers[arg]
    quotes = [{"text": q.text, "file": q.file, "line": q.line, "label": kb.source_label(q.file)} for q in a.quotes]
    plain = localised(a.plain, ctx.lang)
    return {
        "answer": a,
        "title": localised(a.title, ctx.lang),
        "plain": plain,
        "quotes": quotes,
        # the handwritten annotations a quote or the plain line holds (outside Chinese: spelt out to copy)
        "annotations": [x.text for x in kb.annotations.values() if x.text in plain or any(x.text in q.text for q in a.quotes)],
        "sources": sources(kb, [q.file for q in a.quotes]),
    }


def question(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Free text nobody asked for (the engine's ``ask``), read as parts (dialogs.reader): the aspect
    asked about for the business named, several aspects in one message, a business's first screen,
    or the flow's own question "which business?" when the aspect depends on it. Nothing recognised:
    the ranking's confident answer (never a "the documents do not say" fact: that answers only a
    question about its topic), else the suggestions screen (a bare category word offers its
    businesses); unanswered questions are told to the listeners (statistics)."""
    engine = guide.engine
    taught = taught_route(guide.kb, text)
    if taught:  # staff attached this question (or one a typo away) to a route: their word wins
        return engine.render(taught, ctx)
    plan = engine.reader.plan(text)
    if plan.kind == "ask":
        named = [guide.kb.businesses[Route.parse(r).arg] for r in plan.routes]  # several businesses named: those only
        screen = engine.render(Route("ask_business", (plan.aspect,)), ctx, variables={"businesses": named} if named else None)
        return replace(screen, awaiting=str(Route("business_for", (plan.aspect,))))
    if plan.kind in ("answers", "topic") and plan.routes:
        return show(guide, ctx, plan.routes, plan.business)
    result = engine.matcher.match(text)
    if result.confident and not _silent(guide.kb, result.best.route):
        return engine.render(result.best.route, ctx)
    if text.strip():
        engine.emit("unanswered", ctx, text)
    routes = engine.expand_categories(m.route for m in result.suggestions)[:3]
    suggestions = [{"label": route_label(guide, r, ctx), "route": r} for r in routes]
    return engine.render("suggest", ctx, variables={"suggestions": suggestions})


TAUGHT_SIMILARITY = 90  # rapidfuzz ratio: the same question with a particle, a space or a typo of difference
_NOT_WORDS = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    from ..matcher import normalise

    return _NOT_WORDS.sub("", normalise(text))


def taught_route(kb: Knowledge, text: str) -> str | None:
    """The route staff taught for this question (knowledge.overlay), matched without punctuation and
    spaces, allowing a near-identical phrasing; None when nothing taught is that close."""
    if not kb.taught:
        return None
    from rapidfuzz import fuzz, process

    asked = _plain(text)
    found = (
        process.extractOne(
            asked, {i: _plain(t.question) for i, t in enumerate(kb.taught)}, scorer=fuzz.ratio, score_cutoff=TAUGHT_SIMILARITY
        )
        if asked
        else None
    )
    return kb.taught[found[2]].route if found else None


def route_label(guide: App, route: str, ctx: Context) -> str:
    """A suggestion's button label: the name of what the route opens."""
    parsed = parse_or_none(route) or Route("main")
    screen, arg = parsed.screen, parsed.arg
    kb, _ = guide.kb, t
    if screen == "topic" and arg in kb.businesses:
        return kb.businesses[arg].name
    if screen == "category" and arg in kb.categories:
        return kb.categories[arg].name
    if screen == "material" and arg in kb.materials:
        return kb.materials[arg].name
    if screen == "fact" and arg in kb.facts:
        return kb.facts[arg].title
    if screen == "answer" and arg in kb.answers:
        a = kb.answers[arg]
        title = getattr(a.title, ctx.lang, None) or a.title.zh
        if a.region != "jiangsu":
            return title
        label = _("仅适用于江苏省", ctx)
        return f"{title}〔{label}〕"
    if screen == "walk":
        step = next((s for s in kb.steps if s.id == arg), None)
        if step:
            beside = i18n.beside(step.title, ctx.lang)
            return f"{step.title}（{beside}）" if beside else step.title
    if screen == "city":
        return f"📍 {arg}"
    if screen == "offices":
        return _("📍 办理地点与电话", ctx)
    if screen == "online":
        return _("🌐 网上办理", ctx)
    return _("🏠 主菜单", ctx)


def _silent(kb: Knowledge, route: str) -> bool:
    parsed = parse_or_none(route)
    return parsed is not None and parsed.screen == "answer" and parsed.arg in kb.answers and kb.answers[parsed.arg].silent


def show(guide: App, ctx: Context, routes: tuple[str, ...], business: str | None = None) -> Screen:
    """The routes that answer a question: one screen, or several answers in one message; a business
    the answers are about gets a button to its whole first screen."""
    engine, kb = guide.engine, guide.kb
    biz = kb.businesses.get(business) if business else None
    if len(routes) == 1:
        route = routes[0]
        parsed = Route.parse(route)
        if biz and parsed.screen == "answer" and str(Route("topic", (biz.id,))) != kb.answers[parsed.arg].see:
            return engine.render(route, ctx, variables={"business": biz})
        return engine.render(route, ctx)
    items = []
    for route in routes:
        parsed = Route.parse(route)
        if parsed.screen == "answer":
            items.append({**answer_item(kb, parsed.arg, ctx), "route": route})
        else:
            items.append({**part_item(kb, route, ctx), "route": route, "label": route_label(guide, route, ctx)})
    phones = kb.offices[kb.facts["hotline"].office].phones
    screen = engine.render("answers", ctx, variables={"items": items, "business": biz, "hotline_phone": phones[0]})
    return replace(screen, route="answers:" + "+".join(routes))


def _material_name(m: Any, lang: str) -> str:
    """A material's everyday name in the user's language (the official Chinese name in it)."""
    return (getattr(m.plain, lang) if m.plain else "") or m.name


def part_item(kb: Knowledge, route: str, ctx: Context) -> dict[str, Any]:
    """What a composed answer shows of a part that is not a fact, so the message itself answers (the
    button opens the whole screen): a business's materials, a city's offices (name, address and phones
    exactly), a material's requirements (its seal and annotation lines), a step's title, a kind's summary."""
    parsed = Route.parse(route)
    kind, arg = parsed.screen, parsed.arg or ""
    lang = ctx.lang
    if kind == "topic" and arg in kb.businesses:
        # (a material with an action of its own, such as a lost card that cannot be brought, is on the screen)
        names = [_material_name(kb.materials[ref.material], lang) for ref in kb.businesses[arg].materials if not ref.action]
        return {"kind": "topic", "name": kb.businesses[arg].name, "materials": list(dict.fromkeys(names))}
    if kind == "city" and arg in kb.cities:
        return {"kind": "city", "city": arg, "offices": kb.cities[arg]}
    if kind == "offices":
        centre = kb.offices[kb.facts["hotline"].office]
        return {"kind": "offices", "offices": [centre], "cities": [c for c in kb.cities if c != centre.city]}
    if kind == "material" and arg in kb.materials:
        m = kb.materials[arg]
        checks = [c for rs in m.rulesets for c in kb.rulesets[rs].checks]
        return {"kind": "material", "name": m.name, "lines": [getattr(c.plain, lang) for c in checks]}
    if kind == "walk":
        step = next((s for s in kb.steps if s.id == arg), None)
        return {"kind": "walk", "name": step.title if step else ""}
    if kind == "category" and arg in kb.categories:
        # (a kind named without which one: the document's sentence on what it covers, its button opens the choice)
        return {"kind": "category", "category": kb.categories[arg]}
    return {"kind": kind}


def ask_business(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The flow's own question, "which business?", for an aspect that depends on it (要带哪些材料)."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.aspects or not kb.aspects[arg].asks_business:
        raise NotFound(arg)
    return {"aspect": arg, "businesses": list(kb.businesses.values())}


def composite(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """Several answers in one message: ``show`` passes them."""
    return {}


def aspect_for(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """A business chosen on the ask-back ("<aspect>:<business>"): that aspect for that business."""
    args = route.arg or ""
    aspect, business = route.params if len(route.params) == 2 else ("", "")
    kb = guide.kb
    if aspect not in kb.aspects or business not in kb.businesses:
        raise NotFound(args)
    plan = guide.engine.reader.answer_aspect(aspect, business)
    if not plan.routes:
        raise NotFound(args)
    return show(guide, ctx, plan.routes, business)


def business_for(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """The ask-back answered in words ("改名"): the pending aspect for the business named; anything
    else is a new question."""
    arg = route.arg or ""
    reader = guide.engine.reader
    business = reader.business_of(reader.read(text))
    if arg in guide.kb.aspects and business:
        return aspect_for(guide, ctx, Route("aspect", (arg, business)))
    return question(guide, ctx, Route("question"), text)
