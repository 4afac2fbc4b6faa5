"""Chinese, Russian and English: catalogues complete, official Chinese kept verbatim."""

from __future__ import annotations

import re

import pytest

from dialogs.features import all_routes

from dialogs import i18n
from dialogs.catalog import extract, missing
from dialogs.engine import MAX_CALLBACK_BYTES, MAX_TEXT, Context
from dialogs.guide import build_guide

LANGS = ["zh", "ru", "en"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory, kb):
    g = build_guide(tmp_path_factory.mktemp("i18n") / "i.db", kb=kb)
    yield g.engine
    g.close()


def test_every_message_is_translated_in_every_catalogue():
    assert missing() == {"ru": [], "en": []}
    assert len(extract()) > 300


def test_the_translation_function_follows_who_asks_and_its_messages_are_catalogued():
    """dialogs.i18n.t: the message in the asker's language (a Context or a code), Chinese as written;
    Python code's t("…") calls are extracted into the catalogues."""
    message = "此菜单已过期"  # the toast of a stale button (dialogs/engine.py)
    assert i18n.t(message, Context(lang="zh")) == message
    for lang in ("ru", "en"):
        translated = i18n.t(message, Context(lang=lang))
        assert translated != message and translated == i18n.t(message, lang) == i18n.gettext(message, lang)
        assert not re.search(r"[\u4e00-\u9fff]", translated)
    assert message in extract()


@pytest.fixture(scope="module")
def screens(engine):
    """Every route's screen in every language, rendered once for the module: (language, route) → screen."""
    return {(lang, route): engine.render(route, Context(user_id=1, lang=lang)) for lang in LANGS for route in all_routes(engine)}


@pytest.mark.parametrize("lang", LANGS)
def test_every_screen_renders_in_every_language_within_limits(screens, lang):
    for (shown_in, route), screen in screens.items():
        if shown_in != lang:
            continue
        assert len(screen.html) <= MAX_TEXT, (lang, route, len(screen.html))
        for b in screen.all_buttons():
            assert b.label.strip()
            assert b.data is None or len(b.data.encode()) <= MAX_CALLBACK_BYTES


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_official_chinese_stays_verbatim_with_a_translation_beside(engine, kb, lang):
    from dialogs.features.topics import full_answer

    text = full_answer(engine, Context(user_id=1, lang=lang), "reissue_lost")
    for a in ("org_consent", "person_consent"):
        assert kb.annotations[a].text in text
    for rule in kb.rules_of("org_cert"):
        assert (rule.text in text) == (rule.region != "jiangsu")  # the Jiangsu guide does not cover 丢失补办
    assert "丢失补办（" in text and "满洲里市东五道街75号海关大楼10楼1021室" in text
    note = {"ru": "точно этот китайский текст;", "en": "exactly this Chinese text;"}[lang]
    assert note in text
    assert i18n.beside("丢失补办", lang) in text


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_copy_buttons_copy_the_chinese_in_every_language(engine, kb, lang):
    screen = engine.start(Context(user_id=1, lang=lang), "holder_cancel")
    assert kb.annotations["holder_self"].text in [b.copy_text for b in screen.all_buttons()]


def test_interface_words_change_with_the_language(engine):
    labels = {lang: [b.label for b in engine.render("main", Context(lang=lang)).all_buttons()] for lang in LANGS}
    assert "📍 办理地点与电话" in labels["zh"]
    assert "📍 Адреса и телефоны" in labels["ru"]
    assert "📍 Offices and phones" in labels["en"]
    assert "补办业务（reissue）" in labels["en"]


@pytest.mark.parametrize(
    "code,lang", [("ru", "ru"), ("ru-RU", "ru"), ("en-US", "en"), ("zh-hans", "zh"), ("de", "zh"), (None, "zh")]
)
def test_language_from_telegram_code(code, lang):
    assert i18n.normalise_language(code) == lang


RUSSIAN = [
    ("потерял карту", "topic:reissue_lost"),
    ("карта утеряна, что делать", "topic:reissue_lost"),
    ("украли карту", "topic:reissue_lost"),
    ("адрес в Маньчжурии", "city:满洲里"),
    ("где офис в Хайларе", "city:呼伦贝尔"),
    ("телефон в Тунляо", "city:通辽"),
    ("как разблокировать карту", "topic:unlock"),
    ("забыл пароль", "topic:unlock"),
    ("продлить сертификат", "topic:renew_cert"),
    ("сменился директор", "topic:change_legal_rep"),
    ("изменилось название компании", "topic:change_name"),
    ("нужен ли перевод паспорта", "answer:foreign_translation"),
    ("где купить ключ", "answer:buy_usbkey"),
    ("заявку отклонили", "answer:refund_deadline"),
    ("сотрудник уволился", "topic:cancel_operator"),
    ("добавить оператора", "topic:new_operator"),
]
ENGLISH = [
    ("lost card", "topic:reissue_lost"),
    ("I lost my card", "topic:reissue_lost"),
    ("my card was stolen", "topic:reissue_lost"),
    ("address in Manzhouli", "city:满洲里"),
    ("office in Hailar", "city:呼伦贝尔"),
    ("where is the bank in Chifeng", "city:赤峰"),
    ("how to unlock", "topic:unlock"),
    ("forgot password", "topic:unlock"),
    ("renew certificate", "topic:renew_cert"),
    ("new legal representative", "topic:change_legal_rep"),
    ("company renamed", "topic:change_name"),
    ("do I need a translation of the passport", "answer:foreign_translation"),
    ("file size for upload", "answer:upload_files"),
    ("application rejected, resubmit", "answer:refund_deadline"),
    ("add operator", "topic:new_operator"),
    ("employee left the company", "topic:cancel_operator"),
]


@pytest.mark.parametrize("question,route", RUSSIAN + ENGLISH)
def test_russian_and_english_questions(engine, question, route):
    result = engine.matcher.match(question)
    assert result.best is not None and result.best.route == route, (question, result.matches[:3])
    assert result.confident


def test_fifteen_questions_each():
    assert len(RUSSIAN) >= 15 and len(ENGLISH) >= 15


async def test_language_chosen_from_telegram_and_changed_with_language(fake, bot_app):
    ru = fake.user(id=71, language_code="ru")
    menu = await ru.send("/start")
    assert "Выберите услугу" in menu.plain and "📍 Адреса и телефоны" in menu.labels
    settings = await ru.send("/language")
    await ru.click(settings, "English")
    assert "Settings" in settings.plain
    assert "Choose the service" in (await ru.send("/start")).plain
    assert fake.commands[("default", "ru")][0]["description"] == "Начать / открыть услугу"
    assert fake.commands[("default", "en")][0]["description"] == "Start / open a service"


# -- what the Russian and English say, read against the Chinese --------------------------------
@pytest.fixture(scope="module")
def every_screen(screens):
    """Every screen in Russian and English, as text (buttons included)."""
    return {
        (lang, route): screen.text + "\n" + "\n".join(b.label for b in screen.all_buttons())
        for (lang, route), screen in screens.items()
        if lang != "zh"
    }


# (what the documents say, where it is shown, the wrong sense that must be gone everywhere,
#  the right sense that must be on the screen)
MEANINGS = [
    (
        "居民身份证 is the default ID, a passport only the fallback",
        "answer:id_default",
        {"ru": "паспорт гражданина КНР", "en": "passport"},
        {"ru": "удостоверение личности гражданина КНР (居民身份证)", "en": "resident ID card"},
    ),
    (
        "翻译专用章 is a special translation seal, not a translator's stamp",
        "material:foreign_translation",
        {"ru": "печать переводчика", "en": "translator"},
        {"ru": "специальной печатью для переводов (翻译专用章)", "en": "special translation seal (翻译专用章)"},
    ),
    (
        "法人 in 法人和操作员及经办人信息 is the legal representative",
        "online",
        {"ru": "о юрлице, операторах", "en": "legal person, operator"},
        {
            "ru": "сведения о законном представителе, операторах и исполнителе",
            "en": "legal representative, operator and agent information",
        },
    ),
    (
        "新入网企业 is a company joining E-Port for the first time",
        "answer:free_first_set",
        {"ru": "новое предприятие", "en": "newly registered"},
        {
            "ru": "впервые подключающееся к электронному порту (新入网企业)",
            "en": "joining E-Port for the first time (新入网企业)",
        },
    ),
    (
        "外国人永久居留身份证 is only the permanent-residence ID card",
        "answer:id_alternatives",
        {"ru": "вид на жительство", "en": "residence permit"},
        {
            "ru": "удостоверение иностранца на постоянное проживание в КНР (外国人永久居留身份证)",
            "en": "permanent residence ID card (外国人永久居留身份证)",
        },
    ),
    (
        "事业单位法人证书 is a public-sector institution's certificate",
        "answer:licence_default",
        {"ru": "общественного учреждения", "en": "public institution certificate"},
        {
            "ru": "свидетельство юридического лица госучреждения (事业单位法人证书)",
            "en": "public-sector institution legal-person certificate",
        },
    ),
    (
        "相关电子口岸卡介质 is the card medium concerned, not the card itself",
        "topic:reissue_lost",
        {"ru": "сама карта", "en": "card itself"},
        {"ru": "носитель карты по этой услуге (相关电子口岸卡介质)", "en": "card medium concerned (相关电子口岸卡介质)"},
    ),
    (
        "个人信息处理业务申请表 is the holder's application about their own card",
        "answer:holder_form",
        {"ru": "персональных данных", "en": "personal information processing"},
        {
            "ru": "о своей карте и данных пользователя (个人信息处理业务申请表)",
            "en": "about their own card and user data (个人信息处理业务申请表)",
        },
    ),
    (
        "制发卡业务 in the annotation is every card service, not issuing a card",
        "material:org_cert",
        {"ru": "на оформление карты", "en": "card business being handled"},
        {
            "ru": "согласие на услуги по картам электронного порта (любые, не только выдача)",
            "en": "consent to E-Port card services (any of them, not only issuing a card)",
        },
    ),
    (
        "柜台取卡（…4选1） is a choice of one of four outlets",
        "walk:remark",
        {"ru": "указать окно", "en": "name the counter"},
        {"ru": "выбрать один из 4 пунктов выдачи карт", "en": "choose one of the 4 card outlets"},
    ),
]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("meaning,route,wrong,right", MEANINGS, ids=[m[1] for m in MEANINGS])
def test_the_translation_says_what_the_chinese_says(every_screen, meaning, route, wrong, right, lang):
    assert right[lang] in every_screen[(lang, route)], meaning
    if route == "answer:id_default" and lang == "en":  # a passport is named as the fallback on other screens
        assert wrong[lang] not in every_screen[(lang, route)].lower()
        return
    shown = [r for (lg, r), text in every_screen.items() if lg == lang and wrong[lang].lower() in text.lower()]
    assert shown == [], meaning


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_hotlines_second_number_is_also_given_with_its_area_code(every_screen, lang):
    """The document writes "0470-2299089、2299090": the verbatim stays, the full number is added."""
    full = {"ru": "(с кодом города: 0470-2299090)", "en": "(with the area code: 0470-2299090)"}[lang]
    for route in ("topic:unlock", "material:org_cert", "answer:copies", "fact:hotline"):
        text = every_screen[(lang, route)]
        assert "0470-2299089、2299090" in text and full in text, route


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_annotation_shown_has_the_chinese_to_copy_and_apart_its_meaning(every_screen, kb, lang):
    """Wherever an annotation is on a ru/en screen, its meaning is there too — always labelled as
    the meaning, never where it could be taken for the text to write."""
    label = {"ru": "значение", "en": "meaning"}[lang]
    exactly = {"ru": "точно", "en": "exactly"}[lang]
    problems = []
    for (lg, route), text in every_screen.items():
        if lg != lang:
            continue
        for a in kb.annotations.values():
            if a.text not in text:
                continue
            meaning = i18n.beside(a.text, lang)
            if meaning not in text or exactly not in text.lower():
                problems.append(f"{route}: {a.text} without its meaning or the copy-exactly instruction")
            for m in re.finditer(re.escape(meaning), text):
                if label not in text[max(0, m.start() - 60) : m.start()].lower():
                    problems.append(f"{route}: the meaning of {a.text} is not labelled as the meaning")
    assert problems == []


def test_english_never_shows_a_bare_chinese_status_word(every_screen):
    """退单 on an English screen or button comes with what it means (a returned application)."""
    bare = set()
    for (lang, route), text in every_screen.items():
        if lang == "en":
            for line in text.splitlines():
                if "退单" in line and "return" not in line.lower() and not re.search(r"[\u4e00-\u9fff]{6,}", line):
                    bare.add(line)
    assert bare == set()


@pytest.mark.parametrize(
    "lang,copy,meaning",
    [
        (
            "ru",
            "✍️ Перепишите китайскими иероглифами точно: 「同意办理电子口岸制发卡业务」",
            "Значение (только для понимания, не писать): согласие на услуги по картам электронного порта (любые, не только выдача)",
        ),
        (
            "en",
            "✍️ Copy in Chinese characters exactly: 「同意办理电子口岸制发卡业务」",
            "Meaning (for understanding only, do not write it): consent to E-Port card services (any of them, not only issuing a card)",
        ),
    ],
    ids=["ru", "en"],
)
def test_an_answer_shared_into_another_chat_gives_each_annotation_and_apart_its_meaning(tmp_path, kb, lang, copy, meaning):
    from dialogs.features.inline import results
    from dialogs.render import html_to_text

    g = build_guide(tmp_path / "inline.db", kb=kb)
    try:
        result = next(r for r in results(g, Context(user_id=1, lang=lang), "") if r.route == "topic:reissue_lost")
        lines = html_to_text(result.html).splitlines()
    finally:
        g.close()
    at = lines.index(copy)
    assert lines[at + 1] == meaning


@pytest.mark.parametrize("lang,used_for", [("ru", "Для услуг:"), ("en", "Used for:")], ids=["ru", "en"])
def test_a_material_screen_names_its_services_in_the_users_language(every_screen, kb, lang, used_for):
    line = next(x for x in every_screen[(lang, "material:org_cert")].splitlines() if x.startswith(used_for))
    for business in kb.businesses.values():
        if any(ref.material == "org_cert" for ref in business.materials):
            assert f"{business.name}（{i18n.beside(business.name, lang)}）" in line


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_material_screen_gives_its_annotation_to_copy_once(every_screen, kb, lang):
    """The Jiangsu rules quote the annotation too: the copy-exactly line and its meaning come once, below."""
    copy = {"ru": "Перепишите китайскими иероглифами точно: 「", "en": "Copy in Chinese characters exactly: 「"}[lang]
    for (lg, route), text in every_screen.items():
        if lg == lang and route.startswith("material:"):
            for a in kb.annotations.values():
                assert text.count(f"{copy}{a.text}」") <= 1, (route, a.id)
