"""One fact answering a free-text question (knowledge/data/answers.yaml) and its verbatim source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knowledge import Knowledge

from ..engine import Context, NotFound
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
