"""The SQLite store: migrations, durability, isolation, privacy."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.store import MIGRATIONS, Store, StoreBusy, StoreError, migrate

from .conftest import user_columns

T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)


def test_fresh_file_gets_the_latest_schema(tmp_path):
    with Store(tmp_path / "a" / "b.db") as s:
        assert s.schema_version == len(MIGRATIONS)
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = set(sqlite_utils.Database(s.conn).table_names())
        assert {"users", "checklists", "ticks", "events", "feedback", "questions", "reminders"} <= tables


def test_upgrade_from_the_previous_schema_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrate(db, target=len(MIGRATIONS) - 1)
    db.execute("INSERT INTO users (id, language, first_seen, last_seen) VALUES (5, 'ru', 'x', 'x')")
    db.execute("INSERT INTO checklists (user_id, topic, created, updated) VALUES (5, 'unlock', 'x', 'x')")
    db.execute("INSERT INTO ticks (user_id, topic, item_id, ticked_at) VALUES (5, 'unlock', 'agent_id.copy', 'x')")
    db.conn.commit()
    db.conn.close()
    with Store(path) as s:
        assert s.schema_version == len(MIGRATIONS)
        assert s.get_language(5) == "ru"
        assert s.ticks(5, "unlock") == {"agent_id.copy"}
        s.add_feedback(5, "unlock", 1)  # a table of the new version works


def test_upgrade_rebuilds_ticks_and_not_applicable_without_rowid_keeping_every_mark(tmp_path):
    """Version 8: the tables a checklist tick writes are stored by their key (one b-tree each); a database
    of version 7 keeps every tick and 不适用 mark, and ticking and unticking work on the rebuilt tables."""
    path = tmp_path / "v7.db"
    db = sqlite_utils.Database(path)
    migrate(db, target=7)
    for user, topic, item in [(5, "unlock", "agent_id.copy"), (5, "unlock", "form"), (-9, "lost", "form")]:
        db.execute("INSERT INTO ticks (user_id, topic, item_id, ticked_at) VALUES (?, ?, ?, 'x')", (user, topic, item))
    db.execute("INSERT INTO not_applicable (user_id, topic, item_id, marked_at) VALUES (5, 'unlock', 'foreign', 'x')")
    db.conn.commit()
    db.conn.close()
    with Store(path) as s:
        assert s.schema_version == len(MIGRATIONS) >= 8
        for table in ("ticks", "not_applicable"):
            sql = s.conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            assert sql.rstrip().upper().endswith("WITHOUT ROWID"), sql
        assert s.ticks(5, "unlock") == {"agent_id.copy", "form"}
        assert s.ticks(-9, "lost") == {"form"}
        assert s.not_applicable(5, "unlock") == {"foreign"}
        assert s.mark_and_read("tick", 5, "unlock", "form", False)[:2] == ({"agent_id.copy"}, {"foreign"})
        assert s.mark_and_read("tick", 5, "unlock", "agent_id.copy", True)[:2] == ({"agent_id.copy"}, {"foreign"})
        assert s.mark_and_read("na", 5, "unlock", "foreign", False)[:2] == ({"agent_id.copy"}, set())
        leftovers = [r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE name LIKE '%_v7'")]
        assert leftovers == []


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer than this program supports"):
        Store(path)


REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534


def test_read_only_directory():
    """A database in a directory the bot cannot write is refused at start with a clear message.
    Root ignores file permissions, so as root (as CI runs) the check runs as nobody (setpriv)."""
    root = Path(tempfile.mkdtemp(prefix="eport-ro-", dir="/tmp"))
    try:
        os.chmod(root, 0o755)
        ro = root / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        as_user = []
        if os.geteuid() == 0:
            assert shutil.which("setpriv"), "running as root needs setpriv to drop privileges"
            as_user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        code = (
            "import sys\nfrom dialogs.store import Store, StoreError\n"
            "try:\n    Store(sys.argv[1])\nexcept StoreError as exc:\n    print(exc)\nelse:\n    print('opened')"
        )
        run = subprocess.run(
            [*as_user, sys.executable, "-c", code, str(ro / "x.db")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "HOME": str(root)},
        )
        assert run.returncode == 0, run.stderr
        assert "cannot open the database" in run.stdout and not (ro / "x.db").exists()
    finally:
        ro.chmod(0o755)
        shutil.rmtree(root)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(path)


def test_ticks_persist_across_reopen(tmp_path):
    path = tmp_path / "p.db"
    with Store(path) as s:
        s.open_checklist(1, "unlock", now=T0)
        s.tick(1, "unlock", "a", True)
        s.tick(1, "unlock", "b", True)
        s.tick(1, "unlock", "b", False)
    with Store(path) as s:
        assert s.ticks(1, "unlock") == {"a"}
        (row,) = s.list_checklists(1)
        assert (row.topic, row.ticked) == ("unlock", 1)
        s.reset_checklist(1, "unlock")
        assert s.ticks(1, "unlock") == set()


def test_not_applicable_marks_persist_per_user_and_clear(tmp_path):
    path = tmp_path / "na.db"
    with Store(path) as s:
        s.mark_not_applicable(1, "unlock", "foreign_translation.translation", True, now=T0)
        s.mark_not_applicable(1, "unlock", "foreign_translation.translation", True, now=T0)  # a retried press
        assert [r.topic for r in s.list_checklists(1)] == ["unlock"]  # marking opens the checklist
    with Store(path) as s:
        assert s.not_applicable(1, "unlock") == {"foreign_translation.translation"}
        assert s.not_applicable(2, "unlock") == set() and s.not_applicable(1, "reissue_lost") == set()
        s.mark_not_applicable(1, "unlock", "foreign_translation.translation", False)
        assert s.not_applicable(1, "unlock") == set()
        s.mark_not_applicable(1, "unlock", "card_medium.have", True)
        s.clear_not_applicable(1, "unlock")
        assert s.not_applicable(1, "unlock") == set()


def test_sync_items_drops_vanished_items_and_leaves_a_notice():
    s = Store()
    s.open_checklist(1, "unlock")
    for item in ("a", "b", "c"):
        s.set_tick(1, "unlock", item, True)
    assert s.sync_items(1, "unlock", ["a", "c", "new"]) == ["b"]
    assert s.ticks(1, "unlock") == {"a", "c"}
    assert s.take_notice(1, "unlock") == '["b"]'
    assert s.take_notice(1, "unlock") is None
    assert s.sync_items(1, "unlock", ["a", "c"]) == []


def test_a_checklists_marks_are_read_together_and_per_user():
    s = Store()
    assert s.checklist_marks(1, "unlock") == (set(), set(), None)
    s.tick(1, "unlock", "a", True)
    s.tick(1, "unlock", "b", True)
    s.mark_not_applicable(1, "unlock", "c", True)
    s.tick(2, "unlock", "z", True)
    s.mark_not_applicable(1, "reissue_lost", "d", True)
    assert s.checklist_marks(1, "unlock") == ({"a", "b"}, {"c"}, None)
    s.sync_items(1, "unlock", ["a", "c"])
    assert s.checklist_marks(1, "unlock") == ({"a"}, {"c"}, '["b"]')
    assert s.checklist_marks(2, "unlock") == ({"z"}, set(), None)


def test_copy_ticks_between_topics():
    s = Store()
    s.open_checklist(1, "reissue_lost")
    s.set_tick(1, "reissue_lost", "agent_id.copy", True)
    s.set_tick(1, "reissue_lost", "only_here", True)
    assert s.copy_ticks(1, "reissue_lost", "reissue_expired", ["agent_id.copy", "other"]) == 1
    assert s.ticks(1, "reissue_expired") == {"agent_id.copy"}


def test_users_are_isolated():
    s = Store()
    s.open_checklist(1, "unlock")
    s.set_tick(1, "unlock", "a", True)
    s.set_language(1, "ru")
    assert s.ticks(2, "unlock") == set() and s.list_checklists(2) == [] and s.get_language(2) is None
    rid = s.add_reminder(1, 1, "refund", T0 + dt.timedelta(days=3))
    assert s.cancel_reminder(2, rid) is False and s.user_reminders(2) == []


def test_forget_leaves_no_row_about_the_user():
    s = Store()
    for uid in (1, 2):
        s.touch_user(uid, "zh", now=T0)
        s.open_checklist(uid, "unlock")
        s.set_tick(uid, "unlock", "a", True)
        s.mark_not_applicable(uid, "unlock", "foreign_translation.translation", True)
        s.log_event("view", "unlock", uid)
        s.add_feedback(uid, "unlock", -1, "too long")
        s.add_reminder(uid, uid, "expiry", T0)
        s.set_setting(uid, "reminders", False)
        s.conn.execute("INSERT INTO web_sessions (token_hash, user_id, created) VALUES (?, ?, '')", (f"hash{uid}", uid))
        s.conn.execute("INSERT INTO wechat_users (openid_hash, user_id, created) VALUES (?, ?, '')", (f"openid{uid}", uid))
        s.wechat_claim(f"msg{uid}", uid, T0, 3600, 100)  # a WeChat message answered, with its reply
        s.wechat_answered(f"msg{uid}", "reply")
    s.record_unanswered("how do I do x", user_id=1)
    s.record_unanswered("how do I do y", user_id=2)
    assert s.forget_user(1) >= 7
    columns = user_columns(s.conn)
    assert {t for t, _ in columns} >= {
        "users",
        "checklists",
        "ticks",
        "events",
        "feedback",
        "reminders",
        "questions",
        "web_sessions",
        "not_applicable",
    }
    for table, column in columns:
        assert s.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = 1").fetchone()[0] == 0, table
        assert s.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = 2").fetchone()[0] >= 1, table


def test_settings_and_language():
    s = Store()
    assert s.get_setting(3, "reminders", True) is True
    s.set_setting(3, "reminders", False)
    assert s.get_setting(3, "reminders", True) is False
    s.touch_user(4, "en")
    s.touch_user(4, "ru")
    assert s.get_language(4) == "en"  # first contact decides; /language changes it
    s.set_language(4, "ru")
    assert s.get_language(4) == "ru"


def test_stats_on_a_known_data_set():
    s = Store()
    day = dt.timedelta(days=1)
    s.touch_user(1, now=T0 - 2 * day)
    s.touch_user(2, now=T0)
    s.log_event("view", "unlock", 1, now=T0 - 2 * day)
    s.log_event("view", "unlock", 2, now=T0)
    s.log_event("view", "unlock", 1, now=T0)
    s.log_event("view", "reissue_lost", 1, now=T0)
    s.open_checklist(1, "unlock")
    s.set_tick(1, "unlock", "a", True)
    s.set_tick(1, "unlock", "b", True)
    s.open_checklist(2, "unlock")
    s.add_feedback(1, "unlock", 1)
    s.add_feedback(2, "unlock", -1, "x" * 500)
    s.record_unanswered("  签证怎么办  ")
    s.record_unanswered("签证怎么办")
    s.record_unanswered("别的")
    st_ = s.stats(now=T0, days=3, items_per_topic={"unlock": 2})
    assert st_["users"] == 2
    assert st_["active_per_day"] == [("2026-11-18", 1), ("2026-11-19", 0), ("2026-11-20", 2)]
    assert st_["views"] == {"unlock": 3, "reissue_lost": 1}
    assert st_["checklists"] == {"unlock": {"started": 2, "completed": 1}}
    assert st_["feedback"] == {"unlock": {"up": 1, "down": 1}}
    assert st_["unanswered"][0] == ("签证怎么办", 2)
    assert len(s.conn.execute("SELECT reason FROM feedback WHERE vote = -1").fetchone()[0]) == 200


def test_reminders_lifecycle():
    s = Store()
    r1 = s.add_reminder(1, 10, "refund", T0 + dt.timedelta(days=6), topic=None, payload={"date": "2026-11-26"})
    r2 = s.add_reminder(1, 10, "expiry", T0 + dt.timedelta(days=1), topic="renew_cert")
    assert [r.id for r in s.pending_reminders()] == [r2, r1]
    assert s.pending_reminders()[1].payload == {"date": "2026-11-26"}
    s.mark_reminder_sent(r2)
    assert [r.id for r in s.user_reminders(1)] == [r1]
    assert s.cancel_reminder(1, r1) is True and s.cancel_reminder(1, r1) is False
    assert s.pending_reminders() == []


def test_locked_database_is_reported_as_busy(tmp_path):
    from dialogs.store import StoreBusy

    path = tmp_path / "l.db"
    s = Store(path)
    s.conn.execute("PRAGMA busy_timeout=100")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreBusy):
            s.tick(1, "unlock", "a", True)
    finally:
        other.execute("ROLLBACK")
    s.tick(1, "unlock", "a", True)  # nothing lost once the lock is gone
    assert s.ticks(1, "unlock") == {"a"}


def test_sigkill_mid_burst_keeps_every_acknowledged_tick(tmp_path):
    path = tmp_path / "crash.db"
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "tests.store_burst", str(path)], cwd=repo, stdout=subprocess.PIPE, text=True)
    acked = []
    try:
        for line in proc.stdout:
            acked.append(line.split()[1])
            if len(acked) >= 300:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert len(acked) >= 300
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0] for r in conn.execute("SELECT item_id FROM ticks WHERE user_id = 1")}
    assert set(acked) <= stored


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["tick", "untick", "reset"]), st.sampled_from([1, 2]), st.sampled_from(["a", "b", "c"])),
        max_size=30,
    )
)
def test_random_ticks_match_a_simple_model(ops):
    s = Store()
    model: dict[int, set[str]] = {1: set(), 2: set()}
    for op, user, item in ops:
        if op in ("tick", "untick"):
            s.tick(user, "unlock", item, op == "tick")
            model[user] = model[user] | {item} if op == "tick" else model[user] - {item}
            assert s.ticks(user, "unlock") == model[user]
        else:
            s.reset_checklist(user, "unlock")
            model[user] = set()
    for user in (1, 2):
        assert s.ticks(user, "unlock") == model[user]


def test_touch_user_returns_the_stored_language_in_one_statement():
    s = Store()
    assert s.touch_user(9, "ru") == "ru"
    assert s.touch_user(9, "en") == "ru"  # first contact decides
    s.set_language(9, "en")
    assert s.touch_user(9, None) == "en"


def test_touch_user_commits_at_once(tmp_path):
    path = tmp_path / "t.db"
    s = Store(path)
    s.touch_user(5, "en")
    other = sqlite3.connect(path, timeout=0.1)
    assert other.execute("SELECT language FROM users WHERE id = 5").fetchone() == ("en",)
    other.execute("BEGIN IMMEDIATE")  # no write lock is left behind
    other.execute("ROLLBACK")


def test_opening_a_checklist_and_its_event_commit_together_at_once(tmp_path):
    path = tmp_path / "open.db"
    s = Store(path)
    s.open_checklist(5, "unlock", T0, event="checklist_open", event_user=5)
    other = sqlite3.connect(path, timeout=0.1)
    assert other.execute("SELECT user_id, topic, created FROM checklists").fetchall() == [(5, "unlock", T0.isoformat())]
    assert other.execute("SELECT kind, topic, user_id, ts FROM events").fetchall() == [
        ("checklist_open", "unlock", 5, T0.isoformat())
    ]
    other.execute("BEGIN IMMEDIATE")  # no write lock is left behind
    other.execute("ROLLBACK")
    with pytest.raises(ValueError):  # a forged id beyond SQLite's integers: neither row is written
        s.open_checklist(2**70, "unlock", event="checklist_open", event_user=5)
    assert other.execute("SELECT COUNT(*) FROM events").fetchone() == (1,)


def test_a_visit_is_written_at_most_once_a_minute_and_a_language_change_counts_at_once(tmp_path):
    s = Store(tmp_path / "visits.db")
    writes = []
    real = s._write
    s._write = lambda sql, *a, **k: (writes.append(sql.split()[0]), real(sql, *a, **k))[1]
    assert s.touch_user(3, "ru") == "ru"
    assert s.touch_user(3, "ru") == "ru" and s.touch_user(3, "zh") == "ru"  # seen again at once: nothing written
    assert writes == ["INSERT"]
    s.set_language(3, "en")
    assert s.touch_user(3, "ru") == "en"  # the new language, not the remembered one
    s.forget_user(3)
    assert s.get_language(3) is None
    assert s.touch_user(3, "zh") == "zh" and s.get_language(3) == "zh"  # a forgotten user's next visit is recorded anew
    s.close()


def test_wechat_messages_are_remembered_for_a_while_and_at_most_so_many():
    """A retried WeChat message is recognised (and gets the reply given); old keys and those beyond the bound go."""
    s = Store()
    assert s.wechat_claim("m1", -5, T0, 3600, 3) == (True, None)
    assert s.wechat_claim("m1", -5, T0, 3600, 3) == (False, None)  # still being answered
    s.wechat_answered("m1", "the reply")
    assert s.wechat_claim("m1", -5, T0 + dt.timedelta(seconds=10), 3600, 3) == (False, "the reply")
    for n in range(2, 6):
        s.wechat_claim(f"m{n}", -5, T0 + dt.timedelta(seconds=n), 3600, 3)
    assert s.conn.execute("SELECT COUNT(*) FROM wechat_messages").fetchone()[0] == 3  # bounded
    assert s.wechat_claim("m5", -5, T0 + dt.timedelta(seconds=20), 3600, 3)[0] is False
    s.wechat_claim("m9", -5, T0 + dt.timedelta(hours=2), 3600, 3)  # an hour later the old keys are gone
    assert [k for (k,) in s.conn.execute("SELECT key FROM wechat_messages")] == ["m9"]


def test_the_write_ahead_log_stays_bounded_and_is_copied_into_the_file(tmp_path):
    from dialogs.store import WAL_CHECKPOINT_PAGES

    path = tmp_path / "wal.db"
    s = Store(path)
    for n in range(3000):  # ~3 pages each: the WAL passes WAL_CHECKPOINT_PAGES twice
        s.log_event("view", "unlock", user_id=n)
    frame = 4096 + 24
    assert os.path.getsize(f"{path}-wal") <= (WAL_CHECKPOINT_PAGES + 10) * frame + 32
    other = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # a reader (e.g. `eport-guide stats`) sees every event
    assert other.execute("SELECT COUNT(*) FROM events").fetchone() == (3000,)
    other.close()
    s.close()


def test_held_events_are_written_together_within_the_hold_and_whenever_they_are_read_deleted_or_closed(tmp_path):
    """A busy web server holds its page views back for one commit a second (hold_events): the statistics,
    the deletion of a user's data and a clean shutdown still see every one, and nothing waits longer."""
    path = tmp_path / "held.db"
    now = [100.0]
    s = Store(path)
    s.hold_events(1.0, clock=lambda: now[0])
    other = sqlite3.connect(path, timeout=0.1)
    count = lambda: other.execute("SELECT COUNT(*) FROM events").fetchone()[0]  # noqa: E731
    s.log_event("view", "unlock", -5, now=T0)
    s.log_event("view", "unlock", -6, now=T0)
    assert count() == 0  # held
    assert s.flush_events(older_than=1.0) == 0 and count() == 0  # not a second old yet
    now[0] += 0.5
    s.log_event("view", "reissue_lost", -5, now=T0)
    assert count() == 0
    now[0] += 0.5  # the oldest is a second old: the next view writes all three in one commit
    s.log_event("view", "unlock", -7, now=T0)
    assert count() == 4
    s.log_event("view", "unlock", -5, now=T0)
    now[0] += 1.0
    assert s.flush_events(older_than=1.0) == 1 and count() == 5  # the periodic flush
    s.log_event("view", "unlock", -6, now=T0)
    assert s.stats(now=T0)["views"] == {"unlock": 5, "reissue_lost": 1}  # the statistics read it: written first
    assert s.popular_topics() == ["unlock", "reissue_lost"]
    s.log_event("view", "unlock", -5, now=T0)
    s.log_event("view", "unlock", -8, now=T0)
    assert s.forget_user(-5) == 1 + 3  # the held view of the deleted user is never written
    assert other.execute("SELECT COUNT(*) FROM events WHERE user_id = -5").fetchone()[0] == 0
    s.log_event("view", "unlock", -9, now=T0)
    s.close()  # a clean shutdown writes what is held
    assert sorted(u for (u,) in other.execute("SELECT user_id FROM events")) == [-9, -8, -7, -6, -6]
    other.close()


def test_held_events_are_written_a_batch_at_a_time(tmp_path):
    """A busy server's views are written a few dozen at a time, never a second's thousands in one commit
    (which would stall every request in flight)."""
    path = tmp_path / "batch.db"
    s = Store(path)
    s.hold_events(1.0, clock=lambda: 100.0, batch=3)  # time stands still: only the batch's size writes
    other = sqlite3.connect(path, timeout=0.1)
    count = lambda: other.execute("SELECT COUNT(*) FROM events").fetchone()[0]  # noqa: E731
    for n in range(7):
        s.log_event("view", "unlock", -5, now=T0)
        assert count() == (n + 1) // 3 * 3
    s.close()
    assert count() == 7
    other.close()


def test_held_events_stay_held_while_the_database_is_busy(tmp_path):
    path = tmp_path / "busy.db"
    s = Store(path, busy_timeout_ms=10)
    s.hold_events(1.0)
    s.log_event("view", "unlock", -5, now=T0)
    other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with pytest.raises(StoreError):
        s.flush_events()
    assert s.stats(now=T0)["views"] == {}  # the statistics can still be read (without the held view, this once)
    other.execute("ROLLBACK")
    assert s.flush_events() == 1  # kept for the next flush, then written
    assert other.execute("SELECT user_id FROM events").fetchall() == [(-5,)]
    s.close()


def test_a_checklist_opened_while_events_are_held_is_committed_at_once_and_its_event_with_the_others(tmp_path):
    """The bot holds its statistics' events (Store.hold_events): opening a checklist still commits the
    checklist before the answer, while its "checklist_open" event waits with the views and is counted."""
    path = tmp_path / "open.db"
    s = Store(path)
    s.hold_events(1.0, clock=lambda: 100.0)
    other = sqlite3.connect(path, timeout=0.1)
    s.open_checklist(-5, "unlock", now=T0, event="checklist_open", event_user=-5)
    assert other.execute("SELECT user_id, topic FROM checklists").fetchall() == [(-5, "unlock")]  # the user's data: now
    assert other.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)  # the statistics' event: held
    assert s.stats(now=T0)["active_per_day"][-1] == (T0.date().isoformat(), 1)  # the statistics count it: written first
    assert other.execute("SELECT kind, topic, user_id FROM events").fetchall() == [("checklist_open", "unlock", -5)]
    other.close()
    s.close()


def test_a_mark_reads_back_the_checklist_as_it_now_is_in_its_own_transaction(tmp_path):
    """A tick or 不适用 from a checklist button is committed, and the ticks, marks and pending notice the
    screen drawn next shows are the ones just written (read in the same transaction)."""
    path = tmp_path / "marks.db"
    with Store(path) as s:
        assert s.mark_and_read("tick", 5, "unlock", "form", True, now=T0) == ({"form"}, set(), None)
        s.conn.execute("UPDATE checklists SET notice = '[\"old\"]' WHERE user_id = 5")
        assert s.mark_and_read("na", 5, "unlock", "foreign", True, now=T0) == ({"form"}, {"foreign"}, '["old"]')
        assert s.mark_and_read("tick", 5, "unlock", "form", False, now=T0) == (set(), {"foreign"}, '["old"]')
        other = sqlite3.connect(path)
        assert other.execute("SELECT COUNT(*) FROM not_applicable WHERE user_id = 5").fetchone() == (1,)  # committed
        other.close()
        assert s.checklist_marks(5, "unlock") == (set(), {"foreign"}, '["old"]')


def test_a_checklist_opened_while_the_held_events_cannot_be_written_is_still_saved_without_an_error(tmp_path):
    """Statistics are best effort: when the held events are due but the database is busy, opening a checklist
    (which is written) does not fail; the events wait for the next flush, none lost."""
    path = tmp_path / "busy-open.db"
    now = [100.0]
    s = Store(path, busy_timeout_ms=10)
    s.hold_events(1.0, clock=lambda: now[0])
    s.log_event("view", "unlock", -5, now=T0)
    now[0] += 2.0  # the held view is due with the next event
    real = s.flush_events

    def busy(older_than: float = 0.0) -> int:
        raise StoreBusy("the database is busy: database is locked")

    s.flush_events = busy
    s.open_checklist(-5, "unlock", now=T0, event="checklist_open", event_user=-5)  # no error
    s.flush_events = real
    assert s.list_checklists(-5)[0].topic == "unlock"
    assert s.flush_events() == 2
    s.close()
