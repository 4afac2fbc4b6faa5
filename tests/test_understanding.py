"""Understanding the applicant's own words (dialogs/reader.py): a question read as business × aspect
× who acts × region, the answer composed from the parts, the ask-back when the aspect depends on a
business none was named for — in the engine, the console, Telegram and the web pages.

The rules whose misreading costs a trip are each pinned by a named test that checks both what the
user sees and that the question was read as that aspect: one wrong or missing word in the
vocabulary's aspects fails it, not only the overall score of `make eval`."""

from __future__ import annotations

import html

import pytest
import yaml

from dialogs.engine import Context, parse_callback

from .test_answers import problems

ORG = "同意办理电子口岸制发卡业务"
PERSON = "同意使用本人信息办理电子口岸制发卡业务"
HOLDER = "用于处理本人的电子口岸卡及用户信息"
SEAL_RULE = "合同章、财务章或其他业务专用章都不行"
NOT_SAID = "满洲里的文件没有写明"


def ask(engine, question: str, lang: str = "zh"):
    return engine.ask(Context(user_id=1, lang=lang), question)


def shown(screen) -> list[str]:
    """The routes a screen answers with: one, or each part of a composed answer."""
    kind, _, parts = screen.route.partition(":")
    return parts.split("+") if kind == "answers" else [screen.route]


def aspects(engine, question: str) -> tuple[str, ...]:
    return engine.reader.read(question).aspects


def read_as(engine, question: str) -> set[str]:
    """The aspects read, with those a composite read took in (营业执照 + 写哪句话 → licence_annotation: annotation)."""
    read = aspects(engine, question)
    return set(read) | {w for a in read for w in engine.kb.aspects[a].when}


def press(engine, screen, label: str, lang: str = "zh"):
    button = next(b for b in screen.all_buttons() if label in b.label)
    return engine.handle(Context(user_id=1, lang=lang), button.data)


# -- rules that cost a trip: each named, each failing on one wrong synonym ----------------------------
@pytest.mark.parametrize(
    "question,lang",
    [
        ("财务专用章能用吗", "zh"),
        ("盖合同章可以吗", "zh"),
        ("财务章行不行", "zh"),
        ("其他业务专用章能盖吗", "zh"),
        ("can we use the finance seal", "en"),
        ("можно ли поставить договорную печать", "ru"),
    ],
)
def test_refused_seals_get_the_official_seal_rule_never_the_translation_seal(engine, kb, question, lang):
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:seal_official_only"], question
    assert kb.answers["seal_official_only"].plain.__getattribute__(lang) in screen.text
    assert "翻译专用章" not in screen.text
    assert "refused_seal" in aspects(engine, question)


@pytest.mark.parametrize(
    "question,wordings,lang",
    [
        ("营业执照复印件上要写哪句话", [ORG], "zh"),
        ("执照复印件空白的地方写啥", [ORG], "zh"),
        ("身份证复印件上面写点啥", [PERSON], "zh"),
        ("签注写什么", [ORG, PERSON], "zh"),
        ("我自己去注销卡，身份证复印件上写什么", [HOLDER], "zh"),
        ("что писать на копии лицензии", [ORG], "ru"),
        ("what do I write on the ID copies", [PERSON], "en"),
    ],
)
def test_the_three_annotation_wordings_are_reached_from_colloquial_questions(engine, question, wordings, lang):
    screen = ask(engine, question, lang)
    for wording in wordings:
        assert wording in screen.text, (question, screen.route)
    for other in {ORG, PERSON, HOLDER} - set(wordings):
        assert other not in screen.text, (question, other)
    assert {"annotation"} & read_as(engine, question) or engine.reader.read(question).businesses


@pytest.mark.parametrize(
    "question,expected,other",
    [
        ("经办人身份证复印件空白处签注的原话是哪句？", "answer:person_annotation", "answer:org_annotation"),
        ("营业执照那张复印件上的名字是谁来签，我作为经办人签可以不？", "answer:org_annotation", "answer:person_annotation"),
        ("执照复印件上签字必须是法人本人吗", "answer:org_annotation", "answer:person_annotation"),
    ],
)
def test_the_copy_named_picks_its_own_wording_whatever_other_words_weigh(engine, question, expected, other):
    # 原话 / 名字 / 签字 weigh for either wording: the copy named (the licence, an ID) decides which
    routes = shown(ask(engine, question))
    assert expected in routes and other not in routes, (question, routes)


@pytest.mark.parametrize(
    "question,expected",
    [
        ("营业执照复印件和身份证复印件分别写什么", ["answer:org_annotation", "answer:person_annotation"]),
        ("营业执照和身份证复印件上谁签字", ["answer:org_annotation", "answer:person_annotation"]),
        ("营业执照和身份证复印件都要盖公章吗", ["answer:seal_official_only", "answer:person_seal"]),
    ],
)
def test_both_copies_named_together_get_each_ones_rule(engine, question, expected):
    assert shown(ask(engine, question)) == expected, question


@pytest.mark.parametrize(
    "question,expected,says",
    [
        ("营业执照复印件谁签字", "answer:org_annotation", "法定代表人（负责人）签名"),
        ("身份证复印件由谁签名", "answer:person_annotation", "个人签名"),
        ("申请表谁来签", "answer:silent_form_signer", "没有写由谁签字"),
        ("我本人注销，身份证复印件谁签", "answer:holder_annotation", "本人手写签名"),
    ],
)
def test_who_signs(engine, question, expected, says):
    screen = ask(engine, question)
    assert shown(screen) == [expected] and says in screen.text, (question, screen.route)
    assert {"signer", "form_signer"} & read_as(engine, question)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("没有身份证怎么办", "zh"),
        ("香港人用什么证件办", "zh"),
        ("台湾同胞没有大陆身份证", "zh"),
        ("no chinese id card, what can we use", "en"),
        ("у директора нет китайского удостоверения", "ru"),
    ],
)
def test_id_alternatives(engine, question, lang):
    screen = ask(engine, question, lang)
    assert "answer:id_alternatives" in shown(screen), (question, screen.route)
    assert "港澳居民来往内地通行证" in screen.text and "外国人永久居留身份证" in screen.text
    # (id_alternative_doc: an ID named with its alternative, 没有大陆身份证)
    assert {"id_alternative", "id_alternative_doc", "foreign_passport"} & set(aspects(engine, question))


@pytest.mark.parametrize(
    "question,lang",
    [
        ("当初用护照办的卡，现在我自己注销能用身份证吗", "zh"),
        ("我注销自己的卡，证件类型和办卡时不一样行吗", "zh"),
        ("I cancel my own card: I used a passport back then, is my id card ok now", "en"),
    ],
)
def test_the_holders_id_must_match_the_one_used_for_the_card(engine, question, lang):
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:holder_same_id_type"], (question, screen.route)
    assert {"zh": "证件类型不一致不能受理", "en": "a different type of ID is not accepted"}[lang] in screen.text
    assert "same_id" in aspects(engine, question)


@pytest.mark.parametrize(
    "question,lang,rule",
    [
        ("法人只有俄罗斯护照", "zh", "中文翻译"),
        ("外籍员工的护照要翻译吗", "zh", "中文翻译"),
        ("у директора только российский паспорт", "ru", "перевод на китайский"),
        ("нужен ли перевод документов на китайский", "ru", "перевод на китайский"),
        ("our director only has a Russian passport", "en", "Chinese translation"),
    ],
)
def test_foreign_documents_need_a_chinese_translation(engine, question, lang, rule):
    screen = ask(engine, question, lang)
    assert "answer:foreign_translation" in shown(screen), (question, screen.route)
    assert rule in screen.text and "翻译专用章" in screen.text
    if "паспорт" in question or "passport" in question or "只有" in question:  # a passport instead of the ID card
        assert "answer:id_alternatives" in shown(screen)
    assert {"foreign_passport", "passport_translation", "foreign", "translation"} & set(aspects(engine, question))


@pytest.mark.parametrize(
    "question,lang",
    [
        ("客服电话多少", "zh"),
        ("打哪个热线咨询", "zh"),
        ("hotline number", "en"),
        ("телефон горячей линии", "ru"),
    ],
)
def test_the_hotline(engine, question, lang):
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:hotline"], (question, screen.route)
    assert "0470-2299089" in screen.text and "0470-2299090" in screen.text
    assert aspects(engine, question) == ("phone",)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("发卡中心的联系电话是多少", "zh"),
        ("what is the card centre's phone number", "en"),
        ("номер телефона центра", "ru"),
    ],
)
def test_the_card_centres_phone_is_the_hotline_not_its_address(engine, question, lang):
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:hotline"], (question, screen.route)
    assert "0470-2299089" in screen.text and "0470-2299090" in screen.text
    assert aspects(engine, question) == ("centre_phone",)


# -- seen in realistic questions ---------------------------------------------------------------------
def test_a_colour_printed_seal_gets_the_seal_rules_not_the_copy_colour_fact(engine, kb):
    screen = ask(engine, "公章可以用彩色打印的吗")
    assert shown(screen) == ["answer:seal_official_only", "answer:js_seal_ink"]
    assert SEAL_RULE in screen.text and "印泥" in screen.text and "仅适用于江苏省省内企业" in screen.text
    assert "彩色还是黑白" not in screen.text


@pytest.mark.parametrize(
    "question", ["第一次办卡要准备什么材料", "新公司第一次办电子口岸卡要准备啥", "我们是第一次办卡，要带哪些东西"]
)
def test_what_a_first_timer_prepares_is_the_new_entry_list_not_a_silent_fact(engine, question):
    screen = ask(engine, question)
    assert screen.route == "topic:new_entry", (question, screen.route)
    assert "文件没有规定" not in screen.text and "ℹ️ 文件" not in screen.text


@pytest.mark.parametrize("question", ["改公司名字要带啥", "公司改名了卡要重新办吗", "公司名字改了要准备哪些材料"])
def test_a_name_change_in_everyday_words_gets_the_change_name_business(engine, question):
    screen = ask(engine, question)
    assert screen.route == "topic:change_name", (question, screen.route)
    assert "变更单位名称" in screen.text and ORG in screen.text


@pytest.mark.parametrize(
    "question,fact", [("第一次办卡免费吗", "免费配发1张法人卡和1张操作员卡"), ("一次最多能加几个操作员", "最多新增10个")]
)
def test_a_jiangsu_fact_says_the_manzhouli_document_is_silent(engine, question, fact):
    screen = ask(engine, question)
    assert fact in screen.text and "仅适用于江苏省省内企业" in screen.text
    assert NOT_SAID in screen.text


@pytest.mark.parametrize("lang", ["zh", "ru", "en"])
def test_every_jiangsu_answer_shows_what_manzhouli_says_or_that_it_is_silent(engine, kb, lang):
    said = {"zh": "满洲里的文件：", "ru": "Документ Маньчжурии:", "en": "The Manzhouli document:"}[lang]
    silent = {"zh": NOT_SAID, "ru": "满洲里的文件没有写明", "en": "满洲里的文件没有写明"}[lang]
    for aid, a in kb.answers.items():
        text = engine.render(f"answer:{aid}", Context(lang=lang)).text
        if a.region != "jiangsu":
            assert said not in text and silent not in text, aid
        elif a.manzhouli:
            assert said in text and getattr(kb.answers[a.manzhouli].plain, lang) in text, aid
        else:
            assert silent in text, aid


@pytest.mark.parametrize("question", ["复印件要彩色的吗", "办卡要几天", "周六上班吗"])
def test_a_silent_fact_answers_a_question_about_its_topic(engine, kb, question):
    screen = ask(engine, question)
    assert len(shown(screen)) == 1 and kb.answers[shown(screen)[0].split(":")[1]].silent, (question, screen.route)
    assert "0470-2299089" in screen.text


@pytest.mark.parametrize(
    "question", ["第一次办卡要准备哪些材料", "公章可以用彩色打印的吗", "营业执照复印件要准备几份还是一份就行"]
)
def test_a_silent_fact_never_answers_because_of_shared_generic_words(engine, kb, question):
    screen = ask(engine, question)
    silent = [r for r in shown(screen) if r.startswith("answer:") and kb.answers[r[7:]].silent]
    if question.endswith("一份就行"):  # asks how many copies: that is the silent topic
        assert silent == ["answer:silent_copy_colour"]
    else:
        assert not silent, (question, screen.route)


@pytest.mark.parametrize("question", ["USBKey和共享盾在哪买", "哪里能买ukey，还有共享盾"])
def test_two_things_at_once_get_both_answers_in_one_message(engine, question):
    screen = ask(engine, question)
    assert shown(screen) == ["answer:buy_usbkey", "answer:buy_shared_dun"], (question, screen.route)
    assert "清控高科" in screen.text and "建行制卡代理网点" in screen.text
    sources = [parse_callback(b.data)[1] for b in screen.all_buttons() if b.data and b.label.startswith("📖")]
    assert sources == ["answer_source:buy_usbkey", "answer_source:buy_shared_dun"]


@pytest.mark.parametrize(
    "question,expected",
    [
        ("共享盾在哪买？USBKey呢", ["answer:buy_shared_dun", "answer:buy_usbkey"]),
        ("共享盾在哪买 那USBKey呢", ["answer:buy_shared_dun", "answer:buy_usbkey"]),
        ("USBKey在哪买？共享盾呢", ["answer:buy_usbkey", "answer:buy_shared_dun"]),
        ("想多买一个USBKey 或者共享盾 去哪买", ["answer:buy_usbkey", "answer:buy_shared_dun"]),
    ],
)
def test_a_second_ask_naming_only_the_other_thing_asks_the_same_of_it(engine, question, expected):
    # …USBKey呢: where to buy it too, not the key's card-medium rule nor nothing
    screen = ask(engine, question)
    assert shown(screen) == expected, (question, screen.route)
    assert "清控高科" in screen.text and "建行制卡代理网点" in screen.text


def test_a_second_ask_of_cues_only_is_about_what_the_first_named(engine):
    # 收件地址不是注册地址 names no mailing of its own: the mailing asked before — the authorisation signed and sealed
    screen = ask(engine, "江苏的公司能邮寄取卡吗？收件地址不是注册地址行不行")
    assert "answer:mail_authorisation" in shown(screen) and "委托书还要法人签字并盖法人章" in screen.text, screen.route


@pytest.mark.parametrize(
    "question,expected",
    [
        ("公司地址变了法人也换了 要带啥", ["topic:change_address", "topic:change_legal_rep"]),
        ("法人换了 公司名也一块改了 一起办要带啥", ["topic:change_legal_rep", "topic:change_name"]),
        ("公司搬家了，法人也换了，要办什么，客服电话多少", ["topic:change_address", "topic:change_legal_rep", "answer:hotline"]),
        ("公司名和地址都变了，要办两次吗", ["topic:change_name", "topic:change_address"]),
        (
            "公司地址变了法人也换了 这算啥业务 要带啥 还有满洲里制卡中心在几楼",
            ["topic:change_address", "topic:change_legal_rep", "city:满洲里"],
        ),
    ],
)
def test_two_changes_told_in_one_breath_get_both_businesses_and_the_other_ask(engine, question, expected):
    # the second change told in words the first one's leave (法人也换了, 公司名也一块改了): not dropped
    assert shown(ask(engine, question)) == expected, question


@pytest.mark.parametrize("lang", ["zh", "ru", "en"])
def test_a_composed_answer_shows_each_part_not_only_its_button(plain_guide, kb, lang):
    """A business, a city and a material composed into one message: each is said in the message itself
    (the business's materials, the city's offices with address and phone exactly, the material's seal and
    annotation lines), not only offered as a button."""
    from dialogs.features.answers import show

    screen = show(plain_guide, Context(user_id=1, lang=lang), ("topic:change_name", "city:通辽", "material:legal_rep_id"))
    assert screen.route == "answers:topic:change_name+city:通辽+material:legal_rep_id"
    text = screen.text
    assert "变更单位名称" in text and "业务申请书" in text
    for o in kb.cities["通辽"]:
        assert o.name in text and o.address in text and all(p in text for p in o.phones)
    assert PERSON in text and "公章" in text
    labels = [b.label for b in screen.all_buttons()]
    assert sum("变更单位名称" in x for x in labels) == 1  # one button to the business, not two


def test_seal_and_wording_in_russian(engine):
    screen = ask(engine, "какую печать ставить и что писать", "ru")
    assert shown(screen) == ["answer:seal_official_only", "answer:org_annotation", "answer:person_annotation"]
    assert ORG in screen.text and PERSON in screen.text and "公章" in screen.text


def test_a_holder_cancelling_their_own_card_in_english(engine):
    screen = ask(engine, "how do I cancel my own operator card", "en")
    assert screen.route == "topic:holder_cancel"
    assert "个人信息处理业务申请表" in screen.text and HOLDER in screen.text


def test_business_and_aspect_answer_that_aspect_with_a_button_to_the_whole_business(engine):
    screen = ask(engine, "改名的话营业执照复印件上写什么")
    assert screen.route == "answer:org_annotation" and ORG in screen.text
    routes = [parse_callback(b.data)[1] for b in screen.all_buttons() if b.data]
    assert "topic:change_name" in routes


def test_a_business_alone_opens_its_first_screen(engine):
    assert ask(engine, "公司搬家了").route == "topic:change_address"


# -- asking back -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question,lang",
    [
        ("要带哪些材料", "zh"),
        ("需要什么材料", "zh"),
        ("在吗？想咨询下 办卡都要带啥", "zh"),  # 咨询 here is asking, not the hotline
        ("what documents do I need", "en"),
        ("какие документы нужны", "ru"),
    ],
)
def test_materials_without_a_business_are_asked_back_never_guessed(engine, kb, question, lang):
    screen = ask(engine, question, lang)
    assert screen.route == "ask_business:materials" and screen.awaiting == "business_for:materials"
    assert {"zh": "办理哪项业务？", "ru": "Какую услугу", "en": "Which service"}[lang] in screen.text
    names = [b.name for b in kb.businesses.values()]
    assert all(any(label.startswith(n) for label in (b.label for b in screen.all_buttons())) for n in names)
    chosen = press(engine, screen, "变更单位名称", lang)
    assert chosen.route == "topic:change_name"


@pytest.mark.parametrize(
    "question,lang",
    [
        ("需不需要交法人的身份证复印件", "zh"),
        ("要交操作员身份证复印件吗", "zh"),
        ("旧卡用不用带上", "zh"),
        ("Is the legal representative's ID copy required?", "en"),
    ],
)
def test_whether_a_material_is_required_without_a_business_is_asked_back(engine, question, lang):
    # whether the ID copy or the card is needed depends on the business: never one material's rule
    screen = ask(engine, question, lang)
    assert screen.route.startswith("ask_business:"), (question, screen.route)
    assert {"zh": "办理哪项业务？", "en": "Which service"}[lang] in screen.text
    chosen = press(engine, screen, "企业首次办理电子口岸卡", lang)
    assert chosen.route == "topic:new_entry"


@pytest.mark.parametrize(
    "question,lang",
    [
        ("你好 想办卡", "zh"),
        ("在吗 办个业务", "zh"),
        ("你好 我想办一下卡的事", "zh"),
        ("在吗 我要弄卡", "zh"),
        ("老师好 我想办电子口岸卡", "zh"),
        ("在不在 问个事", "zh"),
        ("hello, I want a card", "en"),
        ("Здравствуйте, хочу оформить карту", "ru"),
        ("有人吗 问一下卡的事情", "zh"),
        ("想了解一下口岸卡", "zh"),
        ("Привет, подскажите по карте", "ru"),
        ("我们想办卡，不知道走哪个业务", "zh"),  # 走哪 is no mistyped 放哪 (a lost card)
        ("卡的问题", "zh"),
        ("我们老板让我来问问卡的事", "zh"),
        ("您好，打扰一下，想问问电子口岸卡办理", "zh"),
    ],
)
def test_a_greeting_or_a_bare_wish_about_the_card_is_asked_back_never_guessed(engine, question, lang):
    # only 办 and 卡 to weigh: the ranking's best (the change scope, where to apply, replacing a card) is a guess
    screen = ask(engine, question, lang)
    assert screen.route == "ask_business:process", (question, screen.route)
    assert {"zh": "办理哪项业务？", "ru": "Какую услугу", "en": "Which service"}[lang] in screen.text
    assert press(engine, screen, "企业首次办理电子口岸卡", lang).route == "topic:new_entry"


@pytest.mark.parametrize("question", ["卡", "你好", "hello"])
def test_a_greeting_or_one_word_alone_gets_the_suggestions(engine, question):
    assert ask(engine, question).route == "suggest"


@pytest.mark.parametrize(
    "question,aspect,lang",
    [
        ("盖哪个章", "seal", "zh"),
        ("复印件上要盖公章不", "seal", "zh"),
        ("what seal", "seal", "en"),
        ("写什么", "annotation", "zh"),
        ("что писать", "annotation", "ru"),
        ("签名能打印上去吗 还是得自己写", "signer", "zh"),
        ("谁签字", "signer", "zh"),
        ("那个话咋写", "annotation", "zh"),
        ("这个签字怎么签", "signer", "zh"),
    ],
)
def test_a_seal_or_wording_asked_with_nothing_telling_whose_is_asked_back(engine, question, aspect, lang):
    # the company's copies get the official seal and two wordings; a holder acting personally no seal and their own
    screen = ask(engine, question, lang)
    assert screen.route == f"ask_business:{aspect}", (question, screen.route)
    holder = press(engine, screen, "操作员卡注销业务服务", lang)
    assert shown(holder) == ["answer:holder_annotation"]
    company = press(engine, screen, "丢失补办", lang)
    assert "answer:holder_annotation" not in shown(company) and set(shown(company)) <= {
        "answer:seal_official_only",
        "answer:org_annotation",
        "answer:person_annotation",
    }


@pytest.mark.parametrize(
    "question,expected",
    [
        ("营业执照复印件盖什么章", "answer:seal_official_only"),
        ("公张盖哪个 合同章中不", "answer:seal_official_only"),
        ("Можно ли поставить печать отдела кадров?", "answer:seal_official_only"),
        ("复印件上盖哪个章才有效", "answer:seal_official_only"),
        ("经办人身份证复印件需要写啥", "answer:person_annotation"),
        ("我们公司复印件盖什么章", "answer:seal_official_only"),
        ("个人办要盖公章吗", "answer:holder_annotation"),
        ("营业执照复印见盖啥张", "answer:seal_official_only"),  # 盖啥张: the seal's homophone
        ("少一个签名可以吗", "answer:all_four_required"),
    ],
)
def test_a_seal_or_wording_asked_with_whose_told_is_answered(engine, question, expected):
    # a company document, a refused seal, a person, the company, a holder acting, or a rule the same for both
    assert expected in shown(ask(engine, question)), question


def test_whether_the_holders_id_is_required_for_a_change_is_the_change_rule(engine):
    # the change businesses do not ask for the holders' ID copies: said for the one named, or for all of them
    for question in ("改地址要不要交操作员身份证复印件", "变更类业务需不需要持卡人身份证"):
        assert ask(engine, question).route == "answer:change_no_holder_id", question


def test_whether_a_material_is_required_for_a_business_named_is_that_businesss_list(engine):
    screen = ask(engine, "公司改名需不需要法人身份证复印件")
    assert screen.route == "topic:change_name" and "法定代表人身份" in screen.text
    # a verb is not a material: whether the holder's ID is copied is the holder's copy rule
    assert ask(engine, "个人注销的话身份证要复印吗").route != "topic:holder_cancel"


@pytest.mark.parametrize(
    "question,expected",
    [
        ("证书要延期，另外赤峰有没有能办的银行", ["topic:renew_cert", "city:赤峰"]),
        ("公章以外的章能盖吗？还有乌兰浩特那边哪里能办", ["answer:seal_official_only", "city:乌兰浩特"]),
    ],
)
def test_a_second_ask_about_a_place_is_answered_beside_the_first(engine, question, expected):
    screen = ask(engine, question)
    assert shown(screen) == expected, (question, screen.route)


def test_a_city_in_the_story_is_not_a_second_ask(engine):
    assert ask(engine, "我们是满洲里的公司，卡丢了怎么办").route == "topic:reissue_lost"


def test_the_ask_back_answered_in_words(engine):
    screen = ask(engine, "要带哪些材料")
    again = engine.reply(Context(user_id=1), screen.awaiting, "我们公司改名了")
    assert again.route == "topic:change_name"
    other = engine.reply(Context(user_id=1), screen.awaiting, "客服电话多少")  # not a business: a new question
    assert other.route == "answer:hotline"


def test_a_forged_ask_back_button_gives_the_fresh_menu(engine):
    from dialogs.engine import callback_data

    for args in ("materials:nope", "nope:change_name", "materials", ""):
        screen = engine.handle(Context(user_id=1), callback_data("aspect", args))
        assert screen.stale and screen.route == "main", args
    assert engine.handle(Context(), callback_data("go", "ask_business:phone")).stale  # an aspect that needs no business


def test_the_ask_back_in_the_console(guide):
    from dialogs.console import ConsoleChat

    chat = ConsoleChat(guide, user_id=5)
    screen = chat.step("要带哪些材料")
    assert screen.route == "ask_business:materials"
    number = next(n for n, b in enumerate(screen.all_buttons(), 1) if b.label.startswith("丢失补办"))
    assert chat.step(str(number)).route == "topic:reissue_lost"
    chat.step("需要什么材料")
    assert chat.step("法人换了").route == "topic:change_legal_rep"  # answered in words
    # whose seal? asked back alike, answered for the holder's own business (no company seal)
    screen = chat.step("盖哪个章")
    assert screen.route == "ask_business:seal"
    number = next(n for n, b in enumerate(screen.all_buttons(), 1) if b.label.startswith("操作员卡注销业务服务"))
    assert chat.step(str(number)).route == "answer:holder_annotation"
    assert chat.step("你好 想办卡").route == "ask_business:process"


async def test_the_ask_back_in_telegram(fake, bot_app):
    user = fake.user()
    reply = await user.send("要带哪些材料")
    assert "办理哪项业务？" in reply.plain and "变更单位名称" in reply.labels
    await user.click(reply, "变更单位名称")
    assert "变更单位名称" in reply.plain and ORG in reply.plain
    reply = await user.send("需要什么材料")
    answered = await user.send("公司搬家了")
    assert "变更主要经营场所（住所）" in answered.plain
    whose = await user.send("写什么")
    assert "办理哪项业务？" in whose.plain
    await user.click(whose, "操作员卡注销业务服务")
    assert HOLDER in whose.plain and ORG not in whose.plain


async def test_two_things_at_once_in_telegram(fake, bot_app):
    reply = await fake.user().send("USBKey和共享盾在哪买")
    assert "清控高科" in reply.plain and "建行制卡代理网点" in reply.plain


def test_the_ask_back_on_the_web_pages(tmp_path, kb):
    import httpx

    from .test_web import press as web_press
    from .test_web import web_server

    with (
        web_server(tmp_path / "web.db", kb) as (url, _guide),
        httpx.Client(base_url=url, follow_redirects=True, timeout=20) as client,
    ):
        page = client.get("/ask", params={"q": "要带哪些材料"})
        assert page.status_code == 200 and "办理哪项业务？" in page.text
        chosen = web_press(client, page.text, "变更单位名称")
        assert chosen.status_code == 200 and html.escape(ORG) in chosen.text and "变更单位名称" in chosen.text
        whose = client.get("/ask", params={"q": "盖哪个章"})
        assert "办理哪项业务？" in whose.text
        company = web_press(client, whose.text, "丢失补办")
        assert html.escape(SEAL_RULE) in company.text and html.escape(HOLDER) not in company.text
        both = client.get("/ask", params={"q": "USBKey和共享盾在哪买"})
        assert "清控高科" in both.text and "建行制卡代理网点" in both.text


# -- the knowledge: aspects are validated like the rest ----------------------------------------------------
def edit_vocabulary(directory, change):
    path = directory / "vocabulary.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_an_aspect_naming_an_unknown_answer_business_or_aspect_is_refused(knowledge_copy):
    def change(data):
        seal = next(a for a in data["aspects"] if a["id"] == "seal")
        seal["routes"].append("answer:no_such")
        seal["per_business"] = {"no_business": "answer:hotline"}
        seal["when"] = ["no_aspect"]

    edit_vocabulary(knowledge_copy, change)
    text = problems(knowledge_copy)
    assert "unknown route 'answer:no_such'" in text and "unknown business 'no_business'" in text
    assert "unknown aspect 'no_aspect'" in text and "vocabulary.yaml:" in text


def test_a_word_naming_two_aspects_is_refused(knowledge_copy):
    edit_vocabulary(knowledge_copy, lambda d: next(a for a in d["aspects"] if a["id"] == "seal")["words"].append("财务章"))
    assert "'财务章' already names the aspect 'refused_seal'" in problems(knowledge_copy)


def test_a_jiangsu_fact_can_only_point_at_a_manzhouli_answer(knowledge_copy):
    from .test_answers import edit_answer

    edit_answer(knowledge_copy, "js_seal_ink", lambda r: r.update(manzhouli="max_operators"))
    edit_answer(knowledge_copy, "hotline", lambda r: r.update(manzhouli="seal_official_only"))
    text = problems(knowledge_copy)
    assert "'max_operators' is not a Manzhouli answer" in text
    assert "only a Jiangsu fact names the Manzhouli answer" in text


# -- who acts and where from -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    ["我是持卡人，离职了公司不配合，怎么办", "我离职了，自己的卡怎么注销", "I left the company, how do I cancel my card"],
)
def test_a_holder_who_left_gets_the_holders_own_business(engine, question):
    screen = ask(engine, question)
    assert screen.route in ("topic:holder_cancel", "answer:holder_service"), (question, screen.route)
    assert engine.reader.read(question).holder


def test_a_company_cancelling_a_leavers_card_is_the_companys_business(engine):
    assert ask(engine, "员工离职了，公司要注销他的操作员卡").route == "topic:cancel_operator"


def test_the_legal_person_card_asked_about_after_the_company_closed_gets_its_business_and_the_explanation(engine):
    # 那个法人卡还要去销吗 (whether) + 没执照咋办 (how, the licence handed back): the cancellation and the 情况说明
    screen = ask(engine, "公司已经注销了 营业执照都交回去了 那个法人卡还要去销吗 没执照咋办")
    assert {"topic:cancel_legal", "answer:cancel_explanation"} <= set(shown(screen)), screen.route


def test_a_card_unused_for_years_that_now_says_expired_is_the_expired_cards_reissue(engine):
    # 好几年 … 提示过期: expired long ago (not a renewal); 还能用吗 names nothing of its own — no guess beside it
    screen = ask(engine, "好几年没报关了 那张卡一直扔抽屉里 现在插上提示过期 还能用吗 要办啥")
    assert shown(screen)[0] == "topic:reissue_expired" and "answer:id_alternatives" not in shown(screen), screen.route


@pytest.mark.parametrize("question", ["法人换了 卡这边需要做什么", "我是会计。老板把法人转给他儿子了，卡这边需要做什么？"])
def test_what_to_do_in_other_words_opens_the_business(engine, question):
    assert shown(ask(engine, question))[0] == "topic:change_legal_rep", question


def test_how_asked_with_the_businesss_own_verb_opens_it_beside_the_other_ask(engine):
    # 怎么解 (unlock it), after 卡锁了: the unlocking's screen, and the online ask beside it
    routes = shown(ask(engine, "卡锁了 怎么解 能网上解吗"))
    assert routes[0] == "topic:unlock" and "answer:online_apply" in routes, routes


def test_the_upload_format_asked_in_other_words_from_a_jiangsu_city_is_the_upload_rule(engine):
    # 网上传附件 (网上 + 传附件, not 上传) 格式和大小: the Jiangsu upload rule, never which form to fill
    assert ask(engine, "网上传附件有格式和大小要求吗 我们在常州").route == "answer:upload_files"


def test_a_leaving_operators_card_wanted_cancelled_with_an_ask_shows_the_companys_cancellation(engine):
    # 操作员走了 (not 老板 走了, though 老板 is named in the ask): the company cancels the leaver's card
    screen = ask(engine, "有个操作员走了 他那张卡想销掉 要老板签字啥的不")
    assert shown(screen)[0] == "topic:cancel_operator", screen.route


@pytest.mark.parametrize(
    "question",
    [
        "我是外籍员工，本人去办卡注销，护照翻译件盖什么章",
        "我是外籍的 用护照办的操作员卡 现在自己要注销 翻译件用盖啥章",
        "我是俄罗斯人 之前在公司当操作员 现在自己去处理卡 护照要翻译吗 翻译盖啥章",
    ],
)
def test_a_foreign_holder_cancelling_personally_gets_the_holders_translation_rule(engine, question):
    # 本人去办卡注销 / 自己要注销 / 自己去处理卡 in a clause of its own: the holder's translation seal (翻译专用章 only),
    # never the company's (翻译专用章或申请单位公章)
    screen = ask(engine, question)
    assert "answer:holder_translation" in shown(screen), (question, screen.route)
    assert "answer:foreign_translation" not in shown(screen) and "或申请单位公章" not in screen.text


@pytest.mark.parametrize(
    "question,expected",
    [
        ("我是操作员 离职了 需要原单位盖章吗", "answer:holder_annotation"),
        ("持卡人自己能不能去注销", "topic:holder_cancel"),
        ("原来公司倒闭了 我的操作员卡咋办", "topic:holder_cancel"),
    ],
)
def test_the_holder_speaking_of_themselves_in_other_words_is_the_holders_business(engine, question, expected):
    # 我是操作员 (as 我是持卡人), 自己能不能去注销: the holder's own cancellation — no company seal on their copy
    assert ask(engine, question).route == expected, question


@pytest.mark.parametrize(
    "question,expected",
    [
        ("公司要把卡都注销了 可我是法人 人在国外 身份证复印件签不了字 咋整", ["answer:cancel_explanation"]),
        ("注销法人卡 法人签不了字", ["answer:cancel_explanation"]),
        ("法人不在国内 签不了字咋整", ["answer:org_annotation", "answer:hotline"]),
    ],
)
def test_a_legal_rep_who_cannot_sign_gets_the_explanation_only_for_a_cancellation(engine, question, expected):
    # 相关情况说明 replaces the legal rep's papers in a cancellation only; elsewhere the signature rule and the hotline
    assert shown(ask(engine, question)) == expected, question


def test_the_operator_personally_named_by_the_company_is_not_the_holder_acting(engine):
    # 操作员本人要来吗, asked by the company cancelling the card (like 员工本人): the company's cancellation
    assert shown(ask(engine, "注销操作员卡要带啥，操作员本人要来吗"))[0] == "topic:cancel_operator"


@pytest.mark.parametrize(
    "question,expected",
    [
        ("卡坏球了", "topic:replace_card"),
        ("公司挪地方了 卡要改不", "topic:change_address"),
        ("公司黄了 卡咋办", "topic:cancel_legal"),  # as 公司不干了
    ],
)
def test_dialect_words_for_what_happened_name_the_business(engine, question, expected):
    assert ask(engine, question).route == expected, question


def test_a_kind_named_beside_a_business_gets_its_summary_beside_the_business(engine, kb):
    # 补办操作员卡 (lost or expired? not told) beside 解锁法人卡: the unlocking and what 补办 covers, in one message
    screen = ask(engine, "我要补办操作员卡，以及解锁法人卡，分别带什么")
    assert shown(screen) == ["topic:unlock", "category:reissue"], screen.route
    assert kb.categories["reissue"].summary in screen.text


def test_an_ask_of_a_kind_without_which_one_beside_other_asks_gets_the_kind(engine):
    # 补卡需要什么 (lost or expired?) is not dropped beside the fee and the time: the reissue's kinds
    routes = shown(ask(engine, "补卡需要什么？补卡收费吗？补卡多久？"))
    assert "category:reissue" in routes and "answer:silent_processing_time" in routes, routes


def test_both_cards_named_to_be_cancelled_get_both_cancellations(engine):
    screen = ask(engine, "公司注销了，法人卡和操作员卡都要注销吗，带啥")
    assert shown(screen) == ["topic:cancel_legal", "topic:cancel_operator"], screen.route


@pytest.mark.parametrize("question", ["个人注销操作员卡去哪办理", "我自己去注销卡 在哪办"])
def test_where_a_holder_cancels_is_the_holders_business_screen(engine, question):
    # its note says the document names the offices for companies only (call the hotline); not "a holder can cancel"
    assert ask(engine, question).route == "topic:holder_cancel", question


def test_a_question_from_jiangsu_gets_the_jiangsu_answer_with_manzhouli_beside_it(engine):
    local = ask(engine, "江苏的企业能邮寄取卡吗")
    assert engine.reader.read("江苏的企业能邮寄取卡吗").jiangsu
    assert shown(local) == ["answer:js_counter_mail"] and "仅适用于江苏省省内企业" in local.text
    assert "满洲里的文件：" in local.text
    manzhouli = ask(engine, "能邮寄取卡吗")
    assert shown(manzhouli) == ["answer:silent_mail_mzl"] and "满洲里的文件没有提到邮寄取卡" in manzhouli.text


def test_the_licence_copys_seal_is_the_official_seal(engine):
    screen = ask(engine, "营业执照复印件要盖几个章")
    assert shown(screen) == ["answer:seal_official_only"] and SEAL_RULE in screen.text


def test_a_fact_about_other_businesses_never_answers_for_the_one_named(engine, kb):
    """The card-medium fact does not list 丢失补办: a lost card's question gets its business's own screen."""
    assert "reissue_lost" not in kb.answers["card_medium"].businesses
    screen = ask(engine, "丢了卡还要带卡吗")
    assert screen.route == "topic:reissue_lost"
    fees = ask(engine, "换卡要交钱吗")  # the free first set is the new company's, not a replacement's
    assert shown(fees) == ["answer:silent_fees"]


def test_materials_for_two_businesses_named_show_both_businesses(engine, kb):
    """Both happened (renamed and moved): each business's first screen in one message, not a choice."""
    screen = ask(engine, "公司改名了，也搬家了，要带什么材料")
    assert shown(screen) == ["topic:change_name", "topic:change_address"]
    assert kb.businesses["change_name"].name in screen.text and kb.businesses["change_address"].name in screen.text


@pytest.mark.parametrize("question", ["证书下个月到期，卡也摔坏了", "卡锁了，另一张卡的证书也快到期了，这算啥业务"])
def test_two_situations_told_get_both_businesses(engine, question):
    assert len(set(shown(ask(engine, question))) & {"topic:renew_cert", "topic:replace_card", "topic:unlock"}) == 2, question


def test_the_ask_back_on_the_command_line_lists_the_businesses(monkeypatch, capsys, kb):
    from .conftest import run_cli

    code, out, _ = run_cli(monkeypatch, capsys, "ask", "要带哪些材料")
    assert code == 0 and "办理哪项业务？" in out
    assert all(f"• {b.name}" in out for b in kb.businesses.values())


def test_whether_the_annotation_may_be_printed_gets_the_labelled_jiangsu_rule_and_manzhouli_beside_it(engine):
    screen = ask(engine, "签注可以打印吗")
    assert shown(screen) == ["answer:js_annotation_by_self", "answer:form_handwritten"]
    assert "仅适用于江苏省省内企业" in screen.text and "满洲里的文件：" in screen.text and "必须手写" in screen.text


def test_a_holder_asks_about_their_own_id_copy(engine):
    screen = ask(engine, "注销自己的卡要带身份证原件吗")
    assert shown(screen) == ["answer:holder_copy"] and "本人身份证明材料交复印件" in screen.text


@pytest.mark.parametrize("question", ["广州这边能不能盖一次章然后复印多张", "江苏的，盖章的纸复印了能用吗"])
def test_a_seal_photocopied_gets_the_official_seal_rule_and_the_labelled_jiangsu_ink_rule(engine, question):
    screen = ask(engine, question)
    assert shown(screen)[:2] == ["answer:seal_official_only", "answer:js_seal_ink"], (question, screen.route)
    assert "江苏" in screen.text


@pytest.mark.parametrize(
    "question,lang",
    [
        ("营业执照复印件上的签名可以由经办人代签吗", "zh"),
        ("can someone else sign the business licence copy instead of the director", "en"),
    ],
)
def test_who_signs_the_licence_copy_is_the_manzhouli_rule_with_jiangsu_labelled_beside_it(engine, question, lang):
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:org_annotation", "answer:js_annotation_by_self"], (question, screen.route)
    assert ORG in screen.text


@pytest.mark.parametrize(
    "question", ["which words must be handwritten on the licence copy", "what do we write by hand on the business license copy"]
)
def test_what_is_handwritten_on_the_licence_copy_is_its_annotation(engine, question):
    screen = ask(engine, question, "en")
    assert shown(screen)[0] == "answer:org_annotation", (question, screen.route)
    assert ORG in screen.text


@pytest.mark.parametrize(
    "question,lang",
    [
        ("We are a government agency with no business licence, what do we give instead", "en"),
        ("我们是社会团体没有营业执照交什么", "zh"),
    ],
)
def test_an_organisation_without_a_licence_gets_what_replaces_it(engine, question, lang):
    assert shown(ask(engine, question, lang)) == ["answer:licence_default"], question


def test_a_licence_already_cancelled_gets_the_explanation_not_a_lost_card(engine):
    screen = ask(engine, "营业执照已经注销掉了，法人卡怎么注销")
    assert shown(screen) == ["answer:cancel_explanation"], screen.route


def test_whether_one_still_goes_after_applying_online_is_the_pickup(engine):
    screen = ask(engine, "网上提交以后还用到现场吗")
    assert "answer:online_pickup" in shown(screen), screen.route


@pytest.mark.parametrize(
    "question,lang", [("能在网上办吗？网址是多少", "zh"), ("Can I apply on the internet? Which website?", "en")]
)
def test_each_ask_in_its_own_clause_is_answered(engine, question, lang):
    # "online?" alone is a general word, but asked as a question of its own it is answered beside the site
    # (and, as every online answer, with the card still collected in person)
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:online_apply", "answer:system_url", "answer:online_pickup"], (question, screen.route)


def test_a_situation_told_before_the_question_does_not_take_the_answer(engine):
    # the refused seal is the story; the question is whether the holder can cancel the card personally
    screen = ask(engine, "离开公司两个月了，本人的操作员卡要注销，原公司不愿意盖章，可以自己去办吗")
    assert shown(screen)[0] in ("topic:holder_cancel", "answer:holder_service"), screen.route
    # "unused for years" is the story, not a question about validity
    assert ask(engine, "卡好几年没用了，已经过期，还能补办吗").route == "topic:reissue_expired"


def test_a_city_with_where_in_another_clause_gets_the_citys_offices(engine):
    assert ask(engine, "我在通辽，这边有办卡的网点吗，在哪个路").route == "city:通辽"


def test_whose_id_copy_to_bring_for_a_change_is_the_change_list_without_the_holders(engine):
    screen = ask(engine, "公司改名，要带谁的身份证复印件")
    assert shown(screen) == ["answer:change_no_holder_id"], screen.route
    assert "法定代表人身份证明材料" in screen.text and "持卡人" in screen.text
    assert ask(engine, "法定代表人换人了，该办什么").route == "topic:change_legal_rep"


@pytest.mark.parametrize(
    "question,expected", [("去哪里买共享顿", "answer:buy_shared_dun"), ("法人身份证复印见上写什么", "answer:person_annotation")]
)
def test_a_three_character_word_mistyped_in_its_last_character_is_corrected(engine, question, expected):
    assert expected in shown(ask(engine, question)), question
    # never the first character: 他的卡 is not 我的卡
    assert ask(engine, "他的卡丢了怎么办").route == "topic:reissue_lost"


def test_what_to_write_by_hand_on_an_id_copy_is_its_wording_not_whether_it_is_handwritten(engine):
    screen = ask(engine, "操作员身份证复印件上手写什么")
    assert shown(screen) == ["answer:person_annotation"], screen.route
    assert PERSON in screen.text
    # whether it must be handwritten is still the handwriting rule
    assert shown(ask(engine, "签注必须手写吗")) == ["answer:js_annotation_by_self", "answer:form_handwritten"]


def test_whether_the_legal_rep_signs_the_id_copy_or_a_seal_is_enough_gets_both_rules(engine):
    screen = ask(engine, "法人身份证复印件要法人亲自签吗，还是盖公章就行")
    # (in the order asked: the signature, then the seal)
    assert shown(screen) == ["answer:person_annotation", "answer:person_seal"], screen.route
    assert PERSON in screen.text


def test_the_id_used_for_the_card_told_in_the_story_gets_the_same_id_rule(engine):
    # told before the question, the ID the card was made with is what the question is about
    screen = ask(engine, "以前用回乡证办的卡，现在有身份证了，注销用哪个")
    assert "answer:holder_same_id_type" in shown(screen), screen.route


# -- round C's failure classes, each in words of its own ------------------------------------------------
@pytest.mark.parametrize(
    "question,lang",
    [
        ("我们厂以前从没办过电子口岸卡，这次要申请，得准备哪些东西", "zh"),
        ("We have never applied for an e-port card before. What should we prepare?", "en"),
    ],
)
def test_a_first_timer_telling_their_story_gets_the_new_entry_list_not_the_ask_back(engine, question, lang):
    screen = ask(engine, question, lang)
    assert screen.route == "topic:new_entry", (question, screen.route)


@pytest.mark.parametrize(
    "question,expected",
    [
        ("老板换人了，这种情况走什么业务？另外执照复印件谁来签名", ["topic:change_legal_rep", "answer:org_annotation"]),
        ("网站地址是多少？代办人可以就写法人吗", ["answer:system_url", "answer:agent_choice"]),
    ],
)
def test_a_story_then_two_asks_answers_both(engine, question, expected):
    screen = ask(engine, question)
    assert all(r in shown(screen) for r in expected), screen.route


def test_the_sentence_on_a_named_persons_id_copy_is_the_persons_wording(engine):
    screen = ask(engine, "代办人身份证复印件上那句话怎么写")
    assert shown(screen) == ["answer:person_annotation"], screen.route
    assert PERSON in screen.text


def test_a_foreign_holder_cancelling_their_own_card_gets_the_holders_translation_rule(engine):
    # 当操作员 is 当 + 操作员 (never "corrected" to 加操作员), and the holder's context wins over the company's rule
    screen = ask(engine, "我是外籍员工，原来在公司当操作员，现在本人去注销，护照翻译件能盖公司的章吗")
    assert shown(screen)[0] == "answer:holder_translation", screen.route
    assert "answer:foreign_translation" not in shown(screen)


@pytest.mark.parametrize("question", ["公司执照早就注销了，法人卡还要注销吗", "我想把法人卡注销掉，公司执照都注销了，能办吗"])
def test_cancelling_the_legal_card_after_the_licence_is_cancelled_is_never_a_new_entry(engine, question):
    screen = ask(engine, question)
    assert set(shown(screen)) & {"answer:cancel_explanation", "topic:cancel_legal"}, screen.route
    assert "topic:new_entry" not in shown(screen)


def test_buying_another_shared_dun_is_where_to_buy_it_not_its_price(engine):
    screen = ask(engine, "多买一个共享盾的话上哪买")
    assert shown(screen) == ["answer:buy_shared_dun"], screen.route


@pytest.mark.parametrize("question", ["滿洲裡建設銀行在哪", "滿州里的網點地址"])
def test_traditional_and_variant_characters_read_as_the_city(engine, question):
    assert ask(engine, question).route == "city:满洲里", question


def test_a_russian_director_without_a_chinese_id_gets_the_alternatives(engine):
    screen = ask(engine, "Китайского удостоверения личности у директора нет, что можно дать вместо?", "ru")
    assert "answer:id_alternatives" in shown(screen), screen.route


def test_what_is_handwritten_on_a_passport_copy_is_the_persons_wording(engine):
    screen = ask(engine, "Какие слова директор пишет от руки на копии паспорта?", "ru")
    assert shown(screen) == ["answer:person_annotation"], screen.route
    assert PERSON in screen.text


def test_where_the_centre_is_and_its_phone_are_both_answered(engine):
    screen = ask(engine, "Where is the card centre in Manzhouli and what's its phone number?", "en")
    assert "answer:hotline" in shown(screen) and "city:满洲里" in shown(screen), screen.route


@pytest.mark.parametrize("question", ["去办的话需要什么材料", "持卡人的身份证复印件需不需要带过去"])
def test_materials_or_an_id_copy_without_a_business_are_asked_back(engine, question):
    # 去办的话 is not 去办的人 (the agent); whose ID copy is needed depends on the business
    assert ask(engine, question).route.startswith("ask_business:"), question


def test_the_agents_id_copy_is_the_agents_material(engine):
    assert ask(engine, "经办人的身份证复印件要不要带").route == "material:agent_id"


def test_what_to_upload_to_have_the_card_mailed_is_the_labelled_jiangsu_authorisation(engine):
    screen = ask(engine, "选邮寄取卡的话，需要多传什么文件")
    assert shown(screen)[0] == "answer:mail_authorisation", screen.route
    assert "邮寄业务委托书" in screen.text and "江苏省指南" in screen.text


def test_a_common_word_is_never_corrected_into_a_business(engine):
    # 卡放了 (left unused) is not 卡坏了 (broken)
    assert ask(engine, "卡放了两年没动，过期了还能补吗").route == "topic:reissue_expired"


def test_an_id_card_lost_is_not_the_e_port_card_lost(engine):
    screen = ask(engine, "法人的身份证掉了，正在补办，先用护照可以吗")
    assert shown(screen) == ["answer:id_alternatives"], screen.route
    assert "topic:reissue_lost" not in shown(screen)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("操作员卡插电脑上驱动怎么装", "zh"),
        ("进出口收发货人备案是不是先要办好", "zh"),
        ("同一个操作员两个公司都能用吗", "zh"),
        ("Is there parking near the card centre?", "en"),
        ("Мы зарегистрированы за границей, без филиала в Китае — можно карту?", "ru"),
    ],
)
def test_a_topic_neither_document_covers_gets_the_hotline_not_a_neighbouring_fact(engine, question, lang):
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:hotline"], (question, screen.route)
    assert "0470-2299089" in screen.text
    assert {"outside", "outside_situation"} & set(aspects(engine, question))  # (a topic, or a situation told)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("地址搬了 卡是不是得从新办一张", "zh"),
        ("The registered address of our firm changed. Anything to do with the e-port card?", "en"),
    ],
)
def test_a_company_that_moved_gets_the_change_of_address(engine, question, lang):
    screen = ask(engine, question, lang)
    assert screen.route == "topic:change_address", (question, screen.route)


def test_a_key_that_does_not_respond_when_plugged_in_is_the_card_replacement(engine):
    screen = ask(engine, "U盾插上没反应，要办什么业务")
    assert screen.route == "topic:replace_card", screen.route


def test_which_service_for_a_broken_card_and_whether_to_bring_it_answers_both(engine):
    screen = ask(engine, "our key is broken, pc doesnt read it. which service, and do we bring the old card?", "en")
    assert set(shown(screen)) == {"topic:replace_card", "answer:card_medium"}, screen.route


def test_whether_one_must_still_travel_after_applying_online_is_the_pickup_rule(engine):
    screen = ask(engine, "Если подать онлайн, всё равно нужно ехать за картой?", "ru")
    assert "answer:online_pickup" in shown(screen), screen.route


def test_what_the_person_handing_in_the_papers_needs_for_themselves_is_the_agents_id(engine):
    screen = ask(engine, "The guy who drops off our papers, what does he need to bring for himself?", "en")
    assert shown(screen) == ["material:agent_id"], screen.route


def test_where_asked_beside_a_city_in_its_own_clause_is_that_citys_offices(engine):
    screen = ask(engine, "营业执照盖什么章？还有海拉尔那边在哪里办")
    assert shown(screen) == ["answer:seal_official_only", "city:呼伦贝尔"], screen.route


def test_a_passport_instead_of_a_chinese_id_and_its_translation_are_both_answered(engine):
    screen = ask(
        engine,
        "My boss is from Kazakhstan and has only a passport, can that be used instead of a Chinese ID? Does it need translating?",
        "en",
    )
    assert set(shown(screen)) == {"answer:id_alternatives", "answer:foreign_translation"}, screen.route


def test_whether_to_do_the_business_asked_beside_another_ask_shows_the_business_too(engine):
    screen = ask(engine, "老板换成外国人了，要办变更吗？他的护照要不要翻译")
    assert shown(screen) == ["topic:change_legal_rep", "answer:foreign_translation"], screen.route


def test_a_licence_handed_back_told_before_the_question_gets_the_explanation_that_replaces_it(engine):
    screen = ask(engine, "我们不干了，法人卡也要销掉吗？执照已经交上去了，手里没有执照咋办？")
    assert "answer:cancel_explanation" in shown(screen), screen.route


def test_a_bank_branch_named_alone_gets_its_citys_offices(engine):
    screen = ask(engine, "口岸支行能办卡吗")
    assert screen.route == "city:满洲里", screen.route


@pytest.mark.parametrize("question", ["执照复印件需要交吗", "营业执照复印件要不要"])
def test_whether_the_licence_copy_is_required_without_a_business_is_asked_back(engine, question):
    screen = ask(engine, question)
    assert screen.route.startswith("ask_business"), screen.route


@pytest.mark.parametrize(
    "question,lang,expected",
    [
        ("Our driver will drop off the papers, what does he need to bring?", "en", "material:agent_id"),
        ("Is there no branch in Hailar where we can do the card?", "en", "city:呼伦贝尔"),
        ("我们是外国公司，法人是俄罗斯人，护照要翻译吗", "zh", "answer:foreign_translation"),
    ],
)
def test_a_documented_question_sharing_a_word_with_an_outside_topic_keeps_its_answer(engine, question, lang, expected):
    screen = ask(engine, question, lang)
    assert expected in shown(screen) and "answer:hotline" not in shown(screen), (question, screen.route)


# -- several asks in one message ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "question,lang,expected",
    [
        ("执照复印件上写啥？另外护照复印件上写啥", "zh", ["answer:org_annotation", "answer:person_annotation"]),
        ("几点开门，顺便问下热线", "zh", ["answer:silent_hours", "answer:hotline"]),
        ("解锁要带什么，顺便问下客服电话", "zh", ["topic:unlock", "answer:hotline"]),
    ],
)
def test_each_ask_of_a_question_is_answered(engine, kb, question, lang, expected):
    """Two asks in one message, split at the sentence or at 另外/还有/顺便/and: each gets its answer, in the
    message itself (not only as a button)."""
    screen = ask(engine, question, lang)
    assert all(r in shown(screen) for r in expected), (question, screen.route)
    for r in expected:
        if r.startswith("answer:"):
            assert getattr(kb.answers[r[7:]].plain, lang).splitlines()[0] in screen.text, r


def test_words_combine_only_inside_one_ask(engine):
    """公章 in one ask and 翻译 in the next is not a question about the translation seal."""
    assert "translation_seal" not in aspects(engine, "复印件要盖公章吗？外文声明要翻译吗")
    assert "translation_seal" in aspects(engine, "翻译件盖公章可以吗")


# -- a situation told in the applicant's own words ---------------------------------------------------
@pytest.mark.parametrize(
    "question,business",
    [
        ("老板换过了 口岸卡那边怎么处理", "change_legal_rep"),  # legal representative + changed
        ("公司一张卡都没有 要办的话准备啥", "new_entry"),  # a first card
        ("卡丢在出租车上了怎么办", "reissue_lost"),
        ("原来那个法人走了，换了个新法人，卡咋整", "change_legal_rep"),  # told, not asking old-or-new
        ("单位新来了个出纳 也想给她办张卡 要啥", "new_operator"),  # a new member of staff + a card
        ("财务部又来了个新人 也要操作员卡", "new_operator"),
        ("法定代表人刚变更 卡这边走啥流程", "change_legal_rep"),
        ("操作员卡不知道放哪了 找遍了", "reissue_lost"),
    ],
)
def test_a_situation_told_in_other_words_names_its_business(engine, kb, question, business):
    """The business is read from the concepts the situation combines (the same concepts its own words
    combine: 法定代表人 + 变了, 操作员 + 增加), not only from a phrase of the vocabulary; a silent topic only
    told in the story is not what is asked."""
    screen = ask(engine, question)
    assert screen.route == f"topic:{business}", (question, screen.route)
    assert kb.businesses[business].name in screen.text


def test_a_business_read_from_concepts_never_overrides_an_aspect_that_explains_them(engine):
    """身份证丢了 is a question about the ID's alternatives, not a lost card."""
    reader = engine.reader
    assert reader.business_by_concepts("法人身份证丢了") == "reissue_lost"  # the concepts alone would say so
    assert reader.read("法人身份证丢了，拿护照行不行").businesses == ()


@pytest.mark.parametrize("question", ["得提供些啥", "办卡要递交哪些东西", "需要带哪些证件"])
def test_what_to_hand_in_asked_in_any_words_asks_which_business(engine, question):
    """交/带/准备/提供/递交 + 哪些/什么/啥 asks for the materials: which business? — never a guess."""
    screen = ask(engine, question)
    assert screen.route == "ask_business:materials", (question, screen.route)
    assert "办理哪项业务" in screen.text


@pytest.mark.parametrize(
    "question,lang,route",
    [
        ("Какая форма нужна, чтобы я сам аннулировал свою карту?", "ru", "answer:holder_form"),
        ("What are your working hours?", "en", "answer:silent_hours"),
    ],
)
def test_an_aspect_is_named_by_every_word_of_its_concept(engine, kb, question, lang, route):
    """An aspect named like a synonym group (forms, hours, fee …) is read from the group's words too, so the
    ranking and the reader share one list of words per concept."""
    screen = ask(engine, question, lang)
    assert route in shown(screen), (question, screen.route)
    assert getattr(kb.answers[route[7:]].plain, lang).splitlines()[0] in screen.text


def test_new_operator_cards_are_applied_for_logged_in_with_the_legal_person_card(engine, kb):
    screen = ask(engine, "新增操作员卡用什么账号登录")
    assert shown(screen) == ["answer:legal_card_login"], screen.route
    # the Jiangsu guide's fact, labelled, with what the Manzhouli document says (nothing)
    assert kb.answers["legal_card_login"].plain.zh in screen.text
    assert "仅适用于江苏省" in screen.text and NOT_SAID in screen.text


def test_a_choice_between_businesses_is_answered_with_the_one_the_story_names(engine, kb):
    """…想再添一个操作员，这算变更还是新办: the story names the business (adding an operator card); the choice
    asked (还是) does not replace it with one of the words offered."""
    screen = ask(engine, "已经有法人卡了 想再添一个操作员 这算变更还是新办")
    assert screen.route == "topic:new_operator", screen.route
    assert kb.businesses["new_operator"].name in screen.text


def test_a_word_mixing_latin_and_chinese_is_read_whole(engine, kb):
    """U盾 is the USBKey (not the 共享盾 its second character also names)."""
    screen = ask(engine, "U盾在哪能买到")
    assert shown(screen) == ["answer:buy_usbkey"], screen.route
    assert "清控高科" in screen.text


def test_every_city_named_gets_its_offices(engine, kb):
    screen = ask(engine, "海拉尔和乌兰浩特都能办吗")
    assert shown(screen) == ["city:呼伦贝尔", "city:乌兰浩特"], screen.route
    for city in ("呼伦贝尔", "乌兰浩特"):
        assert all(o.name in screen.text and o.phones[0] in screen.text for o in kb.cities[city])


@pytest.mark.parametrize(
    "question,lang,route",
    [
        ("We are a foundation without a business licence, what can we submit?", "en", "answer:licence_default"),
        ("We do not have a business licence - what instead?", "en", "answer:licence_default"),
        ("Без лицензии можно подать документы?", "ru", "answer:licence_default"),
    ],
)
def test_without_a_licence_in_english_and_russian(engine, question, lang, route):
    """ "without" / "no" / "без" with the licence: what may be provided instead."""
    assert route in shown(ask(engine, question, lang)), question


def test_a_space_between_two_chinese_asks_ends_the_first(engine, kb):
    """Typed like a chat message, a space separates two asks: both are answered."""
    screen = ask(engine, "执照交原件还是复印件 副本行吗")
    assert {"answer:copies", "answer:licence_default"} <= set(shown(screen)), screen.route
    assert kb.answers["copies"].plain.zh.splitlines()[0] in screen.text


def test_the_application_form_asked_original_or_copy_is_the_forms_rule(engine, kb):
    """申请表 + 原件还是复印件: the form's own rule (an original), not that the ID and licence are copies."""
    screen = ask(engine, "申请表交原件还是复印件 能打印吗")
    assert "answer:form_original" in shown(screen) and "answer:copies" not in shown(screen), screen.route
    assert kb.answers["form_original"].plain.zh in screen.text


def test_getting_a_card_in_russian_is_obtaining_it_not_collecting_it(engine, kb):
    """«получить карту» is to obtain a card (the business), not to collect a card already made."""
    screen = ask(engine, "Как получить карту, если компания новая?", "ru")
    assert screen.route == "topic:new_entry", screen.route


@pytest.mark.parametrize(
    "question,route",
    [
        ("我是持卡人 卡丢了好久了 还能自己注销吗", "topic:holder_cancel"),  # the ask's business, not the story's
        ("公司的卡丢了好久了 干脆注销掉行不行", "category:cancel"),  # the kind asked: which of its businesses?
    ],
)
def test_a_business_told_in_the_story_yields_to_the_one_asked(engine, kb, question, route):
    screen = ask(engine, question)
    assert route in shown(screen) and "topic:reissue_lost" not in shown(screen), (question, screen.route)
    assert "丢失补办" not in screen.text.splitlines()[0]


def test_a_holder_saying_they_cancel_it_themselves_is_the_holders_business(engine):
    """我…自己…注销 in a sentence of its own is the holder acting personally, not the company's cancellation."""
    screen = ask(engine, "离职了 公司不配合 我想自己把卡注销")
    assert screen.route in ("topic:holder_cancel", "answer:holder_service"), screen.route


def test_how_long_asked_beside_another_ask_is_answered_too(engine, kb):
    screen = ask(engine, "换卡要多久？要交钱吗")
    assert {"answer:silent_processing_time", "answer:silent_fees"} <= set(shown(screen)), screen.route


def test_a_word_as_typed_wins_over_its_stem(engine):
    """ "accountant" stems to "account" (a login account): the word itself names a member of staff."""
    screen = ask(engine, "We need an operator card for our new accountant", "en")
    assert screen.route == "topic:new_operator", screen.route


def test_a_composed_answer_on_the_web_pages_and_in_the_console_says_each_part(engine, kb, tmp_path):
    """The web page of the same question (the real server) and the console's text: the city's offices with
    their phones (tappable on the web) and the business's materials are in both."""
    import html
    import urllib.parse

    import httpx

    from .test_web import web_server

    question = "卡丢了怎么补办？另外赤峰能办吗"
    screen = ask(engine, question)
    assert shown(screen) == ["topic:reissue_lost", "city:赤峰"], screen.route
    with web_server(tmp_path / "web.db", kb) as (url, _guide):
        page = html.unescape(httpx.get(f"{url}/ask?q={urllib.parse.quote(question)}", follow_redirects=True).text)
    for o in kb.cities["赤峰"]:
        assert o.name in page and o.address in page and o.phones[0] in page
        assert o.name in screen.text and o.phones[0] in screen.text
    assert 'href="tel:' in page and "业务申请书" in page and "业务申请书" in screen.text


def test_the_person_signing_is_not_a_holder_acting_personally(engine, kb):
    """本人签字 on an ID copy is the person whose ID it is, not a holder cancelling their own card: the company's
    wording of the ID copies, never the holder's."""
    screen = ask(engine, "身份证复印件的日期写哪天 是本人签字那天吗")
    assert shown(screen) == ["answer:person_annotation"], screen.route
    assert PERSON in screen.text and HOLDER not in screen.text


# -- situations, who acts, and asks phrased in the applicant's words (tuning on rounds F–I) ---------------
def test_a_phone_asked_beside_a_city_gets_that_citys_offices_not_only_the_hotline(engine, kb):
    screen = ask(engine, "赤峰能买usbkey吗 电话多少")
    assert shown(screen) == ["answer:buy_usbkey", "city:赤峰"]
    assert all(o.phones[0] in screen.text for o in kb.cities["赤峰"])


@pytest.mark.parametrize(
    "question,aspect",
    [
        ("要带执照去不", "licence_required"),
        ("法人身份证复印件需要吗", "id_required"),
        ("需要谁的身份证复印件", "whose_id"),
    ],
)
def test_whether_something_is_needed_in_spoken_words_is_asked_back(engine, question, aspect):
    """The spoken yes-no 不, the thing named before 需要, whose ID copies: it depends on the business."""
    assert ask(engine, question).route == f"ask_business:{aspect}"


def test_a_holder_cancelling_is_the_holders_business_whatever_the_story_names(engine):
    """…卡也找不到了，我自己能注销吗: the holder's business (not the lost card's), led by its rule that the card is
    brought only if there is one."""
    assert shown(ask(engine, "原公司不管了，卡也找不到了，我自己能注销吗")) == [
        "answer:holder_card_if_any",
        "topic:holder_cancel",
    ]


@pytest.mark.parametrize("question", ["操作员卡早就丢了 还能注销吗", "卡找不到了，还能不能注销"])
def test_a_lost_card_to_cancel_with_nobody_named_asks_whose(engine, question):
    """A lost card, asking whether it can still be cancelled, nobody named: whose card (the company's
    cancellations or the holder's own) is asked back — the holder's brings the card only if any."""
    screen = ask(engine, question)
    assert screen.route.startswith("ask_business"), (question, screen.route)
    assert "topic:holder_cancel" in shown(engine.reply(Context(user_id=1), screen.awaiting, "我是持卡人，离职了"))


def test_an_employee_who_left_told_by_the_company_is_the_companys_cancellation(engine):
    """уволился is also what a holder says; 'со своей стороны' (from our side) says the company speaks."""
    question = "Наш сотрудник уволился, хотим со своей стороны аннулировать его карту"
    assert not engine.reader.read(question).holder
    assert ask(engine, question, "ru").route == "topic:cancel_operator"


def test_a_kind_of_business_with_what_to_do_gets_what_that_kind_covers(engine, kb):
    screen = ask(engine, "这些卡我们都不想要了，要去办啥")
    assert screen.route == "answer:cancel_scope" and kb.answers["cancel_scope"].plain.zh.splitlines()[0] in screen.text


def test_which_kinds_of_business_there_are_is_the_main_menu(engine):
    assert ask(engine, "what kinds of business can I apply for", "en").route == "main"


def test_an_ask_pointing_back_at_the_story_is_about_the_story(engine):
    """…首次办卡免费，我们也是这样吗: the fee told in the story is what is asked, not the business alone."""
    assert ask(engine, "听说江苏新企业首次办卡免费，我们满洲里也是这样吗").route in (
        "answer:free_first_set",
        "answer:silent_fees",
    )


def test_a_city_without_an_office_gets_where_the_offices_are(engine):
    assert ask(engine, "我们在鄂尔多斯，附近能办卡吗").route == "offices"


@pytest.mark.parametrize(
    "question,lang",
    [
        ("签字能用签名章代替吗", "zh"),
        ("can the legal rep use an e-signature on the licence copy", "en"),
    ],
)
def test_a_substitute_for_a_handwritten_signature_is_outside_both_documents(engine, question, lang):
    assert ask(engine, question, lang).route == "answer:hotline"


@pytest.mark.parametrize(
    "question,expected",
    [
        ("申请书和个人信息处理业务申请表有什么区别", ["answer:forms_named"]),
        ("申请表该用哪一张", ["answer:forms_named"]),
        ("能不能网上办，不用跑一趟", ["answer:online_apply", "answer:online_pickup"]),
        ("执照用原件还是复印件，正本还是副本", ["answer:copies", "answer:licence_default"]),
        ("前几天卡锁了，要带什么", ["topic:unlock"]),  # 前几天 tells when, it does not ask how many days
        ("新招了两个报关员，要给他们办卡", ["topic:new_operator"]),
        ("操作员卡密码忘了怎么弄", ["topic:unlock"]),
    ],
)
def test_everyday_phrasings_of_an_aspect(engine, question, expected):
    assert shown(ask(engine, question)) == expected, question


def test_whether_to_update_the_card_after_a_move_in_english_shows_the_business(engine):
    screen = ask(engine, "We moved our office. Do we need to change anything on the card?", "en")
    assert "topic:change_address" in shown(screen)


def test_who_may_be_the_agent_is_the_agent_rule(engine):
    assert ask(engine, "Who can be the handling agent for our application?", "en").route == "answer:agent_choice"


def test_a_document_named_in_one_ask_is_what_the_next_ask_is_about(engine):
    """…the passport copy? What must be written on it by hand?: the person's wording, not the form's handwriting."""
    screen = ask(engine, "Does the passport copy need the company seal? What must be written on it by hand?", "en")
    assert {"answer:person_seal", "answer:person_annotation"} <= set(shown(screen))


def test_the_employee_named_in_the_third_person_is_not_a_holder_speaking(engine):
    question = "公司要注销员工的操作员卡，他本人不配合怎么办"
    assert not engine.reader.read(question).holder
    assert ask(engine, question).route != "topic:holder_cancel"


@pytest.mark.parametrize(
    "question,lang",
    [
        ("我是持卡人，卡早就丢了，想自己注销，行吗", "zh"),
        ("I left the company and lost my card, can I still cancel it myself?", "en"),
    ],
)
def test_a_holder_whose_card_is_lost_cancelling_gets_only_the_holders_business(engine, question, lang):
    """A holder acting personally has one business; the lost card told is not the company's reissue."""
    assert shown(ask(engine, question, lang))[0] in ("topic:holder_cancel", "answer:holder_card_if_any"), question
    assert "topic:reissue_lost" not in shown(ask(engine, question, lang))


# -- after rounds J–M: classes of phrasing, each worded apart from the rounds ---------------------------
@pytest.mark.parametrize(
    "question,business",
    [
        ("证书马上过期了，要办啥", "renew_cert"),  # about to expire: a renewal, not an expired card's reissue
        ("单位刚招了个报关的，想给他也整张卡", "new_operator"),  # 报关的 is an operator; 整张卡 adds a card
        ("我们刚领了执照，想办个口岸卡，得准备点啥", "new_entry"),  # a fresh licence: the first card
        ("以后不做进出口了，口岸卡怎么处理", "cancel_legal"),  # giving up trade: the company's cancellation
        ("那张卡让我压折了，插不进读卡器", "replace_card"),  # bent, will not go in: a broken card
    ],
)
def test_a_spoken_situation_names_its_business(engine, kb, question, business):
    screen = ask(engine, question)
    assert f"topic:{business}" in shown(screen), question
    assert kb.businesses[business].name in screen.text


@pytest.mark.parametrize(
    "question,business,lang",
    [
        ("Мы недавно открыли компанию в Маньчжурии, что нужно для карты?", "new_entry", "ru"),  # not opening hours
        ("Мы закрыли фирму, что теперь делать с картой электронного порта?", "cancel_legal", "ru"),
        ("Our company got a new name last week. What should we do about the card?", "change_name", "en"),  # last ≠ lost
    ],
)
def test_russian_and_english_idiom_of_a_situation_names_its_business(engine, question, business, lang):
    assert f"topic:{business}" in shown(ask(engine, question, lang)), question


@pytest.mark.parametrize(
    "question,expected",
    [
        ("我们该填哪张表？", "answer:forms_named"),  # which form to fill: both named, not the company form alone
        ("总共要交几份？", "ask_business"),  # how many papers in all depends on the business: asked back
        ("卡需不需要拿过去", "ask_business"),  # whether to bring the card depends on the business
    ],
)
def test_a_vague_question_asks_back_or_names_both_forms(engine, question, expected):
    assert ask(engine, question).route.startswith(expected), question


@pytest.mark.parametrize("question,business", [("盾弄丢了咋整", "reissue_lost"), ("盾被偷了咋整啊", "reissue_lost")])
def test_dialect_how_to_goes_to_the_business_told(engine, question, business):
    """咋整 / 咋弄 ask what to do: the business told, not a fact about the word 盾."""
    assert f"topic:{business}" in shown(ask(engine, question)), question


@pytest.mark.parametrize(
    "question,lang", [("我们是常州的企业，第一次办卡", "zh"), ("We are a company in Wuxi, first card", "en")]
)
def test_a_city_of_jiangsu_names_the_jiangsu_guide(engine, question, lang):
    assert engine.reader.read(question).jiangsu, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("除了满洲里，别的城市能办吗", "offices", "zh"),  # every office, not the one city named
        ("Can we apply in other cities too?", "offices", "en"),
        ("卡的默认密码是啥", "answer:hotline", "zh"),  # neither document says: the hotline
        ("身份证用手机拍照打印的可以吗", "answer:silent_copy_colour", "zh"),  # the copies' form: not said
        ("补办都分啥情况，卡丢了和卡过期算一种吗", "answer:reissue_scope", "zh"),  # what a kind covers
        ("单一窗口咋注册", "answer:register_account", "zh"),  # registering, not a company's first card
    ],
)
def test_a_question_gets_its_aspect_not_a_neighbour(engine, question, expected, lang):
    assert ask(engine, question, lang).route == expected, question


def test_the_persons_form_and_the_companys_form_told_apart_name_both(engine):
    assert ask(engine, "个人用的表和公司用的表是一张表吗").route == "answer:forms_named"


def test_the_cardholder_acting_personally_gets_the_holders_wording(engine):
    """持卡人自己办: the holder's own annotation (用于处理本人的…), not the company's person wording."""
    screen = ask(engine, "持卡人自己办的话，身份证复印件签注写啥")
    assert shown(screen) == ["answer:holder_annotation"] and HOLDER in screen.text


@pytest.mark.parametrize(
    "question,expected",
    [
        ("У нас поменяли юридический адрес. Нужно ли что-то оформлять?", "topic:change_address"),
        ("Я больше не работаю в этой компании, хочу сам закрыть свою карту", "topic:holder_cancel"),
        ("Какую лицензию приносить — фубэнь подойдёт?", "answer:licence_default"),  # 正本/副本 written in Cyrillic
    ],
)
def test_russian_idiom_of_an_address_a_leaver_and_the_licence_kind(engine, question, expected):
    assert expected in shown(ask(engine, question, "ru")), question


def test_a_holder_cancelling_asking_about_an_agent_gets_that_the_holder_acts_personally(engine, kb):
    screen = ask(engine, "我离职了，自己注销操作员卡，要经办人一起去吗")
    assert "answer:holder_service" in shown(screen) and "answer:agent_choice" not in shown(screen)
    assert kb.answers["holder_service"].plain.zh in screen.text


@pytest.mark.parametrize(
    "question,expected",
    [
        ("网上加操作员，用什么登录", "answer:legal_card_login"),  # an added operator card: the legal person card
        ("网上申请用什么登录", "answer:login_account"),
    ],
)
def test_what_one_logs_in_with_depends_on_the_business(engine, question, expected):
    assert ask(engine, question).route == expected, question


def test_a_way_proposed_by_the_asker_does_not_outweigh_the_situation_told(engine, kb):
    """…是不是要先注销再新办一张: the asker's guess names other businesses; the locked card told decides."""
    screen = ask(engine, "密码输错三次锁了，是不是要先注销再新办一张")
    assert shown(screen) == ["topic:unlock"] and kb.businesses["unlock"].name in screen.text


@pytest.mark.parametrize(
    "question,business",
    [
        ("俺们单位名儿换了 那口岸卡得咋弄", "change_name"),  # 俺们, 名儿 (儿化), 咋弄
        ("嗯 那个 就是 卡的口令 输错好几回 锁住了", "unlock"),  # fillers between the words
        ("咱厂子要倒闭了 法人卡咋处理", "cancel_legal"),  # a company closing is its legal person card's cancellation
        ("Our firm went bankrupt. What about the e-port cards?", "cancel_legal"),
        ("Фирма ликвидирована, что делать с картой?", "cancel_legal"),
        ("卡掰断了 还能用不", "replace_card"),  # a broken card in other words
        ("The card is bent and the reader does not work with it", "replace_card"),
        ("We hired a customs broker last week, he needs a card", "new_operator"),  # broker is not "broken"
    ],
)
def test_spoken_forms_and_situations_name_their_business(engine, question, business):
    """Dialect, fillers and 儿化 are read as the written words; a situation told (closing the company, a
    card snapped, a new hire) names the business in zh/ru/en."""
    assert f"topic:{business}" in shown(ask(engine, question, "en" if question.isascii() else "zh")), question


def test_a_kind_of_business_asked_for_gets_that_kinds_scope(engine):
    """What a kind covers (补办分什么) is that kind's scope answer, not another kind's that shares words."""
    assert shown(ask(engine, "补办都分什么情况 丢卡跟过期一样不")) == ["answer:reissue_scope"]


def test_asks_on_separate_lines_or_numbered_are_each_answered(engine):
    """A question typed as a list (1. … 2. …, or one ask per line) is several asks, each answered."""
    routes = shown(ask(engine, "1、执照复印件能盖财务章吗\n2、申请表能用电脑打印吗"))
    assert "answer:seal_official_only" in routes and "answer:form_handwritten" in routes, routes


def test_a_business_requested_beside_another_ask_gets_its_screen_too(engine):
    """卡丢了要补办 is a request (its business's screen), not a story: the phone asked beside it does not drop it."""
    routes = shown(ask(engine, "法人卡丢了要补办 另外制卡中心的电话是多少"))
    assert "topic:reissue_lost" in routes and "answer:hotline" in routes, routes


@pytest.mark.parametrize("question", ["以个人身份去办，复印件还要盖章吗", "我自己办的话身份证复印件要盖章不"])
def test_someone_acting_personally_gets_the_holders_rule(engine, question):
    """A person acting for themselves (个人办, 自己办), no business named: a holder's one business, so the
    holder's own copy rule (no company seal), not the company's seal rule."""
    assert shown(ask(engine, question)) == ["answer:holder_annotation"], question


def test_the_id_a_card_was_issued_with_asks_the_same_id_rule(engine):
    """The ID used back then told apart from the one now (以前办卡拿的是港澳通行证…): the holder's same-ID rule."""
    assert "answer:holder_same_id_type" in shown(ask(engine, "以前办卡拿的是港澳通行证，现在换成身份证了，能用身份证注销吗"))


def test_a_jiangsu_fact_outside_jiangsu_comes_with_the_manzhouli_rule(engine):
    """Someone else signing for the legal rep, no Jiangsu named: what the Manzhouli document says (the
    person's own signature) is shown, with Jiangsu's 本人手写 labelled beside it — never Jiangsu alone."""
    for question in ("老板出国了，签字能找人代签吗", "老板出国了，身份证复印件上的签名找人代签可以吗"):
        routes = shown(ask(engine, question))
        assert "answer:person_annotation" in routes and "answer:js_annotation_by_self" in routes, (question, routes)


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("what docs do we need", "ask_business", "en"),  # docs: the materials, asked back
        ("申请表填哪张", "answer:forms_named", "zh"),  # which form, the words in any order
        ("公张盖在执照复印件上行吗", "answer:seal_official_only", "zh"),  # 张 typed for 章
        ("身份证复印件是不是都得盖", "answer:person_seal", "zh"),  # each copy sealed
        ("厂子不干了 法人卡咋办", "topic:cancel_legal", "zh"),  # the company stops trading
    ],
)
def test_everyday_forms_of_an_aspect_are_read(engine, question, expected, lang):
    screen = ask(engine, question, lang)
    assert screen.route.startswith(expected) or expected in shown(screen), (question, screen.route)


def test_a_phone_beside_a_city_is_that_citys_unless_the_hotline_is_named(engine):
    """Asks read with the whole question's places: 那边电话 beside a city is that city's offices' phones; the
    card centre's hotline named in its own ask (另外客服热线) is the hotline, not dropped for the city."""
    routes = shown(ask(engine, "赤峰能办吗？另外客服热线是多少"))
    assert "city:赤峰" in routes and "answer:hotline" in routes, routes
    assert "answer:hotline" not in shown(ask(engine, "赤峰有网点吗 那边电话多少"))


def test_a_business_told_with_a_place_asked_gets_both(engine):
    """卡坏了，赤峰能办吗: the business's screen (what to bring) and that city's offices."""
    routes = shown(ask(engine, "卡坏了 赤峰能办吗 那边电话多少"))
    assert routes[:2] == ["topic:replace_card", "city:赤峰"], routes


@pytest.mark.parametrize("question", ["卡好像出问题了 怎么办", "把办理流程发我一下"])
def test_a_vague_trouble_or_procedure_asks_which_business(engine, question):
    """Something wrong with the card, or "the procedure", with no business told: the flow's own question
    (which business?), then that business's screen — never a guess nor suggestions."""
    screen = ask(engine, question, "en" if question.isascii() else "zh")
    assert screen.route.startswith("ask_business"), (question, screen.route)
    assert shown(engine.reply(Context(user_id=1), screen.awaiting, "卡被锁了")) == ["topic:unlock"]


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        # a sentence telling the situation is not an ask: its words (typed, printed …) do not pick the answer
        ("Our clerk typed a wrong PIN several times, now the card is locked. What should we bring?", "topic:unlock", "en"),
        # a second ask joined by и (… и куда ехать): each answered
        ("Мы новая фирма. Какие документы нужны и куда ехать?", "answer:onsite_where", "ru"),
        ("Does the handling person need to be on our staff?", "answer:agent_choice", "en"),
        (
            "Our business licence was revoked. What do we give instead of it to cancel the card?",
            "answer:cancel_explanation",
            "en",
        ),
    ],
)
def test_russian_and_english_sentences_are_read_as_story_and_asks(engine, question, expected, lang):
    assert expected in shown(ask(engine, question, lang)), question


@pytest.mark.parametrize(
    "question,expected,absent",
    [
        (
            "执照原件找不着了 能用情况说明代替吗",
            "answer:cancel_explanation",
            "topic:reissue_lost",
        ),  # the licence lost, not the card
        ("证书过期好几个月了 现在还能延期吗", "topic:reissue_expired", "topic:renew_cert"),  # expired long ago: past a renewal
        ("新公司头一回办 能给几张卡", "answer:free_first_set", None),  # how many cards a first set has
        ("执照复印件盖好公章就够了吧", "answer:all_four_required", None),  # the seal alone is not enough
    ],
)
def test_the_situation_told_decides_between_neighbouring_answers(engine, question, expected, absent):
    routes = shown(ask(engine, question))
    assert expected in routes and absent not in routes, (question, routes)


def test_a_company_that_cannot_be_found_is_not_a_lost_card(engine):
    """原来公司也找不到了 tells that the company is gone, not that the card is lost: the holder's business, no
    lost card's reissue nor the card-if-any rule."""
    routes = shown(ask(engine, "原来公司早就找不到了，我的操作员卡能自己注销吗"))
    assert routes == ["topic:holder_cancel"], routes


def test_russian_verb_forms_of_cancelling_are_read(engine):
    """аннулирую / аннулируем (not only the infinitive) name the cancellation: the holder's own rule."""
    assert shown(ask(engine, "Нужна ли печать компании, если я сам аннулирую свою карту?", "ru")) == ["answer:holder_annotation"]


@pytest.mark.parametrize(
    "question,lang",
    [
        ("Our certificate expired two years ago. Can we still use the card?", "en"),
        ("Сертификат истёк полгода назад, что делать?", "ru"),
    ],
)
def test_a_certificate_expired_long_ago_is_the_expired_cards_reissue(engine, question, lang):
    """Expired long ago (past tense and a time ago, in English or Russian): the expired card's reissue, not a
    renewal — "expired" is not stemmed together with "expires"."""
    assert shown(ask(engine, question, lang)) == ["topic:reissue_expired"], question


def test_russian_words_are_known_by_their_first_letters_too(engine):
    """A Russian verb form the stemmer leaves apart from the vocabulary's infinitive (аннулируем) is read by
    its stem's first letters."""
    assert shown(ask(engine, "Мы переезжаем в другой офис, что делать с картой?", "ru")) == ["topic:change_address"]


@pytest.mark.parametrize("question,business", [("解锁可以网上办吗", "unlock"), ("变更法人能在网上申请不", "change_legal_rep")])
def test_a_business_asked_online_gets_the_business_and_the_online_way(engine, question, business):
    """Whether a business can be done online: its screen, how applying online goes and that the card is still
    collected in person — not the screen alone."""
    assert shown(ask(engine, question)) == [f"topic:{business}", "answer:online_apply", "answer:online_pickup"], question


def test_words_combine_inside_each_ask_of_a_chat_typed_question(engine):
    """Two asks typed with a space (…拿护照行不 护照得翻译不): each combines its own words — a foreign passport
    (what replaces the ID) in the first, its translation in the second — both answered."""
    routes = shown(ask(engine, "老外做法人 用护照可以不 护照要翻译成中文不"))
    assert "answer:id_alternatives" in routes and "answer:foreign_translation" in routes, routes


def test_a_person_in_a_later_ask_acts_on_the_paper_asked_before(engine):
    """执照复印件…谁签？我是经办人能替他签不: the agent signing is about the licence copy asked before — its rule."""
    assert "answer:org_annotation" in shown(ask(engine, "营业执照复印件上的签字 一定要法人签吗 我这个经办人替他签行不"))


@pytest.mark.parametrize("question", ["咋办啊 急", "这卡咋整啊"])
def test_what_to_do_with_nothing_told_asks_which_business(engine, question):
    assert ask(engine, question).route.startswith("ask_business"), question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("我是法人 想以个人名义把法人卡注销了", "topic:cancel_legal", "zh"),  # a holder's own business is an operator card's
        ("我以前是操作员 现在要销自己的卡 身份证复印件要盖章吗", "answer:holder_annotation", "zh"),  # 销 alone: cancelling
        (
            "The company is closed and we have no business licence anymore. How do we cancel the cards?",
            "answer:cancel_explanation",
            "en",
        ),
        ("Какой телефон у zhika zhongxin?", "answer:hotline", "ru"),  # 制卡中心 in pinyin
    ],
)
def test_who_acts_and_what_is_gone_are_read(engine, question, expected, lang):
    assert expected in shown(ask(engine, question, lang)), question


def test_someone_else_leaving_is_not_the_askers_own_card(engine):
    """经办人离职了 told by the company (no 我): not a holder's own cancellation — the agent's ID wording asked."""
    routes = shown(ask(engine, "之前的经办人离职了 换了个新人 经办人身份证复印件上写啥"))
    assert "answer:person_annotation" in routes and not any("holder" in r for r in routes), routes


@pytest.mark.parametrize(
    "question,expected,absent",
    [
        (
            "无锡的 卡寄到别的地址 收件地址跟执照不一样行吗",
            "answer:mail_authorisation",
            "answer:holder_same_id_type",
        ),  # not an ID mismatch
        ("卡丢了 要登报声明吗", "answer:hotline", None),  # a newspaper notice: neither document says
    ],
)
def test_a_mismatch_or_a_notice_is_read_for_what_it_is_about(engine, question, expected, absent):
    routes = shown(ask(engine, question))
    assert expected in routes and absent not in routes, (question, routes)


@pytest.mark.parametrize(
    "question,expected,absent",
    [
        ("自己去注销要带啥 身份证复印件上写啥", "answer:holder_annotation", "answer:person_annotation"),  # the holder's wording
        ("外籍报关员的护照要翻译吗 翻译件找谁盖章", "answer:foreign_translation", "answer:person_seal"),  # the translation's seal
        ("新公司网上申请需要上传什么", "answer:upload_files", "answer:mail_authorisation"),  # nothing mailed
    ],
)
def test_each_ask_is_answered_in_the_questions_context(engine, question, expected, absent):
    routes = shown(ask(engine, question))
    assert expected in routes and absent not in routes, (question, routes)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("办卡要带些什么", "zh"),  # 办卡 is no business: a weak ranking is not a guess to answer with
        ("要交几个人的身份证", "zh"),  # whose IDs: not the holder's business without a holder
        ("Do we need the legal representative's ID card?", "en"),
        ("Do I need to bring the card?", "en"),
        ("Нужен ли паспорт директора?", "ru"),
    ],
)
def test_whether_something_is_needed_without_a_business_asks_which(engine, question, lang):
    assert ask(engine, question, lang).route.startswith("ask_business"), question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("What's the address of the card center?", "offices", "en"),  # where, nothing else: every office
        ("老板让我去办卡 我啥也不知道 从哪开始", "ask_business", "zh"),  # where to start: which business?
        ("卡用不了了 咋办", "ask_business", "zh"),  # can't use the card: locked, broken or expired — asked
        ("证书好像到期了 咋办", "topic:renew_cert", "zh"),  # a hedge (好像) between the words
        ("能找代理公司帮我们办吗", "answer:agent_choice", "zh"),  # an agency is the agent
        ("法人签名能用私章代替吗", "answer:hotline", "zh"),  # a personal seal for a signature: neither document says
    ],
)
def test_everyday_situations_and_asks_are_read(engine, question, expected, lang):
    screen = ask(engine, question, lang)
    assert screen.route.startswith(expected) or expected in shown(screen), (question, screen.route)


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("Our colleague lost his operator card and has left the company. What should we do?", "topic:cancel_operator", "en"),
        ("同事的操作员卡丢了 人也已经离职了 公司这边咋办", "topic:cancel_operator", "zh"),  # not a reissue for a leaver
        ("We want two more operator cards. What do they bring and can we apply online?", "online", "en"),  # the second ask
        ("Where can I get the application form?", "answer:silent_forms_where", "en"),
        ("Какую печать ставить на перевод паспорта?", "answer:foreign_translation", "ru"),  # the translation's seal
    ],
)
def test_the_leaver_the_second_ask_and_the_translation_seal(engine, question, expected, lang):
    screen = ask(engine, question, lang)
    assert expected in shown(screen), (question, screen.route)


@pytest.mark.parametrize(
    "question,expected",
    [
        ("卡咋给锁上了 咋弄开", "topic:unlock"),
        ("办个卡得花多少银子", "answer:silent_fees"),
        ("老法人退了 换了新的 口岸卡咋弄", "topic:change_legal_rep"),  # not the old-or-new ID question
    ],
)
def test_northern_spoken_words_are_read(engine, question, expected):
    assert expected in shown(ask(engine, question)), question


def test_what_goes_on_a_copy_is_its_wording(engine):
    """ "what goes on the copy" (English idiom) asks the annotation: the person's wording for a passport copy."""
    assert "answer:person_annotation" in shown(
        ask(engine, "The director only has a foreign passport. What goes on the passport copy?", "en")
    )


def test_an_id_named_in_the_ask_about_a_business_is_how_it_is_done(engine):
    """我能拿身份证自己去换卡吗: the ID names how the business is done — the business's screen, not the ID copy's seal."""
    assert shown(ask(engine, "我是操作员 卡坏了 公司不管 我能自己拿身份证去换卡吗")) == ["topic:replace_card"]


def test_cards_bought_by_the_company_itself_is_the_paid_cards_fact(engine):
    """新增的操作员卡要自己买吗 (a Jiangsu city named): the labelled fact that added cards are bought at the company's cost."""
    assert "answer:self_paid_cards" in shown(ask(engine, "无锡的企业新增的操作员卡得自己买吗"))


@pytest.mark.parametrize(
    "question,lang", [("How much time does it take to get the card?", "en"), ("Как быстро сделают карту?", "ru")]
)
def test_how_much_time_is_the_duration_not_the_fee(engine, question, lang):
    assert shown(ask(engine, question, lang)) == ["answer:silent_processing_time"], question


def test_a_later_ask_about_the_price_is_about_the_thing_bought_before(engine):
    """Where can I buy a USB key, and how much is it? — "it" is the key: its price (the documents do not say)."""
    routes = shown(ask(engine, "Where can I buy a USB key, and how much is it?", "en"))
    assert "answer:buy_usbkey" in routes and "answer:silent_usbkey_price" in routes, routes


def test_a_kind_of_business_with_materials_asks_which_of_its_businesses(engine):
    """补办带啥 (no lost or expired told): which reissue — not the ranking's guess of one."""
    assert ask(engine, "补办要带啥").route.startswith("ask_business")


@pytest.mark.parametrize(
    "question,lang",
    [
        ("How many business days does it take before the card is ready?", "en"),
        ("Через сколько рабочих дней будет готова карта?", "ru"),
        ("交完材料多少个工作日能领卡", "zh"),
    ],
)
def test_how_many_working_days_until_the_card_is_ready_is_the_silent_processing_time(engine, question, lang):
    """Working days, or days until the card can be collected: how long processing takes — the documents do not say."""
    assert shown(ask(engine, question, lang)) == ["answer:silent_processing_time"], question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("We already have e-port cards, but a new clerk joined our import team. What is needed to get one for him?", "en"),
        ("Our new accountant needs an e-port card too, we have cards already. What should we prepare?", "en"),
        ("У нас теперь новый декларант, ему тоже нужна карта. Что принести?", "ru"),
    ],
)
def test_a_new_colleague_told_in_english_or_russian_is_the_new_operator_business(engine, question, lang):
    """A story of a new declarant, clerk or employee for a company that already has cards: an added operator card."""
    assert shown(ask(engine, question, lang)) == ["topic:new_operator"], question


@pytest.mark.parametrize(
    "question,lang", [("这表咋填", "zh"), ("how should we fill in the form?", "en"), ("Как заполнить заявление?", "ru")]
)
def test_how_to_fill_the_form_without_a_business_is_asked_back(engine, question, lang):
    """Which form is filled in depends on the business (the company's 附件1, the holder's own 附件2): asked back."""
    screen = ask(engine, question, lang)
    assert screen.route.startswith("ask_business:"), (question, screen.route)
    chosen = press(engine, screen, "企业首次办理电子口岸卡", lang)
    assert chosen.route == "material:application_form"


@pytest.mark.parametrize(
    "question,lang",
    [
        ("可以线上申请吗", "zh"),
        ("Is it possible to do everything over the internet?", "en"),
        ("Можно ли подать документы через интернет?", "ru"),
    ],
)
def test_applying_online_always_says_the_card_is_still_collected_in_person(engine, question, lang):
    """Manzhouli's online way ends at the counter: after verification the agent collects the card with their own ID."""
    routes = shown(ask(engine, question, lang))
    assert "answer:online_apply" in routes and "answer:online_pickup" in routes, (question, routes)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("Я теперь работаю в другой компании и хочу сам закрыть свою карту. Какой бланк заполнять?", "ru"),
        ("Уже год работаю в другом месте, хочу закрыть мою карту сам — какой бланк?", "ru"),
    ],
)
def test_a_holder_closing_their_own_card_while_working_elsewhere_gets_the_holders_form_not_the_hours(engine, question, lang):
    """ "I work at another firm" tells the story, it does not ask the opening hours; closing one's own card is the
    holder's own cancellation, whose form is the personal one (附件2)."""
    routes = shown(ask(engine, question, lang))
    assert "answer:holder_form" in routes and "answer:silent_hours" not in routes, (question, routes)


@pytest.mark.parametrize(
    "question,lang",
    [("哪些材料要原件 哪些交复印件", "zh"), ("Which documents must be originals and which can be copies?", "en")],
)
def test_which_materials_are_originals_gets_the_copies_rule_and_the_original_form(engine, question, lang):
    """Originals or copies, no business named: the documents are copies and the new business's form is an
    original — both rules, not the copies rule alone (which reads as "copies of everything")."""
    routes = shown(ask(engine, question, lang))
    assert "answer:copies" in routes and "answer:form_original" in routes, (question, routes)


def test_originals_or_copies_when_collecting_the_card_is_the_pickup(engine):
    """What to bring when collecting the card after an online application: the pickup's originals, beside the site."""
    routes = shown(ask(engine, "网上申请在哪个网址？通过以后去拿卡带什么，要原件吗？"))
    assert "answer:online_pickup" in routes and "answer:form_original" not in routes, routes


@pytest.mark.parametrize("question,lang", [("在清控高科那买个USBKey要花多少钱", "zh"), ("买共享盾得花多少钱", "zh")])
def test_the_price_of_a_key_where_it_is_bought_is_the_silent_price_with_where_to_buy(engine, question, lang):
    """Buying a key and asking its price: the documents do not say the price — never the labelled fact about
    added cards being paid for; where to buy it comes beside."""
    routes = shown(ask(engine, question, lang))
    assert routes[0] == "answer:silent_usbkey_price" and "answer:self_paid_cards" not in routes, routes


def test_where_to_find_the_form_called_by_its_short_name_is_the_silent_forms_fact(engine):
    """表在哪儿找 (the form called 表): where to get it — the documents do not say — not the offices' addresses."""
    assert shown(ask(engine, "那个表在哪儿找啊")) == ["answer:silent_forms_where"]


def test_an_aspect_answered_alike_for_two_businesses_named_is_answered_once(engine):
    """Two businesses named with one ask whose answer is the same for both (bring the old card?): that answer,
    not two business screens that leave the ask unanswered."""
    assert shown(ask(engine, "解锁跟换卡要不要带卡去")) == ["answer:card_medium"]


@pytest.mark.parametrize(
    "question,lang",
    [
        ("When will my card be ready?", "en"),
        ("What is the processing time?", "en"),
        ("Is the card ready the same day?", "en"),
        ("Карту выдают в тот же день?", "ru"),
    ],
)
def test_when_the_card_is_ready_is_the_silent_processing_time_never_a_business(engine, question, lang):
    """ "my card", "the card" in a question of time are not a broken or lost card: how long it takes is not said."""
    assert shown(ask(engine, question, lang)) == ["answer:silent_processing_time"], question


def test_a_new_accountant_in_russian_is_an_operator_card_not_the_accounting_seal(engine):
    """бухгалтер (an accountant, the new colleague) is not бухгалтерская печать (the refused accounting seal)."""
    assert shown(ask(engine, "Мы взяли на работу нового бухгалтера, ему нужна карта оператора?", "ru")) == ["topic:new_operator"]
    assert shown(ask(engine, "Можно поставить бухгалтерскую печать?", "ru")) == ["answer:seal_official_only"]


@pytest.mark.parametrize("question", ["How do I fill in attachment 2?", "how to fill attachment 1"])
def test_how_to_fill_a_form_named_by_its_attachment_answers_that_form_never_asks_back(engine, question):
    """The form is named (attachment 1 / 2): which form is which — no need to ask which business."""
    assert shown(ask(engine, question, "en")) == ["answer:forms_named"], question


@pytest.mark.parametrize("question", ["Which form do I fill in?", "What form do we need?"])
def test_which_form_in_english_names_both_forms(engine, question):
    """Which form: the company's 附件1 and the holder's own 附件2, both named — not the holder's alone."""
    assert shown(ask(engine, question, "en")) == ["answer:forms_named"], question


def test_materials_in_english_for_a_new_colleague_is_the_new_operator_list(engine):
    assert shown(ask(engine, "A new colleague joined, we already have a legal card. Materials?", "en")) == ["topic:new_operator"]


@pytest.mark.parametrize(
    "question,expected",
    [
        ("skolko dnei delaut kartu?", ["answer:silent_processing_time"]),
        ("poteryal kartu operatora, chto delat?", ["topic:reissue_lost"]),
        ("u nas smenilsya direktor, chto delat s kartoi?", ["topic:change_legal_rep"]),
        ("kakuyu pechat stavit na kopiyu litsenzii?", ["answer:seal_official_only"]),
        ("zdravstvuite, karta zablokirovalas, kak razblokirovat? 解锁 chto privozit?", ["topic:unlock"]),
        ("telefon goryachei linii?", ["answer:hotline"]),
        ("kak zakryt svoyu kartu operatora, ya uvolilas", ["topic:holder_cancel"]),
        ("gde nahoditsya zhika zhongxin?", ["offices"]),  # (pinyin inside: read as the vocabulary spells it)
        ("4to nuzhno dlya zameny karty?", ["topic:replace_card"]),
        ("mozhno li prislat dokumenty po pochte?", ["answer:silent_mail_mzl"]),  # (prislat is not "write")
    ],
)
def test_russian_typed_in_latin_letters_is_read_as_russian(engine, question, expected):
    """Russian typed in Latin letters (a phone without a Cyrillic keyboard): read as the Russian it is — never a
    Latin word corrected to an English one (chto is not "chop", the seal)."""
    assert shown(ask(engine, question, "ru")) == expected, question


@pytest.mark.parametrize(
    "question,expected",
    [
        ("Скока дней делают карту?", ["answer:silent_processing_time"]),
        ("скок дней делают карту и работаете ли в субботу", ["answer:silent_processing_time", "answer:silent_hours"]),
        ("какую печат ставит на копию лицензии?", ["answer:seal_official_only"]),  # (the soft sign left out)
        ("чё по деньгам, скока стоит карта?", ["answer:silent_fees"]),
    ],
)
def test_spoken_russian_and_a_soft_sign_left_out_are_read(engine, question, expected):
    assert shown(ask(engine, question, "ru")) == expected, question


@pytest.mark.parametrize(
    "question,expected",
    [
        ("Hi, how long does it take?", ["answer:silent_processing_time"]),
        ("I lost my card, what now?", ["topic:reissue_lost"]),
    ],
)
def test_english_is_never_read_as_russian_in_latin_letters(engine, question, expected):
    assert shown(ask(engine, question, "en")) == expected, question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("我是持卡人，俄罗斯护照，翻译件盖公司章可以吗？", "zh"),
        ("我是外籍员工，本人去办卡注销，护照翻译件盖什么章", "zh"),
        ("我是俄罗斯人 之前在公司当操作员 现在自己去处理卡 护照要翻译吗 翻译盖啥章", "zh"),
        ("Я держатель карты, гражданин России. Перевод паспорта можно заверить печатью компании?", "ru"),
        ("I am the cardholder with a Russian passport, can the translation have the company seal?", "en"),
    ],
)
def test_a_foreign_holder_acting_personally_gets_the_holders_translation_seal_rule(engine, kb, question, lang):
    """A holder with a foreign passport, speaking of their own card (我是持卡人, 本人去办卡注销, 自己去处理卡, я держатель
    карты, I am the cardholder): the holder's own rule — the translation seal only, the company seal not mentioned —
    never the company's rule that allows the company seal."""
    screen = ask(engine, question, lang)
    assert shown(screen) == ["answer:holder_translation"], question
    assert "answer:foreign_translation" not in shown(screen)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("我是操作员，护照翻译件盖什么章", "zh"),
        ("我们法人是俄罗斯人，护照翻译件盖什么章", "zh"),
        ("Что директор должен написать от руки на копии своего паспорта?", "ru"),
    ],
)
def test_a_company_person_or_their_own_passport_is_not_the_holder_acting_personally(engine, question, lang):
    """An operator or a director speaking for the company (even of 'their own' passport): the company's rules."""
    assert not {"answer:holder_translation", "answer:holder_annotation"} & set(shown(ask(engine, question, lang))), question


@pytest.mark.parametrize("question", ["我明天去办个卡 准备点啥", "去之前得准备点什么", "明天过去办卡 需要带点啥东西"])
def test_what_to_prepare_with_a_measure_word_and_no_business_asks_back(engine, question):
    """准备点啥 / 带点啥 (a little of what): what to bring, no business named — which business? never suggestions."""
    assert ask(engine, question).route.startswith("ask_business"), question


@pytest.mark.parametrize(
    "question,expected",
    [
        ("批下来了去哪领", ["answer:online_pickup"]),
        ("网上申请在哪个网站提交 批了以后去哪领", ["answer:system_url", "answer:online_pickup"]),
    ],
)
def test_where_to_collect_after_approval_is_the_pickup_before_the_jiangsu_remark(engine, question, expected):
    """去哪领 after the application is approved: the card is collected at the office chosen (the Manzhouli document);
    the Jiangsu guide's status remark does not go before it, nor does where to apply in person."""
    assert shown(ask(engine, question)) == expected, question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("网上传附件有格式和大小要求吗 我们在常州", "zh"),
        ("网上传附件有啥格式要求 多大", "zh"),
        ("в каком формате загружать файлы?", "ru"),
    ],
)
def test_the_format_of_files_uploaded_is_the_upload_rule_not_the_forms(engine, question, lang):
    """传附件 (attachments uploaded), 格式 (format): the upload rule — not the forms 附件1/附件2."""
    assert shown(ask(engine, question, lang)) == ["answer:upload_files"], question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("Hello, we are a new trading company in Manzhouli. How do we get our first e-port card?", "topic:new_entry", "en"),
        ("We never had an e-port card, what do we need?", "topic:new_entry", "en"),
        ("we opened a new company last month, what do we need for the card", "topic:new_entry", "en"),
        ("Мы новая торговая фирма, какие документы нужны для карты?", "topic:new_entry", "ru"),
        ("We have a new company name, what to do with the card?", "topic:change_name", "en"),  # a new name, not a new company
        ("new company address, update card?", "topic:change_address", "en"),
        ("company new boss, card what to do", "topic:change_legal_rep", "en"),
        ("у нас новый начальник", "topic:change_legal_rep", "ru"),
        ("my card doesnt work", "topic:replace_card", "en"),
        ("card is bend, can i get new", "topic:replace_card", "en"),  # (not a new company's first card)
    ],
)
def test_english_and_russian_situations_name_their_business(engine, question, expected, lang):
    """A company new to the card told in other words (a new trading company, our first e-port card, новая торговая
    фирма), a new boss, a card that does not work: the business — never the city's offices, the opening hours
    ("opened" a company is not "open on Saturday") or the holder's cancellation ("my card" alone is not it)."""
    assert shown(ask(engine, question, lang)) == [expected], question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("what should I bring", "en"),
        ("what else should I bring", "en"),
        ("What should we bring to the office?", "en"),
        ("что привезти?", "ru"),
        ("что нужно с собой взять", "ru"),
    ],
)
def test_what_to_bring_in_english_or_russian_without_a_business_asks_back(engine, question, lang):
    """What to bring, no business named (an office named only as where to bring it): which business? — never the
    card-medium rule or a guess."""
    assert ask(engine, question, lang).route.startswith("ask_business"), question


def test_a_holder_cancelling_their_own_card_in_english_is_still_the_holders_business(engine):
    assert shown(ask(engine, "I want to close my card, I left the company", "en")) == ["topic:holder_cancel"]
    assert shown(ask(engine, "Is the center open on Saturday?", "en")) == ["answer:silent_hours"]


@pytest.mark.parametrize(
    "question,lang",
    [
        ("Можно ли отправить сотрудника вместо директора?", "ru"),
        ("Директор не может прийти сам, может кто-то другой сдать документы?", "ru"),
        ("The director cannot come, can someone else submit the documents?", "en"),
    ],
)
def test_someone_else_going_instead_of_the_director_is_the_agent(engine, question, lang):
    """Someone else instead of the director (вместо директора, кто-то другой, someone else): who the agent may be and
    what the agent brings — never a licence's replacement nor "which business?" for the documents handed in."""
    routes = shown(ask(engine, question, lang))
    assert set(routes) & {"material:agent_id", "answer:agent_choice"} and "answer:cancel_explanation" not in routes, routes


@pytest.mark.parametrize(
    "question,expected",
    [
        (
            "Карта оператора больше не нужна, сотрудник ушёл. Что делать и сколько это стоит?",
            ["topic:cancel_operator", "answer:silent_fees"],
        ),
        ("сотрудник ушел, что делать с его картой", ["topic:cancel_operator"]),
        ("Сотрудник увольняется, что делать с его картой?", ["topic:cancel_operator"]),
        ("мне карта больше не нужна, я ушла из фирмы", ["topic:holder_cancel"]),
        (
            "Мы некоммерческое общественное объединение, бизнес-лицензии у нас нет. Что подать вместо неё?",
            ["answer:licence_default"],
        ),
    ],
)
def test_russian_leavers_and_a_card_no_longer_needed(engine, question, expected):
    """сотрудник ушёл (the employee left) is the company's cancellation of their card; я ушла из фирмы (I left) the
    holder's own; вместо неё (instead of the licence) is no agent."""
    assert shown(ask(engine, question, "ru")) == expected, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        (
            "Our card is locked. Can we unlock it online, or must we come?",
            ["topic:unlock", "answer:online_apply", "answer:online_pickup"],
            "en",
        ),
        ("как добраться до центра и во сколько он открывается", ["answer:silent_hours", "offices"], "ru"),
        ("We're in Manzhouli. Is the card free or do we pay for it?", ["answer:silent_fees"], "en"),
        (
            "We're in Nanjing and have no Single Window account yet. How do we register to apply online?",
            ["answer:register_account"],
            "en",
        ),
    ],
)
def test_russian_and_english_compound_asks_are_each_answered_and_nothing_else(engine, question, expected, lang):
    """A story then an ask about doing it online (the business and the online way), a second ask joined by
    и во сколько; "we're" is not "where" (no offices nor a change of address)."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("Здравствуйте, мне нужна помощь с картой", "ru"),
        ("У меня вопрос по карте", "ru"),
        ("Hello, I need help with the card", "en"),
        ("I have a question about our card", "en"),
        ("Hi, card problem", "en"),  # (not a broken card: locked or expired cards have problems too)
    ],
)
def test_help_with_the_card_and_nothing_else_asks_which_business_in_russian_and_english(engine, question, lang):
    """Help or a question about the card, nothing more told: which business? — never the cancellations the ranking
    weighs the word карта for, nor suggestions."""
    assert ask(engine, question, lang).route.startswith("ask_business"), question


@pytest.mark.parametrize("question,lang", [("карта больше не нужна", "ru"), ("We dont need the card anymore, what to do?", "en")])
def test_a_card_no_longer_needed_is_the_cancellations(engine, question, lang):
    """No longer needed: the kinds of cancellation — never "how many operators at most" (больше is "more")."""
    assert shown(ask(engine, question, lang)) == ["category:cancel"], question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("Do we need to bring originals?", ["answer:copies", "answer:form_original"], "en"),
        ("Надо ли приносить оригиналы?", ["answer:copies", "answer:form_original"], "ru"),
        ("Do I need the original licence?", ["answer:copies"], "en"),
        ("申请表要原件吗", ["answer:form_original"], "zh"),
    ],
)
def test_originals_asked_with_no_paper_named_get_both_rules(engine, question, expected, lang):
    """Originals? with no paper named: the documents are copies and the new business's form is an original — both,
    never the form's rule alone (which reads as "bring originals"); a paper named gets its own rule."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("Мой паспорт просрочен, можно по нему?", ["answer:hotline"], "ru"),
        ("My passport expired, can I still use it?", ["answer:hotline"], "en"),
        ("карта просрочена, что делать", ["topic:reissue_expired"], "ru"),
        ("Карту выдадут сразу?", ["answer:silent_processing_time"], "ru"),
        ("Will we get the card immediately?", ["answer:silent_processing_time"], "en"),
    ],
)
def test_an_expired_passport_is_not_an_expired_card_and_at_once_is_the_processing_time(engine, question, expected, lang):
    """An expired passport (the documents do not cover it: the hotline) is not the expired card's reissue; the card
    handed over at once (сразу, immediately) is the processing time — not "how many operators at once"."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("Мы поменяли название и адрес, что делать с картой?", ["topic:change_name", "topic:change_address"], "ru"),
        ("We changed our company name and address. What documents?", ["topic:change_name", "topic:change_address"], "en"),
        ("Компания меняет юридический адрес и директора одновременно", ["topic:change_address", "topic:change_legal_rep"], "ru"),
        ("New director and new company name, what to bring?", ["topic:change_legal_rep", "topic:change_name"], "en"),
        ("Директор сменился, и мы переехали. Что привезти?", ["topic:change_legal_rep", "topic:change_address"], "ru"),
    ],
)
def test_two_things_changed_in_one_phrase_get_both_businesses(engine, question, expected, lang):
    """Two things changed, the verb said once (поменяли название и адрес, new director and new company name): each
    change's business — not the first alone, nor a new company's first card."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("不去现场能办吗", "zh"),
        ("can we do it without coming in person?", "en"),
        ("is it possible make card without come to office", "en"),
        ("можно ли оформить без визита?", "ru"),
    ],
)
def test_without_going_there_is_applying_online_and_collecting_the_card(engine, question, lang):
    """Done without going there: applying online, and the card is still collected in person — never the
    cancellations ("coming" is not "closing"), the holder's business ("in person" is not "personally") or a change
    of address ("office")."""
    routes = shown(ask(engine, question, lang))
    assert routes[:2] == ["answer:online_apply", "answer:online_pickup"], routes


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("Что писать на копии yingye zhizhao?", ["answer:org_annotation"], "ru"),
        ("У нас поменялся фажэнь, что делать?", ["topic:change_legal_rep"], "ru"),
        ("Где купить gongxiang dun?", ["answer:buy_shared_dun"], "ru"),
        ("Где купить юсбикей?", ["answer:buy_usbkey"], "ru"),
        ("Можно поставить caiwuzhang на копию?", ["answer:seal_official_only"], "ru"),
    ],
)
def test_chinese_words_in_pinyin_or_cyrillic_inside_russian_are_read(engine, question, expected, lang):
    """营业执照, 法人, 共享盾, 财务章 typed in pinyin or in Cyrillic inside a Russian question: the same words."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("can the agent be from another company?", ["answer:agent_choice"], "en"),
        ("Может ли исполнитель быть из другой компании?", ["answer:agent_choice"], "ru"),
        ("Директор должен прийти лично?", ["material:agent_id"], "ru"),
        ("can we appoint the director as the agent?", ["answer:agent_choice"], "en"),
        ("можно назначить директора исполнителем?", ["answer:agent_choice"], "ru"),
        ("Is there a Russian-speaking staff at the center?", ["answer:hotline"], "en"),
    ],
)
def test_who_may_go_and_who_speaks_russian_in_russian_and_english(engine, question, expected, lang):
    """Who the agent may be (from another company), whether the director must come in person (прийти лично: someone
    else may go as the agent), a Russian-speaking clerk (neither document says: the hotline, not the offices)."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,expected",
    [
        ("копию лицензии заверять печатью компании или нет", ["answer:seal_official_only"]),
        (
            "здравствуйте у нас поменялся генеральный директор какие документы нужно предоставить для карты электронного порта",
            ["topic:change_legal_rep"],
        ),
        ("Можно на копию лицензии поставить печать бухгалтерии? Другой печати нет", ["answer:seal_official_only"]),
    ],
)
def test_russian_inflections_and_question_tags_are_not_other_words(engine, question, expected):
    """печатью is the seal; "или нет" (or not?) and "печати нет" are not "no licence"; предоставить (to provide) is not
    представитель (the agent)."""
    assert shown(ask(engine, question, "ru")) == expected, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        (
            "можно подать заявку онлайн? куда заходить и что потом",
            ["answer:online_apply", "answer:system_url", "answer:online_pickup"],  # (in the order asked)
            "ru",
        ),
        ("куда заходить чтобы подать заявку онлайн?", ["answer:system_url"], "ru"),
        ("куда заходить в Маньчжурии, какой этаж?", ["city:满洲里"], "ru"),
        ("мы российская фирма в забайкальске, китайской регистрации нет. можем получить карту?", ["answer:hotline"], "ru"),
        ("We are a Russian company, not registered in China. Can we get a card?", ["answer:hotline"], "en"),
    ],
)
def test_where_to_go_in_online_and_a_company_not_registered_in_china(engine, question, expected, lang):
    """куда заходить after applying online is the site (in a city, the office); a company not registered in China is
    outside both documents — the hotline, never the first card's list as if it could apply."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("I got card with passport, now I have Chinese ID. Can I use ID to cancel?", ["answer:holder_same_id_type"], "en"),
        ("Какую анкету заполнять для личного аннулирования?", ["answer:holder_form"], "ru"),
        ("I am operator, I leave company. Company dont want cancel my card. What I can do?", ["topic:holder_cancel"], "en"),
    ],
)
def test_a_holders_own_cancellation_in_english_and_russian(engine, question, expected, lang):
    """The holder's own cancellation told in plain or non-native English and Russian: the same-ID rule (got the card
    with a passport), the holder's own form (личное аннулирование), the business."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,expected,lang",
    [
        ("Какая печать и кто подписывает копию лицензии?", ["answer:seal_official_only", "answer:org_annotation"], "ru"),
        ("持卡人身份证复印件要盖公章不 还是本人签个字就完事了", ["answer:person_seal", "answer:all_four_required"], "zh"),
        (
            "карту делали по паспорту рф, сейчас паспорт новый. я сам хочу закрыть свою карту оператора, новый паспорт примут?",
            ["answer:holder_same_id_type"],
            "ru",
        ),
    ],
)
def test_a_paper_named_gets_its_own_rules_not_the_forms(engine, question, expected, lang):
    """A licence or ID copy named with who signs or stamps it: that copy's rules — never "the documents do not say
    who signs the application form"; a card made with an old passport is the holder's same-ID rule."""
    assert shown(ask(engine, question, lang)) == expected, question


@pytest.mark.parametrize(
    "question,expected",
    [
        ("Что нужно для новой карты оператора, у нас уже есть карта юрлица", ["topic:new_operator"]),
        ("Сколько карт операторов можно иметь?", ["answer:max_operators"]),
    ],
)
def test_a_new_operator_card_in_russian_is_the_added_card_not_the_first_set(engine, question, expected):
    """A new operator card when the legal card is already there: the added operator card, not a new company's first
    card; how many operator cards: the most per application, not how many a first set has."""
    assert shown(ask(engine, question, "ru")) == expected, question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("Какой телефон у центра? И есть банк рядом, где тоже можно сделать карту?", "ru"),
        ("What is the card centre phone? Is there a bank nearby that also does cards?", "en"),
    ],
)
def test_a_bank_near_the_card_centre_is_the_centres_city(engine, question, lang):
    """The centre's phone, then a bank nearby that also does cards: the hotline and the offices of the centre's city —
    not every city's offices, nor a business guessed from "that also does cards" read as an ask of its own."""
    assert shown(ask(engine, question, lang)) == ["answer:hotline", "city:满洲里"], question


@pytest.mark.parametrize(
    "question,expected",
    [
        (
            "Подскажите, ключ USBKey сломался, где купить новый и надо ли менять карту?",
            ["answer:buy_usbkey", "topic:replace_card"],
        ),
        ("У нас две фирмы, можно одну карту на обе?", ["answer:hotline"]),
        ("Здравствуйте! Наш оператор в отпуске, может ли другой сотрудник пользоваться его картой?", ["answer:hotline"]),
        ("Сколько действует карта?", ["answer:silent_validity"]),
    ],
)
def test_russian_border_town_questions(engine, question, expected):
    """A second ask joined by и надо ли (whether to change the card), two firms on one card and another employee using
    the card (outside both documents: the hotline), how long the card is valid (the documents do not say)."""
    assert shown(ask(engine, question, "ru")) == expected, question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("去办业务要把卡本身也带上吗？还是光带纸质材料就行", "zh"),
        ("卡要带去吗还是只带纸质材料", "zh"),
    ],
)
def test_a_silent_fact_does_not_answer_for_a_shared_generic_word(engine, question, lang):
    """Whether to bring the card itself or only the papers: 纸质 shares 纸 with the silent topic of copy size and colour,
    but the question is about the card medium — never "the documents set no rule on colour or paper size" (it would
    read as if bringing the card were not asked for); the card-medium rule, or which business first."""
    screen = ask(engine, question, lang)
    assert "answer:silent_copy_colour" not in shown(screen), (question, screen.route)
    assert screen.route.startswith("ask_business:") or "answer:card_medium" in shown(screen), (question, screen.route)


@pytest.mark.parametrize(
    "question,lang",
    [
        ("复印件要彩色吗", "zh"),
        ("复印件要几份", "zh"),
        ("身份证能用手机拍照打印出来的不 还是得复印机复印", "zh"),
    ],
)
def test_a_silent_fact_answers_a_question_about_its_own_topic(engine, question, lang):
    """Copy colour, number of copies, a phone photo printed: the documents do not say — that answer stays."""
    assert "answer:silent_copy_colour" in shown(ask(engine, question, lang)), question


@pytest.mark.parametrize(
    "question,lang,expected",
    [
        ("小王离职了\n他那张卡咋弄", "zh", "topic:cancel_operator"),
        ("老王离职了卡咋整", "zh", "topic:cancel_operator"),
        ("他离职了卡怎么办", "zh", "topic:cancel_operator"),
        ("她辞职了，那张卡要怎么处理", "zh", "topic:cancel_operator"),
        ("he left the company, what about his card", "en", "topic:cancel_operator"),
        ("сотрудник уволился, что делать с его картой", "ru", "topic:cancel_operator"),
        ("我离职了，我的卡咋弄", "zh", "topic:holder_cancel"),
        ("我离职了 卡怎么办", "zh", "topic:holder_cancel"),
    ],
)
def test_someone_elses_card_after_they_left_is_the_companys_cancellation(engine, question, lang, expected):
    """A third person left (他, 小王, a colleague): the company cancels the operator card; the holder's own cancellation
    only when the asker speaks of their own card (我). 小王离职了 is not corrected into 我离职了 as a typo."""
    assert shown(ask(engine, question, lang)) == [expected], question


@pytest.mark.parametrize(
    "question,lang",
    [
        ("申请表咋填", "zh"),
        ("申请表怎么填", "zh"),
        ("这个申请表该怎么填啊", "zh"),
        ("申请表如何填写", "zh"),
        ("how to fill the application form", "en"),
        ("как заполнить заявление", "ru"),
    ],
)
def test_how_to_fill_the_application_form_asks_which_business(engine, question, lang):
    """How to fill in the form, no business named: its boxes differ by business — which business? (咋填 as 怎么填)."""
    screen = ask(engine, question, lang)
    assert screen.route.startswith("ask_business:"), (question, screen.route)


@pytest.mark.parametrize(
    "question,lang",
    [
        (
            "I'm a customs broker handling cards for several client companies. Can I submit one application for all of "
            "them at once?",
            "en",
        ),
        ("we handle cards for multiple companies, can one application cover all", "en"),
        ("我是报关行的，帮好几家公司办卡，能一起交一份申请吗", "zh"),
        ("几家公司的卡能一次办吗", "zh"),
        ("мы оформляем карты для нескольких компаний, можно одной заявкой?", "ru"),
    ],
)
def test_one_application_for_several_companies_is_the_hotline(engine, question, lang):
    """Several companies in one application: neither document says a word on it — the hotline, not suggestions."""
    assert shown(ask(engine, question, lang)) == ["answer:hotline"], question


@pytest.mark.parametrize(
    "question,lang,expected",
    [
        ("一家公司能办几张操作员卡", "zh", "answer:max_operators"),
        ("我们公司有几个操作员，能一起办吗", "zh", "answer:max_operators"),
    ],
)
def test_several_operators_of_one_company_are_not_several_companies(engine, question, lang, expected):
    """Several operator cards of one company stay the documented rule, not the hotline."""
    assert expected in shown(ask(engine, question, lang)), question
