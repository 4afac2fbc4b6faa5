"""A Bot API request object that never touches the network.

It answers every method with a plausible result (the messages the bot "sent" are
recorded in ``sent``), so the real Application can be driven with ``process_update`` in
benchmarks and fuzz tests, measuring the bot and the library, not a network.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

BOT = {"id": 7000001, "is_bot": True, "first_name": "E-Port Guide", "username": "eport_guide_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}


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

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, read_timeout=None,
                         write_timeout=None, connect_timeout=None, pool_timeout=None) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.sent.append((name, params))
        if name == "getMe":
            result: Any = BOT
        elif name in ("sendMessage", "editMessageText", "sendDocument"):
            chat_id = params.get("chat_id") or 1
            result = {"message_id": params.get("message_id") or next(self._ids), "date": int(time.time()),
                      "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "supergroup"},
                      "from": BOT, "text": "ok"}
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
    msg: dict[str, Any] = {"message_id": next(_ids), "date": int(time.time()), "text": text, "from": user(uid),
                           "chat": {"id": chat_id, "type": chat_type, **({"title": "G"} if chat_type != "private" else {})}}
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0].encode("utf-16-le")) // 2}]
    return {"update_id": next(_ids), "message": msg}


def callback_update(uid: int, data: str, message_id: int = 1) -> dict:
    message = {"message_id": message_id, "date": int(time.time()), "chat": {"id": uid, "type": "private"}, "from": BOT, "text": "menu"}
    return {"update_id": next(_ids), "callback_query": {"id": str(next(_ids)), "from": user(uid), "chat_instance": "c",
                                                         "message": message, "data": data}}


def to_update(raw: dict, bot) -> Update:
    return Update.de_json(raw, bot)
