"""Learning from what was missed: staff see the unanswered questions and 👎 reasons grouped by
similarity, attach a group to the answer or business that answers it (`eport-guide teach`, the
admin screen under /stats), and after /reload the guide answers it — from a local knowledge
overlay beside the database that the validator checks and that only adds question forms."""

from __future__ import annotations

import hashlib

import pytest

from dialogs.engine import Context, callback_data
from dialogs.features.teach import group_missed
from dialogs.guide import build_guide
from knowledge import KnowledgeError, load_knowledge
from knowledge.loader import DEFAULT_DATA_DIR, PACKAGE_DIR
from knowledge.overlay import OVERLAY_FILE, apply_overlay, teach

from .conftest import run_cli, running_bot

USER = Context(user_id=5)
ADMIN = Context(user_id=9, admin=True)
RENAMED = "公司换了个牌子，口岸那边咋整"  # unanswered by the packaged knowledge (no word for a brand, 牌子)
RENAMED_TOO = "公司换了个新牌子，口岸那边咋整"  # a similar phrasing, logged too
RENAMED_LATER = "公司换了个牌子 口岸那边咋整啊"  # a phrasing nobody taught
PRICE = "do i need to reserve a slot"  # suggestions only: an appointment in these words is not recognised
PRICE_LATER = "Do I need to reserve a slot?"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "data" / "bot.db"


def ask(guide, question: str) -> str:
    return guide.engine.ask(USER, question).route


def snapshot_of_package() -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(PACKAGE_DIR.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_missed_questions_are_grouped_taught_and_answered_after_reload(db, kb, monkeypatch, capsys):
    db.parent.mkdir()
    guide = build_guide(db, kb=kb)
    for question in (RENAMED, RENAMED, RENAMED_TOO, PRICE, "签证怎么办"):
        assert ask(guide, question) == "suggest", question  # missed today: logged for staff
    code, out, _ = run_cli(monkeypatch, capsys, "unanswered", "--db", str(db))
    assert code == 0
    lines = out.splitlines()
    # the two phrasings of the renamed company are one group of three, most asked first, each counted
    assert lines[1] == f"  1. 3×  {RENAMED}" and f"        2× {RENAMED}" in lines and f"        1× {RENAMED_TOO}" in lines
    assert "  2. 1×  签证怎么办" in lines and f"  3. 1×  {PRICE}" in lines  # equally often: the newest first
    assert "5 missed question(s) in 3 group(s)" in lines[0]

    code, out, _ = run_cli(monkeypatch, capsys, "teach", RENAMED, "topic:change_name", "--db", str(db))
    assert code == 0 and "taught" in out and "变更单位名称" in out
    code, out, _ = run_cli(monkeypatch, capsys, "teach", PRICE, "answer:silent_appointment", "--db", str(db))
    assert code == 0 and "language en" in out
    assert ask(guide, RENAMED) == "suggest"  # the running guide answers as before until /reload
    guide.engine.reload(guide.load_knowledge())  # what /reload does
    for question in (RENAMED, RENAMED_LATER):
        assert ask(guide, question) == "topic:change_name", question
    for question in (PRICE, PRICE_LATER):
        assert ask(guide, question) == "answer:silent_appointment", question
    # what was taught is no longer waiting; the rest still is
    code, out, _ = run_cli(monkeypatch, capsys, "unanswered", "--db", str(db), "--limit", "5")
    assert RENAMED not in out and PRICE not in out and RENAMED_TOO in out and "签证怎么办" in out
    guide.close()


def test_the_overlay_lives_beside_the_database_and_survives_reinstalling(db, kb):
    db.parent.mkdir()
    package = snapshot_of_package()
    guide = build_guide(db, kb=kb)
    assert guide.overlay == db.parent / OVERLAY_FILE
    assert not guide.overlay.is_relative_to(PACKAGE_DIR.parent)  # not in the installed package
    teach(guide.overlay, guide.kb, [(RENAMED, "topic:change_name")])
    guide.close()
    assert snapshot_of_package() == package  # the package's files are not touched
    # a reinstalled package: fresh knowledge from its files, a fresh guide on the same database directory
    fresh = build_guide(db, kb=load_knowledge(DEFAULT_DATA_DIR))
    assert [t.question for t in fresh.kb.taught] == [RENAMED]
    assert ask(fresh, RENAMED_LATER) == "topic:change_name"
    fresh.close()
    # EPORT_GUIDE_OVERLAY puts it elsewhere
    from bot.settings import Settings

    elsewhere = db.parent / "kept" / "taught.yaml"
    moved = build_guide(db, kb=kb, settings=Settings(db_path=str(db), overlay_path=str(elsewhere)))
    assert moved.overlay == elsewhere and moved.kb.taught == ()
    moved.close()


def test_only_admins_can_see_and_teach(db, kb):
    db.parent.mkdir()
    guide = build_guide(db, kb=kb)
    ask(guide, RENAMED)
    ref = guide.engine.render("missed", ADMIN).all_buttons()[0].data.rsplit(":", 1)[1]
    forged = callback_data("teach", f"{ref}|topic:change_name")
    for ctx in (USER, Context(user_id=10, chat="group")):
        for data in (forged, callback_data("go", "missed"), callback_data("go", f"missed_group:{ref}")):
            screen = guide.engine.handle(ctx, data)
            assert screen.stale and screen.route == "main", data  # like a button that does not exist
    assert not guide.overlay.exists()
    # an admin, but in a group chat: nothing is taught there either
    in_group = guide.engine.handle(Context(user_id=9, admin=True, chat="group"), forged)
    assert in_group.route == "private_only" and not guide.overlay.exists()
    done = guide.engine.handle(ADMIN, forged)
    assert done.route == "missed" and "/reload" in done.text and guide.overlay.exists()
    guide.close()


def test_the_admin_screen_groups_the_missed_questions_and_teaches_a_group(db, kb):
    db.parent.mkdir()
    guide = build_guide(db, kb=kb)
    for question in (RENAMED, RENAMED_TOO, RENAMED, "签证怎么办"):
        ask(guide, question)
    guide.store.add_feedback(5, "reissue_lost", -1, "没写要带几份复印件")
    listing = guide.engine.render("missed", ADMIN)
    assert "1. 3× " + RENAMED + "（2 种问法）" in listing.text and "👎 丢失补办" in listing.text
    group = guide.engine.handle(ADMIN, listing.all_buttons()[0].data)
    assert f"2× {RENAMED}" in group.text and f"1× {RENAMED_TOO}" in group.text and "没能确定" in group.text
    # the guide's own guess is one tap; any business or answer is two
    assert [b.label for b in group.all_buttons()][0] == "✅ 变更单位名称"
    pick = guide.engine.handle(ADMIN, next(b.data for b in group.all_buttons() if b.label == "变更单位名称"))
    labels = [b.label for b in pick.all_buttons()]
    assert labels[0] == "✅ 变更单位名称" and "✅ 要带电子口岸卡介质" in labels
    done = guide.engine.handle(ADMIN, pick.all_buttons()[0].data)
    assert "已把 2 个问法归到“变更单位名称”" in done.text and RENAMED not in done.text
    assert "1× 签证怎么办" in done.text and "其中 2 个发送 /reload 后生效" in done.text
    guide.engine.reload(guide.load_knowledge())
    assert ask(guide, RENAMED_LATER) == "topic:change_name"
    guide.close()


def test_teaching_only_adds_question_forms(tmp_path, kb):
    overlay = tmp_path / OVERLAY_FILE
    teach(
        overlay,
        kb,
        [
            ("签注怎么写才对", "answer:org_annotation"),
            ("what do I write on the licence copy", "answer:org_annotation"),
            ("公司改名了卡要重新办吗", "topic:change_name"),
        ],
    )
    taught = apply_overlay(kb, overlay)
    for section in kb.data:
        if section in ("answers", "vocabulary"):
            continue
        assert taught.data[section] == kb.data[section], section  # annotations, materials, rules, offices, facts …
    for old, new in zip(kb.data["answers"], taught.data["answers"], strict=True):
        assert new.model_dump(exclude={"questions"}) == old.model_dump(exclude={"questions"})  # quotes, plain, title
        for lang in ("zh", "ru", "en"):
            before, after = getattr(old.questions, lang), getattr(new.questions, lang)
            assert after[: len(before)] == before
    org = taught.answers["org_annotation"].questions
    assert org.zh[-1] == "签注怎么写才对" and org.en[-1] == "what do I write on the licence copy"
    assert taught.data["vocabulary"][: len(kb.data["vocabulary"])] == kb.data["vocabulary"]
    assert [(v.target, v.terms) for v in taught.data["vocabulary"][len(kb.data["vocabulary"]) :]] == [
        ("topic:change_name", ["公司改名了卡要重新办吗"])
    ]


BAD_OVERLAYS = [
    ("  route: answer:no_such_answer\n", "questions[1].route", "unknown route 'answer:no_such_answer'"),
    ("  route: topic:change_nam\n", "questions[1].route", "no business 'change_nam'"),
    ("  route: fact:hotline\n", "questions[1].route", "answer:ID or topic:ID"),
    ("  route: answer:hotline\n  plain: 热线号码随便打\n", "questions[1].plain", "teaching only adds question forms"),
    ("  route: answer:hotline\n  quotes: []\n", "questions[1].quotes", "teaching only adds question forms"),
    ("  route: answer:hotline\n  lang: ru\n", "questions[1].lang", "written in 'zh'"),
]


@pytest.mark.parametrize("entry, where, message", BAD_OVERLAYS)
def test_check_knowledge_fails_on_a_bad_overlay_with_file_and_line(tmp_path, monkeypatch, capsys, entry, where, message):
    overlay = tmp_path / OVERLAY_FILE
    overlay.write_text(
        "questions:\n"
        "- question: 公司改名了卡要重新办吗\n  route: topic:change_name\n  taught_on: 2026-12-01\n"
        "- question: 热线多少\n" + entry + "  taught_on: 2026-12-01\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(monkeypatch, capsys, "check-knowledge", "--overlay", str(overlay))
    assert code == 1 and "is invalid (1 problem(s))" in err
    line = max(
        n
        for n, text in enumerate(overlay.read_text(encoding="utf-8").splitlines(), 1)
        if text.startswith("  " + where.rsplit(".", 1)[1] + ":")
    )  # in the second entry
    assert f"{overlay}:{line}: {where}: " in err and message in err
    with pytest.raises(KnowledgeError):  # and neither start-up nor /reload takes it
        build_guide(tmp_path / "bot.db", kb=load_knowledge(DEFAULT_DATA_DIR)).close()


@pytest.mark.parametrize(
    "question, problem",
    [
        ("x" * 101, "at most 100"),
        ("我的电话13912345678能办吗", "ID, phone or account number"),
        ("<b>热线</b>", "plain text"),
        ("？？", "cannot tell its language"),
    ],
)
def test_a_question_that_cannot_be_a_question_form_is_refused(tmp_path, monkeypatch, capsys, question, problem):
    db = tmp_path / "bot.db"
    build_guide(db, kb=load_knowledge(DEFAULT_DATA_DIR)).close()
    code, _, err = run_cli(monkeypatch, capsys, "teach", question, "answer:hotline", "--db", str(db))
    assert code == 2 and problem.replace("at most 100", "2 to 100 characters") in err
    assert not (tmp_path / OVERLAY_FILE).exists()


def test_teach_refuses_an_unknown_route_a_missing_database_and_a_form_of_another_answer(tmp_path, monkeypatch, capsys, kb):
    db = tmp_path / "bot.db"
    code, _, err = run_cli(monkeypatch, capsys, "teach", RENAMED, "topic:change_name", "--db", str(db))
    assert code == 2 and "does not exist" in err and not (tmp_path / OVERLAY_FILE).exists()
    build_guide(db, kb=kb).close()
    code, _, err = run_cli(monkeypatch, capsys, "teach", RENAMED, "answer:nope", "--db", str(db))
    assert code == 2 and "no answer 'nope'" in err
    packaged = kb.answers["hotline"].questions.zh[0]
    code, _, err = run_cli(monkeypatch, capsys, "teach", packaged, "answer:buy_usbkey", "--db", str(db))
    assert code == 2 and "already a question form of answer:hotline" in err
    assert not (tmp_path / OVERLAY_FILE).exists()
    # taught twice: the same route changes nothing; another route moves it
    assert run_cli(monkeypatch, capsys, "teach", RENAMED, "topic:change_name", "--db", str(db))[0] == 0
    code, out, _ = run_cli(monkeypatch, capsys, "teach", RENAMED, "topic:change_name", "--db", str(db))
    assert code == 0 and "already taught" in out
    code, out, _ = run_cli(monkeypatch, capsys, "teach", RENAMED, "topic:change_address", "--db", str(db))
    assert code == 0 and "(was topic:change_name)" in out
    assert [(t.question, t.route) for t in apply_overlay(kb, tmp_path / OVERLAY_FILE).taught] == [
        (RENAMED, "topic:change_address")
    ]


def test_similar_questions_are_one_group_and_different_ones_are_not():
    rows = [
        ("q6", "Где купить USBKey?", None),
        ("q5", "营业执照要盖什么章", None),
        ("q4", "где купить usb key", None),
        ("q3", "身份证要盖什么章", None),
        ("q2", "营业执照复印件盖什么章", None),
        ("f1", "营业执照要盖什么章", "change_name"),
    ]
    groups = group_missed(rows)
    assert [(g.question, g.count, g.members) for g in groups] == [
        ("营业执照要盖什么章", 3, [("营业执照要盖什么章", 2), ("营业执照复印件盖什么章", 1)]),
        ("Где купить USBKey?", 2, [("Где купить USBKey?", 1), ("где купить usb key", 1)]),
        ("身份证要盖什么章", 1, [("身份证要盖什么章", 1)]),
    ]
    assert groups[0].ref == "q5" and dict(groups[0].down) == {"change_name": 1}
    assert group_missed(rows, skip={"营业执照要盖什么章"})[0].question == "Где купить USBKey?"  # taught: not listed


# -- the admin screen in Telegram (the fake Bot API) -------------------------------------------
SEEN = {
    "zh": ("🧩 未能回答的问题（分组、教会）", "未能回答的问题（按相似分组）", "✅ 变更单位名称", "已把 1 个问法归到"),
    "ru": (
        "🧩 Неотвеченные вопросы (группы, обучение)",
        "Неотвеченные вопросы (сгруппированы по сходству)",
        "✅ 变更单位名称",
        "Формулировок привязано к «变更单位名称»: 1",
    ),
    "en": (
        "🧩 Unanswered questions (groups, teaching)",
        "Unanswered questions (grouped by similarity)",
        "✅ 变更单位名称",
        "1 phrasings attached to “变更单位名称”",
    ),
}


@pytest.mark.parametrize("lang", ["zh", "ru", "en"])
async def test_the_admin_teaches_a_missed_question_in_telegram(fake, tmp_path, lang):
    button, heading, attach, taught = SEEN[lang]
    async with running_bot(fake, tmp_path / "bot.db", admins=frozenset({9})):
        admin, user = fake.user(id=9, language_code=lang), fake.user(id=10)
        assert "没能确定" in (await user.send(RENAMED)).plain
        stats = await admin.send("/stats")
        await admin.click(stats, button)
        assert heading in stats.plain and f"1× {RENAMED}" in stats.plain
        await admin.click(stats, f"1× {RENAMED}")
        assert f"1× {RENAMED}" in stats.plain
        forged = admin.button(stats, attach)["callback_data"]
        # someone else pressing the same button (forged or forwarded) is refused and nothing is written
        await user.press_data(stats, forged)
        assert "此菜单已过期" in user.last.plain and not (tmp_path / OVERLAY_FILE).exists()
        await admin.click(stats, attach)
        assert taught in stats.plain and (tmp_path / OVERLAY_FILE).exists()
        before = len(admin.messages)
        await admin.send("/reload", wait=False)
        await fake.wait_for(lambda: len(admin.messages) > before, timeout=20, what="the /reload answer")
        # the answer may wait for the matcher rebuilt by /reload: wait for the reply, not for a quiet moment
        before = len(user.messages)
        await user.send(RENAMED_LATER, wait=False)
        await fake.wait_for(lambda: len(user.messages) > before, timeout=20, what="the answer after /reload")
        assert "变更单位名称" in user.messages[-1].plain.splitlines()[0]


async def test_reload_refuses_an_overlay_edited_into_an_invalid_one(fake, tmp_path):
    async with running_bot(fake, tmp_path / "bot.db", admins=frozenset({9})) as app:
        admin, user = fake.user(id=9), fake.user(id=10)
        guide = app.bot_data["guide"]
        teach(guide.overlay, guide.kb, [(RENAMED, "topic:change_name")])
        text = guide.overlay.read_text(encoding="utf-8")
        guide.overlay.write_text(text.replace("topic:change_name", "topic:no_such_business"), encoding="utf-8")
        before = len(admin.messages)
        await admin.send("/reload", wait=False)
        await fake.wait_for(lambda: len(admin.messages) > before, timeout=20, what="the /reload answer")
        assert "继续使用原资料" in admin.last.plain and f"{OVERLAY_FILE}:" in admin.last.plain
        assert "no business 'no_such_business'" in admin.last.plain
        assert "没能确定" in (await user.send(RENAMED)).plain  # the old knowledge stays live


def test_missed_rows_asked_in_the_same_second_come_newest_first(tmp_path):
    import datetime as dt

    from dialogs.store import Store

    store = Store(tmp_path / "s.db")
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
    for n in range(1, 13):
        store.record_unanswered(f"问题{n}", user_id=1, now=now)
    assert [ref for ref, _, _ in store.missed()][:3] == ["q12", "q11", "q10"]
    assert store.missed_text("q12") == "问题12" and store.missed_text("q99") is None and store.missed_text("x1") is None
    store.close()


def test_health_checks_the_overlay_the_bot_would_start_with(tmp_path, monkeypatch, capsys, kb):
    db = tmp_path / "bot.db"
    build_guide(db, kb=kb).close()
    teach(tmp_path / OVERLAY_FILE, kb, [(RENAMED, "topic:change_name")])
    assert run_cli(monkeypatch, capsys, "health", "--db", str(db))[0] == 0
    overlay = tmp_path / OVERLAY_FILE
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("topic:change_name", "topic:gone"), encoding="utf-8")
    code, out, _ = run_cli(monkeypatch, capsys, "health", "--db", str(db))
    assert code == 1 and f"{OVERLAY_FILE}:6: questions[0].route" in out and "no business 'gone'" in out


def test_the_overlay_keeps_its_file_mode_when_taught_again(tmp_path, kb):
    overlay = tmp_path / OVERLAY_FILE
    teach(overlay, kb, [(RENAMED, "topic:change_name")])
    assert overlay.stat().st_mode & 0o777 == 0o644  # the bot's service user reads what an operator taught
    overlay.chmod(0o640)
    teach(overlay, kb, [(PRICE, "answer:silent_usbkey_price")])
    assert overlay.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [OVERLAY_FILE]  # no temporary file left behind
