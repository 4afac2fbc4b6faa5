"""What users see, pinned where deliberately planted one-line bugs once passed the whole suite
(issue 18): each test below fails when its bug is planted."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import zlib

import pytest

from dialogs.features.reminders import at_nine
from bot.logs import setup_logging
from dialogs.uploads import precheck, sniff
from dialogs.store import Store

from .conftest import run_cli, running_bot
from .fake_telegram import BOT_USERNAME
from .test_upload import _save, make_jpeg, make_pdf, make_png

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def _scheduled_refund_reminder(fake, app, uid: int):
    """A 退单 reminder due one second from now, set by the user in Chinese."""
    guide = app.bot_data["guide"]
    due = at_nine(dt.date(2026, 11, 30))
    guide.engine.clock = lambda: due - dt.timedelta(seconds=1.0)
    user = fake.user(id=uid)
    await user.ask_reminder("refund")
    assert "2026-11-30 09:00" in (await user.send("2026-11-24")).plain
    return guide, user


async def test_no_reminder_reaches_a_user_who_turned_reminders_off(fake, tmp_path):
    async with running_bot(fake, tmp_path / "off.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 71)
        settings = await user.send("/settings")
        await user.click(settings, "🔔 提醒")
        assert "关" in user.last.plain.split("提醒", 1)[1]
        before = len(user.messages)
        await fake.wait_for(lambda: guide.store.pending_reminders() == [], timeout=6, what="the reminder's time")
        await fake.settle()
        assert len(user.messages) == before  # marked done, nothing sent


async def test_inline_answers_are_in_the_users_language(fake, bot_app):
    ru = await fake.user(id=72, language_code="ru").inline_query("丢失")
    text = ru["results"][0]["input_message_content"]["message_text"]
    assert "Принесите" in text and "请携带" not in text
    zh = await fake.user(id=73).inline_query("丢失")
    assert "Принесите" not in zh["results"][0]["input_message_content"]["message_text"]


async def test_ticking_in_russian_says_ticked_and_unticking_says_unticked(fake, bot_app):
    user = fake.user(id=74, language_code="ru")
    topic = await user.send("/start unlock")
    checklist = await user.click(topic, "📋")
    assert checklist["answered"]
    page = user.last
    await user.click(page, next(label for label in page.labels if label.startswith("☐")))  # a material's page
    item = next(label for label in page.labels if label.startswith("☐"))
    ticked = await user.click(page, item)
    assert ticked["text"] == "Отмечено"
    unticked = await user.click(page, "✅" + item[1:])
    assert unticked["text"] == "Отметка снята"


async def test_group_ignores_mentions_of_others_and_channels_get_nothing(fake, bot_app):
    group, user = fake.group(), fake.user()
    assert await group.send(user, "@somebody_else 卡丢了怎么办") is None
    assert await group.send(user, "今天天气不错，卡丢了") is None
    assert "丢失补办" in (await group.send(user, f"@{BOT_USERNAME} 卡丢了怎么办")).plain
    update_id = await fake.channel_post("卡丢了")
    await fake.processed(update_id)
    assert -100999 not in fake.chats
    sent_to = {int(c.get("chat_id", 0)) for m in ("sendMessage", "sendDocument", "sendPhoto") for c in fake.calls(m)}
    assert -100999 not in sent_to and group.messages[-1].plain.count("丢失补办") >= 1


async def test_cancel_forgets_the_pending_question(fake, tmp_path):
    async with running_bot(fake, tmp_path / "c.db") as app:
        app.bot_data["guide"].engine.clock = lambda: NOW
        user = fake.user(id=75)
        await user.ask_reminder("expiry")
        await user.send("/cancel")
        reply = await user.send("2027-03-01")
        assert "已记下证书到期日期" not in reply.plain
        assert app.bot_data["guide"].store.user_reminders(75) == []


async def test_a_menu_that_cannot_be_edited_comes_as_a_new_message(fake, bot_app):
    user = fake.user(id=76)
    menu = await user.send("/start")
    fake.fail_next("editMessageText", 400, description="Bad Request: message can't be edited")
    await user.click(menu, "补办业务")
    assert len(user.messages) == 2 and "丢失补办" in user.last.labels
    assert "请选择要办理的业务" in menu.plain  # the old message is as it was


async def test_an_unexpected_error_is_told_to_the_user_with_the_hotline(fake, bot_app, monkeypatch, caplog):
    engine = bot_app.bot_data["guide"].engine

    def broken(ctx, question):
        raise RuntimeError("planted")

    monkeypatch.setattr(engine, "ask", broken)
    with caplog.at_level(logging.ERROR):
        reply = await fake.user(id=77).send("卡丢了")
    assert reply is not None and "出错了，请稍后再试。" in reply.plain and "0470-2299089" in reply.plain
    assert "planted" in caplog.text


async def test_a_bad_reminder_date_is_echoed_escaped(fake, tmp_path):
    async with running_bot(fake, tmp_path / "e.db") as app:
        app.bot_data["guide"].engine.clock = lambda: NOW
        user = fake.user(id=78)
        await user.ask_reminder("expiry")
        hostile = "<b>x</b> & <i>"
        reply = await user.send(hostile)
        assert "看不懂这个日期：&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;" in reply.text
        assert f"看不懂这个日期：{hostile}" in reply.plain


# -- survivors of `make mutate` that users would notice ----------------------------------------------
def test_each_quit_word_ends_the_console_chat(tmp_path):
    from dialogs.console import ConsoleChat
    from dialogs.guide import build_guide

    guide = build_guide(tmp_path / "q.db")
    try:
        for word in ("/quit", "/exit", "/q", "  /q  "):
            with pytest.raises(EOFError):
                ConsoleChat(guide, user_id=5).step(word)
        assert "未知命令 /quiet" in ConsoleChat(guide, user_id=5).step("/quiet")
    finally:
        guide.close()


def test_real_telegram_user_ids_are_accepted_and_impossible_ones_refused(monkeypatch, capsys, tmp_path):
    """Telegram ids go beyond 2³² (e.g. 5123456789); SQLite's integers stop at 2⁶³ − 1."""
    db = tmp_path / "ids.db"
    Store(db).close()
    for uid in ("5123456789", "9223372036854775807", "-100123456789"):
        code, out, err = run_cli(monkeypatch, capsys, "forget", "--user", uid, "--db", str(db))
        assert code == 0 and f"about user {uid}" in out, err
    for uid in ("9223372036854775808", "-9223372036854775808", "12a", "１２３"):
        with pytest.raises(SystemExit) as exit_:  # argparse's usage error
            run_cli(monkeypatch, capsys, "forget", "--user", uid, "--db", str(db))
        out, err = capsys.readouterr()
        assert exit_.value.code == 2 and "not a Telegram user id" in err and out == ""


def test_a_png_that_claims_no_width_or_height_is_reported_damaged(kb):
    good = make_png()
    assert precheck(kb, good, "scan.png", None).ok
    for width, height in ((0, 48), (64, 0)):
        ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + good[24:29]
        forged = good[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + good[33:]
        result = precheck(kb, forged, "scan.png", None)
        assert not result.ok and result.problems == [("damaged", {"type": "png"})]


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, marker, segment length) of each segment before the scan of a baseline JPEG."""
    out, i = [], 2
    while data[i + 1] != 0xDA:
        length = int.from_bytes(data[i + 2:i + 4], "big")
        out.append((i, data[i + 1], length))
        i += 2 + length
    return out


def test_damaged_jpegs_are_reported_and_whole_ones_pass(kb):
    """A scan cut off in the middle, a JPEG without its frame header, one claiming zero height or
    width, a segment running past the end: each would be refused by the system after the upload."""
    good = make_jpeg()
    assert precheck(kb, good, "photo.jpg", None).ok
    sof = next(offset for offset, marker, _ in _jpeg_segments(good) if marker == 0xC0)
    sof_length = int.from_bytes(good[sof + 2:sof + 4], "big")
    damaged = {
        "cut before the end marker": good[:-200],
        "no frame header": good[:sof] + good[sof + 2 + sof_length:],
        "zero height": good[:sof + 5] + b"\x00\x00" + good[sof + 7:],
        "zero width": good[:sof + 7] + b"\x00\x00" + good[sof + 9:],
        "a segment longer than the file": good[:sof + 2] + b"\xff\xf0" + good[sof + 4:],
    }
    for what, data in damaged.items():
        result = precheck(kb, data, "photo.jpg", None)
        assert not result.ok and result.problems == [("damaged", {"type": "jpg"})], what


async def test_inline_answers_are_sent_as_formatted_text_without_link_previews(fake, bot_app):
    """Shared answers show bold titles, not raw <b> tags, and no preview card of a map link."""
    result = (await fake.user().inline_query("通辽在哪"))["results"][0]
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML" and "<b>" in content["message_text"]
    assert content["link_preview_options"]["is_disabled"] is True


async def test_mentioning_the_bot_alone_in_a_group_shows_the_menu(fake, bot_app):
    group, user = fake.group(), fake.user(id=79)
    reply = await group.send(user, f"@{BOT_USERNAME}")
    assert reply is not None and "请选择要办理的业务" in reply.plain


async def test_the_retention_warning_is_in_the_users_language(fake, tmp_path):
    async with running_bot(fake, tmp_path / "w.db", retention_days=30) as app:
        russian = fake.user(id=81, language_code="ru")
        await russian.send("/start")
        start = dt.datetime.now(dt.timezone.utc)
        app.bot_data["guide"].engine.clock = lambda: start + dt.timedelta(days=24)
        await app.job_queue.get_jobs_by_name("retention")[0].run(app)
        await fake.settle()
        assert "Вы давно не пользовались ботом" in russian.last.plain


# -- the command line, in-process (mutation testing sees only in-process calls) ----------------------
def test_run_never_prints_the_token_the_webhook_secret_or_the_proxy_password(monkeypatch, capsys, tmp_path):
    import bot.app

    token, secret, password = "123456789:AAE-secret_half_of_the_bot_token-xy", "webhook-secret-8c1f", "proxy-pa55word"

    def fake_run(settings, web=False):
        logging.getLogger("eport_guide").error("starting with %s, half %s, webhook %s, proxy %s", settings.token,
                                               token.split(":", 1)[1], settings.webhook_secret, settings.proxy)
        return 0

    monkeypatch.setattr(bot.app, "run", fake_run)
    env = {"TELEGRAM_BOT_TOKEN": token, "EPORT_GUIDE_WEBHOOK_URL": "https://guide.example.org/hook",
           "EPORT_GUIDE_WEBHOOK_SECRET": secret, "TELEGRAM_PROXY": f"http://user:{password}@127.0.0.1:3128",
           "EPORT_GUIDE_DB": str(tmp_path / "run.db")}
    try:
        code, out, err = run_cli(monkeypatch, capsys, "run", env=env)
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_eport_guide", False)]:
            root.removeHandler(handler)
    assert code == 0 and "starting with <token>" in err, err
    for leaked in (token, token.split(":", 1)[1], secret, password):
        assert leaked not in err + out


def test_forget_on_the_command_line_deletes_the_users_rows(monkeypatch, capsys, tmp_path):
    from dialogs.guide import build_guide
    from dialogs.engine import Context, callback_data

    from .conftest import user_known

    db = tmp_path / "f.db"
    guide = build_guide(db)
    try:
        guide.engine.handle(Context(user_id=77), callback_data("checklist_open", "unlock"))
        guide.engine.handle(Context(user_id=78), callback_data("checklist_open", "unlock"))
    finally:
        guide.close()
    code, out, _ = run_cli(monkeypatch, capsys, "forget", "--user", "77", "--db", str(db))
    assert code == 0 and "deleted 0 row" not in out and "about user 77" in out
    guide = build_guide(db)
    try:
        assert not user_known(guide.store, 77) and guide.store.list_checklists(77) == []
        assert guide.store.list_checklists(78) != []
    finally:
        guide.close()


def test_stale_lists_the_records_older_than_the_limit(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "stale", "--days", "1")
    assert code == 0 and "verified 2026-11-24" in out and "source" in out
    code, out, _ = run_cli(monkeypatch, capsys, "stale", "--days", "36500")
    assert code == 0 and out.strip() == "no knowledge record is older than 36500 days"


def test_commands_use_the_configured_knowledge_directory(monkeypatch, capsys, knowledge_copy, tmp_path):
    """EPORT_GUIDE_KNOWLEDGE pointing at a broken copy: the commands report it, not the packaged files."""
    (knowledge_copy / "offices.yaml").write_text("offices: [unclosed\n", encoding="utf-8")
    env = {"EPORT_GUIDE_KNOWLEDGE": str(knowledge_copy), "EPORT_GUIDE_DB": str(tmp_path / "k.db")}
    code, _, err = run_cli(monkeypatch, capsys, "show", "unlock", env=env)
    assert code == 1 and "offices.yaml" in err
    code, out, _ = run_cli(monkeypatch, capsys, "health", env=env)
    assert code == 1 and "offices.yaml" in out
    code, out, _ = run_cli(monkeypatch, capsys, "stale", env=env)
    assert code == 1


def test_every_line_a_command_prints_passes_the_redaction(monkeypatch, capsys, tmp_path):
    """Whatever a command prints (its own lines, a library's error) — on stdout or stderr — shows
    neither the token, nor its secret half, nor the webhook secret, nor a proxy password of 4+ characters."""
    import sys

    import bot.cli

    token, secret, password = "123456789:AAE-secret_half_of_the_bot_token-xy", "hook", "pa55"

    def chatty(args):
        for stream in (sys.stdout, sys.stderr):
            print(f"token {token} half {token.split(':', 1)[1]} webhook {secret} proxy {password}", file=stream)
        return 0

    monkeypatch.setattr(bot.cli, "cmd_show", chatty)
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # restored after the test: main() wraps both streams
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    env = {"TELEGRAM_BOT_TOKEN": token, "EPORT_GUIDE_WEBHOOK_SECRET": secret,
           "TELEGRAM_PROXY": f"http://user:{password}@127.0.0.1:3128", "EPORT_GUIDE_DB": str(tmp_path / "r.db")}
    code, out, err = run_cli(monkeypatch, capsys, "show", "unlock", env=env)
    assert code == 0 and out.count("<token>") >= 2 and err.count("<token>") >= 2
    for leaked in (token, token.split(":", 1)[1], f"webhook {secret}", f"proxy {password}"):
        assert leaked not in out and leaked not in err


def test_the_log_formatter_hides_the_token_on_its_own(monkeypatch):
    """Logs are redacted by their formatter too, wherever the handler writes (a file, a journal)."""
    import io

    token = "123456789:AAE-secret_half_of_the_bot_token-xy"
    stream = io.StringIO()
    handler = setup_logging(token, stream=stream)
    try:
        logging.getLogger("eport_guide").warning("calling https://api.telegram.org/bot%s/getMe", token)
        logging.getLogger("eport_guide").warning("half %s", token.split(":", 1)[1])
    finally:
        logging.getLogger().removeHandler(handler)
    assert "bot<token>/getMe" in stream.getvalue() and token.split(":", 1)[1] not in stream.getvalue()


# -- reminders whose state changed after they were scheduled (another process: the web pages, the CLI) --
async def test_a_reminder_comes_in_the_language_the_user_reads_now(fake, tmp_path):
    async with running_bot(fake, tmp_path / "lang.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 82)
        guide.store.set_language(82, "ru")  # chosen in /language after the reminder was set
        await fake.wait_for(lambda: "Напоминание о возврате заявки" in user.last.plain, timeout=6, what="the reminder")
        assert "последний день повторной подачи: 2026-11-30" in user.last.plain


async def test_a_reminder_cancelled_elsewhere_is_not_sent(fake, tmp_path):
    async with running_bot(fake, tmp_path / "cx.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 83)
        for reminder in guide.store.user_reminders(83):  # cancelled on the web pages: the bot's job is still scheduled
            assert guide.store.cancel_reminder(83, reminder.id)
        before = len(user.messages)
        await asyncio.sleep(2.5)
        await fake.settle()
        assert len(user.messages) == before


async def test_a_reminder_of_a_user_deleted_elsewhere_is_dropped_quietly(fake, tmp_path, caplog):
    async with running_bot(fake, tmp_path / "fx.db") as app:
        guide, user = await _scheduled_refund_reminder(fake, app, 84)
        guide.store.forget_user(84)  # `eport-guide forget --user 84` while the bot runs
        before = len(user.messages)
        with caplog.at_level(logging.WARNING):
            await asyncio.sleep(2.5)
            await fake.settle()
        complaints = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("eport_guide")]
        assert len(user.messages) == before and complaints == []


async def test_a_file_sent_as_a_document_is_checked_against_its_name(fake, bot_app):
    """A PNG renamed to .jpg: the system checks the extension, so the precheck names the mismatch."""
    reply = await fake.user(id=85).send_document(make_png(), "营业执照.jpg", "image/jpeg")
    assert "营业执照.jpg" in reply.plain and "❌" in reply.plain and ".jpg" in reply.plain and "PNG" in reply.plain


async def test_an_unexpected_error_in_a_group_is_not_posted_there_and_a_user_reads_it_in_their_language(
        fake, bot_app, monkeypatch, caplog):
    engine = bot_app.bot_data["guide"].engine

    def broken(ctx, question):
        raise RuntimeError("planted")

    monkeypatch.setattr(engine, "ask", broken)
    group, user = fake.group(), fake.user(id=86)
    with caplog.at_level(logging.ERROR):
        assert await group.send(user, f"@{BOT_USERNAME} 卡丢了") is None  # logged, not posted to the group
        reply = await fake.user(id=87, language_code="ru").send("карта потеряна")
    assert caplog.text.count("planted") >= 2
    assert reply is not None and "Что-то пошло не так, попробуйте позже." in reply.plain and "0470-2299089" in reply.plain


def test_webp_text_and_unknown_files_are_named_for_what_they_are(kb):
    """The precheck says what the file really is: a WebP picture, a text file, or something unreadable."""
    webp = _save("WEBP")
    assert sniff(webp) == "webp"
    assert precheck(kb, webp, "scan.jpg", None).problems[0] == ("bad_type", {"type": "webp"})
    assert sniff("营业执照号码：123\n".encode()) == "text" and sniff(b"line one\r\n\tline two") == "text"
    for binary in (b"\x00\x01\x02 binary", b"abc\x7f", b"RIFF\x00\x00\x00\x00WAVE", b"\xff\xfe\xfd"):
        assert sniff(binary) == "unknown", binary


def test_each_problem_comes_with_the_advice_that_fixes_it(kb):
    """What the precheck tells the applicant to do, per problem (the screen words each code)."""
    png, pdf = make_png(), make_pdf()
    cases = [
        # (data, file name, size when not downloaded) → (problems' codes, advice codes)
        ((png, "营业执照.jpg", None), (["ext_mismatch"], [("rename", {"detected": "png"})])),
        ((png, "营业执照", None), (["no_ext"], [("rename", {"detected": "png"})])),
        ((png[:-40], "营业执照.png", None), (["damaged"], [("resave", {})])),
        ((b"PK\x03\x04" + b"\x00" * 100, "申请书.docx", None), (["bad_type"], [("to_pdf", {})])),
        (("营业执照号码".encode(), "scan.txt", None), (["bad_type"], [("to_pdf", {})])),
        ((_save("GIF"), "scan.gif", None), (["bad_type"], [("to_image", {})])),
        ((b"\x00\x01\x02\x03 unknown", "scan.bin", None), (["bad_type"], [("use_scan", {})])),
        ((None, "申请书.pdf", 3_000_001), (["too_big"], [("compress_pdf", {})])),
        ((None, "营业执照.jpg", 3_000_001), (["too_big"], [("compress_image", {})])),
        ((None, "申请书.docx", 1000), (["bad_ext"], [])),
        ((None, "营业执照.JPEG", 1000), ([], [])),
        ((None, "scan.v2.PNG", 1000), ([], [])),
        ((pdf, "营业执照.pdf", None), ([], [])),
    ]
    for (data, name, size), (problems, advice) in cases:
        result = precheck(kb, data, name, size)
        assert [code for code, _ in result.problems] == problems and result.advice == advice, (name, result)
        assert result.ok == (not problems)
    big = precheck(kb, None, "申请书.pdf", 3_000_001)
    assert big.problems[0][1] == {"size": "3.0", "limit": 3} and big.limit_bytes == 3_000_000


def test_the_librarys_errors_are_logged_as_one_line_and_ours_with_their_traceback():
    """Network errors from python-telegram-bot are events an operator reads as one line; a bug in
    our code keeps its traceback."""
    import io

    from telegram.error import NetworkError

    stream = io.StringIO()
    handler = setup_logging("123456789:AAE-secret_half_of_the_bot_token-xy", stream=stream)
    try:
        for logger, exc in ((logging.getLogger("telegram.ext.Updater"), NetworkError("Bad Gateway")),
                            (logging.getLogger("eport_guide.bot"), NetworkError("proxy refused")),
                            (logging.getLogger("eport_guide.bot"), KeyError("planted"))):
            try:
                raise exc
            except Exception:
                logger.exception("polling failed")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("polling failed (NetworkError: Bad Gateway)")
    assert lines[1].endswith("polling failed (NetworkError: proxy refused)")
    assert lines[2].endswith("polling failed") and "Traceback" in lines[3] and "KeyError: 'planted'" in lines[-1]


def test_a_choice_made_right_after_the_cli_deleted_the_user_is_kept(tmp_path):
    """The bot remembers a visit for a minute; `eport-guide forget` (another process) deletes the row
    meanwhile; the user then picks a language or turns reminders off: it must be stored, not lost."""
    bot_store, cli_store = Store(tmp_path / "l.db"), Store(tmp_path / "l.db")
    try:
        bot_store.touch_user(5, "zh-hans")
        assert cli_store.forget_user(5) >= 1
        bot_store.set_language(5, "ru")
        assert bot_store.get_language(5) == "ru" and cli_store.get_language(5) == "ru"
        bot_store.touch_user(6, "zh-hans")
        cli_store.forget_user(6)
        bot_store.set_setting(6, "reminders", False)  # /settings → 🔔 off, in the same minute
        assert cli_store.get_setting(6, "reminders", True) is False
    finally:
        bot_store.close()
        cli_store.close()


def test_a_suggestion_button_is_named_after_what_it_opens(plain_guide):
    """The "did you mean" buttons: each kind of screen by its own name, in the reader's language
    where there is a translation; an unknown route falls back to the main menu."""
    from dialogs.engine import Context
    from dialogs.features.answers import route_label

    en, zh = Context(lang="en"), Context(lang="zh")
    expected = {
        "topic:unlock": ("解锁", "解锁"), "category:reissue": ("补办业务", "补办业务"),
        "material:org_cert": ("市场主体资格证明材料", "市场主体资格证明材料"),
        "fact:hotline": ("满洲里制卡中心客服热线", "满洲里制卡中心客服热线"),
        "answer:js_seal_ink": ("Seal in ink, never photocopied〔Jiangsu only〕", "用印泥盖章、公章不得复印〔仅适用于江苏省〕"),
        "walk:login": ("登录系统（logging in）", "登录系统"), "city:通辽": ("📍 通辽", "📍 通辽"),
        "offices": ("📍 Offices and phones", "📍 办理地点与电话"), "online": ("🌐 Apply online", "🌐 网上办理"),
        "category:unlock": ("🏠 Main menu", "🏠 主菜单"), "material:unlock": ("🏠 Main menu", "🏠 主菜单"),
        "fact:unlock": ("🏠 Main menu", "🏠 主菜单"), "walk:nope": ("🏠 Main menu", "🏠 主菜单"),
        "topic:hotline": ("🏠 Main menu", "🏠 主菜单"), "answer:unlock": ("🏠 Main menu", "🏠 主菜单"),
    }
    for route, (in_english, in_chinese) in expected.items():
        assert (route_label(plain_guide, route, en), route_label(plain_guide, route, zh)) == (in_english, in_chinese), route


async def test_the_admin_reads_a_failed_reload_as_a_list_and_a_count_of_the_rest(fake, tmp_path, knowledge_copy,
                                                                                 monkeypatch):
    """37 problems: as many as fit as a preformatted list (not raw tags), then how many are not shown."""
    answers = knowledge_copy / "answers.yaml"
    answers.write_text(answers.read_text(encoding="utf-8").replace("电子口岸", "电子口案"), encoding="utf-8")
    async with running_bot(fake, tmp_path / "rl.db", admins=frozenset({9})):
        monkeypatch.setenv("EPORT_GUIDE_KNOWLEDGE", str(knowledge_copy))  # what /reload reads
        admin = fake.user(id=9)
        await admin.send("/reload", wait=False)
        await fake.wait_for(lambda: any("继续使用原资料" in m.plain for m in admin.messages), timeout=20, what="the answer")
        refused = admin.last
    assert "（37 处）" in refused.plain and "<pre>" not in refused.plain and "<pre>" in refused.text
    shown = refused.plain.count("answers.yaml:")
    assert 10 < shown < 37 and refused.plain.rstrip().endswith(f"… 还有 {37 - shown} 条")


async def test_commands_the_bot_does_not_know_are_not_answered_in_groups(fake, bot_app):
    group, user = fake.group(), fake.user(id=88)
    assert await group.send(user, "/nonsense") is None
    assert "未知命令" in (await user.send("/nonsense")).plain


def test_the_statistics_count_every_user(tmp_path):
    """Two users finished the same list, two liked it and one did not: the admin reads 2 / 2 and 2 / 1."""
    store = Store(tmp_path / "s.db")
    try:
        for uid in (1, 2, 3):
            store.touch_user(uid, "zh-hans")
            store.open_checklist(uid, "unlock")
        for uid in (1, 2):
            for item in ("a", "b"):
                store.tick(uid, "unlock", item, True)
        for uid, vote in ((1, 1), (2, 1), (3, -1)):
            store.add_feedback(uid, "unlock", vote)
        stats = store.stats(items_per_topic={"unlock": 2})
    finally:
        store.close()
    assert stats["checklists"]["unlock"] == {"started": 3, "completed": 2}
    assert stats["feedback"]["unlock"] == {"up": 2, "down": 1}


def test_one_wrong_character_in_a_known_word_is_corrected(plain_guide):
    """Typed on a phone: a look-alike or neighbouring character in a word of the documents."""
    analyzer = plain_guide.engine.matcher.analyzer
    corrected = {"营业执招": "营业执照", "操作员卡注消": "操作员卡注销", "丢失补力": "丢失补办",
                 "变更法定代表仁": "变更法定代表人", "营业执招要盖章吗": "营业执照要盖章吗"}
    for typed, meant in corrected.items():
        assert analyzer.fix_typo(typed) == meant, typed
    for right in ("卡丢了怎么办", "证书延期", "营业执照", "变更法定代表人"):
        assert analyzer.fix_typo(right) == right


def test_dates_are_read_the_way_people_type_them():
    from dialogs.features.reminders import parse_date

    today = dt.date(2026, 11, 30)
    for typed in ("今天", "今日", "today", "Сегодня", " 今天。", "today."):
        assert parse_date(typed, today) == today, typed
    for typed in ("昨天", "yesterday", "вчера", "Yesterday."):
        assert parse_date(typed, today) == dt.date(2026, 11, 29), typed
    for typed in ("2026-12-01。", "2026-12-01.", " 2026-12-01 ", "2026/12/01", "12月1日", "01.12.2026"):
        assert parse_date(typed, today) == dt.date(2026, 12, 1), typed
