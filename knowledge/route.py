"""Routes: the address of a screen, as a value — the one parser of ``"<screen>[:<param>[:<param>…]]"``.

A route names a screen and its parameters: ``Route("topic", ("reissue_lost",))`` is written
``topic:reissue_lost`` on the wire (callback data, web URLs, ``see:`` in the knowledge files, the
database's stored questions and taught routes). The written form never changes: ``Route.parse``
and ``str`` round-trip exactly, so buttons in users' chats, links and stored rows keep working.

The syntax only: a screen name of 1–20 letters ``a-z`` and ``_``; the parameters, joined by ``:``,
at most 48 characters without ``|`` or white space. Which parameters a screen takes, and what
they name, is declared in ``dialogs/screens.yaml`` (``params:``; ``dialogs.routes``). The
knowledge files use the same form for their references (``topic:ID``, ``answer:ID``,
``city:NAME``, ``screen:offices``), which is why the type lives on the ground floor.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

ROUTE_RE = re.compile(r"^(?P<screen>[a-z_]{1,20})(?::(?P<arg>[^|\s]{1,48}))?$")
SEPARATOR = ":"


class BadRoute(ValueError):
    """Text that is not a route (a forged or mangled button, a mistyped URL)."""


@dataclass(frozen=True, slots=True)
class Route:
    """A screen and its parameters (strings, as written). ``str(route)`` is the wire form."""

    screen: str
    params: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | Route | None) -> Route:
        """The route written ``text`` (a Route is returned as it is); raises ``BadRoute``."""
        if isinstance(text, Route):
            return text
        return _parse(text or "")

    @classmethod
    def of(cls, screen: str, *params: object) -> Route:
        """The route to ``screen`` with ``params`` (each turned into text); raises ``BadRoute`` if
        the result cannot be written (e.g. a parameter with a space or too long)."""
        route = cls(screen, tuple(str(p) for p in params))
        _parse(str(route))  # checks the syntax (memoised)
        return route

    @property
    def arg(self) -> str | None:
        """The parameters as written after the screen name (``"t:m"``), None without parameters."""
        return SEPARATOR.join(self.params) if self.params else None

    def param(self, index: int = 0, default: str = "") -> str:
        """The ``index``-th parameter, ``default`` when the route has fewer."""
        return self.params[index] if index < len(self.params) else default

    def __str__(self) -> str:
        return f"{self.screen}{SEPARATOR}{SEPARATOR.join(self.params)}" if self.params else self.screen


@functools.lru_cache(maxsize=8192)
def _parse(text: str) -> Route:
    m = ROUTE_RE.match(text)
    if not m:
        raise BadRoute(f"not a route: {text[:80]!r}")
    arg = m["arg"]
    return Route(m["screen"], tuple(arg.split(SEPARATOR)) if arg else ())


def screen_of(text: str) -> str:
    """The screen name a written route begins with, without checking the rest: also for what is not
    a whole route — a button's route template (``topic:{{ business.id }}``) or the composite route
    of a screen of several answers (``answers:answer:a+answer:b``, longer than a route may be)."""
    return text.strip().partition(SEPARATOR)[0]


def parse_or_none(text: str | Route | None) -> Route | None:
    """``Route.parse(text)``, or None where ``text`` is not a route."""
    try:
        return Route.parse(text)
    except BadRoute:
        return None
