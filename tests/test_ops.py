"""Operator commands: `eport-guide health` and `eport-guide backup`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading

import pytest


from .conftest import run_cli, shipped_knowledge
from dialogs.store import MIGRATIONS, Store


run = run_cli


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "data" / "eport-guide.db"
    with Store(path) as store:
        store.touch_user(1, "zh")
        store.open_checklist(1, "unlock")
    return path


def test_health_of_a_good_installation(monkeypatch, capsys, db):
    code, out, _ = run(monkeypatch, capsys, "health", "--db", str(db))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("ok    database:") and f"writable, schema version {len(MIGRATIONS)}" in lines[0]
    assert lines[1].startswith("ok    knowledge:") and f"{len(shipped_knowledge().businesses)} businesses" in lines[1]


@pytest.mark.parametrize(
    "damage,expected",
    [
        ("missing", "does not exist"),
        ("old_schema", f"schema version 1, this program needs {len(MIGRATIONS)} (start the bot once to migrate it)"),
        ("newer_schema", "from a newer eport-guide"),
        ("garbage", "FAIL  database"),
        ("locked", "cannot be written"),
    ],
)
def test_health_of_a_broken_database(monkeypatch, capsys, db, damage, expected):
    holder = None
    if damage == "missing":
        db.unlink()
    elif damage in ("old_schema", "newer_schema"):
        with sqlite3.connect(db) as conn:
            conn.execute(f"PRAGMA user_version = {1 if damage == 'old_schema' else 9}")
    elif damage == "garbage":
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{db}{suffix}"):
                os.unlink(f"{db}{suffix}")
        db.write_bytes(b"this is not an SQLite file" * 200)
    elif damage == "locked":  # another process holds the write lock
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: _short_timeout(*a, **k))
    try:
        code, out, _ = run(monkeypatch, capsys, "health", "--db", str(db))
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert code == 1 and "FAIL  database" in out and expected in out
    assert "ok    knowledge" in out  # the other checks still ran


_real_connect = sqlite3.connect


def _short_timeout(*args, **kwargs):
    kwargs["timeout"] = 0.2
    return _real_connect(*args, **kwargs)


def test_health_with_broken_knowledge(monkeypatch, capsys, db, knowledge_copy):
    (knowledge_copy / "offices.yaml").write_text("offices: [\n", encoding="utf-8")
    code, out, _ = run(monkeypatch, capsys, "health", "--db", str(db), env={"EPORT_GUIDE_KNOWLEDGE": str(knowledge_copy)})
    assert code == 1 and "ok    database" in out and "FAIL  knowledge" in out and "offices.yaml" in out


def test_health_online_needs_a_token(monkeypatch, capsys, db):
    code, _, err = run(monkeypatch, capsys, "health", "--online", "--db", str(db))
    assert code == 2 and "TELEGRAM_BOT_TOKEN is not set" in err


async def test_health_online_against_the_fake(fake, db, eport_guide):
    env = {"TELEGRAM_API_BASE_URL": fake.base_url, "EPORT_GUIDE_DB": str(db)}
    health = await eport_guide.beside_the_loop("health", "--online", env={**env, "TELEGRAM_BOT_TOKEN": fake.token})
    assert health.returncode == 0 and "ok    telegram: getMe answered: @eport_guide_test_bot" in health.stdout
    revoked = await eport_guide.beside_the_loop("health", "--online", env={**env, "TELEGRAM_BOT_TOKEN": "123456789:" + "b" * 35})
    assert revoked.returncode == 3 and "FAIL  telegram: the token was refused" in revoked.stdout


def test_backup_of_a_live_database_while_ticks_are_written(monkeypatch, capsys, db, tmp_path):
    with Store(db) as store:  # some bulk, so the copy is not instant
        for user in range(2, 400):
            store.touch_user(user, "ru")
            store.open_checklist(user, "reissue_lost")
            for item in range(20):
                store.set_tick(user, "reissue_lost", f"item{item}", True)
    stop = threading.Event()
    written, errors = [0], []

    def writer():
        with Store(db) as live:  # the bot, ticking away
            n = 0
            while not stop.is_set():
                try:
                    live.tick(1, "unlock", f"w{n % 500}", n % 1000 < 500)
                    written[0] += 1
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
                n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    try:
        for n in range(3):
            before = written[0]
            target = tmp_path / f"copy{n}.db"
            code, out, err = run(monkeypatch, capsys, "backup", str(target), "--db", str(db))
            assert code == 0, err
            assert f"backup written to {target}" in out and "integrity check ok" in out
            copies.append((target, before))
    finally:
        stop.set()
        thread.join()
    assert not errors and written[0] > copies[-1][1]  # the bot kept writing during the backups
    for target, _ in copies:
        conn = sqlite3.connect(target)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        assert conn.execute("SELECT COUNT(*) FROM ticks WHERE user_id BETWEEN 2 AND 399").fetchone()[0] == 398 * 20
        conn.close()
        assert not os.path.exists(f"{target}-wal")
    with Store(copies[-1][0]) as restored:  # the restore drill: the copy is a working database
        assert [c.topic for c in restored.list_checklists(1)] == ["unlock"]
    assert not list(tmp_path.glob(".*.part"))


def test_backup_refuses_to_overwrite_and_a_missing_database(monkeypatch, capsys, db, tmp_path):
    target = tmp_path / "exists.db"
    target.write_text("keep me")
    code, _, err = run(monkeypatch, capsys, "backup", str(target), "--db", str(db))
    assert code == 2 and "already exists" in err and target.read_text() == "keep me"
    code, out, _ = run(monkeypatch, capsys, "backup", str(target), "--force", "--db", str(db))
    assert code == 0 and sqlite3.connect(target).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    code, _, err = run(monkeypatch, capsys, "backup", str(tmp_path / "new.db"), "--db", str(tmp_path / "typo.db"))
    assert code == 2 and "does not exist" in err and not (tmp_path / "typo.db").exists()
    code, _, err = run(monkeypatch, capsys, "backup", str(tmp_path / "no" / "dir" / "x.db"), "--db", str(db))
    assert code == 2 and "does not exist" in err


def test_backup_uses_no_sqlite3_binary(db, tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "empty-path")}  # no sqlite3 (or anything else) on PATH
    r = subprocess.run(
        [sys.executable, "-m", "bot.cli", "backup", str(tmp_path / "b.db"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert shutil.which("sqlite3", path=env["PATH"]) is None
