"""Help-desk toolkit: inline answers, deep links and QR codes, office finder, feedback, admin."""

from __future__ import annotations


import pytest

from dialogs.links import deep_link, qr_matrix, write_qr_png

from .conftest import running_bot, shipped_knowledge
from .fake_telegram import BOT_USERNAME


def read_qr_png(path, box_size: int = 8) -> list[list[bool]]:
    """Read back the module matrix of a PNG written by ``write_qr_png`` (the centre of each box)."""
    import png

    width, height, rows, info = png.Reader(filename=str(path)).read()
    planes = info["planes"]
    half = (2 ** info["bitdepth"]) / 2  # dark pixels are below half the maximum value
    pixels = [list(r) for r in rows]
    matrix = []
    for by in range(height // box_size):
        row = pixels[by * box_size + box_size // 2]
        matrix.append([row[(bx * box_size + box_size // 2) * planes] < half for bx in range(width // box_size)])
    return matrix


TOPICS = list(shipped_knowledge().businesses)


async def test_inline_query_offers_matching_answers_with_a_deep_link(fake, bot_app):
    answer = await fake.user().inline_query("丢失")
    assert answer["answered"]
    (first, *_) = answer["results"]
    assert first["title"] == "丢失补办"
    content = first["input_message_content"]["message_text"]
    assert "同意办理电子口岸制发卡业务" in content and "0470-2299089" in content and "满洲里市东五道街75号" in content
    button = first["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == f"https://t.me/{BOT_USERNAME}?start=reissue_lost"


async def test_inline_city_and_empty_query(fake, bot_app):
    user = fake.user()
    city = await user.inline_query("通辽在哪")
    assert (
        city["results"][0]["title"] == "📍 通辽" and "0475-8235577" in city["results"][0]["input_message_content"]["message_text"]
    )
    # the most viewed topic comes first for an empty query
    await user.send("/start unlock")
    await user.send("/start unlock")
    empty = await user.inline_query("")
    assert empty["results"][0]["title"] == "解锁" and len(empty["results"]) >= 3


async def test_an_empty_inline_query_never_repeats_a_result_when_early_topics_are_popular(fake, bot_app):
    """Telegram refuses a whole answer with a repeated result id (the fake does too)."""
    kb = bot_app.bot_data["guide"].kb
    early = list(kb.businesses)[:3]  # topics the plain list shows anyway
    user = fake.user(id=556)
    for n, topic in enumerate(early):
        for _ in range(len(early) - n):
            await user.send(f"/start {topic}")
    empty = await user.inline_query("")
    ids = [r["id"] for r in empty.get("results", [])]
    assert empty["answered"] and len(ids) == len(set(ids))
    assert [r["title"] for r in empty["results"][:3]] == [kb.businesses[t].name for t in early]  # the most viewed first


async def test_inline_answers_carry_no_personal_data(fake, bot_app):
    user = fake.user(id=555)
    answer = await user.send("/start unlock")
    await user.click(answer, "📋 加入清单")
    await user.click(user.last, "☐ 经办人身份证明材料")
    await user.click(user.last, "☐ 经办人·复印件")
    result = (await user.inline_query("解锁"))["results"][0]
    text = result["input_message_content"]["message_text"]
    assert "✅" not in text and "555" not in text and "进度" not in text


@pytest.mark.parametrize("topic", TOPICS)
async def test_deep_links_open_every_topic(fake, bot_app, topic):
    reply = await fake.user().send(f"/start {topic}")
    assert bot_app.bot_data["guide"].kb.businesses[topic].name in reply.plain
    assert deep_link(BOT_USERNAME, topic) == f"https://t.me/{BOT_USERNAME}?start={topic}"


async def test_share_button_uses_switch_inline_query(fake, bot_app):
    reply = await fake.user().send("/start unlock")
    share = next(b for b in reply.buttons if b["text"] == "📤 分享")
    assert share["switch_inline_query"] == "解锁"


async def test_office_finder_by_city(fake, bot_app):
    user = fake.user()
    offices = await user.send("/offices")
    assert [label.split("（")[0] for label in offices.labels[:5]] == ["满洲里", "呼伦贝尔", "赤峰", "通辽", "乌兰浩特"]
    await user.click(offices, "呼伦贝尔")
    text = offices.plain
    assert "海拉尔区伊敏大街44号" in text and "0470-8551635" in text and "+86 470 8551635" in text and "共享盾" in text
    assert "uri.amap.com/search?keyword=" in offices.text  # a map search built from the address
    typed = await user.send("兴安盟")
    assert "乌兰浩特市兴安南路21号" in typed.plain and "0482-3981570" in typed.plain
    typed = await user.send("海拉尔")
    assert "中国建设银行呼伦贝尔市海拉尔区河东支行" in typed.plain


async def test_feedback_in_telegram(fake, bot_app):
    user = fake.user(id=77)
    answer = await user.send("/start renew_cert")
    await user.click(answer, "⋯ 更多")
    await user.click(answer, "👎 没帮助")
    assert "请用一句话说明" in answer.plain
    reply = await user.send("不知道证书什么时候到期")
    assert "您的意见已记录" in reply.plain
    store = bot_app.bot_data["guide"].store
    assert store.conn.execute("SELECT vote, reason FROM feedback WHERE user_id = 77").fetchall() == [
        (-1, "不知道证书什么时候到期")
    ]


async def test_the_question_why_an_answer_did_not_help_survives_a_restart(fake, tmp_path):
    db = tmp_path / "why.db"
    user = fake.user(id=78)
    async with running_bot(fake, db):
        answer = await user.send("/start renew_cert")
        await user.click(answer, "⋯ 更多")
        await user.click(answer, "👎 没帮助")
        assert "请用一句话说明" in answer.plain
    async with running_bot(fake, db) as app:  # a new application on the same database
        reply = await user.send("不知道证书什么时候到期")
        assert "您的意见已记录" in reply.plain
        store = app.bot_data["guide"].store
        assert store.conn.execute("SELECT vote, reason FROM feedback WHERE user_id = 78").fetchall() == [
            (-1, "不知道证书什么时候到期")
        ]


async def test_admin_stats_and_reload(fake, tmp_path, knowledge_copy, monkeypatch):
    async with running_bot(fake, tmp_path / "a.db", admins=frozenset({9})):
        admin, other = fake.user(id=9), fake.user(id=10)
        await other.send("/start unlock")
        await other.send("签证怎么办")
        stats = await admin.send("/stats")
        assert "用户总数：2" in stats.plain and "解锁：1" in stats.plain and "1× 签证怎么办" in stats.plain
        denied = await other.send("/stats")
        assert "未知命令" in denied.plain and "用户总数" not in denied.plain
        assert "未知命令" in (await other.send("/reload")).plain
        # a broken knowledge copy: the old knowledge stays live and the admin sees file and line
        f = knowledge_copy / "offices.yaml"
        f.write_text(f.read_text(encoding="utf-8").replace("0470-6231859", "0470-6231850", 1), encoding="utf-8")
        monkeypatch.setenv("EPORT_GUIDE_KNOWLEDGE", str(knowledge_copy))

        async def reload():  # the knowledge loads in a thread: wait for the answer itself
            before = len(admin.messages)
            await admin.send("/reload", wait=False)
            await fake.wait_for(lambda: len(admin.messages) > before, timeout=20, what="the /reload answer")
            return admin.last

        refused = await reload()
        assert "继续使用原资料" in refused.plain and "offices.yaml:" in refused.plain and "phones_as_written" in refused.plain
        assert "0470-6231859" in (await other.send("国贸支行电话")).plain
        f.write_text(f.read_text(encoding="utf-8").replace("0470-6231850", "0470-6231859", 1), encoding="utf-8")
        assert "已重新载入资料" in (await reload()).plain


def test_qr_codes_decode_back_to_the_link(tmp_path):
    link = deep_link("eport_bot", "reissue_lost")
    png = write_qr_png(link, tmp_path / "q.png")
    assert read_qr_png(png) == qr_matrix(link)
    assert read_qr_png(png) != qr_matrix(deep_link("eport_bot", "reissue_expired"))


@pytest.fixture
def cli(eport_guide):
    return lambda *args, env=None: eport_guide(*args, env={"EPORT_GUIDE_BOT_USERNAME": "eport_bot", **(env or {})})


def test_link_and_links_commands(cli, tmp_path):
    r = cli("link", "unlock", "--qr", str(tmp_path / "u.png"))
    assert r.returncode == 0 and r.stdout.strip() == "https://t.me/eport_bot?start=unlock"
    assert read_qr_png(tmp_path / "u.png") == qr_matrix("https://t.me/eport_bot?start=unlock")
    assert cli("link", "nope").returncode == 2
    r = cli("links", "--out", str(tmp_path / "sheet"))
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == len(TOPICS)
    sheet = (tmp_path / "sheet" / "index.html").read_text(encoding="utf-8")
    for topic in TOPICS:
        assert (tmp_path / "sheet" / f"{topic}.png").exists() and f"?start={topic}" in sheet
    assert "丢失补办" in sheet
    no_name = cli("link", "unlock", env={"EPORT_GUIDE_BOT_USERNAME": "", "TELEGRAM_BOT_TOKEN": ""})
    assert no_name.returncode == 2 and "EPORT_GUIDE_BOT_USERNAME" in no_name.stderr


async def test_link_asks_telegram_for_the_username(fake, eport_guide):
    env = {"EPORT_GUIDE_BOT_USERNAME": "", "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
    link = await eport_guide.beside_the_loop("link", "unlock", env=env)
    assert link.returncode == 0, link.stderr
    assert link.stdout.strip() == f"https://t.me/{BOT_USERNAME}?start=unlock"


def test_stats_and_stale_commands(cli, tmp_path, knowledge_copy):
    from dialogs.store import Store

    db = tmp_path / "s.db"
    Store(db).close()  # an existing, empty database (a missing one is refused)
    r = cli("stats", "--db", str(db))
    assert r.returncode == 0 and "用户总数：0" in r.stdout
    f = knowledge_copy / "offices.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("verified_on: 2026-11-24", "verified_on: 2020-01-01", 1), encoding="utf-8")
    r = cli("stale", env={"EPORT_GUIDE_KNOWLEDGE": str(knowledge_copy)})
    assert r.returncode == 0 and "office" in r.stdout and "mzl_center" in r.stdout and "2020-01-01" in r.stdout
