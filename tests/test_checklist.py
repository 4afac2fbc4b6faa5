"""Checklists in the dialog engine and the console: derivation, toggle, reset, export."""

from __future__ import annotations

import re

import pytest

from dialogs.engine import MAX_CALLBACK_BYTES, Context, NotFound, callback_data


@pytest.fixture
def engine(guide):
    return guide.engine


def press(engine, ctx, screen, label):
    for b in screen.all_buttons():
        if b.label == label or b.label.startswith(label):
            return engine.handle(ctx, b.data)
    raise AssertionError(f"no button {label!r} in {[b.label for b in screen.all_buttons()]}")


EXPECTED_COUNTS = {  # the card medium is an item where a card exists; cancellations add the 情况说明 choices
    "new_entry": 24,
    "new_operator": 24,
    "change_name": 20,
    "change_legal_rep": 20,
    "change_address": 20,
    "reissue_lost": 25,
    "reissue_expired": 25,
    "renew_cert": 25,
    "unlock": 25,
    "replace_card": 25,
    "cancel_legal": 22,
    "cancel_operator": 22,
    "holder_cancel": 9,
}


@pytest.mark.parametrize("topic,count", EXPECTED_COUNTS.items())
def test_items_are_derived_from_the_knowledge_for_every_topic(kb, topic, count):
    items = kb.checklist_items(topic)
    assert len(items) == count
    assert len({i.id for i in items}) == count
    for item in items:
        assert item.id.startswith(item.material + ".")
        assert len(callback_data("tick", f"{topic}:{item.id}:0").encode()) <= MAX_CALLBACK_BYTES


def test_org_cert_items_catch_each_forgettable_step(kb):
    labels = [i.label for i in kb.checklist_items("reissue_lost") if i.material == "org_cert"]
    assert labels == [
        "复印件",
        "需加盖申请单位公章（不得加盖合同章、财务章或其他业务专用章，下同）",
        "签注“同意办理电子口岸制发卡业务”",
        "法定代表人（负责人）签名",
        "申请日期",
    ]
    person = [i.label for i in kb.checklist_items("reissue_lost") if i.material == "agent_id"]
    assert person == ["复印件", "加盖申请单位公章", "签注“同意使用本人信息办理电子口岸制发卡业务”", "个人签名", "签字日期"]
    translation = [i for i in kb.checklist_items("reissue_lost") if i.material == "foreign_translation"]
    assert translation[0].optional


def test_add_toggle_reset_and_export(engine):
    ctx = Context(user_id=42)
    topic = engine.start(ctx, "reissue_lost")
    screen = press(engine, ctx, topic, "📋 加入清单")
    assert screen.route == "checklist:reissue_lost"
    assert "进度 0/25" in screen.text
    # the overview: a button per material (7), not per item (25)
    material_buttons = [b for b in screen.all_buttons() if b.label.startswith("☐")]
    assert [b.label for b in material_buttons][:2] == ["☐ 业务申请书 0/3", "☐ 市场主体资格证明材料 0/5"]
    assert len(material_buttons) == 7 and "☐ 经办人身份证明材料 0/5" in screen.text
    screen = press(engine, ctx, screen, "☐ 市场主体资格证明材料")
    assert screen.route == "checklist_part:reissue_lost:org_cert"
    assert len([b for b in screen.all_buttons() if b.label.startswith("☐")]) == 5
    screen = press(engine, ctx, screen, "☐ 营业执照等·盖申请单位公章")
    assert screen.toast == "已勾选" and "进度 1/25" in screen.text and "1/5" in screen.text
    assert any(b.label.startswith("✅ 营业执照等·盖申请单位公章") for b in screen.all_buttons())
    assert "✅ 盖申请单位公章（不是合同章、财务章或其他业务专用章）" in screen.text
    screen = press(engine, ctx, screen, "✅ 营业执照等·盖申请单位公章")
    assert screen.toast == "已取消勾选" and "进度 0/25" in screen.text
    screen = press(engine, ctx, screen, "下一项 ➡️")  # 法定代表人
    screen = press(engine, ctx, press(engine, ctx, screen, "下一项 ➡️"), "下一项 ➡️")  # 持卡人, 经办人
    assert screen.route == "checklist_part:reissue_lost:agent_id"
    screen = press(engine, ctx, screen, "☐ 经办人·本人签名")
    screen = press(engine, ctx, screen, "📋 清单总览")
    assert "☐ 经办人身份证明材料 1/5" in screen.text and "进度 1/25" in screen.text
    exported = press(engine, ctx, screen, "📄 导出")
    name, content = exported.document
    text = content.decode()
    assert name == "checklist-reissue_lost.txt"
    assert "[x] 本人签名" in text and "[ ] 写申请日期" in text and "满洲里市东五道街75号海关大楼10楼1021室" in text
    assert "0470-2299089" in text
    confirm = press(engine, ctx, exported, "🔄 重置")
    assert "将清除此清单中已勾选的 1 项" in confirm.text
    cancelled = press(engine, ctx, confirm, "取消")
    assert "进度 1/25" in cancelled.text
    done = press(engine, ctx, press(engine, ctx, cancelled, "🔄 重置"), "确认重置")
    assert done.toast == "清单已重置" and "进度 0/25" in done.text


def test_completing_every_required_item_says_what_to_bring_and_where(engine):
    ctx = Context(user_id=5)
    screen = engine.handle(ctx, callback_data("checklist_open", "holder_cancel"))
    for item in engine.kb.checklist_items("holder_cancel"):
        if not item.optional:
            screen = engine.handle(ctx, callback_data("tick", f"holder_cancel:{item.id}:1"))
    assert "必备项目已全部完成" in screen.text and "满洲里市东五道街75号海关大楼10楼1021室" in screen.text
    overview = engine.render("checklist:holder_cancel", ctx)
    assert "必备项目已全部完成" in overview.text and "✅ 本人身份证明材料 5/5" in overview.text


def test_every_item_can_be_ticked_from_its_material_page_and_counts_overall(engine):
    ctx = Context(user_id=6)
    overview = engine.handle(ctx, callback_data("checklist_open", "unlock"))
    total = len(engine.kb.checklist_items("unlock"))
    done = 0
    for material in [b for b in overview.all_buttons() if b.label.startswith("☐")]:
        page = engine.handle(ctx, material.data)
        while any(b.label.startswith("☐") for b in page.all_buttons()):
            page = press(engine, ctx, page, "☐")
            done += 1
            assert f"进度 {done}/{total}" in page.text and page.route.startswith("checklist_part:unlock:")
    assert done == total and "必备项目已全部完成" in engine.render("checklist:unlock", ctx).text


def test_my_checklists_lists_progress_and_reopens(engine):
    ctx = Context(user_id=9)
    empty = engine.render("checklists", ctx)
    assert "还没有清单" in empty.text
    engine.handle(ctx, callback_data("checklist_open", "unlock"))
    engine.handle(ctx, callback_data("tick", "unlock:agent_id.copy:1"))
    screen = engine.render("checklists", ctx)
    assert "解锁：1/25" in screen.text
    reopened = press(engine, ctx, screen, "解锁 1/25")
    assert reopened.route == "checklist:unlock"


def test_two_users_never_see_each_others_ticks(engine):
    a, b = Context(user_id=1), Context(user_id=2)
    engine.handle(a, callback_data("checklist_open", "unlock"))
    engine.handle(a, callback_data("tick", "unlock:agent_id.copy:1"))
    assert "进度 0/25" in engine.handle(b, callback_data("checklist_open", "unlock")).text
    assert "进度 1/25" in engine.render("checklist:unlock", a).text


def test_a_tick_written_by_another_process_shows_on_the_next_screens(engine, guide):
    """The web pages or an `eport-guide` command in another process write through their own connection."""
    from dialogs.store import Store

    ctx = Context(user_id=12)
    assert "进度 0/25" in engine.handle(ctx, callback_data("checklist_open", "unlock")).text
    with Store(guide.store.path) as other:
        other.tick(12, "unlock", "agent_id.copy", True)
    assert "解锁：1/25" in engine.render("checklists", ctx).text
    assert "进度 1/25" in engine.render("checklist:unlock", ctx).text
    with Store(guide.store.path) as other:
        other.tick(12, "unlock", "agent_id.copy", False)
    assert "进度 0/25" in engine.render("checklist_part:unlock:agent_id", ctx).text


@pytest.mark.parametrize(
    "data",
    [
        "e1|x|unlock:nope.copy",
        "e1|x|nope:agent_id.copy",
        "e1|x|",
        "e1|checklist_open|zzz",
        "e1|checklist_export|",
        "e1|checklist_reset_confirm|x",
        "e1|g|checklist:nope",
        "e1|na|unlock:agent_id.copy:1",
        "e1|na|unlock:nope.have:1",
        "e1|na|unlock:foreign_translation.translation:2",
    ],
)
def test_forged_checklist_buttons_are_stale_not_errors(engine, data):
    screen = engine.handle(Context(user_id=3), data)
    assert screen.stale and "此菜单已过期" in screen.text


def test_a_removed_knowledge_item_drops_its_tick_and_says_so(engine, tmp_path, knowledge_copy):
    from knowledge import load_knowledge

    ctx = Context(user_id=11)
    engine.handle(ctx, callback_data("checklist_open", "unlock"))
    engine.handle(ctx, callback_data("tick", "unlock:application_form.read_notice:1"))
    engine.handle(ctx, callback_data("tick", "unlock:agent_id.copy:1"))
    f = knowledge_copy / "materials.yaml"
    text = f.read_text(encoding="utf-8")
    cut = re.search(r"      - id: read_notice\n(?:        .*\n)+", text).group(0)
    assert cut in text
    f.write_text(text.replace(cut, ""), encoding="utf-8")
    engine.reload(load_knowledge(knowledge_copy))
    screen = engine.render("checklist:unlock", ctx)
    assert "进度 1/24" in screen.text
    assert "清单" in screen.text and "更新" in screen.text  # the notice
    again = engine.render("checklist:unlock", ctx)
    assert "进度 1/24" in again.text


def test_the_page_s_script_counts_by_the_knowledge_as_it_is_after_a_reload(guide, knowledge_copy):
    """After /reload removed an item, the script's progress counts the list as it now is — also for marks the
    same as ones counted before the reload — and the removed item can no longer be marked."""
    from knowledge import load_knowledge

    checklists, ctx = guide.checklists, Context(user_id=12)
    before = checklists.mark(ctx, "tick", "unlock:agent_id.copy:1")
    assert (before["done"], before["total"]) == (1, 25)
    f = knowledge_copy / "materials.yaml"
    text = f.read_text(encoding="utf-8")
    cut = re.search(r"      - id: read_notice\n(?:        .*\n)+", text).group(0)
    f.write_text(text.replace(cut, ""), encoding="utf-8")
    guide.engine.reload(load_knowledge(knowledge_copy))
    checklists.mark(ctx, "tick", "unlock:agent_id.copy:0")
    again = checklists.mark(ctx, "tick", "unlock:agent_id.copy:1")  # the marks of ``before``
    state = checklists.state(ctx.user_id, "unlock", ctx)
    assert (again["done"], again["total"]) == (state["done"], state["total"]) == (1, 24)
    with pytest.raises(NotFound):
        checklists.mark(ctx, "tick", "unlock:application_form.read_notice:1")


def test_console_checklist_on_the_same_database(tmp_path, monkeypatch, capsys):
    """The console chat and the data commands share the database (in-process: the commands' own
    process-level behaviour is tested in test_cli.py)."""
    import io

    from .conftest import run_cli

    monkeypatch.setenv("EPORT_GUIDE_DB", str(tmp_path / "c.db"))
    script = "/start reissue_lost\n📋 加入清单\n☐ 经办人身份证明材料\n☐ 经办人·复印件\n/checklist\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    code, out, err = run_cli(monkeypatch, capsys, "chat", "--user", "77")
    assert code == 0, err
    assert "进度 1/25" in out and "丢失补办：1/25" in out
    code, out, _ = run_cli(monkeypatch, capsys, "checklist", "--user", "77")
    assert code == 0 and "[x] 复印件（默认居民身份证" in out and "丢失补办" in out
    assert "has no checklists" in run_cli(monkeypatch, capsys, "checklist", "--user", "78")[1]
    code, out, _ = run_cli(monkeypatch, capsys, "forget", "--user", "77")
    assert code == 0 and "deleted" in out and "deleted 0 row" not in out
    assert "has no checklists" in run_cli(monkeypatch, capsys, "checklist", "--user", "77")[1]


@pytest.mark.parametrize(
    "lang,copy,meaning",
    [
        (
            "ru",
            "Перепишите китайскими иероглифами точно: 「同意使用本人信息办理电子口岸制发卡业务」",
            "Значение (только для понимания, не писать): согласие на использование моих данных для услуг по картам электронного порта",
        ),
        (
            "en",
            "Copy in Chinese characters exactly: 「同意使用本人信息办理电子口岸制发卡业务」",
            "Meaning (for understanding only, do not write it): consent to my information being used for E-Port card services",
        ),
    ],
    ids=["ru", "en"],
)
def test_checklist_page_and_export_give_each_annotation_to_copy_and_apart_its_meaning(engine, lang, copy, meaning):
    ctx = Context(user_id=43, lang=lang)
    page = engine.render("checklist_part:unlock:holder_id", ctx).text.splitlines()
    exported = engine.handle(ctx, callback_data("checklist_export", "unlock")).document[1].decode().splitlines()
    for lines in (page, exported):
        item = next(i for i, line in enumerate(lines) if "«同意使用本人信息办理电子口岸制发卡业务»" in line)
        assert lines[item + 1].strip() == copy and lines[item + 2].strip() == meaning  # two lines of their own
    assert "(unlock)" not in exported[1] and "解锁（" in exported[1]  # the service named in the user's language too


def test_a_chinese_checklist_shows_no_meaning_lines(engine):
    ctx = Context(user_id=44, lang="zh")
    text = engine.render("checklist_part:unlock:holder_id", ctx).text
    exported = engine.handle(ctx, callback_data("checklist_export", "unlock")).document[1].decode()
    for lines in (text.splitlines(), exported.splitlines()):
        item = next(i for i, line in enumerate(lines) if "「同意使用本人信息办理电子口岸制发卡业务」" in line)
        assert lines[item + 1].strip().startswith(("☐", "[ ]"))  # the next item, no gloss in Chinese


# -- the answer's caveats, and items that do not apply ---------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "ru", "en"])
def test_a_checklist_keeps_the_caveats_its_answer_gave(engine, kb, lang):
    """The business's notes (e.g. 变更法定代表人: old or new legal representative?) on the overview, each
    material's caveats on its page, both in the export: whatever the first screen said about them."""
    ctx = Context(user_id=21, lang=lang)
    assert any(b.notes for b in kb.businesses.values())
    for topic, business in kb.businesses.items():
        first = engine.start(ctx, topic).text
        overview = engine.handle(ctx, callback_data("checklist_open", topic))
        exported = engine.handle(ctx, callback_data("checklist_export", topic)).document[1].decode()
        for note in business.notes:
            assert getattr(note, lang) in first
            assert getattr(note, lang) in overview.text and getattr(note, lang) in exported, (topic, lang)
        for ref in business.materials:
            m = kb.materials[ref.material]
            caveats = [getattr(n, lang) for n in [*m.notes, *ref.notes, *([ref.action] if ref.action else [])]]
            page = engine.render(f"checklist_part:{topic}:{m.id}", ctx).text
            for caveat in caveats:
                if caveat in first:
                    assert caveat in page and caveat in exported, (topic, m.id, lang)


def test_every_if_any_item_can_be_marked_not_applicable(engine, kb):
    """ "（如有）" items (外文材料, the holder's card and other proof) and a card that is lost carry a 不适用 button."""
    ctx = Context(user_id=24)
    for topic, business in kb.businesses.items():
        engine.handle(ctx, callback_data("checklist_open", topic))
        for ref in business.materials:
            m = kb.materials[ref.material]
            page = engine.render(f"checklist_part:{topic}:{m.id}", ctx)
            offered = any(b.label.startswith("🚫 不适用") for b in page.all_buttons())
            if_any = "如有" in m.plain.zh or "如有" in (ref.listed_as or m.listed_as)
            assert offered == (if_any or ref.optional), (topic, m.id)


def test_an_item_that_does_not_apply_stops_counting_against_the_progress(engine, kb):
    ctx = Context(user_id=22)
    topic = "change_legal_rep"
    total = len(kb.checklist_items(topic))
    overview = engine.handle(ctx, callback_data("checklist_open", topic))
    assert f"进度 0/{total}" in overview.text
    page = press(engine, ctx, overview, "☐ 外文材料（如有）")
    marked = press(engine, ctx, page, "🚫 不适用")
    assert marked.toast == "已标为不适用" and marked.route == f"checklist_part:{topic}:foreign_translation"
    assert f"进度 0/{total - 1}" in marked.text and "1 项不适用，不计入" in marked.text
    assert "➖ 附中文翻译，盖翻译专用章或申请单位公章（不适用）" in marked.text
    assert not any(b.label.startswith("☐") for b in marked.all_buttons())  # nothing left to tick there
    overview = engine.render(f"checklist:{topic}", ctx)
    assert "➖ 外文材料（如有） 不适用" in overview.text
    assert "➖ 外文材料（如有） 不适用" in [b.label for b in overview.all_buttons()]
    assert f"进度 0/{total}" in engine.handle(Context(user_id=23), callback_data("checklist_open", topic)).text  # per user
    for item in kb.checklist_items(topic):
        if not item.optional:
            engine.handle(ctx, callback_data("tick", f"{topic}:{item.id}:1"))
    done = engine.render(f"checklist:{topic}", ctx)
    assert f"进度 {total - 1}/{total - 1}" in done.text and "100%" in done.text and "必备项目已全部完成" in done.text
    assert f"{total - 1}/{total - 1}" in engine.render("checklists", ctx).text
    exported = engine.handle(ctx, callback_data("checklist_export", topic)).document[1].decode()
    assert "[-] 附中文翻译，盖翻译专用章或申请单位公章（不适用）" in exported
    back = press(engine, ctx, engine.render(f"checklist_part:{topic}:foreign_translation", ctx), "↩️ 适用")
    assert back.toast == "已恢复为适用" and f"进度 {total - 1}/{total}" in back.text
    press(engine, ctx, back, "🚫 不适用")
    reset = engine.handle(ctx, callback_data("checklist_reset_confirm", f"{topic}:22"))
    assert f"进度 0/{total}" in reset.text  # a reset starts the list afresh


def test_not_applicable_carries_over_when_switching_to_a_sibling_business(engine, kb):
    ctx = Context(user_id=25)
    engine.handle(ctx, callback_data("checklist_open", "change_name"))
    engine.handle(ctx, callback_data("na", "change_name:foreign_translation.translation:1"))
    switched = engine.handle(ctx, callback_data("checklist_switch", "change_name:change_address"))
    assert f"进度 0/{len(kb.checklist_items('change_address')) - 1}" in switched.text


def test_the_page_s_script_counts_a_checklist_as_its_screens_do(guide, kb):
    """``Checklists.mark`` (the web page's script) answers with the progress the checklist's screens show after
    the same marks, after every mark and for every business: a ticked item later marked 不适用 counts in neither
    done nor total. A second user making the same marks (answered from the counts the first one's made) and
    then undoing them gets their own progress each time."""
    checklists = guide.checklists
    for n, (topic, _) in enumerate(kb.businesses.items()):
        items = kb.checklist_items(topic)
        optional = [i.id for i in items if i.optional and i.condition is None]
        marks = [("tick", f"{topic}:{i.id}:1") for i in items] + [("na", f"{topic}:{i}:1") for i in optional]
        marks += [("tick", f"{topic}:{items[0].id}:0")] + [("na", f"{topic}:{i}:0") for i in optional[:1]]
        for user in (900 + 2 * n, 901 + 2 * n):
            ctx = Context(user_id=user)
            for action, args in marks:
                answer = checklists.mark(ctx, action, args)
                state = checklists.state(ctx.user_id, topic, ctx)
                counted = (answer["done"], answer["total"], answer["not_applicable"])
                assert counted == (state["done"], state["total"], state["not_applicable"]), (topic, action, args)
                assert answer["groups"] == tuple((g["material"], (g["done"], g["total"], g["na"])) for g in state["groups"]), (
                    topic
                )
            if not optional or items[0].id != optional[0]:
                assert answer["done"] == len(items) - len(optional[1:]) - 1, topic


def test_each_tick_answers_with_its_own_material_page_and_toast_for_every_user(engine):
    """The pages of a checklist are reused per state of their ticks (the same for everyone): each press still
    shows the page of the item pressed, with the toast of what it did."""
    items = {i.material: i for i in engine.kb.checklist_items("holder_cancel") if not i.optional}
    first, second = list(items)[:2]
    for user in (61, 62):  # the second user's presses are answered from the pages the first one's made
        ctx = Context(user_id=user)
        for material in (first, second):
            item = items[material]
            ticked = engine.handle(ctx, callback_data("tick", f"holder_cancel:{item.id}:1"))
            assert ticked.route == f"checklist_part:holder_cancel:{material}" and ticked.toast == "已勾选"
            assert any(b.label.startswith("✅") and f"{item.id}:0" in (b.data or "") for b in ticked.all_buttons())
        unticked = engine.handle(ctx, callback_data("tick", f"holder_cancel:{items[first].id}:0"))
        assert unticked.route == f"checklist_part:holder_cancel:{first}" and unticked.toast == "已取消勾选"
        assert any(b.label.startswith("☐") and f"{items[first].id}:1" in (b.data or "") for b in unticked.all_buttons())
