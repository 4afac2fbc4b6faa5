"""Checklists in Telegram: tick, export, restart, old buttons, /forget."""

from __future__ import annotations

import sqlite3

from .conftest import running_bot


async def test_checklist_survives_a_restart_and_old_buttons_still_work(fake, tmp_path):
    db = tmp_path / "persist.db"
    async with running_bot(fake, db):
        user = fake.user()
        answer = await user.send("/start unlock")
        await user.click(answer, "📋 加入清单")
        checklist = user.last
        assert "进度 0/25" in checklist.plain
        await user.click(checklist, "☐ 经办人身份证明材料")  # the page of that material, in the same message
        reply = await user.click(checklist, "☐ 经办人·复印件")
        assert reply["answered"] and reply["text"] == "已勾选"
        assert "进度 1/25" in checklist.plain and any(label.startswith("✅ 经办人·复印件") for label in checklist.labels)
    # the process is gone; a new one starts on the same database
    async with running_bot(fake, db):
        user = fake.user()
        mine = await user.send("/checklist")
        assert "解锁：1/25" in mine.plain
        # a button from the message sent by the previous process still works
        reply = await user.click(checklist, "☐ 经办人·本人签名")
        assert reply["answered"] and "进度 2/25" in checklist.plain


async def test_export_sends_a_printable_document(fake, bot_app):
    user = fake.user()
    answer = await user.send("/start holder_cancel")
    await user.click(answer, "📋 加入清单")
    checklist = user.last
    await user.click(checklist, "☐ 本人身份证明材料")
    await user.click(checklist, "☐ 本人证件·复印件")
    await user.click(checklist, "📋 清单总览")
    await user.click(checklist, "📄 导出")
    doc = next(m for m in user.messages if m.document)
    content = doc.document["data"].decode("utf-8")
    assert doc.document["file_name"] == "checklist-holder_cancel.txt"
    assert "[x] 复印件" in content and "满洲里市东五道街75号海关大楼10楼1021室" in content and "0470-2299089" in content


async def test_forget_deletes_every_row_after_confirmation(fake, bot_app, tmp_path):
    user = fake.user(id=4242)
    answer = await user.send("/start unlock")
    await user.click(answer, "📋 加入清单")
    await user.click(user.last, "☐ 经办人身份证明材料")
    await user.click(user.last, "☐ 经办人·复印件")
    confirm = await user.send("/forget")
    assert "此操作无法撤销" in confirm.plain
    await user.click(confirm, "确认删除")
    assert "已删除关于您的全部数据" in confirm.plain
    db = bot_app.bot_data["guide"].store.path
    conn = sqlite3.connect(db)
    for table, column in (
        ("users", "id"),
        ("checklists", "user_id"),
        ("ticks", "user_id"),
        ("events", "user_id"),
        ("feedback", "user_id"),
        ("reminders", "user_id"),
    ):
        assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = 4242").fetchone()[0] == 0, table


async def test_privacy_states_what_is_stored(fake, bot_app):
    text = (await fake.user().send("/privacy")).plain
    assert "材料清单" in text and "不保存消息内容" in text and "/forget" in text


async def test_two_users_do_not_share_checklists(fake, bot_app):
    a, b = fake.user(id=1), fake.user(id=2)
    answer = await a.send("/start unlock")
    await a.click(answer, "📋 加入清单")
    await a.click(a.last, "☐ 经办人身份证明材料")
    await a.click(a.last, "☐ 经办人·复印件")
    assert "还没有清单" in (await b.send("/checklist")).plain
