"""Copy buttons, 'still stuck?', feedback and switching business without losing ticks."""

from __future__ import annotations

import pytest

from dialogs.console import ConsoleChat
from dialogs.engine import Context, callback_data


@pytest.fixture
def engine(guide):
    return guide.engine


def test_copy_buttons_copy_the_knowledge_verbatim(engine, kb):
    screen = engine.start(Context(user_id=1), "reissue_lost")
    copies = [b.copy_text for b in screen.all_buttons() if b.copy_text]
    assert copies == [kb.annotations["org_consent"].text, kb.annotations["person_consent"].text, "0470-2299089"]
    assert all(len(c) <= 256 for c in copies)
    holder = engine.start(Context(user_id=1), "holder_cancel")
    assert kb.annotations["holder_self"].text in [b.copy_text for b in holder.all_buttons()]
    material = engine.render("material:org_cert", Context())
    assert [b.copy_text for b in material.all_buttons() if b.copy_text] == ["同意办理电子口岸制发卡业务"]


def test_still_stuck_lists_whom_to_call_and_promises_nothing(engine):
    topic = engine.start(Context(user_id=1), "unlock")
    stuck = engine.handle(Context(user_id=1), next(b.data for b in topic.all_buttons() if b.label == "🆘 还是不清楚？"))
    text = stuck.text
    assert "满洲里制卡中心客服热线：0470-2299089、2299090" in text
    for phone in ("0470-6231859", "0470-6221208", "18947604303", "0470-8551635", "0475-8235577", "0482-3981570"):
        assert phone in text
    assert "不会把您的问题转交" in text and "文件未写明办公时间" in text
    assert [b.copy_text for b in stuck.all_buttons() if b.copy_text] == ["0470-2299089", "0470-2299090"]


def test_feedback_up_down_with_reason(engine, guide):
    ctx = Context(user_id=8)
    topic = engine.handle(ctx, next(b.data for b in engine.start(ctx, "unlock").all_buttons() if b.label == "⋯ 更多"))
    up = engine.handle(ctx, next(b.data for b in topic.all_buttons() if b.label == "👍 有帮助"))
    assert up.toast == "感谢反馈！" and up.route == "topic:unlock"
    down = engine.handle(ctx, next(b.data for b in topic.all_buttons() if b.label == "👎 没帮助"))
    assert "请用一句话说明" in down.text and down.awaiting
    after = engine.reply(ctx, down.awaiting, "<b>不知道</b>去哪里买USBKey")
    assert after.route == "topic:unlock" and "您的意见已记录" in after.text
    stats = guide.store.stats(items_per_topic={})
    assert stats["feedback"] == {"unlock": {"up": 0, "down": 1}}  # one vote per user: the 👎 replaced the 👍
    assert guide.store.conn.execute("SELECT reason FROM feedback WHERE vote = -1").fetchone()[0] == "<b>不知道</b>去哪里买USBKey"


def test_feedback_reason_in_the_console_and_skip(guide):
    chat = ConsoleChat(guide, user_id=3)
    chat.step("/start renew_cert")
    chat.step("⋯ 更多")
    chat.step("👎 没帮助")
    screen = chat.step("太长了")
    assert "您的意见已记录" in screen.text
    chat.step("⋯ 更多")
    chat.step("👎 没帮助")
    assert chat.step("跳过").route == "topic:renew_cert"


def test_views_and_unanswered_questions_are_recorded_without_user_ids(engine, guide):
    ctx = Context(user_id=4)
    engine.start(ctx, "unlock")
    engine.ask(ctx, "签证怎么办理")
    stats = guide.store.stats(items_per_topic={})
    assert stats["views"] == {"unlock": 1}
    assert stats["unanswered"] == [("签证怎么办理", 1)]


def test_forged_feedback_is_stale(engine):
    for data in ("e1|fb|unlock:5", "e1|fb|nope:1", "e1|fb|"):
        assert engine.handle(Context(user_id=1), data).stale
    assert engine.reply(Context(user_id=1), "feedback_reason:x:unlock", "hi").stale


def test_switch_business_keeps_shared_ticks(engine):
    ctx = Context(user_id=6)
    engine.handle(ctx, callback_data("checklist_open", "reissue_lost"))
    engine.handle(ctx, callback_data("tick", "reissue_lost:agent_id.copy:1"))
    engine.handle(ctx, callback_data("tick", "reissue_lost:org_cert.seal:1"))
    screen = engine.render("checklist:reissue_lost", ctx)
    switch = next(b for b in screen.all_buttons() if b.label == "🔁 改为：超期补办")
    after = engine.handle(ctx, switch.data)
    assert after.route == "checklist:reissue_expired" and "进度 2/25" in after.text
    assert "保留了 2 个共同项目" in after.toast
    # the original checklist is untouched
    assert "进度 2/25" in engine.render("checklist:reissue_lost", ctx).text
