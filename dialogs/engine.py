"""The dialog engine: (state, user action) -> next screen. Pure: no Telegram, no I/O.

A *route* names a screen and its argument ("topic:reissue_lost"). A *button* carries
callback data "e1|<action>|<args>" (≤64 bytes): action "g" goes to a route; other
actions are registered by features (checklists, feedback, …) with ``Engine.action``.
Anything that does not parse, names an unknown action, or names something that no
longer exists yields the main menu with an "out of date" notice — never an exception.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from knowledge import Knowledge

from . import i18n, providers
from .render import MAX_BUTTONS, environment, fit_html, html_to_text, tidy

CALLBACK_PREFIX = "e1"
MAX_CALLBACK_BYTES = 64
MAX_TEXT = 4096
SCREENS_FILE = Path(__file__).resolve().parent / "screens.yaml"
ROUTE_RE = re.compile(r"^(?P<screen>[a-z_]{1,20})(?::(?P<arg>[^|\s]{1,48}))?$")
SIMPLE_FIELD = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\s*\}\}")
CACHE_SIZE = 2048


@dataclass(frozen=True)
class Button:
    label: str
    data: str | None = None  # callback data
    url: str | None = None
    copy_text: str | None = None
    switch_inline_query: str | None = None


class Forbidden(providers.NotFound):
    """The screen or action is not for this user (admin-only): answered like an unknown route."""


@dataclass(frozen=True)
class Screen:
    route: str
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    toast: str | None = None  # short answer to a button press
    stale: bool = False
    document: tuple[str, bytes] | None = None  # (file name, content) to send along
    awaiting: str | None = None  # the next free text answers this ("<input>:<arg>"), see Engine.reply
    redirect: str | None = None  # personal content asked for outside the private chat: the deep link to it

    @cached_property
    def text(self) -> str:
        return html_to_text(self.html)

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass(frozen=True)
class InlineResult:
    route: str
    title: str
    description: str
    html: str
    topic: str | None  # for the deep-link button


@dataclass(frozen=True)
class Context:
    """Who is asking. Channels build one per update."""

    user_id: int | None = None
    lang: str = i18n.DEFAULT_LANGUAGE
    extra: dict[str, Any] = field(default_factory=dict)
    chat: str = "private"  # the chat type the answer goes to: private, group, supergroup, channel, inline
    admin: bool = False  # the channel vouches that this user is an admin (screens marked `admin: true`)
    bot_username: str | None = None  # for deep links into the private chat


Action = Callable[["Engine", Context, str], Screen]
Input = Callable[["Engine", Context, str, str], Screen]  # (engine, ctx, arg, text)
Listener = Callable[[str, Context, str], None]  # (event kind, ctx, route or question)


def clean_text(text: str | None) -> str:
    """User text made safe to store and render: lone surrogates and NULs replaced."""
    return (text or "").encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


def _lookup(values: Any, path: list[str]) -> Any:
    for name in path:
        values = values[name] if isinstance(values, dict) else getattr(values, name)
    return values


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


def _go(engine: "Engine", ctx: Context, route: str) -> Screen:
    """The "g" action: open a route. Screens that need the engine's own variables are not routes."""
    screen = ROUTE_RE.match(route or "")
    if not screen or engine.screens.get(screen["screen"], {}).get("internal"):
        raise providers.NotFound(route)
    return engine.render(route, ctx)


def callback_data(action: str, args: str = "") -> str:
    data = f"{CALLBACK_PREFIX}|{action}|{args}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def parse_callback(data: str) -> tuple[str, str] | None:
    parts = data.split("|", 2)
    if len(parts) != 3 or parts[0] != CALLBACK_PREFIX or not parts[1]:
        return None
    return parts[1], parts[2]


class Engine:
    def __init__(self, kb: Knowledge, *, features: Iterable[str] = ()):
        self.kb = kb
        self.features = frozenset(features)
        spec = yaml.safe_load(SCREENS_FILE.read_text(encoding="utf-8"))
        self.screens: dict[str, dict[str, Any]] = spec["screens"]
        self.action_specs: dict[str, dict[str, Any]] = {k: v or {} for k, v in spec["actions"].items()}
        self.providers: dict[str, providers.Provider] = dict(providers.PROVIDERS)
        self.actions: dict[str, Action] = {"g": _go}
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)  # tests use a fast clock
        self.inputs: dict[str, Input] = {}
        self.listeners: list[Listener] = []
        self._matcher: Any = None  # built on first use (or by warm_up): its libraries cost start-up time
        self._matcher_lock = threading.Lock()
        self._expr_cache: dict[tuple[str, str], Any] = {}
        self._screens: dict[tuple, Screen] = {}  # screens that are the same for everyone

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

    def warm_up(self) -> None:
        """Build the matcher now (a channel calls this once it is up, off the main thread)."""
        _ = self.matcher

    # -- extension points ------------------------------------------------------------
    def action(self, name: str) -> Callable[[Action], Action]:
        """Register a button action: ``@engine.action("x")`` def fn(engine, ctx, args)."""

        def register(fn: Action) -> Action:
            self.actions[name] = fn
            return fn

        return register

    def extend(self, feature: str, *, providers: dict[str, providers.Provider] | None = None,
               actions: dict[str, Action] | None = None, inputs: dict[str, Input] | None = None,
               listeners: list[Listener] | None = None) -> None:
        """Switch a feature on: its screens' providers, button actions, text inputs, listeners."""
        undeclared = sorted(set(actions or {}) - set(self.action_specs))
        if undeclared:  # every action states its access in screens.yaml: fail closed at start-up
            raise ValueError(f"actions not declared in screens.yaml: {', '.join(undeclared)}")
        self.features = self.features | {feature}
        self.providers.update(providers or {})
        self.actions.update(actions or {})
        self.inputs.update(inputs or {})
        self.listeners.extend(listeners or [])
        self._screens.clear()

    def reload(self, kb: Knowledge) -> None:
        """Swap in newly validated knowledge (the old stays live if loading failed)."""
        self.kb = kb
        self._matcher = None
        self._screens.clear()

    # -- entry points ------------------------------------------------------------------
    def emit(self, kind: str, ctx: Context, value: str) -> None:
        """Tell the listeners (statistics, the channel's scheduler) that something happened."""
        self._emit(kind, ctx, value)

    def _emit(self, kind: str, ctx: Context, value: str) -> None:
        for listener in self.listeners:
            listener(kind, ctx, value)

    def _shown(self, ctx: Context, screen: Screen) -> Screen:
        if self.listeners and screen.route.startswith("topic:"):
            self._emit("view", ctx, screen.route)
        return screen

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
            except providers.NotFound:
                pass
        return self.render("main", ctx, notice=self._("未找到该业务，请从菜单选择。", ctx))

    def reply(self, ctx: Context, awaiting: str, text: str) -> Screen:
        """Free text answering a question a screen asked (``Screen.awaiting``)."""
        text = clean_text(text)
        name, _, arg = awaiting.partition(":")
        if name not in self.inputs:
            return self.ask(ctx, text)
        try:
            return self.inputs[name](self, ctx, arg, text)
        except providers.NotFound:
            return self.stale(ctx)

    def handle(self, ctx: Context, data: str | None) -> Screen:
        """A button press. Unknown, forged or outdated data → fresh main menu."""
        parsed = parse_callback(data or "")
        if parsed is None or parsed[0] not in self.actions:
            return self.stale(ctx)
        action, args = parsed
        spec = self.action_specs.get(action, {})
        try:
            if spec.get("admin") and not ctx.admin:
                raise Forbidden(action)
            if "private" in spec and ctx.chat != "private":
                return self.private_only(ctx, spec["private"])
            return self._shown(ctx, self.actions[action](self, ctx, args))
        except providers.NotFound:
            return self.stale(ctx)

    def ask(self, ctx: Context, question: str) -> Screen:
        """Free text: the best answer, or 2–3 suggestions below the confidence threshold."""
        question = clean_text(question)
        result = self.matcher.match(question)
        if result.confident:
            return self._shown(ctx, self.render(result.best.route, ctx))
        if self.listeners and question.strip():
            self._emit("unanswered", ctx, question)
        routes: list[str] = []
        for m in result.suggestions:
            if m.route.startswith("category:"):
                # a bare category word ("注销") is ambiguous: offer its businesses
                routes += [f"topic:{b.id}" for b in self.kb.topics_in(m.route.split(":", 1)[1])]
            else:
                routes.append(m.route)
        routes = list(dict.fromkeys(routes))[:3]
        suggestions = [{"label": self.route_label(r, ctx), "route": r} for r in routes]
        return self.render("suggest", ctx, variables={"suggestions": suggestions})

    def start_screens(self) -> set[str]:
        """/start payloads that open a personal screen (the deep links of ``private_only``)."""
        return {s["private"] for s in self.screens.values() if s.get("private")}

    def private_only(self, ctx: Context, payload: str) -> Screen:
        """Personal content asked for in a group, a channel or an inline message: a link to the private chat."""
        from .links import deep_link

        link = None
        if ctx.bot_username:
            link = deep_link(ctx.bot_username, payload) if payload else f"https://t.me/{ctx.bot_username.lstrip('@')}"
        screen = self.render("private_only", ctx, variables={"link": link})
        return replace(screen, redirect=link, toast=self._("个人内容只在与机器人的私聊中显示", ctx))

    def stale(self, ctx: Context) -> Screen:
        screen = self.render("main", ctx, notice=self._("此菜单已过期，已为您打开最新菜单。", ctx))
        return replace(screen, stale=True, toast=self._("此菜单已过期", ctx))

    # -- rendering ---------------------------------------------------------------------
    def _(self, message: str, ctx: Context) -> str:
        return i18n.translations(ctx.lang).gettext(message)

    def route_label(self, route: str, ctx: Context) -> str:
        screen, _, arg = route.partition(":")
        kb = self.kb
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
            label = self._("仅适用于江苏省", ctx)
            return f"{title}〔{label}〕"
        if screen == "walk":
            step = next((s for s in kb.steps if s.id == arg), None)
            if step:
                beside = i18n.beside(step.title, ctx.lang)
                return f"{step.title}（{beside}）" if beside else step.title
        if screen == "city":
            return f"📍 {arg}"
        if screen == "offices":
            return self._("📍 办理地点与电话", ctx)
        if screen == "online":
            return self._("🌐 网上办理", ctx)
        return self._("🏠 主菜单", ctx)

    def render(self, route: str, ctx: Context, *, notice: str | None = None, variables: dict[str, Any] | None = None) -> Screen:
        m = ROUTE_RE.match(route or "")
        if not m or m["screen"] not in self.screens:
            raise providers.NotFound(route)
        screen_id, arg = m["screen"], m["arg"]
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
        if spec.get("feature") and spec["feature"] not in self.features:
            raise providers.NotFound(route)
        provider = self.providers.get(screen_id)
        values: dict[str, Any] = provider(self.kb, arg, ctx) if provider else {"hotline": self.kb.facts["hotline"], "kb": self.kb}
        # a personal screen whose provider names everything it depends on ("cache_key": e.g. a checklist
        # page's ticks) is rendered once per such state and reused
        state_key = values.pop("cache_key", None)
        if state_key is not None and not variables and not notice and not ctx.extra:
            key = (route, ctx.lang, self.features, state_key)
            if key in self._screens:
                return self._screens[key]
            cacheable = True
        values.update(variables or {})
        values.update({"features": self.features, "lang": ctx.lang, "user_id": ctx.user_id, **ctx.extra})
        env = environment(ctx.lang)
        html = tidy(env.get_template(spec["template"]).render(values))
        if notice:
            html = f"ℹ️ {env.filters['e'](notice)}\n\n{html}"
        # whatever the data, one message: long lists are cut with "… 还有 N 条"
        html = fit_html(html, lambda n: self._("还有 %(n)s 条", ctx) % {"n": n})
        buttons = self._buttons(spec.get("buttons", []), values, ctx)
        screen = Screen(route=route, html=html, buttons=buttons)
        if cacheable:
            if len(self._screens) >= CACHE_SIZE:
                self._screens.clear()
            self._screens[key] = screen
        return screen

    def _expr(self, lang: str, source: str):
        key = (lang, source)
        if key not in self._expr_cache:
            self._expr_cache[key] = environment(lang).compile_expression(source)
        return self._expr_cache[key]

    def _fill(self, lang: str, source: str, values: dict[str, Any]) -> str:
        if "{" not in source:
            return source
        key = (lang, "T" + source)
        if key not in self._expr_cache:
            # Labels and callback data are plain text, not HTML: no escaping.
            self._expr_cache[key] = _simple_template(source) or environment(lang, html=False).from_string(source).render
        return self._expr_cache[key](values)

    def _button(self, spec: dict[str, Any], values: dict[str, Any], ctx: Context) -> Button | None:
        if "when" in spec and not self._expr(ctx.lang, spec["when"])(**values):
            return None
        label = self._(spec["text"], ctx) if "text" in spec else self._fill(ctx.lang, spec["label"], values)
        if "go" in spec:
            return Button(label, data=callback_data("g", self._fill(ctx.lang, spec["go"], values)))
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

    # -- upload pre-check -------------------------------------------------------------------
    def precheck(self, ctx: Context, data: bytes | None, file_name: str | None, size: int | None, *, photo: bool = False) -> Screen:
        from .upload import precheck

        file_name = clean_text(file_name)[:200] or None
        result = precheck(self.kb, data, file_name, size, photo=photo)
        return self.render("precheck", ctx, variables={"result": result})

    # -- inline answers ---------------------------------------------------------------------
    def inline(self, ctx: Context, query: str, popular: list[str] | None = None, limit: int = 8) -> list[InlineResult]:
        """Compact answers for inline mode: generic rules only, never anyone's ticks."""
        query = query.strip()
        if query:
            routes = [m.route for m in self.matcher.match(query).matches if m.route.startswith(("topic:", "city:", "category:"))]
            expanded: list[str] = []
            for r in routes:
                if r.startswith("category:"):
                    expanded += [f"topic:{b.id}" for b in self.kb.topics_in(r.split(":", 1)[1])]
                else:
                    expanded.append(r)
            routes = list(dict.fromkeys(expanded))
        else:
            routes = [f"topic:{t}" for t in (popular or []) if t in self.kb.businesses]
            routes += [f"topic:{t}" for t in self.kb.businesses if f"topic:{t}" not in routes]
        results = []
        env = environment(ctx.lang)
        more = lambda n: self._("还有 %(n)s 条", ctx) % {"n": n}  # noqa: E731
        for route in routes[:limit]:
            kind, _, arg = route.partition(":")
            if kind == "topic":
                values = providers.topic(self.kb, arg, ctx)
                business = self.kb.businesses[arg]
                html = fit_html(tidy(env.get_template("inline_topic.j2").render(values)), more)
                results.append(InlineResult(route, business.name, self.kb.categories[business.category].name, html, arg))
            else:
                values = providers.city(self.kb, arg, ctx)
                html = fit_html(tidy(env.get_template("inline_city.j2").render(values)), more)
                names = "、".join(o.name for o in self.kb.cities[arg])
                results.append(InlineResult(route, f"📍 {arg}", names, html, None))
        return results

    # -- introspection (tests, screen snapshots) -----------------------------------------
    def all_routes(self) -> list[str]:
        kb = self.kb
        routes = ["main", "offices", "online", "help", "privacy"]
        routes += [r for r in ("settings", "language", "forget", "checklists", "reminders", "remind:refund", "remind:expiry")
                   if self.screens[r.split(":")[0]].get("feature", "") in self.features]
        routes += [f"category:{c}" for c in kb.categories]
        routes += [f"topic:{t}" for t in kb.businesses]
        routes += [f"material:{m}" for m in kb.materials]
        routes += [f"fact:{f}" for f in kb.facts]
        routes += [f"answer:{a}" for a in kb.answers]
        routes += [f"answer_source:{a}" for a, v in kb.answers.items() if not v.silent]
        routes += [f"city:{c}" for c in kb.cities]
        routes += [f"stuck:{t}" for t in kb.businesses]
        routes += [f"walk:{s.id}" for s in kb.steps]
        routes += [f"rules:{t}" for t in kb.businesses]
        routes += [f"jiangsu:{t}" for t in kb.businesses if providers.has_jiangsu_extras(kb, t)]
        for t in kb.businesses:
            routes += [f"walk:{t}.{s.id}" for s in providers.walk_track(kb, t)]
        if "checklist" in self.features:
            routes += [f"checklist:{t}" for t in kb.businesses]
            for t in kb.businesses:  # a page per material
                routes += [f"checklist_part:{t}:{m}" for m in dict.fromkeys(i.material for i in kb.checklist_items(t))]
        return routes
