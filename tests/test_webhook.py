"""Webhook mode as Telegram uses it: updates POSTed over HTTP to the running bot."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import sys
import time

import aiohttp
import pytest

from bot import cli

from .fake_telegram import _entities

SECRET = "s3cret_token-for-tests"
WEBHOOK_URL = "https://bot.example.org/telegram"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_ids = itertools.count(1)


def message_update(text: str, user_id: int = 1001, language_code: str = "zh-hans") -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Ivan", "language_code": language_code}
    chat = {"id": user_id, "type": "private", "first_name": "Ivan"}
    message = {"message_id": next(_ids), "date": int(time.time()), "chat": chat, "from": user, "text": text}
    if entities := _entities(text):
        message["entities"] = entities
    return {"update_id": next(_ids), "message": message}


async def post(session: aiohttp.ClientSession, url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with session.post(url, data=json.dumps(update), headers=headers) as response:
        return response.status


@pytest.mark.measured_subprocesses  # the webhook server's process
async def test_webhook_round_trip_over_http_with_and_without_the_secret(fake, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_API_FILE_URL": fake.base_file_url,
        "EPORT_GUIDE_DB": str(tmp_path / "hook.db"),
        "EPORT_GUIDE_WEBHOOK_SECRET": SECRET,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--webhook-url",
        WEBHOOK_URL,
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for(lambda: fake.webhook, timeout=20, what="setWebhook")
        assert fake.webhook["url"] == WEBHOOK_URL and fake.webhook["secret_token"] == SECRET
        assert not fake.calls("getUpdates")  # no polling in webhook mode
        served = f"http://127.0.0.1:{port}/telegram"  # what the reverse proxy forwards /telegram to
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # the listener comes up right after setWebhook
                try:
                    await post(session, served, {"update_id": 0}, None)
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert await post(session, served, message_update("/start"), SECRET) == 200
            menu = await fake.wait_for(lambda: fake.chats.get(1001), timeout=10, what="the menu")
            assert "请选择要办理的业务" in menu[-1].plain
            assert await post(session, served, message_update("通辽在哪里办"), SECRET) == 200
            await fake.wait_for(lambda: len(fake.chats[1001]) == 2, timeout=10, what="the answer")
            assert "0475-8235577" in fake.chats[1001][-1].plain

            assert await post(session, served, message_update("/start", user_id=2002), None) == 403
            assert await post(session, served, message_update("/start", user_id=2002), "wrong") == 403
            assert await post(session, f"http://127.0.0.1:{port}/", message_update("/start", user_id=2002), SECRET) == 404
            await asyncio.sleep(0.5)
            assert 2002 not in fake.chats  # nothing forged reached the bot
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert fake.token not in err.decode() and SECRET not in err.decode()


def test_a_webhook_without_a_secret_is_refused(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:" + "a" * 35)
    code = cli.main(["run", "--webhook-url", WEBHOOK_URL, "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert code == 2 and "EPORT_GUIDE_WEBHOOK_SECRET" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def test_a_plain_http_webhook_url_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:" + "a" * 35)
    code = cli.main(["run", "--webhook-url", "http://bot.example.org/telegram", "--secret-token", SECRET])
    err = capsys.readouterr().err
    assert code == 2 and "--webhook-url must be an https://" in err
