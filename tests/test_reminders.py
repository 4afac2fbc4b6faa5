"""Reminder dates (Asia/Shanghai) and delivery through the JobQueue against the fake."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.engine import Context
from dialogs.features.reminders import (
    SHANGHAI,
    DateError,
    at_nine,
    expiry_reminders,
    parse_date,
    refund_deadline,
    refund_reminders,
)

from .conftest import running_bot

TODAY = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("今天", TODAY),
        ("today", TODAY),
        ("Сегодня", TODAY),
        ("昨天", dt.date(2026, 11, 23)),
        ("2026-11-30", dt.date(2026, 11, 30)),
        ("2026/11/30", dt.date(2026, 11, 30)),
        ("2026.1.5", dt.date(2026, 1, 5)),
        ("2026年11月30日", dt.date(2026, 11, 30)),
        ("11月30日", dt.date(2026, 11, 30)),
        ("3月1号", dt.date(2026, 3, 1)),
        ("30.11.2026", dt.date(2026, 11, 30)),
        (" 2028-02-29 ", dt.date(2028, 2, 29)),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text,code",
    [
        ("2026-02-30", "no_such_day"),
        ("2027-02-29", "no_such_day"),
        ("next week", "unreadable"),
        ("", "unreadable"),
        ("11/30/2026", "unreadable"),
        ("<b>1</b>", "unreadable"),
    ],
)
def test_bad_dates_get_a_reason(text, code):
    with pytest.raises(DateError) as exc:
        parse_date(text, TODAY)
    assert exc.value.code == code


def test_refund_deadline_counts_the_refund_day_as_day_one():
    assert refund_deadline(dt.date(2026, 11, 24)) == dt.date(2026, 11, 30)
    assert refund_deadline(dt.date(2026, 1, 28)) == dt.date(2026, 2, 3)  # month end
    assert refund_deadline(dt.date(2026, 12, 29)) == dt.date(2027, 1, 4)  # year end
    assert refund_deadline(dt.date(2028, 2, 24)) == dt.date(2028, 3, 1)  # leap year: 29 Feb counts
    assert refund_deadline(dt.date(2027, 2, 24)) == dt.date(2027, 3, 2)


def test_refund_reminders_skip_past_times_and_reject_passed_deadlines():
    last, times = refund_reminders(dt.date(2026, 11, 20), NOW)
    assert last == dt.date(2026, 11, 26) and times == [at_nine(dt.date(2026, 11, 26))]  # 11-24 09:00 already past
    with pytest.raises(DateError) as exc:
        refund_reminders(dt.date(2026, 11, 10), NOW)
    assert exc.value.code == "refund_passed" and exc.value.values["last"] == "2026-11-16"
    with pytest.raises(DateError):
        refund_reminders(dt.date(2026, 11, 25), NOW)  # in the future


def test_expiry_reminders_30_and_7_days_before():
    assert expiry_reminders(dt.date(2027, 3, 1), NOW) == [at_nine(dt.date(2027, 1, 30)), at_nine(dt.date(2027, 2, 22))]
    assert expiry_reminders(dt.date(2028, 3, 30), NOW)[0] == at_nine(dt.date(2028, 2, 29))
    assert expiry_reminders(dt.date(2026, 12, 10), NOW) == [at_nine(dt.date(2026, 12, 3))]  # 30 days before is past
    for past in (TODAY, dt.date(2026, 1, 1)):
        with pytest.raises(DateError):
            expiry_reminders(past, NOW)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_refund_deadline_is_always_six_days_later(day):
    assert (refund_deadline(day) - day).days == 6


@given(st.dates(min_value=dt.date(2026, 11, 25), max_value=dt.date(2099, 12, 31)))
def test_expiry_reminders_are_future_nine_oclock_and_before_expiry(day):
    for t in expiry_reminders(day, NOW):
        assert t > NOW and t.time() == dt.time(9, 0) and t.date() < day and t.tzinfo == SHANGHAI


def test_the_dialog_rejects_bad_input_and_keeps_asking(engine_with_store):
    engine = engine_with_store
    engine.clock = lambda: NOW
    ctx = Context(user_id=3)
    ask = engine.handle(ctx, "e1|remind|expiry")
    again = engine.reply(ctx, ask.awaiting, "2026-13-01")
    assert "没有这一天：2026-13-01" in again.text and again.awaiting == "remind_date:expiry"
    again = engine.reply(ctx, again.awaiting, "soon")
    assert "看不懂这个日期：soon" in again.text
    past = engine.reply(ctx, again.awaiting, "2026-01-01")
    assert "到期日期必须晚于今天（2026-11-24）" in past.text
    done = engine.reply(ctx, past.awaiting, "2027-03-01")
    assert "2027-01-30 09:00、2027-02-22 09:00" in done.text and done.awaiting is None


@pytest.fixture
def engine_with_store(tmp_path, kb):
    from dialogs.guide import build_guide

    guide = build_guide(tmp_path / "r.db", kb=kb)
    yield guide.engine
    guide.close()


async def test_a_reminder_fires_under_a_fast_clock(fake, tmp_path):
    async with running_bot(fake, tmp_path / "f.db") as app:
        guide = app.bot_data["guide"]
        due = at_nine(dt.date(2026, 11, 30))
        guide.engine.clock = lambda: due - dt.timedelta(seconds=0.5)  # it is 08:59:59.5 on the last day
        user = fake.user(id=61)
        step = await user.send("退单了怎么办")
        assert "7日之内" in step.plain
        await user.ask_reminder("refund")
        confirmed = await user.send("2026-11-24")
        assert "最后一天重新提交：2026-11-30" in confirmed.plain and "2026-11-30 09:00" in confirmed.plain
        await fake.wait_for(
            lambda: any("⏰ 退单提醒" in m.plain and "最后一天重新提交：2026-11-30" in m.plain for m in user.messages[-1:]),
            timeout=5,
            what="the reminder",
        )
        assert guide.store.pending_reminders() == []


async def test_reminders_list_and_cancel(fake, tmp_path):
    async with running_bot(fake, tmp_path / "s.db") as app:
        app.bot_data["guide"].engine.clock = lambda: NOW
        user = fake.user(id=62)
        await user.ask_reminder("expiry")
        done = await user.send("2027-03-01")
        assert "2027-01-30 09:00、2027-02-22 09:00" in done.plain
        assert len(app.job_queue.get_jobs_by_name("reminder-1")) == 1
        listing = await user.send("/reminders")
        assert listing.plain.count("证书到期（2027-03-01）") == 2
        answer = await user.click(listing, "❌ 取消 #2")
        assert answer["text"] == "已取消提醒" and listing.plain.count("证书到期（2027-03-01）") == 1
        await fake.settle()
        assert [j for j in app.job_queue.get_jobs_by_name("reminder-2") if not j.removed] == []
        other = await fake.user(id=99).send("/reminders")
        assert "没有待发送的提醒" in other.plain


async def test_pending_reminder_is_sent_after_restart_when_due(fake, tmp_path):
    db = tmp_path / "d.db"
    async with running_bot(fake, db) as app:
        app.bot_data["guide"].engine.clock = lambda: NOW
        user = fake.user(id=63)
        await user.ask_reminder("expiry")
        await user.send("2027-03-01")
    from dialogs.store import Store

    with Store(db) as store:
        assert len(store.pending_reminders()) == 2
    user = fake.user(id=63)
    before = len(user.messages)
    async with running_bot(fake, db):  # restarted with the real clock: nothing is due yet
        await fake.settle()
    assert len(user.messages) == before
    # restart again after the first reminder's time (a fast clock in the new process)
    import bot.app as bot_app_module

    original = bot_app_module.build_guide

    def build_with_clock(*args, **kwargs):
        guide = original(*args, **kwargs)
        guide.engine.clock = lambda: at_nine(dt.date(2027, 1, 30)) + dt.timedelta(hours=1)
        return guide

    bot_app_module.build_guide = build_with_clock
    try:
        async with running_bot(fake, db):
            await fake.wait_for(
                lambda: any("您的证书将于 2027-03-01 到期" in m.plain for m in user.messages),
                timeout=5,
                what="the reminder missed while the bot was down",
            )
    finally:
        bot_app_module.build_guide = original
    with Store(db) as store:
        assert len(store.pending_reminders()) == 1  # the 7-days-before one is still pending


async def test_the_date_question_survives_a_restart_of_the_bot(fake, tmp_path):
    db = tmp_path / "asked.db"
    user = fake.user(id=64)
    async with running_bot(fake, db) as app:
        app.bot_data["guide"].engine.clock = lambda: NOW
        question = await user.ask_reminder("refund")
    async with running_bot(fake, db) as app:  # a new application on the same database
        app.bot_data["guide"].engine.clock = lambda: NOW
        answer = await user.send("2026-11-24")
        assert answer is not question and "最后一天重新提交：2026-11-30" in answer.plain
        store = app.bot_data["guide"].store
        reminders = store.user_reminders(64)
        assert reminders and {r.kind for r in reminders} == {"refund"}
        after = await user.send("2026-11-25")  # answered once: the next text is a question again
        assert "最后一天重新提交" not in after.plain and store.user_reminders(64) == reminders
