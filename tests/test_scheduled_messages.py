"""Scheduled messages: reminders (typed dates, sent in the language the user reads, not sent when cancelled,
turned off or the user deleted elsewhere) and the retention warning.

Each test here once caught a deliberately planted one-line bug the rest of the suite let through.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from dialogs.features.reminders import at_nine

from .conftest import running_bot

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def _scheduled_refund_reminder(fake, app, uid: int):
    """A 退单 reminder due one second from now, set by the user in Chinese."""
    guide = app.bot_data["guide"]
    due = at_nine(dt.date(2026, 11, 30))
    guide.engine.clock = lambda: due - dt.timedelta(seconds=1.0)
    user = fake.user(id=uid)
    await user.ask_reminder("refund")
    assert "2026-11-30 09:00" in (await user.send("2026-11-24")).plain
    return guide, user


async def test_no_reminder_reaches_a_user_who_turned_reminders_off(fake, tmp_path):
    async with running_bot(fake, tmp_path / "off.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 71)
        settings = await user.send("/settings")
        await user.click(settings, "🔔 提醒")
        assert "关" in user.last.plain.split("提醒", 1)[1]
        before = len(user.messages)
        await fake.wait_for(lambda: guide.store.pending_reminders() == [], timeout=6, what="the reminder's time")
        await fake.settle()
        assert len(user.messages) == before  # marked done, nothing sent


async def test_a_bad_reminder_date_is_echoed_escaped(fake, tmp_path):
    async with running_bot(fake, tmp_path / "e.db") as app:
        app.bot_data["guide"].engine.clock = lambda: NOW
        user = fake.user(id=78)
        await user.ask_reminder("expiry")
        hostile = "<b>x</b> & <i>"
        reply = await user.send(hostile)
        assert "看不懂这个日期：&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;" in reply.text
        assert f"看不懂这个日期：{hostile}" in reply.plain


def test_dates_are_read_the_way_people_type_them():
    from dialogs.features.reminders import parse_date

    today = dt.date(2026, 11, 30)
    for typed in ("今天", "今日", "today", "Сегодня", " 今天。", "today."):
        assert parse_date(typed, today) == today, typed
    for typed in ("昨天", "yesterday", "вчера", "Yesterday."):
        assert parse_date(typed, today) == dt.date(2026, 11, 29), typed
    for typed in ("2026-12-01。", "2026-12-01.", " 2026-12-01 ", "2026/12/01", "12月1日", "01.12.2026"):
        assert parse_date(typed, today) == dt.date(2026, 12, 1), typed


# -- reminders whose state changed after they were scheduled (another process: the web pages, the CLI) --
async def test_a_reminder_comes_in_the_language_the_user_reads_now(fake, tmp_path):
    async with running_bot(fake, tmp_path / "lang.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 82)
        guide.store.set_language(82, "ru")  # chosen in /language after the reminder was set
        await fake.wait_for(lambda: "Напоминание о возврате заявки" in user.last.plain, timeout=6, what="the reminder")
        assert "последний день повторной подачи: 2026-11-30" in user.last.plain


async def test_a_reminder_cancelled_elsewhere_is_not_sent(fake, tmp_path):
    async with running_bot(fake, tmp_path / "cx.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 83)
        for reminder in guide.store.user_reminders(83):  # cancelled on the web pages: the bot's job is still scheduled
            assert guide.store.cancel_reminder(83, reminder.id)
        before = len(user.messages)
        await asyncio.sleep(2.5)
        await fake.settle()
        assert len(user.messages) == before


async def test_a_reminder_of_a_user_deleted_elsewhere_is_dropped_quietly(fake, tmp_path, caplog):
    async with running_bot(fake, tmp_path / "fx.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 84)
        guide.store.forget_user(84)  # `eport-guide forget --user 84` while the bot runs
        before = len(user.messages)
        with caplog.at_level(logging.WARNING):
            await asyncio.sleep(2.5)
            await fake.settle()
        complaints = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("eport_guide")]
        assert len(user.messages) == before and complaints == []


async def test_the_retention_warning_is_in_the_users_language(fake, tmp_path):
    async with running_bot(fake, tmp_path / "w.db", retention_days=30) as app:
        russian = fake.user(id=81, language_code="ru")
        await russian.send("/start")
        start = dt.datetime.now(dt.timezone.utc)
        app.bot_data["guide"].engine.clock = lambda: start + dt.timedelta(days=24)
        await app.job_queue.get_jobs_by_name("retention")[0].run(app)
        await fake.settle()
        assert "Вы давно не пользовались ботом" in russian.last.plain
