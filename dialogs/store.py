"""Per-user storage in SQLite: users, checklists and ticks, events, feedback, reminders.

Schema creation and upgrades go through sqlite-utils in versioned migrations (recorded
in ``PRAGMA user_version``; sqlite-utils, and numpy behind it, is imported only when a migration
is due); the hot paths (ticks, touch_user, events) are prepared
``INSERT … ON CONFLICT`` statements on the connection. Every write commits before the
method returns, so whatever the user was told is on disk (WAL, synchronous=NORMAL); the WAL is
copied into the file (a checkpoint: two fsyncs, which the writer waits for) every WAL_CHECKPOINT_PAGES pages.
No message text is stored except unanswered questions and 👎 reasons: scrubbed of ID and
phone numbers, capped in length, deleted with the user and expired after the retention period;
and the Telegram inbox's updates, only until each is handled (then only its update id is kept).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

if TYPE_CHECKING:
    import sqlite_utils

UTC = dt.timezone.utc
log = logging.getLogger("eport_guide.store")
MAX_REASON = 200
MAX_QUESTION = 100
MAX_PENDING_REMINDERS = 10  # per user
TOUCH_INTERVAL = 60.0  # seconds: a user's visits are written at most this often
TOUCHED_MAX = 100_000  # users remembered for that (about 100 bytes each)
# events held back (``Store.hold_events``) are written this many at a time (one commit of about 0.2 ms; a
# second's worth of a busy server's views at once, thousands, would stall every request in flight for tens of ms)
EVENTS_BATCH = 64
EVENTS_HELD_MAX = 10_000  # kept at most while the database is busy (the oldest dropped beyond)
BUSY_TIMEOUT_MS = 250  # a locked database blocks the event loop at most this long per statement
# WAL pages between two checkpoints (SQLite's default is 1000): the fsyncs of a checkpoint stall the writing
# thread — the bot's event loop — for milliseconds, ~15 pages are written per user's visit; the WAL file
# stays below about this many pages × 4 KB (16 MB).
WAL_CHECKPOINT_PAGES = 4000
# ID card, passport, phone and account numbers: a run of 5+ digits (any script), separators allowed
NUMBER_RE = re.compile(r"\+?\d(?:[\d\s\-–—.()/]*\d)?[XxХх]?")
EMAIL_RE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
SCRUBBED = "***"


def scrub(text: str, limit: int) -> str:
    """Free text as it may be kept: numbers of 5+ digits and e-mail addresses hidden, one line, capped."""
    text = EMAIL_RE.sub(SCRUBBED, " ".join(text.split()))
    text = NUMBER_RE.sub(lambda m: SCRUBBED if sum(c.isdigit() for c in m.group()) >= 5 else m.group(), text)
    return text[:limit]


class StoreError(Exception):
    """The database cannot be used (read-only, locked, newer schema, corrupt)."""


class StoreBusy(StoreError):
    """A write could not get the lock in time; the user may try again."""


class ReminderLimit(StoreError):
    """The user already has the most pending reminders allowed."""


@dataclass(frozen=True)
class ChecklistRow:
    """One of a user's checklists: its business, times, ticks and a pending notice."""

    topic: str
    created: str
    updated: str
    ticked: int
    notice: str | None


@dataclass(frozen=True)
class ReminderRow:
    """One reminder as stored."""

    id: int
    user_id: int
    chat_id: int
    kind: str
    topic: str | None
    due_at: str
    payload: dict[str, Any]
    sent_at: str | None
    cancelled: bool


_second: tuple[int, str] = (0, "")  # the current second and its text: every write of that second shares it


def _now(now: dt.datetime | None) -> str:
    global _second
    if now is not None:
        return now.astimezone(UTC).isoformat(timespec="seconds")
    second = int(time.time())
    if second != _second[0]:
        _second = (second, dt.datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds"))
    return _second[1]


# a tick or a 不适用 mark: set (INSERT) or cleared (DELETE)
_MARK_SQL = {
    ("tick", True): "INSERT INTO ticks (user_id, topic, item_id, ticked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    ("tick", False): "DELETE FROM ticks WHERE user_id = ? AND topic = ? AND item_id = ?",
    ("na", True): "INSERT INTO not_applicable (user_id, topic, item_id, marked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    ("na", False): "DELETE FROM not_applicable WHERE user_id = ? AND topic = ? AND item_id = ?",
}
# the checklist opened if needed; its ``updated`` (seconds) is written only when it changes: a second mark within
# the same second leaves its page alone (one page fewer in that commit)
_OPEN_SQL = (
    "INSERT INTO checklists (user_id, topic, created, updated) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(user_id, topic) DO UPDATE SET updated = excluded.updated WHERE checklists.updated IS NOT excluded.updated"
)


# a checklist's ticks, 不适用 marks and pending notice in one read (``_marks`` sorts them)
_MARKS_SQL = (
    "SELECT 't', item_id FROM ticks WHERE user_id = ?1 AND topic = ?2 "
    "UNION ALL SELECT 'n', item_id FROM not_applicable WHERE user_id = ?1 AND topic = ?2 "
    "UNION ALL SELECT 'c', notice FROM checklists WHERE user_id = ?1 AND topic = ?2"
)


def _marks(rows: Iterable[tuple[str, Any]]) -> tuple[set[str], set[str], str | None]:
    """The ticks, the 不适用 marks and the notice of ``_MARKS_SQL``'s rows."""
    marks: dict[str, set[str]] = {"t": set(), "n": set()}
    notice = None
    for kind, value in rows:
        if kind == "c":
            notice = value
        else:
            marks[kind].add(value)
    return marks["t"], marks["n"], notice


def _mark_statements(kind: str, user_id: int, topic: str, item_id: str, on: bool, ts: str) -> list[tuple[str, tuple]]:
    """The statements of one tick or 不适用 mark (kind "tick" or "na"): the checklist opened, the mark set or cleared."""
    key = (user_id, topic, item_id)
    return [(_OPEN_SQL, (user_id, topic, ts, ts)), (_MARK_SQL[kind, on], (*key, ts) if on else key)]


# -- migrations -------------------------------------------------------------------------
def _v1(db: sqlite_utils.Database) -> None:
    db["users"].create({"id": int, "language": str, "first_seen": str, "last_seen": str}, pk="id")
    db["checklists"].create({"user_id": int, "topic": str, "created": str, "updated": str}, pk=("user_id", "topic"))
    db["ticks"].create({"user_id": int, "topic": str, "item_id": str, "ticked_at": str}, pk=("user_id", "topic", "item_id"))
    db["events"].create({"id": int, "ts": str, "kind": str, "topic": str, "user_id": int}, pk="id")
    db["events"].create_index(["kind", "ts"])
    db["events"].create_index(["user_id"])


def _v2(db: sqlite_utils.Database) -> None:
    db["checklists"].add_column("notice", str)
    db["users"].add_column("settings", str)
    db["feedback"].create({"id": int, "ts": str, "user_id": int, "topic": str, "vote": int, "reason": str}, pk="id")
    db["feedback"].create_index(["user_id"])
    db["unanswered"].create({"question": str, "count": int, "first_ts": str, "last_ts": str}, pk="question")
    db["reminders"].create(
        {
            "id": int,
            "user_id": int,
            "chat_id": int,
            "kind": str,
            "topic": str,
            "due_at": str,
            "payload": str,
            "created": str,
            "sent_at": str,
            "cancelled": int,
        },
        pk="id",
        defaults={"cancelled": 0},
    )
    db["reminders"].create_index(["user_id"])
    db["reminders"].create_index(["sent_at", "cancelled"])


def _v3(db: sqlite_utils.Database) -> None:
    """Unanswered questions per user (deleted with the user, expired), scrubbed; one vote per user and
    topic; reminder delivery attempts and permanent failures."""
    db["questions"].create({"id": int, "ts": str, "user_id": int, "question": str}, pk="id")
    db["questions"].create_index(["user_id"])
    db["questions"].create_index(["ts"])
    for question, count, last_ts in db.execute("SELECT question, count, last_ts FROM unanswered").fetchall():
        for _ in range(min(int(count or 1), 100)):
            db.execute(
                "INSERT INTO questions (ts, user_id, question) VALUES (?, NULL, ?)", (last_ts, scrub(question, MAX_QUESTION))
            )
    db["unanswered"].drop()
    db.execute("DELETE FROM feedback WHERE id NOT IN (SELECT MAX(id) FROM feedback GROUP BY user_id, topic)")
    db["feedback"].create_index(["user_id", "topic"], unique=True, index_name="feedback_one_vote")
    db["reminders"].add_column("attempts", int, not_null_default=0)
    db["reminders"].add_column("failed_at", str)
    db["reminders"].add_column("error", str)


def _v4(db: sqlite_utils.Database) -> None:
    # Web sessions (web/sessions.py): the SHA-256 of a random cookie token → a negative user
    # id, an id space Telegram user ids (always positive) never enter; the cookie-signing key.
    db["web_sessions"].create({"token_hash": str, "user_id": int, "created": str}, pk="token_hash")
    db["web_sessions"].create_index(["user_id"], unique=True)
    db["web_keys"].create({"name": str, "value": str}, pk="name")


def _v5(db: sqlite_utils.Database) -> None:
    # checklist items the user marked 不适用 (e.g. 外文材料（如有） without foreign documents): per
    # user like ticks; they stop counting against the progress
    db["not_applicable"].create(
        {"user_id": int, "topic": str, "item_id": str, "marked_at": str}, pk=("user_id", "topic", "item_id")
    )


def _v6(db: sqlite_utils.Database) -> None:
    # The Telegram inbox (bot/inbox.py): each update as received, kept until it is handled (then only
    # its id, to recognise a replay, until pruned). ``attempts``: starts that found it unhandled.
    db["inbox"].create(
        {"update_id": int, "received": str, "body": str, "done": str, "attempts": int},
        pk="update_id",
        not_null={"received"},
        defaults={"attempts": 0},
    )
    db["inbox"].create_index(["done"])


def _v7(db: sqlite_utils.Database) -> None:
    # The WeChat Official Account (web/wechat.py): a keyed hash of each follower's openid → an internal
    # (negative, web-style) user id; the messages answered recently (a keyed hash of MsgId, or of the
    # sender, time and event) with the reply given, so WeChat's retries are answered once; the API's
    # access token, cached until it expires.
    db["wechat_users"].create({"openid_hash": str, "user_id": int, "created": str}, pk="openid_hash")
    db["wechat_users"].create_index(["user_id"], unique=True)
    db["wechat_messages"].create({"key": str, "user_id": int, "ts": str, "reply": str}, pk="key")
    db["wechat_messages"].create_index(["ts"])
    db["wechat_messages"].create_index(["user_id"])
    db["wechat_tokens"].create({"app_id": str, "token": str, "expires_at": float}, pk="app_id")


# the tables every checklist tick writes, rebuilt WITHOUT ROWID: the row is stored in its primary key's b-tree,
# so a tick or 不适用 mark changes one b-tree (one page in the WAL) instead of the table and its key index
_MARK_TABLES = {
    "ticks": "CREATE TABLE ticks (user_id INTEGER, topic TEXT, item_id TEXT, ticked_at TEXT, "
    "PRIMARY KEY (user_id, topic, item_id)) WITHOUT ROWID",
    "not_applicable": "CREATE TABLE not_applicable (user_id INTEGER, topic TEXT, item_id TEXT, marked_at TEXT, "
    "PRIMARY KEY (user_id, topic, item_id)) WITHOUT ROWID",
}


def _v8(db: sqlite_utils.Database) -> None:
    # ticks and 不适用 marks WITHOUT ROWID (see _MARK_TABLES): each table rebuilt with the same columns and
    # rows, in the migration's transaction (an interrupted upgrade leaves the old tables and version)
    for table, create in _MARK_TABLES.items():
        columns = [c.name for c in db[table].columns]
        db.execute(f"ALTER TABLE {table} RENAME TO _{table}_v7")
        db.execute(create)
        names = ", ".join(columns)
        db.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _{table}_v7")
        db.execute(f"DROP TABLE _{table}_v7")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8]
USER_TABLES = {
    "users": "id",
    "checklists": "user_id",
    "ticks": "user_id",
    "events": "user_id",
    "feedback": "user_id",
    "reminders": "user_id",
    "questions": "user_id",
    "web_sessions": "user_id",
    "not_applicable": "user_id",
    "wechat_users": "user_id",
    "wechat_messages": "user_id",
}


def migrate(db: sqlite_utils.Database, target: int | None = None) -> int:
    """Apply the migrations the file has not seen; returns the resulting version."""
    target = len(MIGRATIONS) if target is None else target
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"database schema version {version} is newer than this program supports ({len(MIGRATIONS)}); upgrade eport-guide"
        )
    for number in range(version + 1, target + 1):
        with db.conn:
            MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA user_version = {number}")
    return max(version, target)


def upgrade(conn: sqlite3.Connection) -> int:
    """``migrate`` the database of ``conn`` if a migration is due (importing sqlite-utils only then: most
    starts find the file up to date); the schema version."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
        return len(MIGRATIONS)
    import sqlite_utils

    return migrate(sqlite_utils.Database(conn))


def _probe_write(conn: sqlite3.Connection) -> None:
    """Fail at start-up, not at the first user: take the write lock and write (rolled back). A file
    locked by another process cannot be told apart now; its writes will say so, briefly."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return
        raise
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS _probe (x)")
        conn.execute("DROP TABLE _probe")
    finally:
        conn.execute("ROLLBACK")


class Store:
    """The database of users' data (sqlite): settings, checklists, feedback, reminders, sessions, the inbox."""

    def __init__(self, path: str | os.PathLike = ":memory:", busy_timeout_ms: int = BUSY_TIMEOUT_MS, writable: bool = True):
        """``writable`` (the bot, and every command that writes): refuse at once a file that cannot be
        written, instead of failing at the first user; False for reports on a read-only copy."""
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
                if Path(self.path).expanduser().exists() and not Path(self.path).expanduser().is_file():
                    raise StoreError(f"cannot open the database {self.path}: not a regular file")
            conn = sqlite3.connect(self.path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False)
            conn.isolation_level = None  # autocommit; explicit transactions where needed
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, whatever the build's default
            self.schema_version = upgrade(conn)
            if writable:
                _probe_write(conn)
        except StoreError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        self.conn = conn
        self._touched: dict[int, tuple[float, str | None]] = {}  # user → (when written, stored language)
        self._held: list[tuple] = []  # views not yet written (hold_events): (ts, kind, topic, user_id)
        self._held_since = 0.0  # when the oldest of them was logged (time.monotonic)
        self._hold_s = 0.0  # how long a view may wait for its commit; 0: written at once
        self._batch = EVENTS_BATCH  # written together once this many are held
        self._clock: Callable[[], float] = time.monotonic

    def changes(self) -> int:
        """A count that grows with every row this store inserts, updates or deletes (SQLite's
        ``total_changes`` of the connection): a read is still current while it stays the same."""
        return self.conn.total_changes

    def close(self) -> None:
        """Close the connection, the events held back (``hold_events``) written first."""
        try:
            self.flush_events()
        except StoreError as exc:  # e.g. another process holds the write lock past the busy timeout
            log.warning("%d statistics event(s) not written at close: %s", len(self._held), exc)
        finally:
            self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------------
    def _write(self, sql: str, params: Iterable[Any] = (), *, rows: bool = False) -> Any:
        """Run one write; ``rows=True`` fetches what it returns (RETURNING) inside the error handling."""
        try:
            cursor = self.conn.execute(sql, tuple(params))
            return cursor.fetchall() if rows else cursor
        except OverflowError as exc:  # a forged id beyond SQLite's 64-bit integers
            raise ValueError(f"number out of range: {exc}") from exc
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusy(f"the database is busy: {exc}") from exc
            raise StoreError(f"cannot write to the database: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot write to the database: {exc}") from exc

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, tuple(params)).fetchall()
        except OverflowError as exc:
            raise ValueError(f"number out of range: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read the database: {exc}") from exc

    # -- users ------------------------------------------------------------------------
    def touch_user(self, user_id: int, language: str | None = None, now: dt.datetime | None = None) -> str | None:
        """Record that the user was seen (the language is set only if not yet known); returns
        the user's stored language, in the same statement. A user seen again within TOUCH_INTERVAL
        seconds is not written again (last_seen counts in days): the stored language is remembered."""
        if now is None:
            seen = self._touched.get(user_id)
            if seen is not None and time.monotonic() - seen[0] < TOUCH_INTERVAL:
                return seen[1]
        ts = _now(now)
        rows = self._write(
            "INSERT INTO users (id, language, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET last_seen = excluded.last_seen, language = COALESCE(users.language, excluded.language) "
            "RETURNING language",
            (user_id, language, ts, ts),
            rows=True,  # exhaust the statement (inside the error handling) so the write commits now
        )
        stored = rows[0][0] if rows else None
        if now is None:
            if len(self._touched) >= TOUCHED_MAX:
                self._touched.clear()
            self._touched[user_id] = (time.monotonic(), stored)
        else:  # a visit at a given time (tests, imports): the next one is written whatever it is
            self._touched.pop(user_id, None)
        return stored

    def get_language(self, user_id: int) -> str | None:
        """The language the user chose, None if none."""
        rows = self._read("SELECT language FROM users WHERE id = ?", (user_id,))
        return rows[0][0] if rows else None

    def _ensure_user(self, user_id: int, now: dt.datetime | None) -> None:
        """The user's row, written even if a visit is remembered: another process (`eport-guide
        forget`) may have deleted it since. The next visit reads the row again."""
        self._touched.pop(user_id, None)
        self.touch_user(user_id, now=now)
        self._touched.pop(user_id, None)

    def set_language(self, user_id: int, lang: str, now: dt.datetime | None = None) -> None:
        """Remember the user's language."""
        self._ensure_user(user_id, now)
        self._write("UPDATE users SET language = ? WHERE id = ?", (lang, user_id))

    def get_setting(self, user_id: int, key: str, default: Any = None) -> Any:
        """One of the user's settings, ``default`` when not set."""
        rows = self._read("SELECT settings FROM users WHERE id = ?", (user_id,))
        settings = json.loads(rows[0][0]) if rows and rows[0][0] else {}
        return settings.get(key, default)

    def set_setting(self, user_id: int, key: str, value: Any, now: dt.datetime | None = None) -> None:
        """Set one of the user's settings."""
        self._ensure_user(user_id, now)
        self._write(
            "UPDATE users SET settings = json_set(COALESCE(settings, '{}'), ?, json(?)) WHERE id = ?",
            (f"$.{key}", json.dumps(value), user_id),
        )

    def pending_question(self, user_id: int) -> str | None:
        """The question the user's next free text answers (``Screen.awaiting``), if one is open."""
        return self.get_setting(user_id, "awaiting")

    def set_pending_question(self, user_id: int, awaiting: str | None, now: dt.datetime | None = None) -> None:
        """Open the question the user's next free text answers, or close it (None). Closing writes
        nothing for a user without a row (e.g. just forgotten)."""
        if awaiting:
            self.set_setting(user_id, "awaiting", awaiting, now)
        else:
            self._write(
                "UPDATE users SET settings = json_remove(settings, '$.awaiting') "
                "WHERE id = ? AND json_extract(settings, '$.awaiting') IS NOT NULL",
                (user_id,),
            )

    # -- checklists ---------------------------------------------------------------------
    def open_checklist(
        self, user_id: int, topic: str, now: dt.datetime | None = None, *, event: str | None = None, event_user: int | None = None
    ) -> None:
        """Create the user's checklist for a topic, or reopen it (ticks kept). With ``event``, the
        statistics' event of it (as ``log_event(event, topic, event_user)`` records it) is written in
        the same transaction: one commit; while events are held (``hold_events``) it waits with them and
        the checklist alone is committed now."""
        ts = _now(now)
        opened = (
            "INSERT INTO checklists (user_id, topic, created, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id, topic) DO UPDATE SET updated = excluded.updated",
            (user_id, topic, ts, ts),
        )
        if event is None or self._hold_s > 0:
            self._write(*opened)
            if event is not None:
                self.log_event(event, topic, event_user, now)
            return
        logged = ("INSERT INTO events (ts, kind, topic, user_id) VALUES (?, ?, ?, ?)", (ts, event, topic, event_user))
        self._transaction([opened, logged])

    def list_checklists(self, user_id: int) -> list[ChecklistRow]:
        """The user's checklists, most recently changed first."""
        rows = self._read(
            "SELECT c.topic, c.created, c.updated, (SELECT COUNT(*) FROM ticks t WHERE t.user_id = c.user_id AND t.topic = c.topic), c.notice "
            "FROM checklists c WHERE c.user_id = ? ORDER BY c.updated DESC, c.topic",
            (user_id,),
        )
        return [ChecklistRow(*r) for r in rows]

    def ticks(self, user_id: int, topic: str) -> set[str]:
        """The ticked item ids of a user's checklist."""
        return {r[0] for r in self._read("SELECT item_id FROM ticks WHERE user_id = ? AND topic = ?", (user_id, topic))}

    def checklist_marks(self, user_id: int, topic: str) -> tuple[set[str], set[str], str | None]:
        """The user's ticks, 不适用 marks and pending "list was updated" notice (see ``take_notice``) on one
        checklist, in one read."""
        return _marks(self._read(_MARKS_SQL, (user_id, topic)))

    def set_tick(self, user_id: int, topic: str, item_id: str, ticked: bool, now: dt.datetime | None = None) -> None:
        """Tick or untick one item."""
        if ticked:
            self._write(
                "INSERT INTO ticks (user_id, topic, item_id, ticked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, topic, item_id, _now(now)),
            )
        else:
            self._write("DELETE FROM ticks WHERE user_id = ? AND topic = ? AND item_id = ?", (user_id, topic, item_id))
        self._write("UPDATE checklists SET updated = ? WHERE user_id = ? AND topic = ?", (_now(now), user_id, topic))

    def tick(self, user_id: int, topic: str, item_id: str, ticked: bool, now: dt.datetime | None = None) -> None:
        """Open the checklist if needed and set one item, in one transaction (one commit)."""
        self._transaction(_mark_statements("tick", user_id, topic, item_id, ticked, _now(now)))

    def mark_and_read(
        self, kind: str, user_id: int, topic: str, item_id: str, on: bool, now: dt.datetime | None = None
    ) -> tuple[set[str], set[str], str | None]:
        """``tick`` (kind "tick") or ``mark_not_applicable`` (kind "na"), then what ``checklist_marks`` reads
        (the ticks, the 不适用 marks and the pending notice) as they now are, in the same transaction: one
        commit and no second read (a screen drawn, or a page's progress counted, right after the change)."""
        with self._atomic() as conn:
            for sql, params in _mark_statements(kind, user_id, topic, item_id, on, _now(now)):
                conn.execute(sql, params)
            return _marks(conn.execute(_MARKS_SQL, (user_id, topic)))

    def reset_checklist(self, user_id: int, topic: str) -> None:
        """Remove every tick of a user's checklist."""
        self._write("DELETE FROM ticks WHERE user_id = ? AND topic = ?", (user_id, topic))

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[sqlite3.Connection]:
        """One write transaction around the block (BEGIN IMMEDIATE … COMMIT, rolled back on error), with
        the store's error mapping: a forged id beyond SQLite's integers → ValueError, locked or busy →
        StoreBusy, anything else → StoreError."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            yield self.conn
            self.conn.execute("COMMIT")
        except OverflowError as exc:  # a forged id beyond SQLite's 64-bit integers
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise ValueError(f"number out of range: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusy(f"the database is busy: {exc}") from exc
            raise StoreError(f"cannot write to the database: {exc}") from exc

    def _transaction(self, statements: list[tuple[str, tuple]]) -> int:
        """Run statements atomically; returns the rows they changed."""
        with self._atomic() as conn:
            return sum(conn.execute(sql, params).rowcount for sql, params in statements)

    def sync_items(self, user_id: int, topic: str, valid_item_ids: Iterable[str]) -> list[str]:
        """Drop ticks of items the knowledge no longer has; note it on the checklist."""
        valid = set(valid_item_ids)
        dropped = sorted(self.ticks(user_id, topic) - valid)
        if dropped:
            for item in dropped:
                self._write("DELETE FROM ticks WHERE user_id = ? AND topic = ? AND item_id = ?", (user_id, topic, item))
            self._write("UPDATE checklists SET notice = ? WHERE user_id = ? AND topic = ?", (json.dumps(dropped), user_id, topic))
        return dropped

    def take_notice(self, user_id: int, topic: str | None) -> str | None:
        """The pending 'list was updated' notice (ids of dropped items), cleared once read."""
        rows = self._read("SELECT notice FROM checklists WHERE user_id = ? AND topic = ?", (user_id, topic))
        if not rows or not rows[0][0]:
            return None
        self._write("UPDATE checklists SET notice = NULL WHERE user_id = ? AND topic = ?", (user_id, topic))
        return rows[0][0]

    def copy_ticks(self, user_id: int, from_topic: str, to_topic: str, item_ids: Iterable[str]) -> int:
        """Carry ticks over to another topic for the items both share; returns how many."""
        wanted = self.ticks(user_id, from_topic) & set(item_ids)
        self.open_checklist(user_id, to_topic)
        for item in wanted:
            self.set_tick(user_id, to_topic, item, True)
        return len(wanted)

    # -- checklist items that do not apply ------------------------------------------------------
    def not_applicable(self, user_id: int, topic: str) -> set[str]:
        """The items of the user's checklist marked 不适用."""
        return {r[0] for r in self._read("SELECT item_id FROM not_applicable WHERE user_id = ? AND topic = ?", (user_id, topic))}

    def mark_not_applicable(self, user_id: int, topic: str, item_id: str, marked: bool, now: dt.datetime | None = None) -> None:
        """Open the checklist if needed and mark one item 不适用 (or undo it), in one transaction."""
        self._transaction(_mark_statements("na", user_id, topic, item_id, marked, _now(now)))

    def clear_not_applicable(self, user_id: int, topic: str) -> None:
        """Remove every 不适用 mark of a user's checklist."""
        self._write("DELETE FROM not_applicable WHERE user_id = ? AND topic = ?", (user_id, topic))

    # -- statistics ------------------------------------------------------------------------
    def log_event(self, kind: str, topic: str | None = None, user_id: int | None = None, now: dt.datetime | None = None) -> None:
        """Record an event (a view, a checklist opened) for the statistics: written at once, or, after
        ``hold_events``, together with others (``batch`` at a time, or when the oldest is ``seconds`` old)."""
        row = (_now(now), kind, topic, user_id)
        if self._hold_s <= 0:
            self._write("INSERT INTO events (ts, kind, topic, user_id) VALUES (?, ?, ?, ?)", row)
            return
        if not self._held:
            self._held_since = self._clock()
        self._held.append(row)
        if len(self._held) >= self._batch or self._clock() - self._held_since >= self._hold_s:
            self.write_held_events()  # (busy: held for the next flush; the caller's own work, e.g. a checklist opened, stands)

    def hold_events(self, seconds: float, clock: Callable[[], float] = time.monotonic, batch: int = EVENTS_BATCH) -> None:
        """From now on the statistics' events wait up to ``seconds`` to be written ``batch`` at a time (one
        commit for many page views instead of one each: a busy web server's every answer page is a view).
        Whoever holds them calls ``write_held_events`` periodically; the store writes them
        itself before it reads or deletes events (statistics, a user's data deleted, retention) and when it
        is closed, so none is lost on a clean shutdown and the statistics never miss one."""
        self._hold_s, self._clock, self._batch = max(0.0, seconds), clock, max(1, batch)
        if self._hold_s <= 0:
            self.flush_events()

    def flush_events(self, older_than: float = 0.0) -> int:
        """Write the events held back (``hold_events``) in one commit, if the oldest waited at least
        ``older_than`` seconds; returns how many were written. Statistics are best effort: if the database
        is busy they stay held for the next flush (at most EVENTS_HELD_MAX: beyond, the oldest are dropped)."""
        if not self._held or self._clock() - self._held_since < older_than:
            return 0
        rows, self._held = self._held, []
        try:
            with self._atomic() as conn:
                conn.executemany("INSERT INTO events (ts, kind, topic, user_id) VALUES (?, ?, ?, ?)", rows)
        except StoreError:
            self._held = (rows + self._held)[-EVENTS_HELD_MAX:]
            raise
        return len(rows)

    def write_held_events(self) -> int:
        """``flush_events`` at best effort, as statistics are: a busy database keeps the events held for the next
        time (logged), and whoever asked goes on — a periodic flush, the statistics read without them this once,
        a page or a checklist that logged a view. Returns how many were written."""
        try:
            return self.flush_events()
        except StoreError as exc:
            log.info("%d statistics event(s) not written yet: %s", len(self._held), exc)
            return 0

    def record_unanswered(self, question: str, user_id: int | None = None, now: dt.datetime | None = None) -> None:
        """Keep a question the bot could not answer (scrubbed, capped) for /stats, with who asked it so
        that it goes with the user's data."""
        q = scrub(question, MAX_QUESTION)
        if not q:
            return
        self._write("INSERT INTO questions (ts, user_id, question) VALUES (?, ?, ?)", (_now(now), user_id, q))

    def add_feedback(self, user_id: int, topic: str, vote: int, reason: str | None = None, now: dt.datetime | None = None) -> int:
        """One vote per user and topic: voting again replaces the earlier vote (and its reason)."""
        if vote not in (1, -1):
            raise ValueError("vote must be +1 or -1")
        rows = self._write(
            "INSERT INTO feedback (ts, user_id, topic, vote, reason) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(user_id, topic) DO UPDATE SET ts = excluded.ts, vote = excluded.vote, reason = excluded.reason RETURNING id",
            (_now(now), user_id, topic, vote, scrub(reason, MAX_REASON) if reason else None),
            rows=True,
        )
        return int(rows[0][0])

    def set_feedback_reason(self, feedback_id: int, user_id: int, reason: str) -> bool:
        """The reason a user gave for their 👎 (only on their own feedback)."""
        cur = self._write(
            "UPDATE feedback SET reason = ? WHERE id = ? AND user_id = ?", (scrub(reason, MAX_REASON), feedback_id, user_id)
        )
        return cur.rowcount == 1

    def missed(self, limit: int = 1000) -> list[tuple[str, str, str | None]]:
        """What the guide missed, newest first, for staff to teach (``limit`` rows): the unanswered
        questions and the 👎 reasons (both scrubbed when stored), as (ref, text, topic of the 👎 or
        None); ``ref`` ("q<id>" or "f<id>") names the row for ``missed_text``."""
        return [
            (f"{kind}{number}", text, topic)
            for kind, number, _ts, text, topic in self._read(
                "SELECT 'q', id, ts, question, NULL FROM questions "
                "UNION ALL SELECT 'f', id, ts, reason, topic FROM feedback WHERE vote < 0 AND reason IS NOT NULL AND reason != '' "
                "ORDER BY 3 DESC, 2 DESC LIMIT ?",
                (limit,),
            )
        ]

    def missed_text(self, ref: str) -> str | None:
        """The text of one row ``missed`` listed (None: no such row any more, e.g. expired or forgotten)."""
        kind, number = ref[:1], ref[1:]
        if kind not in ("q", "f") or not number.isascii() or not number.isdigit() or len(number) > 18:
            return None
        sql = (
            "SELECT question FROM questions WHERE id = ?"
            if kind == "q"
            else "SELECT reason FROM feedback WHERE id = ? AND vote < 0 AND reason IS NOT NULL"
        )
        rows = self._read(sql, (int(number),))
        return rows[0][0] if rows else None

    def popular_topics(self) -> list[str]:
        """Topics by number of views, most viewed first."""
        self.write_held_events()
        return [
            r[0]
            for r in self._read(
                "SELECT topic FROM events WHERE kind = 'view' AND topic IS NOT NULL GROUP BY topic ORDER BY COUNT(*) DESC, topic"
            )
        ]

    def stats(
        self, now: dt.datetime | None = None, days: int = 7, items_per_topic: dict[str, int] | None = None
    ) -> dict[str, Any]:
        """The usage statistics /stats shows."""
        self.write_held_events()
        today = (now or dt.datetime.now(UTC)).astimezone(UTC).date()
        since = today - dt.timedelta(days=days - 1)
        active = dict(
            self._read(
                "SELECT substr(ts, 1, 10) AS day, COUNT(DISTINCT user_id) FROM events WHERE user_id IS NOT NULL AND ts >= ? GROUP BY day",
                (since.isoformat(),),
            )
        )
        per_day = [
            ((since + dt.timedelta(days=i)).isoformat(), active.get((since + dt.timedelta(days=i)).isoformat(), 0))
            for i in range(days)
        ]
        views = dict(
            self._read(
                "SELECT topic, COUNT(*) FROM events WHERE kind = 'view' AND topic IS NOT NULL GROUP BY topic ORDER BY 2 DESC"
            )
        )
        completion: dict[str, dict[str, int]] = {}
        for topic, user_id, ticked in self._read(
            "SELECT c.topic, c.user_id, (SELECT COUNT(*) FROM ticks t WHERE t.user_id = c.user_id AND t.topic = c.topic) FROM checklists c"
        ):
            entry = completion.setdefault(topic, {"started": 0, "completed": 0})
            entry["started"] += 1
            total = (items_per_topic or {}).get(topic)
            if total and ticked >= total:
                entry["completed"] += 1
        feedback: dict[str, dict[str, int]] = {}
        for topic, vote, n in self._read("SELECT topic, vote, COUNT(*) FROM feedback GROUP BY topic, vote"):
            feedback.setdefault(topic, {"up": 0, "down": 0})["up" if vote > 0 else "down"] += n
        unanswered = self._read(
            "SELECT question, COUNT(*) FROM questions GROUP BY question ORDER BY 2 DESC, MAX(ts) DESC LIMIT 10"
        )
        return {
            "users": self._read("SELECT COUNT(*) FROM users")[0][0],
            "active_per_day": per_day,
            "views": views,
            "checklists": completion,
            "feedback": feedback,
            "unanswered": [tuple(r) for r in unanswered],
        }

    # -- reminders -----------------------------------------------------------------------
    def add_reminder(
        self,
        user_id: int,
        chat_id: int,
        kind: str,
        due_at: dt.datetime,
        topic: str | None = None,
        payload: dict[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        """Store one reminder; its id."""
        cur = self._write(
            "INSERT INTO reminders (user_id, chat_id, kind, topic, due_at, payload, created, cancelled) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            (user_id, chat_id, kind, topic, _now(due_at), json.dumps(payload or {}, ensure_ascii=False), _now(now)),
        )
        return int(cur.lastrowid)

    def add_reminders(
        self,
        user_id: int,
        chat_id: int,
        kind: str,
        times: list[dt.datetime],
        topic: str | None = None,
        payload: dict[str, Any] | None = None,
        now: dt.datetime | None = None,
        limit: int = MAX_PENDING_REMINDERS,
    ) -> list[int]:
        """Add the reminders the user does not already have pending (same kind and time); returns the ids of
        the new ones. Raises ReminderLimit (adding nothing) when the user would have more than ``limit``."""
        pending = self.user_reminders(user_id)
        have = {(r.kind, r.due_at) for r in pending}
        new = [t for t in dict.fromkeys(_now(t) for t in times) if (kind, t) not in have]
        if new and len(pending) + len(new) > limit:
            raise ReminderLimit(f"user {user_id} has {len(pending)} pending reminder(s); at most {limit}")
        return [self.add_reminder(user_id, chat_id, kind, dt.datetime.fromisoformat(t), topic, payload, now) for t in new]

    def record_attempt(self, reminder_id: int, error: str, *, permanent: bool, now: dt.datetime | None = None) -> int:
        """A delivery that failed: count it; a permanent failure ends the reminder (kept, with the error)."""
        rows = self._write(
            "UPDATE reminders SET attempts = attempts + 1, error = ?, failed_at = CASE WHEN ? THEN ? ELSE failed_at END "
            "WHERE id = ? RETURNING attempts",
            (error[:200], permanent, _now(now), reminder_id),
            rows=True,
        )
        return int(rows[0][0]) if rows else 0

    def failed_reminders(self) -> list[tuple[int, int, str]]:
        """(id, user, error) of reminders given up on."""
        return [tuple(r) for r in self._read("SELECT id, user_id, error FROM reminders WHERE failed_at IS NOT NULL ORDER BY id")]

    def _reminders(self, where: str, params: Iterable[Any] = ()) -> list[ReminderRow]:
        rows = self._read(
            f"SELECT id, user_id, chat_id, kind, topic, due_at, payload, sent_at, cancelled FROM reminders WHERE {where} ORDER BY due_at, id",
            params,
        )
        return [ReminderRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6] or "{}"), r[7], bool(r[8])) for r in rows]

    def get_reminder(self, reminder_id: int) -> ReminderRow | None:
        """One reminder by id, None if gone."""
        rows = self._reminders("id = ?", (reminder_id,))
        return rows[0] if rows else None

    def pending_reminders(self) -> list[ReminderRow]:
        """The reminders not yet sent."""
        return self._reminders("sent_at IS NULL AND cancelled = 0 AND failed_at IS NULL")

    def user_reminders(self, user_id: int) -> list[ReminderRow]:
        """A user's pending reminders."""
        return self._reminders("user_id = ? AND sent_at IS NULL AND cancelled = 0 AND failed_at IS NULL", (user_id,))

    def mark_reminder_sent(self, reminder_id: int, now: dt.datetime | None = None) -> None:
        """Mark a reminder as delivered."""
        self._write("UPDATE reminders SET sent_at = ? WHERE id = ?", (_now(now), reminder_id))

    def cancel_reminder(self, user_id: int, reminder_id: int) -> bool:
        """Only the owner can cancel; returns whether a pending reminder was cancelled."""
        cur = self._write(
            "UPDATE reminders SET cancelled = 1 WHERE id = ? AND user_id = ? AND sent_at IS NULL AND cancelled = 0",
            (reminder_id, user_id),
        )
        return cur.rowcount == 1

    # -- the Telegram inbox (bot/inbox.py) ---------------------------------------------------
    def inbox_add(self, updates: list[tuple[int, str]], now: dt.datetime | None = None) -> list[int]:
        """Keep a batch of updates (update id, JSON) in one transaction, before Telegram is told they
        arrived; returns the ids not seen before (a replay of a known id is ignored)."""
        ts = _now(now)
        with self._atomic() as conn:
            return [
                update_id
                for update_id, body in updates
                if conn.execute(
                    "INSERT INTO inbox (update_id, received, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (update_id, ts, body)
                ).rowcount
            ]

    def inbox_done(self, update_id: int, now: dt.datetime | None = None) -> None:
        """The update was handled: its content is dropped, its id kept to recognise a replay."""
        self._write("UPDATE inbox SET done = ?, body = NULL WHERE update_id = ?", (_now(now), update_id))

    def inbox_pending(self) -> list[tuple[int, str, int]]:
        """(update id, JSON, starts) of every update kept and not yet handled, oldest first. Updates are
        handled in order, so the oldest is the one that was in hand when the process stopped: ``starts``
        counts the starts that found it first in line (this one included), 0 for the others."""
        rows = self._read("SELECT update_id, body, attempts FROM inbox WHERE done IS NULL ORDER BY update_id")
        if not rows:
            return []
        self._write("UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?", (rows[0][0],))
        return [(int(r[0]), r[1], int(r[2]) + (i == 0)) for i, r in enumerate(rows)]

    def inbox_last_id(self) -> int | None:
        """The highest update id kept (handled or not), if any."""
        return self._read("SELECT MAX(update_id) FROM inbox")[0][0]

    def inbox_prune(self, before: dt.datetime) -> int:
        """Forget the ids of updates handled before ``before``; returns how many."""
        return self._write("DELETE FROM inbox WHERE done IS NOT NULL AND done < ?", (_now(before),)).rowcount

    # -- retention and privacy --------------------------------------------------------------
    def inactive_users(self, before: dt.datetime) -> list[int]:
        """Users whose last activity is before ``before``."""
        return [r[0] for r in self._read("SELECT id FROM users WHERE last_seen < ? ORDER BY id", (_now(before),))]

    def users_to_warn(self, before: dt.datetime) -> list[int]:
        """Inactive since ``before`` and not yet warned about this period of inactivity."""
        return [
            r[0]
            for r in self._read(
                "SELECT id FROM users WHERE last_seen < ? AND COALESCE(json_extract(settings, '$.retention_warned_for'), '') != last_seen ORDER BY id",
                (_now(before),),
            )
        ]

    def mark_warned(self, user_id: int) -> None:
        """Record that the user was warned about the coming deletion."""
        self._write(
            "UPDATE users SET settings = json_set(COALESCE(settings, '{}'), '$.retention_warned_for', last_seen) WHERE id = ?",
            (user_id,),
        )

    def record_warn_failure(self, user_id: int, error: str) -> None:
        """The retention warning cannot be delivered (blocked, chat gone): noted, not retried every day."""
        self._write(
            "UPDATE users SET settings = json_set(COALESCE(settings, '{}'), '$.retention_warn_error', ?) WHERE id = ?",
            (error[:200], user_id),
        )

    def expire_free_text(self, before: dt.datetime) -> int:
        """Unanswered questions and 👎 reasons older than the retention period are deleted."""
        return self._transaction(
            [
                ("DELETE FROM questions WHERE ts < ?", (_now(before),)),
                ("UPDATE feedback SET reason = NULL WHERE reason IS NOT NULL AND ts < ?", (_now(before),)),
            ]
        )

    # -- web sessions (web/sessions.py: the tokens are hashed there) ---------------------
    def web_key(self, name: str, make: Callable[[], str]) -> str:
        """A key kept in the database (e.g. the web cookies' signing key), made with ``make`` the first
        time; every process on the file gets the same one."""
        rows = self._read("SELECT value FROM web_keys WHERE name = ?", (name,))
        if rows:
            return rows[0][0]
        self._write("INSERT OR IGNORE INTO web_keys (name, value) VALUES (?, ?)", (name, make()))
        return self._read("SELECT value FROM web_keys WHERE name = ?", (name,))[0][0]

    def session_user(self, token_hash: str) -> int | None:
        """The user id of a web session, None if there is none."""
        rows = self._read("SELECT user_id FROM web_sessions WHERE token_hash = ?", (token_hash,))
        return rows[0][0] if rows else None

    def add_session(self, token_hash: str, user_id: int, created: str) -> bool:
        """Store a web session; False if the user id already has one (a clash of random ids)."""
        try:
            self._write(
                "INSERT INTO web_sessions (token_hash, user_id, created) VALUES (?, ?, ?)", (token_hash, user_id, created)
            )
        except StoreError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                return False
            raise
        return True

    def replace_session(self, token_hash: str, user_id: int, created: str) -> None:
        """Make this the user's one web session (a WeChat follower's signed link opened in a browser:
        the newest browser holds it); the user's other session, if any, ends."""
        self._transaction(
            [
                ("DELETE FROM web_sessions WHERE user_id = ?", (user_id,)),
                ("INSERT INTO web_sessions (token_hash, user_id, created) VALUES (?, ?, ?)", (token_hash, user_id, created)),
            ]
        )

    # -- WeChat followers (web/wechat.py: the openids are hashed there) ------------------------
    def wechat_user(self, openid_hash: str, draw: Callable[[], int], now: dt.datetime | None = None) -> int:
        """The internal user id of a follower, made with ``draw`` (a negative id no one has) the first time."""
        rows = self._read("SELECT user_id FROM wechat_users WHERE openid_hash = ?", (openid_hash,))
        if rows:
            return rows[0][0]
        for _ in range(10):
            user_id = draw()
            if self.has_data(user_id):
                continue
            self._write(
                "INSERT OR IGNORE INTO wechat_users (openid_hash, user_id, created) VALUES (?, ?, ?)",
                (openid_hash, user_id, _now(now)),
            )
            rows = self._read("SELECT user_id FROM wechat_users WHERE openid_hash = ?", (openid_hash,))
            if rows:
                return rows[0][0]
        raise StoreError("could not allocate a user id for a WeChat follower")

    def is_wechat_user(self, user_id: int) -> bool:
        """Whether the id is a follower's (it is not after the follower's data was deleted)."""
        return bool(self._read("SELECT 1 FROM wechat_users WHERE user_id = ?", (user_id,)))

    def wechat_claim(self, key: str, user_id: int, now: dt.datetime, keep_s: float, keep_max: int) -> tuple[bool, str | None]:
        """(True, None) the first time a message ``key`` arrives: answer it; (False, the reply given or None
        while it is being answered) for a retry. Keys older than ``keep_s`` seconds are forgotten, and
        beyond ``keep_max`` the oldest."""
        rows = self._read("SELECT reply FROM wechat_messages WHERE key = ?", (key,))
        if rows:
            return False, rows[0][0]
        before = _now(now - dt.timedelta(seconds=keep_s))
        self._transaction(
            [
                ("DELETE FROM wechat_messages WHERE ts < ?", (before,)),
                (
                    "DELETE FROM wechat_messages WHERE key IN (SELECT key FROM wechat_messages ORDER BY ts DESC LIMIT -1 OFFSET ?)",
                    (max(keep_max - 1, 0),),
                ),
                ("INSERT OR IGNORE INTO wechat_messages (key, user_id, ts) VALUES (?, ?, ?)", (key, user_id, _now(now))),
            ]
        )
        return True, None

    def wechat_answered(self, key: str, reply: str) -> None:
        """Keep the reply given to the message ``key``, so that WeChat's retry of it gets the same."""
        self._write("UPDATE wechat_messages SET reply = ? WHERE key = ?", (reply, key))

    def wechat_token(self, app_id: str) -> tuple[str, float] | None:
        """The cached API access token of the account and when it expires (epoch seconds)."""
        rows = self._read("SELECT token, expires_at FROM wechat_tokens WHERE app_id = ?", (app_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def set_wechat_token(self, app_id: str, token: str | None, expires_at: float = 0.0) -> None:
        """Cache the account's access token until ``expires_at`` (epoch seconds); None forgets it."""
        if token is None:
            self._write("DELETE FROM wechat_tokens WHERE app_id = ?", (app_id,))
            return
        self._write(
            "INSERT INTO wechat_tokens (app_id, token, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(app_id) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at",
            (app_id, token, expires_at),
        )

    def has_session(self, user_id: int) -> bool:
        """Whether a web user's session exists (it does not after "delete my data")."""
        return bool(self._read("SELECT 1 FROM web_sessions WHERE user_id = ?", (user_id,)))

    def has_data(self, user_id: int) -> bool:
        """Whether anything about the user is stored beyond the statistics' events (a checklist, a tick,
        a vote, a setting …): a web visitor gets a session only then (web/server.py)."""
        return any(
            self._read(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", (user_id,))
            for table, column in USER_TABLES.items()
            if table != "events"
        )

    def forget_user(self, user_id: int) -> int:
        """Delete every row about the user, in one transaction; returns rows deleted (the user's views held
        back among them: they are never written)."""
        self._touched.pop(user_id, None)
        held = len(self._held)
        self._held = [row for row in self._held if row[3] != user_id]
        held -= len(self._held)
        return held + self._transaction(
            [(f"DELETE FROM {table} WHERE {column} = ?", (user_id,)) for table, column in USER_TABLES.items()]
        )
