"""A small fake of the Telegram Bot API on 127.0.0.1, for end-to-end tests.

The real python-telegram-bot Application polls it exactly as it would poll Telegram;
tests act as users (send text, click buttons by label, send stickers/photos/documents,
ask inline queries) and read what each chat shows (messages, edits, callback answers).
Like Telegram it rejects bad HTML, texts over 4096 characters, callback data over 64
bytes, "message is not modified" edits and inline answers with duplicate result ids, and it
can inject faults (429, 5xx, 403, delays) per method, N times in a row (``fail_next``).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Callable

from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "eport_guide_test_bot"
STRING_PARAMS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "inline_query_id",
    "file_id",
    "url",
    "secret_token",
    "next_offset",
    "description",
    "short_description",
    "name",
    "language_code",
    "switch_pm_text",
    "switch_pm_parameter",
    "business_connection_id",
    "message_effect_id",
    "inline_message_id",
}
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def check_html(text: str) -> str:
    """Validate Telegram-HTML like the server does; return the visible plain text."""
    stack: list[str] = []
    pos = 0
    for m in TAG.finditer(text):
        between = text[pos : m.start()]
        if "<" in between:
            raise ApiError(
                400, "Bad Request: can't parse entities: unsupported start tag at byte offset %d" % text.index("<", pos)
            )
        pos = m.end()
        closing, tag = m.group(1), m.group(2).lower()
        if tag not in ALLOWED_TAGS:
            raise ApiError(400, f'Bad Request: can\'t parse entities: unsupported start tag "{tag}"')
        if closing:
            if not stack or stack[-1] != tag:
                raise ApiError(400, f'Bad Request: can\'t parse entities: unmatched end tag "{tag}"')
            stack.pop()
        else:
            stack.append(tag)
    if "<" in text[pos:]:
        raise ApiError(400, "Bad Request: can't parse entities: unsupported start tag")
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\"")
    for amp in re.finditer("&", text):
        if not ENTITY.match(text, amp.start()):
            raise ApiError(400, "Bad Request: can't parse entities: character '&' is reserved and must be escaped")
    return html.unescape(TAG.sub("", text))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Plain(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_data(self, data):
        self.out.append(data)


def plain(markup: str) -> str:
    p = _Plain()
    p.feed(markup)
    return "".join(p.out)


@dataclass
class BotMessage:
    """A message the bot sent, as the chat shows it now."""

    message_id: int
    chat_id: int
    text: str  # as sent (HTML if parse_mode is HTML)
    parse_mode: str | None
    reply_markup: dict | None
    document: dict | None = None
    edits: list[str] = field(default_factory=list)  # earlier texts, oldest first

    @property
    def plain(self) -> str:
        return plain(self.text) if self.parse_mode == "HTML" else self.text

    @property
    def buttons(self) -> list[dict]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    @property
    def labels(self) -> list[str]:
        return [b["text"] for b in self.buttons]


@dataclass
class Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    delay: float
    chat_id: int | None
    times: int


class FakeTelegram:
    def __init__(self, token: str = "123456789:TEST-token_abcdefghijklmnopqrstuvwxyz"):
        self.token = token
        self.updates: list[dict] = []
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(100)
        self.query_ids = itertools.count(1)
        self.file_ids = itertools.count(1)
        self.photos: dict[str, bytes] = {}  # file_id → the bytes of a photo the bot uploaded
        self.chats: dict[int, list[BotMessage]] = {}
        self.user_messages: dict[int, dict] = {}
        self.callback_answers: dict[str, dict] = {}
        self.inline_answers: dict[str, dict] = {}
        self.files: dict[str, bytes | int] = {}
        self.requests: list[tuple[str, dict, float]] = []
        self.faults: list[Fault] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}  # (kind, language_code) → text
        self.webhook: dict | None = None  # the last setWebhook parameters
        self.changed = asyncio.Condition()
        self.offset_seen = 0
        # set by the test's bot (conftest.running_bot): whether it has handled an update
        self.handled: Callable[[int], bool] | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server -----------------------------------------------------------------------
    async def start(self) -> "FakeTelegram":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if request.content_type == "application/json":
            raw = await request.json() if request.can_read_body else {}
            return raw
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    raw[part.name] = {"file_name": part.filename, "data": await part.read(decode=False)}
                else:
                    raw[part.name] = await part.text()
        else:
            raw = dict(await request.post())
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and key not in STRING_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"].lower()
        params = await self._params(request)
        self.requests.append((method, params, time.monotonic()))
        if method == "getupdates":
            await self._notify()  # observers may wait for the poll itself, not its answer
        try:
            await self._maybe_fault(method, params)
            handler = getattr(self, f"api_{method}", None)
            result = await handler(params) if handler else True
        except ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            await self._notify()
            return web.json_response(body, status=exc.code)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        data = self.files.get(path)
        if request.match_info["token"] != self.token or not isinstance(data, bytes):
            return web.Response(status=404)
        return web.Response(body=data)

    async def _maybe_fault(self, method: str, params: dict) -> None:
        for fault in self.faults:
            if fault.method != method or fault.times <= 0:
                continue
            if fault.chat_id is not None and int(params.get("chat_id", 0) or 0) != fault.chat_id:
                continue
            fault.times -= 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                raise ApiError(fault.status, fault.description, fault.retry_after)
            return

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (status 0 with delay = just slow)."""
        default = {
            429: f"Too Many Requests: retry after {retry_after or 1}",
            403: "Forbidden: bot was blocked by the user",
            500: "Internal Server Error",
            502: "Bad Gateway",
            0: "",
        }.get(status, "Error")
        if status == 429 and retry_after is None:
            retry_after = 1
        self.faults.append(Fault(method.lower(), status, description or default, retry_after, delay, chat_id, times))

    def calls(self, method: str) -> list[dict]:
        return [p for m, p, _ in self.requests if m == method.lower()]

    # -- Bot API methods ----------------------------------------------------------------
    def me(self) -> dict:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "E-Port Guide",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def api_getme(self, p):
        return self.me()

    async def api_getupdates(self, p):
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        if offset:
            self.offset_seen = max(self.offset_seen, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        async with self.changed:
            while not self.updates and not self._closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    break
        return list(self.updates[: min(int(p.get("limit") or 100), 100)])

    async def api_deletewebhook(self, p):
        self.webhook = None
        return True

    async def api_setwebhook(self, p):
        self.webhook = p
        return True

    async def api_setmydescription(self, p):
        if len(p.get("description") or "") > 512:
            raise ApiError(400, "Bad Request: description is too long")
        self.descriptions[("description", p.get("language_code") or "")] = p.get("description") or ""
        return True

    async def api_setmyshortdescription(self, p):
        if len(p.get("short_description") or "") > 120:
            raise ApiError(400, "Bad Request: short description is too long")
        self.descriptions[("short_description", p.get("language_code") or "")] = p.get("short_description") or ""
        return True

    async def api_setmycommands(self, p):
        scope = (p.get("scope") or {}).get("type", "default")
        self.commands[(scope, p.get("language_code") or "")] = p.get("commands") or []
        return True

    async def api_getmycommands(self, p):
        scope = (p.get("scope") or {}).get("type", "default")
        return self.commands.get((scope, p.get("language_code") or ""), [])

    def _check_markup(self, markup: dict | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for b in row:
                if "callback_data" in b and not 1 <= len(b["callback_data"].encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if "copy_text" in b and len(b["copy_text"].get("text", "")) > 256:
                    raise ApiError(400, "Bad Request: COPY_TEXT_INVALID")
                if not b.get("text"):
                    raise ApiError(400, "Bad Request: button text is empty")

    def _check_text(self, text: str, parse_mode: str | None) -> None:
        visible = check_html(text) if parse_mode == "HTML" else text
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > 4096:
            raise ApiError(400, "Bad Request: message is too long")

    def _message_json(self, m: BotMessage) -> dict:
        chat = self.user_messages.get(m.chat_id, {}).get("chat") or {"id": m.chat_id, "type": "private"}
        out = {
            "message_id": m.message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "E-Port Guide", "username": BOT_USERNAME},
        }
        if m.document and m.document.get("photo"):
            out["photo"] = [
                {
                    "file_id": m.document["file_id"],
                    "file_unique_id": m.document["file_unique_id"],
                    "width": 1280,
                    "height": 900,
                    "file_size": m.document["file_size"],
                }
            ]
            if m.text:
                out["caption"] = m.plain
        elif m.document:
            out["document"] = {k: v for k, v in m.document.items() if k != "data"}
            if m.text:
                out["caption"] = m.plain
        else:
            out["text"] = m.plain
        if m.reply_markup:
            out["reply_markup"] = m.reply_markup
        return out

    def _chat_id(self, p) -> int:
        try:
            return int(p["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found")

    async def api_sendmessage(self, p):
        chat_id = self._chat_id(p)
        text, mode = p.get("text") or "", p.get("parse_mode")
        self._check_text(text, mode)
        self._check_markup(p.get("reply_markup"))
        m = BotMessage(next(self.message_ids), chat_id, text, mode, p.get("reply_markup"))
        self.chats.setdefault(chat_id, []).append(m)
        return self._message_json(m)

    def find(self, chat_id: int, message_id: int) -> BotMessage:
        for m in self.chats.get(chat_id, []):
            if m.message_id == message_id:
                return m
        raise ApiError(400, "Bad Request: message to edit not found")

    async def api_editmessagetext(self, p):
        m = self.find(self._chat_id(p), int(p.get("message_id") or 0))
        text, mode = p.get("text") or "", p.get("parse_mode")
        self._check_text(text, mode)
        self._check_markup(p.get("reply_markup"))
        if text == m.text and p.get("reply_markup") == m.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            )
        m.edits.append(m.text)
        m.text, m.parse_mode, m.reply_markup = text, mode, p.get("reply_markup")
        return self._message_json(m)

    async def api_editmessagereplymarkup(self, p):
        m = self.find(self._chat_id(p), int(p.get("message_id") or 0))
        self._check_markup(p.get("reply_markup"))
        m.reply_markup = p.get("reply_markup")
        return self._message_json(m)

    async def api_deletemessage(self, p):
        chat = self.chats.get(self._chat_id(p), [])
        self.chats[self._chat_id(p)] = [m for m in chat if m.message_id != int(p.get("message_id") or 0)]
        return True

    async def api_answercallbackquery(self, p):
        qid = p.get("callback_query_id")
        if qid not in self.callback_answers or self.callback_answers[qid].get("answered"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[qid].update(
            answered=True, text=p.get("text"), show_alert=bool(p.get("show_alert")), url=p.get("url")
        )
        return True

    async def api_answerinlinequery(self, p):
        qid = p.get("inline_query_id")
        if qid not in self.inline_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        ids = [r.get("id") for r in p.get("results") or []]
        if len(set(ids)) < len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for r in p.get("results") or []:
            if not 1 <= len(str(r.get("id") or "").encode()) <= 64:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            self._check_markup(r.get("reply_markup"))
            content = r.get("input_message_content") or {}
            if "message_text" in content:
                self._check_text(content["message_text"], content.get("parse_mode"))
        self.inline_answers[qid] = {"answered": True, **p}
        return True

    async def api_senddocument(self, p):
        chat_id = self._chat_id(p)
        doc = p.get("document")
        if not isinstance(doc, dict):
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption, mode = p.get("caption") or "", p.get("parse_mode")
        if caption:
            self._check_text(caption, mode)
        file_id = f"doc{next(self.file_ids)}"
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": doc["file_name"],
            "file_size": len(doc["data"]),
            "data": doc["data"],
        }
        m = BotMessage(next(self.message_ids), chat_id, caption, mode, p.get("reply_markup"), document=document)
        self.chats.setdefault(chat_id, []).append(m)
        return self._message_json(m)

    async def api_sendphoto(self, p):
        """A photo uploaded (multipart) or sent again by the file_id an earlier upload got."""
        chat_id = self._chat_id(p)
        photo = p.get("photo")
        if isinstance(photo, dict):
            file_id = f"photo{next(self.file_ids)}"
            self.photos[file_id] = photo["data"]
        elif isinstance(photo, str) and photo in self.photos:
            file_id = photo
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = p.get("caption") or ""
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        data = self.photos[file_id]
        m = BotMessage(
            next(self.message_ids),
            chat_id,
            caption,
            p.get("parse_mode"),
            p.get("reply_markup"),
            document={
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": "photo.png",
                "file_size": len(data),
                "data": data,
                "photo": True,
            },
        )
        self.chats.setdefault(chat_id, []).append(m)
        return self._message_json(m)

    async def api_getfile(self, p):
        file_id = p.get("file_id")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        data = self.files[file_id]
        size = data if isinstance(data, int) else len(data)
        if size > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": size, "file_path": file_id}

    # -- acting as users -----------------------------------------------------------------
    async def push(self, update: dict) -> int:
        update_id = next(self.update_ids)
        self.updates.append({"update_id": update_id, **update})
        await self._notify()
        return update_id

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        async with self.changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; chats: {self.describe()}")
                try:
                    await asyncio.wait_for(self.changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass

    async def processed(self, update_id: int, timeout: float = 15.0) -> None:
        """Wait until the bot has confirmed an update (fetched past it), handled it (``handled``, when the
        bot under test tells: its inbox marked it done) and gone quiet. The wait is long (a machine busy with
        other work can take seconds over a 4,000-character question); it ends as soon as the bot is done."""
        await self.wait_for(lambda: self.offset_seen > update_id, timeout, f"update {update_id} to be confirmed")
        if self.handled is not None:  # an event, not a quiet moment that a slow machine can leave before the answer
            deadline = time.monotonic() + max(timeout, 15.0)
            while not self.handled(update_id):
                assert time.monotonic() < deadline, f"update {update_id} was not handled; chats: {self.describe()}"
                await asyncio.sleep(0.01)
        await self.settle()

    async def settle(self, quiet: float = 0.15, timeout: float = 5.0) -> None:
        """Wait until no API request (other than polling) arrived for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = [t for m, _, t in self.requests if m != "getupdates" and time.monotonic() - t < quiet]
            if not busy:
                return
            await asyncio.sleep(quiet / 3)

    def describe(self) -> str:
        return "; ".join(f"{cid}: {[m.plain[:40] for m in msgs]}" for cid, msgs in self.chats.items())

    def user(self, id: int = 1001, first_name: str = "Ivan", language_code: str | None = "zh-hans") -> "FakeUser":
        return FakeUser(self, id, first_name, language_code)

    def group(self, id: int = -100123, title: str = "Traders", type: str = "supergroup") -> "FakeGroup":
        return FakeGroup(self, id, title, type)

    async def channel_post(self, text: str, chat_id: int = -100999) -> int:
        chat = {"id": chat_id, "type": "channel", "title": "News"}
        return await self.push(
            {"channel_post": {"message_id": next(self.message_ids), "date": int(time.time()), "chat": chat, "text": text}}
        )


def _entities(text: str) -> list[dict]:
    out = []
    for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?|@[A-Za-z0-9_]{5,}", text):
        kind = "bot_command" if m.group(0).startswith("/") else "mention"
        if kind == "bot_command" and m.start() != 0:
            continue
        out.append({"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))})
    return out


class FakeUser:
    def __init__(self, fake: FakeTelegram, id: int, first_name: str, language_code: str | None):
        self.fake, self.id = fake, id
        self.info = {"id": id, "is_bot": False, "first_name": first_name}
        if language_code:
            self.info["language_code"] = language_code
        self.chat = {"id": id, "type": "private", "first_name": first_name}
        self._seen = 0

    @property
    def messages(self) -> list[BotMessage]:
        return self.fake.chats.get(self.id, [])

    @property
    def last(self) -> BotMessage:
        assert self.messages, "the bot has sent nothing to this user"
        return self.messages[-1]

    def _message(self, **content) -> dict:
        message = {
            "message_id": next(self.fake.message_ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.info,
            **content,
        }
        self.fake.user_messages[self.id] = message
        return message

    async def send(self, text: str, wait: bool = True) -> BotMessage | None:
        """Send text (commands get bot_command entities); returns the bot's newest message."""
        return await self._push(self.message_update(text), wait)

    async def _push(self, update: dict, wait: bool) -> BotMessage | None:
        before = len(self.messages)
        update_id = await self.fake.push(update)
        if not wait:
            return None
        await self.fake.processed(update_id)
        return self.messages[-1] if len(self.messages) > before else None

    async def edit(self, original_text: str, new_text: str) -> BotMessage | None:
        msg = self._message(text=new_text, edit_date=int(time.time()))
        return await self._push({"edited_message": msg}, True)

    async def send_sticker(self) -> BotMessage | None:
        sticker = {
            "file_id": "stk1",
            "file_unique_id": "stk1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._push({"message": self._message(sticker=sticker)}, True)

    async def send_photo(self, data: bytes = b"\xff\xd8\xff\xe0fakejpeg") -> BotMessage | None:
        fid = f"ph{next(self.fake.file_ids)}"
        self.fake.files[fid] = data
        sizes = [{"file_id": fid, "file_unique_id": fid, "width": 1280, "height": 960, "file_size": len(data)}]
        return await self._push({"message": self._message(photo=sizes)}, True)

    async def send_document(
        self, data: bytes | None, file_name: str, mime_type: str = "application/octet-stream", size: int | None = None
    ) -> BotMessage | None:
        fid = f"file{next(self.fake.file_ids)}"
        self.fake.files[fid] = data if data is not None else (size or 0)
        doc = {
            "file_id": fid,
            "file_unique_id": fid,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": size if size is not None else len(data or b""),
        }
        # a private chat's file is always answered (its check, or why not): wait for that answer, not for a quiet
        # moment (the check runs in a worker thread without Bot API traffic, longer than a quiet moment when cold)
        before = len(self.messages)
        await self._push({"message": self._message(document=doc)}, False)
        await self.fake.wait_for(lambda: len(self.messages) > before, timeout=15, what=f"the answer to the file {file_name}")
        return self.messages[-1]

    def button(self, message: BotMessage, label: str) -> dict:
        for b in message.buttons:
            if b["text"] == label:
                return b
        for b in message.buttons:
            if b["text"].startswith(label):
                return b
        raise AssertionError(f"no button {label!r}; the message has {message.labels}")

    async def click(self, message: BotMessage, label: str) -> dict:
        """Press an inline button by its label; returns the callback answer record."""
        return await self.press_data(message, self.button(message, label)["callback_data"])

    async def ask_reminder(self, kind: str) -> BotMessage:
        """Go to a reminder's date question the way users do (Chinese labels): the 退单 reminder from
        /reminders, the certificate expiry one from the renewal screen. Returns the question."""
        if kind == "refund":
            await self.click(await self.send("/reminders"), "➕ 退单提醒")
        else:
            await self.click(await self.send("/start renew_cert"), "⏰ 证书到期提醒")
        return self.last

    def press_update(self, message_id: int, text: str, data: str) -> tuple[str, dict]:
        """(callback query id, the update) of a press of a button with ``data`` under one of the bot's
        messages, not yet sent (``fake.push`` sends it)."""
        qid = str(next(self.fake.query_ids))
        self.fake.callback_answers[qid] = {"answered": False}
        msg = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "E-Port Guide"},
            "text": text,
        }
        return qid, {
            "callback_query": {"id": qid, "from": self.info, "chat_instance": f"ci{self.id}", "message": msg, "data": data}
        }

    def message_update(self, text: str) -> dict:
        """A text message (commands get bot_command entities), not yet sent (``fake.push`` sends it)."""
        entities = _entities(text)
        return {"message": self._message(text=text, **({"entities": entities} if entities else {}))}

    async def press_data(self, message: BotMessage, data: str) -> dict:
        qid, update = self.press_update(message.message_id, message.plain, data)
        await self._push(update, True)
        return self.fake.callback_answers[qid]

    async def inline_query(self, query: str) -> dict:
        qid = f"iq{next(self.fake.query_ids)}"
        self.fake.inline_answers[qid] = {"answered": False}
        update = {"inline_query": {"id": qid, "from": self.info, "query": query, "offset": ""}}
        await self._push(update, True)
        return self.fake.inline_answers[qid]


class FakeGroup:
    def __init__(self, fake: FakeTelegram, id: int, title: str, type: str):
        self.fake, self.id = fake, id
        self.chat = {"id": id, "type": type, "title": title}

    @property
    def messages(self) -> list[BotMessage]:
        return self.fake.chats.get(self.id, [])

    async def send(self, user: FakeUser, text: str) -> BotMessage | None:
        entities = _entities(text)
        msg = {
            "message_id": next(self.fake.message_ids),
            "date": int(time.time()),
            "chat": self.chat,
            "from": user.info,
            "text": text,
            **({"entities": entities} if entities else {}),
        }
        self.fake.user_messages[self.id] = msg
        before = len(self.messages)
        update_id = await self.fake.push({"message": msg})
        await self.fake.processed(update_id)
        return self.messages[-1] if len(self.messages) > before else None

    async def press(self, user: FakeUser, message: BotMessage, data: str) -> dict:
        """``user`` presses a button with callback ``data`` on a message the bot sent to this group."""
        qid = str(next(self.fake.query_ids))
        self.fake.callback_answers[qid] = {"answered": False}
        msg = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "E-Port Guide"},
            "text": message.plain,
        }
        update = {"callback_query": {"id": qid, "from": user.info, "chat_instance": f"ci{self.id}", "message": msg, "data": data}}
        update_id = await self.fake.push(update)
        await self.fake.processed(update_id)
        return self.fake.callback_answers[qid]
