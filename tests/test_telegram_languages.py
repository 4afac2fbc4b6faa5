"""Telegram polish: profile descriptions, /help, every reply in the user's language,
catalogue hygiene, the console's copy buttons."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from dialogs.commands import COMMANDS
from dialogs import i18n
from dialogs.store import StoreError

from .conftest import shipped_knowledge

LATIN = re.compile(r"[A-Za-z]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
WORD = re.compile(r"[^\W\d_]+")


def catalogue(lang: str):
    with open(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def mixed_script_words(text: str) -> list[str]:
    """Words that mix Latin and Cyrillic letters (e.g. "Гоmao": a Latin 'm', 'a', 'o')."""
    return [w for w in WORD.findall(text) if LATIN.search(w) and CYRILLIC.search(w)]


def test_mixed_script_detector_catches_look_alike_letters():
    assert mixed_script_words("отделение Гоmao (Маньчжурия)") == ["Гоmao"]
    assert mixed_script_words("Рaспечатайте") == ["Рaспечатайте"]  # a Latin 'a'
    assert mixed_script_words("China Construction Bank, отделение Гомао; QR-коды, USB-ключ") == []


def test_no_word_in_the_russian_catalogue_mixes_latin_and_cyrillic():
    bad = {m.id: mixed_script_words(m.string) for m in catalogue("ru") if m.id and mixed_script_words(m.string)}
    assert bad == {}


def test_the_english_catalogue_has_no_cyrillic_letters():
    bad = [m.string for m in catalogue("en") if m.id and CYRILLIC.search(m.string)]
    assert bad == []


async def test_description_and_short_description_are_set_per_language(fake, bot_app):
    d = fake.descriptions
    assert set(d) == {(kind, lang) for kind in ("description", "short_description") for lang in ("", "ru", "en")}
    assert "电子口岸制发卡业务指南" in d[("description", "")] and "满洲里" in d[("short_description", "")]
    assert "Маньчжур" in d[("description", "ru")] and "Маньчжур" in d[("short_description", "ru")]
    assert "Manzhouli" in d[("description", "en")] and "Manzhouli" in d[("short_description", "en")]
    for (kind, lang), text in d.items():
        assert len(text) <= (512 if kind == "description" else 120)
        if lang:
            assert not re.search(r"[\u4e00-\u9fff]", text), (kind, lang)  # translated, not Chinese left over


@pytest.mark.parametrize(
    "lang,title,inline,deep,file_check",
    [
        ("zh-hans", "使用帮助", "@ 和本机器人的用户名", "?start=reissue_lost", "网上系统能否接受"),
        ("ru", "Справка", "наберите @ и имя этого бота", "?start=reissue_lost", "примет ли онлайн-система"),
        ("en", "Help", "type @ and this bot's username", "?start=reissue_lost", "whether the online system accepts"),
    ],
)
async def test_help_lists_the_commands_and_explains_inline_deep_links_and_the_file_check(
    fake, bot_app, lang, title, inline, deep, file_check
):
    text = (await fake.user(language_code=lang).send("/help")).plain
    assert title in text and inline in text and deep in text and file_check in text
    registered = [c["command"] for c in fake.commands[("default", "")]]
    for command in registered:
        assert f"/{command} — " in text, command
    descriptions = {c["command"]: c["description"] for c in fake.commands[("default", lang[:2] if lang != "zh-hans" else "")]}
    for command, description in descriptions.items():
        assert f"/{command} — {description}" in text  # the same words as Telegram's command menu
    assert {c.name for c in COMMANDS} == set(registered)


@pytest.mark.parametrize(
    "fault,lang,expected,label",
    [
        (RuntimeError("boom"), "ru", "Что-то пошло не так", "Горячая линия центра в Маньчжурии"),
        (StoreError("disk I/O error"), "en", "that action was not saved", "Manzhouli card centre hotline"),
        (RuntimeError("boom"), "zh-hans", "出错了，请稍后再试。", "满洲里制卡中心客服热线：0470-2299089"),
    ],
)
async def test_error_replies_and_the_hotline_label_are_in_the_users_language(
    fake, bot_app, monkeypatch, fault, lang, expected, label
):
    engine = bot_app.bot_data["guide"].engine

    def broken(*args, **kwargs):
        raise fault

    monkeypatch.setattr(engine, "ask", broken)
    reply = await fake.user(language_code=lang).send("卡丢了怎么办")
    assert expected in reply.plain and label in reply.plain and "0470-2299089" in reply.plain


async def test_reload_replies_in_the_admins_language(fake, tmp_path, monkeypatch, knowledge_copy):
    from .conftest import running_bot

    async with running_bot(fake, tmp_path / "a.db", admins=frozenset({77}), knowledge_dir=str(knowledge_copy)):
        admin = fake.user(id=77, language_code="en")
        kb = shipped_knowledge()
        expected = f"Knowledge reloaded: {len(kb.businesses)} services, {len(kb.offices)} offices."
        # /reload loads in a thread (other users go on meanwhile): its reply comes after the update is processed
        await admin.send("/reload", wait=False)
        await fake.wait_for(lambda: any(expected in m.plain for m in admin.messages), timeout=10, what="the reload confirmation")
        (knowledge_copy / "offices.yaml").write_text("offices: [\n", encoding="utf-8")
        await admin.send("/reload", wait=False)
        await fake.wait_for(
            lambda: any(
                "The knowledge files have errors; the previous knowledge stays live" in m.plain and "offices.yaml" in m.plain
                for m in admin.messages
            ),
            timeout=10,
            what="the reload refusal in English",
        )


def test_console_shows_a_copy_buttons_text_once(engine):
    from dialogs.console import format_screen
    from dialogs.engine import Context

    out = format_screen(engine.start(Context(user_id=1), "reissue_lost"))
    assert "] ⧉ 复制：同意办理电子口岸制发卡业务\n" in out and out.count("同意办理电子口岸制发卡业务  ⧉") == 0
    material = format_screen(engine.render("material:org_cert", Context(user_id=1)))
    assert "] ⧉ 复制签注原文  ⧉ 同意办理电子口岸制发卡业务\n" in material  # the label does not show the text: it follows once
