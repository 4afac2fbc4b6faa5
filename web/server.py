"""The web channel (tornado): every screen of the engine as a server-rendered page.

Buttons become links (navigation, ``/s/<route>``) or small POST forms (changes, ``/a``);
the question box asks the same answerer (``/ask``); ``/t/<topic>`` is the deep link of a
topic; ``/check`` runs the upload pre-check on a file held in memory only. A visitor gets a
session (a random token in a signed, HttpOnly, SameSite cookie, see web/sessions.py) the
first time they change something, e.g. tick a checklist item.

Pages are drawn from the engine's screen model by web templates of their own (web/render.py),
once per request. Safe by default: autoescaped templates, CSRF tokens on every form (bound to the session, valid a day), a Content-Security-Policy allowing only
the page's own hashed style and copy-button script, ``nosniff``, ``no-referrer``, no
framing, small request bodies, and a per-client rate limit.

Bounded work per request: the upload's CSRF token travels in the query string (the form's
action) or a header and is checked before a byte of the body is read, the body is limited
to what a pre-check needs (``MAX_UPLOAD``) and at most ``UPLOADS_AT_ONCE`` are received at
once; the pre-check and the first build of the free-text matcher run off the event loop;
the server accepts at most ``max_connections`` connections (below the process's file limit)
and refuses the rest cleanly. Clients are told apart by the peer address, or by the
``X-Forwarded-For`` entry the operator's proxies vouch for (``EPORT_WEB_TRUSTED_PROXIES``
hops), IPv6 clients per /64.
"""

from __future__ import annotations

import asyncio
import base64
import json
import errno
import gc
import hashlib
import hmac
import ipaddress
import logging
import re
import resource
import secrets
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from html import escape

import markupsafe
import tornado.httpserver
import tornado.httputil
import tornado.ioloop
import tornado.iostream
import tornado.netutil
import tornado.web

from dialogs import commands, i18n
from dialogs.commands import N_
from dialogs.engine import (
    MAX_TEXT,
    Context,
    NotFound,
    Screen,
    callback_data,
    clean_text,
    parse_callback,
)
from dialogs.routes import Route, all_routes, parse_or_none, screen_of
from dialogs import uploads
from dialogs.guide import Guide
from dialogs.pictures import Picture, copy_materials, picture, svgs_in_one_page
from dialogs.render import labelled
from dialogs.store import WAL_CHECKPOINT_PAGES, StoreError

from . import sessions
from .render import Kept, Renderer, is_phone, route_href, tel

log = logging.getLogger("eport_guide.web")

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLE = (TEMPLATES / "style.css").read_text(encoding="utf-8")
SCRIPT = (TEMPLATES / "copy.js").read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


CSP = (
    f"default-src 'none'; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"  # an answer to the page's script: data, never a document
JSON_TYPE = "application/json; charset=utf-8"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")  # what tornado's get_argument turns into spaces
SESSION_COOKIE = "eg_session"
LANG_COOKIE = "eg_lang"
FLASH_COOKIE = "eg_flash"
BROWSER_COOKIE = "eg_csrf"  # a random value the CSRF tokens of a visitor without a session are bound to
HOST_PREFIX = "__Host-"  # over HTTPS: the cookie is the host's own (Secure, Path=/, no Domain)
MAX_BODY = 64 * 1024  # every request but the upload
# The pre-check answers "at most 3 MB" (the knowledge's rule): a file of up to 10 MB (a phone photo)
# is still checked and told its size; a bigger body is refused (413) before it is read.
MAX_UPLOAD = 10 * 1024 * 1024 + 64 * 1024  # UPLOAD_TOO_BIG says "10MB"
UPLOADS_AT_ONCE = 4  # upload bodies being received at once; beyond: 503 (memory stays bounded)
MAX_QUESTION = 500
MAX_URL = 16 * 1024  # longer: 414, a page saying so
# tornado drops a connection whose request line and headers exceed this without answering: room for a
# 10,000-character question in any script (9 bytes a percent-encoded Chinese character) to get the 414 page
MAX_HEADER = 128 * 1024
SAFE_NEXT = re.compile(r"^/(?![/\\])[\x21-\x7e]{0,2000}$")
CSRF_MAX_AGE_S = 24 * 3600  # a form older than a day is refused ("the form has expired")
CSRF_REUSE_S = 3600  # a token this young, just checked, is given back with the answer rather than a new one
CSRF_VERIFIED = 4096  # tokens remembered as verified (Web.csrf_verified), and tokens issued (Web.csrf_issued)
CSRF_REISSUE_S = 60  # a visitor's pages within a minute carry the same token (one HMAC a minute, not one a page)
TO_JSON = json.JSONEncoder(ensure_ascii=False).encode  # the script's answers (one encoder, not one per answer)
# answer pages (the same for everyone) stay in the browser's own cache this long: they reopen at the counter
# with bad signal. Well within the CSRF token's day, so a page reopened from the cache still has a valid token;
# ``Vary: Cookie`` makes the browser fetch a fresh copy whenever the cookies its token is bound to change
# (a session started, deleted, the language switched).
ANSWER_MAX_AGE_S = 12 * 3600
ANSWER_CACHE = f"private, max-age={ANSWER_MAX_AGE_S}"
MAX_CONNECTIONS = 512  # open connections; fewer when the process may open fewer files


TITLE = N_("电子口岸制发卡业务指南")
# the switch at the top: a short label beside the site's name on a phone's width, the full name for screen readers
SHORT_NAMES = {"zh": "中文", "ru": "Рус", "en": "Eng"}
LANGUAGE_BUTTONS = [(c, i18n.LANGUAGE_NAMES[c], SHORT_NAMES.get(c, c)) for c in i18n.LANGUAGES]
# pages with a share button (the Web Share API, or copying the link)
TOKEN_MARK = "\x00csrf\x00"  # where a kept page's CSRF token goes (no page's text has a NUL: clean_text)
PAGES_KEPT = 1024
SHARE_SCREENS = {"topic", "fact", "answer", "city", "offices", "material"}
NOT_FOUND = N_("页面不存在，已为您打开主菜单。")
CSRF_REFUSED = N_("表单已过期或来源不明，未作任何更改。请返回页面重试。")
TOO_MANY = N_("请求过于频繁，请稍后再试。")
TOO_BIG = N_("请求过大，未作任何更改。")
BUSY = N_("系统繁忙，刚才的操作没有保存，请稍后再试一次。")
ERROR = N_("出错了，请稍后再试。")
UPLOAD_TOO_BIG = N_("文件超过 10MB，网页上无法检查，未作任何更改。请先压缩或拆分后再检查。")
URL_TOO_LONG = N_("网址过长，无法打开。请从主菜单进入，或在上方输入不超过 {n} 个字的问题。")
QUESTION_TOO_LONG = N_("问题太长：请不超过 {n} 个字。下面是前 {n} 个字，可以删减后再提问。")
CALL = N_("📞 拨打热线")
# answer pages: they carry the big call button even where the text does not show the number (the ask-back)
CALL_SCREENS = {"topic", "fact", "answer", "answers", "ask_business", "stuck", "suggest", "help"}
UPLOAD_INTRO = N_("选择一个文件，检查网上办理系统能否接受（格式和大小）。文件只在内存中检查，不会保存。")


# -- language -------------------------------------------------------------------------------
@lru_cache(maxsize=256)  # a browser sends the same header with every request: parsed once per distinct header
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


# -- rate limit -----------------------------------------------------------------------------
class RateLimiter:
    """A token bucket per client address: ``burst`` requests at once, ``rate`` per second after."""

    def __init__(self, rate: float = 2.0, burst: int = 60, max_clients: int = 20000):
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str, now: float | None = None) -> bool:
        """Whether this client may make one more request now (taking a token); False means answer 429.
        Forgets full buckets when more than ``max_clients`` are kept."""
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


@lru_cache(maxsize=4096)  # a client sends many requests: its address is parsed once
def bucket(address: str) -> str | None:
    """The rate-limit bucket of an address: the IPv4 address, or the IPv6 /64 (one subscriber's
    network: a client picks any address inside it); None if it is not an address."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_address(peer: str, forwarded: list[str], trusted_hops: int) -> str:
    """Who the client is. No trusted proxy (0 hops): the peer. Behind ``trusted_hops`` proxies that
    each append the address they were connected from to ``X-Forwarded-For``: the entry the
    outermost trusted proxy appended (``trusted_hops`` from the right). Entries further left were
    written by the client and are never used (nor is ``X-Real-IP``, which any client can send)."""
    address = peer
    if trusted_hops > 0:
        chain = [part.strip() for header in forwarded for part in header.split(",") if part.strip()]
        if chain:
            address = chain[-trusted_hops] if len(chain) >= trusted_hops else chain[0]
    return bucket(address) or bucket(peer) or peer


# -- buttons ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WebButton:
    """A button as the web draws it: a link (go, url), a form posting to /a (do), a copy, share or print button."""

    kind: str  # go, do, url, copy
    label: str
    href: str = ""
    data: str = ""
    copy: str = ""


# actions the web shows otherwise: ticks and 不适用 are the checklist's checkboxes (one form)
FORM_ACTIONS = {"tick", "na", "x"}
# actions that change neither the session's existence nor its language (see Base.result)
SETTLED_ACTIONS = {
    "tick",
    "na",
    "x",
    "t",
    "checklist_open",
    "checklist_switch",
    "checklist_reset",
    "checklist_reset_confirm",
    "feedback",
    "fb",
    "go",
    "g",
    "aspect",
}
# what the checklist page's script sends (``Checklists.mark``: stored, only the progress back)
SCRIPT_MARKS = {"tick", "na"}
PRINT = N_("🖨 打印 / 保存为 PDF")
SHARE = N_("📤 分享")


class Web:
    """What every handler shares: the application object (its engine and store), the limits."""

    def __init__(
        self,
        guide: Guide,
        *,
        secure_cookies: bool = False,
        rate_limiter: RateLimiter | None = None,
        retention_days: int | None = None,
        trusted_proxies: int = 0,
    ):
        self.guide = guide
        self.engine = guide.engine
        self.store = guide.store
        self.secure_cookies = secure_cookies
        self.limiter = rate_limiter or RateLimiter()
        self.retention_days = retention_days
        self.trusted_proxies = trusted_proxies
        self.uploads = 0  # upload bodies being received
        self.renderer = Renderer()
        self.signed = SignedValues()  # verified signed cookies (the session's, the flash's)
        self.checkpoints = Checkpoints(self.store)  # the WAL copied off the loop (started by start())
        self.csrf_key = b""  # set by make_app from the cookie secret
        # CSRF tokens whose HMAC verified, (binding, token) → None: a visitor's next posts with the same token
        # skip the HMAC (its age is still checked every time); at most CSRF_VERIFIED entries, then all forgotten
        self.csrf_verified: dict[tuple[str, str], None] = {}
        # the token last issued for a binding, binding → (when, token): given again for CSRF_REISSUE_S (the same
        # visitor, the same validity; a day's age is counted from its issue); at most CSRF_VERIFIED, then all forgotten
        self.csrf_issued: dict[str, tuple[int, str]] = {}
        self.pages: dict[tuple, tuple[Screen, Kept]] = {}  # drawn pages of kept screens (Base.page)
        self.navigable = self._navigable()

    def _navigable(self) -> set[str]:
        """Screens a link may open: those some button opens with ``go``, a chat command or
        a question opens (admin, internal and channel-filled screens such as the statistics or
        the pre-check result are not)."""
        targets = {c.route for c in commands.COMMANDS if c.route}
        targets |= {Route.parse(route).screen for route in all_routes(self.engine)}  # what free text can open

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("go"), str):
                    targets.add(screen_of(node["go"]))
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(self.engine.screens)
        screens = self.engine.screens
        return {t for t in targets if t in screens and not screens[t].get("admin") and not screens[t].get("internal")}

    def can_open(self, route: str) -> bool:
        """Whether a route may be opened by its address (/s/<route>): a screen a button, command or
        question opens, never an admin or internal one."""
        parsed = parse_or_none(route)
        return parsed is not None and parsed.screen in self.navigable

    def buttons(self, screen: Screen, gettext: Any) -> list[list[WebButton]]:
        """A screen's buttons as the web shows them: links for screens it may open, forms for actions,
        print instead of the text export; the checklist's ticks and a hotline's copy button are left to the page."""
        checklist = screen.route.startswith(("checklist:", "checklist_part:"))
        rows = []
        for row in screen.buttons:
            out = []
            for b in row:
                if b.data:
                    parsed = parse_callback(b.data)
                    action, args = parsed or ("", "")
                    if action in FORM_ACTIONS or (checklist and action == "go" and args.startswith("checklist")):
                        continue  # the checklist's own form, on this very page
                    if action == "checklist_export":  # the printable page instead of a text file
                        out.append(WebButton("print", gettext(PRINT), href="/print/" + quote(args, safe="")))
                    elif action == "go" and self.can_open(args):
                        out.append(WebButton("go", b.label, href=route_href(args)))
                    else:
                        out.append(WebButton("do", b.label, data=b.data))
                elif b.switch_inline_query is not None:  # Telegram's share: the Web Share API, or copying the link
                    out.append(WebButton("share", gettext(SHARE), href=route_href(screen.route), copy=b.switch_inline_query))
                elif b.url and b.url.lower().startswith(("https://", "http://")):
                    out.append(WebButton("url", b.label, href=b.url))
                elif b.copy_text and not is_phone(b.copy_text):  # a phone number: the page's call button instead
                    out.append(WebButton("copy", b.label, copy=b.copy_text))
            if out:
                rows.append(out)
        return rows

    def hotline(self) -> list[str]:
        """The hotline's numbers as the knowledge lists them ("0470-2299089", "0470-2299090")."""
        kb = self.engine.kb
        fact = kb.facts.get("hotline")
        office = kb.offices.get(fact.office) if fact is not None and fact.office else None
        return list(office.phones) if office is not None else []

    def call(self, screen: Screen) -> tuple[str, str]:
        """(tel: link, number) of the page's call button, or ("", ""): on answer pages and on any page
        that shows the hotline (in its text or as a number to copy)."""
        phones = self.hotline()
        if not phones:
            return "", ""
        shows = any(p in screen.text for p in phones) or any(b.copy_text and is_phone(b.copy_text) for b in screen.all_buttons())
        if shows or screen_of(screen.route) in CALL_SCREENS:
            return tel(phones[0]), phones[0]
        return "", ""

    def expire(self, now=None) -> list[int]:
        """Retention (the routine every channel shares): old questions and 👎 reasons, and the data of
        inactive web sessions (their users cannot be warned: any visit keeps the data)."""
        if not self.retention_days or self.store is None:
            return []
        now = now or self.engine.clock()
        gone = self.guide.expire(now, self.retention_days, whose=sessions.is_web_user)
        if gone:
            log.info("retention: deleted the data of %d web session(s)", len(gone))
        return gone


def csrf_key(cookie_secret: str) -> bytes:
    """The key of the CSRF tokens' HMAC, derived from the cookie secret (once, when the application is made)."""
    return hashlib.sha256(b"csrf|" + cookie_secret.encode()).digest()


class SignedValues:
    """Signed cookie values already verified (``tornado.web.decode_signed_value``), so a visitor's every
    request does not redo the HMAC: the exact cookie text (signature included) → its value, kept at most
    ``ttl`` seconds (a cookie past its age limit is refused at most that much later) and for at most
    ``size`` cookies (then all are forgotten). Only values that verified are kept: a forged or altered
    cookie is checked, and refused, every time."""

    def __init__(self, size: int = 4096, ttl: float = 60.0):
        self.size, self.ttl = size, ttl
        self.known: dict[tuple[str, str, float], tuple[float, bytes]] = {}

    def get(self, name: str, raw: str, max_age_days: float, verify: Any, now: float | None = None) -> bytes | None:
        """The value of the signed cookie ``name`` whose text is ``raw``: ``verify()`` (the tornado check)
        once per ``ttl``, None when it does not verify."""
        now = time.monotonic() if now is None else now
        key = (name, raw, max_age_days)
        hit = self.known.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = verify()
        if value is None:
            self.known.pop(key, None)
            return None
        if len(self.known) >= self.size:
            self.known.clear()
        self.known[key] = (now, value)
        return value


class Base(tornado.web.RequestHandler):
    """What every page handler does: the security headers, cookies of the right scheme, the visitor's
    session and CSRF token, the language, and drawing a screen as a page."""

    web: Web
    # a request's state, set as it is resolved; the class gives each request its (immutable) starting values
    user_id: int | None = None
    lang: str = i18n.DEFAULT_LANGUAGE
    toast: str | None = None
    session_token: str | None = None  # the visitor's valid session (resolved once per request)
    _resolved = False
    _browser: str | None = None
    _browser_lang: str | None = None
    _cookies: dict[str, str] | None = None
    _secure: bool | None = None

    def initialize(self, web: Web) -> None:
        self.web = web
        self.engine = web.engine
        self._csrf: dict[str, str] = {}  # binding → this page's token (per request: never shared)

    # -- every response ------------------------------------------------------------------
    def set_default_headers(self) -> None:
        self.page_headers()

    def page_headers(self) -> None:
        """The headers of a page: its content security policy (only this page's own style and script, no
        framing), no sniffing, no referrer, not stored (answer pages relax that: ``cache_privately``)."""
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/html; charset=utf-8")

    def compute_etag(self) -> None:
        """No ETag: the pages are not stored (no-store), and hashing each body costs every request."""
        return None

    def client_ip(self) -> str:
        """The rate-limit bucket of the client (see ``client_address``)."""
        return client_address(
            self.request.remote_ip or "", self.request.headers.get_list("X-Forwarded-For"), self.web.trusted_proxies
        )

    def is_https(self) -> bool:
        """Whether the visitor came over HTTPS: directly, or as the outermost trusted proxy says
        (X-Forwarded-Proto is believed only behind trusted proxies)."""
        if self.request.protocol == "https":
            return True
        if self.web.trusted_proxies <= 0:  # nobody to vouch for the scheme
            return False
        proto = ",".join(self.request.headers.get_list("X-Forwarded-Proto")).split(",")[-1].strip().lower()
        return proto == "https"

    def secure(self) -> bool:
        """Whether cookies are sent Secure (and __Host- named): forced by the operator or over HTTPS
        (decided once per request)."""
        if self._secure is None:
            self._secure = self.web.secure_cookies or self.is_https()
        return self._secure

    def cookie_name(self, base: str) -> str:
        """Over HTTPS the ``__Host-`` name: a browser accepts it only Secure, for this host, Path=/."""
        return HOST_PREFIX + base if self.secure() else base

    def cookie_flags(self) -> dict[str, Any]:
        """The flags every cookie gets: HttpOnly, SameSite=Lax, Path=/, Secure when the request is secure."""
        return {"httponly": True, "samesite": "Lax", "secure": self.secure(), "path": "/"}

    def cookies(self) -> dict[str, str]:
        """The request's cookies, name → value (the Cookie header parsed once per request by tornado's
        ``parse_cookie``; a malformed header counts as no cookies)."""
        if self._cookies is None:
            header = self.request.headers.get("Cookie")
            try:
                self._cookies = tornado.httputil.parse_cookie(header) if header else {}
            except Exception:  # noqa: BLE001 - as tornado's own reading of cookies: none
                self._cookies = {}
        return self._cookies

    def read_cookie(self, base: str, *, signed: bool = False, max_age_days: float = 31) -> str | None:
        """A cookie by its name of this scheme only: over HTTPS a plain-named cookie (which another
        subdomain or a plain-http page could have planted, e.g. to fix a session) is ignored. A signed
        cookie's signature and age are checked (by tornado), its value kept verified for a minute."""
        name = self.cookie_name(base)
        raw = self.cookies().get(name)
        if not raw:
            return None
        if signed:
            value = self.web.signed.get(
                name, raw, max_age_days, lambda: self.get_signed_cookie(name, value=raw, max_age_days=max_age_days)
            )
            return value.decode("utf-8", "replace") if value is not None else None
        return raw

    def write_cookie(self, base: str, value: str, *, signed: bool = False, expires_days: float | None = None) -> None:
        """Sets a cookie under this scheme's name (``__Host-`` over HTTPS), signed if asked, with the common flags."""
        name = self.cookie_name(base)
        if signed:
            self.set_signed_cookie(name, value, expires_days=expires_days, **self.cookie_flags())
        else:
            self.set_cookie(name, value, expires_days=expires_days, **self.cookie_flags())

    def drop_cookie(self, base: str) -> None:
        """Clears a cookie under both its names (plain and ``__Host-``), whichever the browser has."""
        for name in dict.fromkeys((self.cookie_name(base), base)):
            if name in self.cookies():
                self.clear_cookie(name, path="/", secure=name.startswith(HOST_PREFIX))

    def form_value(self, name: str, *, query: bool = True) -> str:
        """A form field's last value as tornado's ``get_argument`` (``query=False``: ``get_body_argument``)
        reads it — the body's, else the query string's; UTF-8 (else 400), control characters as spaces,
        stripped; "" if absent — in one step: the fields every tick reads."""
        values = self.request.body_arguments.get(name) or (self.request.query_arguments.get(name) if query else None)
        if not values:
            return ""
        try:
            value = values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise tornado.web.HTTPError(400, "Invalid unicode in %s: %r" % (name, values[-1][:40])) from None
        return (value if value.isprintable() else CONTROL_CHARS.sub(" ", value)).strip()

    # -- the session and the CSRF tokens bound to it --------------------------------------------
    def resolve_session(self) -> None:
        """The visitor's session, if the signed cookie names one that still exists (once per request)."""
        if self._resolved:
            return
        self._resolved = True
        token = self.read_cookie(SESSION_COOKIE, signed=True, max_age_days=self.web.retention_days or 365)
        if token is None:
            return
        self.user_id = sessions.lookup(self.web.store, token)
        if self.user_id is None:  # deleted (delete my data, retention) or from another database
            self.drop_cookie(SESSION_COOKIE)
        else:
            self.session_token = token

    def _binding(self, create: bool) -> str | None:
        """What a form's token is bound to: the session, or (no session yet) a random per-browser cookie."""
        if self.session_token is not None:
            return "s|" + self.session_token
        browser = self._browser or self.read_cookie(BROWSER_COOKIE)
        if browser is None and create:
            browser = secrets.token_urlsafe(24)
            self.write_cookie(BROWSER_COOKIE, browser)
        self._browser = browser
        return "b|" + browser if browser else None

    def _mac(self, binding: str, issued: str) -> str:
        return hmac.digest(self.web.csrf_key, f"{binding}|{issued}".encode(), "sha256").hex()[:32]

    @property
    def xsrf_token(self) -> bytes:  # type: ignore[override]
        """The token of this page's forms: ``<issued>.<HMAC of the binding and the time>``; valid for
        CSRF_MAX_AGE_S and only with the cookie it is bound to (tornado's own token is not used)."""
        binding = self._binding(create=True) or ""
        if binding not in self._csrf:
            now = int(time.time())
            issued = self.web.csrf_issued.get(binding)
            if issued is None or not 0 <= now - issued[0] <= CSRF_REISSUE_S:
                issued = (now, f"{now}.{self._mac(binding, str(now))}")
                if len(self.web.csrf_issued) >= CSRF_VERIFIED:
                    self.web.csrf_issued.clear()
                self.web.csrf_issued[binding] = issued
            self._csrf[binding] = issued[1]
        return self._csrf[binding].encode("ascii")

    def check_xsrf_cookie(self) -> None:
        """Every POST, before ``prepare`` and before the body of a streamed upload is read: the token
        (form field, query string or X-XSRFToken header) must be one this server issued, less than
        CSRF_MAX_AGE_S ago, for this visitor's session (or, without one, this browser's cookie)."""
        self.lang = self._language()  # a refusal speaks the visitor's language (prepare has not run)
        self.resolve_session()
        token = (
            self.form_value("_xsrf") or self.request.headers.get("X-Xsrftoken") or self.request.headers.get("X-Csrftoken") or ""
        )
        issued, _, mac = token.partition(".")
        binding = self._binding(create=False)
        fresh = issued.isdigit() and len(issued) < 12 and 0 <= time.time() - int(issued) <= CSRF_MAX_AGE_S
        if not (binding and fresh):
            raise tornado.web.HTTPError(403, "the CSRF token is missing, expired or not this visitor's")
        verified = self.web.csrf_verified
        if (binding, token) not in verified:  # the exact token for the exact binding: verified once, then known
            if not hmac.compare_digest(mac.encode(), self._mac(binding, issued).encode()):
                raise tornado.web.HTTPError(403, "the CSRF token is missing, expired or not this visitor's")
            if len(verified) >= CSRF_VERIFIED:
                verified.clear()
            verified[binding, token] = None
        if time.time() - int(issued) <= CSRF_REUSE_S:  # young: the answer's forms keep it (one HMAC fewer)
            self._csrf[binding] = token

    def prepare(self) -> None:
        self.web.checkpoints.request()
        self.lang = self._language()
        if len(self.request.uri or "") > MAX_URL:
            raise tornado.web.HTTPError(414)
        if not self.web.limiter.allow(self.client_ip()):
            raise tornado.web.HTTPError(429)
        self.resolve_session()
        if self.user_id is not None:
            stored = self.web.store.touch_user(self.user_id, self.lang)
            self.lang = self.web.guide.language(self.user_id, self.lang, stored=stored)
        flash = self.read_cookie(FLASH_COOKIE, signed=True, max_age_days=1) if self.request.method == "GET" else None
        if flash is not None:
            self.toast = flash[:200]
            self.drop_cookie(FLASH_COOKIE)

    def _language(self) -> str:
        """The browser's language: the switcher's cookie, else Accept-Language (read once per request)."""
        if self._browser_lang is None:
            chosen = self.read_cookie(LANG_COOKIE)
            self._browser_lang = (
                chosen
                if chosen in i18n.LANGUAGES
                else (accept_language(self.request.headers.get("Accept-Language")) or i18n.DEFAULT_LANGUAGE)
            )
        return self._browser_lang

    def ctx(self, personal: bool = False) -> Context:
        """Who is asking. A visitor without a session reads personal screens as a user id
        that never has data (``ANONYMOUS``); everything else is asked without a user."""
        if self.user_id is None and personal:
            return Context(user_id=sessions.ANONYMOUS, lang=self.lang)
        return Context(user_id=self.user_id, lang=self.lang)

    def act(self, change: Any) -> Screen:
        """Run ``change(ctx)`` (a button, a reply) as this visitor. A visitor without a session gets one
        only if the change stored something for them: junk and stale posts create no user."""
        if self.user_id is not None:
            return change(self.ctx())
        store = self.web.store
        for _ in range(10):
            token, user_id = sessions.draw()
            if not store.has_data(user_id) and not sessions.exists(store, user_id):
                break
        else:
            raise RuntimeError("could not allocate a web session id")
        self.user_id = user_id
        try:
            screen = change(self.ctx())
            kept = not screen.stale and store.has_data(user_id) and sessions.save(store, token, user_id, self.lang)
        except BaseException:
            store.forget_user(user_id)
            self.user_id = None
            raise
        if not kept:
            store.forget_user(user_id)  # e.g. the view counted under the drawn id
            self.user_id = None
            return screen
        self.session_token = token
        self.write_cookie(SESSION_COOKIE, token, signed=True, expires_days=self.web.retention_days or 365)
        return screen

    def _(self, message: str) -> str:
        return i18n.translations(self.lang).gettext(message)

    # -- pages -------------------------------------------------------------------------------
    def page(
        self,
        screen: Screen,
        *,
        status: int = 200,
        question: str = "",
        upload: bool = False,
        template: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """The page of a screen: its model drawn by its web template (one render). A plain GET of a screen
        the engine keeps (the same for everyone, or for everyone at the same state of a checklist) is drawn
        once per language and address and kept with a mark where the visitor's CSRF token goes."""
        awaiting = ""
        if screen.awaiting and self.user_id is not None:
            awaiting = self.create_signed_value("awaiting", f"{self.user_id}|{screen.awaiting}").decode("ascii")
        token = self.xsrf_token.decode("ascii")
        here = self.here(screen)
        key = (id(screen), self.lang, here)
        spec = self.engine.screens.get(screen_of(screen.route), {})
        kept = (
            self.request.method == "GET"
            and status == 200
            and template is None
            and extra is None
            and not question
            and not upload
            and not awaiting
            and not (screen.toast or self.toast)
            and (not spec.get("personal") or screen.route.startswith("checklist:"))
        )  # kept by the engine too
        if kept and not spec.get("personal") and not screen.notice:
            self.cache_privately()  # an answer page: the same for everyone (the engine keeps it)
        if kept:
            hit = self.web.pages.get(key)
            if hit is not None and hit[0] is screen:  # the very screen object (a reload makes new ones)
                self.finish_kept(hit[1], token)
                return
        title = self._(TITLE)
        first = screen.text.strip().splitlines()[0] if screen.text.strip() else ""
        if screen.route != "main" and first:
            title = f"{first[:60]} · {title}"
        call, call_number = self.web.call(screen)
        values: dict[str, Any] = dict(screen.model or {})
        rows = self.web.buttons(screen, self._)
        if screen_of(screen.route) in SHARE_SCREENS:
            rows.append([WebButton("share", self._(SHARE), href=route_href(screen.route), copy=first[:60])])
        if screen.template == "topic.j2" and "business" in values:  # the verbatim rules and Jiangsu's extras, folded
            business = values["business"].id
            values["rules_markup"] = self.engine.render(f"rules:{business}", self.ctx()).html
            values["jiangsu_markup"] = ""
            if values.get("jiangsu_groups") or values.get("jiangsu_facts"):
                values["jiangsu_markup"] = self.engine.render(f"jiangsu:{business}", self.ctx()).html
        values.update(extra or {})
        values.update(
            html_lang={"zh": "zh-CN"}.get(self.lang, self.lang),
            lang=self.lang,
            page_title=title,
            style=STYLE,
            script=SCRIPT,
            xsrf=markupsafe.Markup(f'<input type="hidden" name="_xsrf" value="{TOKEN_MARK if kept else escape(token)}"/>'),
            xsrf_token=token,
            here=here,
            languages=LANGUAGE_BUTTONS,
            toast=screen.toast or self.toast,
            notice=screen.notice or values.get("notice"),
            markup=screen.html,
            call=call,
            call_number=call_number,
            button_rows=rows,
            awaiting=awaiting,
            max_text=MAX_TEXT,
            question=question,
            max_question=MAX_QUESTION,
            upload=upload,
            figure=screen.photo.svg() if screen.photo is not None else "",  # inline SVG: its text selectable
        )
        html = self.web.renderer.render(self.lang, template or self.web.renderer.template_for(screen.template), values)
        if kept:
            if len(self.web.pages) >= PAGES_KEPT:
                self.web.pages.clear()
            self.web.pages[key] = (screen, Kept(html, TOKEN_MARK))
            self.finish_kept(self.web.pages[key][1], token)
            return
        self.set_status(status)
        self.finish(html)

    def cache_privately(self) -> None:
        """An answer page may be kept by the visitor's browser (never by a shared cache: it carries the
        visitor's CSRF token), per language and cookies. Every other page stays ``no-store``."""
        self.set_header("Cache-Control", ANSWER_CACHE)
        self.set_header("Vary", "Accept-Language, Cookie")  # tornado's gzip adds Accept-Encoding

    def finish_kept(self, page: Kept, token: str) -> None:
        """A kept page with this visitor's token: compressed once, only the token compressed per request."""
        if "gzip" in self.request.headers.get("Accept-Encoding", ""):
            self.set_header("Content-Encoding", "gzip")  # tornado's own compression then leaves it alone
            self.finish(page.gzip(token))
        else:
            self.finish(page.text(token))

    def here(self, screen: Screen) -> str:
        """Where the language switch returns to: this address, unless it is not one a redirect may go to."""
        uri = self.request.uri or "/"
        if self.request.method == "GET" and self.get_status() < 400 and SAFE_NEXT.match(uri):
            return uri
        return route_href(screen.route)

    def main_with(self, notice: str, status: int, question: str = "") -> None:
        """The main menu with a notice on top (a question too long, an error page) and the given HTTP status;
        the question, if any, back in the box."""
        notice = self._(notice).replace("{n}", str(MAX_QUESTION))
        self.page(self.engine.render("main", self.ctx(), notice=notice), status=status, question=question)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        messages = {403: CSRF_REFUSED, 413: TOO_BIG, 414: URL_TOO_LONG, 429: TOO_MANY, 404: NOT_FOUND, 503: BUSY}
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, StoreError):  # busy, read-only or broken database: nothing was saved
            message, status_code = BUSY, 503
            self.set_header("Retry-After", "5")
        elif status_code == 413 and isinstance(self, CheckHandler):
            message = UPLOAD_TOO_BIG
        else:
            message = messages.get(status_code, ERROR)
        self.clear_header("Content-Disposition")
        self.page_headers()  # an error is a page, also where data was asked for (``ActionHandler``)
        if status_code == 429:
            self.set_header("Retry-After", "30")
        try:
            self.main_with(message, status_code)
        except Exception:
            log.exception("error page failed")
            self.finish(f"<!doctype html><meta charset=utf-8><p>{self._(message)}</p>")

    def log_exception(self, typ, value, tb) -> None:
        if not isinstance(value, tornado.web.HTTPError):  # refusals are in the access line
            log.error("%s %s: %s: %s", self.request.method, self.request.path, typ.__name__, value, exc_info=(typ, value, tb))

    # -- after a change: Post/Redirect/Get where the result is just a screen -------------------
    def wants_json(self) -> bool:
        """The page's script asks (a tick saved in place): JSON back, not a page."""
        return "application/json" in self.request.headers.get("Accept", "")

    def result(self, screen: Screen, action: str | None = None) -> None:
        """Answer a change from what the action returned: JSON for the page's script, a redirect to the
        screen's address when that address shows this very screen (and does not count a view again),
        else the screen itself. ``action``: the button's action, when known (a tick cannot delete the
        session or change the language: nothing to look up after it)."""
        if action in SETTLED_ACTIONS:
            pass
        elif self.user_id is not None and not sessions.exists(self.web.store, self.user_id):
            # the data was deleted (delete my data): the session is gone too
            self.drop_cookie(SESSION_COOKIE)
            self.user_id = self.session_token = None
        elif self.user_id is not None:  # the action may have changed the language
            self.lang = self.web.guide.language(self.user_id, self.lang)
        if screen.document and screen.route.startswith("checklist:"):  # the text export: the printable page instead
            self.page_headers()  # a way to a page, also where the script asked for data
            self.redirect("/print/" + quote(Route.parse(screen.route).arg or "", safe=""), status=303)
            return
        if self.wants_json():
            self.set_header("Content-Type", JSON_TYPE)
            # a first tick may have started a session: the page's forms need a token bound to it
            self.finish(TO_JSON({**progress(screen, self._), "xsrf": self.xsrf_token.decode("ascii")}))
            return
        if (
            screen.addressable
            and not screen.stale
            and not screen.awaiting
            and not screen.document
            and not screen.route.startswith("topic:")
            and self.web.can_open(screen.route)
        ):
            if screen.toast:
                self.write_cookie(FLASH_COOKIE, screen.toast, signed=True)
            self.redirect(route_href(screen.route), status=303)
            return
        self.page(screen)


@lru_cache(maxsize=4096)
def progress_answer(
    lang: str, done: int, total: int, not_applicable: int, toast: str, groups: tuple[tuple[str, tuple[int, int, bool]], ...]
) -> str:
    """The progress the checklist page's script shows (``Checklists.mark``'s counts) as
    the JSON the script reads, left open at the end for the visitor's own token: the same for everyone with the
    same counts in the same language, so encoded once."""
    gettext = i18n.translations(lang).gettext
    answer = {
        "done": done,
        "total": total,
        "toast": toast,
        "na": gettext("%(n)s 项不适用，不计入") % {"n": not_applicable} if not_applicable else "",
        "groups": {m: gettext("不适用") if all_na else f"{d}/{t}" for m, (d, t, all_na) in groups},
    }
    return TO_JSON(answer)[:-1]


STALE_ANSWER = TO_JSON({"stale": True, "toast": ""})[:-1]  # the script's answer where no checklist was marked


def progress(screen: Screen, gettext: Any) -> dict[str, Any]:
    """What the checklist page's script updates in place after a tick: the progress overall and per
    material, and the toast; ``{"stale": true}`` when the action did not land on a checklist."""
    model = screen.model or {}
    if screen.stale or "groups" not in model:
        return {"stale": True, "toast": screen.toast or ""}
    na = model.get("not_applicable") or 0
    return {
        "done": model["done"],
        "total": model["total"],
        "toast": screen.toast or "",
        "na": gettext("%(n)s 项不适用，不计入") % {"n": na} if na else "",
        "groups": {g["material"]: gettext("不适用") if g["na"] else f"{g['done']}/{g['total']}" for g in model["groups"]},
    }


class MainHandler(Base):
    """The home page (/): the main menu, as /start opens it in the chat."""

    def get(self) -> None:
        self.page(self.engine.start(self.ctx()))


class ScreenHandler(Base):
    """A screen by its address (/s/<route>); 404 for screens a link may not open; the web's own help page."""

    def get(self, route: str) -> None:
        if route == "main":
            self.redirect("/", status=301)
            return
        if not self.web.can_open(route):
            raise tornado.web.HTTPError(404)
        if route == "help":  # the web's own: no chat commands, no inline mode
            self.help_page()
            return
        if screen_of(route) == "checklist_part":  # the web's checklist is one page: at that material
            self.redirect(route_href(route), status=302)
            return
        personal = bool(self.engine.screens[Route.parse(route).screen].get("personal"))
        try:
            screen = self.engine.open(self.ctx(personal), route)  # the engine counts a business's view
        except NotFound:
            raise tornado.web.HTTPError(404) from None
        self.page(screen)

    def help_page(self) -> None:
        """The web's help: how to ask, the pages (instead of chat commands), the hotline."""
        kb = self.engine.kb
        examples = [
            self._(e) for e in (N_("卡丢了怎么办"), N_("通辽在哪里办"), N_("营业执照复印件上写什么"), N_("没有身份证怎么办"))
        ]
        routes = [(commands.route_of(c, self.engine.features), c.description) for c in commands.COMMANDS if c.route]
        pages = [(route_href(r), label) for r, label in routes if r not in ("main", "help") and self.web.can_open(r)]
        fact = kb.facts.get("hotline")
        self.page(
            Screen(route="help", html=f"<b>❓ {escape(self._('使用帮助'))}</b>"),
            template="screens/web_help.html",
            extra={
                "examples": [(e, "/ask?q=" + quote(e)) for e in examples],
                "pages": pages,
                "hotline": labelled(fact, self.lang) if fact is not None else "",
            },
        )


class TopicHandler(Base):
    """Deep links: /t/<topic> opens the answer (the web's ``/start <topic>``)."""

    def get(self, topic: str) -> None:
        known = topic in self.engine.kb.businesses
        # anything else is answered like /start with that payload: never as someone else's data
        self.page(self.engine.start(self.ctx(personal=not known), topic), status=200 if known else 404)


class AskHandler(Base):
    """A question typed in the box (/ask?q=…): the engine's answer page; a chat command typed there
    redirects to its page, an over-long question is refused with the main menu."""

    async def get(self) -> None:
        question = self.get_query_argument("q", "").strip()
        if not question:
            self.redirect("/", status=303)
            return
        if len(question) > MAX_QUESTION:  # said so, with the first MAX_QUESTION characters back in the box
            self.main_with(QUESTION_TOO_LONG, 400, question=question[:MAX_QUESTION])
            return
        if question.startswith("/"):  # a chat command typed here: its web page
            name = question[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(question) > 1 else ""
            command = next((c for c in commands.COMMANDS if c.name == name), None)
            if command is not None:
                route = commands.route_of(command, self.engine.features) if command.route else "main"
                self.redirect(route_href(route) if route == "main" or self.web.can_open(route) else "/", status=303)
                return
        await self.engine.ready()  # the first question after start or a reload: the matcher is built off the loop
        self.page(self.engine.ask(self.ctx(), question), question=question)


class ActionHandler(Base):
    """A button that changes something (tick, reset, language, delete my data …)."""

    def set_default_headers(self) -> None:
        """Where the page's script asks for data (JSON), the answer is not a page: nothing in it is drawn,
        framed or followed, so a policy that allows nothing, no sniffing, not stored; else a page's headers
        (an error is drawn as a page: ``write_error`` sets those)."""
        if self.wants_json():
            self.set_header("Content-Security-Policy", DATA_CSP)
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header("Cache-Control", "no-store")
            self.set_header("Content-Type", JSON_TYPE)
        else:
            self.page_headers()

    def post(self) -> None:
        data = self.form_value("d", query=False)[:256]
        parsed = parse_callback(data)
        if parsed is not None and parsed[0] in SCRIPT_MARKS and self.user_id is not None and self.wants_json():
            self.mark(*parsed)
            return
        self.result(self.act(lambda ctx: self.engine.handle(ctx, data)), parsed[0] if parsed else None)

    def mark(self, action: str, args: str) -> None:
        """The checklist page's script ticked a box (or 不适用) of this session's checklist: stored, and only the
        progress back as JSON (the page draws itself); no screen is drawn. Without a session the change goes
        the buttons' way (``act``: it may start one)."""
        checklists = self.web.guide.checklists
        answer = STALE_ANSWER
        if checklists is not None and "checklist" in self.engine.features:
            try:
                counts = checklists.mark(self.ctx(), action, args)
            except NotFound:
                pass
            else:
                answer = progress_answer(
                    self.lang, counts["done"], counts["total"], counts["not_applicable"], counts["toast"], counts["groups"]
                )
        self.finish(f'{answer}, "xsrf": {TO_JSON(self.xsrf_token.decode("ascii"))}}}')  # JSON_TYPE: set_default_headers


class ChecklistFormHandler(Base):
    """The checklist's form without script: the ticked and 不适用 boxes of the whole list. Each change is
    the engine's own action (a tick, a 不适用), then the page again at the material whose save button
    was pressed."""

    def post(self, topic: str) -> None:
        if topic not in self.engine.kb.businesses:
            raise tornado.web.HTTPError(404)
        # one group of boxes per material ("m:<material>"): an item's id ticks it, "na:<id>" marks it 不适用
        values = [v.decode("utf-8", "replace") for k, vs in self.request.body_arguments.items() if k.startswith("m:") for v in vs]
        ticked = {v for v in values if not v.startswith("na:")}
        marked = {v[3:] for v in values if v.startswith("na:")}
        at = self.get_body_argument("at", "")

        def change(ctx: Context) -> Screen:
            last = current = self.engine.render(f"checklist:{topic}", ctx)
            for row in current.model["items"]:
                item = row["id"]
                if row["optional"] and (item in marked) != row["na"]:
                    last = self.engine.handle(ctx, callback_data("na", f"{topic}:{item}:{int(item in marked)}"))
                if (item in ticked) != row["ticked"] and not (item in marked and row["optional"]):
                    last = self.engine.handle(ctx, callback_data("tick", f"{topic}:{item}:{int(item in ticked)}"))
            return last

        screen = self.act(change)
        if screen.stale:
            self.result(screen)
            return
        if screen.toast:
            self.write_cookie(FLASH_COOKIE, screen.toast, signed=True)
        anchor = "#m-" + quote(at, safe="") if re.fullmatch(r"[a-z_]{1,40}", at) else ""
        self.redirect(route_href(f"checklist:{topic}") + anchor, status=303)


@lru_cache(maxsize=64)
def printed_pictures(pictures: tuple[Picture, ...]) -> list[str]:
    """The printout's pictures, each part they share drawn once (cached per knowledge, business and language)."""
    return svgs_in_one_page(pictures, prefix="pc")


class PrintHandler(Base):
    """The printable checklist: every item with its mark, each material's notes and, for each prepared
    copy, its picture (inline SVG); a print stylesheet and a "print / save as PDF" button."""

    def get(self, topic: str) -> None:
        if topic not in self.engine.kb.businesses:
            raise tornado.web.HTTPError(404)
        kb = self.engine.kb
        screen = self.engine.render(f"checklist:{topic}", self.ctx(personal=True))
        copies = set(copy_materials(kb))
        materials = tuple(g["material"] for g in screen.model["groups"] if g["material"] in copies)
        pictures = dict(zip(materials, printed_pictures(tuple(picture(kb, m, self.lang) for m in materials))))
        self.page(screen, template="screens/print.html", extra={"pictures": pictures})


class ReplyHandler(Base):
    """Free text answering a question a screen asked (``Screen.awaiting``)."""

    async def post(self) -> None:
        text = self.get_body_argument("text", "")[:MAX_TEXT]
        signed = self.get_body_argument("w", "")
        await self.engine.ready()  # free text may be answered as a question
        value = self.get_signed_cookie("awaiting", signed, max_age_days=1) if signed else None  # verifies a value, not a cookie
        owner, _, awaiting = (value or b"").decode("utf-8", "replace").partition("|")
        if self.user_id is None or owner != str(self.user_id) or not awaiting:
            self.result(self.engine.ask(self.ctx(), text))  # a stale or foreign form: answered as a question
            return
        self.result(self.engine.reply(self.ctx(), awaiting, text))


class LanguageHandler(Base):
    """The language switch (POST /lang): kept in a cookie (and the session's settings), then back to the
    page it was pressed on (our own addresses only)."""

    def post(self) -> None:
        lang = self.get_body_argument("lang", "")
        back = self.get_body_argument("next", "/")
        if lang in i18n.LANGUAGES:
            self.write_cookie(LANG_COOKIE, lang, expires_days=365)
            if self.user_id is not None:
                self.web.store.set_language(self.user_id, lang)
        if not SAFE_NEXT.match(back) or "\\" in back:  # our own pages' addresses only (printable ASCII, one leading /)
            back = "/"
        self.redirect(back, status=303)


def content_length(headers: tornado.httputil.HTTPHeaders) -> int | None:
    """The declared body size; 400 for a malformed one or several that disagree."""
    values = [v.strip() for raw in headers.get_list("Content-Length") for v in raw.split(",")]
    if not values:
        return None
    if any(not v.isdigit() or len(v) > 15 for v in values) or len(set(values)) > 1:
        raise tornado.web.HTTPError(400, "malformed or conflicting Content-Length")
    return int(values[0])


def _parse_upload(content_type: str, chunks: list[bytes]) -> tuple[str | None, bytes] | None:
    """The uploaded file (name, content) of a multipart body, None if the form has no file;
    raises HTTPError 400 for a body that is not a well-formed form. Runs in the pre-check pool."""
    body = b"".join(chunks)
    chunks.clear()
    if not content_type.lower().startswith("multipart/form-data"):
        raise tornado.web.HTTPError(400, "the upload is not a multipart form")
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[tornado.httputil.HTTPFile]] = {}
    try:
        tornado.httputil.parse_body_arguments(content_type, body, args, files)
    except tornado.httputil.HTTPInputError as exc:
        raise tornado.web.HTTPError(400, "malformed upload: %s", exc) from None
    del body
    upload = (files.get("file") or [None])[0]
    if upload is None:
        return None
    return clean_text(upload.filename)[:200] or None, upload.body


@tornado.web.stream_request_body
class CheckHandler(Base):
    """The upload pre-check: the file is read into memory, checked off the event loop, and dropped.
    The CSRF token (in the form's action URL or a header) was checked before the body is read."""

    def initialize(self, web: Web) -> None:
        super().initialize(web)
        # set before anything else runs: a post refused for its CSRF token ends (on_finish) before prepare
        self.chunks: list[bytes] = []
        self.received = 0
        self.too_big = False
        self.counted = False

    def prepare(self) -> None:
        super().prepare()
        if self.request.method == "POST":
            declared = content_length(self.request.headers)
            if declared is not None and declared > MAX_UPLOAD:
                raise tornado.web.HTTPError(413)
            if self.web.uploads >= UPLOADS_AT_ONCE:
                self.set_header("Retry-After", "5")
                raise tornado.web.HTTPError(503, "too many uploads at once")
            self.web.uploads += 1
            self.counted = True
            self.request.connection.set_max_body_size(MAX_UPLOAD)

    def _release(self) -> None:
        if self.counted:
            self.counted = False
            self.web.uploads -= 1
        self.chunks = []

    def on_finish(self) -> None:
        self._release()

    def on_connection_close(self) -> None:
        """The visitor went away mid-upload: the upload slot is freed and the received chunks dropped."""
        self._release()
        super().on_connection_close()

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

    async def post(self) -> None:
        if self.too_big:
            raise tornado.web.HTTPError(413)
        chunks, self.chunks = self.chunks, []
        content_type = self.request.headers.get("Content-Type", "")
        kb = self.web.guide.kb

        def work(deadline: float) -> Any:
            found = _parse_upload(content_type, chunks)
            if found is None:
                return None
            name, data = found
            return uploads.precheck(kb, data, name, len(data), deadline=deadline)

        try:
            result = await uploads.off_loop(work)
        except uploads.PrecheckBusy:
            result = uploads.unchecked(None, self.received or None, "busy")
        except uploads.PrecheckTimeout:
            result = uploads.unchecked(None, self.received or None, "timeout")
        self._release()
        if result is None:
            self.redirect("/check", status=303)
            return
        self.page(self.engine.render("precheck", self.ctx(), variables={"result": result}), upload=True)


class FaviconHandler(tornado.web.RequestHandler):
    """/favicon.ico: an empty answer the browser may cache for a day (no icon, no 404 in the log)."""

    def get(self) -> None:
        self.set_header("Cache-Control", "public, max-age=86400")
        self.set_status(204)


class NotFoundHandler(Base):
    """Any other address: the 404 page (with the usual headers and session handling)."""

    def prepare(self) -> None:
        super().prepare()
        raise tornado.web.HTTPError(404)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """One access-log line without the query string (questions are not logged)."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    log.log(level, "%d %s %s %.1fms", status, handler.request.method, handler.request.path, 1000 * handler.request.request_time())


def handlers(web: Web) -> list[tuple]:
    """The pages' (path, handler, arguments): another channel served by the same server (e.g. a
    messenger's callback) passes its own rules as ``make_app(extra=…)``."""
    kw = {"web": web}
    return [
        (r"/", MainHandler, kw),
        (r"/s/(.+)", ScreenHandler, kw),
        (r"/t/([^/]+)", TopicHandler, kw),
        (r"/ask", AskHandler, kw),
        (r"/a", ActionHandler, kw),
        (r"/c/([a-z_]{1,40})", ChecklistFormHandler, kw),
        (r"/print/([a-z_]{1,40})", PrintHandler, kw),
        (r"/reply", ReplyHandler, kw),
        (r"/lang", LanguageHandler, kw),
        (r"/check", CheckHandler, kw),
        (r"/favicon.ico", FaviconHandler),
    ]


def make_app(
    guide: Guide,
    *,
    secure_cookies: bool = False,
    rate_limiter: RateLimiter | None = None,
    retention_days: int | None = None,
    trusted_proxies: int = 0,
    debug: bool = False,
    extra: list[tuple] | None = None,
) -> tornado.web.Application:
    """The tornado application serving ``guide`` (which has a store: ``build_web_guide``); ``extra``:
    more (path, handler[, arguments]) rules, matched before the pages' own."""
    web = Web(
        guide,
        secure_cookies=secure_cookies,
        rate_limiter=rate_limiter,
        retention_days=retention_days,
        trusted_proxies=trusted_proxies,
    )
    kw = {"web": web}
    secret = sessions.cookie_secret(web.store)
    web.csrf_key = csrf_key(secret)
    app = tornado.web.Application(
        [*(extra or []), *handlers(web)],
        default_handler_class=NotFoundHandler,
        default_handler_args=kw,
        cookie_secret=secret,
        xsrf_cookies=True,  # every POST is checked by Base.check_xsrf_cookie (tokens bound to the session)
        compress_response=True,
        log_function=_log_request,
        debug=debug,
    )
    app.web = web  # type: ignore[attr-defined]
    return app


# -- running it -------------------------------------------------------------------------------
RETENTION_EVERY_MS = 6 * 3600 * 1000
# every answer page is a view for the statistics: the server's views are written together, 64 at a time or
# when this old (one commit for many pages instead of one per page; see Store.hold_events)
EVENTS_HOLD_S = 1.0
CHECKPOINT_EVERY_MS = 250  # how often the checkpoint thread is considered
CHECKPOINT_IDLE_S = 0.2  # no request for this long: the WAL is copied into the database file now
CHECKPOINT_BUSY_S = 2.0  # under steady traffic: copied at least this often anyway
# the commits' own (on-loop) checkpoint, a backstop (see Checkpoints): 64,000 pages, a WAL of up to 256 MB
CHECKPOINT_BACKSTOP_PAGES = 16 * WAL_CHECKPOINT_PAGES
WAL_LIMIT_BYTES = 4 * WAL_CHECKPOINT_PAGES * 4096  # the WAL file cut back to this (64 MB) when it starts afresh


class Checkpoints:
    """The database's WAL copied into its file (a checkpoint: the pages written, two fsyncs) in a thread of
    its own, in a quiet moment, instead of inside the commit of whichever request crosses SQLite's
    automatic-checkpoint size: that one runs on the event loop and stalls every request in flight for the
    fsyncs (10-50 ms on this machine's disk, about once a second under the bench's load).

    A checkpoint runs when no request has started for CHECKPOINT_IDLE_S (it then copies everything, and the
    next commit starts the WAL afresh without a checkpoint of its own), and at least every
    CHECKPOINT_BUSY_S while requests keep coming (so reads stay short). It is PASSIVE: it neither waits for
    nor blocks the loop's reads and writes. The commits' automatic checkpoint stays as a backstop, at
    CHECKPOINT_BACKSTOP_PAGES, should traffic never pause or this thread fail (a failure is logged once). It is
    far out: under writes that never pause, the thread's checkpoints cannot start the WAL afresh (new frames
    arrive while one runs), so the WAL grows until the backstop, which then fsyncs on the loop what the thread
    has not yet — at 16,000 pages that stalled every request in flight for about 28 ms every 4 s of the bench's
    4,000 ticks a second. After a quiet moment the next commit starts the WAL afresh and cuts its file back to
    WAL_LIMIT_BYTES. An in-memory database has no WAL: nothing is started for it."""

    def __init__(self, store: Any, clock: Any = time.monotonic):
        self.store = store
        self.clock = clock
        self.path = getattr(store, "path", ":memory:")
        self.pool: ThreadPoolExecutor | None = None
        self.conn: sqlite3.Connection | None = None
        self.busy = False
        self.failed = False
        self.last_request = 0.0  # when the last request started (Base.prepare)
        self.requests = 0  # requests started since the last checkpoint
        self.last_run = clock()
        self.done = 0  # checkpoints run

    def start(self) -> tornado.ioloop.PeriodicCallback | None:
        """Takes the checkpoints off the loop (the commits' own become the backstop); returns the periodic
        callback (stopped with the server), None for an in-memory database."""
        if not self.path or self.path == ":memory:":
            return None
        self.store.conn.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_BACKSTOP_PAGES}")
        self.store.conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal-checkpoint")
        callback = tornado.ioloop.PeriodicCallback(self.tick, CHECKPOINT_EVERY_MS)
        callback.start()
        return callback

    def request(self) -> None:
        """A request started (it may write)."""
        self.last_request = self.clock()
        self.requests += 1

    def due(self) -> bool:
        """Whether to checkpoint now: something may have been written since the last one, and the server
        is quiet or the last one is CHECKPOINT_BUSY_S old."""
        now = self.clock()
        return self.requests > 0 and (now - self.last_request >= CHECKPOINT_IDLE_S or now - self.last_run >= CHECKPOINT_BUSY_S)

    def tick(self) -> None:
        """One checkpoint in the thread when due, unless the previous one is still running."""
        if self.busy or self.pool is None or not self.due():
            return
        self.busy, self.requests, self.last_run = True, 0, self.clock()
        asyncio.get_running_loop().run_in_executor(self.pool, self.checkpoint).add_done_callback(self._finished)

    def _finished(self, _: Any) -> None:
        self.busy = False

    def checkpoint(self) -> None:
        """Runs in the checkpoint thread, on a connection of its own (opened once)."""
        try:
            if self.conn is None:
                self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.done += 1
        except sqlite3.Error as exc:
            if not self.failed:
                self.failed = True
                log.warning("web: background WAL checkpoint failed (%s); the commits checkpoint themselves", exc)

    def stop(self) -> None:
        """No more checkpoints; the thread's connection is closed after its last one."""
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.submit(self._close)
            pool.shutdown(wait=False)

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


FD_RESERVE = 64  # files kept for the database, logs, the bot's connections to Telegram
ACCEPT_PAUSE_S = 1.0  # out of file descriptors: stop accepting this long instead of spinning
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 5\r\n"
    b"Connection: close\r\nContent-Length: 12\r\n\r\nServer busy\n"
)


def connection_cap(limit: int | None = None) -> int:
    """How many connections the server keeps open: MAX_CONNECTIONS, fewer when the process may open
    fewer files (RLIMIT_NOFILE minus a reserve), never under 8."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    fit = MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else soft - FD_RESERVE
    return max(8, min(limit or MAX_CONNECTIONS, fit))


class CappedHTTPServer(tornado.httpserver.HTTPServer):
    """tornado's HTTPServer with a cap on open connections and an accept loop that cannot spin.

    Beyond ``max_connections`` a new connection gets a one-line 503 and is closed. When accept()
    fails for want of file descriptors (EMFILE, ENFILE) the listening socket is paused for
    ACCEPT_PAUSE_S (the waiting connections stay in the kernel's backlog) and one warning a minute
    is logged, instead of a traceback per attempt in a busy loop."""

    def initialize(self, *args: Any, max_connections: int | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(*args, **kwargs)
        self.max_connections = connection_cap(max_connections)
        self.open_connections = 0
        self.refused = 0
        self.paused = 0
        self._listening: list[socket.socket] = []
        self._last_warning = 0.0
        self.periodic: list[Any] = []  # what start() runs periodically: stopped with the server

    def listen(self, port: int, address: str | None = None, **kwargs: Any) -> None:  # type: ignore[override]
        """Binds the port and accepts connections through the capped accept loop instead of tornado's."""

        loop = asyncio.get_running_loop()
        for sock in tornado.netutil.bind_sockets(port, address=address, **kwargs):
            self._listening.append(sock)
            loop.add_reader(sock.fileno(), self._accept, sock)

    def stop(self) -> None:
        """Stops accepting: the listening sockets closed, the periodic work (retention, checkpoints) stopped,
        then tornado's own stop."""
        for periodic in self.periodic:
            periodic.stop()

        loop = asyncio.get_running_loop()
        for sock in self._listening:
            loop.remove_reader(sock.fileno())
            sock.close()
        self._listening = []
        super().stop()

    def _warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 60:
            self._last_warning = now
            log.warning(message, *args)

    def _accept(self, sock: socket.socket) -> None:

        for _ in range(64):  # a bounded batch: other work gets its turn
            try:
                conn, address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    raise
                self.paused += 1
                loop = asyncio.get_running_loop()
                loop.remove_reader(sock.fileno())
                loop.call_later(ACCEPT_PAUSE_S, self._resume, sock)
                self._warn(
                    "web: cannot accept connections (%s); pausing %.0f s (%d open connections, cap %d)",
                    exc.strerror,
                    ACCEPT_PAUSE_S,
                    self.open_connections,
                    self.max_connections,
                )
                return
            if self.open_connections >= self.max_connections:
                self.refused += 1
                try:
                    conn.setblocking(False)
                    conn.send(REFUSAL)
                except OSError:
                    pass
                conn.close()
                self._warn("web: %d open connections (the cap): refusing new ones with 503", self.open_connections)
                continue
            conn.setblocking(False)
            stream = tornado.iostream.IOStream(conn, max_buffer_size=self.max_buffer_size, read_chunk_size=self.read_chunk_size)
            self.open_connections += 1
            self.handle_stream(stream, address)

    def _resume(self, sock: socket.socket) -> None:

        if sock in self._listening:
            asyncio.get_running_loop().add_reader(sock.fileno(), self._accept, sock)

    def on_close(self, server_conn: object) -> None:
        """A connection closed: one fewer counted against the cap."""
        self.open_connections -= 1
        super().on_close(server_conn)


def build_web_guide(settings: Any) -> Guide:
    """The application object for the web: every feature but reminders (a web page cannot send a
    message later) and inline mode (Telegram's)."""
    from dialogs.guide import build_guide
    from knowledge import load_knowledge

    return build_guide(settings.db_path, load_knowledge(settings.knowledge_dir), settings=settings, channel="web")


def start(
    settings: Any,
    *,
    guide: Guide | None = None,
    listen: str | None = None,
    port: int | None = None,
    rate_limiter: RateLimiter | None = None,
    max_connections: int | None = None,
):
    """Listen on the running event loop; returns the tornado HTTPServer."""
    guide = guide or build_web_guide(settings)
    app = make_app(
        guide,
        secure_cookies=(settings.web_url or "").lower().startswith("https://"),
        retention_days=settings.retention_days,
        rate_limiter=rate_limiter,
        trusted_proxies=getattr(settings, "web_trusted_proxies", 0),
    )
    server = CappedHTTPServer(
        app,
        max_body_size=MAX_BODY,
        max_header_size=MAX_HEADER,
        idle_connection_timeout=60,
        body_timeout=120,
        max_connections=max_connections,
    )
    listen = listen or settings.web_listen
    port = port or settings.web_port
    from .wechat import install as install_wechat

    install_wechat(app, settings)  # /wechat, when EPORT_WECHAT_TOKEN is set (web/wechat.py)
    server.listen(port, address=listen)
    web: Web = app.web  # type: ignore[attr-defined]
    web.expire()
    callback = tornado.ioloop.PeriodicCallback(web.expire, RETENTION_EVERY_MS)
    callback.start()
    web.store.hold_events(EVENTS_HOLD_S)  # written when the guide's store is closed at the latest
    events = tornado.ioloop.PeriodicCallback(web.store.write_held_events, EVENTS_HOLD_S * 1000)
    events.start()
    server.retention = callback  # type: ignore[attr-defined]
    server.checkpoints = web.checkpoints  # type: ignore[attr-defined]
    server.periodic = [callback, events, web.checkpoints, *filter(None, [web.checkpoints.start()])]
    log.info("web pages served on http://%s:%s/", listen, port)
    return server


async def settle(guide: Guide) -> None:
    """Once after start-up, so that no request waits for a long garbage collection: the answerer is built
    (off the loop, as the first question would), then what start-up made is collected once and the rest
    (the knowledge, the matcher, compiled templates: alive for the process's life) is frozen out of the
    collector's sight (``gc.freeze``). A full collection then looks only at what requests made since,
    instead of pausing every request in flight for tens of milliseconds to walk the whole heap."""
    await guide.engine.ready()
    gc.collect()
    gc.freeze()


def run_loop(main: Any) -> Any:
    """Run the web server's coroutine to its end on uvloop (libuv's event loop, in C: its polling, callbacks and
    socket calls cost each request less than asyncio's loop) when it is installed, else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # e.g. a platform without its wheels: asyncio's loop serves the same pages
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def serve(settings: Any, *, listen: str | None = None, port: int | None = None) -> None:
    """``eport-guide web``: serve until SIGTERM or Ctrl-C."""

    import signal

    guide = build_web_guide(settings)

    async def main() -> None:
        server = start(settings, guide=guide, listen=listen, port=port)
        settled = asyncio.create_task(settle(guide))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        settled.cancel()
        server.retention.stop()
        server.stop()
        await server.close_all_connections()
        guide.close()  # the statistics' events still held are written
        log.info("web server stopped")

    run_loop(main())


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
        app.bot_data["web_settled"] = asyncio.create_task(settle(guide))

    async def post_stop(app: Any) -> None:
        settled = app.bot_data.pop("web_settled", None)
        if settled is not None:
            settled.cancel()
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
