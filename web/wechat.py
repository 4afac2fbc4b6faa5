"""The WeChat Official Account channel (公众号): ``/wechat`` on the web server.

WeChat's message server protocol, as its documentation describes it (接入指南, 消息加解密):

- URL verification: a GET with ``signature``, ``timestamp``, ``nonce`` and ``echostr``; the signature is
  the SHA-1 of the token, timestamp and nonce sorted and joined. Every POST carries the same
  ``signature``, checked in constant time before a byte of the body is read (403 otherwise).
- Plain mode: the body is the message XML. Safe mode (``encrypt_type=aes``): the body's ``Encrypt`` is
  AES-256-CBC (key: the EncodingAESKey with "=" appended, base64-decoded; IV: its first 16 bytes;
  padding: PKCS#7 to 32-byte blocks) of ``16 random bytes · length (4 bytes, network order) · XML ·
  AppID``; ``msg_signature`` is the SHA-1 of token, timestamp, nonce and ``Encrypt`` sorted and joined.
  The AppID inside must be this account's. The reply is encrypted and signed the same way.
- The passive reply (the HTTP response) must come within 5 seconds and its text within 2048 bytes:
  the screen's first lines (what to do), the numbered choices and a signed link to the whole answer
  and the checklist on the web pages. WeChat retries an unanswered message three times: each message
  (``MsgId``; for events the sender, time and event) is answered once, a retry gets the same reply.

Bodies are limited (``MAX_BODY``) before they are read and parsed with defusedxml (no DTD, no entities).
A follower's openid is kept only as a keyed hash, mapped to an internal user id of the web's kind
(negative), so the checklist ticked on the page opened from a link is the follower's own; the link
carries that id signed (HMAC, expiring), never the openid. Nothing of a message's text is logged.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import logging
import math
import secrets
import struct
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import tornado.web

from dialogs.commands import N_
from dialogs.console import NO_SUCH_BUTTON, ConsoleChat, find_button
from dialogs.engine import Button, Context, Screen, callback_data, clean_text
from dialogs.i18n import t
from dialogs.routes import parse_or_none

from . import sessions

log = logging.getLogger("eport_guide.wechat")

MAX_BODY = 32 * 1024  # WeChat's messages are a few KB; beyond: 413 before the body is read
REFUSED_BODY = 16 * 1024  # a refused request's body skipped (unread, unkept) up to this, to answer it cleanly
MAX_REPLY_BYTES = 2048  # WeChat's limit for a text reply's Content
MAX_TEXT = 600  # characters of a follower's text that are read (WeChat's text messages are short)
TIME_WINDOW_S = 600  # a request whose timestamp is further from now is refused (a replay)
SEEN_KEEP_S = 3600  # messages remembered to answer a retry once (WeChat retries within 15 s)
SEEN_MAX = 20000
LINK_MAX_AGE_S = 24 * 3600  # a link in a reply opens the follower's page for a day
BLOCK = 32  # WeChat's PKCS#7 block size
FORGET_WORDS = ("删除我的数据", "删除数据", "/forget")
MENU_WORDS = ("菜单", "主菜单", "目录", "menu", "меню", "/menu", "0")

WELCOME = N_("欢迎关注电子口岸制发卡业务指南！直接输入问题（例如“卡丢了怎么办”），或回复数字选择业务。")
NOT_UNDERSTOOD = N_("抱歉，这里只能看懂文字和位置。请直接输入问题，或回复数字选择：")
CHOOSE = N_("回复数字选择：")
FULL_LINK = N_("🔗 完整内容和清单：")
CUT = N_("…（内容较长，完整内容见下方链接）")
NEAREST = N_("按您发送的位置，最近的有办理点的城市是 %(city)s（直线约 %(km)s 公里）。")
NO_LOCATION = N_("没能读出您发送的位置，下面是全部办理地点。")
FAILED = N_("抱歉，刚才没能回答，请稍后再发一次。")
MENU_HINT = N_("回复“菜单”看全部业务；回复“删除我的数据”删除您的记录。")

# City centres of the cities with an office (WGS-84, degrees): only to find the nearest one to a
# location a follower sends; the offices, addresses and phones shown come from the knowledge.
CITY_CENTRES = {
    "满洲里": (49.598, 117.379),
    "呼伦贝尔": (49.212, 119.766),
    "赤峰": (42.258, 118.887),
    "通辽": (43.617, 122.263),
    "乌兰浩特": (46.072, 122.093),
}
CITY_WORDS = {"海拉尔": "呼伦贝尔"}  # a district named in an address label, and its city


class Refused(Exception):
    """A request that is not WeChat's or not well formed: answered with ``status`` and one log line."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


# -- signatures and the cipher -----------------------------------------------------------------
def signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the parts sorted and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(given: str | None, *parts: str) -> bool:
    """Whether the signature WeChat sent matches the parts (compared in constant time)."""
    return hmac.compare_digest(signature(*parts).encode(), (given or "").encode("utf-8", "replace"))


class Cipher:
    """消息加解密: AES-256-CBC with the EncodingAESKey, as WeChat's samples do."""

    def __init__(self, aes_key: str, app_id: str):
        self.key = base64.b64decode(aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("the EncodingAESKey does not decode to 32 bytes")
        self.app_id = app_id.encode("utf-8")

    def _cipher(self):
        from cryptography.hazmat.primitives.ciphers import Cipher as AES, algorithms, modes

        return AES(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, text: str, random: bytes | None = None) -> str:
        """A reply encrypted for WeChat's safe mode: random prefix, length, text and AppID, padded, base64."""
        body = text.encode("utf-8")
        plain = (random or secrets.token_bytes(16)) + struct.pack(">I", len(body)) + body + self.app_id
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The XML of an encrypted message; Refused (400/403) if it is not base64, not whole blocks, badly
        padded or meant for another AppID."""
        try:
            data = base64.b64decode(encrypted.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise Refused(400, "Encrypt is not base64") from None
        if not data or len(data) % 16:
            raise Refused(400, "Encrypt is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise Refused(400, "Encrypt has a malformed padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise Refused(400, "Encrypt is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if length > len(plain) - 20:
            raise Refused(400, "Encrypt has a malformed length")
        body, app_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(app_id, self.app_id):
            raise Refused(403, "the message is for another AppID")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "the decrypted message is not UTF-8") from None


# -- XML ----------------------------------------------------------------------------------------
def parse_xml(body: bytes) -> dict[str, str]:
    """The children of WeChat's ``<xml>`` as tag → text. No DTD, no entities (defusedxml); anything
    else than a flat message is refused."""
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if len(body) > MAX_BODY:
        raise Refused(413, "the message is too big")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ET.ParseError, DefusedXmlException, ValueError, UnicodeError):
        raise Refused(400, "the body is not well-formed XML without a DTD or entities") from None
    if root.tag != "xml" or len(root) > 64:
        raise Refused(400, "the body is not a WeChat message")
    out: dict[str, str] = {}
    for child in root:
        if len(child):
            continue  # nested elements (e.g. ScanCodeInfo) are not read
        out[child.tag] = (child.text or "").strip() if child.tag != "Content" else (child.text or "")
    return out


def cdata(text: str) -> str:
    """Text as an XML CDATA section (a ``]]>`` inside split so it cannot end it early)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to: str, from_: str, content: str, now: int) -> str:
    """The passive reply XML that sends a text message back to the follower."""
    return (
        f"<xml><ToUserName>{cdata(to)}</ToUserName><FromUserName>{cdata(from_)}</FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType>{cdata('text')}</MsgType><Content>{cdata(content)}</Content></xml>"
    )


def encrypted_reply(token: str, cipher: Cipher, xml: str, timestamp: str, nonce: str, random: bytes | None = None) -> str:
    """A reply XML encrypted and signed for safe mode (the follower sees the same text)."""
    encrypted = cipher.encrypt(xml, random)
    return (
        f"<xml><Encrypt>{cdata(encrypted)}</Encrypt><MsgSignature>{cdata(signature(token, timestamp, nonce, encrypted))}"
        f"</MsgSignature><TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
    )


# -- the reply's text ---------------------------------------------------------------------------
def fit(text: str, budget: int, cut: str) -> str:
    """``text`` within ``budget`` UTF-8 bytes: whole lines from the top, then ``cut``."""
    if len(text.encode("utf-8")) <= budget:
        return text
    room = budget - len(cut.encode("utf-8")) - 1
    lines: list[str] = []
    used = 0
    for line in text.splitlines():
        size = len(line.encode("utf-8")) + 1
        if used + size > room:
            if not lines:  # one long first line: cut inside it
                lines.append(line.encode("utf-8")[: max(room, 0)].decode("utf-8", "ignore"))
            break
        lines.append(line)
        used += size
    return "\n".join(lines).rstrip() + "\n" + cut


def choices(screen: Screen) -> list[Button]:
    """The buttons a follower chooses by number: those that open or do something (copy buttons' text is
    in the message; links are the web's)."""
    return [b for b in screen.all_buttons() if b.data]


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance between two (latitude, longitude) points, in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Message:
    """What a handler needs of an incoming message, read from its XML."""

    openid: str
    account: str
    kind: str  # MsgType
    event: str = ""
    key: str = ""  # EventKey
    content: str = ""
    label: str = ""  # a location's address
    latitude: float | None = None
    longitude: float | None = None
    dedupe: str = ""

    @classmethod
    def of(cls, fields: dict[str, str]) -> "Message":
        """The message of an incoming XML's fields, its numbers parsed and a key to drop WeChat's retries;
        Refused (400) if it lacks the sender, account or type."""
        openid, account, kind = fields.get("FromUserName", ""), fields.get("ToUserName", ""), fields.get("MsgType", "")
        if not openid or not account or not kind or len(openid) > 128 or len(account) > 128:
            raise Refused(400, "the message lacks FromUserName, ToUserName or MsgType")
        event = fields.get("Event", "")
        msg_id = fields.get("MsgId", "")
        dedupe = f"id|{msg_id}" if msg_id else f"ev|{openid}|{fields.get('CreateTime', '')}|{event}"

        def number(name: str) -> float | None:
            try:
                value = float(fields.get(name, ""))
            except ValueError:
                return None
            return value if math.isfinite(value) else None

        return cls(
            openid=openid,
            account=account,
            kind=kind.lower(),
            event=event.lower(),
            key=fields.get("EventKey", ""),
            content=clean_text(fields.get("Content", ""))[:MAX_TEXT],
            label=fields.get("Label", "")[:200],
            latitude=number("Location_X"),
            longitude=number("Location_Y"),
            dedupe=dedupe,
        )


# -- the conversation ------------------------------------------------------------------------------
class WeChat:
    """The account's conversations, driving the same engine as every channel."""

    def __init__(self, web: Any, settings: Any):
        self.web = web
        self.guide = web.guide
        self.engine = web.engine
        self.store = web.store
        self.token: str = settings.wechat_token
        self.cipher = Cipher(settings.wechat_aes_key, settings.wechat_app_id) if settings.wechat_aes_key else None
        self.app_id: str | None = settings.wechat_app_id
        self.web_url: str | None = settings.web_url
        secret = sessions.cookie_secret(self.store).encode("utf-8")
        self.link_key = hmac.new(secret, b"wechat-link", hashlib.sha256).digest()
        self.openid_key = hmac.new(secret, b"wechat-openid", hashlib.sha256).digest()
        self.clock = time.time
        # replies to messages that deleted their sender's data (the store forgot the message with the rest):
        # keyed message → (when, reply), in memory only, so that WeChat's retry of one gets the same reply
        # without making the follower anew
        self.farewells: dict[str, tuple[float, str]] = {}

    # -- who ------------------------------------------------------------------------------
    def _keyed(self, key: bytes, text: str) -> str:
        return hmac.new(key, text.encode("utf-8", "replace"), hashlib.sha256).hexdigest()

    def user(self, openid: str) -> int:
        """The follower's internal user id (made on first contact; the openid itself is not stored). Every
        message counts as activity: the user's row exists from the first one, so retention covers it."""
        user_id = self.store.wechat_user(self._keyed(self.openid_key, openid), lambda: sessions.draw()[1])
        self.store.touch_user(user_id)
        return user_id

    # -- signed links to the web pages ---------------------------------------------------------
    def link(self, base: str, user_id: int, route: str) -> str:
        """A signed link for the follower to open a screen on the web pages (their checklist included), valid
        for LINK_MAX_AGE_S; on EPORT_GUIDE_WEB_URL if set, else the address WeChat posted to."""
        expires = int(self.clock()) + LINK_MAX_AGE_S
        payload = f"{user_id}|{expires}|{route}"
        mac = hmac.new(self.link_key, payload.encode("utf-8"), hashlib.sha256).digest()[:16]
        token = (
            base64.urlsafe_b64encode(payload.encode("utf-8")).decode().rstrip("=")
            + "."
            + base64.urlsafe_b64encode(mac).decode().rstrip("=")
        )
        return f"{(self.web_url or base).rstrip('/')}/wechat/link?t={quote(token)}"

    def open_link(self, token: str) -> tuple[int | None, str] | None:
        """(user id, route) of a link this server signed; user id None once it expired or the follower's
        data was deleted (the page opens without their checklist); None for a forged link."""
        payload_b64, _, mac_b64 = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4))
            mac = base64.urlsafe_b64decode(mac_b64 + "=" * (-len(mac_b64) % 4))
        except (ValueError, UnicodeEncodeError):
            return None
        expected = hmac.new(self.link_key, payload, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(mac, expected):
            return None
        user, expires, route = payload.decode("utf-8", "replace").split("|", 2)
        user_id = int(user)
        if int(expires) < self.clock() or not self.store.is_wechat_user(user_id):
            return None, route
        return user_id, route

    # -- answering --------------------------------------------------------------------------
    def ctx(self, user_id: int) -> Context:
        """The follower as the engine asks: their user id and chosen language."""
        return Context(user_id=user_id, lang=self.guide.language(user_id))

    def _(self, message: str, ctx: Context) -> str:
        return t(message, ctx)

    def _state(self, user_id: int) -> Screen:
        """The screen the follower last got, as far as numbers and replies need it: its choices."""
        state = self.store.get_setting(user_id, "wechat") or {}
        buttons = tuple((Button(str(label), data=str(data)),) for label, data in state.get("buttons", [])[:20])
        return Screen(route=str(state.get("route") or "main"), html="", buttons=buttons, awaiting=state.get("awaiting") or None)

    def _save(self, user_id: int, screen: Screen) -> None:
        self.store.set_setting(
            user_id,
            "wechat",
            {"route": screen.route, "awaiting": screen.awaiting, "buttons": [[b.label, b.data] for b in choices(screen)]},
        )

    def screen_for(self, message: Message, user_id: int) -> tuple[Screen | None, str | None]:
        """(the next screen, a line before it) for a message; (None, None): nothing to say."""
        ctx = self.ctx(user_id)
        if message.kind == "event":
            if message.event == "subscribe":
                scene = message.key.removeprefix("qrscene_") if message.key.startswith("qrscene_") else ""
                return self.engine.start(ctx, scene or None), self._(WELCOME, ctx)
            if message.event == "scan":
                return self.engine.start(ctx, message.key), None
            if message.event == "click":
                route = message.key.removeprefix("go:")
                if not message.key.startswith("go:") or parse_or_none(route) is None or not route.isascii():
                    route = "main"
                return self.engine.handle(ctx, callback_data("go", route)), None
            if message.event == "unsubscribe":
                # the same retention as an inactive user: the clock starts now (web.server.Web.expire)
                self.store.touch_user(user_id, now=dt.datetime.now(dt.timezone.utc))
                return None, None
            return None, None  # VIEW, LOCATION reports, template and mass-send results: nothing to say
        if message.kind == "location":
            return self.nearest(ctx, message)
        if message.kind != "text":
            return self.engine.render("main", ctx), self._(NOT_UNDERSTOOD, ctx)
        text = message.content.strip()
        if text in FORGET_WORDS or text.lstrip("🗑 ") in FORGET_WORDS:
            return self.engine.render("forget", ctx), None
        if text.lower() in MENU_WORDS:
            return self.engine.render("main", ctx), None
        chat = ConsoleChat(self.guide, user_id)
        chat.screen = self._state(user_id)
        if text.isdigit() and find_button(chat.screen, text) is None:
            shown = replace(chat.screen, html="")
            return shown, self._(NO_SUCH_BUTTON, ctx) % {"n": text}
        try:
            out = chat.step(text)
        except EOFError:  # /quit of the console: the menu
            return self.engine.render("main", ctx), None
        if isinstance(out, Screen):
            return out, None
        return replace(chat.screen, html=""), out  # a line (a copied text, an unknown command) and the same choices

    def nearest(self, ctx: Context, message: Message) -> tuple[Screen, str]:
        """The offices near a location the follower sent: the city its address names, else the nearest city
        centre (with a line saying how far), else the offices list with a line asking again."""
        kb = self.engine.kb
        label = message.label
        named = [c for c in kb.cities if c in label] + [
            CITY_WORDS[w] for w in CITY_WORDS if w in label and CITY_WORDS[w] in kb.cities
        ]
        if named:
            return self.engine.render(f"city:{named[0]}", ctx), None
        if message.latitude is None or message.longitude is None or not (-90 <= message.latitude <= 90):
            return self.engine.render("offices", ctx), self._(NO_LOCATION, ctx)
        here = (message.latitude, message.longitude)
        ranked = sorted((distance_km(here, CITY_CENTRES[c]), c) for c in kb.cities if c in CITY_CENTRES)
        if not ranked:
            return self.engine.render("offices", ctx), None
        km, city = ranked[0]
        return self.engine.render(f"city:{city}", ctx), self._(NEAREST, ctx) % {"city": city, "km": int(round(km))}

    def compose(self, screen: Screen, line: str | None, link: str | None, ctx: Context) -> str:
        """The reply's text within WeChat's size: the line, the screen's first lines (what to do), the
        numbered choices and the link to the whole page."""
        numbered = choices(screen)
        tail: list[str] = []
        if numbered:
            tail += ["", self._(CHOOSE, ctx)] + [f"{n}. {b.label}" for n, b in enumerate(numbered, 1)]
        if link:
            tail += ["", self._(FULL_LINK, ctx) + link]
        if screen.route == "main":
            tail += [self._(MENU_HINT, ctx)]
        tail_text = "\n".join(tail)
        head = "\n".join(part for part in (line, screen.text.strip()) if part)
        budget = MAX_REPLY_BYTES - len(tail_text.encode("utf-8")) - 1
        if budget < 200:  # many long labels: fewer of them rather than no text
            return fit(head + "\n" + tail_text, MAX_REPLY_BYTES, self._(CUT, ctx))
        return (fit(head, budget, self._(CUT, ctx)) + "\n" + tail_text).strip()

    def answer(self, message: Message, base_url: str) -> str | None:
        """The text to reply to one message (None: nothing to say). Retries of a message get the first reply."""
        key = self._keyed(self.openid_key, message.dedupe)
        farewell = self.farewells.get(key)
        if farewell is not None and farewell[0] > self.clock() - SEEN_KEEP_S:
            return farewell[1]
        user_id = self.user(message.openid)
        now = dt.datetime.now(dt.timezone.utc)
        first, earlier = self.store.wechat_claim(key, user_id, now, SEEN_KEEP_S, SEEN_MAX)
        if not first:
            return earlier
        ctx = self.ctx(user_id)
        try:
            screen, line = self.screen_for(message, user_id)
        except Exception as exc:  # noqa: BLE001 - one line without the message's text; the follower is told
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            log.error(
                "wechat: answering a %s message failed: %s at %s:%s",
                message.kind,
                type(exc).__name__,
                frame.filename.rsplit("/", 1)[-1],
                frame.lineno,
            )
            return self._(FAILED, ctx)
        if screen is None:
            return None
        if not self.store.is_wechat_user(user_id):  # the follower's data was just deleted: nothing is kept
            text = self.compose(screen, line, None, ctx)
            self._farewell(key, text)
            return text
        self._save(user_id, screen)
        route = screen.route if self.web.can_open(screen.route) else "main"
        text = self.compose(screen, line, self.link(base_url, user_id, route), ctx)
        self.store.wechat_answered(key, text)
        return text

    def _farewell(self, key: str, text: str) -> None:
        """Remember the reply to a message that deleted its sender's data for SEEN_KEEP_S (at most SEEN_MAX)."""
        now = self.clock()
        self.farewells = {k: v for k, v in self.farewells.items() if v[0] > now - SEEN_KEEP_S}
        while len(self.farewells) >= SEEN_MAX:
            del self.farewells[next(iter(self.farewells))]
        self.farewells[key] = (now, text)


# -- tornado handlers ------------------------------------------------------------------------------
@tornado.web.stream_request_body
class WeChatHandler(tornado.web.RequestHandler):
    """``/wechat``: WeChat's GET (URL verification) and POSTs (messages)."""

    def initialize(self, wechat: WeChat) -> None:
        self.wechat = wechat
        self.chunks: list[bytes] = []
        self.received = 0
        self.too_big = False
        self.refused: str | None = None

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def check_xsrf_cookie(self) -> None:
        """WeChat signs its requests instead of a CSRF token: the signature (query string) is checked
        here, before ``prepare`` and before the body is read."""
        self.refused = self._refusal()

    def _refusal(self) -> str | None:
        """Why the request is not WeChat's (None: it is signed with the token, and recent)."""
        timestamp = self.get_query_argument("timestamp", "")
        nonce = self.get_query_argument("nonce", "")
        if not signature_ok(self.get_query_argument("signature", ""), self.wechat.token, timestamp, nonce):
            return "wechat: the signature does not match EPORT_WECHAT_TOKEN"
        if not timestamp.isdigit() or len(timestamp) > 12 or abs(time.time() - int(timestamp)) > TIME_WINDOW_S:
            return "wechat: the timestamp is not within %d s of the server's clock" % TIME_WINDOW_S
        return None

    def prepare(self) -> None:
        if self.request.method != "POST":
            return
        declared = self.request.headers.get("Content-Length", "").strip()
        if declared and not declared.isdigit():
            raise tornado.web.HTTPError(400, "wechat: a malformed Content-Length")
        size = int(declared) if declared else None
        if self.refused:
            # refused before any of the body is read; a small one is skipped unread (never kept) so that the
            # client reads the 403 instead of a reset connection; a larger one ends the connection now
            if size is None or size > REFUSED_BODY:
                raise tornado.web.HTTPError(403, self.refused)
            self.request.connection.set_max_body_size(REFUSED_BODY)
            return
        if size is not None and size > MAX_BODY:
            raise tornado.web.HTTPError(413, "wechat: the body is too big")
        self.request.connection.set_max_body_size(MAX_BODY)

    def data_received(self, chunk: bytes) -> None:
        if self.refused:
            return  # skipped, not kept
        self.received += len(chunk)
        if self.received > MAX_BODY:
            self.too_big = True
            self.chunks = []
        else:
            self.chunks.append(chunk)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish({403: "forbidden\n", 413: "too big\n", 400: "bad request\n"}.get(status_code, "error\n"))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, tornado.web.HTTPError):
            log.warning("%s", value.log_message or value.status_code)
        else:  # the message's text is not in the line: the exception's kind and place only
            frame = traceback.extract_tb(tb)[-1] if tb else None
            log.error("wechat: %s at %s", typ.__name__, f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else "?")

    def get(self) -> None:
        """URL verification: ``echostr`` back when the signature is the token's."""
        refused = self._refusal()
        if refused:
            raise tornado.web.HTTPError(403, refused)
        echo = self.get_query_argument("echostr", "")
        if not echo or len(echo) > 256:
            raise tornado.web.HTTPError(400, "wechat: the verification has no echostr")
        self.finish(echo)

    async def post(self) -> None:
        if self.refused:
            raise tornado.web.HTTPError(403, self.refused)
        if self.too_big:
            raise tornado.web.HTTPError(413, "wechat: the body is too big")
        body, self.chunks = b"".join(self.chunks), []
        wechat = self.wechat
        encrypted = self.get_query_argument("encrypt_type", "raw").lower() == "aes"
        try:
            fields = parse_xml(body)
            if wechat.cipher is not None:
                if not encrypted:  # safe mode configured: a plain body is not the account's
                    raise Refused(403, "a plain message while EPORT_WECHAT_AES_KEY is set (safe mode)")
                sealed = fields.get("Encrypt", "")
                if not signature_ok(
                    self.get_query_argument("msg_signature", ""),
                    wechat.token,
                    self.get_query_argument("timestamp", ""),
                    self.get_query_argument("nonce", ""),
                    sealed,
                ):
                    raise Refused(403, "msg_signature does not match")
                fields = parse_xml(wechat.cipher.decrypt(sealed).encode("utf-8"))
            elif encrypted:
                raise Refused(403, "an encrypted message, but EPORT_WECHAT_AES_KEY is not set")
            message = Message.of(fields)
        except Refused as exc:
            raise tornado.web.HTTPError(exc.status, "wechat: %s" % exc) from None
        if message.kind == "text" or message.event in ("subscribe", "scan", "click"):
            await wechat.engine.ready()  # the first question after start: the matcher is built off the loop
        base = f"{self.request.protocol}://{self.request.host}"
        content = wechat.answer(message, base)
        if not content:
            self.finish("success")  # WeChat's "nothing to say"
            return
        now = str(int(time.time()))
        xml = text_reply(message.openid, message.account, content, int(now))
        if wechat.cipher is not None:
            xml = encrypted_reply(
                wechat.token, wechat.cipher, xml, now, self.get_query_argument("nonce", "") or secrets.token_hex(5)
            )
        self.set_header("Content-Type", "application/xml; charset=utf-8")
        self.finish(xml)


def link_handler(base: type) -> type:
    """``/wechat/link?t=…``: a reply's signed link. It makes the follower's internal user this browser's
    web session (the checklist ticked on the page is theirs) and opens the page."""

    class LinkHandler(base):  # type: ignore[misc, valid-type]
        def initialize(self, web: Any, wechat: WeChat) -> None:  # type: ignore[override]
            super().initialize(web)
            self.wechat = wechat

        def get(self) -> None:
            from .server import SESSION_COOKIE, route_href

            found = self.wechat.open_link(self.get_query_argument("t", "")[:600])
            if found is None:
                raise tornado.web.HTTPError(404)
            user_id, route = found
            if user_id is not None and self.user_id != user_id:
                token = sessions.adopt(self.web.store, user_id)
                self.write_cookie(SESSION_COOKIE, token, signed=True, expires_days=self.web.retention_days or 365)
            self.redirect(route_href(route) if self.web.can_open(route) else "/", status=303)

    return LinkHandler


def install(app: tornado.web.Application, settings: Any) -> WeChat | None:
    """Serve ``/wechat`` (and its links) on the web pages' application when EPORT_WECHAT_TOKEN is set."""
    if not getattr(settings, "wechat_token", None):
        return None
    from .server import Base

    web = app.web  # type: ignore[attr-defined]
    wechat = WeChat(web, settings)
    app.add_handlers(
        r".*",
        [(r"/wechat", WeChatHandler, {"wechat": wechat}), (r"/wechat/link", link_handler(Base), {"web": web, "wechat": wechat})],
    )
    app.wechat = wechat  # type: ignore[attr-defined]
    log.info("WeChat Official Account served at /wechat (%s mode)", "safe" if wechat.cipher else "plain")
    if not settings.web_url:
        log.warning(
            "EPORT_GUIDE_WEB_URL is not set: the links in WeChat replies use the address WeChat posted to "
            "(behind a TLS proxy that is http://, set EPORT_GUIDE_WEB_URL=https://…)"
        )
    try:  # the first question must not wait for the matcher: built now, in a worker thread
        asyncio.get_running_loop().run_in_executor(None, web.engine.warm_up)
    except RuntimeError:  # no loop (an application made for a test): built on first use, off the loop
        pass
    return wechat


# -- the custom menu and the help desk's QR scene values ------------------------------------------
MENU_TOP_BYTES = 16  # WeChat: a top-level button's name at most 16 bytes (4 Chinese characters)
MENU_SUB_BYTES = 60  # a sub-button's name at most 60 bytes
MENU_KEY_BYTES = 128
MENU_TOP = 3
MENU_SUB = 5
SCENE_MAX = 64  # a permanent QR code's scene_str: 1-64 characters


def _name(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def _click(name: str, route: str, limit: int) -> dict[str, str]:
    key = f"go:{route}"
    assert len(key.encode("utf-8")) <= MENU_KEY_BYTES, key
    return {"type": "click", "name": _name(name, limit), "key": key}


def menu(kb: Any) -> dict[str, Any]:
    """The custom menu from the knowledge, within WeChat's limits (3 buttons, 5 sub-buttons each, names in
    bytes): 办理业务 → the categories (each opens its businesses, numbered), 办理地点, 我的清单. More than five
    categories: the rest under 更多业务, 办理地点 and 我的清单 together under 地点·清单 (more than ten: the
    last sub-button is 全部业务, the main menu that lists every category)."""
    subs = [_click(c.name, f"category:{c.id}", MENU_SUB_BYTES) for c in kb.categories.values()]
    places = _click("办理地点", "offices", MENU_TOP_BYTES)
    lists = _click("我的清单", "checklists", MENU_TOP_BYTES)
    if len(subs) <= MENU_SUB:
        buttons = [{"name": "办理业务", "sub_button": subs}, places, lists]
    else:
        rest = subs[MENU_SUB:]
        if len(rest) > MENU_SUB:
            rest = rest[: MENU_SUB - 1] + [_click("全部业务", "main", MENU_SUB_BYTES)]
        buttons = [
            {"name": "办理业务", "sub_button": subs[:MENU_SUB]},
            {"name": "更多业务", "sub_button": rest},
            {
                "name": "地点·清单",
                "sub_button": [_click("办理地点", "offices", MENU_SUB_BYTES), _click("我的清单", "checklists", MENU_SUB_BYTES)],
            },
        ]
    return {"button": buttons[:MENU_TOP]}


def qr_request(scene: str) -> dict[str, Any]:
    """The qrcode/create request of a permanent QR code with a string scene value."""
    return {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}


def scenes(kb: Any) -> list[tuple[str, str]]:
    """(scene value, business name) per business: a permanent QR code with that scene_str opens it."""
    out = []
    for topic, business in kb.businesses.items():
        assert 1 <= len(topic) <= SCENE_MAX
        out.append((topic, business.name))
    return out


# -- WeChat's API: the access token (cached) and the menu ----------------------------------------
TOKEN_EARLY_S = 300  # a cached token is renewed this long before WeChat says it expires
TOKEN_INVALID = {40001, 40014, 42001}  # invalid or expired access token: fetched again once


class WeChatAPIError(Exception):
    """WeChat's API refused or could not be reached; the message never holds the secret or a token."""


class WeChatAPI:
    """The account's API calls. The access token is fetched with the AppID and AppSecret, cached in the
    database (one token per account for every process, as WeChat asks) until ``expires_in`` minus
    TOKEN_EARLY_S, and fetched again when a call says it is invalid or expired."""

    def __init__(self, store: Any, app_id: str, app_secret: str, base_url: str, *, timeout: float = 10.0, clock: Any = time.time):
        self.store, self.app_id, self.app_secret = store, app_id, app_secret
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.clock = clock
        self.fetched = 0  # access tokens fetched by this object (the tests count them)

    def _call(self, method: str, path: str, *, params: dict[str, str], body: bytes | None = None) -> dict[str, Any]:
        import httpx

        try:
            response = httpx.request(
                method,
                self.base_url + path,
                params=params,
                content=body,
                timeout=self.timeout,
                headers={"Content-Type": "application/json; charset=utf-8"} if body else None,
            )
            data = response.json()
        except httpx.HTTPError as exc:
            raise WeChatAPIError(
                f"cannot reach WeChat's API ({type(exc).__name__}); check the network and EPORT_WECHAT_API_URL"
            ) from None
        except ValueError:
            raise WeChatAPIError(f"WeChat's API answered {path} with HTTP {response.status_code}, not JSON") from None
        if not isinstance(data, dict):
            raise WeChatAPIError(f"WeChat's API answered {path} with something else than an object")
        return data

    def token(self, *, fresh: bool = False) -> str:
        """WeChat's access token: the stored one until it nearly expires, else a new one fetched and stored;
        WeChatAPIError with what to check when WeChat refuses."""
        cached = None if fresh else self.store.wechat_token(self.app_id)
        if cached is not None and cached[1] > self.clock():
            return cached[0]
        data = self._call(
            "GET", "/cgi-bin/token", params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret}
        )
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatAPIError(
                f"WeChat refused the access token: errcode {data.get('errcode')} "
                f"({str(data.get('errmsg', ''))[:80]}); check EPORT_WECHAT_APP_ID, EPORT_WECHAT_APP_SECRET "
                "and the account's IP whitelist"
            )
        self.fetched += 1
        self.store.set_wechat_token(self.app_id, token, self.clock() + max(expires_in - TOKEN_EARLY_S, 0))
        return token

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` as JSON with the access token; one retry with a new token if WeChat says it is stale."""
        import json

        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        for attempt in range(2):
            data = self._call("POST", path, params={"access_token": self.token(fresh=attempt > 0)}, body=body)
            if data.get("errcode") in TOKEN_INVALID and attempt == 0:
                self.store.set_wechat_token(self.app_id, None)
                continue
            break
        if data.get("errcode", 0) != 0:
            raise WeChatAPIError(f"WeChat refused {path}: errcode {data.get('errcode')} ({str(data.get('errmsg', ''))[:80]})")
        return data

    def push_menu(self, payload: dict[str, Any]) -> None:
        """Replaces the account's custom menu (menu/create) with this payload."""
        self.post("/cgi-bin/menu/create", payload)

    def qr_url(self, scene: str) -> str:
        """What the permanent QR code of a scene value encodes (qrcode/create, QR_LIMIT_STR_SCENE): scanned in
        WeChat it follows the account, or opens it for a follower, with that scene."""
        data = self.post("/cgi-bin/qrcode/create", qr_request(scene))
        url = data.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 500:
            raise WeChatAPIError("WeChat's qrcode/create answered without the code's url")
        return url
