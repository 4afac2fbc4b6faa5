"""The eport-guide command, as a user at a terminal runs it.

The commands run in this process (``bot.cli.main``, what the ``eport-guide`` script calls, with the
output, input and exit code a terminal sees); the entry point itself, piped input and the exit at
its end are checked in a real process (``real``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest


def real(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m bot.cli ARGS` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "EPORT_GUIDE_DB": os.path.join(tempfile.mkdtemp(), "cli.db"), **(env or {})},
    )


@pytest.fixture
def run(eport_guide, tmp_path):
    """`eport-guide ARGS` in this process, on a database of its own."""
    return lambda *args, env=None, stdin=None: eport_guide(
        *args, env={"EPORT_GUIDE_DB": str(tmp_path / "cli.db"), **(env or {})}, stdin=stdin
    )


def test_show_reissue_lost(run):
    r = run("show", "reissue_lost")
    assert r.returncode == 0
    for needle in [
        "业务申请书",
        "市场主体资格证明材料",
        "法定代表人身份证明材料",
        "持卡人身份证明材料",
        "经办人身份证明材料",
        "加盖申请单位公章",
        "同意办理电子口岸制发卡业务",
        "同意使用本人信息办理电子口岸制发卡业务",
        "签名",
        "日期",
        "0470-2299089",
    ]:
        assert needle in r.stdout
    assert "<b>" not in r.stdout


def test_show_html(run):
    r = run("show", "unlock", "--html")
    assert r.returncode == 0 and "<b>解锁</b>" in r.stdout


@pytest.mark.parametrize("topic", ["nope", "", "REISSUE_LOST", "reissue_lost; rm -rf /"])
def test_show_unknown_topic_exits_2_with_the_known_topics(run, topic):
    r = run("show", topic)
    assert r.returncode == 2
    assert "unknown topic" in r.stderr and "reissue_lost" in r.stderr and "Traceback" not in r.stderr


def test_ask(run):
    r = run("ask", "通辽在哪里办")
    assert r.returncode == 0 and "中国建设银行通辽分行营业室" in r.stdout and "0475-8235577" in r.stdout


def test_ask_unsure_prints_suggestions(run):
    r = run("ask", "注销")
    assert r.returncode == 0 and "您是想问" in r.stdout and "• 注销法人卡证书" in r.stdout


@pytest.mark.parametrize("args", [("ask",), ("ask", ""), ("ask", "   ")])
def test_ask_empty_question_exits_2(run, args):
    r = run(*args)
    assert r.returncode == 2 and "empty question" in r.stderr


def test_offices_all_and_by_city(run):
    r = run("offices")
    assert r.returncode == 0
    for phone in [
        "0470-2299089",
        "0470-2299090",
        "0470-6231859",
        "0470-6221208",
        "18947604303",
        "0470-8551635",
        "0475-8235577",
        "0482-3981570",
    ]:
        assert phone in r.stdout
    hailar = run("offices", "海拉尔")
    assert (
        hailar.returncode == 0
        and "海拉尔区伊敏大街44号" in hailar.stdout
        and "通辽" not in hailar.stdout.split("☎️ 满洲里制卡中心客服热线")[0]
    )
    bad = run("offices", "北京")
    assert bad.returncode == 2 and "no office" in bad.stderr


def test_chat_piped_ends_cleanly_at_end_of_input():
    r = real("chat", stdin="1\n1\n")
    assert r.returncode == 0
    assert "> 1" in r.stdout and "企业首次办理电子口岸卡 · 新办业务" in r.stdout and r.stdout.rstrip().endswith("再见！")


def test_chat_start_topic_free_text_labels_and_bad_input(run):
    lines = ["/start reissue_lost", "🏠 主菜单", "法人换了怎么办", "99", "/nonsense", "x" * 10000, "/start nope", "/quit", "1"]
    r = run("chat", "--user", "7", stdin="\n".join(lines) + "\n")
    out = r.stdout
    assert r.returncode == 0
    assert "丢失补办 · 补办业务" in out
    assert "请选择要办理的业务" in out
    assert "变更法定代表人 · 变更业务" in out
    assert "没有编号为 99 的按钮" in out
    assert "未知命令 /nonsense" in out
    assert "未找到该业务" in out
    assert out.rstrip().endswith("再见！")  # /quit stops; the line after it is not read


def test_no_command_prints_help_and_exits_2():
    r = real()
    assert r.returncode == 2 and "check-knowledge" in r.stdout


def test_unusable_database_is_one_clear_line(run, tmp_path):
    bad = tmp_path / "junk.db"
    bad.write_bytes(b"not a database" * 100)
    r = run("chat", stdin="", env={"EPORT_GUIDE_DB": str(bad)})
    assert r.returncode == 2 and "cannot open the database" in r.stderr and "Traceback" not in r.stderr
