"""Inline mode (@bot query in any chat): compact answers, generic rules only, never anyone's ticks."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import Context
from ..routes import Route, screen_of
from ..render import environment, fit_html, tidy
from ._shared import App
from . import offices, topics


@dataclass(frozen=True)
class InlineResult:
    """One inline answer: its route, title, description, message HTML and id."""

    route: str
    title: str
    description: str
    html: str
    topic: str | None  # for the deep-link button


def results(guide: App, ctx: Context, query: str, popular: list[str] | None = None, limit: int = 8) -> list[InlineResult]:
    """The answers to an inline query; an empty query lists the most viewed businesses first."""
    engine, kb = guide.engine, guide.kb
    query = query.strip()
    if query:
        matches = engine.matcher.match(query).matches
        routes = engine.expand_categories(m.route for m in matches if screen_of(m.route) in ("topic", "city", "category"))
    else:
        routes = [f"topic:{t}" for t in (popular or []) if t in kb.businesses]
        routes += [f"topic:{t}" for t in kb.businesses if f"topic:{t}" not in routes]
    out = []
    env = environment(ctx.lang)
    more = engine.more(ctx)
    for route in routes[:limit]:
        parsed = Route.parse(route)
        kind, arg = parsed.screen, parsed.arg
        if kind == "topic":
            values = {**engine.base_values(), **topics.topic(guide, ctx, parsed), "lang": ctx.lang}
            business = kb.businesses[arg]
            html = fit_html(tidy(env.get_template("inline_topic.j2").render(values)), more)
            out.append(InlineResult(route, business.name, kb.categories[business.category].name, html, arg))
        else:
            values = {**engine.base_values(), **offices.city(guide, ctx, parsed)}
            html = fit_html(tidy(env.get_template("inline_city.j2").render(values)), more)
            names = "、".join(o.name for o in kb.cities[arg])
            out.append(InlineResult(route, f"📍 {arg}", names, html, None))
    return out
