"""The main menu, the categories, help, the suggestions below an uncertain answer, and the
link into the private chat shown where personal content was asked for elsewhere."""

from __future__ import annotations

from typing import Any

from ..engine import Context, NotFound
from ..routes import Route
from ._shared import App


def main(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The main menu: the categories."""
    kb = guide.kb
    menu = [{"category": c, "topics": kb.topics_in(c.id)} for c in kb.categories.values()]
    return {"categories": list(kb.categories.values()), "menu": menu}


def category(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """A category's businesses."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.categories:
        raise NotFound(arg)
    return {"category": kb.categories[arg], "topics": kb.topics_in(arg)}


def help(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:  # noqa: A001 - the screen's name
    """How to use the guide."""
    return {}


def suggest(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """``answers.question`` passes ``suggestions`` (label, route) when no answer is sure."""
    return {}


def private_only(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The engine passes ``link``: the deep link into the private chat (None without a bot name)."""
    return {}
