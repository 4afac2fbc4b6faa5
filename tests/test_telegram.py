"""The Telegram channel end to end: the real Application against the fake Bot API."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sqlite3
import subprocess
import sys

import pytest

from .conftest import running_bot
from .fake_telegram import BOT_USERNAME


async def test_start_shows_the_main_menu_and_commands_are_registered(fake, bot_app):
    user = fake.user()
    menu = await user.send("/start")
    assert "请选择要办理的业务" in menu.plain and menu.parse_mode == "HTML"
    assert {"新办业务", "补办业务", "📍 办理地点与电话"} <= set(menu.labels)
    commands = [c["command"] for c in fake.commands[("default", "")]]
    assert commands[:3] == ["start", "menu", "checklist"] and "privacy" in commands and "forget" in commands


async def test_deep_link_opens_the_answer(fake, bot_app):
    answer = await fake.user().send("/start reissue_lost")
    text = answer.plain
    for needle in ("丢失补办", "业务申请书", "市场主体资格证明材料", "同意办理电子口岸制发卡业务", "0470-2299089"):
        assert needle in text
    unknown = await fake.user(id=2).send("/start no_such_topic")
    assert "未找到该业务" in unknown.plain and "请选择要办理的业务" in unknown.plain


async def test_clicking_buttons_edits_in_place_and_answers_the_callback(fake, bot_app):
    user = fake.user()
    menu = await user.send("/start")
    answer = await user.click(menu, "补办业务")
    assert answer["answered"]
    assert len(user.messages) == 1 and menu.edits  # the same message, edited
    assert "丢失补办" in menu.labels
    await user.click(menu, "丢失补办")
    assert "持卡人身份证明材料" in menu.plain and len(user.messages) == 1
    await user.click(menu, "⋯ 更多")
    await user.click(menu, "📂 补办业务")
    assert "请选择具体业务" in menu.plain


async def test_free_text_answers_or_suggests(fake, bot_app):
    user = fake.user()
    assert "丢失补办 · 补办业务" in (await user.send("卡丢了怎么办")).plain
    gibberish = await user.send("qwerty zxcv")
    assert "0470-2299089" in gibberish.plain
    suggest = await user.send("注销")
    assert "注销法人卡证书" in suggest.labels
    hostile = await user.send("<b>丢失</b> & <script>")
    # the answer to the question in it; the user's markup never reaches the message as markup
    assert "丢失补办" in hostile.plain and "<script>" not in hostile.text and "<b>丢失</b>" not in hostile.text
    # where the user's text is shown back (a date the bot cannot read), it is escaped
    await user.ask_reminder("expiry")
    echoed = await user.send("<b>丢失</b> & <script>")
    assert "看不懂这个日期：&lt;b&gt;丢失&lt;/b&gt; &amp; &lt;script&gt;" in echoed.text


@pytest.mark.parametrize("data", ["e0|g|main", "e1|g|topic:nope", "garbage", "e1|x|unlock:nope.copy", "e1|zz|"])
async def test_stale_or_forged_buttons_get_a_fresh_menu(fake, bot_app, data, caplog):
    user = fake.user()
    menu = await user.send("/start")
    answer = await user.press_data(menu, data)
    assert answer["answered"] and answer["text"] == "此菜单已过期"
    assert "此菜单已过期" in user.last.plain and "新办业务" in user.last.labels
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_429_is_retried_and_the_message_still_arrives(fake, bot_app):
    fake.fail_next("sendMessage", 429, retry_after=1)
    reply = await fake.user().send("/help")  # handled once the retry after the refused first attempt is through
    assert reply is not None and "使用帮助" in reply.plain and fake.chats[1001] == [reply]
    assert len(fake.calls("sendMessage")) == 2


async def test_403_is_logged_and_the_bot_keeps_serving(fake, bot_app, caplog):
    caplog.set_level(logging.INFO)
    fake.fail_next("sendMessage", 403, chat_id=1001)
    assert await fake.user(id=1001).send("/start") is None
    assert "blocked the bot" in caplog.text
    assert "请选择要办理的业务" in (await fake.user(id=1002).send("/start")).plain


async def test_unknown_command(fake, bot_app):
    reply = await fake.user().send("/frobnicate")
    assert "未知命令" in reply.plain and "/help" in reply.plain


async def test_group_chat_answers_only_commands_and_mentions(fake, bot_app):
    group = fake.group()
    user = fake.user()
    assert await group.send(user, "今天天气不错，卡丢了") is None
    helped = await group.send(user, f"/help@{BOT_USERNAME}")
    assert "使用帮助" in helped.plain
    mentioned = await group.send(user, f"@{BOT_USERNAME} 通辽在哪里办")
    assert "0475-8235577" in mentioned.plain
    assert await group.send(user, "/help@some_other_bot") is None
    assert await group.send(user, "@some_other_user 通辽在哪里办") is None
    assert [m.plain for m in group.messages] == [helped.plain, mentioned.plain]  # nothing else reached the group
    update_id = await fake.channel_post("卡丢了")
    await fake.processed(update_id)
    assert -100999 not in fake.chats  # the channel got nothing
    assert all(int(c.get("chat_id", 0)) != -100999 for m in ("sendMessage", "sendDocument", "sendPhoto") for c in fake.calls(m))


async def test_edited_message_is_answered_as_a_new_question(fake, bot_app):
    user = fake.user()
    await user.send("通辽")
    reply = await user.edit("通辽", "赤峰在哪里办")
    assert "中国建设银行赤峰宁澜路支行" in reply.plain


async def test_sticker_and_photo_get_a_polite_reply(fake, bot_app):
    user = fake.user()
    assert "文字问题" in (await user.send_sticker()).plain
    assert (await user.send_photo()) is not None


async def test_huge_message(fake, bot_app):
    reply = await fake.user().send("卡丢了" + "啊" * 4000)
    assert "丢失补办" in reply.plain


async def test_token_never_appears_in_logs(fake, tmp_path):
    from bot.logs import setup_logging

    stream = io.StringIO()
    handler = setup_logging(fake.token, stream, level=logging.DEBUG)
    try:
        logging.getLogger("httpx").setLevel(logging.DEBUG)  # even if someone turns it up
        async with running_bot(fake, tmp_path / "t.db"):
            await fake.user().send("/start")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("httpx").setLevel(logging.WARNING)
    output = stream.getvalue()
    assert "HTTP Request" in output and "bot<token>/getMe" in output  # httpx's URL, redacted
    assert f"bot @{BOT_USERNAME} started" in output
    assert fake.token not in output and fake.token.split(":")[1] not in output


async def test_the_statistics_events_held_back_are_on_disk_when_the_bot_stops(fake, tmp_path):
    """The bot writes its statistics' events (a business viewed, a checklist opened) several at a time, not
    one commit per view; once it has stopped they are on disk, before anything else closes the database."""
    path = tmp_path / "events.db"
    on_disk: list[tuple] = []

    def before_init(app, settings):
        stop = app.post_shutdown

        async def post_shutdown(application):
            await stop(application)
            with contextlib.closing(sqlite3.connect(path)) as other:  # what another process sees now
                on_disk.extend(other.execute("SELECT kind, topic FROM events WHERE user_id = 4343 ORDER BY id"))

        app.post_shutdown = post_shutdown

    async with running_bot(fake, path, before_init=before_init):
        user = fake.user(id=4343)
        answer = await user.send("/start unlock")
        await user.click(answer, "📋 加入清单")
        assert "经办人身份证明材料" in user.last.plain
    assert on_disk == [("view", "unlock"), ("checklist_open", "unlock")]


def run_cli(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=30, env={**os.environ, **env}
    )


@pytest.mark.parametrize(
    "env,message",
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"TELEGRAM_BOT_TOKEN": "123456:" + "a" * 35, "EPORT_GUIDE_ADMINS": "12,abc"}, "EPORT_GUIDE_ADMINS"),
    ],
)
def test_run_with_bad_configuration_is_one_clear_line(env, message):
    r = run_cli("run", env=env)
    assert r.returncode == 2 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("sender", [0, -42, None], ids=["user 0", "a web session's id", "no sender"])
async def test_an_update_without_a_real_sender_is_refused_and_logged_once_without_its_content(fake, bot_app, caplog, sender):
    caplog.set_level(logging.INFO)
    store = bot_app.bot_data["guide"].store
    user = fake.user(id=5300)
    private = "我的身份证号 110101199003078888"
    message = user.message_update(private)
    _, press = user.press_update(1, "menu", "e1|go|checklists")
    for update, sent in (
        (message, message["message"]),
        (user.message_update("/checklist"), None),
        (press, press["callback_query"]),
    ):
        sent = sent or update["message"]
        if sender is None:
            sent.pop("from")
        else:
            sent["from"] = {**sent["from"], "id": sender}
        if sender is None and "callback_query" in update:
            continue  # Telegram always names who pressed a button
        await fake.processed(await fake.push(update))
    assert fake.chats == {} and not [a for a in fake.callback_answers.values() if a.get("answered")]
    assert store.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0  # nobody's row, no web session's
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "110101" not in refused[0] and "身份证" not in refused[0]
    assert "使用帮助" in (await fake.user(id=5301).send("/help")).plain  # real users are served as before


def test_sending_screens_raw_raises_no_library_warning_in_a_real_process():
    """Screens go out with the public Bot.do_api_request, which warns that a named method exists;
    bot.delivery silences exactly that warning for its two endpoints, and nothing else."""
    import subprocess
    import sys

    code = (
        "import warnings\nfrom telegram.warnings import PTBUserWarning\nimport bot.delivery\n"
        "for name in ('sendMessage', 'editMessageText'):\n"
        "    warnings.warn(f\"Please use 'Bot.{name}' instead of 'Bot.do_api_request(\\\"{name}\\\", ...)'\", PTBUserWarning)\n"
        "try:\n    warnings.warn(\"Please use 'Bot.sendPhoto' instead\", PTBUserWarning)\n"
        "except PTBUserWarning:\n    print('other warnings still raised')\n"
    )
    out = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "other warnings still raised"
