"""bot.telegram_api: the supported python-telegram-bot versions and the one raw call, as an operator
starting the bot with another library version sees them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import telegram

from bot import telegram_api
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def test_the_supported_range_is_the_one_pyproject_installs():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    ptb = next(d for d in deps if d.startswith("python-telegram-bot"))
    low_major, low_minor, high_major = map(int, re.search(r">=(\d+)\.(\d+),<(\d+)", ptb).groups())
    assert telegram_api.SUPPORTED == ((low_major, low_minor), (high_major, 0))
    telegram_api.check_version()  # the installed (pinned) library is supported


@pytest.mark.parametrize("version", [(21, 11), (23, 0), (30, 1, 2)])
def test_a_version_outside_the_range_is_refused_in_one_line(version):
    with pytest.raises(telegram_api.UnsupportedLibrary) as err:
        telegram_api.check_version(version)
    message = str(err.value)
    assert "\n" not in message
    assert f"python-telegram-bot {version[0]}.{version[1]} is installed" in message
    assert telegram_api.supported_range() in message


def test_starting_the_bot_with_an_unsupported_library_stops_with_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(telegram, "__version_info__", (23, 1, 0, "final", 0))
    code, out, err = run_cli(
        monkeypatch, capsys, "run", env={"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "EPORT_GUIDE_DB": str(tmp_path / "bot.db")}
    )
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "python-telegram-bot 23.1 is installed" in lines[0] and ">=22.0,<23.0" in lines[0]
    assert "A" * 35 not in err


async def test_raw_call_posts_the_parameters_and_leaves_the_reply_unparsed():
    sent = []

    class Recording(telegram.Bot):
        async def do_api_request(self, endpoint, api_kwargs=None, **kwargs):  # the public call, recorded
            sent.append((endpoint, api_kwargs))
            return {"message_id": 7}

    bot = Recording("123456:" + "B" * 35)
    reply = await telegram_api.raw_call(bot, "sendMessage", {"chat_id": 1, "text": "x"})
    assert reply == {"message_id": 7} and sent == [("sendMessage", {"chat_id": 1, "text": "x"})]


class Canned(telegram.request.BaseRequest):
    """Telegram answering every call with one canned (status, JSON body)."""

    def __init__(self, status: int, body: str):
        self.answer = (status, body.encode())
        self.calls: list[str] = []

    @property
    def read_timeout(self):
        return 1.0

    async def initialize(self):
        pass

    async def shutdown(self):
        pass

    async def do_request(self, url, method, request_data=None, **timeouts):
        self.calls.append(url.rsplit("/", 1)[-1])
        return self.answer


MESSAGE = '{"ok":true,"result":{"message_id":5,"date":0,"chat":{"id":1,"type":"private"},"text":"x"}}'


async def test_the_bots_request_leaves_a_screens_reply_undecoded_and_decodes_the_library_calls():
    canned = Canned(200, MESSAGE)
    bot = telegram.Bot("123456:" + "B" * 35, request=telegram_api.UnreadReplies(canned))
    assert await telegram_api.raw_call(bot, "sendMessage", {"chat_id": 1, "text": "x"}) is True  # not decoded
    sent = await bot.send_message(1, "x")  # the library's named call still gets its Message
    assert isinstance(sent, telegram.Message) and sent.message_id == 5 and sent.text == "x"
    assert canned.calls == ["sendMessage", "sendMessage"]


async def test_a_refused_screen_raises_with_telegrams_reason():
    refused = '{"ok":false,"error_code":400,"description":"Bad Request: message is not modified"}'
    bot = telegram.Bot("123456:" + "B" * 35, request=telegram_api.UnreadReplies(Canned(400, refused)))
    with pytest.raises(telegram.error.BadRequest, match="(?i)message is not modified"):
        await telegram_api.raw_call(bot, "editMessageText", {"chat_id": 1, "message_id": 5, "text": "x"})


def test_the_bot_application_sends_through_the_request_that_leaves_screens_undecoded(tmp_path):
    from bot.app import build_application
    from bot.settings import Settings

    canned = Canned(200, MESSAGE)
    app = build_application(Settings(token="123456:" + "B" * 35, db_path=str(tmp_path / "bot.db")), request=canned)
    try:
        assert isinstance(app.bot.request, telegram_api.UnreadReplies) and app.bot.request.wrapped is canned
    finally:
        app.bot_data["guide"].close()
