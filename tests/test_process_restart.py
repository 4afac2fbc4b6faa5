"""`eport-guide run` as a real process: graceful SIGTERM, and ticks surviving a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys


async def start_bot(fake, db):
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
           "TELEGRAM_API_FILE_URL": fake.base_file_url, "EPORT_GUIDE_DB": str(db)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    polls = len(fake.calls("getUpdates"))
    await fake.wait_for(lambda: len(fake.calls("getUpdates")) > polls, timeout=20, what="the bot to poll")
    return proc


async def stop_bot(fake, proc) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    fake._closing = True  # release the pending long poll so shutdown is quick
    await fake._notify()
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        fake._closing = False
    return proc.returncode, err.decode()


async def test_ticks_survive_a_restart_of_the_bot_process(fake, tmp_path):
    db = tmp_path / "proc.db"
    proc = await start_bot(fake, db)
    user = fake.user(id=8080)
    answer = await user.send("/start reissue_lost")
    await user.click(answer, "📋 加入清单")
    checklist = user.last
    reply = await user.click(checklist, "☐ 营业执照等·盖申请单位公章")
    assert reply["text"] == "已勾选"
    code, err = await stop_bot(fake, proc)
    assert code == 0, err  # SIGTERM is a graceful shutdown
    assert fake.token not in err

    proc = await start_bot(fake, db)
    try:
        mine = await user.send("/checklist")
        assert "丢失补办：1/25" in mine.plain
        again = await user.click(checklist, "☐ 经办人·复印件")  # a button sent by the previous process
        assert again["text"] == "已勾选" and "进度 2/25" in checklist.plain
    finally:
        code, err = await stop_bot(fake, proc)
    assert code == 0, err
