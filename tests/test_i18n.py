"""Chinese, Russian and English: catalogues complete, official Chinese kept verbatim."""

from __future__ import annotations

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


@pytest.mark.parametrize("lang", LANGS)
def test_every_screen_renders_in_every_language_within_limits(engine, lang):
    ctx = Context(user_id=1, lang=lang)
    for route in all_routes(engine):
        screen = engine.render(route, ctx)
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
        assert rule.text in text
    assert "丢失补办（" in text and "满洲里市东五道街75号海关大楼10楼1021室" in text
    note = {"ru": "точно этот китайский текст.", "en": "exactly this Chinese text by hand."}[lang]
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


@pytest.mark.parametrize("code,lang", [("ru", "ru"), ("ru-RU", "ru"), ("en-US", "en"), ("zh-hans", "zh"), ("de", "zh"), (None, "zh")])
def test_language_from_telegram_code(code, lang):
    assert i18n.normalise_language(code) == lang


RUSSIAN = [
    ("потерял карту", "topic:reissue_lost"), ("карта утеряна, что делать", "topic:reissue_lost"), ("украли карту", "topic:reissue_lost"),
    ("адрес в Маньчжурии", "city:满洲里"), ("где офис в Хайларе", "city:呼伦贝尔"), ("телефон в Тунляо", "city:通辽"),
    ("как разблокировать карту", "topic:unlock"), ("забыл пароль", "topic:unlock"), ("продлить сертификат", "topic:renew_cert"),
    ("сменился директор", "topic:change_legal_rep"), ("изменилось название компании", "topic:change_name"),
    ("нужен ли перевод паспорта", "answer:foreign_translation"), ("где купить ключ", "answer:buy_usbkey"),
    ("заявку отклонили", "answer:refund_deadline"), ("сотрудник уволился", "topic:cancel_operator"), ("добавить оператора", "topic:new_operator"),
]
ENGLISH = [
    ("lost card", "topic:reissue_lost"), ("I lost my card", "topic:reissue_lost"), ("my card was stolen", "topic:reissue_lost"),
    ("address in Manzhouli", "city:满洲里"), ("office in Hailar", "city:呼伦贝尔"), ("where is the bank in Chifeng", "city:赤峰"),
    ("how to unlock", "topic:unlock"), ("forgot password", "topic:unlock"), ("renew certificate", "topic:renew_cert"),
    ("new legal representative", "topic:change_legal_rep"), ("company renamed", "topic:change_name"),
    ("do I need a translation of the passport", "answer:foreign_translation"), ("file size for upload", "answer:upload_files"),
    ("application rejected, resubmit", "answer:refund_deadline"), ("add operator", "topic:new_operator"), ("employee left the company", "topic:cancel_operator"),
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
