"""Faults: Telegram errors and timeouts, a locked or read-only database, broken knowledge."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys

import pytest

from .conftest import running_bot


def records_about(caplog, needle: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if needle in r.getMessage()]


async def test_a_5xx_on_sending_is_retried_and_the_answer_arrives(fake, bot_app, caplog):
    caplog.set_level(logging.INFO)
    fake.fail_next("sendMessage", 502, chat_id=1001, times=2)
    await fake.user(id=1001).send("/help", wait=False)
    reply = await fake.wait_for(lambda: fake.chats.get(1001), timeout=8, what="the retried reply")
    await fake.settle()
    assert "使用帮助" in reply[-1].plain and len(reply) == 1  # one answer, not one per attempt
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_5xx_on_editing_is_retried_and_the_screen_changes(fake, bot_app):
    user = fake.user(id=1003)
    menu = await user.send("/start")
    fake.fail_next("editMessageText", 500, chat_id=1003, times=2)
    before = menu.plain
    await user.click(menu, "📍 办理地点与电话")
    await fake.wait_for(lambda: menu.plain != before, timeout=8, what="the edit")
    assert "满洲里" in menu.plain and len(user.messages) == 1  # edited in place after the retries


async def test_a_5xx_that_persists_is_logged_once_and_the_next_user_is_served(fake, bot_app, caplog):
    caplog.set_level(logging.INFO)
    fake.fail_next("sendMessage", 502, chat_id=1001, times=10)
    await fake.user(id=1001).send("/help", wait=False)
    await fake.wait_for(lambda: records_about(caplog, "Telegram unreachable"), timeout=10, what="the failure to be logged")
    assert 1001 not in fake.chats
    warnings = [r for r in caplog.records if r.name == "eport_guide.bot" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Bad Gateway" in warnings[0].getMessage() and "update " in warnings[0].getMessage()
    assert len(fake.calls("sendMessage")) == 4  # the first attempt and three more, then given up
    assert "使用帮助" in (await fake.user(id=1002).send("/help")).plain


async def test_a_failed_answer_to_a_button_still_updates_the_screen(fake, bot_app):
    user = fake.user(id=1004)
    answer = await user.send("/start reissue_lost")
    await user.click(answer, "📋 加入清单")
    checklist = user.last
    await user.click(checklist, "☐ 市场主体资格证明材料")
    fake.fail_next("answerCallbackQuery", 502)
    reply = await user.click(checklist, "☐ 营业执照等·盖申请单位公章")
    assert not reply["answered"]  # Telegram failed the answer ...
    assert "进度 1/25" in checklist.plain  # ... and the screen shows the tick all the same
    store = bot_app.bot_data["guide"].store
    assert len(store.ticks(1004, "reissue_lost")) == 1


async def test_a_timed_out_answer_to_a_button_still_updates_the_screen(fake, tmp_path):
    async with running_bot(fake, tmp_path / "cb.db", request_timeout=0.5):
        user = fake.user(id=1005)
        answer = await user.send("/start reissue_lost")
        await user.click(answer, "📋 加入清单")
        checklist = user.last
        await user.click(checklist, "☐ 市场主体资格证明材料")
        fake.fail_next("answerCallbackQuery", 500, delay=1.0)
        await user.click(checklist, "☐ 营业执照等·盖申请单位公章")
        await fake.wait_for(lambda: "进度 1/25" in checklist.plain, timeout=5, what="the ticked screen")


async def test_a_timeout_on_sending_is_retried(fake, tmp_path):
    async with running_bot(fake, tmp_path / "to.db", request_timeout=0.5):
        fake.fail_next("sendMessage", 500, delay=1.0, chat_id=2003)  # answers too late, and with an error
        await fake.user(id=2003).send("/help", wait=False)
        reply = await fake.wait_for(lambda: fake.chats.get(2003), timeout=8, what="the retried reply")
        assert "使用帮助" in reply[-1].plain and len(reply) == 1


async def test_a_timeout_does_not_stop_the_bot(fake, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    async with running_bot(fake, tmp_path / "t.db", request_timeout=0.5):
        fake.fail_next("sendMessage", 0, delay=1.5, chat_id=2001)
        await fake.user(id=2001).send("/help", wait=False)
        await fake.wait_for(lambda: records_about(caplog, "Timed out"), timeout=5, what="the timeout to be logged")
        await fake.user(id=2002).send("/help", wait=False)
        reply = await fake.wait_for(lambda: fake.chats.get(2002), timeout=5, what="the next user's reply")
        assert "使用帮助" in reply[-1].plain
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_locked_database_tells_the_user_and_loses_nothing_acknowledged(fake, tmp_path, caplog):
    db = tmp_path / "locked.db"
    async with running_bot(fake, db) as app:
        store = app.bot_data["guide"].store
        store.conn.execute("PRAGMA busy_timeout=200")
        user = fake.user(id=3001)
        answer = await user.send("/start unlock")
        await user.click(answer, "📋 加入清单")
        checklist = user.last
        await user.click(checklist, "☐ 经办人身份证明材料")  # that material's page
        first = await user.click(checklist, "☐ 经办人·复印件")
        assert first["text"] == "已勾选"
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            refused = await user.click(checklist, "☐ 经办人·本人签名")
            assert refused["answered"] and "没有保存" in refused["text"] and refused["show_alert"]
            assert "进度 1/25" in checklist.plain  # the screen did not pretend
        finally:
            other.execute("ROLLBACK")
            other.close()
        again = await user.click(checklist, "☐ 经办人·本人签名")
        assert again["text"] == "已勾选" and "进度 2/25" in checklist.plain
        assert store.ticks(3001, "unlock") == {"agent_id.copy", "agent_id.signature"}
    assert len(records_about(caplog, "database unavailable")) == 1


async def test_a_database_that_turns_read_only_still_answers_look_ups_and_says_what_was_not_saved(fake, tmp_path):
    async with running_bot(fake, tmp_path / "ro.db") as app:
        user = fake.user(id=4001)
        answer = await user.send("/start unlock")
        app.bot_data["guide"].store.conn.execute("PRAGMA query_only=ON")
        assert "请选择要办理的业务" in (await user.send("/start")).plain  # a look-up needs no write
        refused = await user.click(answer, "📋 加入清单")
        assert refused["show_alert"] and "没有保存" in refused["text"]
        app.bot_data["guide"].store.conn.execute("PRAGMA query_only=OFF")
        assert "请选择要办理的业务" in (await user.send("/start")).plain


@pytest.mark.measured_subprocesses  # the exit for invalid knowledge
def test_broken_knowledge_at_start_up_exits_with_the_errors(knowledge_copy):
    f = knowledge_copy / "offices.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("kind: ccb_agent", "kind: bank", 1), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "TELEGRAM_BOT_TOKEN": "123456789:" + "a" * 35,
            "EPORT_GUIDE_KNOWLEDGE": str(knowledge_copy),
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        },
    )
    assert r.returncode == 1
    assert "offices.yaml:" in r.stderr and "offices[1].kind" in r.stderr and "Traceback" not in r.stderr


def test_a_start_up_stopped_by_broken_knowledge_resumes_the_garbage_collector(eport_guide, knowledge_copy, tmp_path):
    """`eport-guide run` pauses the garbage collector while it starts (it allocates much and frees little); a
    start that stops (here: invalid knowledge, exit 1, the usual lines) turns it back on, so that a process
    which goes on after the command does not grow unchecked."""
    import gc

    f = knowledge_copy / "offices.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("kind: ccb_agent", "kind: bank", 1), encoding="utf-8")
    env = {
        "TELEGRAM_BOT_TOKEN": "123456789:" + "a" * 35,
        "EPORT_GUIDE_KNOWLEDGE": str(knowledge_copy),
        "EPORT_GUIDE_DB": str(tmp_path / "k.db"),
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
    }
    assert gc.isenabled()
    r = eport_guide("run", env=env)
    assert r.returncode == 1 and "offices[1].kind" in r.stderr
    assert gc.isenabled()
