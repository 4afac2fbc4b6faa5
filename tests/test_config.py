"""One validated configuration for every command, as an operator meets it at the shell."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli

from .conftest import first_page, run_cli
from bot.settings import Settings, SettingsError

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:" + "a" * 35


main = run_cli


@pytest.fixture
def db(tmp_path):
    from dialogs.store import Store

    path = tmp_path / "existing.db"
    Store(path).close()
    return path


MALFORMED = [
    ("EPORT_GUIDE_ADMINS", "zz"),
    ("EPORT_GUIDE_ADMINS", "12,abc"),
    ("EPORT_GUIDE_ADMINS", "١٢٣"),  # Arabic-Indic digits: str.isdigit() says yes, Telegram ids are ASCII
    ("EPORT_GUIDE_ADMINS", "-5"),
    ("EPORT_GUIDE_RETENTION_DAYS", "x"),
    ("EPORT_GUIDE_RETENTION_DAYS", "0"),
    ("EPORT_GUIDE_RETENTION_DAYS", "99999999999999999999999"),  # would overflow the date arithmetic
    ("EPORT_GUIDE_RETENTION_DAYS", "36501"),
    ("EPORT_GUIDE_STALE_DAYS", "３０"),  # full-width digits
    ("EPORT_GUIDE_BOT_USERNAME", "eport_guide"),  # not a bot's name
    ("EPORT_GUIDE_BOT_USERNAME", "@1bot_bot"),
    ("EPORT_GUIDE_BOT_USERNAME", "ab-cd_bot"),
    ("TELEGRAM_BOT_TOKEN", "not-a-token"),
    ("TELEGRAM_PROXY", "ftp://proxy:21"),
    ("TELEGRAM_PROXY", "socks5://"),
    ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot"),
    ("EPORT_GUIDE_PORT", "70000"),
    ("EPORT_GUIDE_WEBHOOK_URL", "http://bot.example.org/telegram"),
    ("EPORT_GUIDE_WEBHOOK_SECRET", "has spaces"),
    ("EPORT_GUIDE_KNOWLEDGE", "/no/such/directory"),
    ("EPORT_GUIDE_WEB_URL", "guide.example.org"),
    ("EPORT_GUIDE_WEB_URL", "ftp://guide.example.org"),
    ("EPORT_GUIDE_WEB_URL", "https://guide.example.org/?lang=ru"),
    ("EPORT_GUIDE_WEB_PORT", "0"),
    ("EPORT_GUIDE_WEB_PORT", "web"),
    ("EPORT_WEB_TRUSTED_PROXIES", "-1"),
    ("EPORT_WEB_TRUSTED_PROXIES", "yes"),
    ("EPORT_WEB_TRUSTED_PROXIES", "11"),
    ("EPORT_WEB_TRUSTED_PROXIES", "１"),
]


@pytest.mark.parametrize("command", [("chat",), ("stats",), ("show", "unlock")])
@pytest.mark.parametrize("name,value", MALFORMED)
def test_a_malformed_variable_exits_2_with_one_line_naming_it(monkeypatch, capsys, db, command, name, value):
    code, out, err = main(monkeypatch, capsys, *command, env={name: value, "EPORT_GUIDE_DB": str(db)})
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and name in err and "Traceback" not in err


def test_malformed_configuration_from_a_real_process_is_one_line(db):
    env = {**os.environ, "EPORT_GUIDE_DB": str(db), "EPORT_GUIDE_RETENTION_DAYS": "x"}
    for args in (["chat"], ["stats"]):
        r = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], input="", capture_output=True, text=True, timeout=60, env=env
        )
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.strip() == (
            "eport-guide: EPORT_GUIDE_RETENTION_DAYS must be a whole number of days from 1 to 36500, not 'x'"
        )


def test_well_formed_values_are_accepted(monkeypatch):
    for key, value in {
        "EPORT_GUIDE_ADMINS": " 12, 34;56 ",
        "EPORT_GUIDE_BOT_USERNAME": "@Eport_Guide_Bot",
        "EPORT_GUIDE_RETENTION_DAYS": "36500",
        "TELEGRAM_PROXY": "socks5h://user:pw@10.0.0.2:1080",
        "EPORT_GUIDE_STALE_DAYS": "",
        "EPORT_GUIDE_PORT": "8443",
    }.items():
        monkeypatch.setenv(key, value)
    s = Settings.from_env()
    assert s.admins == {12, 34, 56} and s.bot_username == "Eport_Guide_Bot" and s.retention_days == 36500
    assert s.proxy == "socks5h://user:pw@10.0.0.2:1080" and s.stale_days == 180 and s.port == 8443


def test_a_flag_overrides_its_variable_and_is_named_when_wrong(monkeypatch, tmp_path):
    monkeypatch.setenv("EPORT_GUIDE_DB", "from-env.db")
    assert Settings.from_env(db_path=str(tmp_path / "flag.db")).db_path == str(tmp_path / "flag.db")
    with pytest.raises(SettingsError, match=r"^--db must be the path of an SQLite file"):
        Settings.from_env(db_path=str(tmp_path))
    with pytest.raises(SettingsError, match=r"^--port must be a TCP port"):
        Settings.from_env(port="http")
    with pytest.raises(SettingsError, match=r"^--port must be a TCP port"):
        Settings.from_env(web_port="99999")
    monkeypatch.setenv("EPORT_GUIDE_WEB_PORT", "9000")
    assert Settings.from_env(web_port="8181").web_port == 8181 and Settings.from_env().web_port == 9000
    assert Settings.from_env(web_url="https://guide.example.org/").web_url == "https://guide.example.org"


@pytest.mark.parametrize(
    "command",
    [
        ("stats",),
        ("forget", "--user", "123"),
        ("checklist", "--user", "123"),
        ("backup", "copy.db"),
        ("health",),
    ],
)
def test_data_commands_refuse_a_database_that_does_not_exist(monkeypatch, capsys, tmp_path, command):
    typo = tmp_path / "data" / "eport-gude.db"
    monkeypatch.chdir(tmp_path)
    code, out, err = main(monkeypatch, capsys, *command, "--db", str(typo))
    assert code in (1, 2) and "does not exist" in (err + out)
    assert not typo.exists() and not typo.parent.exists()  # nothing was created
    if command[0] != "health":
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_forget_on_an_existing_database_still_works(monkeypatch, capsys, db):
    code, out, _ = main(monkeypatch, capsys, "forget", "--user", "123", "--db", str(db))
    assert code == 0 and "deleted 0 row(s) about user 123" in out


def test_stats_honours_the_stale_days_variable(monkeypatch, capsys, db):
    _, default, _ = main(monkeypatch, capsys, "stats", "--db", str(db))
    assert "超过 180 天" in default
    _, one_day, _ = main(monkeypatch, capsys, "stats", "--db", str(db), env={"EPORT_GUIDE_STALE_DAYS": "1"})
    stale = one_day.split("需要重新核对的资料（超过 1 天）", 1)[1]
    _, listed, _ = main(monkeypatch, capsys, "stale", "--days", "1")
    assert "无" not in stale.splitlines()[1] and len(listed.splitlines()) > 1


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"eport-guide \d+\.\d+\.\d+\n", capsys.readouterr().out)


@pytest.mark.parametrize("command", ["show", "ask", "offices", "chat", "checklist"])
def test_lang_offers_its_choices_and_refuses_others(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--lang", "de", *(["unlock"] if command == "show" else [])])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "invalid choice: 'de'" in err and "'zh', 'ru', 'en'" in err
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    assert "{zh,ru,en}" in capsys.readouterr().out


def test_every_option_of_every_command_is_explained():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"run", "health", "backup", "stats", "forget", "checklist", "stale", "chat"} <= set(subparsers.choices)
    for name, sub in subparsers.choices.items():
        assert sub.description, name
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and len(action.help) > 10, f"{name} {action.dest} has no help"


def test_run_help_names_the_variables_each_flag_overrides(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for flag, variable in [
        ("--webhook-url", "EPORT_GUIDE_WEBHOOK_URL"),
        ("--secret-token", "EPORT_GUIDE_WEBHOOK_SECRET"),
        ("--db", "EPORT_GUIDE_DB"),
        ("--port", "EPORT_GUIDE_PORT"),
    ]:
        assert flag in out and variable in out


def test_readme_documents_every_variable_with_its_default():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([A-Z_]+)` \|[^|]*\| ([^|]+) \|$", table, re.M)}
    assert set(rows) == {field.validation_alias for field in Settings.model_fields.values()}
    for name, default in rows.items():
        assert default.strip(), f"{name} has no default in the README table"


@pytest.mark.parametrize("days", ["0", "-5", "36501", "99999999999", "x"])
def test_stale_days_flag_is_bounded_like_the_variable(capsys, days):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stale", "--days", days])
    assert exit_.value.code == 2 and "--days: must be a whole number of days from 1 to 36500" in capsys.readouterr().err


# -- secrets in configuration errors -----------------------------------------------------------
PASSWORD = "S3cretPw9"
# a malformed TELEGRAM_PROXY in every shape an operator can get wrong, each with a password in it;
# (value, what the line must say about the problem)
MALFORMED_PROXIES = [
    (f"socks5://eport:{PASSWORD}@127.0.0.1:99999", "malformed port"),  # port out of range
    (f"socks5://eport:{PASSWORD}@127.0.0.1:10x80", "malformed port"),  # not a number
    (f"ftp://eport:{PASSWORD}@proxy.internal:21", "must be an http://"),  # wrong scheme
    (f"socks5://eport:{PASSWORD}@", "must be an http://"),  # no host
    (f"socks5://eport:{PASSWORD}@:1080", "must be an http://"),  # no host, a port
    (f"http://eport:{PASSWORD}@[::1:3128", "not a well-formed address"),  # unclosed IPv6 bracket
    (f"eport:{PASSWORD}@127.0.0.1:1080", "must be an http://"),  # no scheme
    (f"garbage eport {PASSWORD}", "must be an http://"),  # garbage
    (f"socks5://eport:{PASSWORD}@with@at@127.0.0.1:99999", "malformed port"),  # an unescaped @ in the password
]
SECRET_FREE_LINE = re.compile(r"^eport-guide: TELEGRAM_PROXY [^\n]+\n$")


@pytest.mark.parametrize("command", [("chat",), ("stats",), ("run",), ("health", "--online"), ("link", "unlock")])
@pytest.mark.parametrize("value,problem", MALFORMED_PROXIES)
def test_a_malformed_proxy_is_named_without_its_password(monkeypatch, capsys, db, command, value, problem):
    code, out, err = main(
        monkeypatch, capsys, *command, env={"TELEGRAM_PROXY": value, "EPORT_GUIDE_DB": str(db), "TELEGRAM_BOT_TOKEN": TOKEN}
    )
    assert code == 2 and out == "" and SECRET_FREE_LINE.match(err), err
    assert problem in err
    assert PASSWORD not in err and TOKEN.split(":")[1] not in err and "input_value" not in err


def test_a_malformed_proxy_in_a_real_process_shows_the_address_with_the_credentials_masked(db):
    for value, problem in MALFORMED_PROXIES:
        env = {**os.environ, "EPORT_GUIDE_DB": str(db), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_PROXY": value}
        r = subprocess.run([sys.executable, "-m", "bot.cli", "run"], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 2 and r.stdout == "" and SECRET_FREE_LINE.match(r.stderr), r.stderr
        assert problem in r.stderr and PASSWORD not in r.stderr and TOKEN.split(":")[1] not in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        capture_output=True,
        text=True,
        timeout=60,
        input="",
        env={**os.environ, "EPORT_GUIDE_DB": str(db), "TELEGRAM_PROXY": f"socks5://eport:{PASSWORD}@127.0.0.1:99999"},
    )
    assert r.stderr == (
        "eport-guide: TELEGRAM_PROXY has a malformed port (a number from 1 to 65535 after the host), "
        "not 'socks5://***@127.0.0.1:99999'\n"
    )


@pytest.mark.parametrize(
    "name,value,secret",
    [
        ("EPORT_GUIDE_WEBHOOK_SECRET", "Webhook Secret With Spaces", "Webhook Secret"),
        ("EPORT_GUIDE_WEBHOOK_SECRET", "WebhookSecret!" + "x" * 300, "WebhookSecret"),
        ("TELEGRAM_BOT_TOKEN", "123456789:ShortSecretHalf", "ShortSecretHalf"),
        ("TELEGRAM_API_BASE_URL", f"ftp://admin:{PASSWORD}@bot-api.internal/bot", PASSWORD),
        ("EPORT_GUIDE_WEBHOOK_URL", f"https://hook:{PASSWORD}@bot.example.org:9999/telegram", PASSWORD),
        ("EPORT_GUIDE_WEB_URL", f"https://web:{PASSWORD}@guide.example.org/?x=1", PASSWORD),
    ],
)
def test_no_secret_in_the_configuration_error_of_any_variable(monkeypatch, capsys, db, name, value, secret):
    code, out, err = main(monkeypatch, capsys, "stats", env={name: value, "EPORT_GUIDE_DB": str(db)})
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and name in err
    assert secret not in err and "input_value" not in err


def test_web_ignores_the_telegram_settings_it_does_not_use(monkeypatch):
    from bot.settings import TELEGRAM_ONLY

    for field in TELEGRAM_ONLY:
        monkeypatch.setenv(Settings.model_fields[field].validation_alias, "garbage value")
    monkeypatch.setenv("EPORT_GUIDE_WEB_PORT", "8181")
    web = cli.load_settings(cli.build_parser().parse_args(["web"]))
    assert web.proxy is None and web.token is None and web.web_port == 8181
    with pytest.raises(cli.UsageError, match="^TELEGRAM_"):
        cli.load_settings(cli.build_parser().parse_args(["stats"]))  # every other command still refuses them
    monkeypatch.setenv("EPORT_GUIDE_WEB_PORT", "0")
    with pytest.raises(cli.UsageError, match="^EPORT_GUIDE_WEB_PORT"):
        cli.load_settings(cli.build_parser().parse_args(["web"]))  # its own variables are checked


def test_web_starts_with_a_malformed_proxy_in_the_environment(tmp_path):
    import signal
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "EPORT_GUIDE_DB": str(tmp_path / "w.db"),
        "TELEGRAM_PROXY": f"socks5://eport:{PASSWORD}@127.0.0.1:99999",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = first_page(proc, f"http://127.0.0.1:{port}/t/unlock")
        assert page.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and PASSWORD not in err and "TELEGRAM_PROXY" not in err
