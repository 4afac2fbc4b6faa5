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

from .conftest import run_cli
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
        r = subprocess.run([sys.executable, "-m", "bot.cli", *args], input="", capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.strip() == ("eport-guide: EPORT_GUIDE_RETENTION_DAYS must be a whole number of days "
                                    "from 1 to 36500, not 'x'")


def test_well_formed_values_are_accepted(monkeypatch):
    for key, value in {"EPORT_GUIDE_ADMINS": " 12, 34;56 ", "EPORT_GUIDE_BOT_USERNAME": "@Eport_Guide_Bot",
                       "EPORT_GUIDE_RETENTION_DAYS": "36500", "TELEGRAM_PROXY": "socks5h://user:pw@10.0.0.2:1080",
                       "EPORT_GUIDE_STALE_DAYS": "", "EPORT_GUIDE_PORT": "8443"}.items():
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


@pytest.mark.parametrize("command", [
    ("stats",), ("forget", "--user", "123"), ("checklist", "--user", "123"), ("backup", "copy.db"), ("health",),
])
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
    for flag, variable in [("--webhook-url", "EPORT_GUIDE_WEBHOOK_URL"), ("--secret-token", "EPORT_GUIDE_WEBHOOK_SECRET"),
                           ("--db", "EPORT_GUIDE_DB"), ("--port", "EPORT_GUIDE_PORT")]:
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
