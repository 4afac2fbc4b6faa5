"""The whole answer about a business as one text, for staff and scripts (`eport-guide show`):
the first screen, then the verbatim rules (📖 原文), then the labelled Jiangsu extras."""

from __future__ import annotations

from .engine import Context, Engine
from .providers import has_jiangsu_extras


def full_answer(engine: Engine, ctx: Context, topic: str, *, html: bool = False) -> str:
    routes = [f"topic:{topic}", f"rules:{topic}"]
    if has_jiangsu_extras(engine.kb, topic):
        routes.append(f"jiangsu:{topic}")
    screens = [engine.render(route, ctx) for route in routes]
    separator = "\n\n" + "─" * 24 + "\n\n"
    return separator.join(s.html if html else s.text for s in screens)
