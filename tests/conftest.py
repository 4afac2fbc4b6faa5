"""Shared fixtures. Each block below belongs to one feature; keep them separate."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from knowledge import load_knowledge
from knowledge.loader import DEFAULT_DATA_DIR

REPO = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO.parent / "shared" / "seeds"


# -- the order: the longest files first -------------------------------------------------------
# With two workers (`make test`: -n 2 --dist worksteal) a long test that starts last keeps one worker busy
# while the other has nothing left: these files (each over 10 s of a run) start first, the rest follow in
# their usual order, and a worker that runs out takes tests from the other's queue.
LONGEST_FIRST = (
    "test_web_browser.py",
    "test_eval.py",
    "test_process_restart.py",
    "test_fuzz.py",
    "test_inbox.py",
    "test_snapshots.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the others keep their order


# -- a hermetic environment: the developer's own bot configuration never leaks in ----------
@pytest.fixture(autouse=True, scope="session")
def _no_operator_configuration():
    import os

    saved = {
        k: os.environ.pop(k)
        for k in list(os.environ)
        if k.startswith(("TELEGRAM_", "EPORT_GUIDE_", "EPORT_WEB_", "EPORT_WECHAT_"))
    }
    yield
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _logging_left_as_found():
    """A command run in the test's process sets up logging (a handler on the root logger over the test's
    captured standard error) and may wrap stdout/stderr to redact secrets: both are undone after the
    test, so a later test's server thread never logs into a capture that has been closed."""
    import logging
    import sys

    root = logging.getLogger()
    handlers, level, streams = list(root.handlers), root.level, (sys.stdout, sys.stderr)
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    sys.stdout, sys.stderr = streams


# -- coverage of the processes a test starts ------------------------------------------------
# `make test` measures the commands the suite starts as processes (coverage's subprocess patch: the variable
# below, inherited by the child), which doubles what each costs (about 0.9 s more for a Python start that loads
# the knowledge). Only the tests marked `measured_subprocesses` are measured in their processes: those whose
# processes reach code no test reaches in its own process (start-up, signals, exits); the others' commands run
# the same code in-process elsewhere in the suite.
@pytest.fixture(autouse=True)
def _processes_measured_only_where_marked(request, monkeypatch):
    if request.node.get_closest_marker("measured_subprocesses") is None:
        monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)


# -- knowledge and engine ----------------------------------------------------------------
@pytest.fixture(autouse=True, scope="session")
def _each_knowledge_version_loaded_once():
    """Loading and validating the knowledge costs about 0.3 s (0.8 s under coverage), and every bot,
    web server and command started in the suite loads it: here each version of a knowledge directory
    (its path and the content of its files) is loaded once and each load gets a copy of the validated
    result. Errors are never reused (each broken copy is loaded and refused again); an edited copy is a
    new version."""
    import copy
    import hashlib
    import importlib

    from knowledge import loader

    real = loader.load_knowledge
    loaded: dict[tuple[str, str], object] = {}

    def load_knowledge(directory=None):
        where = loader.resolve_directory(directory)
        digest = hashlib.sha256()
        try:
            for path in sorted(p for p in where.rglob("*") if p.is_file()):
                digest.update(str(path.relative_to(where)).encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            return real(directory)
        key = (str(where), digest.hexdigest())
        if key not in loaded:
            loaded[key] = real(directory)
        return copy.deepcopy(loaded[key])  # a Knowledge of its own, as a load gives (tests change theirs; ~10 ms)

    users = (
        "knowledge",
        "bot.app",
        "bot.cli",
        "bot.ops",
        "web.server",
        "dialogs.guide",
        "dialogs.catalog",
        "tests.snapshot_regen",
    )
    saved = [(m, m.load_knowledge) for m in map(importlib.import_module, users) if hasattr(m, "load_knowledge")]
    for module, _ in saved:
        module.load_knowledge = load_knowledge
    yield
    for module, original in saved:
        module.load_knowledge = original


def _knowledge_content(kb) -> dict:
    """What a knowledge object holds, compared by value (its records are pydantic models): two copies loaded
    from the same files are equal; a copy a test has edited in memory is not."""
    return {name: value for name, value in vars(kb).items() if name not in ("base", "_items", "directory", "overlay")}


@pytest.fixture(autouse=True, scope="session")
def _each_matcher_built_once_per_knowledge():
    """Building the free-text matcher and its reader costs about 0.25 s (0.6 s under coverage), and every bot,
    web server and guide that answers a question builds them for its own copy of the knowledge: here they are
    built once per knowledge content, and a later build over equal knowledge is a copy of the first one's
    indexes (built once, only read afterwards) with the new knowledge and matcher in place. The classes stay
    dialogs.matcher.Matcher and dialogs.reader.Reader (subclassed in place), so a test that patches
    ``Matcher.__init__`` to hold up a build still holds it up; knowledge a test changed is built anew."""
    import copy

    from dialogs import matcher as matcher_module
    from dialogs import reader as reader_module

    RealMatcher, RealReader = matcher_module.Matcher, reader_module.Reader
    built: dict[type, list[tuple[dict, object]]] = {RealMatcher: [], RealReader: []}

    def reuse(kind, obj, kb) -> bool:
        content = _knowledge_content(kb)
        for known, done in built[kind]:
            if known == content:
                obj.__dict__.update(done.__dict__)
                return True
        return False

    def remember(kind, obj, kb) -> None:
        built[kind][:] = [(copy.deepcopy(_knowledge_content(kb)), obj), *built[kind][:3]]  # the last 4 versions

    class Matcher(RealMatcher):
        __doc__ = RealMatcher.__doc__

        def __init__(self, kb):
            if reuse(RealMatcher, self, kb):
                self.kb = kb
                return
            super().__init__(kb)
            remember(RealMatcher, self, kb)

    class Reader(RealReader):
        __doc__ = RealReader.__doc__

        def __init__(self, kb, matcher):
            if reuse(RealReader, self, kb):
                self.kb, self.matcher = kb, matcher
                return
            super().__init__(kb, matcher)
            remember(RealReader, self, kb)

    Matcher.__name__ = Matcher.__qualname__ = "Matcher"
    Reader.__name__ = Reader.__qualname__ = "Reader"
    matcher_module.Matcher, reader_module.Reader = Matcher, Reader
    yield
    matcher_module.Matcher, reader_module.Reader = RealMatcher, RealReader


@functools.lru_cache(maxsize=1)
def shipped_knowledge():
    """The knowledge as shipped, loaded once per process: for parametrizing over its records at
    collection time (topics, counts are read from it, never written into a test)."""
    return load_knowledge(DEFAULT_DATA_DIR)


@pytest.fixture(scope="session")
def kb():
    return shipped_knowledge()


@pytest.fixture(scope="session")
def plain_guide(kb):
    """The application object without a database: the screens everyone sees."""
    from dialogs.guide import build_guide

    return build_guide(kb=kb, store=False)


@pytest.fixture(scope="session")
def engine(plain_guide):
    return plain_guide.engine


@pytest.fixture
def guide(tmp_path, kb):
    """The application object with every feature, on a fresh database."""
    from dialogs.guide import build_guide

    g = build_guide(tmp_path / "guide.db", kb=kb)
    yield g
    g.close()


USER_ID_COLUMNS = ("user_id", "chat_id")  # chat_id: reminders go to the user's private chat (= the user id)


def user_columns(conn) -> list[tuple[str, str]]:
    """(table, column) for every column that holds a user id, read from the database's own schema
    (sqlite_master), not from the product's list: a table added later is checked without asking."""
    tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    out = [("users", "id")] if "users" in tables else []
    for table in tables:
        out += [(table, c) for (_, c, *_) in conn.execute(f"PRAGMA table_info({table})") if c in USER_ID_COLUMNS]
    return out


def user_known(store, user_id: int) -> bool:
    """Whether the store has a row for the user (what retention and /forget delete)."""
    return store.conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is not None


@pytest.fixture
def ctx():
    from dialogs.engine import Context

    return Context(user_id=1)


@pytest.fixture
def knowledge_copy(tmp_path):
    """A writable copy of the knowledge directory, for breaking it on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


# -- Telegram end to end (the fake Bot API on 127.0.0.1) ---------------------------------
import contextlib  # noqa: E402

import pytest_asyncio  # noqa: E402

from .fake_telegram import FakeTelegram  # noqa: E402


@pytest_asyncio.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server


@contextlib.asynccontextmanager
async def running_bot(fake: FakeTelegram, db_path, before_init=None, **settings_overrides):
    """The real Application from build_application, polling the fake through the inbox as
    `eport-guide run` does (bot.runner.running); ``before_init(app, settings)`` runs before
    post_init (e.g. web.server.attach)."""
    from bot.app import build_application
    from bot.runner import running
    from bot.settings import Settings

    settings = Settings(
        token=fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url, db_path=str(db_path), **settings_overrides
    )
    app = build_application(settings)
    if before_init is not None:
        before_init(app, settings)
    try:
        async with running(app, settings, poll_timeout=1, allowed_updates=None):
            # the free-text matcher is built in a worker thread (never on the loop): built here, the
            # first question's answer is not later than the fake's "gone quiet" (processed) expects
            await app.bot_data["guide"].engine.ready()
            fake.handled = functools.partial(inbox_done, settings.db_path)
            try:
                yield app
            finally:
                fake.handled = None
                fake._closing = True  # release the pending long poll so shutdown is quick
                await fake._notify()
    finally:
        app.bot_data["guide"].close()
        fake._closing = False


def inbox_done(db_path, update_id: int) -> bool:
    """Whether the bot has handled an update its inbox kept: read on a connection of the test's own,
    so that what the bot reads from its store is not disturbed (tests count those reads)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT done FROM inbox WHERE update_id = ?", (update_id,)).fetchone()
    finally:
        conn.close()
    return row is None or row[0] is not None


@pytest_asyncio.fixture
async def bot_app(fake, tmp_path):
    async with running_bot(fake, tmp_path / "bot.db") as app:
        yield app


def run_cli(monkeypatch, capsys, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`eport-guide ARGS` in-process with extra environment variables: (exit code, stdout, stderr)."""
    from bot import cli

    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def eport_guide(monkeypatch, capsys):
    """`eport-guide ARGS` run in the test's process (``bot.cli.main``, what the script calls) with extra
    environment variables and standard input: a CompletedProcess with the exit code, stdout and stderr a
    terminal sees — without a Python start per command. Keep real processes for what only they show.
    ``await eport_guide.beside_the_loop(ARGS, env=…)``: the same in a worker thread, while the test's event
    loop goes on serving (the fake Telegram a command asks)."""
    return InProcessCommand(monkeypatch, capsys)


class InProcessCommand:
    def __init__(self, monkeypatch, capsys):
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def __call__(self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None):
        import io
        import subprocess
        import sys

        from bot import cli

        for key, value in (env or {}).items():
            self.monkeypatch.setenv(key, value)
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = self.capsys.readouterr()
        return subprocess.CompletedProcess(["eport-guide", *args], code, out, err)

    async def beside_the_loop(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
        import asyncio

        return await asyncio.wait_for(asyncio.to_thread(self, *args, env=env), timeout)


def first_page(proc, url: str, within: float = 30.0):
    """GET ``url`` from the server process ``proc`` once it answers; fails with its error output if it
    exits first, or if it does not answer within ``within`` seconds."""
    import time

    import httpx

    deadline = time.monotonic() + within
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            assert proc.poll() is None, f"the server exited ({proc.returncode}): {proc.stderr.read()}"
            assert time.monotonic() < deadline, f"no answer from {url} within {within:.0f} s"
            time.sleep(0.2)


async def until(predicate, timeout: float) -> None:
    """Poll a condition another thread changes (the fake's wait_for wakes on Telegram traffic only)."""
    import asyncio

    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")
