"""The durable inbox: an update confirmed to Telegram (the polling offset, the webhook's 200) is
handled, whatever happens to the process; a replay of an update is handled once; the webhook
checks the secret before it reads a body."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import sys

import aiohttp
import pytest
import pytest_asyncio

from dialogs.engine import Context, callback_data
from dialogs.guide import build_guide
from dialogs.store import Store

from .conftest import running_bot
from .fake_telegram import BotMessage
from .test_webhook import SECRET, free_port, message_update

BURST = 30  # updates per burst (the bot answers at most 30 messages a second, Telegram's limit)
KILLS = 3


def tick_data(kb) -> tuple[str, str, str]:
    """(topic, item, callback data) of a tick button, found on the first checklist page as users find it."""
    guide = build_guide(kb=kb, store=True, db_path=":memory:")
    try:
        engine, ctx = guide.engine, Context(user_id=1)
        topic = next(iter(kb.businesses))
        overview = engine.handle(ctx, callback_data("checklist_open", topic))
        for part in (b.data for b in overview.all_buttons() if b.data and "checklist_part:" in b.data):
            for b in engine.handle(ctx, part).all_buttons():
                if b.data and "|tick|" in b.data:
                    before = guide.store.ticks(1, topic)
                    engine.handle(ctx, b.data)
                    (item,) = guide.store.ticks(1, topic) - before
                    return topic, item, b.data
        raise AssertionError("no tick button on the checklist pages")
    finally:
        guide.close()


async def start_bot(fake, db):
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_API_FILE_URL": fake.base_file_url,
        "EPORT_GUIDE_DB": str(db),
    }
    polls = len(fake.calls("getUpdates"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_for(lambda: len(fake.calls("getUpdates")) > polls, timeout=30, what="the bot to poll")
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc


async def test_no_update_confirmed_to_telegram_is_lost_when_the_process_is_killed_mid_burst(fake, tmp_path, kb):
    """Bursts of messages and button taps; the process is SIGKILLed three times while it works through
    them, then started again: every update Telegram was told we have (below the offset of the last
    getUpdates) has its effect, a reply in the sender's chat or the tick in the database."""
    db = tmp_path / "burst.db"
    topic, item, data = tick_data(kb)
    effect: dict[int, tuple[str, int]] = {}  # update id → ("reply" | "tick", user id)
    ticked: set[int] = set()

    def handled(update_id: int) -> bool:
        kind, uid = effect[update_id]
        return uid in ticked if kind == "tick" else bool(fake.chats.get(uid))  # taps' users have a page already

    async def burst(first_user: int) -> None:
        for n in range(BURST):
            user = fake.user(id=first_user + n)
            if n % 2:  # a tap on a checklist page the bot sent
                page = BotMessage(next(fake.message_ids), user.id, "checklist", None, None)
                fake.chats[user.id] = [page]
                _, update = user.press_update(page.message_id, page.text, data)
                effect[await fake.push(update)] = ("tick", user.id)
            else:
                effect[await fake.push(user.message_update("/help"))] = ("reply", user.id)

    def read_ticks() -> None:
        conn = sqlite3.connect(db)
        try:
            ticked.update(u for (u,) in conn.execute("SELECT user_id FROM ticks WHERE topic = ? AND item_id = ?", (topic, item)))
        finally:
            conn.close()

    lost_at_kill = []  # confirmed but not yet handled when the process died: what a crash used to lose
    for cycle in range(KILLS):
        proc = await start_bot(fake, db)
        await burst(100_000 * (cycle + 1))

        def answered() -> int:
            return sum(len(m) + len(m[0].edits) for m in fake.chats.values() if m)

        before = answered()
        await fake.wait_for(lambda before=before: answered() >= before + 8, timeout=30, what="the bot to be busy with the burst")
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        read_ticks()
        lost_at_kill.append(sum(1 for u in effect if u < fake.offset_seen and not handled(u)))
    assert sum(lost_at_kill) > 0, "the kills never caught confirmed work in hand: the test measured nothing"

    proc = await start_bot(fake, db)
    try:

        def confirmed_unhandled() -> list[int]:
            read_ticks()
            return [u for u in effect if u < fake.offset_seen and not handled(u)]

        async def settled() -> bool:
            return not confirmed_unhandled() and fake.offset_seen > max(effect)

        for _ in range(300):  # the restarted process works through what is left (a few seconds)
            if await settled():
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        fake._closing = True
        await fake._notify()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        fake._closing = False
    assert confirmed_unhandled() == [], f"confirmed but never handled; at each kill: {lost_at_kill}"
    assert fake.offset_seen > max(effect)  # and everything was confirmed in the end
    assert proc.returncode == 0, err.decode()[-2000:]


# -- the same update twice; updates kept from a run that stopped -------------------------------
@pytest_asyncio.fixture
async def webhook_bot(fake, tmp_path):
    port = free_port()
    async with running_bot(
        fake, tmp_path / "hook.db", webhook_url="https://bot.example.org/telegram", webhook_secret=SECRET, port=port
    ) as app:
        yield app, f"http://127.0.0.1:{port}/telegram"


async def post_raw(url: str, body: bytes, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"} | ({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


async def test_a_webhook_retry_of_an_update_is_handled_once(fake, webhook_bot):
    _, url = webhook_bot
    update = message_update("/help", user_id=5101)
    for _ in range(3):  # Telegram retries a POST whose 200 it did not see
        assert await post_raw(url, json.dumps(update).encode(), SECRET) == 200
    await fake.wait_for(lambda: fake.chats.get(5101), timeout=5, what="the answer")
    await fake.settle(quiet=0.3)
    assert len(fake.chats[5101]) == 1


async def test_an_update_received_twice_is_handled_once(fake, bot_app):
    """Polling after a restart gets again what was kept but not yet confirmed: handled once."""
    from telegram import Update

    from bot.runner import inbox_of

    user = fake.user(id=5102)
    update = Update.de_json({"update_id": 8_000_001, **user.message_update("/help")}, bot_app.bot)
    await inbox_of(bot_app).accept([update])
    await inbox_of(bot_app).accept([update])
    await fake.wait_for(lambda: user.messages, timeout=5, what="the answer")
    await fake.settle(quiet=0.3)
    assert len(user.messages) == 1


async def raw_request(port: int, head: str) -> bytes:
    """Send request headers only (no body) and read what the server answers within 5 seconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode())
        await writer.drain()
        return await asyncio.wait_for(reader.read(200), 5)
    finally:
        writer.close()


@pytest.mark.parametrize("secret,status", [("wrong", b"403"), (None, b"403"), (SECRET, b"413")])
async def test_the_webhook_answers_before_reading_a_body_it_refuses(webhook_bot, secret, status):
    _, url = webhook_bot
    port = int(url.split(":")[2].split("/")[0])
    header = f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n" if secret else ""
    answer = await raw_request(
        port,
        f"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{header}"
        f"Content-Length: {90 * 1024 * 1024}\r\n\r\n",
    )
    assert answer.split(b" ")[1] == status  # answered on the headers alone: none of the 90 MB was awaited


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"update_id": "1"}', b'{"update_id": true}'])
async def test_an_unreadable_update_with_the_right_secret_gets_400(fake, webhook_bot, body, caplog):
    _, url = webhook_bot
    assert await post_raw(url, body, SECRET) == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await post_raw(url, json.dumps(message_update("/help", user_id=5103)).encode(), SECRET) == 200
    await fake.wait_for(lambda: fake.chats.get(5103), timeout=5, what="the next update's answer")


async def test_a_button_pressed_before_a_restart_is_applied_and_its_screen_refreshed(fake, tmp_path, kb):
    """An update kept but not handled when the process died: on start it is handled first; its
    callback query is too old to answer by then, the screen is edited all the same."""
    db = tmp_path / "left.db"
    topic, item, data = tick_data(kb)
    user = fake.user(id=5104)
    async with running_bot(fake, db):
        page = await user.send("/start")
    qid, update = user.press_update(page.message_id, page.plain, data)
    fake.callback_answers.pop(qid)  # Telegram no longer accepts an answer to it
    with Store(db) as store:
        store.inbox_add([(9_000_001, json.dumps({"update_id": 9_000_001, **update}))])
    async with running_bot(fake, db) as app:
        await fake.wait_for(lambda: page.edits, timeout=5, what="the screen under the button to be refreshed")
        assert item in app.bot_data["guide"].store.ticks(5104, topic)
        await fake.settle()
    with Store(db) as store:
        assert store.inbox_pending() == []


async def test_an_update_that_never_finishes_is_given_up_after_three_starts(fake, tmp_path, caplog):
    """An update that kills the process while it is handled must not kill every start after it; the
    updates queued behind it are not counted against."""
    from bot.inbox import MAX_STARTS

    db = tmp_path / "poison.db"
    user, behind = fake.user(id=5106), fake.user(id=5111)
    with Store(db) as store:
        store.inbox_add(
            [
                (7, json.dumps({"update_id": 7, **user.message_update("/help")})),
                (8, json.dumps({"update_id": 8, **behind.message_update("/help")})),
            ]
        )
        for start in range(1, MAX_STARTS + 1):  # starts that died handling it
            assert [(u, n) for u, _, n in store.inbox_pending()] == [(7, start), (8, 0)]
    async with running_bot(fake, db) as app:
        await fake.wait_for(lambda: behind.messages, timeout=5, what="the update behind it")
        await fake.settle()
        assert app.bot_data["guide"].store.inbox_pending() == []
    assert not user.messages
    assert [r for r in caplog.records if "update 7 given up" in r.getMessage()]


async def test_the_inbox_keeps_no_message_text_once_handled(fake, bot_app):
    user = fake.user(id=5105)
    await user.send("我的身份证号码是什么")
    store = bot_app.bot_data["guide"].store
    rows = store.conn.execute("SELECT update_id, body, done FROM inbox").fetchall()
    assert rows and all(body is None and done for _, body, done in rows)


async def test_an_update_the_library_cannot_read_is_skipped_and_polling_goes_on(fake, bot_app, caplog):
    first, second = fake.user(id=5107), fake.user(id=5108)
    await fake.push(first.message_update("/help"))
    unreadable = first.message_update("/help")
    unreadable["message"]["from"] = {k: v for k, v in unreadable["message"]["from"].items() if k != "id"}  # no sender id
    await fake.push(unreadable)
    await fake.processed(await fake.push(second.message_update("/help")))
    await fake.wait_for(lambda: first.messages and second.messages, timeout=10, what="the updates around it")
    assert len(first.messages) == 1 and "使用帮助" in second.last.plain
    assert len([r for r in caplog.records if "cannot read was skipped" in r.getMessage()]) == 1
    # what it said is not logged at the levels the bot logs (bot.logs: INFO; the library's DEBUG
    # lines echo the API's replies and are never emitted)
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "/help" in r.getMessage()]


async def test_a_webhook_update_the_library_cannot_read_is_acknowledged_and_skipped(fake, webhook_bot):
    _, url = webhook_bot
    unreadable = message_update("/help", user_id=5109)
    del unreadable["message"]["from"]["id"]
    assert await post_raw(url, json.dumps(unreadable).encode(), SECRET) == 200  # Telegram need not send it again
    assert await post_raw(url, json.dumps(message_update("/help", user_id=5110)).encode(), SECRET) == 200
    await fake.wait_for(lambda: fake.chats.get(5110), timeout=5, what="the next update's answer")
    assert 5109 not in fake.chats


async def test_when_the_database_refuses_writes_updates_are_handled_before_they_are_confirmed(fake, bot_app, caplog):
    store = bot_app.bot_data["guide"].store
    user = fake.user(id=5112)
    polls: list[tuple[int, bool]] = []  # (offset asked for, whether the reply was there by then)
    real = fake.api_getupdates

    async def getupdates(p):
        polls.append((int(p.get("offset") or 0), bool(user.messages)))
        return await real(p)

    fake.api_getupdates = getupdates
    fake.fail_next("sendMessage", 0, delay=0.5, chat_id=5112)  # a slow answer
    store.conn.execute("PRAGMA query_only=ON")  # nothing can be written (as a full disk or a read-only file)
    try:
        update_id = await fake.push(user.message_update("/help"))
        await fake.processed(update_id)
    finally:
        store.conn.execute("PRAGMA query_only=OFF")
    assert user.messages
    assert all(answered for offset, answered in polls if offset > update_id)  # confirmed only once answered
    assert len([r for r in caplog.records if "cannot keep updates" in r.getMessage()]) == 1
