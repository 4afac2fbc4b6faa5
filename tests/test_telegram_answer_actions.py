"""An answer's actions end to end in Telegram: copy buttons, the source line, still stuck, share, switching business."""

from __future__ import annotations


async def test_copy_buttons_carry_the_knowledge_verbatim(fake, bot_app):
    kb = bot_app.bot_data["guide"].kb
    reply = await fake.user().send("/start reissue_lost")
    copies = [b["copy_text"]["text"] for b in reply.buttons if "copy_text" in b]
    assert copies == [
        kb.annotations["org_consent"].text,
        kb.annotations["person_consent"].text,
        kb.offices["mzl_center"].phones[0],
    ]
    assert "<code>同意办理电子口岸制发卡业务</code>" in reply.text  # also shown monospace


async def test_every_answer_ends_with_source_and_date(fake, bot_app):
    for topic in ("unlock", "new_operator", "holder_cancel"):
        user = fake.user()
        reply = await user.send(f"/start {topic}")
        for screen in ("first", "rules"):  # the first screen has its source line; so have the verbatim rules
            if screen == "rules":
                await user.click(reply, "⋯ 更多")
                await user.click(reply, "📖 原文")
            last = reply.plain.strip().splitlines()[-1]
            assert last.startswith("📄 来源：") and "《电子口岸制发卡业务流程》" in last and "核对日期 2026-11-24" in last


async def test_still_stuck_and_back_to_the_answer(fake, bot_app):
    user = fake.user()
    reply = await user.send("/start unlock")
    await user.click(reply, "🆘 还是不清楚？")
    assert "0470-2299089" in reply.plain and "0482-3981570" in reply.plain and "不会把您的问题转交" in reply.plain
    await user.click(reply, "⬅️ 返回")
    assert reply.plain.startswith("解锁 · 维护业务")


async def test_share_and_switch_without_losing_ticks(fake, bot_app):
    user = fake.user()
    reply = await user.send("/start reissue_lost")
    assert next(b for b in reply.buttons if b["text"] == "📤 分享")["switch_inline_query"] == "丢失补办"
    await user.click(reply, "📋 加入清单")
    checklist = user.last
    await user.click(checklist, "☐ 持卡人身份证明材料")
    await user.click(checklist, "☐ 持卡人·复印件")
    await user.click(checklist, "📋 清单总览")
    answer = await user.click(checklist, "🔁 改为：超期补办")
    assert "保留了 1 个共同项目" in answer["text"]
    assert "材料清单：超期补办" in checklist.plain and "进度 1/25" in checklist.plain
