"""The command line and its output: the console chat's quit words, user ids, forget, stale, stats, the
knowledge directory, and nothing printed or logged ever carries a secret.

Each test here once caught a deliberately planted one-line bug the rest of the suite let through.
"""

from __future__ import annotations

import logging

import pytest

from bot.logs import setup_logging
from dialogs.store import Store

from .conftest import run_cli


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


def test_forget_on_the_command_line_deletes_the_users_rows(monkeypatch, capsys, tmp_path):
    from dialogs.engine import Context, callback_data
    from dialogs.guide import build_guide

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


def test_stale_lists_the_records_older_than_the_limit(monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "stale", "--days", "1")
    assert code == 0 and "verified 2026-11-24" in out and "source" in out
    code, out, _ = run_cli(monkeypatch, capsys, "stale", "--days", "36500")
    assert code == 0 and out.strip() == "no knowledge record is older than 36500 days"


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


# -- the command line, in-process (mutation testing sees only in-process calls) ----------------------
def test_run_never_prints_the_token_the_webhook_secret_or_the_proxy_password(monkeypatch, capsys, tmp_path):
    import bot.app

    token, secret, password = "123456789:AAE-secret_half_of_the_bot_token-xy", "webhook-secret-8c1f", "proxy-pa55word"

    def fake_run(settings, web=False):
        logging.getLogger("eport_guide").error(
            "starting with %s, half %s, webhook %s, proxy %s",
            settings.token,
            token.split(":", 1)[1],
            settings.webhook_secret,
            settings.proxy,
        )
        return 0

    monkeypatch.setattr(bot.app, "run", fake_run)
    env = {
        "TELEGRAM_BOT_TOKEN": token,
        "EPORT_GUIDE_WEBHOOK_URL": "https://guide.example.org/hook",
        "EPORT_GUIDE_WEBHOOK_SECRET": secret,
        "TELEGRAM_PROXY": f"http://user:{password}@127.0.0.1:3128",
        "EPORT_GUIDE_DB": str(tmp_path / "run.db"),
    }
    try:
        code, out, err = run_cli(monkeypatch, capsys, "run", env=env)
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_eport_guide", False)]:
            root.removeHandler(handler)
    assert code == 0 and "starting with <token>" in err, err
    for leaked in (token, token.split(":", 1)[1], secret, password):
        assert leaked not in err + out


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
    env = {
        "TELEGRAM_BOT_TOKEN": token,
        "EPORT_GUIDE_WEBHOOK_SECRET": secret,
        "TELEGRAM_PROXY": f"http://user:{password}@127.0.0.1:3128",
        "EPORT_GUIDE_DB": str(tmp_path / "r.db"),
    }
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


def test_the_librarys_errors_are_logged_as_one_line_and_ours_with_their_traceback():
    """Network errors from python-telegram-bot are events an operator reads as one line; a bug in
    our code keeps its traceback."""
    import io

    from telegram.error import NetworkError

    stream = io.StringIO()
    handler = setup_logging("123456789:AAE-secret_half_of_the_bot_token-xy", stream=stream)
    try:
        for logger, exc in (
            (logging.getLogger("telegram.ext.Updater"), NetworkError("Bad Gateway")),
            (logging.getLogger("eport_guide.bot"), NetworkError("proxy refused")),
            (logging.getLogger("eport_guide.bot"), KeyError("planted")),
        ):
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
