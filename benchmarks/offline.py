"""A Bot API request object that never touches the network.

It answers every method the way Telegram does, without a network: a sent or edited
message comes back as a Message carrying the text (HTML parsed into plain text and
entities, as Telegram returns it), the entities and the inline keyboard that were sent;
edits return the edited message (True for inline messages), other methods True. The calls
are recorded in ``sent``, so the real Application can be driven with ``process_update``
in benchmarks and fuzz tests, measuring the bot and the library, not a network.
"""

from __future__ import annotations

import functools
import itertools
import json
import time
from html.parser import HTMLParser
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

BOT = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "E-Port Guide",
    "username": "eport_guide_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
BOT_JSON = json.dumps(BOT)
ENTITY_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Entities(HTMLParser):
    """Telegram-HTML → (plain text, entities with UTF-16 offsets), as the server parses it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.open: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        extra = {"url": dict(attrs).get("href") or ""} if tag == "a" else {}
        self.open.append((tag, self.length, extra))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            name, start, extra = self.open[i]
            if name == tag:
                del self.open[i]
                if tag in ENTITY_TAGS and self.length > start:
                    self.entities.append({"type": ENTITY_TAGS[tag], "offset": start, "length": self.length - start, **extra})
                return

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += _utf16(data)


@functools.lru_cache(maxsize=4096)
def parse_html(markup: str) -> tuple[str, tuple[dict[str, Any], ...]]:
    """What Telegram stores for a message sent with parse_mode HTML (cached: the server's work, not the bot's)."""
    parser = _Entities()
    parser.feed(markup)
    parser.close()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), tuple(entities)  # character references already resolved


@functools.lru_cache(maxsize=4096)
def _content_json(text: str, parse_mode: str | None, entities: str | None, markup: str | None) -> str:
    """The JSON members of a returned Message that repeat what was sent: text, entities, keyboard
    (cached: serialising the server's answer is the server's work, not the bot's)."""
    if parse_mode == "HTML":
        text, parsed = parse_html(text)
        members: dict[str, Any] = {"text": text, "entities": list(parsed)}
    else:
        members = {"text": text, "entities": json.loads(entities) if entities else None}
    if markup:
        members["reply_markup"] = json.loads(markup)
    return json.dumps({k: v for k, v in members.items() if v}, ensure_ascii=False)[1:-1]


def _as_json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def message_body(params: dict[str, Any], message_id: int) -> bytes:
    """The Bot API answer to sendMessage/editMessageText: the Message with the text (HTML parsed into text
    and entities), the entities and the keyboard as sent; an edit also carries edit_date."""
    chat_id = int(params.get("chat_id") or 1)
    now = int(time.time())
    chat = json.dumps({"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"})
    content = _content_json(
        str(params.get("text") or ""),
        params.get("parse_mode"),
        _as_json_text(params.get("entities")),
        _as_json_text(params.get("reply_markup")),
    )
    members = [f'"message_id":{message_id}', f'"date":{now}', f'"chat":{chat}', f'"from":{BOT_JSON}', content]
    if "message_id" in params:
        members.append(f'"edit_date":{now}')
    return ('{"ok":true,"result":{' + ",".join(m for m in members if m) + "}}").encode()


class OfflineRequest(BaseRequest):
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=None,
        write_timeout=None,
        connect_timeout=None,
        pool_timeout=None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.sent.append((name, params))
        if name == "getMe":
            result: Any = BOT
        elif name in ("editMessageText", "editMessageReplyMarkup") and "inline_message_id" in params:
            result = True  # an inline message is edited without a Message in return
        elif name in ("sendMessage", "editMessageText"):
            return 200, message_body(params, int(params.get("message_id") or next(self._ids)))
        elif name in ("sendDocument", "sendPhoto"):  # the checklist export; a prepared copy's example picture
            chat_id = params.get("chat_id") or 1
            result = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "supergroup"},
                "from": BOT,
            }
            if name == "sendPhoto":
                result["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1200, "height": 800}]
            else:
                result["document"] = {"file_id": "d", "file_unique_id": "d", "file_name": "checklist.txt"}
        elif name == "getUpdates":
            result = []
        elif name == "getFile":
            result = {"file_id": params.get("file_id"), "file_unique_id": "u", "file_size": 10, "file_path": "f"}
        else:
            result = True
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def clear(self) -> None:
        self.sent.clear()


_ids = itertools.count(1)


def user(uid: int, lang: str = "zh-hans") -> dict:
    return {"id": uid, "is_bot": False, "first_name": f"U{uid}", "language_code": lang}


def text_update(uid: int, text: str, chat_type: str = "private", chat_id: int | None = None) -> dict:
    chat_id = chat_id if chat_id is not None else uid
    msg: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "text": text,
        "from": user(uid),
        "chat": {"id": chat_id, "type": chat_type, **({"title": "G"} if chat_type != "private" else {})},
    }
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0].encode("utf-16-le")) // 2}]
    return {"update_id": next(_ids), "message": msg}


def callback_update(uid: int, data: str, message_id: int = 1) -> dict:
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": uid, "type": "private"},
        "from": BOT,
        "text": "menu",
    }
    return {
        "update_id": next(_ids),
        "callback_query": {"id": str(next(_ids)), "from": user(uid), "chat_instance": "c", "message": message, "data": data},
    }


def to_update(raw: dict, bot) -> Update:
    return Update.de_json(raw, bot)
