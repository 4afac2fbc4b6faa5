"""/settings round trip across a restart, and retention with a fast clock."""

from __future__ import annotations

import datetime as dt

from .conftest import running_bot, user_known

UTC = dt.timezone.utc


async def test_settings_round_trip_survives_a_restart(fake, tmp_path):
    db = tmp_path / "s.db"
    async with running_bot(fake, db):
        user = fake.user(id=31)
        screen = await user.send("/settings")
        assert "提醒：已开启" in screen.plain and "连续 365 天未使用" in screen.plain
        answer = await user.click(screen, "🔔 提醒：已开启")
        assert answer["text"] == "提醒已关闭" and "提醒：已关闭" in screen.plain
        await user.click(screen, "🌐 界面语言")
        assert "中文" in " ".join(screen.labels)
    async with running_bot(fake, db):
        screen = await fake.user(id=31).send("/settings")
        assert "提醒：已关闭" in screen.plain
        await fake.user(id=31).click(screen, "🗑 删除我的数据")
        assert "此操作无法撤销" in screen.plain


async def test_privacy_states_the_retention_period(fake, tmp_path):
    async with running_bot(fake, tmp_path / "p.db", retention_days=90):
        text = (await fake.user().send("/privacy")).plain
        assert "连续 90 天未使用，您的数据将被自动删除（删除前 7 天会提醒您）" in text


async def test_retention_warns_then_deletes_with_a_fast_clock(fake, tmp_path):
    async with running_bot(fake, tmp_path / "r.db", retention_days=30) as app:
        store = app.bot_data["guide"].store
        old, active = fake.user(id=41), fake.user(id=42)
        answer = await old.send("/start unlock")
        await old.click(answer, "📋 加入清单")
        await active.send("/start")
        start = dt.datetime.now(UTC)
        job = app.job_queue.get_jobs_by_name("retention")[0]

        async def run_at(when):
            app.bot_data["guide"].engine.clock = lambda: when
            store.touch_user(42, now=when)  # user 42 keeps using the bot
            await job.run(app)
            await fake.settle()

        before = len(old.messages)
        await run_at(start + dt.timedelta(days=10))
        assert len(old.messages) == before  # nothing yet
        await run_at(start + dt.timedelta(days=24))
        assert "若 7 天内仍未使用" in old.last.plain
        assert not any("7 天内" in m.plain for m in active.messages)
        await run_at(start + dt.timedelta(days=25))
        assert sum("7 天内" in m.plain for m in old.messages) == 1  # warned once
        assert user_known(store, 41)
        await run_at(start + dt.timedelta(days=31))
        assert not user_known(store, 41) and store.list_checklists(41) == []
        assert user_known(store, 42)


async def test_coming_back_after_the_warning_keeps_the_data(fake, tmp_path):
    async with running_bot(fake, tmp_path / "b.db", retention_days=30) as app:
        store = app.bot_data["guide"].store
        user = fake.user(id=51)
        await user.send("/start")
        start = dt.datetime.now(UTC)
        job = app.job_queue.get_jobs_by_name("retention")[0]
        app.bot_data["guide"].engine.clock = lambda: start + dt.timedelta(days=24)
        await job.run(app)
        await fake.settle()
        store.touch_user(51, now=start + dt.timedelta(days=25))  # the user answered the warning
        app.bot_data["guide"].engine.clock = lambda: start + dt.timedelta(days=31)
        await job.run(app)
        assert user_known(store, 51)


def test_retention_goes_on_past_a_database_that_refuses_and_says_so(guide, caplog):
    """A busy database at the daily run: each refusal is logged and the rest is still done."""
    from dialogs.features.privacy import expire
    from dialogs.store import StoreError

    store, now = guide.store, dt.datetime(2027, 6, 1, tzinfo=dt.timezone.utc)
    for uid in (31, 32):
        store.touch_user(uid, "zh", now=now - dt.timedelta(days=400))
    store.record_unanswered("火星上能办卡吗", user_id=31, now=now - dt.timedelta(days=400))

    class Busy:
        """The guide's store, but deleting user 31 and expiring free text are refused."""

        def __getattr__(self, name):
            return getattr(store, name)

        def forget_user(self, user_id):
            if user_id == 31:
                raise StoreError("database is locked")
            return store.forget_user(user_id)

        def expire_free_text(self, before):
            raise StoreError("database is locked")

    with caplog.at_level("WARNING", logger="eport_guide"):
        assert expire(Busy(), now, 365) == [32]  # 31 is tried again on the next run
    assert user_known(store, 31) and not user_known(store, 32)
    assert "could not delete the data of user 31" in caplog.text and "could not expire old questions" in caplog.text

    class Unreadable:
        def __getattr__(self, name):
            return getattr(store, name)

        def inactive_users(self, before):
            raise StoreError("database is locked")

    caplog.clear()
    with caplog.at_level("WARNING", logger="eport_guide"):
        assert expire(Unreadable(), now, 365) == []
    assert "cannot read the users" in caplog.text
    assert store.conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 0  # the free text went all the same
