"""The dialog engine: Telegram-shaped screens for every channel — parses, dispatches, renders.

A screen is what one Telegram message is: HTML text (Telegram's subset of tags) with an inline
keyboard whose buttons carry callback data, within Telegram's limits (``dialogs.limits``: the
text cut to fit, at most 100 buttons, 64-byte callback data). Telegram shows a screen as it is;
the web pages, the console chat and the command line show the same screens translated to their
medium (``web/``, ``dialogs.console``). The engine calls no network and no Telegram library: a
channel delivers the screens.

A *route* names a screen and its parameters ("topic:reissue_lost"; ``knowledge.route.Route``). ``screens.yaml`` gives
each screen its template, the feature function that fills it (``data:``) and its buttons;
a *button* carries callback data "e1|<action>|<args>" (≤64 bytes): action "go" opens a
route; the other actions are feature functions named under ``actions:`` in screens.yaml.
The engine knows no feature: ``dialogs.features.install`` binds the functions the YAML
names and hands them over with ``Engine.extend``. Authorisation (admin, private,
internal, feature) is checked here for every screen and every action.
Anything that does not parse, names an unknown action, or names something that no
longer exists yields the main menu with an "out of date" notice — never an exception.
"""

from __future__ import annotations

import functools
import copy
import datetime as dt
import re
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from knowledge import Knowledge
from knowledge.route import Route, parse_or_none, screen_of

from . import i18n
from .i18n import t
from .links import chat_link, deep_link
from .routes import check_declarations
from .limits import MAX_BUTTONS, MAX_CALLBACK_BYTES, MAX_MESSAGE
from .render import environment, fit_html, html_to_text, tidy

CALLBACK_PREFIX = "e1"
MAX_TEXT = MAX_MESSAGE  # the longest screen text (a channel's input box follows it too)
SCREENS_FILE = Path(__file__).resolve().parent / "screens.yaml"
SIMPLE_FIELD = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\s*\}\}")
CACHE_SIZE = 2048
QUESTION = "question"  # the input that answers free text nobody asked for


@dataclass(frozen=True)
class Button:
    """One button of a screen: a label and what it does (callback data, a URL, text to copy, an inline query)."""

    label: str
    data: str | None = None  # callback data
    url: str | None = None
    copy_text: str | None = None
    switch_inline_query: str | None = None


class NotFound(LookupError):
    """The route's argument names nothing in the current knowledge (a stale or forged button)."""


class Forbidden(NotFound):
    """The screen or action is not for this user (admin-only): answered like an unknown route."""


@dataclass(frozen=True)
class Screen:
    """What the engine answers: one Telegram-shaped message (HTML and buttons) and what goes with it."""

    route: str
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    toast: str | None = None  # short answer to a button press
    stale: bool = False
    document: tuple[str, bytes] | None = None  # (file name, content) to send along
    awaiting: str | None = None  # the next free text answers this ("<input>:<arg>"), see Engine.reply
    redirect: str | None = None  # personal content asked for outside the private chat: the deep link to it
    photo: Any = None  # a picture shown with the screen (dialogs.pictures.Picture: .png(), .svg(), .caption), or None
    # The screen model, for channels that draw screens themselves (the web pages): the template's
    # name, the variables it was rendered from, the notice put above it, and whether the route alone
    # gives this very screen again (no notice, no caller's variables) so a channel may redirect to it.
    template: str | None = None
    model: Any = field(default=None, compare=False, repr=False)
    notice: str | None = None
    addressable: bool = False

    @cached_property
    def text(self) -> str:
        """The screen as plain text."""
        return html_to_text(self.html)

    def all_buttons(self) -> list[Button]:
        """The buttons, row after row."""
        return [b for row in self.buttons for b in row]


@dataclass(frozen=True)
class Context:
    """Who is asking. Channels build one per update."""

    user_id: int | None = None
    lang: str = i18n.DEFAULT_LANGUAGE
    chat: str = "private"  # the chat type the answer goes to: private, group, supergroup, channel, inline
    admin: bool = False  # the channel vouches that this user is an admin (screens marked `admin: true`)
    bot_username: str | None = None  # for deep links into the private chat


# What the engine calls, bound by dialogs.features.install. Every feature function has one signature,
# fn(guide, ctx, route, text=None); bound to the Guide, the engine calls it with:
Data = Callable[[Context, Route], dict[str, Any]]  # (ctx, the screen's route) -> template variables
Action = Callable[[Context, Route], Screen]  # (ctx, Route(action, callback args)) -> the next screen
Input = Callable[[Context, Route, str], Screen]  # (ctx, Route(input, awaiting args), text) -> the next screen
Listener = Callable[[str, Context, str], None]  # (event kind, ctx, route or question)
Step = Callable[[Context, Route], dict[str, Any]]  # (ctx, the screen's route) -> variables; runs before Data, may write


def clean_text(text: str | None) -> str:
    """User text made safe to store and render: lone surrogates and NULs replaced."""
    return (text or "").encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


def _lookup(values: Any, path: list[str]) -> Any:
    for name in path:
        values = values[name] if isinstance(values, dict) else getattr(values, name)
    return values


@functools.lru_cache(maxsize=2048)
def _expression(lang: str, source: str):
    """A screens.yaml condition (``when:``) compiled once per process and language: the same for every
    engine (each /reload builds a new one), as the language's environment is."""
    return environment(lang).compile_expression(source)


@functools.lru_cache(maxsize=2048)
def _filler(lang: str, source: str) -> Callable[[dict[str, Any]], str]:
    """A button's label or callback data template, compiled once per process and language. Labels and
    callback data are plain text, not HTML: no escaping."""
    return _simple_template(source) or environment(lang, html=False).from_string(source).render


def _simple_template(source: str) -> Callable[[dict[str, Any]], str] | None:
    """A fast path for labels like "{{ item.name }}（{{ item.count }}）": fields only."""
    parts = SIMPLE_FIELD.split(source)
    literals, fields = parts[0::2], [p.split(".") for p in parts[1::2]]
    if any("{{" in lit or "{%" in lit for lit in literals):
        return None

    def render(values: dict[str, Any]) -> str:
        out = [literals[0]]
        for path, literal in zip(fields, literals[1:]):
            out.append(str(_lookup(values, path)))
            out.append(literal)
        return "".join(out)

    return render


def callback_data(action: str, args: str = "") -> str:
    """A button's callback data ``e1|<action>|<args>``; ValueError over Telegram's 64 bytes."""
    data = f"{CALLBACK_PREFIX}|{action}|{args}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def action_route(action: str, args: str) -> Route:
    """A button's action and its callback args as the Route its function receives (``args`` split at
    ":"; ``route.arg`` gives them back unchanged — callback args are not checked as a route is)."""
    return Route(action, tuple(args.split(":")) if args else ())


def parse_callback(data: str) -> tuple[str, str] | None:
    """(action, args) of callback data, None for data this engine did not make."""
    parts = data.split("|", 2)
    if len(parts) != 3 or parts[0] != CALLBACK_PREFIX or not parts[1]:
        return None
    return parts[1], parts[2]


@functools.lru_cache(maxsize=4)
def _screens_spec(text: str) -> dict[str, Any]:
    """screens.yaml's text parsed (with libyaml where PyYAML has it: a few ms, in pure Python about 50): once
    per text in a process that builds several engines (the bot and the web pages, a /reload, the tests); a
    changed file is parsed anew."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


class Engine:
    """The screens of screens.yaml over the knowledge: renders routes, answers buttons and free text."""

    def __init__(self, kb: Knowledge, *, features: Iterable[str] = ()):
        self.kb = kb
        self.features = frozenset(features)
        spec = copy.deepcopy(_screens_spec(SCREENS_FILE.read_text(encoding="utf-8")))  # an engine's own copy
        self.screens: dict[str, dict[str, Any]] = spec["screens"]
        check_declarations(self.screens)  # every screen's `params:` names a known type, or no start-up
        self.action_specs: dict[str, dict[str, Any]] = {k: v or {} for k, v in spec["actions"].items()}
        self.input_specs: dict[str, dict[str, Any]] = {k: v or {} for k, v in spec.get("inputs", {}).items()}
        self.listener_specs: list[dict[str, Any]] = list(spec.get("listeners") or [])
        # old callback data keeps working: an alias answers as the action it names (same access)
        self.aliases: dict[str, str] = {k: v["alias"] for k, v in self.action_specs.items() if "alias" in v}
        self.data: dict[str, Data] = {}
        self.steps: dict[str, Step] = {}  # screen -> the step before its data function (screens.yaml `before:`)
        self.actions: dict[str, Action] = {"go": lambda ctx, action: self.go(ctx, action.arg or "")}
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)  # tests use a fast clock
        self.inputs: dict[str, Input] = {}
        self.listeners: list[Listener] = []
        self._matcher: Any = None  # built on first use (or by warm_up): its libraries cost start-up time
        self._reader: Any = None
        self._matcher_lock = threading.Lock()
        self._screens: dict[tuple, Screen] = {}  # screens that are the same for everyone
        self._toasted: dict[tuple[int, str], tuple[Screen, Screen]] = {}  # (id of a screen, toast) → (it, with the toast)

    @property
    def matcher(self):
        """The free-text answerer for the current knowledge, built when first needed."""
        matcher = self._matcher
        if matcher is None or matcher.kb is not self.kb:
            with self._matcher_lock:  # the background warm-up and a first question may race
                matcher = self._matcher
                if matcher is None or matcher.kb is not self.kb:
                    from .matcher import Matcher  # numpy, BM25, rapidfuzz, stemmers: loaded lazily

                    matcher = self._matcher = Matcher(self.kb)
        return matcher

    @property
    def reader(self):
        """Reads a question as business × aspect × who × region (dialogs.reader), built with the matcher."""
        reader = self._reader
        matcher = self.matcher
        if reader is None or reader.matcher is not matcher:
            with self._matcher_lock:
                reader = self._reader
                if reader is None or reader.matcher is not matcher:
                    from .reader import Reader

                    reader = self._reader = Reader(self.kb, matcher)
        return reader

    def warm_up(self) -> None:
        """Build the matcher and the reader now (a channel calls this once it is up, off the main thread)."""
        _ = self.reader

    @property
    def matcher_ready(self) -> bool:
        """Whether the matcher of the current knowledge is built (free text will not build it)."""
        matcher = self._matcher
        return matcher is not None and matcher.kb is self.kb

    async def ready(self) -> None:
        """For a channel's event loop, before free text (``ask``, ``reply``): the matcher is built in a
        worker thread if it is not yet (first question, after a reload), never on the loop itself."""
        if not self.matcher_ready:
            import asyncio

            await asyncio.to_thread(self.warm_up)

    # -- extension point: dialogs.features.install calls this -------------------------------
    def extend(
        self,
        feature: str | None = None,
        *,
        data: dict[str, Data] | None = None,
        actions: dict[str, Action] | None = None,
        inputs: dict[str, Input] | None = None,
        listeners: list[Listener] | None = None,
        steps: dict[str, Step] | None = None,
    ) -> None:
        """Switch a feature on (its name is what screens' ``feature:`` and templates' ``features`` test)
        and add the functions that fill screens, answer buttons and text inputs, and listen to events."""
        undeclared = sorted(set(actions or {}) - set(self.action_specs))
        if undeclared:  # every action states its access in screens.yaml: fail closed at start-up
            raise ValueError(f"actions not declared in screens.yaml: {', '.join(undeclared)}")
        if feature:
            self.features = self.features | {feature}
        self.data.update(data or {})
        self.steps.update(steps or {})
        self.actions.update(actions or {})
        self.inputs.update(inputs or {})
        self.listeners.extend(listeners or [])
        self._screens.clear()

    def reload(self, kb: Knowledge) -> None:
        """Swap in newly validated knowledge (the old stays live if loading failed); the listeners hear
        "reloaded" (e.g. the web pages served from the bot's process follow)."""
        self.kb = kb
        self._matcher = None
        self._reader = None
        self._screens.clear()
        self._toasted.clear()
        self.emit("reloaded", Context(), str(kb.directory))

    # -- entry points ------------------------------------------------------------------
    def emit(self, kind: str, ctx: Context, value: str) -> None:
        """Tell the listeners (statistics, the channel's scheduler) that something happened."""
        for listener in self.listeners:
            listener(kind, ctx, value)

    def _shown(self, ctx: Context, screen: Screen) -> Screen:
        if self.listeners and screen_of(screen.route) == "topic":
            self.emit("view", ctx, screen.route)
        return screen

    def open(self, ctx: Context, route: str) -> Screen:
        """A route opened by its address (a web page's link): rendered like ``render`` and, for a
        business, counted as a view — the engine counts views, never the channel."""
        return self._shown(ctx, self.render(route, ctx))

    def start(self, ctx: Context, payload: str | None = None) -> Screen:
        """/start [TOPIC]: a known topic opens its answer; anything else the main menu."""
        payload = clean_text(payload).strip()
        if not payload:
            return self.render("main", ctx)
        if payload in self.kb.businesses:
            return self._shown(ctx, self.render(f"topic:{payload}", ctx))
        if payload in self.start_screens():
            try:
                return self.render(payload, ctx)
            except NotFound:
                pass
        return self.render("main", ctx, notice=t("未找到该业务，请从菜单选择。", ctx))

    def reply(self, ctx: Context, awaiting: str, text: str) -> Screen:
        """Free text answering a question a screen asked (``Screen.awaiting``)."""
        text = clean_text(text)
        waiting = parse_or_none(awaiting)  # "<input>:<arg>", the same form as a route
        name = waiting.screen if waiting is not None else ""
        if name not in self.inputs or not self._available(self.input_specs.get(name, {})):
            return self.ask(ctx, text)
        try:
            return self.inputs[name](ctx, waiting, text)
        except NotFound:
            return self.stale(ctx)

    def handle(self, ctx: Context, data: str | None) -> Screen:
        """A button press. Unknown, forged or outdated data → fresh main menu."""
        parsed = parse_callback(data or "")
        if parsed is None:
            return self.stale(ctx)
        action, args = parsed
        action = self.aliases.get(action, action)  # old data ("g", "t", "fb") answers as today's action
        spec = self.action_specs.get(action)
        if spec is None or action not in self.actions or not self._available(spec):
            return self.stale(ctx)
        try:
            if spec.get("admin") and not ctx.admin:
                raise Forbidden(action)
            if "private" in spec and ctx.chat != "private":
                return self.private_only(ctx, spec["private"])
            return self._shown(ctx, self.actions[action](ctx, action_route(action, args)))
        except NotFound:
            return self.stale(ctx)

    def go(self, ctx: Context, route: str) -> Screen:
        """The "go" action: open a route. Screens that need variables only their caller passes are not routes."""
        parsed = parse_or_none(route)
        if parsed is None or self.screens.get(parsed.screen, {}).get("internal"):
            raise NotFound(route)
        return self.render(route, ctx)  # the text: render parses it again from the cache, no str() needed

    def _available(self, spec: dict[str, Any]) -> bool:
        return not spec.get("feature") or spec["feature"] in self.features

    def ask(self, ctx: Context, question: str) -> Screen:
        """Free text that answers no question a screen asked: the input ``question`` (screens.yaml)."""
        question = clean_text(question)
        if QUESTION not in self.inputs:
            return self.render("main", ctx)
        return self._shown(ctx, self.inputs[QUESTION](ctx, Route(QUESTION), question))

    def expand_categories(self, routes: Iterable[str]) -> list[str]:
        """Routes with each category replaced by its businesses (a bare category word such as 注销 is
        ambiguous: its businesses are offered), duplicates dropped."""
        out: list[str] = []
        for route in routes:
            parsed = parse_or_none(route)
            if parsed is not None and parsed.screen == "category":
                out += [str(Route("topic", (b.id,))) for b in self.kb.topics_in(parsed.param())]
            else:
                out.append(route)
        return list(dict.fromkeys(out))

    def start_screens(self) -> set[str]:
        """/start payloads that open a personal screen (the deep links of ``private_only``)."""
        return {s["private"] for s in self.screens.values() if s.get("private")}

    def private_only(self, ctx: Context, payload: str) -> Screen:
        """Personal content asked for in a group, a channel or an inline message: a link to the private chat."""
        link = None
        if ctx.bot_username:
            link = deep_link(ctx.bot_username, payload) if payload else chat_link(ctx.bot_username)
        screen = self.render("private_only", ctx, variables={"link": link})
        return replace(screen, redirect=link, toast=t("个人内容只在与机器人的私聊中显示", ctx))

    def stale(self, ctx: Context) -> Screen:
        """The main menu with an "out of date" notice: the answer to anything that no longer exists."""
        screen = self.render("main", ctx, notice=t("此菜单已过期，已为您打开最新菜单。", ctx))
        return replace(screen, stale=True, toast=t("此菜单已过期", ctx))

    def with_toast(self, screen: Screen, toast: str | None) -> Screen:
        """``screen`` with the short answer to the button press: the same object for the same screen and toast
        (a screen the engine reuses, e.g. a checklist page per state of its ticks, is not copied each press)."""
        key = (id(screen), toast or "")
        hit = self._toasted.get(key)
        if hit is not None and hit[0] is screen:  # the entry holds the screen: its id is not reused while kept
            return hit[1]
        toasted = replace(screen, toast=toast)
        if len(self._toasted) >= CACHE_SIZE:
            self._toasted.clear()
        self._toasted[key] = (screen, toasted)
        return toasted

    # -- rendering ---------------------------------------------------------------------
    def more(self, ctx: Context) -> Callable[[int], str]:
        """The "… and N more" line of a message cut to Telegram's limit."""
        return lambda n: t("还有 %(n)s 条", ctx) % {"n": n}

    def base_values(self) -> dict[str, Any]:
        """What every template may use, whichever screen: the hotline and the knowledge."""
        return {"hotline": self.kb.facts["hotline"], "kb": self.kb}

    def render(
        self, route: str | Route, ctx: Context, *, notice: str | None = None, variables: dict[str, Any] | None = None
    ) -> Screen:
        """The screen ``route`` opens (a Route or its written form), for ``ctx``; raises NotFound for
        a route that does not parse or names nothing, Forbidden for an admin screen and a non-admin."""
        parsed = parse_or_none(route)
        if parsed is None or parsed.screen not in self.screens:
            raise NotFound(route)
        route = route if isinstance(route, str) else str(parsed)  # the same text: parse and str round-trip
        screen_id = parsed.screen
        spec = self.screens[screen_id]
        # authorisation belongs to the screen: checked here, however the screen was reached
        if spec.get("admin") and not ctx.admin:
            raise Forbidden(route)
        if "private" in spec and ctx.chat != "private":
            return self.private_only(ctx, spec["private"])
        cacheable = not spec.get("personal") and not variables and not notice
        key = (route, ctx.lang, self.features)
        if cacheable and key in self._screens:
            return self._screens[key]
        if not self._available(spec) or screen_id not in self.data:
            raise NotFound(route)
        stepped = self.steps[screen_id](ctx, parsed) if screen_id in self.steps else None
        values = self.base_values()
        values.update(self.data[screen_id](ctx, parsed))
        if stepped:  # what the step says (e.g. a notice) is for this one rendering: not cached
            values.update(stepped)
            cacheable = False
        # a personal screen whose data function names everything it depends on ("cache_key": e.g. a
        # checklist page's ticks) is rendered once per such state and reused
        state_key = values.pop("cache_key", None)
        photo = values.pop("photo", None)  # a data function's picture for the screen (e.g. a copy's example)
        if state_key is not None and not variables and not notice and not stepped:
            key = (route, ctx.lang, self.features, state_key)
            if key in self._screens:
                return self._screens[key]
            cacheable = True
        values.update(variables or {})
        values.update({"features": self.features, "lang": ctx.lang, "user_id": ctx.user_id})
        env = environment(ctx.lang)
        html = tidy(env.get_template(spec["template"]).render(values))
        if notice:
            html = f"ℹ️ {env.filters['e'](notice)}\n\n{html}"
        # whatever the data, one message: long lists are cut with "… 还有 N 条"
        html = fit_html(html, self.more(ctx))
        buttons = self._buttons(spec.get("buttons", []), values, ctx)
        screen = Screen(
            route=route,
            html=html,
            buttons=buttons,
            photo=photo,
            template=spec["template"],
            model=values,
            notice=notice,
            addressable=not notice and not variables,
        )
        if cacheable:
            if len(self._screens) >= CACHE_SIZE:
                self._screens.clear()
            self._screens[key] = screen
        return screen

    def _expr(self, lang: str, source: str):
        return _expression(lang, source)

    def _fill(self, lang: str, source: str, values: dict[str, Any]) -> str:
        if "{" not in source:
            return source
        return _filler(lang, source)(values)

    def _button(self, spec: dict[str, Any], values: dict[str, Any], ctx: Context) -> Button | None:
        if "when" in spec and not self._expr(ctx.lang, spec["when"])(**values):
            return None
        label = t(spec["text"], ctx) if "text" in spec else self._fill(ctx.lang, spec["label"], values)
        if "go" in spec:
            return Button(label, data=callback_data("go", self._fill(ctx.lang, spec["go"], values)))
        if "do" in spec:
            return Button(label, data=callback_data(spec["do"], self._fill(ctx.lang, spec.get("args", ""), values)))
        if "url" in spec:
            return Button(label, url=self._fill(ctx.lang, spec["url"], values))
        if "copy" in spec:
            return Button(label, copy_text=self._fill(ctx.lang, spec["copy"], values))
        if "switch_inline" in spec:
            return Button(label, switch_inline_query=self._fill(ctx.lang, spec["switch_inline"], values))
        raise ValueError(f"button without an action: {spec}")

    def _buttons(self, specs: list[dict[str, Any]], values: dict[str, Any], ctx: Context) -> tuple[tuple[Button, ...], ...]:
        rows: list[tuple[Button, ...]] = []
        for spec in specs:
            if "each" in spec:
                if "when" in spec and not self._expr(ctx.lang, spec["when"])(**values):
                    continue
                items = self._expr(ctx.lang, spec["each"])(**values) or []
                inner = {k: v for k, v in spec.items() if k not in ("each", "columns", "when")}
                made = [b for b in (self._button(inner, {**values, "item": it}, ctx) for it in items) if b]
                cols = int(spec.get("columns", 1))
                rows += [tuple(made[i : i + cols]) for i in range(0, len(made), cols)]
            elif "row" in spec:
                row = tuple(b for b in (self._button(s, values, ctx) for s in spec["row"]) if b)
                if row:
                    rows.append(row)
            else:
                b = self._button(spec, values, ctx)
                if b:
                    rows.append((b,))
        out: list[tuple[Button, ...]] = []
        room = MAX_BUTTONS  # Telegram's limit per keyboard; the last rows (navigation) are kept
        for row in reversed(rows):
            if len(row) <= room:
                out.append(row)
                room -= len(row)
        return tuple(reversed(out))
