"""Random and hostile updates through the real application (offline request).

Two tests, each on fresh state (a new application and database) so a failure replays the same way:

- the sweep sends every hand-written hostile text from every kind of chat, and presses every
  hand-written forged button, every route name and every action of dialogs/screens.yaml with a
  hostile argument, from every kind of chat — all of them on every run;
- the conversation machine (a Hypothesis state machine, one fresh application per example) mixes
  random and hostile messages with buttons the bot really showed, pressed by their user or by
  another one, so it reaches the screens behind a flow (the reminder date prompt, confirmations).

After every update: never a traceback, always an answer in a private chat and to a button, valid
HTML with the user's text escaped, nothing personal outside the private chat, the statistics to no
one but the admin. The suite runs a bounded number of examples with a fixed seed; `make fuzz` runs
100,000 updates (EPORT_FUZZ_EXAMPLES) with a random seed (EPORT_FUZZ_SEED) that it prints;
`EPORT_FUZZ_SEED=<seed> make fuzz` replays that run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, precondition, rule, run_state_machine_as_test

from benchmarks.offline import BOT, OfflineRequest
from bot.app import build_application
from bot.settings import Settings
from dialogs.guide import build_guide
from knowledge import load_knowledge

from .conftest import user_columns
from .fake_telegram import ApiError, check_html

EXAMPLES = int(os.environ.get("EPORT_FUZZ_EXAMPLES", "300"))  # updates the conversation machine sends in all
STEPS = int(os.environ.get("EPORT_FUZZ_STEPS", "15"))  # updates per conversation
SEED = int(os.environ.get("EPORT_FUZZ_SEED") or 20261130)  # `make fuzz` passes a random one and prints it
TOKEN = "123456789:FUZZ-token_abcdefghijklmnopqrstuvwxyz"
ADMIN = 1

KB = load_knowledge()  # read once: every fresh application shares it (it is never changed)
# payloads that never occur in our own markup: they may come back escaped, never raw
PAYLOADS = ["<script>", "<b>丢失</b>", "<img", "<u>x"]
HOSTILE_TEXTS = [
    "",
    " ",
    "\x00",
    "\u202e卡丢了",
    "<b>丢失</b>",
    "</i>",
    "&",
    "&amp;&lt;",
    "<script>alert(1)</script>",
    "@" + BOT["username"],
    "/start",
    "/start reissue_lost",
    "/start ../../etc",
    "/start " + "x" * 300,
    "/menu",
    "/checklist",
    "/forget",
    "/privacy",
    "/reminders",
    "/settings",
    "/stats",
    "/reload",
    "/nonsense",
    "/help@" + BOT["username"],
    "/help@other_bot",
    "🙂" * 50,
    "卡丢了怎么办" * 400,
    "x" * 4096,
    "\n\n\n",
    "٣٤٥ مرحبا",
    "2026-02-30",
    "今天",
    *(f"{p}卡丢了{p}" for p in PAYLOADS),
    *(f"2027-01-0{i}{p}" for i, p in enumerate(PAYLOADS, 1)),
]
HOSTILE_CALLBACKS = [
    "e1|g|main",
    "e1|g|topic:nope",
    "e0|g|main",
    "e1|x|unlock:agent_id.copy",
    "e1|x|unlock:" + "a" * 60,
    "e1|checklist_open|unlock",
    "e1|fb|unlock:-1",
    "e1|forget_confirm|",
    "e1|remind|refund",
    "e1|reminder_cancel|999",
    "",
    "e1",
    "e1|",
    "e1||",
    "|||",
    "e1|go|",
    "e1|go|:",
    "e1|go|main:" + ":" * 40,
    "x" * 64,
    "e1|go|<script>",
]
# the buttons whose screen asks for a text (dialogs/screens.yaml inputs:): a reminder's date, 👎's reason
TOPIC = "reissue_lost"
PROMPTS = ["e1|remind|refund", "e1|remind|expiry", f"e1|feedback|{sorted(KB.businesses)[0]}:-1"]
HOSTILE_ARGS = ["", "-1", "9" * 40, "..", "<script>", "%s", "{{x}}", "١٢٣"]

SPEC = yaml.safe_load((Path(__file__).resolve().parent.parent / "dialogs" / "screens.yaml").read_text(encoding="utf-8"))
SCREEN_NAMES, ACTION_NAMES = sorted(SPEC["screens"]), sorted(SPEC["actions"])
IDS = sorted(
    {
        *KB.businesses,
        *KB.materials,
        *KB.facts,
        *KB.cities,
        *(s.id for s in KB.steps),
        "refund",
        "expiry",
        "on",
        "off",
        "zh",
        "ru",
        "en",
        *(i.id for t in KB.businesses for i in KB.checklist_items(t)),
    }
)

# what only personal screens show: their buttons' actions and the checklist's progress bar
PERSONAL = (
    "e1|tick|",
    "e1|t|",
    "e1|na|",
    "e1|forget_confirm|",
    "e1|settings_reminders|",
    "e1|set_language|",
    "e1|reminder_cancel|",
    "e1|checklist_reset_confirm|",
    "e1|checklist_export|",
    "e1|checklist_switch|",
    "e1|remind_today|",
    "░",
    "▓",
)
CONFIRMS = ("e1|forget_confirm|", "e1|checklist_reset_confirm|")  # confirmation buttons (bound to one user)
ACTIVITY = ("users", "events", "questions")  # what any press records about the one who pressed
STATS = "📊"  # the statistics screen's title, in every language
MESSAGE_CHATS = ["private", "group", "supergroup", "channel", "edited"]
BUTTON_CHATS = ["private", "group", "supergroup", "channel", "inline"]


# ---- updates -------------------------------------------------------------------------------------


def _sender(uid: int, lang: str | None) -> dict:
    return {"id": uid, "is_bot": False, "first_name": "U", **({"language_code": lang} if lang is not None else {})}


def _chat(uid: int, where: str) -> dict:
    if where == "private":
        return {"id": uid, "type": "private"}
    if where == "channel":
        return {"id": -1009, "type": "channel", "title": "C"}
    return {"id": -100 - uid, "type": where, "title": "G"}


def message_update(uid: int, text: str, where: str, lang: str | None = None) -> tuple[str, dict]:
    """A text message from ``where`` (a chat type, or "edited" for an edited private message)."""
    now = int(time.time())
    chat = _chat(uid, "private" if where == "edited" else where)
    msg = {"message_id": 1, "date": now, "chat": chat, "text": text}
    if where != "channel":
        msg["from"] = _sender(uid, lang)
    if text.startswith("/") and text.split():
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0].encode("utf-16-le")) // 2}]
    if where == "edited":
        return "edited_message", {"update_id": 1, "edited_message": {**msg, "edit_date": now}}
    if where == "channel":
        return "channel_post", {"update_id": 1, "channel_post": msg}
    return "message", {"update_id": 1, "message": msg}


def button_update(uid: int, data: str, where: str, lang: str | None = None, message_id: int = 1) -> tuple[str, dict]:
    """A press of a button carrying ``data`` under a message in ``where`` (or under an inline message)."""
    query = {"id": "q", "from": _sender(uid, lang), "chat_instance": "c", "data": data}
    if where == "inline":  # a button under a message sent in inline mode: no chat at all
        query["inline_message_id"] = "im1"
    else:
        query["message"] = {
            "message_id": message_id,
            "date": int(time.time()),
            "from": BOT,
            "text": "menu",
            "chat": _chat(uid, where),
        }
    return f"callback_{where}", {"update_id": 1, "callback_query": query}


def file_update(uid: int, where: str, kind: str, name: str, size: int) -> tuple[str, dict]:
    base = {"message_id": 1, "date": int(time.time()), "chat": _chat(uid, where), "from": _sender(uid, None)}
    if kind == "sticker":
        body = {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        }
    else:
        body = {"document": {"file_id": "d", "file_unique_id": "d", "file_size": size, **({"file_name": name} if name else {})}}
    return kind, {"update_id": 1, "message": {**base, **body}}


# ---- one fresh application -----------------------------------------------------------------------


class Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


class Harness:
    """A fresh application, database and event loop; ``feed`` processes one update and returns what was sent."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="eport-fuzz-")
        self.loop = asyncio.new_event_loop()
        self.request = OfflineRequest()
        conf = Settings(
            token=TOKEN, db_path=str(Path(self.dir) / "fuzz.db"), admins=frozenset({ADMIN}), bot_username=BOT["username"]
        )
        guide = build_guide(conf.db_path, KB, settings=conf, channel="telegram")
        self.app = build_application(conf, guide=guide, request=self.request, rate_limit=False)
        self.loop.run_until_complete(self.app.initialize())
        self.errors = Errors()
        logging.getLogger().addHandler(self.errors)

    def feed(self, raw: dict) -> list[tuple[str, dict]]:
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

    def rows_about(self, uid: int) -> dict[tuple[str, str], list[tuple]]:
        """Every stored row about the user, found through the database's own schema."""
        conn = self.app.bot_data["guide"].store.conn
        return {
            (table, column): conn.execute(f"SELECT * FROM {table} WHERE {column} = ? ORDER BY 1", (uid,)).fetchall()
            for table, column in user_columns(conn)
        }

    def close(self):
        logging.getLogger().removeHandler(self.errors)
        try:
            self.loop.run_until_complete(self.app.shutdown())
            self.app.bot_data["guide"].close()
            self.loop.close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _markup(params: dict) -> dict:
    markup = params.get("reply_markup") or {}
    return json.loads(markup) if isinstance(markup, str) else markup


def shown_buttons(sent: list[tuple[str, dict]]) -> list[str]:
    """The callback data of every inline button the bot sent."""
    return [
        button["callback_data"]
        for _, params in sent
        for row in _markup(params).get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def check(harness: Harness, kind: str, raw: dict) -> list[tuple[str, dict]]:
    """Feed one update and assert what every user must be able to rely on; returns what was sent."""
    sent = harness.feed(raw)
    what = f"{kind}: {json.dumps(raw, ensure_ascii=False)[:300]}"
    assert not harness.errors.records, f"{harness.errors.records[-1].getMessage()} after {what}"
    message = raw.get("message") or raw.get("edited_message")
    user_text = (message or raw.get("channel_post") or {}).get("text") or ""
    outgoing = [(m, p) for m, p in sent if m in ("sendMessage", "editMessageText", "sendDocument")]
    for _, params in outgoing:
        text = params.get("text") or ""
        if params.get("parse_mode") == "HTML":
            try:
                check_html(text)
            except ApiError as exc:
                raise AssertionError(f"invalid HTML sent: {exc.description}: {text[:200]!r} after {what}") from None
        for payload in PAYLOADS:
            if payload in user_text:
                assert payload not in text, f"user text echoed unescaped into HTML: {payload} after {what}"
    if message and message["chat"]["type"] == "private":
        assert outgoing, f"no reply to a private {kind}: {what}"
    if kind == "channel_post":
        assert not outgoing, f"the bot wrote to a channel: {what}"
    if kind.startswith("callback_"):
        assert any(m == "answerCallbackQuery" for m, _ in sent), f"a button press was not answered: {what}"
    sender = ((message or {}).get("from") or (raw.get("callback_query") or {}).get("from") or {}).get("id")
    for _, params in outgoing:
        shown = (params.get("text") or "") + json.dumps(_markup(params), ensure_ascii=False)
        if sender != ADMIN:
            assert STATS not in shown, f"statistics shown to user {sender}: {what}"
        chat_id = params.get("chat_id")
        if chat_id is None or int(chat_id) < 0:  # a group, a channel or an inline message
            leaked = [p for p in PERSONAL if p in shown]
            assert not leaked, f"personal screen outside the private chat ({leaked}): {shown[:200]!r} after {what}"
    return sent


# ---- the sweep: every hand-written case on every run ---------------------------------------------


def sweep_cases() -> list[tuple[str, list[tuple[str, dict]]]]:
    """(label, updates) groups; each group runs on a fresh application."""
    cases = []
    for text in HOSTILE_TEXTS:
        updates = [message_update(uid, text, where, lang) for where in MESSAGE_CHATS for uid, lang in ((2, "ru"), (ADMIN, None))]
        cases.append((f"text {text[:30]!r}", updates))
    for opener in PROMPTS:  # every hostile text as the answer to every question a screen asks
        updates = [
            update
            for text in HOSTILE_TEXTS
            for update in (button_update(2, opener, "private", "ru"), message_update(2, text, "private", "ru"))
        ]
        cases.append((f"answers to {opener}", updates))
    for data in HOSTILE_CALLBACKS:
        cases.append((f"button {data[:30]!r}", [button_update(2, data, where, "en") for where in BUTTON_CHATS]))
    forged = [f"e1|go|{screen}:{arg}" if arg else f"e1|go|{screen}" for screen in SCREEN_NAMES for arg in HOSTILE_ARGS[:3]]
    forged += [f"e1|{action}|{arg}" for action in ACTION_NAMES for arg in HOSTILE_ARGS]
    forged += [f"e1|go|{screen}:{arg}" for screen in SCREEN_NAMES for arg in HOSTILE_ARGS[3:]]
    for start in range(0, len(forged), 40):  # each pressed in a private chat, and from another kind of chat in turn
        chunk = forged[start : start + 40]
        presses = [
            (uid, data, where)
            for n, data in enumerate(chunk, start)
            for uid, where in ((2, "private"), ((2, ADMIN)[n % 2], BUTTON_CHATS[1 + n % 4]), (ADMIN, "private"))
        ]
        cases.append((f"forged buttons {start}–{start + len(chunk)}", [button_update(*press) for press in presses]))
    return cases


@pytest.mark.filterwarnings("ignore:Tasks created via:UserWarning")  # the harness awaits them itself (Harness.feed)
def test_every_hostile_text_and_forged_button_on_fresh_state():
    for label, updates in sweep_cases():
        harness = Harness()
        try:
            for kind, raw in updates:
                check(harness, kind, raw)
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from None
        finally:
            harness.close()


# ---- the conversation machine --------------------------------------------------------------------

uids = st.integers(min_value=1, max_value=3)
langs = st.sampled_from([None, "zh-hans", "ru", "en", "xx", ""])
# commands that open the screens with personal data and their confirmations, to be pressed afterwards
commands = st.sampled_from(
    [
        "/start",
        "/menu",
        "/checklist",
        "/forget",
        "/reminders",
        "/settings",
        "/start reissue_lost",
        "/start renew_cert",
        "/start checklists",
    ]
)
texts = st.one_of(
    commands,
    st.sampled_from(HOSTILE_TEXTS),
    st.sampled_from(IDS),
    st.text(max_size=80),
    st.text(alphabet=st.characters(max_codepoint=0x2FFFF), max_size=300),
)
word = st.one_of(st.sampled_from(IDS), st.sampled_from(HOSTILE_ARGS), st.integers(-10, 10**20).map(str), st.text(max_size=20))
forged = st.one_of(
    st.sampled_from(HOSTILE_CALLBACKS),
    st.text(max_size=100),
    st.builds(
        lambda screen, arg: f"e1|go|{screen}" + (f":{arg}" if arg else ""),
        st.sampled_from(SCREEN_NAMES),
        st.lists(word, max_size=4).map(":".join),
    ),
    st.builds(lambda action, arg: f"e1|{action}|{arg}", st.sampled_from(ACTION_NAMES), st.lists(word, max_size=4).map(":".join)),
)


class Conversations(RuleBasedStateMachine):
    """A few users talking to one fresh bot: messages, their buttons, forged buttons."""

    buttons = Bundle("buttons")

    def __init__(self):
        super().__init__()
        self.harness = Harness()
        self.confirmations: list[tuple[int, str, str]] = []  # (user, chat type, callback data) of those shown

    def teardown(self):
        self.harness.close()

    def _send(self, kind: str, raw: dict, uid: int):
        sent = check(self.harness, kind, raw)
        chat = (
            (raw.get("message") or raw.get("edited_message") or (raw.get("callback_query") or {}).get("message") or {}).get(
                "chat"
            )
            or {}
        ).get("type", "inline")
        shown = [(uid, chat, data) for data in shown_buttons(sent)]
        self.confirmations += [button for button in shown if button[2].startswith(CONFIRMS)]
        return multiple(*shown)

    @initialize(target=buttons)
    def users_with_a_checklist(self):
        """Every user starts with a ticked checklist: something of theirs that a stray press could change."""
        shown = []
        for uid in range(1, 4):
            for data in (f"e1|checklist_open|{TOPIC}", f"e1|tick|{TOPIC}:{KB.checklist_items(TOPIC)[0].id}:1"):
                shown += self._send(*button_update(uid, data, "private"), uid).values
        return multiple(*shown)

    @rule(target=buttons, uid=uids, text=texts, where=st.sampled_from(["private"] * 4 + MESSAGE_CHATS), lang=langs)
    def say(self, uid, text, where, lang):
        kind, raw = message_update(uid, text, where, lang)
        return self._send(kind, raw, uid)

    @rule(
        target=buttons,
        uid=uids,
        where=st.sampled_from(["private", "group"]),
        kind=st.sampled_from(["document", "sticker"]),
        name=texts,
        size=st.integers(0, 50 * 1024 * 1024),
    )
    def send_file(self, uid, where, kind, name, size):
        kind, raw = file_update(uid, where, kind, name[:60], size)
        return self._send(kind, raw, uid)

    @rule(target=buttons, shown=buttons, presser=st.one_of(st.none(), uids), message_id=st.integers(1, 5))
    def press_shown(self, shown, presser, message_id):
        """A button the bot showed, pressed by the user it was shown to (or by another user) where it was
        shown; another user's press never changes what is stored about the user it was shown to."""
        uid, where, data = shown
        kind, raw = button_update(presser or uid, data, where if where != "channel" else "group", message_id=message_id)
        before = self.harness.rows_about(uid)
        kept = self.harness.rows_about(presser) if presser is not None else {}
        result = self._send(kind, raw, presser or uid)
        if presser not in (None, uid):
            assert self.harness.rows_about(uid) == before, f"user {presser}'s press of {data!r} changed user {uid}'s data"
            if data.startswith(CONFIRMS):  # a confirmation acts only for the user it was shown to
                after = self.harness.rows_about(presser)
                changed = [key for key in after if key[0] not in ACTIVITY and after[key] != kept[key]]
                assert not changed, f"user {presser} pressed user {uid}'s {data!r}: their {changed} changed"
        return result

    @rule(target=buttons, uid=uids, ask=st.sampled_from(["e1|go|forget", f"e1|checklist_reset|{TOPIC}"]))
    def ask_for_a_confirmation(self, uid, ask):
        return self._send(*button_update(uid, ask, "private"), uid)

    @precondition(lambda self: self.confirmations)
    @rule(target=buttons, pick=st.integers(min_value=0), presser=uids)
    def press_a_confirmation(self, pick, presser):
        """A confirmation shown (delete my data, reset my list), pressed by whoever: often someone else."""
        return self.press_shown(self.confirmations[pick % len(self.confirmations)], presser, 1)

    @rule(target=buttons, uid=uids, data=forged, where=st.sampled_from(["private", "private", *BUTTON_CHATS]), lang=langs)
    def press_forged(self, uid, data, where, lang):
        kind, raw = button_update(uid, data, where, lang)
        return self._send(kind, raw, uid)


@pytest.mark.timeout(900)  # a failure is shrunk to the shortest conversation, one fresh application per try
@pytest.mark.filterwarnings("ignore:Tasks created via:UserWarning")
def test_random_conversations_never_crash_and_keep_private_screens_private():
    print(f"fuzz seed {SEED} (replay: EPORT_FUZZ_SEED={SEED} make fuzz, or the same variable for this test)")
    run_state_machine_as_test(
        seed(SEED)(Conversations),
        settings=settings(
            max_examples=max(1, EXAMPLES // STEPS),
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
