"""`eport-guide run` as a real process: graceful SIGTERM, and ticks surviving a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

# start-up, signals and exits of `eport-guide run` happen only in such a process: coverage measures it
pytestmark = pytest.mark.measured_subprocesses


async def start_bot(fake, db):
    """`eport-guide run` against the fake, returned once its start-up is over: polling, and the profile
    registered (which follows the first getUpdates; its last call is the short description in the last
    translated language)."""
    from dialogs.i18n import TRANSLATED

    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_API_FILE_URL": fake.base_file_url,
        "EPORT_GUIDE_DB": str(db),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    polls, profiles = len(fake.calls("getUpdates")), len(fake.calls("setMyShortDescription"))
    await fake.wait_for(
        lambda: len(fake.calls("getUpdates")) > polls and len(fake.calls("setMyShortDescription")) > profiles + len(TRANSLATED),
        timeout=20,
        what="the bot to poll and register its profile",
    )
    return proc


async def stop_bot(fake, proc) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    fake._closing = True  # release the pending long poll so shutdown is quick
    await fake._notify()
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        fake._closing = False
    return proc.returncode, err.decode()


async def test_ticks_survive_a_restart_of_the_bot_process(fake, tmp_path):
    db = tmp_path / "proc.db"
    proc = await start_bot(fake, db)
    user = fake.user(id=8080)
    answer = await user.send("/start reissue_lost")
    await user.click(answer, "📋 加入清单")
    checklist = user.last
    await user.click(checklist, "☐ 市场主体资格证明材料")
    reply = await user.click(checklist, "☐ 营业执照等·盖申请单位公章")
    assert reply["text"] == "已勾选"
    code, err = await stop_bot(fake, proc)
    assert code == 0, err  # SIGTERM is a graceful shutdown
    assert fake.token not in err

    proc = await start_bot(fake, db)
    try:
        mine = await user.send("/checklist")
        assert "丢失补办：1/25" in mine.plain
        await user.click(checklist, "下一项 ➡️")  # a button sent by the previous process
        await user.click(checklist, "下一项 ➡️")
        await user.click(checklist, "下一项 ➡️")
        again = await user.click(checklist, "☐ 经办人·复印件")
        assert again["text"] == "已勾选" and "进度 2/25" in checklist.plain
    finally:
        code, err = await stop_bot(fake, proc)
    assert code == 0, err


# -- start-up and shut-down -------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def read_lines(stream, lines: list[str], until: str, timeout: float) -> None:
    """Collect ``stream``'s lines into ``lines`` until one contains ``until``."""

    async def collect() -> None:
        while True:
            line = (await stream.readline()).decode()
            assert line, "the process ended: " + "".join(lines)
            lines.append(line)
            if until in line:
                return

    await asyncio.wait_for(collect(), timeout)


def assert_clean(err: str) -> None:
    assert " ERROR " not in err and "Traceback" not in err and "Task was destroyed" not in err, err


async def test_a_clean_sigterm_logs_no_error(fake, tmp_path):
    proc = await start_bot(fake, tmp_path / "term.db")
    user = fake.user(id=8181)
    await user.send("/start")
    await asyncio.sleep(1.5)  # the polling watchdog and the warm-up timer are running
    code, err = await stop_bot(fake, proc)
    assert code == 0 and "Application.stop() complete" in err
    assert_clean(err)


async def test_a_token_telegram_rejects_at_start_up_is_one_line_and_exit_2(fake, tmp_path):
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": "123456789:" + "r" * 35,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "EPORT_GUIDE_DB": str(tmp_path / "rejected.db"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and out == b""
    assert err.decode().splitlines() == [
        (
            "eport-guide: Telegram rejected the bot token (revoked or mistyped, or "
            "TELEGRAM_API_BASE_URL is not a Bot API address); get the token from @BotFather"
        )
    ]


async def test_telegram_unreachable_at_start_up_is_retried_until_the_proxy_comes_up(fake, tmp_path):
    """In mainland China the proxy may come up after the bot: `run` waits for it instead of
    exiting, one line per attempt, the proxy's password never in them."""
    from .local_proxy import Socks5Proxy

    password = "Pr0xyPa55word"
    proxy = Socks5Proxy("eport", password)
    proxy.port = free_port()  # nothing listens there yet
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_API_FILE_URL": fake.base_file_url,
        "EPORT_GUIDE_DB": str(tmp_path / "late.db"),
        "TELEGRAM_PROXY": f"socks5://eport:{password}@127.0.0.1:{proxy.port}",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    lines: list[str] = []
    try:
        await read_lines(proc.stderr, lines, "attempt 2", timeout=30)
        assert proc.returncode is None  # still running: not exit 2
        assert not fake.requests  # nothing reached Telegram around the proxy
        await proxy.start()
        await fake.wait_for(lambda: fake.calls("getUpdates"), timeout=30, what="the bot to poll through the proxy")
        answer = await fake.user(id=8282).send("/start")
        assert "请选择" in answer.plain or answer.labels
    finally:
        proc.send_signal(signal.SIGTERM)
        fake._closing = True
        await fake._notify()
        _, rest = await asyncio.wait_for(proc.communicate(), 30)
        fake._closing = False
        await proxy.stop()
    err = "".join(lines) + rest.decode()
    assert proc.returncode == 0, err
    attempts = [line for line in lines if "start-up: Telegram unreachable via TELEGRAM_PROXY" in line]
    assert [a.split("(attempt ")[1].split(":")[0] for a in attempts] == ["1", "2"]  # one line per attempt
    assert "trying again in 1 s" in attempts[0] and "trying again in 2 s" in attempts[1]
    assert password not in err and fake.token.split(":")[1] not in err
    assert_clean(err)


async def test_sigterm_while_waiting_for_telegram_ends_the_process_cleanly(tmp_path):
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": "123456789:" + "w" * 35,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}/bot",
        "EPORT_GUIDE_DB": str(tmp_path / "wait.db"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    lines: list[str] = []
    await read_lines(proc.stderr, lines, "attempt 1", timeout=30)
    proc.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(proc.communicate(), 20)
    err = "".join(lines) + rest.decode()
    assert proc.returncode == 0 and "stopped while waiting for Telegram" in err
    assert "start-up: Telegram unreachable (attempt 1: NetworkError: httpx.ConnectError" in err and "w" * 35 not in err
    assert_clean(err)


async def test_the_start_up_backoff_doubles_up_to_its_cap(tmp_path):
    """Against a closed port: every attempt fails; the waits double from 1 s and stay at 60 s."""
    from bot.settings import Settings
    from bot.startup import wait_for_telegram

    settings = Settings(
        token="123456789:" + "c" * 35, base_url=f"http://127.0.0.1:{free_port()}/bot", db_path=str(tmp_path / "b.db")
    )
    waits: list[float] = []
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 9:
            stop.set()

    assert await wait_for_telegram(settings, stop=stop, sleep=sleep) is None
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def webhook_env(fake, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_API_FILE_URL": fake.base_file_url,
        "EPORT_GUIDE_DB": str(tmp_path / "hook.db"),
        "EPORT_GUIDE_WEBHOOK_URL": "https://bot.example.org/telegram",
        "EPORT_GUIDE_WEBHOOK_SECRET": "Hook_Secret_42",
        "EPORT_GUIDE_PORT": str(free_port()),
    }


async def test_a_webhook_telegram_refuses_at_start_up_is_one_line(fake, tmp_path):
    fake.fail_next("setWebhook", 400, times=100, description="Bad Request: bad webhook: Failed to resolve host")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=webhook_env(fake, tmp_path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 90)
    err = err.decode()
    assert proc.returncode == 2
    assert [line for line in err.splitlines() if " INFO " not in line] == [
        "eport-guide: Telegram refused the request: Bad webhook: failed to resolve host"
    ]
    assert "Hook_Secret_42" not in err


async def test_telegram_failing_after_start_up_began_exits_3_for_the_supervisor_in_one_line(fake, tmp_path):
    """A network failure that outlasts the start-up retries (here: Bad Gateway on setMyCommands, which comes
    once polling has begun) is exit 3, which systemd restarts (deploy/eport-guide.service), not 2, which it
    leaves stopped; the error is one line (beside the INFO lines of the start and stop)."""
    fake.fail_next("setMyCommands", 502, times=1000)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "EPORT_GUIDE_DB": str(tmp_path / "gateway.db"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 3
    assert [line for line in err.decode().splitlines() if " INFO " not in line] == [
        ("eport-guide: cannot reach Telegram (Bad Gateway); check the network, the proxy or TELEGRAM_API_BASE_URL")
    ]


async def test_start_up_retries_server_errors_and_honours_retry_after(fake, tmp_path, caplog):
    """A 502 from a proxy or Telegram and a 429 are waited out like an unreachable network;
    a 429's retry_after is the least wait."""
    from bot.settings import Settings
    from bot.startup import wait_for_telegram

    import logging

    caplog.set_level(logging.INFO, logger="eport_guide.bot")
    fake.fail_next("getMe", 502)
    fake.fail_next("getMe", 429, retry_after=5)
    settings = Settings(token=fake.token, base_url=fake.base_url, db_path=str(tmp_path / "r.db"))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert await wait_for_telegram(settings, sleep=sleep) == "eport_guide_test_bot"
    assert waits == [1, 5] and len(fake.calls("getMe")) == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "eport_guide.bot"]
    assert len(lines) == 3 and "attempt 1: NetworkError: Bad Gateway" in lines[0] and "attempt 2: RetryAfter" in lines[1]
    assert lines[2] == "Telegram answered at attempt 3"
