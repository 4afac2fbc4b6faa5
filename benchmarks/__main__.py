"""`make bench`: measure the bot against its targets and write BENCHMARKS.md.

1. Full bot vs a minimal PTB echo bot, both fed the same updates through
   ``Application.process_update`` with an offline request (no network).
2. The same through long polling against the fake Bot API on loopback.
3. Matcher µs per question (p99 over the benchmark questions and the evaluation set); cold start to the
   first getUpdates (the matcher is built in the background after start); memory per active user.
4. What 20 MB hostile uploads add to another user's reply (``bench_hostile_upload``).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import telegram
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, MessageHandler, filters

from bot.app import build_application
from bot.settings import Settings
from dialogs.engine import Context
from dialogs.guide import build_guide

from .offline import OfflineRequest, callback_update, text_update, to_update

TOKEN = "123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz"
ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "卡丢了怎么办",
    "通辽在哪里办",
    "营业执照复印件上写什么",
    "没有身份证怎么办",
    "证书快到期了怎么延期",
    "法人换了怎么办",
    "I lost my card",
    "потерял карту",
    "申请单被退单了怎么办",
    "USBKey在哪里买",
    "今天天气怎么样",
    "注销",
]


@functools.lru_cache(maxsize=1)
def buttons() -> dict[str, str]:
    """The callback data of the buttons the workload presses, found by their labels on the screens
    (as a user finds them), so that renamed actions or routes cannot turn the workload into stale menus."""
    with tempfile.TemporaryDirectory() as d:
        guide = build_guide(Path(d) / "buttons.db")
        engine = guide.engine
        try:
            ctx = Context(user_id=1)

            def press(screen, label: str) -> tuple[str, object]:
                found = [b for b in screen.all_buttons() if b.data and b.label.startswith(label)]
                assert found, f"no button {label!r} on {screen.route}"
                after = engine.handle(ctx, found[0].data)
                assert not after.stale, (label, screen.route)
                return found[0].data, after

            main = engine.start(ctx)
            out: dict[str, str] = {}
            out["category"], category = press(main, "补办业务")
            out["topic"], topic = press(category, "丢失补办")
            out["open"], overview = press(topic, "📋 加入清单")
            _, page = press(overview, "☐ 市场主体资格证明材料")
            out["tick1"], _ = press(page, "☐ 营业执照等·盖申请单位公章")
            _, page = press(overview, "☐ 经办人身份证明材料")
            out["tick2"], _ = press(page, "☐ 经办人·复印件")
            out["offices"], _ = press(main, "📍 办理地点与电话")
            out["unlock"], _ = press(engine.handle(ctx, press(main, "维护业务")[0]), "解锁")
            return out
        finally:
            guide.close()


def workload(users: int = 50, first: int = 1) -> list[dict]:
    """A realistic mix per user: /start, category, answer, open the checklist, two ticks, free text, offices."""
    data = buttons()
    out = []
    for uid in range(first, first + users):
        out += [
            text_update(uid, "/start"),
            callback_update(uid, data["category"]),
            callback_update(uid, data["topic"]),
            callback_update(uid, data["open"]),
            callback_update(uid, data["tick1"]),
            callback_update(uid, data["tick2"]),
            text_update(uid, QUESTIONS[uid % len(QUESTIONS)]),
            callback_update(uid, data["offices"]),
        ]
    return out


async def echo(update, context):
    if update.callback_query:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("echo")
    else:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text or "?")


def echo_application(request: OfflineRequest) -> Application:
    app = ApplicationBuilder().token(TOKEN).request(request).get_updates_request(request).build()
    app.add_handler(CallbackQueryHandler(echo))
    app.add_handler(MessageHandler(filters.ALL, echo))
    return app


async def drive(app: Application, raw: list[dict], cpu: list[float] | None = None) -> list[float]:
    """``process_update`` of each update in turn: the wall time of each; with ``cpu``, the process's CPU time
    of each is appended to it too."""
    updates = [to_update(u, app.bot) for u in raw]
    times = []
    for u in updates:
        c = time.process_time()
        t = time.perf_counter()
        await app.process_update(u)
        times.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
    return times


def summary(times: list[float], cpu: list[float] | None = None) -> dict[str, float]:
    """Throughput (per second of CPU time when ``cpu`` is given, else of wall time) and wall-time latencies."""
    ordered = sorted(times)
    return {
        "n": len(times),
        "per_s": len(times) / sum(cpu if cpu is not None else times),
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
    }


ROUNDS = 15
RATIO_TARGET = 0.8  # the product brief: the bot does ~0.8× a bare echo bot in-process


async def bench_process_update(tmp: Path, rounds: int = ROUNDS, users: int = 40) -> tuple[dict, dict]:
    """Both bots in the same process on the same updates, alternating user by user (a shared machine's load
    hits both alike); the ratio is the median of the rounds' ratios of CPU time (the process's, every thread
    counted: what another process on the machine takes is neither bot's), the latencies (wall time) pool
    every round. After the warm-up the garbage collector is settled as ``eport-guide run`` settles it once
    the bot is up (what start-up made collected, the rest frozen; bot.startup), for both bots alike."""
    request = OfflineRequest()
    full = build_application(Settings(token=TOKEN, db_path=str(tmp / "bench.db")), request=request, rate_limit=False)
    plain = echo_application(OfflineRequest())
    for app in (full, plain):
        await app.initialize()
        await drive(app, workload(5))  # warm-up: templates compiled, caches filled
    stale = [p for _, p in request.sent if "此菜单已过期" in str(p.get("text", ""))]
    assert not stale, "the workload's buttons got the 'out of date' menu: they no longer measure the bot"
    request.clear()
    gc.collect()
    gc.freeze()
    full_times: list[float] = []
    echo_times: list[float] = []
    full_cpu: list[float] = []
    echo_cpu: list[float] = []
    ratios = []
    wall_ratios = []
    per_user = len(workload(1))
    try:
        for n in range(rounds):
            raw = workload(users, first=1000 * (n + 1))  # new users every round, as after the warm-up
            f: list[float] = []
            e: list[float] = []
            fc: list[float] = []
            ec: list[float] = []
            for i in range(0, len(raw), per_user):  # one user's updates on one bot, then on the other
                first, second = ((full, f, fc), (plain, e, ec)) if i // per_user % 2 == 0 else ((plain, e, ec), (full, f, fc))
                for app, times, cpu in (first, second):  # which bot goes first alternates too
                    times += await drive(app, raw[i : i + per_user], cpu)
            full_times += f
            echo_times += e
            full_cpu += fc
            echo_cpu += ec
            ratios.append(sum(ec) / sum(fc))  # the same number of updates: the ratio of updates per second
            wall_ratios.append(sum(e) / sum(f))
    finally:
        gc.unfreeze()
    for app in (full, plain):
        await app.shutdown()
    full.bot_data["guide"].close()
    full_summary, echo_summary = summary(full_times, full_cpu), summary(echo_times, echo_cpu)
    full_summary["ratio"] = statistics.median(ratios)
    full_summary["ratios"] = ratios
    full_summary["wall_ratio"] = statistics.median(wall_ratios)
    return full_summary, echo_summary


async def bench_polling(tmp: Path, users: int = 40) -> dict:
    sys.path.insert(0, str(ROOT))
    from tests.conftest import running_bot
    from tests.fake_telegram import FakeTelegram

    async with FakeTelegram() as fake:
        async with running_bot(fake, tmp / "poll.db"):
            await fake.user(id=999).send("/start")  # warm-up
            start = time.perf_counter()
            for uid in range(1, users + 1):
                await fake.user(id=uid).send("/start", wait=False)
                await fake.user(id=uid).send("卡丢了怎么办", wait=False)
            await fake.wait_for(
                lambda: all(len(fake.chats.get(uid, [])) >= 2 for uid in range(1, users + 1)), timeout=60, what="every reply"
            )
            elapsed = time.perf_counter() - start
    return {"n": 2 * users, "per_s": 2 * users / elapsed}


def bench_matcher() -> dict[str, float]:
    """Per question over the benchmark questions and the whole evaluation set (tests/eval)."""
    from dialogs.guide import build_guide

    sys.path.insert(0, str(ROOT))
    from tests.eval.__main__ import load_questions

    # a fresh interpreter: import the matcher's libraries and index the knowledge
    code = (
        "import time; from knowledge import load_knowledge; kb = load_knowledge(); t = time.perf_counter(); "
        "from dialogs.matcher import Matcher; Matcher(kb); print(time.perf_counter() - t)"
    )
    build = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        for _ in range(3)
    )
    engine = build_guide(":memory:").engine
    engine.warm_up()
    questions = QUESTIONS + [q for items in load_questions().values() for q, _ in items]
    for q in questions:  # warm-up
        engine.matcher.compute(q)
    # each question's time is its median over 21 runs (a shared machine's preemptions are not the
    # matcher's); the p99 is over the questions
    times = []
    for q in questions:
        runs = []
        for _ in range(21):
            t = time.perf_counter()
            engine.matcher.compute(q)  # the scoring itself, not the memo of repeated questions
            runs.append(time.perf_counter() - t)
        times.append(statistics.median(runs))
    times.sort()
    return {
        "mean_us": 1e6 * statistics.mean(times),
        "p99_us": 1e6 * times[int(0.99 * (len(times) - 1))],
        "n": len(questions),
        "build_s": build,
    }


def bench_answerer() -> dict[str, float]:
    """A whole free-text answer per question (read as parts, ranked, composed, the screen rendered),
    without the memory of repeated questions, over the benchmark questions and the evaluation set; and
    the cold build of the matcher and the reader in a fresh interpreter."""
    from dialogs.features.answers import show
    from dialogs.guide import build_guide

    sys.path.insert(0, str(ROOT))
    from tests.eval.__main__ import load_questions

    code = (
        "import time; from knowledge import load_knowledge; kb = load_knowledge(); t = time.perf_counter(); "
        "from dialogs.matcher import Matcher; from dialogs.reader import Reader; Reader(kb, Matcher(kb)); "
        "print(time.perf_counter() - t)"
    )
    build = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        for _ in range(3)
    )
    guide = build_guide(":memory:")
    engine = guide.engine
    engine.warm_up()
    ctx = Context(user_id=1)
    questions = QUESTIONS + [q for items in load_questions().values() for q, _ in items]

    def answer(q: str) -> None:
        plan = engine.reader.compute(q)
        if plan.routes:
            show(guide, ctx, plan.routes, plan.business)
        elif plan.kind == "ask":
            engine.render(f"ask_business:{plan.aspect}", ctx)

    for q in questions:  # warm-up (templates compiled, screens that are the same for everyone cached)
        answer(q)
    times = []
    for q in questions:
        runs = []
        for _ in range(21):
            t = time.perf_counter()
            answer(q)
            runs.append(time.perf_counter() - t)
        times.append(statistics.median(runs))
    times.sort()
    guide.close()
    return {
        "mean_ms": 1e3 * statistics.mean(times),
        "p99_ms": 1e3 * times[int(0.99 * (len(times) - 1))],
        "n": len(questions),
        "build_s": build,
    }


def answerer_rows(answerer: dict[str, float]) -> list[str]:
    return [
        row(
            "whole answer per free-text question (read, ranked, composed, rendered; p99)",
            f"{answerer['p99_ms']:.2f} ms (mean {answerer['mean_ms']:.2f} ms, {answerer['n']} questions)",
            "≤ 2 ms",
            answerer["p99_ms"] <= 2,
        ),
        row(
            "matcher and reader cold build (fresh interpreter)", f"{answerer['build_s']:.2f} s", "≤ 1 s", answerer["build_s"] <= 1
        ),
    ]


async def bench_cold_start(tmp: Path) -> float:
    """A fresh ``eport-guide run`` until its first getUpdates, in seconds (the least of 3). The project's code is
    byte-compiled first, as an installed bot's is (pip compiles a wheel's modules when it installs it): an
    editable checkout under PYTHONDONTWRITEBYTECODE would compile bot/, dialogs/, knowledge/ and web/ from source
    at every start."""
    import compileall

    for package in ("bot", "dialogs", "knowledge", "web"):
        compileall.compile_dir(ROOT / package, quiet=1)
    sys.path.insert(0, str(ROOT))
    from tests.fake_telegram import FakeTelegram

    results = []
    for _ in range(3):
        async with FakeTelegram(TOKEN) as fake:
            env = {
                **os.environ,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "TELEGRAM_API_FILE_URL": fake.base_file_url,
                "EPORT_GUIDE_DB": str(tmp / "cold.db"),
            }
            start = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                await fake.wait_for(lambda: fake.calls("getUpdates"), timeout=20, what="the first getUpdates")
                results.append(time.perf_counter() - start)
            finally:
                proc.terminate()
                await proc.wait()
    return min(results)


async def bench_memory(tmp: Path, users: int = 10_000) -> tuple[float, float]:
    async def grow(app: Application) -> float:
        await app.initialize()
        raw = []
        for uid in range(1, users + 1):
            raw += [text_update(uid, "/start"), callback_update(uid, buttons()["unlock"])]
        updates = [to_update(u, app.bot) for u in raw]
        tracemalloc.start()
        base = tracemalloc.take_snapshot()
        for u in updates:
            await app.process_update(u)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(s.size_diff for s in after.compare_to(base, "filename"))
        await app.shutdown()
        return grown / users

    full = build_application(Settings(token=TOKEN, db_path=str(tmp / "mem.db")), request=OfflineRequest(), rate_limit=False)
    full_bytes = await grow(full)
    full.bot_data["guide"].close()
    echo_bytes = await grow(echo_application(OfflineRequest()))
    return full_bytes, echo_bytes


def bench_pictures(repeat: int = 2000) -> dict[str, float]:
    """A prepared copy's example picture: the first drawing (description, PNG and SVG, as a material
    screen's first photo costs) per picture, and the same asked again (cached), in ms."""
    from dialogs.i18n import LANGUAGES
    from dialogs.pictures import copy_materials, describe, picture
    from dialogs.pictures import render as drawing
    from knowledge import load_knowledge

    kb = load_knowledge()
    cases = [(m, lang) for m in copy_materials(kb) for lang in LANGUAGES]
    picture(kb, *cases[0]).png()  # the libraries and the font loaded once, as in a running bot
    first = []
    for material, lang in cases:
        t = time.perf_counter()
        made = describe(kb, material, lang)
        drawing.png.__wrapped__(made)
        drawing.svg.__wrapped__(made)
        first.append(time.perf_counter() - t)
    for material, lang in cases:  # into the caches
        made = picture(kb, material, lang)
        made.png(), made.svg()
    t = time.perf_counter()
    for _ in range(repeat):
        for material, lang in cases:
            made = picture(kb, material, lang)
            made.png(), made.svg()
    cached = (time.perf_counter() - t) / (repeat * len(cases))
    return {
        "first_ms": 1000 * statistics.median(first),
        "first_max_ms": 1000 * max(first),
        "cached_ms": 1000 * cached,
        "n": len(cases),
    }


HOSTILE_JPEG = b"\xff\xd8" + b"\xff" * (20 * 1024 * 1024 - 2)  # a JPEG header on 20 MB of fill bytes
HOSTILE_SEGMENTS = b"\xff\xd8" + b"\xff\xfe\x00\x02" * (5 * 1024 * 1024)  # 20 MB of empty JPEG segments
HOSTILE_PDF = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 - 9)  # a PDF header on 20 MB without objects or end


async def bench_hostile_upload(tmp: Path, seconds: float = 6.0) -> dict[str, float]:
    """What a 20 MB hostile upload adds to another user's reply. The web pages (as served by ``run --web``)
    answer a visitor every 20 ms on the loop the bot uses; meanwhile the bot's upload path
    (dialogs.features.upload.check_file_off_loop, after the 20 MB download it copies) checks hostile
    files at 2 a second. Added = the visitor's p99 (and worst) latency minus the same without uploads.
    Also: the check's own wall time (what the next Telegram update, handled in order, waits)."""
    import httpx

    from dialogs.features import upload
    from web.server import RateLimiter, build_web_guide, start

    settings = Settings(db_path=str(tmp / "hostile.db"))
    guide = build_web_guide(settings)
    port = 18000 + os.getpid() % 1000
    server = start(settings, guide=guide, listen="127.0.0.1", port=port, rate_limiter=RateLimiter(rate=1e6, burst=10**6))
    ctx = Context(user_id=1)

    async def visitor(until: float) -> list[float]:
        times = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            await c.get("/s/offices")
            while time.perf_counter() < until:
                t = time.perf_counter()
                r = await c.get("/s/offices")
                assert r.status_code == 200
                times.append(time.perf_counter() - t)
                await asyncio.sleep(0.02)
        return times

    checks: list[float] = []

    async def uploader(until: float) -> None:
        n = 0
        while time.perf_counter() < until:
            data = bytes(bytearray((HOSTILE_JPEG, HOSTILE_SEGMENTS, HOSTILE_PDF)[n % 3]))  # the download's copy
            t = time.perf_counter()
            screen = await upload.check_file_off_loop(guide, ctx, data, "scan.jpg", len(data))
            checks.append(time.perf_counter() - t)
            assert "scan.jpg" in screen.text
            n += 1
            await asyncio.sleep(max(0.0, 0.5 - (time.perf_counter() - t)))

    def p99(times: list[float]) -> float:
        times = sorted(times)
        return times[int(0.99 * (len(times) - 1))]

    try:
        quiet = await visitor(time.perf_counter() + seconds)
        end = time.perf_counter() + seconds
        busy, _ = await asyncio.gather(visitor(end), uploader(end))
    finally:
        server.retention.stop()
        server.stop()
        await server.close_all_connections()
        guide.close()
    return {
        "added_p99_ms": 1000 * (p99(busy) - p99(quiet)),
        "added_max_ms": 1000 * (max(busy) - max(quiet)),
        "quiet_p99_ms": 1000 * p99(quiet),
        "check_ms": 1000 * statistics.median(checks),
        "check_max_ms": 1000 * max(checks),
        "uploads": len(checks),
    }


WECHAT_QUESTIONS = ["卡丢了怎么办", "要带哪些材料", "通辽在哪里办", "营业执照复印件上写什么", "公司改名了", "证书过期了怎么办"]


async def bench_wechat(tmp: Path, followers: int = 40) -> dict[str, float]:
    """The WeChat Official Account's reply time (WeChat waits 5 s): the real web server in safe mode on
    loopback, each follower subscribing, asking (some asked back), answering by number, sending a location
    and tapping the menu; from the POST sent to the encrypted reply read, decrypted and its signature checked."""
    import secrets as _secrets
    from urllib.parse import urlencode

    import httpx

    from tests.fake_wechat import fields, seal, sha1_signature, unseal
    from web.server import RateLimiter, build_web_guide, start

    token, key, app_id = "benchToken1", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2"
    settings = Settings(db_path=str(tmp / "wechat.db"), wechat_token=token, wechat_aes_key=key, wechat_app_id=app_id)
    guide = build_web_guide(settings)
    port = 19000 + os.getpid() % 1000
    server = start(settings, guide=guide, listen="127.0.0.1", port=port, rate_limiter=RateLimiter(rate=1e6, burst=10**6))
    await guide.engine.ready()
    times: list[float] = []
    msg_id = [7_000_000_000]

    async def send(client: httpx.AsyncClient, openid: str, kind: str, **values: str) -> str:
        msg_id[0] += 1
        inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in values.items())
        xml = (
            f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{inner}"
            f"<MsgId>{msg_id[0]}</MsgId></xml>"
        )
        timestamp, nonce = str(int(time.time())), str(_secrets.randbelow(10**9))
        t = time.perf_counter()
        encrypted = seal(key, app_id, xml)
        query = {
            "signature": sha1_signature(token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": sha1_signature(token, timestamp, nonce, encrypted),
        }
        r = await client.post("/wechat?" + urlencode(query), content=f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        got = fields(r.text)
        assert got["MsgSignature"] == sha1_signature(token, got["TimeStamp"], got["Nonce"], got["Encrypt"])
        content = fields(unseal(key, got["Encrypt"])[0])["Content"]
        times.append(time.perf_counter() - t)
        return content

    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for n in range(followers):
                openid = f"oBench{n:04d}"
                await send(client, openid, "event", Event="subscribe")
                reply = await send(client, openid, "text", Content=WECHAT_QUESTIONS[n % len(WECHAT_QUESTIONS)])
                await send(client, openid, "text", Content="1" if "回复数字选择" in reply else "菜单")
                await send(client, openid, "location", Location_X="43.6", Location_Y="122.2", Label="")
                await send(client, openid, "event", Event="CLICK", EventKey="go:checklists")
    finally:
        server.retention.stop()
        server.stop()
        await server.close_all_connections()
        guide.close()
    ordered = sorted(times)
    return {
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
        "p50_ms": 1000 * statistics.median(ordered),
        "max_ms": 1000 * ordered[-1],
        "n": len(ordered),
    }


def wechat_row(wechat: dict[str, float]) -> str:
    return row(
        "WeChat reply to a follower (safe mode: decrypt, answer, encrypt; loopback; p99)",
        f"{wechat['p99_ms']:.1f} ms (p50 {wechat['p50_ms']:.1f} ms, worst {wechat['max_ms']:.1f} ms, {wechat['n']} messages)",
        "≤ 200 ms (WeChat waits 5 s)",
        wechat["p99_ms"] <= 200,
    )


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


async def bench_tokenless_uploads(tmp: Path, clients: int = 30) -> dict[str, float]:
    """30 parallel 20 MB uploads to /check without a CSRF token against `eport-guide web`: the growth of
    the server's resident memory (peak, sampled every 20 ms, over the idle server's)."""
    port = 19000 + os.getpid() % 1000
    env = {**os.environ, "EPORT_GUIDE_DB": str(tmp / "tokenless.db")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "web",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        base = _rss_mb(proc.pid)
        size = 20 * 1024 * 1024
        chunk = b"\0" * 65536

        async def upload() -> bytes:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(
                b"POST /check HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                b"Content-Length: %d\r\n\r\n" % size
            )
            answer = asyncio.ensure_future(r.read(64))

            async def body() -> None:  # the whole body, unless the server has answered (or closed) first
                sent = 0
                while sent < size and not answer.done():
                    w.write(chunk)
                    await w.drain()
                    sent += len(chunk)

            try:
                await body()
                return await asyncio.wait_for(answer, 30)
            except (ConnectionError, TimeoutError):
                return answer.result() if answer.done() and not answer.exception() else b""
            finally:
                w.close()

        peak = base
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _rss_mb(proc.pid))
                await asyncio.sleep(0.02)

        sampler = asyncio.ensure_future(sample())
        answers = await asyncio.gather(*(upload() for _ in range(clients)))
        done.set()
        await sampler
        refused = sum(a.startswith(b"HTTP/1.1 403") for a in answers)
    finally:
        proc.terminate()
        await proc.wait()
    return {"added_mb": peak - base, "base_mb": base, "refused": refused, "clients": clients}


def row(name: str, measured: str, target: str, ok: bool) -> str:
    return f"| {name} | {measured} | {target} | {'pass' if ok else 'MISS'} |"


BASELINE = Path(__file__).resolve().with_name("baseline.json")


def git_commit() -> str:
    if os.environ.get("BENCH_COMMIT"):  # measuring an exported tree (e.g. the code before a change)
        return os.environ["BENCH_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


async def save_baseline(path: Path) -> int:
    """`python -m benchmarks --baseline`: measure process_update only and keep it as the "before" of the notes."""
    with tempfile.TemporaryDirectory() as d:
        full, plain = await bench_process_update(Path(d))
    data = {"commit": git_commit(), "date": time.strftime("%Y-%m-%d"), "full": full, "echo": plain}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(data, indent=2))
    return 0


def before_after(full: dict, plain: dict) -> list[str]:
    """The notes' before/after lines, computed from benchmarks/baseline.json and this run."""
    if not BASELINE.exists():
        return []
    base = json.loads(BASELINE.read_text(encoding="utf-8"))
    bf, be = base["full"], base["echo"]
    return [
        f"- Before → after: the code of commit {base['commit']} measured by this harness on {base['date']}",
        f"  (`python -m benchmarks --baseline`, kept in benchmarks/baseline.json) → this run: ratio to the echo bot {bf['ratio']:.2f} → {full['ratio']:.2f}"
        f" (median of {len(full['ratios'])} rounds: {', '.join(f'{r:.2f}' for r in full['ratios'])});",
        f"  full bot {bf['per_s']:.0f} → {full['per_s']:.0f} updates/s (×{full['per_s'] / bf['per_s']:.1f}), echo bot"
        f" {be['per_s']:.0f} → {plain['per_s']:.0f} updates/s in the same runs;",
        f"  p99 {bf['p99_ms']:.2f} → {full['p99_ms']:.2f} ms, p50 {bf['p50_ms']:.2f} → {full['p50_ms']:.2f} ms.",
    ]


async def main(argv: list[str]) -> int:
    if argv[:1] == ["--baseline"]:
        return await save_baseline(Path(argv[1]) if len(argv) > 1 else BASELINE)
    if argv[:1] == ["--web"]:  # only the web pages' rows (about a minute)
        from .web import bench_web, web_rows

        load_before = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as d:
            rows = web_rows(await bench_web(Path(d)), row)
        print("\n".join(rows))
        print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores; the machine is shared)")
        return 0 if all(r.endswith("| pass |") for r in rows) else 1
    if argv[:1] == ["--answerer"]:  # only the free-text answerer's rows (quick, no bot)
        rows = answerer_rows(bench_answerer())
        print("\n".join(rows))
        return 0 if all(r.endswith("| pass |") for r in rows) else 1
    if argv[:1] == ["--wechat"]:  # only the WeChat reply time (seconds)
        with tempfile.TemporaryDirectory() as d:
            line = wechat_row(await bench_wechat(Path(d)))
        print(line)
        return 0 if line.endswith("| pass |") else 1
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        full, plain = await bench_process_update(tmp)
        polling = await bench_polling(tmp)
        matcher = bench_matcher()
        answerer = bench_answerer()
        cold = await bench_cold_start(tmp)
        mem_full, mem_echo = await bench_memory(tmp)
        pictures = bench_pictures()
        hostile = await bench_hostile_upload(tmp)
        tokenless = await bench_tokenless_uploads(tmp)
        wechat = await bench_wechat(tmp)
        from .web import bench_web, web_rows

        web = await bench_web(tmp)
    ratio = full["ratio"]
    extra_mem = mem_full - mem_echo
    rows = [
        row(
            "full bot / echo bot throughput (process_update, offline)",
            f"{ratio:.2f} ({full['per_s']:.0f} vs {plain['per_s']:.0f} updates/s)",
            f"≥ {RATIO_TARGET}",
            ratio >= RATIO_TARGET,
        ),
        row(
            "full bot p99 latency per update",
            f"{full['p99_ms']:.2f} ms (p50 {full['p50_ms']:.2f} ms)",
            "≤ 2 ms",
            full["p99_ms"] <= 2,
        ),
        row("echo bot p99 latency per update", f"{plain['p99_ms']:.2f} ms (p50 {plain['p50_ms']:.2f} ms)", "reference", True),
        row(
            "end to end through polling on loopback",
            f"{polling['per_s']:.0f} updates/s ({polling['n']} updates)",
            "≥ 30 /s (Telegram's cap)",
            polling["per_s"] >= 30,
        ),
        row(
            "matcher per free-text question (p99)",
            f"{matcher['p99_us']:.0f} µs (mean {matcher['mean_us']:.0f} µs, {matcher['n']} questions)",
            "≤ 1000 µs",
            matcher["p99_us"] <= 1000,
        ),
        row("matcher build (libraries + index, in the background after start)", f"{matcher['build_s']:.2f} s", "reference", True),
        *answerer_rows(answerer),
        row("cold start to first getUpdates", f"{cold:.2f} s", "≤ 1 s", cold <= 1.0),
        row(
            "picture of a prepared copy, first drawing (description + PNG + SVG)",
            f"{pictures['first_ms']:.0f} ms median, {pictures['first_max_ms']:.0f} ms max ({pictures['n']} pictures)",
            "reference",
            True,
        ),
        row(
            "picture of a prepared copy, cached (description + PNG + SVG)",
            f"{1000 * pictures['cached_ms']:.1f} µs",
            "≤ 1 ms",
            pictures["cached_ms"] <= 1,
        ),
        row(
            "20 MB hostile uploads (2/s) during another user's replies: added latency (p99)",
            f"{hostile['added_p99_ms']:.1f} ms (worst +{hostile['added_max_ms']:.1f} ms; p99 without uploads {hostile['quiet_p99_ms']:.1f} ms;"
            f" {hostile['uploads']} uploads)",
            "≤ 50 ms",
            hostile["added_p99_ms"] <= 50,
        ),
        row(
            "pre-check of one 20 MB hostile file, rendered (what the next Telegram update waits)",
            f"{hostile['check_ms']:.1f} ms median (worst {hostile['check_max_ms']:.1f} ms)",
            "≤ 50 ms",
            hostile["check_ms"] <= 50,
        ),
        row(
            "30 parallel 20 MB uploads without a CSRF token: server memory growth (peak RSS)",
            f"{tokenless['added_mb']:.1f} MB (idle {tokenless['base_mb']:.0f} MB; {tokenless['refused']}/{tokenless['clients']} refused 403)",
            "≤ 50 MB",
            tokenless["added_mb"] <= 50 and tokenless["refused"] == tokenless["clients"],
        ),
        *web_rows(web, row),
        row(
            "memory per active user beyond the library",
            f"{extra_mem:.0f} B (bot {mem_full:.0f} B, echo {mem_echo:.0f} B)",
            "≤ 1024 B",
            extra_mem <= 1024,
        ),
        wechat_row(wechat),
    ]
    header = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}: Python {platform.python_version()}, "
        f"python-telegram-bot {telegram.__version__}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} cores.",
        "The workload per user: /start, a category, an answer, open the checklist, two ticks (written to SQLite),",
        "a free-text question, the office list. The echo bot gets the same updates and answers each with one call.",
        f"Load average (1 min) {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end: other work on the",
        "machine takes cores from the rows, most visibly from the web rows' latencies (see their share of a core).",
        "",
        "| measure | measured | target | result |",
        "| --- | --- | --- | --- |",
    ]
    notes = [
        "",
        "## Notes",
        "",
        "- Method: both bots run in one process on the same updates, alternating user by user, which bot goes first",
        f"  alternating too ({ROUNDS} rounds of new users after a warm-up); the ratio is the median of the rounds' ratios,",
        "  each the echo bot's CPU time over the full bot's for the same updates (the process's CPU time, every",
        "  thread counted, user and system: the SQLite writes' system calls are the full bot's; time the shared",
        "  machine gives to other processes is neither bot's and made single rounds range from 0.5 to 1.2 in wall",
        f"  time; the median wall-time ratio of this run, for comparison: {full['wall_ratio']:.2f}). After the warm-up the",
        "  garbage collector is settled as `eport-guide run` settles it (start-up objects frozen), for both bots.",
        "  Latencies are wall time and pool every round. The offline request answers like Telegram: a sent or",
        "  edited message comes back with its text (HTML parsed into text and entities) and its keyboard.",
        *before_after(full, plain),
        "- What changed for the cost per update: keyboards serialised to JSON once per distinct keyboard and the",
        "  Message Telegram returns left unparsed (the bot never reads it; bot/delivery.py); a checklist page per",
        "  material (5 tick buttons instead of ~30) rendered once per state of its ticks and reused; a tick is one",
        "  SQLite transaction; a user's visit is written at most once a minute; the matcher remembers recent",
        "  questions (the workload's 12 questions repeat across users, so most are answered from that memory; the",
        "  matcher row above times the scoring itself). Screens that are the same for everyone were already",
        "  rendered once and cached.",
        "- Since then: the WAL is checkpointed every 4000 pages instead of 1000 (a checkpoint's two fsyncs stall",
        "  the event loop for milliseconds); a checklist screen reads the user's ticks, 不适用 marks and notice in one",
        "  statement and computes the list's state once per set of marks; a write's timestamp is formatted once per",
        "  second; button presses reach their handler first; a reused screen's keyboard JSON and a user's Context",
        "  are reused. What remains beyond the echo bot is the SQLite work of each update (the visit, the ticks, the",
        "  statistics' events: about 30 µs an update when the two bots alternate), the rest costs less than the",
        "  echo bot's parsing of the Message Telegram returns.",
        "- 2026-12-06: the JSON Telegram returns for a screen is not decoded at all (bot.telegram_api.UnreadReplies:",
        "  only a successful reply to the bot's own raw send is skipped; errors and the library's calls are decoded);",
        "  the checklist screen's read is handed on from the step before it (one read per screen, dropped when",
        "  anything was written since); opening a checklist and its statistics event are one commit. The web",
        "  server freezes the start-up objects out of the garbage collector and copies the WAL into the database",
        "  file from a thread of its own in quiet moments (a checkpoint no longer stalls a request).",
        "- Later on 2026-12-06: the bot writes its statistics' events (a business viewed, a checklist opened) 64 at",
        "  a time or once a second, as the web pages do (one commit per view before; the checklist itself is still",
        "  committed before the answer); a tick reads the checklist back in its own transaction (one read fewer).",
        "  The ratio is now taken in CPU time over 15 rounds (see Method); the baseline above was measured in wall",
        "  time over 5 rounds. What remains beyond the echo bot is SQLite's file work: with the database in memory",
        "  the two bots are level (ratio about 1.0), with the file each commit (the visit of a new user, opening a",
        "  checklist, each tick: all written before the answer) costs its WAL locks and page writes, and the ratio",
        "  drops as the machine's load rises (0.94 at a load average of 5, 0.86 at 8 on 2 cores).",
        "- Web rows: the load generator is a process of its own (an asyncio Protocol on uvloop, about 50-80 µs of",
        "  CPU a request, its share of a core in the rows); both servers run on uvloop, as `eport-guide web` does.",
        "  The pages write their views 64 at a time (one commit per page view before), compute a visitor's CSRF",
        "  token once a minute (one HMAC per page before) and a kept page's gzip CRC from tables (a pass over the",
        "  page before). With 32 clients each waiting for its answer, the mean",
        "  latency is 32 / throughput (Little's law) and the tail about 1.5 times the median, so a p99 of 15 ms",
        "  needs about 3,200 requests/s: at most about 310 µs of the server's one core a request, of which",
        "  tornado's own handling (parsing, headers, socket calls) takes about 200 µs, as the bare handler shows.",
        "- Checklist tick (2026-12-06, 0.47–0.51 before, server CPU 290–320 µs a tick): the script's answer carries",
        "  the headers of data, not a page's (four headers with a short policy instead of seven with the page's long",
        "  one), its progress is counted once per business and marks and encoded once per language and counts (the",
        "  visitor's token appended), the token and button are read from the form in one step. Where the rest goes",
        "  (in-process, without sockets: ours about 116 µs against the bare handler's 56): SQLite about 26 µs (the",
        "  session's row, then BEGIN IMMEDIATE, two statements, the read-back, COMMIT: the commit alone about 10), the",
        "  session, cookie, language and token checks about 10. On the socket each costs about twice that, and waking",
        "  the load generator costs the sender more the slower it answers (a pure-CPU delay in the bare handler raised",
        "  its socket write from 15 to 27 µs). Seen and left: caching the session's row (a session deleted by another",
        "  process would still resolve; a `PRAGMA data_version` check costs what the read costs); timing request",
        "  bodies with a sweep instead of tornado's per-request timer (the delegate it needs costs what the timer",
        "  saves). The tick's p99 moved between 10 and 14 ms from run to run (eight runs on 2026-12-06) until the",
        "  p99 of each half-second showed why: about 4 s into every 5-s round the WAL reached the commits' own",
        "  checkpoint (16,000 pages; the thread's checkpoints cannot start the WAL afresh while ticks keep coming),",
        "  whose fsync on the loop held every request in flight ~28 ms. With that backstop at 64,000 pages (the WAL",
        "  cut back to 64 MB once writes pause) the spike is gone and the p99 is about 10 ms; what stays are stalls",
        "  of 4–9 ms a few times a second (the bare handler shows 3–4 ms ones), about 1 ms of it from the thread's",
        "  checkpoints, nothing measurable from the collector (under 40 ms in all over 8 s).",
        "- Cold start (2026-12-06, 1.19–1.45 s before): the knowledge files and screens.yaml are parsed with libyaml",
        "  (PyYAML's own parser still reads what only it refuses, for its messages); sqlite-utils and numpy are",
        "  imported only when the database needs a migration, Jinja with the first screen; the Telegram clients",
        "  share one TLS context (the certificate authorities were loaded four times); the command menu and profile",
        "  texts are registered once polling has begun; the garbage collector is paused until the bot polls and its",
        "  answerer is built. The measure runs byte-compiled code, as an installed bot does.",
    ]
    text = "\n".join(header + rows + notes) + "\n"
    (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
