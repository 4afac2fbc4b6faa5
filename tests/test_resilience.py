"""The bot under hostile input and injected faults: forged updates and buttons, secrets in output, broken or
huge knowledge files, a failing Bot API, a locked, read-only or full database.

Attacks come as forged updates through the real Application polling the fake Bot API, faults
are injected into the fake (4xx/5xx) and into SQLite (locks, read-only, a full disk).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sqlite3
import sys
import time

import pytest

from dialogs.engine import Context, callback_data
from dialogs.features.reminders import at_nine
from dialogs.store import MAX_PENDING_REMINDERS, Store, StoreError

from .conftest import running_bot, until, user_known
from .fake_telegram import BOT_USERNAME, utf16_len

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
ID_NUMBER, PHONE = "11010119900307123X", "13800138000"
SECRET_QUESTION = f"我的身份证{ID_NUMBER}，电话{PHONE}，签证怎么办"


def errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def guide(guide):
    """conftest's fresh guide, with the clock at NOW."""
    guide.engine.clock = lambda: NOW
    return guide


@pytest.fixture
def store_engine(guide):
    return guide.engine


# -- High 1: admin screens behind forged buttons -------------------------------------------------
async def test_a_forged_stats_button_shows_nothing_to_a_non_admin(fake, tmp_path, caplog):
    async with running_bot(fake, tmp_path / "a.db", admins=frozenset({9})):
        victim, attacker = fake.user(id=21), fake.user(id=22)
        await victim.send(SECRET_QUESTION)
        menu = await attacker.send("/start")
        answer = await attacker.press_data(menu, "e1|g|stats")
        assert answer["answered"] and answer["text"] == "此菜单已过期"
        seen = "\n".join(m.plain + "\n".join(m.edits) for m in attacker.messages)
        assert "使用统计" not in seen and "签证" not in seen and PHONE not in seen
        admin = fake.user(id=9)
        stats = await admin.send("/stats")
        assert "使用统计" in stats.plain
    assert not errors(caplog)


def test_the_engine_checks_admin_screens_however_they_are_reached(store_engine):
    engine = store_engine
    for ctx in (Context(user_id=5), Context(user_id=5, chat="group", admin=False)):
        assert engine.handle(ctx, "e1|g|stats").stale
    screen = engine.handle(Context(user_id=9, admin=True), "e1|g|stats")
    assert not screen.stale and "使用统计" in screen.text
    in_group = engine.handle(Context(user_id=9, admin=True, chat="group", bot_username="b"), "e1|g|stats")
    assert "使用统计" not in in_group.text and in_group.redirect == "https://t.me/b"


def test_every_admin_screen_and_every_action_declares_its_access(store_engine):
    engine = store_engine
    assert engine.screens["stats"].get("admin") is True
    assert set(engine.actions) <= set(engine.action_specs)
    with pytest.raises(ValueError, match="not declared"):
        engine.extend("x", actions={"undeclared_action": lambda e, c, a: e.render("main", c)})


# -- High 2: the token is never printed ---------------------------------------------------------
async def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


REJECTED = "987654321:REJECTED-secret_abcdefghijklmnopqrstuvw"


@pytest.mark.measured_subprocesses  # the Telegram errors' exits of bot.cli.main
@pytest.mark.parametrize("command", [["run"], ["link", "unlock"], ["links"]])
async def test_a_rejected_token_is_never_printed(fake, tmp_path, command):
    env = {
        "TELEGRAM_BOT_TOKEN": REJECTED,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "EPORT_GUIDE_DB": str(tmp_path / "t.db"),
        "EPORT_GUIDE_BOT_USERNAME": "",
    }
    code, out, err = await run_cli(*command, env=env)
    assert code == 2, err
    assert REJECTED not in out + err and REJECTED.split(":")[1] not in out + err
    assert "Traceback" not in err and "rejected the bot token" in err


@pytest.mark.measured_subprocesses  # the Telegram errors' exits of bot.cli.main
async def test_a_wrong_api_base_path_is_one_line_without_the_token(fake, tmp_path):
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url + "wrong/",
        "EPORT_GUIDE_DB": str(tmp_path / "w.db"),
    }
    code, out, err = await run_cli("run", env=env)
    assert code == 2 and fake.token.split(":")[1] not in out + err and "Traceback" not in err
    *logged, last = err.strip().splitlines()
    assert last.startswith("eport-guide: ") and all(line[:4].isdigit() for line in logged)  # log lines, one per event


def test_library_output_is_redacted_too(capsys):
    from bot.logs import RedactingStream, secrets_of

    stream = RedactingStream(sys.stderr, secrets_of(REJECTED))
    stream.write(f"telegram.error.InvalidToken: The token `{REJECTED}` was rejected by the server.\n")
    assert REJECTED.split(":")[1] not in capsys.readouterr().err


# -- Medium 3: personal screens stay in the private chat ------------------------------------------
async def test_personal_commands_in_a_group_answer_with_a_deep_link(fake, bot_app):
    group, ann = fake.group(), fake.user(id=31)
    for command, payload in (
        ("/checklist", "checklists"),
        ("/reminders", "reminders"),
        ("/settings", "settings"),
        ("/forget", "forget"),
        ("/privacy", "privacy"),
    ):
        reply = await group.send(ann, command)
        assert reply is not None and "只在您与机器人的私聊中显示" in reply.plain, command
        assert reply.buttons[0]["url"] == f"https://t.me/{BOT_USERNAME}?start={payload}"
        assert "确认删除" not in reply.labels and "提醒：" not in reply.plain
    opened = await ann.send("/start checklists")  # the deep link opens the screen in the private chat
    assert "我的清单" in opened.plain or "还没有清单" in opened.plain


async def test_add_to_checklist_in_a_group_leaves_the_shared_message_alone(fake, bot_app):
    group, ann = fake.group(), fake.user(id=32)
    answer = await group.send(ann, f"@{BOT_USERNAME} 解锁")
    assert "📋 加入清单" in answer.labels
    before = answer.text
    pressed = await group.press(ann, answer, ann.button(answer, "📋 加入清单")["callback_data"])
    assert pressed["answered"] and pressed["url"] == f"https://t.me/{BOT_USERNAME}?start=checklists"
    assert answer.text == before and not answer.edits  # the group still sees the answer, not Ann's checklist
    assert bot_app.bot_data["guide"].store.list_checklists(32) == []


async def test_anns_tap_on_bobs_forget_confirmation_deletes_nothing(fake, bot_app):
    store = bot_app.bot_data["guide"].store
    group, ann, bob = fake.group(), fake.user(id=33), fake.user(id=34)
    topic = await ann.send("/start unlock")
    await ann.click(topic, "📋 加入清单")
    # Bob's confirmation, pressed by Ann: in the group (forged) and in her own chat (forwarded data)
    message = await group.send(bob, "/forget")
    for data in ("e1|forget_confirm|34", "e1|forget_confirm|"):
        await group.press(ann, message, data)
        await ann.press_data(ann.last, data)
    assert store.list_checklists(33) != [] and user_known(store, 33)
    mine = await ann.send("/forget")
    await ann.click(mine, "确认删除")
    assert store.list_checklists(33) == []


def test_confirm_buttons_carry_the_user_they_were_shown_to(store_engine, guide):
    engine = store_engine
    bob, ann = Context(user_id=2), Context(user_id=1)
    engine.handle(ann, callback_data("checklist_open", "unlock"))
    engine.handle(ann, callback_data("tick", "unlock:agent_id.copy:1"))
    bob_reset = engine.render("checklist_reset:unlock", bob)
    confirm = next(b.data for b in bob_reset.all_buttons() if b.label == "确认重置")
    assert engine.handle(ann, confirm).stale and guide.store.ticks(1, "unlock") == {"agent_id.copy"}
    bob_forget = engine.render("forget", bob)
    assert engine.handle(ann, next(b.data for b in bob_forget.all_buttons() if b.label == "确认删除")).stale
    assert user_known(guide.store, 1) or guide.store.list_checklists(1)


# -- Medium 4 and 5: jobs retry transient errors, record permanent ones, never stop -------------------
@pytest.fixture
def fast_retries(monkeypatch):
    import bot.jobs

    monkeypatch.setattr(bot.jobs, "RETRY_DELAYS", (0.2, 0.2, 0.2), raising=False)


async def test_a_reminder_that_fails_once_is_retried(fake, tmp_path, fast_retries, caplog):
    async with running_bot(fake, tmp_path / "r.db") as app:
        guide = app.bot_data["guide"]
        due = at_nine(dt.date(2026, 11, 30))
        guide.engine.clock = lambda: due - dt.timedelta(seconds=1)
        user = fake.user(id=41)
        await user.ask_reminder("refund")
        fake.fail_next("sendMessage", 502, chat_id=41, times=2)  # the confirmation, then the reminder itself
        await user.send("2026-11-24")
        await fake.wait_for(
            lambda: (
                any("退单日期 2026-11-24，按江苏省指南的规则，最后一天重新提交" in m.plain for m in user.messages)
                and guide.store.pending_reminders() == []
            ),
            timeout=8,
            what="the retried reminder, marked sent",
        )
    assert not errors(caplog)


async def test_a_reminder_to_a_chat_that_is_gone_is_recorded_not_retried(fake, tmp_path, fast_retries, caplog):
    async with running_bot(fake, tmp_path / "g.db") as app:
        store = app.bot_data["guide"].store
        rid = store.add_reminder(42, 42, "expiry", NOW, payload={"date": "2026-12-24"})
        fake.fail_next("sendMessage", 400, chat_id=42, description="Bad Request: chat not found", times=5)
        app.bot_data["guide"].engine.emit("reminder_added", Context(user_id=42), str(rid))  # as when the user adds it
        await fake.wait_for(lambda: store.failed_reminders(), timeout=5, what="the failure to be recorded")
        await asyncio.sleep(0.8)
        assert len([c for c in fake.calls("sendMessage") if int(c["chat_id"]) == 42]) == 1
        assert store.failed_reminders()[0][0] == rid and "chat not found" in store.failed_reminders()[0][2].lower()
        assert store.pending_reminders() == []
    assert not errors(caplog)


async def test_the_retention_job_handles_each_user_on_its_own(fake, tmp_path, fast_retries, caplog):
    async with running_bot(fake, tmp_path / "ret.db", retention_days=30) as app:
        store = app.bot_data["guide"].store
        start = dt.datetime.now(UTC)
        for uid in (51, 52, 53):
            store.touch_user(uid, "zh", now=start)
        store.touch_user(54, "zh", now=start - dt.timedelta(days=40))  # due for deletion
        store.open_checklist(54, "unlock")
        fake.fail_next("sendMessage", 400, chat_id=51, description="Bad Request: chat not found")
        fake.fail_next("sendMessage", 502, chat_id=52)
        app.bot_data["guide"].engine.clock = lambda: start + dt.timedelta(days=24)
        job = app.job_queue.get_jobs_by_name("retention")[0]
        await job.run(app)
        assert not user_known(store, 54)  # the deletion was not skipped
        await fake.wait_for(lambda: fake.chats.get(52) and fake.chats.get(53), timeout=5, what="the warnings (52 after a retry)")
        assert "若 7 天内仍未使用" in fake.chats[52][-1].plain and "若 7 天内仍未使用" in fake.chats[53][-1].plain
        assert "chat not found" in store.get_setting(51, "retention_warn_error", "").lower()
        sent_to_51 = len([c for c in fake.calls("sendMessage") if int(c["chat_id"]) == 51])
        await job.run(app)  # the next day: the permanent failure is not retried
        assert len([c for c in fake.calls("sendMessage") if int(c["chat_id"]) == 51]) == sent_to_51
    assert not errors(caplog)


# -- Medium 6: every message fits --------------------------------------------------------------------
async def test_stats_stay_answerable_with_long_unanswered_questions(fake, tmp_path):
    async with running_bot(fake, tmp_path / "s.db", admins=frozenset({9})) as app:
        store = app.bot_data["guide"].store
        for i in range(12):
            store.record_unanswered(f"{i}" + "🙂" * 300, user_id=60 + i)
            store.record_unanswered(f"{i}" + "𝕏" * 300, user_id=60 + i)
        stats = await fake.user(id=9).send("/stats")
        assert stats is not None and "使用统计" in stats.plain and utf16_len(stats.plain) <= 4096


def test_a_screen_longer_than_telegram_allows_is_cut_with_and_n_more(store_engine, guide):
    engine = store_engine
    for i in range(200):
        guide.store.record_unanswered(f"问题{i} " + "长" * 100, user_id=i)
    for i in range(10):
        guide.store.log_event("view", f"topic_{i}_" + "x" * 400, 1)
    screen = engine.render("stats", Context(user_id=9, admin=True))
    assert utf16_len(screen.text) <= 4096 and "还有" in screen.text.splitlines()[-1]
    ru = engine.render("stats", Context(user_id=9, admin=True, lang="ru"))
    assert "ещё" in ru.text.splitlines()[-1]


# -- Medium 7: a 400 is not "Telegram unreachable" ---------------------------------------------------
async def test_a_document_telegram_will_not_hand_over_gets_an_answer(fake, bot_app):
    user = fake.user(id=71)
    fake.files["huge"] = 25 * 1024 * 1024  # getFile answers 400 "file is too big"
    doc = {"file_id": "huge", "file_unique_id": "huge", "file_name": "scan.pdf", "mime_type": "application/pdf"}  # no size
    reply = await user._push({"message": user._message(document=doc)}, True)
    assert reply is not None and "20MB" in reply.plain


async def test_a_bad_request_is_reported_to_the_user(fake, bot_app, caplog):
    caplog.set_level(logging.INFO)
    fake.fail_next("sendMessage", 400, chat_id=72, description="Bad Request: can't parse entities")
    await fake.user(id=72).send("/help")
    assert fake.chats.get(72) and "出错了" in fake.chats[72][-1].plain
    assert not [r for r in caplog.records if "unreachable" in r.getMessage()]


# -- Medium 8: reminders capped and de-duplicated -----------------------------------------------------
def test_reminders_are_deduplicated_and_capped(store_engine, guide):
    engine, ctx = store_engine, Context(user_id=81)
    for _ in range(300):
        engine.handle(ctx, "e1|remind_today|refund")
    assert len(guide.store.user_reminders(81)) == 2  # the two distinct reminder times, once each
    screen = None
    for month in range(1, 13):
        ask = engine.handle(ctx, "e1|remind|expiry")
        screen = engine.reply(ctx, ask.awaiting, f"2027-{month:02d}-15")
    assert len(guide.store.user_reminders(81)) == MAX_PENDING_REMINDERS
    assert "上限" in screen.text
    listing = engine.render("reminders", ctx)
    assert utf16_len(listing.text) <= 4096 and len(listing.all_buttons()) <= 100


def test_hundreds_of_stored_reminders_can_still_be_listed_and_cancelled(store_engine, guide):
    engine, ctx = store_engine, Context(user_id=82)
    for i in range(607):
        guide.store.add_reminder(82, 82, "expiry", NOW + dt.timedelta(days=1, minutes=i), payload={"date": "2027-01-01"})
    listing = engine.render("reminders", ctx)
    assert "还有 597 条" in listing.text and utf16_len(listing.text) <= 4096
    cancel = [b for b in listing.all_buttons() if b.data and "reminder_cancel" in b.data]
    assert len(cancel) == MAX_PENDING_REMINDERS
    assert engine.handle(ctx, cancel[0].data).toast == "已取消提醒"


# -- Medium 9: database faults ---------------------------------------------------------------------
def read_only_connect(monkeypatch):
    """Open every database read-only, as SQLite does for a file the process may not write (even as root)."""
    import dialogs.store as store_module

    real = sqlite3.connect

    def connect(path, *args, **kwargs):
        return real(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)


def test_a_read_only_database_stops_run_at_start_up(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    db = tmp_path / "ro.db"
    Store(db).close()
    read_only_connect(monkeypatch)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:" + "a" * 35)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    monkeypatch.setenv("EPORT_GUIDE_DB", str(db))
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "readonly" in err[0].lower().replace("-", "").replace(" ", "")


def test_reports_still_work_on_a_read_only_copy(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    db = tmp_path / "copy.db"
    Store(db).close()
    read_only_connect(monkeypatch)
    assert main(["stats", "--db", str(db)]) == 0 and "用户总数：0" in capsys.readouterr().out
    assert main(["forget", "--user", "1", "--db", str(db)]) == 2  # a write is refused at once, in one line


def test_a_database_path_that_is_a_directory_is_one_line(tmp_path, capsys):
    from bot.cli import main

    assert main(["forget", "--user", "1", "--db", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("not a regular file" in err[0] or "is a directory" in err[0])


async def test_a_locked_database_does_not_block_look_ups(fake, tmp_path):
    db = tmp_path / "locked.db"
    async with running_bot(fake, db):
        user = fake.user(id=91)
        await user.send("/start")
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            start = time.monotonic()
            await user.send("/help", wait=False)
            await fake.user(id=92).send("/start reissue_lost", wait=False)
            await fake.wait_for(
                lambda: fake.chats.get(92) and len(fake.chats[91]) == 2,
                timeout=4,
                what="both look-ups answered while the database is locked",
            )
            assert time.monotonic() - start < 4
            assert "使用帮助" in fake.chats[91][-1].plain and "丢失补办" in fake.chats[92][-1].plain
        finally:
            other.execute("ROLLBACK")
            other.close()


class DiskFullAtCommit:
    """A connection whose writes fail when the statement finishes (where a full disk shows in WAL mode)."""

    def __init__(self, conn):
        self._conn = conn

    def execute(self, sql, *args):
        cursor = self._conn.execute(sql, *args)
        if not sql.lstrip().upper().startswith("INSERT"):
            return cursor

        class Cursor:
            rowcount = lastrowid = 0

            def fetchall(self):
                raise sqlite3.OperationalError("database or disk is full")

        return Cursor()

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_full_disk_while_recording_a_visit_is_a_store_error(tmp_path):
    store = Store(tmp_path / "full.db")
    real = store.conn
    store.conn = DiskFullAtCommit(real)
    try:
        with pytest.raises(StoreError, match="full"):
            store.touch_user(1, "zh")
    finally:
        store.conn = real
        store.close()


def test_a_full_disk_is_a_store_error_not_a_raw_sqlite_error(tmp_path):
    store = Store(tmp_path / "full.db")
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError):
        for uid in range(100_000):
            store.touch_user(uid, "zh")
    store.close()


# -- Medium 10: unanswered questions keep no personal data ---------------------------------------------
def test_unanswered_questions_are_scrubbed_capped_and_forgotten(store_engine, guide):
    engine = store_engine
    ann = Context(user_id=101)
    engine.ask(ann, SECRET_QUESTION + " 请问" + "很长" * 200)
    engine.ask(Context(user_id=102), "签证怎么办理 +7 914 123-45-67 a@b.ru")
    stats = engine.render("stats", Context(user_id=9, admin=True)).text
    for secret in (ID_NUMBER, PHONE, "123-45-67", "a@b.ru", "1101011990"):
        assert secret not in stats
    assert all(len(q) <= 100 for q, _ in guide.store.stats()["unanswered"])
    guide.store.forget_user(101)
    assert [q for q, _ in guide.store.stats()["unanswered"] if "我的身份证" in q] == []
    assert len(guide.store.stats()["unanswered"]) == 1


def test_cli_forget_deletes_the_users_questions(tmp_path, eport_guide):
    from dialogs.guide import build_guide

    guide = build_guide(tmp_path / "q.db")
    guide.engine.ask(Context(user_id=103), "签证怎么办理")
    guide.close()
    r = eport_guide("forget", "--user", "103", "--db", str(tmp_path / "q.db"))
    assert r.returncode == 0
    with Store(tmp_path / "q.db") as store:
        assert store.stats()["unanswered"] == []


async def test_questions_expire_after_the_retention_period(fake, tmp_path):
    async with running_bot(fake, tmp_path / "e.db", retention_days=30) as app:
        store = app.bot_data["guide"].store
        start = dt.datetime.now(UTC)
        store.record_unanswered("旧问题", user_id=None, now=start - dt.timedelta(days=31))
        store.record_unanswered("新问题", user_id=None, now=start)
        app.bot_data["guide"].engine.clock = lambda: start
        await app.job_queue.get_jobs_by_name("retention")[0].run(app)
        assert [q for q, _ in store.stats()["unanswered"]] == ["新问题"]
        privacy = await fake.user(id=104).send("/privacy")
        assert "会被隐去" in privacy.plain and "问题和意见最多保存 30 天" in privacy.plain


# -- Medium 11: knowledge loading refuses bombs, devices and duplicate keys ----------------------------
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(9)
)


def test_an_alias_bomb_is_refused_quickly(knowledge_copy, eport_guide):
    (knowledge_copy / "facts.yaml").write_text(BOMB, encoding="utf-8")
    assert len(BOMB) < 600
    r = eport_guide("check-knowledge", str(knowledge_copy))
    assert r.returncode == 1 and "facts.yaml:2:" in r.stderr and "alias *a" in r.stderr  # the first alias


def test_a_byte_size_alias_bomb_is_refused(knowledge_copy, eport_guide):
    """Few nodes, many bytes: a long string aliased thousands of times (under any node limit) is refused
    as any alias is, by check-knowledge and by an admin's /reload alike (the same loader)."""
    from knowledge import KnowledgeError, load_knowledge

    big = "x" * 200_000
    bomb = f"s: &s {big}\nfacts:\n" + "".join("  - *s\n" for _ in range(5000))
    (knowledge_copy / "facts.yaml").write_text(bomb, encoding="utf-8")
    r = eport_guide("check-knowledge", str(knowledge_copy))
    assert r.returncode == 1 and "facts.yaml:3:" in r.stderr and "alias *s" in r.stderr
    with pytest.raises(KnowledgeError, match="alias"):
        load_knowledge(knowledge_copy)


def test_the_knowledge_together_has_a_size_cap(knowledge_copy):
    from knowledge import KnowledgeError, load_knowledge
    from knowledge.loader import MAX_FILE_BYTES, MAX_TOTAL_BYTES

    filler = "# " + "x" * 1000 + "\n"
    for name in ("answers.yaml", "vocabulary.yaml"):  # each under the limit of one file, together over the cap
        path = knowledge_copy / name
        path.write_text(
            path.read_text(encoding="utf-8") + filler * ((MAX_TOTAL_BYTES // 2 + 1000) // len(filler)), encoding="utf-8"
        )
        assert path.stat().st_size < MAX_FILE_BYTES
    with pytest.raises(KnowledgeError, match="together"):
        load_knowledge(knowledge_copy)


def test_a_symlink_to_a_device_is_refused(knowledge_copy, eport_guide):
    target = knowledge_copy / "facts.yaml"
    target.unlink()
    target.symlink_to("/dev/zero")
    r = eport_guide("check-knowledge", str(knowledge_copy))
    assert r.returncode == 1 and "facts.yaml" in r.stderr and "not a regular file" in r.stderr


def test_duplicate_keys_are_errors_with_file_and_line(knowledge_copy, eport_guide):
    f = knowledge_copy / "offices.yaml"
    lines = f.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.strip().startswith("city:"))
    lines.insert(n + 1, lines[n])
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = eport_guide("check-knowledge", str(knowledge_copy))
    assert r.returncode == 1 and f"offices.yaml:{n + 2}:" in r.stderr and "duplicate key 'city'" in r.stderr


async def test_the_first_question_after_a_reload_does_not_build_the_matcher_on_the_event_loop(fake, tmp_path, monkeypatch):
    """eport-guide run --web: the matcher for newly loaded knowledge is built in a worker thread;
    the web pages on the same loop are served meanwhile, and the question is answered after."""
    import threading

    import httpx

    import dialogs.matcher
    from web.server import attach

    from .test_web import free_port

    port = free_port()
    async with running_bot(fake, tmp_path / "mb.db", before_init=attach, web_port=port, admins=frozenset({9})) as app:
        admin = fake.user(id=9)
        engine = app.bot_data["guide"].engine
        await until(lambda: engine.matcher_ready, 60)
        # the start-up's own warm-up (a timer after polling began) has run: it would build the new knowledge's
        # matcher itself if it came after the reload
        await until(lambda: not [t for t in threading.enumerate() if getattr(t, "function", None) == engine.warm_up], 60)
        await admin.send("/reload")
        await fake.wait_for(lambda: any("✅" in m.plain for m in admin.messages), timeout=20, what="the reload")
        assert not engine.matcher_ready  # new knowledge: no matcher for it yet
        started, release, finished = threading.Event(), threading.Event(), threading.Event()
        real = dialogs.matcher.Matcher.__init__

        def slow_build(self, *args, **kwargs):
            started.set()
            release.wait(5)  # on the event loop this would hold up everything for 5 s
            finished.set()
            real(self, *args, **kwargs)

        monkeypatch.setattr(dialogs.matcher.Matcher, "__init__", slow_build)
        task = asyncio.ensure_future(fake.user(id=5).send("卡丢了怎么办"))
        await until(started.is_set, 10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as web:
            assert (await web.get("/")).status_code == 200
        assert not finished.is_set()
        release.set()
        await task
        await fake.wait_for(lambda: any("丢失补办" in m.plain for m in fake.user(id=5).messages), timeout=10, what="the answer")


async def test_reload_does_not_stop_other_users(fake, tmp_path, monkeypatch):
    import dialogs.guide

    real = dialogs.guide.load_knowledge  # what /reload reads through Guide.load_knowledge

    def slow(*args):
        time.sleep(1.5)
        return real(*args)

    monkeypatch.setattr(dialogs.guide, "load_knowledge", slow)
    async with running_bot(fake, tmp_path / "rl.db", admins=frozenset({9})):
        admin = fake.user(id=9)
        await admin.send("/start")
        await admin.send("/reload", wait=False)
        await asyncio.sleep(0.3)
        other = await fake.user(id=111).send("/help")
        assert other is not None and not any("已重新载入资料" in m.plain for m in admin.messages)
        await fake.wait_for(lambda: any("已重新载入资料" in m.plain for m in admin.messages), timeout=10, what="the reload")


# -- Low ---------------------------------------------------------------------------------------------
def test_a_retried_tick_press_keeps_the_tick(store_engine, guide):
    engine, ctx = store_engine, Context(user_id=121)
    engine.handle(ctx, callback_data("checklist_open", "unlock"))
    screen = engine.handle(ctx, callback_data("go", "checklist_part:unlock:agent_id"))
    tick = next(b.data for b in screen.all_buttons() if b.label.startswith("☐ 经办人·复印件"))
    engine.handle(ctx, tick)
    again = engine.handle(ctx, tick)  # e.g. the edit failed and the user pressed the old button again
    assert guide.store.ticks(121, "unlock") == {"agent_id.copy"} and again.toast == "已勾选"
    untick = next(b.data for b in again.all_buttons() if b.label.startswith("✅ 经办人·复印件"))
    engine.handle(ctx, untick)
    engine.handle(ctx, untick)
    assert guide.store.ticks(121, "unlock") == set()


def test_old_toggle_buttons_are_answered_without_changing_anything(store_engine, guide):
    engine, ctx = store_engine, Context(user_id=122)
    engine.handle(ctx, callback_data("checklist_open", "unlock"))
    screen = engine.handle(ctx, "e1|x|unlock:agent_id.copy")
    assert not screen.stale and screen.route == "checklist_part:unlock:agent_id" and "过期" in screen.toast
    assert guide.store.ticks(122, "unlock") == set()


@pytest.mark.parametrize(
    "data",
    [
        "e1|g|precheck",
        "e1|g|suggest",
        "e1|g|reminder_set",
        "e1|g|reminder_due",
        "e1|g|private_only",
        "e1|reminder_cancel|" + "9" * 40,
        "e1|reminder_cancel|١٢٣",
        "e1|g|stats:x",
    ],
)
def test_forged_routes_are_stale_without_tracebacks(store_engine, data, caplog):
    screen = store_engine.handle(Context(user_id=123), data)
    assert screen.stale and not errors(caplog)


def test_a_forged_long_feedback_id_is_stale(store_engine):
    screen = store_engine.reply(Context(user_id=124), "feedback_reason:" + "9" * 40 + ":unlock", "x")
    assert screen.stale


def test_repeated_thumbs_down_counts_once(store_engine, guide):
    engine, ctx = store_engine, Context(user_id=125)
    for _ in range(200):
        engine.handle(ctx, "e1|fb|unlock:-1")
    assert guide.store.stats()["feedback"] == {"unlock": {"up": 0, "down": 1}}


@pytest.mark.parametrize(
    "args",
    [
        ["links", "--out", "{file}"],
        ["links", "--out", "/dev/null"],
        ["link", "unlock", "--qr", "{dir}"],
        ["link", "unlock", "--qr", "/dev/full"],
        ["checklist", "--user", str(10**23)],
        ["forget", "--user", "١٢٣"],
    ],
)
def test_cli_errors_are_one_line_with_exit_2(tmp_path, args, eport_guide):
    (tmp_path / "afile").write_text("x")
    args = [a.format(file=tmp_path / "afile", dir=tmp_path) for a in args]
    db = ["--db", str(tmp_path / "c.db")] if args[0] in ("checklist", "forget") else []
    r = eport_guide(*args, *db, env={"EPORT_GUIDE_BOT_USERNAME": "eport_bot"})
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr and lines[-1].startswith("eport-guide")  # argparse puts its usage lines first
    assert len([line for line in lines if not line.startswith((" ", "usage:"))]) == 1


@pytest.mark.measured_subprocesses  # the Telegram errors' exits of bot.cli.main
async def test_a_revoked_token_ends_the_process_non_zero(fake, tmp_path):
    from .test_process_restart import start_bot

    proc = await start_bot(fake, tmp_path / "revoked.db")
    real = fake.token
    fake.token = "111:revoked"  # Telegram now answers 401 to the old token
    fake._closing = True
    await fake._notify()
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        fake._closing = False
        fake.token = real
    assert proc.returncode == 3, err.decode()[-500:]  # non-zero: the supervisor restarts it
    assert real.split(":")[1] not in err.decode() and "Traceback" not in err.decode() and "polling stopped" in err.decode()


async def test_an_empty_inline_query_does_not_recount_the_statistics_every_time(fake, bot_app):
    store = bot_app.bot_data["guide"].store
    user = fake.user(id=131)
    first = await user.inline_query("")
    assert first["answered"] and first["results"]
    reads = []
    real = store._read
    store._read = lambda *a, **k: reads.append(a) or real(*a, **k)
    try:
        second = await user.inline_query("")
    finally:
        store._read = real
    assert second["answered"] and [r["id"] for r in second["results"]] == [r["id"] for r in first["results"]]
    # the view counts are not read again (the one read left is the user's language: Guide.language)
    assert [sql for sql, *_ in reads if "events" in sql] == []
    assert len(reads) <= 1


def test_a_pdf_header_on_random_bytes_is_not_a_pdf(kb):
    from dialogs.uploads import precheck

    junk = b"%PDF-1.7\n" + os.urandom(5000)
    result = precheck(kb, junk, "scan.pdf", None)
    assert not result.ok and result.problems[0][0] == "damaged"
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    assert not precheck(kb, png, "a.png", None).ok
    jpeg = b"\xff\xd8\xff\xe0" + os.urandom(3000)
    assert not precheck(kb, jpeg, "a.jpg", None).ok


def test_deleted_text_does_not_survive_in_the_file(tmp_path, monkeypatch):
    import dialogs.store as store_module

    real = sqlite3.connect

    def connect(*args, **kwargs):  # a build where secure_delete is off by default
        conn = real(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)
    db = tmp_path / "sd.db"
    store = Store(db)
    marker = "SECRETREASONMARKER"
    for i in range(50):
        store.add_feedback(7, f"topic{i}", -1, f"{marker} {i}")
    store.forget_user(7)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    assert marker.encode() not in db.read_bytes()


def test_upgrading_a_database_scrubs_old_questions_and_keeps_one_vote_per_user(tmp_path):
    import sqlite_utils

    from dialogs.store import migrate

    path = tmp_path / "v2.db"
    db = sqlite_utils.Database(path)
    migrate(db, target=2)
    db.execute(
        "INSERT INTO unanswered (question, count, first_ts, last_ts) VALUES (?, 3, 'x', '2026-11-01T00:00:00+00:00')",
        (SECRET_QUESTION,),
    )
    for vote in (-1, -1, 1):
        db.execute("INSERT INTO feedback (ts, user_id, topic, vote) VALUES ('x', 5, 'unlock', ?)", (vote,))
    db.execute(
        "INSERT INTO reminders (user_id, chat_id, kind, due_at, payload, created) VALUES (5, 5, 'expiry', ?, '{}', 'x')",
        ((NOW + dt.timedelta(days=1)).isoformat(),),
    )
    db.conn.commit()
    db.conn.close()
    with Store(path) as store:
        ((question, count),) = store.stats()["unanswered"]
        assert count == 3 and ID_NUMBER not in question and PHONE not in question
        assert store.stats()["feedback"] == {"unlock": {"up": 1, "down": 0}}  # the latest vote
        assert [r.user_id for r in store.pending_reminders()] == [5]
