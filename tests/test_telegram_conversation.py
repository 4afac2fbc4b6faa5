"""The Telegram conversation: inline answers, ticks, cancelling, menus that cannot be edited, errors told to the
user, groups, the admin's reload, suggestions and typos.

Each test here once caught a deliberately planted one-line bug the rest of the suite let through.
"""

from __future__ import annotations

import datetime as dt
import logging

from .conftest import running_bot
from .fake_telegram import BOT_USERNAME

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def test_inline_answers_are_in_the_users_language(fake, bot_app):
    ru = await fake.user(id=72, language_code="ru").inline_query("丢失")
    text = ru["results"][0]["input_message_content"]["message_text"]
    assert "Принесите" in text and "请携带" not in text
    zh = await fake.user(id=73).inline_query("丢失")
    assert "Принесите" not in zh["results"][0]["input_message_content"]["message_text"]


async def test_inline_answers_are_sent_as_formatted_text_without_link_previews(fake, bot_app):
    """Shared answers show bold titles, not raw <b> tags, and no preview card of a map link."""
    result = (await fake.user().inline_query("通辽在哪"))["results"][0]
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML" and "<b>" in content["message_text"]
    assert content["link_preview_options"]["is_disabled"] is True


async def test_ticking_in_russian_says_ticked_and_unticking_says_unticked(fake, bot_app):
    user = fake.user(id=74, language_code="ru")
    topic = await user.send("/start unlock")
    checklist = await user.click(topic, "📋")
    assert checklist["answered"]
    page = user.last
    await user.click(page, next(label for label in page.labels if label.startswith("☐")))  # a material's page
    item = next(label for label in page.labels if label.startswith("☐"))
    ticked = await user.click(page, item)
    assert ticked["text"] == "Отмечено"
    unticked = await user.click(page, "✅" + item[1:])
    assert unticked["text"] == "Отметка снята"


async def test_cancel_forgets_the_pending_question(fake, tmp_path):
    async with running_bot(fake, tmp_path / "c.db") as app:
        app.bot_data["guide"].engine.clock = lambda: NOW
        user = fake.user(id=75)
        await user.ask_reminder("expiry")
        await user.send("/cancel")
        reply = await user.send("2027-03-01")
        assert "已记下证书到期日期" not in reply.plain
        assert app.bot_data["guide"].store.user_reminders(75) == []


async def test_a_menu_that_cannot_be_edited_comes_as_a_new_message(fake, bot_app):
    user = fake.user(id=76)
    menu = await user.send("/start")
    fake.fail_next("editMessageText", 400, description="Bad Request: message can't be edited")
    await user.click(menu, "补办业务")
    assert len(user.messages) == 2 and "丢失补办" in user.last.labels
    assert "请选择要办理的业务" in menu.plain  # the old message is as it was


async def test_an_unexpected_error_is_told_to_the_user_with_the_hotline(fake, bot_app, monkeypatch, caplog):
    engine = bot_app.bot_data["guide"].engine

    def broken(ctx, question):
        raise RuntimeError("planted")

    monkeypatch.setattr(engine, "ask", broken)
    with caplog.at_level(logging.ERROR):
        reply = await fake.user(id=77).send("卡丢了")
    assert reply is not None and "出错了，请稍后再试。" in reply.plain and "0470-2299089" in reply.plain
    assert "planted" in caplog.text


async def test_an_unexpected_error_in_a_group_is_not_posted_there_and_a_user_reads_it_in_their_language(
    fake, bot_app, monkeypatch, caplog
):
    engine = bot_app.bot_data["guide"].engine

    def broken(ctx, question):
        raise RuntimeError("planted")

    monkeypatch.setattr(engine, "ask", broken)
    group, user = fake.group(), fake.user(id=86)
    with caplog.at_level(logging.ERROR):
        assert await group.send(user, f"@{BOT_USERNAME} 卡丢了") is None  # logged, not posted to the group
        reply = await fake.user(id=87, language_code="ru").send("карта потеряна")
    assert caplog.text.count("planted") >= 2
    assert reply is not None and "Что-то пошло не так, попробуйте позже." in reply.plain and "0470-2299089" in reply.plain


async def test_group_ignores_mentions_of_others_and_channels_get_nothing(fake, bot_app):
    group, user = fake.group(), fake.user()
    assert await group.send(user, "@somebody_else 卡丢了怎么办") is None
    assert await group.send(user, "今天天气不错，卡丢了") is None
    assert "丢失补办" in (await group.send(user, f"@{BOT_USERNAME} 卡丢了怎么办")).plain
    update_id = await fake.channel_post("卡丢了")
    await fake.processed(update_id)
    assert -100999 not in fake.chats
    sent_to = {int(c.get("chat_id", 0)) for m in ("sendMessage", "sendDocument", "sendPhoto") for c in fake.calls(m)}
    assert -100999 not in sent_to and group.messages[-1].plain.count("丢失补办") >= 1


async def test_mentioning_the_bot_alone_in_a_group_shows_the_menu(fake, bot_app):
    group, user = fake.group(), fake.user(id=79)
    reply = await group.send(user, f"@{BOT_USERNAME}")
    assert reply is not None and "请选择要办理的业务" in reply.plain


async def test_commands_the_bot_does_not_know_are_not_answered_in_groups(fake, bot_app):
    group, user = fake.group(), fake.user(id=88)
    assert await group.send(user, "/nonsense") is None
    assert "未知命令" in (await user.send("/nonsense")).plain


async def test_the_admin_reads_a_failed_reload_as_a_list_and_a_count_of_the_rest(fake, tmp_path, knowledge_copy, monkeypatch):
    """37 problems: as many as fit as a preformatted list (not raw tags), then how many are not shown."""
    answers = knowledge_copy / "answers.yaml"
    answers.write_text(answers.read_text(encoding="utf-8").replace("电子口岸", "电子口案"), encoding="utf-8")
    async with running_bot(fake, tmp_path / "rl.db", admins=frozenset({9})):
        monkeypatch.setenv("EPORT_GUIDE_KNOWLEDGE", str(knowledge_copy))  # what /reload reads
        admin = fake.user(id=9)
        await admin.send("/reload", wait=False)
        await fake.wait_for(lambda: any("继续使用原资料" in m.plain for m in admin.messages), timeout=20, what="the answer")
        refused = admin.last
    assert "（37 处）" in refused.plain and "<pre>" not in refused.plain and "<pre>" in refused.text
    shown = refused.plain.count("answers.yaml:")
    assert 10 < shown < 37 and refused.plain.rstrip().endswith(f"… 还有 {37 - shown} 条")


def test_a_suggestion_button_is_named_after_what_it_opens(plain_guide):
    """The "did you mean" buttons: each kind of screen by its own name, in the reader's language
    where there is a translation; an unknown route falls back to the main menu."""
    from dialogs.engine import Context
    from dialogs.features.answers import route_label

    en, zh = Context(lang="en"), Context(lang="zh")
    expected = {
        "topic:unlock": ("解锁", "解锁"),
        "category:reissue": ("补办业务", "补办业务"),
        "material:org_cert": ("市场主体资格证明材料", "市场主体资格证明材料"),
        "fact:hotline": ("满洲里制卡中心客服热线", "满洲里制卡中心客服热线"),
        "answer:js_seal_ink": ("Seal in ink, never photocopied〔Jiangsu only〕", "用印泥盖章、公章不得复印〔仅适用于江苏省〕"),
        "walk:login": ("登录系统（logging in）", "登录系统"),
        "city:通辽": ("📍 通辽", "📍 通辽"),
        "offices": ("📍 Offices and phones", "📍 办理地点与电话"),
        "online": ("🌐 Apply online", "🌐 网上办理"),
        "category:unlock": ("🏠 Main menu", "🏠 主菜单"),
        "material:unlock": ("🏠 Main menu", "🏠 主菜单"),
        "fact:unlock": ("🏠 Main menu", "🏠 主菜单"),
        "walk:nope": ("🏠 Main menu", "🏠 主菜单"),
        "topic:hotline": ("🏠 Main menu", "🏠 主菜单"),
        "answer:unlock": ("🏠 Main menu", "🏠 主菜单"),
    }
    for route, (in_english, in_chinese) in expected.items():
        assert (route_label(plain_guide, route, en), route_label(plain_guide, route, zh)) == (in_english, in_chinese), route


def test_one_wrong_character_in_a_known_word_is_corrected(plain_guide):
    """Typed on a phone: a look-alike or neighbouring character in a word of the documents."""
    analyzer = plain_guide.engine.matcher.analyzer
    corrected = {
        "营业执招": "营业执照",
        "操作员卡注消": "操作员卡注销",
        "丢失补力": "丢失补办",
        "变更法定代表仁": "变更法定代表人",
        "营业执招要盖章吗": "营业执照要盖章吗",
    }
    for typed, meant in corrected.items():
        assert analyzer.fix_typo(typed) == meant, typed
    for right in ("卡丢了怎么办", "证书延期", "营业执照", "变更法定代表人"):
        assert analyzer.fix_typo(right) == right
