"""Random and hostile updates through the real application (offline request).

Bounded in the normal suite; `make fuzz` runs 100,000 examples (EPORT_FUZZ_EXAMPLES).
Button presses forge every route name and every action of dialogs/screens.yaml with random
arguments, from every kind of chat (private, group, supergroup, channel, inline messages):
never a traceback, always an answer, nothing personal outside the private chat, the
statistics to no one but the admin.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest
import yaml

from benchmarks.offline import BOT, OfflineRequest
from pathlib import Path

from bot.app import build_application
from bot.settings import Settings
from knowledge import load_knowledge

from .fake_telegram import ApiError, check_html

EXAMPLES = int(os.environ.get("EPORT_FUZZ_EXAMPLES", "150"))
TOKEN = "123456789:FUZZ-token_abcdefghijklmnopqrstuvwxyz"

hostile = st.sampled_from([
    "", " ", "\x00", "\u202e卡丢了", "<b>丢失</b>", "</i>", "&", "&amp;&lt;", "<script>alert(1)</script>", "@" + BOT["username"],
    "/start", "/start reissue_lost", "/start ../../etc", "/start " + "x" * 300, "/menu", "/checklist", "/forget", "/privacy",
    "/reminders", "/settings", "/stats", "/reload", "/nonsense", "/help@" + BOT["username"], "/help@other_bot", "🙂" * 50,
    "卡丢了怎么办" * 400, "x" * 4096, "\n\n\n", "٣٤٥ مرحبا", "2026-02-30", "今天",
])
PAYLOADS = ["<script>", "<b>丢失</b>", "<img", "<u>x"]
hostile = st.one_of(hostile, st.sampled_from(PAYLOADS).map(lambda p: f"{p}卡丢了{p}"))
texts = st.one_of(hostile, st.text(max_size=80), st.text(alphabet=st.characters(max_codepoint=0x2FFFF), max_size=300))
callback_data = st.one_of(st.sampled_from(["e1|g|main", "e1|g|topic:nope", "e0|g|main", "e1|x|unlock:agent_id.copy",
                                           "e1|x|unlock:" + "a" * 60, "e1|checklist_open|unlock", "e1|fb|unlock:-1",
                                           "e1|forget_confirm|", "e1|remind|refund", "e1|reminder_cancel|999"]),
                          st.text(max_size=100))
chat_types = st.sampled_from(["private", "private", "group", "supergroup"])

# every route name and every action, with random arguments
SPEC = yaml.safe_load((Path(__file__).resolve().parent.parent / "dialogs" / "screens.yaml").read_text(encoding="utf-8"))
SCREEN_NAMES, ACTION_NAMES = sorted(SPEC["screens"]), sorted(SPEC["actions"])
ADMIN = 1
_kb = load_knowledge()
IDS = sorted({*_kb.businesses, *_kb.materials, *_kb.facts, *_kb.cities, *(s.id for s in _kb.steps), "refund", "expiry",
              "on", "off", "zh", "ru", "en", *(i.id for t in _kb.businesses for i in _kb.checklist_items(t))})
word = st.one_of(st.sampled_from(IDS), st.sampled_from(["", "0", "1", "-1", "2", "3", "9" * 40, "١٢٣", "²", "..", "%s", "{{x}}"]),
                 st.integers(-10, 10**20).map(str), st.text(max_size=20))
args = st.lists(word, max_size=4).map(":".join)
forged = st.one_of(
    st.builds(lambda screen, arg: f"e1|go|{screen}" + (f":{arg}" if arg else ""), st.sampled_from(SCREEN_NAMES), args),
    st.builds(lambda action, arg: f"e1|{action}|{arg}", st.sampled_from(ACTION_NAMES), args),
)
button_chats = st.sampled_from(["private", "group", "supergroup", "channel", "inline"])
# what only personal screens show: their buttons' actions and the checklist's progress bar
PERSONAL = ("e1|tick|", "e1|t|", "e1|forget_confirm|", "e1|settings_reminders|", "e1|set_language|", "e1|reminder_cancel|",
            "e1|checklist_reset_confirm|", "e1|checklist_export|", "e1|checklist_switch|", "e1|remind_today|", "░", "▓")
STATS = "📊"  # the statistics screen's title, in every language


@st.composite
def updates(draw):
    uid = draw(st.integers(min_value=1, max_value=5))
    chat_type = draw(chat_types)
    chat_id = uid if chat_type == "private" else -100 - uid
    chat = {"id": chat_id, "type": chat_type, **({"title": "G"} if chat_type != "private" else {})}
    sender = {"id": uid, "is_bot": False, "first_name": draw(st.text(max_size=10)) or "U"}
    if draw(st.booleans()):
        sender["language_code"] = draw(st.sampled_from(["zh-hans", "ru", "en", "xx", ""]))
    kind = draw(st.sampled_from(["message", "message", "edited_message", "channel_post", "callback_query", "sticker", "document"]))
    base = {"message_id": draw(st.integers(1, 10_000)), "date": int(time.time()), "chat": chat, "from": sender}
    if kind in ("message", "edited_message"):
        text = draw(texts)
        msg = {**base, "text": text}
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0].encode("utf-16-le")) // 2 if text.split() else 1}]
        if kind == "edited_message":
            msg["edit_date"] = int(time.time())
        return kind, {"update_id": 1, kind: msg}
    if kind == "channel_post":
        return kind, {"update_id": 1, "channel_post": {"message_id": 1, "date": int(time.time()), "text": draw(texts),
                                                        "chat": {"id": -1009, "type": "channel", "title": "C"}}}
    if kind == "sticker":
        sticker = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1, "is_animated": False, "is_video": False}
        return kind, {"update_id": 1, "message": {**base, "sticker": sticker}}
    if kind == "document":
        doc = {"file_id": "d", "file_unique_id": "d", "file_name": draw(texts)[:60] or None,
               "file_size": draw(st.integers(0, 50 * 1024 * 1024))}
        return kind, {"update_id": 1, "message": {**base, "document": {k: v for k, v in doc.items() if v is not None}}}
    data = draw(st.one_of(callback_data, forged, forged))
    where = draw(button_chats)
    query = {"id": "q", "from": sender, "chat_instance": "c", "data": data}
    if where == "inline":  # a button under a message sent in inline mode: no chat at all
        query["inline_message_id"] = "im1"
    else:
        chat_id = uid if where == "private" else -100 - uid
        query["message"] = {"message_id": 1, "date": int(time.time()), "from": BOT, "text": "menu",
                            "chat": {"id": chat_id, "type": where, **({"title": "G"} if where != "private" else {})}}
    return f"callback_{where}", {"update_id": 1, "callback_query": query}


class Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


class Harness:
    """One application for all examples (building it per example would dominate the run)."""

    def __init__(self, tmp_dir):
        self.loop = asyncio.new_event_loop()
        self.request = OfflineRequest()
        settings = Settings(token=TOKEN, db_path=str(tmp_dir / "fuzz.db"), admins=frozenset({ADMIN}), bot_username=BOT["username"])
        self.app = build_application(settings, request=self.request, rate_limit=False)
        self.loop.run_until_complete(self.app.initialize())
        self.errors = Errors()
        logging.getLogger().addHandler(self.errors)

    def feed(self, raw: dict):
        from telegram import Update

        self.request.clear()
        self.errors.records.clear()
        update = Update.de_json(raw, self.app.bot)

        async def process():
            await self.app.process_update(update)
            # handlers that do not block the update queue (/reload) finish in their own tasks
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if others:
                await asyncio.wait(others, timeout=60)

        self.loop.run_until_complete(process())
        return list(self.request.sent)

    def close(self):
        logging.getLogger().removeHandler(self.errors)
        self.loop.run_until_complete(self.app.shutdown())
        self.app.bot_data["guide"].close()
        self.loop.close()


@pytest.mark.filterwarnings("ignore:Tasks created via:UserWarning")  # the harness awaits them itself (Harness.feed)
def test_hostile_updates_never_crash_and_private_messages_get_a_reply(tmp_path_factory):
    harness = Harness(tmp_path_factory.mktemp("fuzz"))

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(updates())
    def run(example):
        kind, raw = example
        sent = harness.feed(raw)
        assert not harness.errors.records, harness.errors.records[-1].getMessage()
        outgoing = [(m, p) for m, p in sent if m in ("sendMessage", "editMessageText", "sendDocument")]
        for method, params in outgoing:
            text = params.get("text") or ""
            if params.get("parse_mode") == "HTML":
                try:
                    check_html(text)
                except ApiError as exc:  # pragma: no cover - the assertion message is the point
                    raise AssertionError(f"invalid HTML sent: {exc.description}: {text[:200]!r}") from None
            user_text = (raw.get("message") or raw.get("edited_message") or {}).get("text") or ""
            # payloads that never occur in our own markup must never appear raw (they may appear escaped)
            for payload in PAYLOADS:
                if payload in user_text:
                    assert payload not in text, f"user text echoed unescaped into HTML: {payload}"
        message = raw.get("message") or raw.get("edited_message")
        if message and message["chat"]["type"] == "private" and kind in ("message", "edited_message", "sticker", "document"):
            assert outgoing, f"no reply to a private {kind}: {message.get('text', '')[:80]!r}"
        if kind.startswith("callback_"):
            assert any(m == "answerCallbackQuery" for m, _ in sent), "a button press was not answered"
        sender = ((message or {}).get("from") or (raw.get("callback_query") or {}).get("from") or {}).get("id")
        for method, params in outgoing:
            shown = (params.get("text") or "") + str(params.get("reply_markup") or "")
            if sender != ADMIN:
                assert STATS not in shown, f"statistics shown to user {sender} ({kind})"
            chat_id = params.get("chat_id")
            if chat_id is None or int(chat_id) < 0:  # a group, a channel or an inline message
                leaked = [p for p in PERSONAL if p in shown]
                assert not leaked, f"personal screen outside the private chat ({kind}, {leaked}): {shown[:200]!r}"

    try:
        run()
    finally:
        harness.close()
