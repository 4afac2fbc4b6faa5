"""Operator commands: ``eport-guide health`` and ``eport-guide backup``.

Health exit codes (for scripts and container health checks):
0 healthy · 1 a local check failed (database, knowledge) · 2 bad configuration ·
3 Telegram unreachable or the token refused (only with ``--online``).
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .settings import Settings, SettingsError

HEALTH_OK, HEALTH_LOCAL, HEALTH_CONFIG, HEALTH_TELEGRAM = 0, 1, 2, 3


@dataclass(frozen=True)
class Check:
    """One health check's result: its name, whether it passed, what it found."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """The check as one line of ``eport-guide health``."""
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def check_database(path: str) -> Check:
    """The file exists, is an SQLite database at the current schema version, and takes a write lock."""
    from dialogs.store import MIGRATIONS

    db = Path(path).expanduser()
    if not db.exists():
        return Check("database", False, f"{db} does not exist (the bot creates it on first start)")
    if not os.access(db, os.R_OK | os.W_OK) or not os.access(db.parent, os.W_OK | os.X_OK):
        return Check("database", False, f"{db} or its directory is not writable by this user")
    try:
        conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=5.0, isolation_level=None)
    except sqlite3.Error as exc:
        return Check("database", False, f"cannot open {db}: {exc}")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != len(MIGRATIONS):
            how = "start the bot once to migrate it" if version < len(MIGRATIONS) else "it is from a newer eport-guide"
            return Check("database", False, f"{db} has schema version {version}, this program needs {len(MIGRATIONS)} ({how})")
        conn.execute("BEGIN IMMEDIATE")  # takes the write lock without changing anything
        conn.execute("ROLLBACK")
        quick = conn.execute("PRAGMA quick_check").fetchone()[0]
        if quick != "ok":
            return Check("database", False, f"{db} is damaged: {quick}")
    except sqlite3.Error as exc:
        return Check("database", False, f"{db} cannot be written: {exc}")
    finally:
        conn.close()
    return Check("database", True, f"{db} writable, schema version {version}")


def check_knowledge(directory: str | None, overlay: Path | None = None) -> Check:
    """The knowledge files, and the question forms staff taught (``overlay``, if the file exists)."""
    from knowledge import KnowledgeError, load_knowledge
    from knowledge.loader import resolve_directory
    from knowledge.overlay import apply_overlay

    where = resolve_directory(directory)
    try:
        kb = apply_overlay(load_knowledge(where), overlay)
    except KnowledgeError as exc:
        first = exc.problems[0] if exc.problems else "unknown problem"
        return Check("knowledge", False, f"{where}: {len(exc.problems)} problem(s), first: {first}")
    return Check("knowledge", True, f"{where}: {len(kb.businesses)} businesses, {len(kb.offices)} offices")


def check_telegram(settings: Settings) -> Check:
    """getMe with the token, through TELEGRAM_PROXY if set."""
    from telegram.error import InvalidToken, TelegramError

    try:
        token = settings.require_token()
    except SettingsError as exc:
        return Check("telegram", False, str(exc))

    async def get_me() -> str:
        async with one_off_bot(settings, token) as bot:
            return bot.username

    try:
        username = asyncio.run(get_me())
    except InvalidToken:
        return Check("telegram", False, "the token was refused (revoked? ask @BotFather)")
    except TelegramError as exc:
        via = " via TELEGRAM_PROXY" if settings.proxy else ""
        return Check("telegram", False, f"Bot API unreachable{via}: {exc}")
    return Check("telegram", True, f"getMe answered: @{username}")


def one_off_bot(settings: Settings, token: str):
    """A ``telegram.Bot`` for a few calls of its own (getMe at start-up, in a health check, for a deep link's
    username), through TELEGRAM_PROXY if set: one connection for its calls and one for getUpdates, which it
    never makes (else the library makes a client of its own). Use it as ``async with``."""
    from telegram import Bot

    return Bot(
        token,
        base_url=settings.base_url,
        base_file_url=settings.base_file_url,
        request=make_request(settings, pool=1),
        get_updates_request=make_request(settings, pool=1),
    )


def make_request(settings: Settings, *, pool: int = 16, read_timeout: float | None = None):
    """The HTTP client for Bot API calls and file downloads (through TELEGRAM_PROXY if set)."""
    from telegram.request import HTTPXRequest

    timeout = settings.request_timeout
    return HTTPXRequest(
        connection_pool_size=pool,
        connect_timeout=10,
        read_timeout=read_timeout or timeout,
        write_timeout=timeout,
        pool_timeout=5,
        proxy=settings.proxy,
        httpx_kwargs={"verify": tls_context()},
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificate checks of every Telegram client of the process: httpx's default (certifi's CAs, or
    SSL_CERT_FILE / SSL_CERT_DIR), made once: loading the CAs is most of the cost of a new client, and a
    start makes four of them."""
    import httpx

    return httpx.create_ssl_context()


def health(settings: Settings, online: bool) -> tuple[int, list[Check]]:
    """Every health check (the database, the knowledge, ``online``: Telegram): (exit status, the checks)."""
    from dialogs.guide import overlay_path

    checks = [check_database(settings.db_path), check_knowledge(settings.knowledge_dir, overlay_path(None, settings))]
    code = HEALTH_OK if all(c.ok for c in checks) else HEALTH_LOCAL
    if online:
        tg = check_telegram(settings)
        checks.append(tg)
        if code == HEALTH_OK and not tg.ok:
            code = HEALTH_TELEGRAM
    return code, checks


class BackupError(Exception):
    """The backup could not be made; the message says why (one line)."""


def backup(source: str, target: str, *, overwrite: bool = False) -> tuple[Path, int]:
    """Copy a live database with SQLite's online backup API, check the copy, then move it
    into place. Returns the target path and its size. The source is never written.

    The copy is made in one step, inside one read transaction: in WAL mode that does not
    block the bot's writes, and the copy is the database as of one moment (a stepwise
    backup would restart on every write and might never finish on a busy bot)."""
    src_path = Path(source).expanduser()
    dest = Path(target).expanduser()
    if not src_path.is_file():
        raise BackupError(f"database {src_path} does not exist; set EPORT_GUIDE_DB or --db to the bot's database")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} already exists; choose a new name or pass --force")
    if dest.resolve() == src_path.resolve():
        raise BackupError("the backup file must not be the database itself")
    if not dest.parent.is_dir():
        raise BackupError(f"directory {dest.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            src = sqlite3.connect(f"file:{src_path}?mode=rw", uri=True, timeout=10.0)  # rw: WAL readers need the -shm
        except sqlite3.Error as exc:
            raise BackupError(f"cannot open {src_path}: {exc}") from exc
        try:
            with sqlite3.connect(tmp) as out:
                src.backup(out)  # pages=-1: everything in one read transaction
                out.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
                result = [r[0] for r in out.execute("PRAGMA integrity_check").fetchall()]
            out.close()
        except sqlite3.Error as exc:
            raise BackupError(f"backup of {src_path} failed: {exc}") from exc
        finally:
            src.close()
        if result != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {'; '.join(result[:3])}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest, dest.stat().st_size
