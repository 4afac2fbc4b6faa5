"""The web channel (tornado): every screen of the engine as a server-rendered page.

Buttons become links (navigation, ``/s/<route>``) or small POST forms (changes, ``/a``);
the question box asks the same answerer (``/ask``); ``/t/<topic>`` is the deep link of a
topic; ``/check`` runs the upload pre-check on a file held in memory only. A visitor gets a
session (a random token in a signed, HttpOnly, SameSite cookie, see web/sessions.py) the
first time they change something, e.g. tick a checklist item.

Safe by default: autoescaped templates and screens passed through an allow-list
(web/html.py), tornado's CSRF tokens on every form, a Content-Security-Policy allowing only
the page's own hashed style and copy-button script, ``nosniff``, ``no-referrer``, no
framing, small request bodies (the upload alone takes up to Telegram's download limit),
and a per-client rate limit.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import tornado.httputil
import tornado.web

from dialogs import commands, i18n
from dialogs.engine import MAX_TEXT, ROUTE_RE, Context, NotFound, Screen, parse_callback
from dialogs.features import all_routes
from dialogs.features.privacy import retention_due
from dialogs.features.upload import TELEGRAM_DOWNLOAD_LIMIT, check_file
from dialogs.guide import Guide
from dialogs.store import StoreError

from . import sessions
from .html import to_web

log = logging.getLogger("eport_guide.web")

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLE = (TEMPLATES / "style.css").read_text(encoding="utf-8")
SCRIPT = (TEMPLATES / "copy.js").read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


CSP = (f"default-src 'none'; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SESSION_COOKIE = "eg_session"
LANG_COOKIE = "eg_lang"
FLASH_COOKIE = "eg_flash"
MAX_BODY = 64 * 1024  # every request but the upload
MAX_UPLOAD = TELEGRAM_DOWNLOAD_LIMIT + 64 * 1024  # the file pre-check: the bot's own limit, plus the form's overhead
MAX_QUESTION = 500


def N_(message: str) -> str:
    return message


TITLE = N_("电子口岸制发卡业务指南")
NOT_FOUND = N_("页面不存在，已为您打开主菜单。")
CSRF_REFUSED = N_("表单已过期或来源不明，未作任何更改。请返回页面重试。")
TOO_MANY = N_("请求过于频繁，请稍后再试。")
TOO_BIG = N_("请求过大，未作任何更改。")
BUSY = N_("系统繁忙，刚才的操作没有保存，请稍后再试一次。")
ERROR = N_("出错了，请稍后再试。")
UPLOAD_INTRO = N_("选择一个文件，检查网上办理系统能否接受（格式和大小）。文件只在内存中检查，不会保存。")


# -- language -------------------------------------------------------------------------------
def accept_language(header: str | None) -> str | None:
    """The first supported language of an Accept-Language header, by q-value."""
    choices = []
    for n, part in enumerate((header or "").split(",")[:20]):
        code, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = code.strip().lower().replace("_", "-").split("-")[0]
        if base in i18n.LANGUAGES and q > 0:
            choices.append((-q, n, base))
    return min(choices)[2] if choices else None


@lru_cache(maxsize=None)
def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"], auto_reload=False)
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


# -- rate limit -----------------------------------------------------------------------------
class RateLimiter:
    """A token bucket per client address: ``burst`` requests at once, ``rate`` per second after."""

    def __init__(self, rate: float = 2.0, burst: int = 60, max_clients: int = 20000):
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self.buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if len(self.buckets) >= self.max_clients and client not in self.buckets:
            self.buckets = {k: v for k, v in self.buckets.items() if v[0] + (now - v[1]) * self.rate < self.burst}
        if tokens < 1.0:
            self.buckets[client] = (tokens, now)
            return False
        self.buckets[client] = (tokens - 1.0, now)
        return True


def _trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private


# -- buttons ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WebButton:
    kind: str  # go, do, url, copy
    label: str
    href: str = ""
    data: str = ""
    copy: str = ""


def route_href(route: str) -> str:
    return "/" if route == "main" else "/s/" + quote(route, safe=":")


class Web:
    """What every handler shares: the application object (its engine and store), the limits."""

    def __init__(self, guide: Guide, *, secure_cookies: bool = False, rate_limiter: RateLimiter | None = None,
                 retention_days: int | None = None):
        self.guide = guide
        self.engine = guide.engine
        self.store = guide.store
        self.secure_cookies = secure_cookies
        self.limiter = rate_limiter or RateLimiter()
        self.retention_days = retention_days
        self.navigable = self._navigable()

    def _navigable(self) -> set[str]:
        """Screens a link may open: those some button opens with ``go``, a chat command or
        a question opens (admin, internal and channel-filled screens such as the statistics or
        the pre-check result are not)."""
        targets = {c.route for c in commands.COMMANDS if c.route}
        targets |= {route.split(":", 1)[0] for route in all_routes(self.engine)}  # what free text can open

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("go"), str):
                    targets.add(node["go"].split(":", 1)[0].strip())
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(self.engine.screens)
        screens = self.engine.screens
        return {t for t in targets if t in screens and not screens[t].get("admin") and not screens[t].get("internal")}

    def can_open(self, route: str) -> bool:
        m = ROUTE_RE.match(route or "")
        return bool(m) and m["screen"] in self.navigable

    def buttons(self, screen: Screen) -> list[list[WebButton]]:
        rows = []
        for row in screen.buttons:
            out = []
            for b in row:
                if b.data:
                    parsed = parse_callback(b.data)
                    if parsed and parsed[0] == "go" and self.can_open(parsed[1]):
                        out.append(WebButton("go", b.label, href=route_href(parsed[1])))
                    else:
                        out.append(WebButton("do", b.label, data=b.data))
                elif b.url and b.url.lower().startswith(("https://", "http://")):
                    out.append(WebButton("url", b.label, href=b.url))
                elif b.copy_text:
                    out.append(WebButton("copy", b.label, copy=b.copy_text))
                # switch_inline_query: Telegram's inline mode has no web equivalent
            if out:
                rows.append(out)
        return rows

    def expire(self, now=None) -> list[int]:
        """Retention for web users (who cannot be warned: any visit keeps the data)."""
        if not self.retention_days:
            return []
        now = now or self.engine.clock()
        _, to_delete = retention_due(self.store, now, self.retention_days)
        gone = [uid for uid in to_delete if sessions.is_web_user(uid)]
        for uid in gone:
            self.store.forget_user(uid)
        if gone:
            log.info("retention: deleted the data of %d web session(s)", len(gone))
        return gone


class Base(tornado.web.RequestHandler):
    web: Web

    def initialize(self, web: Web) -> None:
        self.web = web
        self.engine = web.engine
        self.user_id: int | None = None
        self.lang = i18n.DEFAULT_LANGUAGE
        self.toast: str | None = None

    # -- every response ------------------------------------------------------------------
    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/html; charset=utf-8")

    def client_ip(self) -> str:
        peer = self.request.remote_ip or ""
        if _trusted_proxy(peer):  # a reverse proxy on this host or network says who the client is
            forwarded = self.request.headers.get("X-Real-Ip") or self.request.headers.get("X-Forwarded-For", "").split(",")[-1]
            if forwarded.strip():
                return forwarded.strip()
        return peer

    def is_https(self) -> bool:
        if self.request.protocol == "https":
            return True
        return _trusted_proxy(self.request.remote_ip or "") and self.request.headers.get("X-Forwarded-Proto", "") == "https"

    def cookie_flags(self) -> dict[str, Any]:
        return {"httponly": True, "samesite": "Lax", "secure": self.web.secure_cookies or self.is_https(), "path": "/"}

    def prepare(self) -> None:
        self.lang = self._language()
        if not self.web.limiter.allow(self.client_ip()):
            raise tornado.web.HTTPError(429)
        token = self.get_signed_cookie(SESSION_COOKIE, max_age_days=self.web.retention_days or 365)
        if token is not None:
            self.user_id = sessions.lookup(self.web.store, token.decode("ascii", "replace"))
            if self.user_id is None:  # deleted (delete my data, retention) or from another database
                self.clear_cookie(SESSION_COOKIE, path="/")
            else:
                stored = self.web.store.touch_user(self.user_id, self.lang)
                self.lang = self.web.guide.language(self.user_id, self.lang, stored=stored)
        flash = self.get_signed_cookie(FLASH_COOKIE, max_age_days=1)
        if flash is not None and self.request.method == "GET":
            self.toast = flash.decode("utf-8", "replace")[:200]
            self.clear_cookie(FLASH_COOKIE, path="/")

    def _language(self) -> str:
        chosen = self.get_cookie(LANG_COOKIE)
        if chosen in i18n.LANGUAGES:
            return chosen
        return accept_language(self.request.headers.get("Accept-Language")) or i18n.DEFAULT_LANGUAGE

    def ctx(self, personal: bool = False) -> Context:
        """Who is asking. A visitor without a session reads personal screens as a user id
        that never has data (``ANONYMOUS``); everything else is asked without a user."""
        if self.user_id is None and personal:
            return Context(user_id=sessions.ANONYMOUS, lang=self.lang)
        return Context(user_id=self.user_id, lang=self.lang)

    def ensure_session(self) -> None:
        """A session for someone about to change something (created on the first change)."""
        if self.user_id is not None:
            return
        token, self.user_id = sessions.create(self.web.store, self.lang)
        self.set_signed_cookie(SESSION_COOKIE, token, expires_days=self.web.retention_days or 365, **self.cookie_flags())

    def _(self, message: str) -> str:
        return i18n.translations(self.lang).gettext(message)

    # -- pages -------------------------------------------------------------------------------
    def page(self, screen: Screen, *, status: int = 200, question: str = "", upload: bool = False) -> None:
        awaiting = ""
        if screen.awaiting and self.user_id is not None:
            awaiting = self.create_signed_value("awaiting", f"{self.user_id}|{screen.awaiting}").decode("ascii")
        env = environment(self.lang)
        title = self._(TITLE)
        first = screen.text.strip().splitlines()[0] if screen.text.strip() else ""
        if screen.route != "main" and first:
            title = f"{first[:60]} · {title}"
        html = env.get_template("page.html").render(
            html_lang={"zh": "zh-CN"}.get(self.lang, self.lang), lang=self.lang, title=title, style=STYLE, script=SCRIPT,
            xsrf=self.xsrf_form_html(), here=self.request.uri if self.request.method == "GET" else route_href(screen.route),
            languages=[(c, i18n.LANGUAGE_NAMES[c]) for c in i18n.LANGUAGES], toast=screen.toast or self.toast,
            body=to_web(screen.html), rows=self.web.buttons(screen), awaiting=awaiting, max_text=MAX_TEXT,
            question=question, max_question=MAX_QUESTION, upload=upload,
            figure=screen.photo.svg() if screen.photo is not None else "",  # inline SVG: its text selectable
        )
        self.set_status(status)
        self.finish(html)

    def main_with(self, notice: str, status: int) -> None:
        self.page(self.engine.render("main", self.ctx(), notice=self._(notice)), status=status)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {403: CSRF_REFUSED, 413: TOO_BIG, 429: TOO_MANY, 404: NOT_FOUND}
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, StoreError):  # busy, read-only or broken database: nothing was saved
            message, status_code = BUSY, 503
            self.set_header("Retry-After", "5")
        else:
            message = messages.get(status_code, ERROR)
        self.clear_header("Content-Disposition")
        if status_code == 429:
            self.set_header("Retry-After", "30")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        try:
            self.main_with(message, status_code)
        except Exception:  # noqa: BLE001 - the database may be what failed: a page without it
            log.exception("error page failed")
            self.finish(f"<!doctype html><meta charset=utf-8><p>{self._(message)}</p>")

    def log_exception(self, typ, value, tb) -> None:
        if not isinstance(value, tornado.web.HTTPError):  # refusals are in the access line
            log.error("%s %s: %s: %s", self.request.method, self.request.path, typ.__name__, value, exc_info=(typ, value, tb))

    # -- after a change: Post/Redirect/Get where the result is just a screen -------------------
    def result(self, screen: Screen) -> None:
        if self.user_id is not None and not sessions.exists(self.web.store, self.user_id):
            # the data was deleted (delete my data): the session is gone too
            self.clear_cookie(SESSION_COOKIE, path="/")
            self.user_id = None
        elif self.user_id is not None:  # the action may have changed the language
            self.lang = self.web.guide.language(self.user_id, self.lang)
        if screen.document:
            name, content = screen.document
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
            self.finish(content)
            return
        if not screen.awaiting and not screen.stale and self.web.can_open(screen.route):
            try:
                again = self.engine.render(screen.route, self.ctx())
            except NotFound:
                again = None
            if again is not None and again.html == screen.html:
                if screen.toast:
                    self.set_signed_cookie(FLASH_COOKIE, screen.toast, expires_days=None, **self.cookie_flags())
                self.redirect(route_href(screen.route), status=303)
                return
        self.page(screen)


class MainHandler(Base):
    def get(self) -> None:
        self.page(self.engine.start(self.ctx()))


class ScreenHandler(Base):
    def get(self, route: str) -> None:
        if route == "main":
            self.redirect("/", status=301)
            return
        if not self.web.can_open(route):
            raise tornado.web.HTTPError(404)
        personal = bool(self.engine.screens[route.split(":", 1)[0]].get("personal"))
        try:
            screen = self.engine.render(route, self.ctx(personal))
        except NotFound:
            raise tornado.web.HTTPError(404) from None
        if route.startswith("topic:"):
            self.engine.emit("view", self.ctx(), route)  # counted like a view in Telegram
        self.page(screen)


class TopicHandler(Base):
    """Deep links: /t/<topic> opens the answer (the web's ``/start <topic>``)."""

    def get(self, topic: str) -> None:
        known = topic in self.engine.kb.businesses
        # anything else is answered like /start with that payload: never as someone else's data
        self.page(self.engine.start(self.ctx(personal=not known), topic), status=200 if known else 404)


class AskHandler(Base):
    def get(self) -> None:
        question = self.get_query_argument("q", "")[:MAX_QUESTION].strip()
        if not question:
            self.redirect("/", status=303)
            return
        self.page(self.engine.ask(self.ctx(), question), question=question)


class ActionHandler(Base):
    """A button that changes something (tick, reset, language, delete my data …)."""

    def post(self) -> None:
        data = self.get_body_argument("d", "")[:256]
        self.ensure_session()
        self.result(self.engine.handle(self.ctx(), data))


class ReplyHandler(Base):
    """Free text answering a question a screen asked (``Screen.awaiting``)."""

    def post(self) -> None:
        text = self.get_body_argument("text", "")[:MAX_TEXT]
        signed = self.get_body_argument("w", "")
        value = self.get_signed_cookie("awaiting", signed, max_age_days=1) if signed else None  # verifies a value, not a cookie
        owner, _, awaiting = (value or b"").decode("utf-8", "replace").partition("|")
        if self.user_id is None or owner != str(self.user_id) or not awaiting:
            self.result(self.engine.ask(self.ctx(), text))  # a stale or foreign form: answered as a question
            return
        self.result(self.engine.reply(self.ctx(), awaiting, text))


class LanguageHandler(Base):
    def post(self) -> None:
        lang = self.get_body_argument("lang", "")
        back = self.get_body_argument("next", "/")
        if lang in i18n.LANGUAGES:
            self.set_cookie(LANG_COOKIE, lang, expires_days=365, **self.cookie_flags())
            if self.user_id is not None:
                self.web.store.set_language(self.user_id, lang)
        if not back.startswith("/") or back.startswith("//") or "\\" in back or any(ord(c) < 32 for c in back):
            back = "/"
        self.redirect(back, status=303)


@tornado.web.stream_request_body
class CheckHandler(Base):
    """The upload pre-check: the file is read into memory, checked, and dropped."""

    def prepare(self) -> None:
        super().prepare()
        self.chunks: list[bytes] = []
        self.received = 0
        self.too_big = False
        if self.request.method == "POST":
            declared = int(self.request.headers.get("Content-Length") or 0)
            if declared > MAX_UPLOAD:
                raise tornado.web.HTTPError(413)
            self.request.connection.set_max_body_size(MAX_UPLOAD)

    def data_received(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > MAX_UPLOAD:
            self.too_big = True
            self.chunks = []
        else:
            self.chunks.append(chunk)

    def get(self) -> None:
        screen = Screen(route="check", html=f"<b>📎 {self._(UPLOAD_INTRO)}</b>")
        self.page(screen, upload=True)

    def post(self) -> None:
        if self.too_big:
            raise tornado.web.HTTPError(413)
        body = b"".join(self.chunks)
        self.chunks = []
        args: dict[str, list[bytes]] = {}
        files: dict[str, list[tornado.httputil.HTTPFile]] = {}
        tornado.httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), body, args, files)
        del body
        self.request.body_arguments = args
        for name, values in args.items():
            self.request.arguments.setdefault(name, []).extend(values)
        tornado.web.RequestHandler.check_xsrf_cookie(self)  # now that the form is parsed
        upload = (files.get("file") or [None])[0]
        if upload is None:
            self.redirect("/check", status=303)
            return
        data = upload.body
        screen = check_file(self.web.guide, self.ctx(), data, upload.filename or None, len(data))
        del data, upload, files
        self.page(screen, upload=True)

    def check_xsrf_cookie(self) -> None:
        """Called by tornado before the streamed body arrives: the token is checked in post()."""


class FaviconHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Cache-Control", "public, max-age=86400")
        self.set_status(204)


class NotFoundHandler(Base):
    def prepare(self) -> None:
        super().prepare()
        raise tornado.web.HTTPError(404)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """One access-log line without the query string (questions are not logged)."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    log.log(level, "%d %s %s %.1fms", status, handler.request.method, handler.request.path, 1000 * handler.request.request_time())


def make_app(guide: Guide, *, secure_cookies: bool = False, rate_limiter: RateLimiter | None = None,
             retention_days: int | None = None, debug: bool = False) -> tornado.web.Application:
    """The tornado application serving ``guide`` (which has a store: ``build_web_guide``)."""
    web = Web(guide, secure_cookies=secure_cookies, rate_limiter=rate_limiter, retention_days=retention_days)
    kw = {"web": web}
    app = tornado.web.Application(
        [
            (r"/", MainHandler, kw),
            (r"/s/(.+)", ScreenHandler, kw),
            (r"/t/([^/]+)", TopicHandler, kw),
            (r"/ask", AskHandler, kw),
            (r"/a", ActionHandler, kw),
            (r"/reply", ReplyHandler, kw),
            (r"/lang", LanguageHandler, kw),
            (r"/check", CheckHandler, kw),
            (r"/favicon.ico", FaviconHandler),
        ],
        default_handler_class=NotFoundHandler, default_handler_args=kw,
        cookie_secret=sessions.cookie_secret(web.store),
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax", "secure": secure_cookies, "path": "/"},
        compress_response=True,
        log_function=_log_request,
        debug=debug,
    )
    app.web = web  # type: ignore[attr-defined]
    return app


# -- running it -------------------------------------------------------------------------------
RETENTION_EVERY_MS = 6 * 3600 * 1000


def build_web_guide(settings: Any) -> Guide:
    """The application object for the web: every feature but reminders (a web page cannot send a
    message later) and inline mode (Telegram's)."""
    from dialogs.guide import build_guide
    from knowledge import load_knowledge

    return build_guide(settings.db_path, load_knowledge(settings.knowledge_dir), settings=settings, reminders=False)


def start(settings: Any, *, guide: Guide | None = None, listen: str | None = None, port: int | None = None,
          rate_limiter: RateLimiter | None = None):
    """Listen on the running event loop; returns the tornado HTTPServer."""
    import tornado.httpserver
    import tornado.ioloop

    guide = guide or build_web_guide(settings)
    app = make_app(guide, secure_cookies=(settings.web_url or "").lower().startswith("https://"),
                   retention_days=settings.retention_days, rate_limiter=rate_limiter)
    server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY, max_header_size=16 * 1024,
                                           idle_connection_timeout=60, body_timeout=120)
    listen = listen or settings.web_listen
    port = port or settings.web_port
    server.listen(port, address=listen)
    web: Web = app.web  # type: ignore[attr-defined]
    web.expire()
    callback = tornado.ioloop.PeriodicCallback(web.expire, RETENTION_EVERY_MS)
    callback.start()
    server.retention = callback  # type: ignore[attr-defined]
    log.info("web pages served on http://%s:%s/", listen, port)
    return server


def serve(settings: Any, *, listen: str | None = None, port: int | None = None) -> None:
    """``eport-guide web``: serve until SIGTERM or Ctrl-C."""
    import asyncio
    import signal

    guide = build_web_guide(settings)

    async def main() -> None:
        server = start(settings, guide=guide, listen=listen, port=port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.retention.stop()
        server.stop()
        await server.close_all_connections()
        log.info("web server stopped")

    asyncio.run(main())


def attach(application: Any, settings: Any) -> None:
    """Serve the web pages from the bot's process too (``eport-guide run --web``): started
    with the bot, stopped with it; an admin's /reload refreshes both."""
    previous_init, previous_stop = application.post_init, application.post_stop
    guide = build_web_guide(settings)
    bot_guide: Guide | None = application.bot_data.get("guide")
    if bot_guide is not None:  # the bot's /reload: the pages follow with the same knowledge

        def on_event(kind: str, ctx: Any, value: str) -> None:
            if kind == "reloaded":
                guide.engine.reload(bot_guide.kb)

        bot_guide.engine.extend(listeners=[on_event])

    async def post_init(app: Any) -> None:
        if previous_init is not None:
            await previous_init(app)
        app.bot_data["web_server"] = start(settings, guide=guide)

    async def post_stop(app: Any) -> None:
        server = app.bot_data.pop("web_server", None)
        if server is not None:
            server.retention.stop()
            server.stop()
            await server.close_all_connections()
        guide.close()
        if previous_stop is not None:
            await previous_stop(app)

    application.post_init = post_init
    application.post_stop = post_stop
