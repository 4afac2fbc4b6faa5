"""Issue 14: action-first answer screens and the twelve scope points.

The first screen of every business fits one phone screen in zh, ru and en and says what
to bring and do; the verbatim rules and the Jiangsu guide are one tap away; no fact that
only the Jiangsu guide states appears anywhere without its label.
"""

from __future__ import annotations

import re

import pytest

from dialogs.features import all_routes

from dialogs.engine import Context, callback_data, parse_callback
from dialogs.guide import build_guide
from knowledge import KnowledgeError, load_knowledge

from .conftest import shipped_knowledge


def unbalanced(text: str) -> str | None:
    """The first bracket left open or closed without an opener (independent of the code under test)."""
    pairs = {"（": "）", "(": ")", "“": "”", "《": "》", "「": "」", "«": "»", "【": "】", "［": "］"}
    closers = {v: k for k, v in pairs.items()}
    stack: list[str] = []
    for ch in text:
        if ch in pairs:
            stack.append(ch)
        elif ch in closers:
            if not stack or stack[-1] != closers[ch]:
                return ch
            stack.pop()
    return stack[-1] if stack else None


LANGS = ("zh", "ru", "en")
TOPICS = list(shipped_knowledge().businesses)
# One phone screen: 25 lines; Chinese 1,000 characters, Russian and English (about twice as
# many characters for the same words) 1,900 — plus, in ru/en only, one short line per
# annotation saying what it means (the Chinese to copy stays on the item), 2,150 in all.
MAX_LINES = 25
MAX_CHARS = {"zh": 1000, "ru": 2150, "en": 2150}
JIANGSU_LABEL = {"zh": "江苏", "ru": "Цзянсу", "en": "Jiangsu"}
HOTLINE = "0470-2299089"


@pytest.fixture(scope="module")
def full_guide(tmp_path_factory, kb):
    """The application with every feature (reminders, checklists) on a temporary database."""
    g = build_guide(tmp_path_factory.mktemp("answers") / "a.db", kb=kb)
    yield g
    g.close()


@pytest.fixture(scope="module")
def full(full_guide):
    return full_guide.engine


def go_targets(screen):
    return [parse_callback(b.data)[1] for b in screen.all_buttons() if b.data and parse_callback(b.data)[0] == "go"]


def line_of(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


# -- the first screen ------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("topic", TOPICS)
def test_first_screen_fits_one_phone_screen_and_lists_every_action(full, kb, topic, lang):
    screen = full.start(Context(user_id=1, lang=lang), topic)
    text = screen.text
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES, (topic, lang, len(lines))
    assert len(text) <= MAX_CHARS[lang], (topic, lang, len(text))
    business = kb.businesses[topic]
    assert text.count(HOTLINE) == 1  # the hotline once
    assert kb.categories[business.category].summary not in text  # no repeated category line
    for ref in business.materials:
        m = kb.materials[ref.material]
        line = line_of(text, getattr(m.plain, lang))  # every material on a numbered line
        assert re.match(r"^\d+\. ", line), line
        checks = {c.id: c for rs in m.rulesets for c in kb.rulesets[rs].checks}
        for cid in ("copy", "seal", "signature", "date", "handwritten", "translation", "same_type"):
            if cid in checks:
                assert getattr(checks[cid].plain, lang) in line, (topic, lang, m.id, cid)
        if "seal" in checks:
            assert "公章" in line and "合同章" in line and "财务章" in line
        for c in checks.values():
            if c.annotation:
                assert kb.annotations[c.annotation].text in line  # verbatim, on the item itself
        if ref.form == "original":
            assert {"zh": "原件", "ru": "оригинал", "en": "original"}[lang] in line
    annotations = {
        kb.annotations[c.annotation].text
        for ref in business.materials
        for rs in kb.materials[ref.material].rulesets
        for c in kb.rulesets[rs].checks
        if c.annotation
    }
    copies = {b.copy_text for b in screen.all_buttons() if b.copy_text}
    assert annotations <= copies  # each annotation has its copy button
    if annotations and lang != "zh":
        assert {"ru": "пишите точно этот китайский текст", "en": "write exactly this Chinese text"}[lang] in text
    targets = go_targets(screen)
    assert f"more:{topic}" in targets and "offices" in targets  # ⋯ 更多 and the nearest office one tap away
    assert f"rules:{topic}" in go_targets(full.render(f"more:{topic}", Context(user_id=1, lang=lang)))  # 📖 原文 behind it


def checklist_screens(engine, ctx, topic):
    """A checklist as the user sees it: the overview, then each material's page."""
    overview = engine.handle(ctx, callback_data("checklist_open", topic))
    pages = [engine.handle(ctx, b.data) for b in overview.all_buttons() if "checklist_part:" in (b.data or "")]
    assert pages and all(p.route.startswith("checklist_part:") for p in pages)
    return [overview, *pages]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("topic", TOPICS)
def test_every_button_of_an_answer_speaks_the_users_language(full, kb, topic, lang):
    ctx = Context(user_id=1, lang=lang)
    screens = [full.render(route, ctx) for route in [f"topic:{topic}", f"rules:{topic}", "offices"]]
    screens += [full.render(f"material:{ref.material}", ctx) for ref in kb.businesses[topic].materials]
    screens += checklist_screens(full, ctx, topic)
    for screen in screens:
        for b in screen.all_buttons():
            assert re.search(r"[A-Za-zА-Яа-яЁё]", b.label), (screen.route, b.label)


def test_first_screen_is_data_driven_from_the_plain_lines(kb):
    """The action lines live in the knowledge next to the rule they come from (zh/ru/en)."""
    for rs in kb.rulesets.values():
        for c in rs.checks:
            for lang in LANGS:
                assert getattr(c.plain, lang).strip()
    for m in kb.materials.values():
        for lang in LANGS:
            assert getattr(m.plain, lang).strip()


def test_a_plain_line_must_keep_the_annotation_verbatim(knowledge_copy):
    f = knowledge_copy / "materials.yaml"
    text = f.read_text(encoding="utf-8")
    old = "write «同意办理电子口岸制发卡业务» in a blank space"
    assert old in text
    f.write_text(text.replace(old, "write the consent sentence in a blank space"), encoding="utf-8")
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(knowledge_copy)
    assert any("must contain the annotation verbatim" in str(p) for p in exc.value.problems)


def test_show_prints_the_whole_answer_first_screen_rules_then_jiangsu(eport_guide):
    r = eport_guide("show", "new_operator")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    first, rules, jiangsu = out.index("📑 请带齐"), out.index("📖 原文"), out.index("📘 江苏省指南")
    assert first < rules < jiangsu
    assert "市场主体资格证明材料复印件需加盖申请单位公章（不得加盖合同章、财务章或其他业务专用章，下同）" in out[rules:jiangsu]
    assert "要求用印泥盖章，公章不得复印" in out[jiangsu:] and "要求用印泥盖章" not in out[:jiangsu]
    assert "新增操作员卡单次可最多新增10个操作员卡。" in out[jiangsu:]
    for line in out[jiangsu:].splitlines():
        if line.strip().startswith("•"):
            assert "江苏省指南，仅适用于江苏省省内企业" in line, line


def test_main_menu_does_not_repeat_itself(engine):
    text = engine.render("main", Context()).text
    assert "新办业务 — “新办业务”" not in text and "“新办业务”:" not in text
    assert "• 新办业务：企业首次办理电子口岸卡、新增操作员卡" in text


# -- no Jiangsu-only fact unlabelled anywhere ---------------------------------------------------------
def jiangsu_texts(kb) -> list[str]:
    texts = []
    for f in kb.facts.values():
        if f.region == "jiangsu":
            texts += [f.text, *f.more]
    for rs in kb.rulesets.values():
        texts += [r.text for r in rs.rules if r.region == "jiangsu"]
    for s in kb.steps:
        texts += [q.text for q in s.quotes if q.region == "jiangsu"]
    return texts


JIANGSU_FIGURES = ["3MB", "3 МБ", "10个操作员卡", "10 карт", "10 operator", "7日", "免费配发"]


def screens_everywhere(guide, lang):
    from dialogs.features.upload import check_file

    engine = guide.engine
    ctx = Context(user_id=5, lang=lang)
    for route in all_routes(engine):
        yield route, engine.render(route, ctx).text
    from tests.test_upload import make_pdf

    yield "precheck:big", check_file(guide, ctx, None, "huge.pdf", 30_000_000).text
    yield "precheck:ok", check_file(guide, ctx, make_pdf(), "a.pdf", None).text
    yield "reminder_set", engine.reply(ctx, "remind_date:refund", "今天").text
    from types import SimpleNamespace

    from dialogs.features.reminders import reminder_message

    due = SimpleNamespace(id=1, kind="refund", user_id=5, payload={"date": "2026-11-30", "last": "2026-12-06"})
    yield "reminder_due", reminder_message(engine, due, lang).text
    for topic in TOPICS:
        for screen in checklist_screens(engine, ctx, topic):
            yield screen.route, screen.text


@pytest.mark.parametrize("lang", LANGS)
def test_no_jiangsu_fact_appears_unlabelled_anywhere(full_guide, kb, lang):
    """Screens, walkthrough, upload check, 退单 reminder, fee answers: every paragraph that
    carries a fact only the Jiangsu guide states also carries the Jiangsu label."""
    from dialogs import i18n

    needles = []
    for t in jiangsu_texts(kb):
        needles.append(t)
        if lang != "zh" and i18n.beside(t, lang):
            needles.append(i18n.beside(t, lang))
    needles += JIANGSU_FIGURES
    checked = 0
    for route, text in screens_everywhere(full_guide, lang):
        for paragraph in re.split(r"\n\s*\n", text):
            for needle in needles:
                if needle in paragraph:
                    checked += 1
                    assert JIANGSU_LABEL[lang] in paragraph, (lang, route, needle, paragraph)
    assert checked > 30


def test_walkthrough_steps_4_6_11_12_label_their_jiangsu_facts(engine, kb):
    """Point 2: the 3MB limit, 10 operators, the 7-day 退单 rule and the free first set."""
    for step, needle in [
        ("unit_info", "单个文件大小不超过3MB"),
        ("operator_info", "单次可最多新增10个操作员卡"),
        ("status", "7日之内修改重新提交"),
        ("cards", "首次办卡免费配发"),
    ]:
        text = engine.render(f"walk:{step}", Context()).text
        assert "江苏省指南，仅适用于江苏省省内企业" in line_of(text, needle), step


def test_fee_answer_labels_every_jiangsu_sentence(engine):
    text = engine.render("fact:free_first_set", Context()).text
    assert "江苏省指南，仅适用于江苏省省内企业" in line_of(text, "首次办理同时申请同时配发")


def test_upload_check_and_refund_reminder_say_the_rule_is_jiangsus(full, full_guide):
    from dialogs.features.upload import check_file

    ctx = Context(user_id=8)
    big = check_file(full_guide, ctx, None, "huge.pdf", 30_000_000).text
    assert "超过江苏省指南写的 3MB 上限" in big
    ask = full.render("remind:refund", ctx).text
    assert "满洲里的文件没有写退单后的期限" in ask
    done = full.reply(ctx, "remind_date:refund", "今天").text
    assert "按江苏省指南的规则" in done


# -- the twelve points -------------------------------------------------------------------------
CARD_TOPICS = [
    "change_name",
    "change_legal_rep",
    "change_address",
    "reissue_lost",
    "reissue_expired",
    "renew_cert",
    "unlock",
    "replace_card",
    "cancel_legal",
    "cancel_operator",
]


def test_1_card_medium_is_listed_where_a_card_exists_and_its_screen_is_filled(engine, kb):
    for topic in CARD_TOPICS:
        text = engine.start(Context(), topic).text
        ref = next(r for r in kb.businesses[topic].materials if r.material == "card_medium")
        assert re.search(r"^\d+\. 相关电子口岸卡介质 — " + ("卡已丢失" if ref.action else "带上"), text, re.M), topic
        assert "material:card_medium" in go_targets(engine.render(f"more:{topic}", Context()))
        assert any(i.id == "card_medium.have" and i.optional == ref.optional for i in kb.checklist_items(topic))
    for topic in ("new_entry", "new_operator", "holder_cancel"):  # no card exists yet / the holder's own list
        assert "相关电子口岸卡介质" not in engine.start(Context(), topic).text
    screen = engine.render("material:card_medium", Context()).text
    assert "（6）相关电子口岸卡介质" in screen and "文件没有写明是哪一张卡" in screen
    assert "丢失补办" in screen and "解锁" in screen
    fact = engine.render("fact:card_medium", Context())
    assert "文件没有写明是哪一张卡" in fact.text and "material:card_medium" in go_targets(fact)


def test_3_new_entry_offers_only_the_walkthrough_steps_that_apply(engine, kb):
    route = next(r for r in go_targets(engine.render("more:new_entry", Context())) if r.startswith("walk:"))
    seen = []
    while route:
        screen = engine.render(route, Context())
        seen.append(route)
        assert "请使用法人卡登录" not in screen.text, route
        nxt = [parse_callback(b.data)[1] for b in screen.all_buttons() if b.label == "下一步 ➡️"]
        route = nxt[0] if nxt else None
    assert seen[0] == "walk:new_entry.mzl_path" and len(seen) < len(kb.steps)
    assert "topic:new_entry" in go_targets(engine.render(seen[-1], Context()))  # back to the business
    # new_operator (a company with a 法人卡) gets every step
    op = next(r for r in go_targets(engine.render("more:new_operator", Context())) if r.startswith("walk:"))
    assert op == "walk:new_operator.mzl_path"
    assert "请使用法人卡登录" in engine.render("walk:new_operator.legal_card", Context()).text
    assert engine.handle(Context(), callback_data("go", "walk:new_entry.legal_card")).stale


def test_4_online_screen_does_not_overstate_what_the_document_names(engine):
    text = engine.render("online", Context()).text
    assert "文件写明可网上办理的业务" not in text
    assert "没有写明哪些业务可以网上办理" in text
    assert "文件未写明它适用于哪些业务" in engine.render("rules:new_entry", Context()).text


def test_5_mail_and_counter_pickup_are_jiangsu_only_and_manzhouli_silence_is_said(engine):
    for step in ("unit_info", "remark"):
        text = engine.render(f"walk:{step}", Context()).text
        for needle in ("邮寄业务委托书", "南京江北、吴江、高邮、盐城"):
            if needle in text:
                assert "仅适用于江苏省省内企业" in line_of(text, needle), (step, needle)
        assert "满洲里的文件没有提到邮寄取卡" in text, step


def test_6_holder_cancel_speaks_to_the_holder_and_offers_no_usbkey(engine, full, kb):
    ctx = Context(user_id=62)
    done = full.handle(ctx, callback_data("checklist_open", "holder_cancel"))
    for item in kb.checklist_items("holder_cancel"):
        if not item.optional:
            done = full.handle(ctx, callback_data("tick", f"holder_cancel:{item.id}:1"))
    assert "必备项目已全部完成" in done.text and "企业携带申请材料" not in done.text and "持卡人本人的业务" in done.text
    for route in ("topic:holder_cancel", "rules:holder_cancel"):
        text = engine.render(route, Context()).text
        assert "企业携带申请材料" not in text and "USBKey" not in text, route
    assert "持卡人本人的业务" in engine.start(Context(), "holder_cancel").text
    for topic in ("cancel_legal", "unlock"):  # nor on the first screen of company businesses
        assert "USBKey" not in engine.start(Context(), topic).text


def test_7_attachment_templates_are_said_not_published_and_where_to_ask(engine):
    for topic, name in (("reissue_lost", "附件1"), ("holder_cancel", "附件2")):
        line = line_of(engine.start(Context(), topic).text, f"模板（{name}）")
        assert "不在公布的文件正文里" in line and "客服热线" in line
    for lang, needle in (("ru", "в опубликованный текст не входит"), ("en", "is not part of the published text")):
        assert needle in engine.start(Context(lang=lang), "new_entry").text
    for route in ("fact:forms", "material:application_form", "material:holder_form"):
        assert "不在公布的文件正文里，请致电客服热线" in engine.render(route, Context()).text, route


def test_8_change_legal_rep_says_old_or_new_is_not_specified(engine):
    text = engine.start(Context(), "change_legal_rep").text
    assert "没有写明要的是原法定代表人还是新法定代表人的身份证明材料" in text
    assert "old or the new legal representative" in engine.start(Context(lang="en"), "change_legal_rep").text


@pytest.mark.parametrize("lang", LANGS)
def test_9_checklist_labels_are_never_cut_inside_brackets(full, kb, lang):
    ctx = Context(user_id=60, lang=lang)
    for topic in TOPICS:
        for screen in checklist_screens(full, ctx, topic):
            for line in screen.text.splitlines():
                assert unbalanced(line) is None, (lang, topic, line)
            for b in screen.all_buttons():
                assert unbalanced(b.label) is None, (lang, topic, b.label)
    for rs in kb.rulesets.values():
        for c in rs.checks:
            assert unbalanced(c.label) is None, c.label


def test_9_the_validator_refuses_a_label_cut_mid_bracket(knowledge_copy):
    f = knowledge_copy / "materials.yaml"
    text = f.read_text(encoding="utf-8")
    old = "label: 需加盖申请单位公章（不得加盖合同章、财务章或其他业务专用章，下同）"
    assert old in text
    f.write_text(text.replace(old, "label: 加盖申请单位公章（不得加盖合同章、财务章或其他业务专用章"), encoding="utf-8")
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(knowledge_copy)
    assert any("unbalanced" in str(p) for p in exc.value.problems)


def test_10_cancellation_explanation_alternative_has_its_own_checklist_treatment(full, kb):
    items = {i.id: i for i in kb.checklist_items("cancel_legal")}
    either = items["org_cert.have"]
    assert not either.optional and "或相关情况说明" in either.label
    for cid in ("copy", "seal", "annotation", "signature", "date"):
        assert items[f"org_cert.{cid}"].optional and items[f"legal_rep_id.{cid}"].optional  # only if the copy is handed in
        assert not items[f"agent_id.{cid}"].optional
    ctx = Context(user_id=61)
    text = "\n".join(s.text for s in checklist_screens(full, ctx, "cancel_legal"))
    assert "市场主体资格证明材料 或 相关情况说明（二选一）" in text
    assert "盖申请单位公章（不是合同章、财务章或其他业务专用章）（如交复印件）" in text
    # handing in the 情况说明 instead of the copies completes the checklist
    for item in kb.checklist_items("cancel_legal"):
        if not item.optional:
            screen = full.handle(ctx, callback_data("tick", f"cancel_legal:{item.id}:1"))
    assert "必备项目已全部完成" in screen.text
    first = full.start(Context(), "cancel_legal").text
    assert "或改交相关情况说明" in line_of(first, "市场主体资格证明材料")
    assert "相关情况说明：文件没有写明它的格式" in first


def test_11_ccb_city_screens_do_not_offer_usbkey_at_each_branch(engine, kb):
    for city in kb.cities:
        text = engine.render(f"city:{city}", Context()).text
        assert "可购买" not in text
        assert text.count(kb.facts["usbkey"].text) <= 1  # said once for the city, not under each branch
        assert "USBKey 在微信小程序“清控高科”购买" in text or "ccb_agent" not in {o.kind for o in kb.cities[city]}


def test_12_business_licence_duplicate_is_the_duplicate_original(engine):
    for lang, good, bad in (("en", "duplicate original", "(duplicate)"), ("ru", "второй экземпляр оригинала", "(дубликат)")):
        ctx = Context(lang=lang)
        for text in (engine.render("material:org_cert", ctx).text, engine.start(ctx, "reissue_lost").text):
            assert good in text and bad not in text


# -- what the applicant sees: scope, sources, keyboard ------------------------------------------------
NEW_BUSINESS = "new"  # the category of 新办业务, the only business the Jiangsu guide is about
JIANGSU_SCOPE = {"zh": ("仅新办业务", "江苏省省内企业"), "ru": ("новое оформление", "Цзянсу"), "en": ("new issue", "Jiangsu")}
FIRST_SCREEN_MAX_BUTTONS = 10


@pytest.fixture(scope="module")
def telegram(tmp_path_factory, kb):
    """Every feature Telegram has (checklists, reminders, feedback and the inline 📤 share button)."""
    g = build_guide(tmp_path_factory.mktemp("telegram") / "t.db", kb=kb, channel="telegram")
    yield g.engine
    g.close()


def answer_screens(engine, topic, lang):
    """The screens of a business's answer a user can open from its first screen."""
    ctx = Context(user_id=1, lang=lang)
    return [engine.render(f"{screen}:{topic}", ctx) for screen in ("topic", "more", "rules")]


@pytest.mark.parametrize("lang", LANGS)
def test_the_jiangsu_guide_is_offered_only_for_new_business_and_always_says_what_it_is(full, kb, lang):
    ctx = Context(user_id=1, lang=lang)
    for topic, business in kb.businesses.items():
        covered = business.category == NEW_BUSINESS
        buttons = [
            b
            for s in answer_screens(full, topic, lang)
            for b in s.all_buttons()
            if b.data and parse_callback(b.data)[1].startswith("jiangsu:")
        ]
        for b in buttons:
            assert all(word in b.label for word in JIANGSU_SCOPE[lang]), (topic, lang, b.label)
        jiangsu = full.render(f"jiangsu:{topic}", ctx).text  # also what an old 📘 button opens
        heading = jiangsu.splitlines()[0]
        assert all(word in heading for word in JIANGSU_SCOPE[lang]), (topic, heading)
        if covered:
            assert buttons, topic
            assert "要求用印泥盖章" in jiangsu and business.name in heading
        else:
            assert not buttons, (topic, [b.label for b in buttons])  # never offered as rules for this business
            assert business.name not in heading  # no "江苏省指南：解锁"
            for text in jiangsu_texts(kb):
                assert text not in jiangsu, (topic, text)
            if lang == "zh":
                assert "不涉及本业务" in jiangsu and "不涉及本业务" in full.render(f"rules:{topic}", ctx).text


@pytest.mark.parametrize("topic", TOPICS)
def test_handwriting_rules_are_shown_with_their_true_source(full, kb, topic):
    """The Manzhouli document wants the form (附件1) handwritten and, from a holder, the own handwritten
    signature; only the Jiangsu guide wants the annotations handwritten, and says so only for new business."""
    business = kb.businesses[topic]
    texts = {lang: full.start(Context(user_id=1, lang=lang), topic).text for lang in LANGS}
    zh = texts["zh"]
    for line in zh.splitlines():
        if "签注须手写" in line:
            assert "江苏省指南" in line and "仅适用于江苏省省内企业" in line, line
    assert ("签注须手写" in zh) == (business.category == NEW_BUSINESS)
    if business.audience == "org":
        assert "签注是否须手写，满洲里文件没有写明" in zh
        form = next(r.material for r in business.materials if r.material == "application_form")
        assert "手写填写" in line_of(zh, kb.materials[form].plain.zh)  # the form: the Manzhouli rule, on its item
    else:
        assert "本人手写签名" in zh and "签名须本人手写" in zh
    # in Russian and English the reminder says to copy the Chinese exactly, not (unlabelled) by hand
    assert "от руки точно" not in texts["ru"] and "Chinese text by hand" not in texts["en"]
    for lang, mark in (("ru", "Цзянсу"), ("en", "Jiangsu")):
        assert (mark in texts[lang]) == (business.category == NEW_BUSINESS), (topic, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_every_first_screen_ends_with_its_source_and_check_date(full, kb, lang):
    manzhouli = next(s for s in kb.sources.values() if s.region == "manzhouli")
    checked = {"zh": "核对日期", "ru": "проверено", "en": "checked"}[lang]
    for topic in kb.businesses:
        lines = full.start(Context(user_id=1, lang=lang), topic).text.splitlines()
        source = [line for line in lines if line.startswith("📄")]
        assert len(source) == 1 and source[0] == lines[-1], (topic, lang)
        assert manzhouli.title in source[0] and f"{checked} {manzhouli.verified_on}" in source[0]


def test_a_lost_card_is_not_something_to_bring(full_guide, full, kb):
    from dialogs.features.inline import results

    lost = [t for t, b in kb.businesses.items() if "丢失" in b.name]
    assert lost
    bring = {"zh": "— 带上", "ru": "— принести", "en": "— bring it"}  # the instruction other businesses get
    for topic in lost:
        card = kb.materials["card_medium"]
        for lang in LANGS:
            ctx = Context(user_id=1, lang=lang)
            shared = next(r for r in results(full_guide, ctx, "", popular=[topic]) if r.topic == topic)  # 📤 分享
            for text in (full.start(ctx, topic).text, re.sub(r"<[^>]+>", "", shared.html)):
                line = line_of(text, getattr(card.plain, lang))
                assert bring[lang] not in line, (lang, line)
                assert {"zh": "卡已丢失", "ru": "утерянную карту", "en": "lost card"}[lang] in line
                assert {"zh": "客服热线", "ru": "горячей линии", "en": "hotline"}[lang] in line
        # on the checklist the card can be marked 不适用 (it cannot be brought)
        assert next(i for i in kb.checklist_items(topic) if i.material == "card_medium").optional


def destinations(engine, screens) -> set[tuple[str, str]]:
    out = set()
    for s in screens:
        for b in s.all_buttons():
            if b.data:
                action, args = parse_callback(b.data)
                out.add((action, args))
            elif b.copy_text:
                out.add(("copy", b.copy_text))
            elif b.switch_inline_query is not None:
                out.add(("share", b.switch_inline_query))
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_a_first_screen_keyboard_holds_what_to_do_next_and_more_reaches_the_rest(telegram, kb, lang):
    ctx = Context(user_id=1, lang=lang)
    hotline = kb.offices[kb.facts["hotline"].office].phones[0]
    for topic, business in kb.businesses.items():
        first = telegram.start(ctx, topic)
        assert len(first.all_buttons()) <= FIRST_SCREEN_MAX_BUTTONS, (topic, lang, [b.label for b in first.all_buttons()])
        now = destinations(telegram, [first])
        # what the applicant does next stays on the first screen
        annotations = {
            kb.annotations[c.annotation].text
            for r in business.materials
            for rs in kb.materials[r.material].rulesets
            for c in kb.rulesets[rs].checks
            if c.annotation
        }
        assert {
            ("checklist_open", topic),
            ("go", "offices"),
            ("copy", hotline),
            ("go", f"stuck:{topic}"),
            ("share", business.name),
        } <= now, (topic, now)
        assert {("copy", a) for a in annotations} <= now
        # everything the first screen offered before is one tap away behind ⋯ 更多
        more = telegram.render(f"more:{topic}", ctx)
        assert ("go", f"more:{topic}") in now
        reach = now | destinations(telegram, [more])
        before = {
            ("go", f"material:{r.material}")
            for r in business.materials
            if kb.materials[r.material].rulesets or kb.materials[r.material].notes
        }
        before |= {
            ("go", f"rules:{topic}"),
            ("go", "online"),
            ("go", f"category:{business.category}"),
            ("go", "main"),
            ("feedback", f"{topic}:1"),
            ("feedback", f"{topic}:-1"),
        }
        if business.category == NEW_BUSINESS:
            before.add(("go", f"jiangsu:{topic}"))
        if "online" in business.methods:
            before.add(("go", f"walk:{topic}.{kb.steps[0].id}"))
        assert before <= reach, (topic, before - reach)
        assert ("go", f"topic:{topic}") in destinations(telegram, [more])  # and back


@pytest.mark.parametrize("lang", LANGS)
def test_a_material_screen_gives_the_jiangsu_rules_under_their_scope_and_no_unlabelled_handwriting(full, kb, lang):
    """A material's screen is opened from every business that uses it: the Jiangsu guide's rules come
    under a heading saying what the guide covers, and the annotation is to be copied exactly (not,
    unlabelled, "handwritten")."""
    for material in kb.materials:
        text = full.render(f"material:{material}", Context(user_id=1, lang=lang)).text
        assert {"zh": "✍️ 手写签注", "ru": "Рукописная надпись", "en": "Handwritten annotation"}[lang] not in text
        assert {"zh": "逐字手写", "ru": "от руки точно", "en": "Chinese text by hand"}[lang] not in text
        jiangsu = [r.text for r in kb.rules_of(material) if r.region == "jiangsu"]
        if jiangsu:
            heading = next(i for i, line in enumerate(text.splitlines()) if all(w in line for w in JIANGSU_SCOPE[lang]))
            below = "\n".join(text.splitlines()[heading:])
            assert all(r in below for r in jiangsu), material
