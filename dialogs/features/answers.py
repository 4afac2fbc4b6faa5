"""Free-text questions: the best answer, or 2–3 suggestions below the confidence threshold; one
fact answering a question (knowledge/data/answers.yaml) and its verbatim source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knowledge import Knowledge

from .. import i18n
from ..engine import Context, NotFound, Screen
from ._shared import localised, sources

if TYPE_CHECKING:
    from ..guide import Guide


def _see(kb: Knowledge, route: str) -> dict[str, str]:
    """The screen behind an answer's "full answer" button: its kind and its (Chinese) name."""
    kind, _, arg = route.partition(":")
    names = {
        "topic": lambda: kb.businesses[arg].name,
        "category": lambda: kb.categories[arg].name,
        "material": lambda: kb.materials[arg].name,
        "walk": lambda: next(s.title for s in kb.steps if s.id == arg),
    }
    return {"kind": kind, "name": names[kind]() if kind in names else "", "route": route}


def answer(guide: "Guide", arg: str | None, ctx: Context) -> dict[str, Any]:
    """One fact answering one question: the plain line in the user's language."""
    kb = guide.kb
    if arg not in kb.answers:
        raise NotFound(arg)
    a = kb.answers[arg]
    phones = kb.offices[kb.facts["hotline"].office].phones
    return {
        "answer": a,
        "title": localised(a.title, ctx.lang),
        "plain": localised(a.plain, ctx.lang),
        "see": _see(kb, a.see),
        "hotline_phone": phones[0],
    }


def answer_source(guide: "Guide", arg: str | None, ctx: Context) -> dict[str, Any]:
    """The verbatim clause(s) behind an answer, with file and line."""
    kb = guide.kb
    if arg not in kb.answers or kb.answers[arg].silent:
        raise NotFound(arg)
    a = kb.answers[arg]
    quotes = [{"text": q.text, "file": q.file, "line": q.line, "label": kb.source_label(q.file)} for q in a.quotes]
    return {
        "answer": a,
        "title": localised(a.title, ctx.lang),
        "plain": localised(a.plain, ctx.lang),
        "quotes": quotes,
        "sources": sources(kb, [q.file for q in a.quotes]),
    }


def question(guide: "Guide", ctx: Context, arg: str, text: str) -> Screen:
    """Free text nobody asked for (the engine's ``ask``): the matcher's confident answer, else the
    suggestions screen (a bare category word offers its businesses); unanswered questions are told
    to the listeners (statistics)."""
    engine = guide.engine
    result = engine.matcher.match(text)
    if result.confident:
        return engine.render(result.best.route, ctx)
    if text.strip():
        engine.emit("unanswered", ctx, text)
    routes = engine.expand_categories(m.route for m in result.suggestions)[:3]
    suggestions = [{"label": route_label(guide, r, ctx), "route": r} for r in routes]
    return engine.render("suggest", ctx, variables={"suggestions": suggestions})


def route_label(guide: "Guide", route: str, ctx: Context) -> str:
    """A suggestion's button label: the name of what the route opens."""
    screen, _sep, arg = route.partition(":")
    kb, _ = guide.kb, guide.engine._
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
