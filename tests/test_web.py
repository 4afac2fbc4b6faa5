"""The web channel over real HTTP: every route, languages, escaping, CSRF, cookies,
checklists across a restart, delete-my-data, limits, links."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import html
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from dialogs import i18n
from dialogs.features import all_routes

from .conftest import first_page, user_columns, user_known

REPO = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def web_server(db_path, kb, *, rate_limiter=None, max_connections=None, apps=None, **settings_overrides):
    """The real server (web.server.start) on a free port, in a thread with its own loop; ``apps`` (a list)
    receives the tornado application (its ``web``: the renderer, the limits)."""
    from bot.settings import Settings
    from web.server import RateLimiter, build_web_guide, start

    rate_limiter = rate_limiter or RateLimiter(rate=1000, burst=1000)  # the suite's own bursts; see test_rate_limit

    settings = Settings(db_path=str(db_path), **settings_overrides)
    guide = build_web_guide(settings)
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    def run():
        asyncio.set_event_loop(loop)

        async def boot():
            limits = {"max_connections": max_connections} if max_connections is not None else {}
            holder["server"] = start(settings, guide=guide, listen="127.0.0.1", port=port, rate_limiter=rate_limiter, **limits)
            if apps is not None:
                apps.append(holder["server"].request_callback)
            ready.set()

        loop.run_until_complete(boot())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}", guide
    finally:

        async def stop():
            holder["server"].retention.stop()
            holder["server"].stop()
            await holder["server"].close_all_connections()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        guide.close()


def xsrf(page: str) -> str:
    m = re.search(r'name="_xsrf" value="([^"]+)"', page)
    assert m, "every page with a form carries a CSRF token"
    return html.unescape(m.group(1))


def upload_action(page: str) -> str:
    """The upload form's action: /check with the page's CSRF token in the query string (checked before the body)."""
    m = re.search(r'<form class="ask" method="post" action="(/check\?_xsrf=[^"]+)" enctype="multipart/form-data">', page)
    assert m, "the upload page has a form whose action carries the token"
    return html.unescape(m.group(1))


def action_data(page: str, label_part: str) -> str:
    """The callback data of the POST button whose label contains ``label_part``."""
    for m in re.finditer(r'<input type="hidden" name="d" value="([^"]+)"><button class="btn">([^<]*)</button>', page):
        if label_part in html.unescape(m.group(2)):
            return html.unescape(m.group(1))
    raise AssertionError(f"no button {label_part!r}")


def press(client: httpx.Client, page: str, label_part: str) -> httpx.Response:
    return client.post("/a", data={"_xsrf": xsrf(page), "d": action_data(page, label_part)})


def follow(client: httpx.Client, page: str, label_part: str) -> httpx.Response:
    """Open the link button whose label contains ``label_part`` (e.g. a checklist's material page)."""
    for m in re.finditer(r'<a class="btn" href="([^"]+)">([^<]*)</a>', page):
        if label_part in html.unescape(m.group(2)):
            return client.get(html.unescape(m.group(1)))
    raise AssertionError(f"no link {label_part!r}")


def boxes(page: str, name: str = "t") -> dict[str, bool]:
    """The checklist form's checkboxes (``t``: the items, ``na``: 不适用): item id → checked."""
    return {
        html.unescape(m.group(1)).removeprefix("na:"): bool(m.group(2))
        for m in re.finditer(r'<input type="checkbox" name="m:[a-z_]+" value="([^"]+)"( checked)?>', page)
        if (m.group(1).startswith("na:") if name == "na" else not m.group(1).startswith("na:"))
    }


def save(client, page: str, ticked, na=None, at: str = "", **kw):
    """Send the checklist form without script: these items ticked (and these 不适用), saved at ``at``."""
    topic = re.search(r'<form class="checklist" method="post" action="/c/([a-z_]+)"', page).group(1)
    na = [i for i, on in boxes(page, "na").items() if on] if na is None else na
    fields: dict[str, list[str]] = {}
    for prefix, items in (("", ticked), ("na:", na)):
        for item in items:
            fields.setdefault(f"m:{item.split('.')[0]}", []).append(prefix + item)
    return client.post(f"/c/{topic}", data={"_xsrf": xsrf(page), "at": at, **fields}, **kw)


def tick_first(client, page: str, **kw):
    """Tick the first unticked item with the form (the others as they are); returns (response, item id)."""
    now = boxes(page)
    first = next(i for i, on in now.items() if not on)
    return save(client, page, [i for i, on in now.items() if on] + [first], at=first.split(".")[0], **kw), first


def rows_of(db_path, user_id: int) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return {
            f"{t}.{c}": conn.execute(f"SELECT COUNT(*) FROM {t} WHERE {c} = ?", (user_id,)).fetchone()[0]
            for t, c in user_columns(conn)
        }


def no_rows(db_path) -> dict[str, int]:
    """Every user-id column of the schema, at zero rows."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return {f"{t}.{c}": 0 for t, c in user_columns(conn)}


def web_user_ids(db_path) -> list[int]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return [r[0] for r in conn.execute("SELECT user_id FROM web_sessions")]


@pytest.fixture
def server(tmp_path, kb):
    with web_server(tmp_path / "web.db", kb) as (url, guide):
        yield url, guide, tmp_path / "web.db"


@pytest.fixture
def client(server):
    url, _, _ = server
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as c:
        yield c


# -- routes ---------------------------------------------------------------------------------------
def test_every_screen_a_link_opens_is_a_page_and_internal_screens_are_not(server, client):
    url, guide, _ = server
    opened = 0
    for route in all_routes(guide.engine):
        r = client.get("/" if route == "main" else f"/s/{route}")
        screen = route.split(":")[0]
        if screen in ("stats", "precheck", "reminders", "remind"):
            assert r.status_code == 404, route
            continue
        assert r.status_code == 200, route
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "<!doctype html>" in r.text and 'class="content"' in r.text
        opened += 1
    assert opened > 60
    for path in (
        "/s/stats",
        "/s/precheck",
        "/s/reminder_due:1",
        "/s/feedback_reason:reissue_lost",
        "/nothing",
        "/s/topic:nope",
        "/s/" + "x" * 300,
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "页面不存在" in r.text  # a readable page with the main menu, not a traceback


PHONE_RUN = re.compile(r"(?<![\d-])(0\d{2,3})-(\d{7,8})((?:、\d{7,8})*)(?![\d-])|(?<![\d-])(1[3-9]\d{9})(?![\d-])")
CALL_BUTTON = re.compile(r'<a class="btn call" href="(tel:[^"]+)">([^<]*)</a>')


def dial(number: str) -> str:
    digits = number.replace("-", "")
    return "tel:+86" + (digits if digits.startswith("1") else digits[1:])


def message_of(page: str) -> str:
    return page.split('<div class="content">', 1)[1].split("</div><!--/content-->", 1)[0]


def test_every_phone_number_on_every_page_dials_and_answer_pages_have_a_call_button(server, client, kb):
    """Every number in a page's text is a tel: link, "0470-2299089、2299090" two of them (the second with
    the first one's area code, its text unchanged); a page that shows the hotline, and every answer page,
    has the big call button (a link, not a copy button)."""
    url, guide, _ = server
    hotline = list(kb.offices[kb.facts["hotline"].office].phones)
    assert hotline == ["0470-2299089", "0470-2299090"]
    button = f'<a class="btn call" href="{dial(hotline[0])}">📞 拨打热线 {hotline[0]}</a>'
    with_button = 0
    pages = [("/" if r == "main" else f"/s/{r}", r) for r in all_routes(guide.engine)]
    pages += [
        ("/ask?q=" + urllib.parse.quote(q), q) for q in ("要带哪些材料", "xyzzy", "营业时间和费用", "丢失补办要带什么，在哪里办")
    ]
    for path, route in pages:
        r = client.get(path)
        if r.status_code == 404:
            continue
        msg = message_of(r.text)
        text = html.unescape(re.sub(r"<[^>]+>", "", msg))
        links = re.findall(r'<a (?:class="[^"]*" )?href="(tel:[^"]+)">([^<]*)</a>', msg)
        for m in PHONE_RUN.finditer(text):
            if m.group(4):
                assert (dial(m.group(4)), m.group(4)) in links, (route, m.group(0))
                continue
            assert (dial(f"{m.group(1)}-{m.group(2)}"), f"{m.group(1)}-{m.group(2)}") in links, (route, m.group(0))
            for more in filter(None, m.group(3).split("、")):
                assert (dial(f"{m.group(1)}-{more}"), more) in links, (route, m.group(0))  # same area code
        assert not [v for v in re.findall(r'data-copy="([^"]*)"', r.text) if PHONE_RUN.fullmatch(html.unescape(v))], route
        answer_page = route.split(":")[0] in ("topic", "fact", "answer", "stuck", "ask_business") or path.startswith("/ask")
        if hotline[0] in text or answer_page:
            assert r.text.count(button) == 1, route
            with_button += 1
        assert r.text.count('class="btn call"') == r.text.count(button)
    assert with_button > len(kb.businesses) * 2 + len(kb.answers)
    # the hotline's text stays exactly as in the document, each number a link
    fact = client.get("/s/fact:hotline").text
    assert f'<a href="{dial(hotline[0])}">0470-2299089</a>、<a href="{dial(hotline[1])}">2299090</a>' in fact
    assert re.sub(r"<[^>]+>", "", message_of(fact)).count(kb.facts["hotline"].text) >= 1
    for lang, label in (("ru", "📞 Позвонить на горячую линию"), ("en", "📞 Call the hotline")):
        page = client.get("/s/stuck:reissue_lost", headers={"Accept-Language": lang}).text
        assert CALL_BUTTON.search(page).groups() == (dial(hotline[0]), f"{label} {hotline[0]}")


def test_the_question_box_is_at_the_top_of_every_page_with_a_visible_label(server, client):
    for path in ("/", "/s/topic:reissue_lost", "/s/offices", "/s/help", "/check", "/ask?q=xyzzy", "/nothing"):
        page = client.get(path).text
        box = page.index('<form class="ask top" method="get" action="/ask" role="search">')
        assert box < page.index('<div class="content">') and page.count('action="/ask"') == 1, path
        m = re.search(r'<label for="([^"]+)">([^<]+)</label>\s*<input id="([^"]+)" type="search" name="q"', page[box:])
        assert m and m.group(1) == m.group(3) and m.group(2) == "您的问题", path
    ru = client.get("/", headers={"Accept-Language": "ru"}).text
    assert '<label for="q">Ваш вопрос</label>' in ru


def test_the_web_help_is_the_web_s_own_and_commands_typed_open_their_pages(server, client, kb):
    from dialogs import commands

    for lang in i18n.LANGUAGES:
        page = client.get("/s/help", headers={"Accept-Language": lang}).text
        msg = message_of(page)
        for command in commands.COMMANDS:
            assert f"/{command.name}" not in re.sub(r'href="[^"]*"', "", msg), (lang, command.name)
        assert "@" not in msg and "t.me" not in msg
        assert 'href="/s/checklists"' in msg and 'href="/s/offices"' in msg and 'href="/check"' in msg
        assert 'href="/s/reminders"' not in msg  # no reminders on the web
        assert 'href="/ask?q=' in msg  # examples to tap
        assert '<a href="tel:+864702299089">0470-2299089</a>、<a href="tel:+864702299090">2299090</a>' in msg
    for typed, path in (
        ("/checklist", "/s/checklists"),
        ("/offices", "/s/offices"),
        ("/help", "/s/help"),
        ("/settings", "/s/settings"),
        ("/privacy", "/s/privacy"),
        ("/menu", "/"),
        ("/start", "/"),
        ("/Checklist@SomeBot", "/s/checklists"),
        ("/reminders", "/"),
    ):
        r = client.get("/ask", params={"q": typed})
        assert r.status_code == 200 and r.url.path == path, typed
        assert "没有找到" not in r.text, typed
    r = client.get("/ask", params={"q": "/nonsense"})  # not a command: asked as a question
    assert r.url.path == "/ask"


def test_deep_links_open_every_topic(server, client, kb):
    for topic, business in kb.businesses.items():
        r = client.get(f"/t/{topic}")
        assert r.status_code == 200 and html.escape(business.name) in r.text
    bad = client.get("/t/no_such_topic")
    assert bad.status_code == 404 and "未找到该业务" in bad.text


def test_free_text_asks_the_same_answerer(server, client):
    _, guide, _ = server
    from dialogs.engine import Context

    r = client.get("/ask", params={"q": "卡丢了怎么办"})
    expected = guide.engine.ask(Context(user_id=-1), "卡丢了怎么办")
    assert r.status_code == 200 and expected.route.startswith("topic:")
    assert html.escape(guide.kb.businesses[expected.route.split(":")[1]].name) in r.text
    assert client.get("/ask", params={"q": "  "}).url.path == "/"


def test_buttons_are_links_or_forms_offices_dial_and_map(server, client, kb):
    r = client.get("/")
    assert 'href="/s/category:' in r.text and 'href="/s/offices"' in r.text
    topic = client.get("/s/topic:reissue_lost").text
    assert 'action="/a"' in topic and action_data(topic, "📋").startswith("e1|")  # the checklist button is a form (a change)
    city = next(iter(kb.cities))
    page = client.get(f"/s/city:{city}").text
    phone = kb.cities[city][0].phones[0]
    digits = phone.replace("-", "")
    assert f'href="tel:+86{digits.lstrip("0") if not digits.startswith("1") else digits}"' in page
    assert 'href="https://uri.amap.com/search?keyword=' in page
    assert 'rel="noopener noreferrer"' in page


def test_copy_buttons_copy_the_exact_annotation(server, client, kb):
    _, guide, _ = server
    from dialogs.engine import Context

    screen = guide.engine.render("topic:change_name", Context(user_id=-1))
    phones = set(kb.offices[kb.facts["hotline"].office].phones)
    wanted = [b.copy_text for b in screen.all_buttons() if b.copy_text and b.copy_text not in phones]
    assert wanted and any(a.text in wanted for a in kb.annotations.values())
    page = client.get("/s/topic:change_name").text
    shown = [html.unescape(v) for v in re.findall(r'data-copy="([^"]*)"', page)]
    assert shown == wanted  # character for character; the hotline is dialled, not copied (the call button)
    assert "<script>" in page and "navigator.clipboard" in page


# -- languages ------------------------------------------------------------------------------------
def test_language_from_accept_language_then_the_switcher(server, client):
    title = {lang: i18n.translations(lang).gettext("电子口岸制发卡业务指南") for lang in i18n.LANGUAGES}
    for header, lang in [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9", "zh"),
        ("de-DE,de;q=0.9", "zh"),
        ("de;q=1, en;q=0.5, ru;q=0.7", "ru"),
        ("garbage;q=x", "zh"),
    ]:
        r = client.get("/", headers={"Accept-Language": header})
        assert f'<html lang="{ {"zh": "zh-CN"}.get(lang, lang) }">' in r.text, header
        assert title[lang] in r.text
    assert title["ru"] != title["zh"] and title["en"] != title["zh"]
    page = client.get("/s/offices", headers={"Accept-Language": "ru"}).text
    switched = client.post(
        "/lang", data={"_xsrf": xsrf(page), "lang": "en", "next": "/s/offices"}, headers={"Accept-Language": "ru"}
    )
    assert switched.url.path == "/s/offices" and '<html lang="en">' in switched.text  # the choice beats the header
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = client.post("/lang", data={"_xsrf": xsrf(page), "lang": "zh", "next": evil}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_session_keeps_its_language_in_the_store(server, client):
    url, guide, db = server
    page = client.get("/s/topic:reissue_lost").text
    press(client, page, "📋")
    uid = web_user_ids(db)[0]
    page = client.get("/s/settings").text
    client.post("/lang", data={"_xsrf": xsrf(page), "lang": "ru", "next": "/s/settings"})
    assert guide.store.get_language(uid) == "ru"
    # the engine's own language screen works on the web too
    page = client.get("/s/language").text
    r = press(client, page, "English")
    assert guide.store.get_language(uid) == "en" and '<html lang="en">' in r.text


# -- safety ---------------------------------------------------------------------------------------
def test_hostile_input_is_never_reflected_unescaped(server, client):
    r = client.get("/ask", params={"q": HOSTILE})
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # shown back in the box, escaped
    for path in ["/s/" + HOSTILE, "/t/" + HOSTILE, "/s/city:" + HOSTILE]:
        r = client.get(path)
        assert r.status_code == 404 and "<script>alert" not in r.text and "<img" not in r.text and "\"'>" not in r.text
    # an uploaded file's name
    page = client.get("/check").text
    r = client.post(upload_action(page), files={"file": (HOSTILE + ".pdf", b"%PDF-1.4 hostile name", "application/pdf")})
    assert r.status_code == 200 and "<script>alert" not in r.text and "<img src=x" not in r.text
    # a feedback reason (free text answering a screen's question)
    page = client.get("/s/more:reissue_lost").text  # 👍/👎 are behind ⋯ 更多
    asked = press(client, page, "👎")
    assert 'action="/reply"' in asked.text
    w = html.unescape(re.search(r'name="w" value="([^"]+)"', asked.text).group(1))
    r = client.post("/reply", data={"_xsrf": xsrf(asked.text), "w": w, "text": HOSTILE})
    assert r.status_code == 200 and "<script>alert" not in r.text and "<img src=x" not in r.text


def test_forms_without_the_csrf_token_are_refused_and_change_nothing(server, client):
    _, guide, db = server
    page = client.get("/s/topic:reissue_lost").text
    data = action_data(page, "📋")
    for path, form in [
        ("/a", {"d": data}),
        ("/a", {"d": data, "_xsrf": "2|00|00|1"}),
        ("/lang", {"lang": "en"}),
        ("/reply", {"text": "x"}),
    ]:
        r = client.post(path, data=form)
        assert r.status_code == 403, path
        assert "表单已过期" in r.text
    r = client.post("/check", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 403
    # another site's form: the browser would send our cookie but cannot read the token
    with httpx.Client(base_url=str(client.base_url), follow_redirects=True) as other:
        assert other.post("/a", data={"d": data, "_xsrf": xsrf(page)}).status_code == 403
    assert web_user_ids(db) == [] and guide.store.stats()["users"] == 0


def test_security_headers_on_every_response(server, client):
    import base64
    import hashlib

    for path in ("/", "/s/offices", "/nothing", "/check", "/ask?q=x"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "no-store" in r.headers["cache-control"] or "private" in r.headers["cache-control"]  # never public
    page = client.get("/").text
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp  # the only inline code allowed is exactly this
        assert page.count(f"<{tag}") == 1
    assert "style=" not in page and "onclick" not in page


def test_the_answer_to_the_page_s_script_is_data_and_its_errors_are_pages(server, client):
    """A tick the page's script sends gets JSON with the headers of data (a policy that allows nothing and no
    framing, no sniffing, not stored) — not a page's; a refused one (a stale token) is drawn as a page with the
    page's own policy."""
    page = client.get("/s/topic:reissue_lost").text
    opened = press(client, page, "📋").text
    item = list(boxes(opened))[0]
    data = {"_xsrf": xsrf(opened), "d": f"e1|tick|reissue_lost:{item}:1"}
    r = client.post("/a", data=data, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["done"] == 1
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    pressed = client.post("/a", data={**data, "d": f"e1|tick|reissue_lost:{item}:0"}, follow_redirects=False)
    assert pressed.status_code == 303 and "script-src 'sha256-" in pressed.headers["content-security-policy"]  # a form's
    refused = client.post("/a", data={**data, "_xsrf": "1.0"}, headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'sha256-" in refused.headers["content-security-policy"]  # the page's policy
    assert refused.headers["referrer-policy"] == "no-referrer" and refused.headers["x-frame-options"] == "DENY"
    assert "表单已过期" in refused.text


def test_the_answer_to_the_page_s_script_speaks_the_visitor_s_language(server, kb):
    """The progress the page's script gets (toast, the 不适用 line, a material all 不适用) is in the language of
    the page, as the page itself shows it."""
    from dialogs.i18n import translations

    url, _, _ = server
    for lang in ("ru", "en"):
        gettext = translations(lang).gettext
        with httpx.Client(base_url=url, follow_redirects=True, timeout=20, headers={"Accept-Language": lang}) as c:
            opened = press(c, c.get("/s/topic:reissue_lost").text, "📋").text
            optional = list(boxes(opened, "na"))
            for n, item in enumerate(optional):
                r = c.post(
                    "/a",
                    data={"_xsrf": xsrf(opened), "d": f"e1|na|reissue_lost:{item}:1"},
                    headers={"Accept": "application/json"},
                )
                answer = r.json()
                assert answer["toast"] == gettext("已标为不适用") != "已标为不适用", lang
                assert answer["na"] == gettext("%(n)s 项不适用，不计入") % {"n": n + 1}, lang
            assert gettext("不适用") in answer["groups"].values() and gettext("不适用") != "不适用", lang
            page = c.get("/s/checklist:reissue_lost").text
            assert shown_progress(page) == (answer["done"], answer["total"], answer["groups"]), lang


def test_an_upload_refused_for_its_token_is_a_page_and_no_error(server, client, caplog):
    """A file posted to /check without a valid CSRF token is refused (403) before its body is read, with the
    refusal page — the upload's own clean-up has nothing to release and logs nothing."""
    caplog.set_level(logging.WARNING)
    r = client.post("/check", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 403 and "表单已过期" in r.text
    client.close()  # the server closes its side too (the body was never read) and cleans up after the answer
    time.sleep(0.5)
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR] == []


def test_form_fields_are_read_as_tornado_reads_them(guide):
    """``Base.form_value`` (what every tick reads: the token, the button) gives what tornado's ``get_argument``
    and ``get_body_argument`` give — the body's last value, else the query string's; UTF-8 or 400; control
    characters as spaces; stripped — for any bytes; of several values only the one it returns is decoded."""
    from unittest import mock

    import tornado.httputil
    import tornado.web
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from web.server import ActionHandler, make_app

    app = make_app(guide)
    value = st.binary(max_size=10) | st.sampled_from([b" a\x01b\t ", "é 表".encode(), b"\xff", b"", b"\x1f\x0e", b"\r\n x"])

    def outcome(read):
        try:
            return read()
        except tornado.web.HTTPError as exc:
            return exc.status_code

    def handler(body: list[bytes], query: list[bytes]) -> ActionHandler:
        start = tornado.httputil.RequestStartLine("POST", "/a", "HTTP/1.1")
        headers = tornado.httputil.HTTPHeaders({"Host": "127.0.0.1"})
        request = tornado.httputil.HTTPServerRequest(start_line=start, headers=headers, connection=mock.Mock())
        request.body_arguments = {"d": body} if body else {}
        request.query_arguments = {"d": query} if query else {}
        request.arguments = {"d": query + body} if query or body else {}
        return ActionHandler(app, request, web=app.web)

    @settings(max_examples=400, deadline=None)
    @given(body=st.lists(value, max_size=3), query=st.lists(value, max_size=3))
    def check(body, query):
        for fast, slow, read, chosen in (
            (lambda h: h.form_value("d"), lambda h: h.get_argument("d", ""), query + body, body or query),
            (lambda h: h.form_value("d", query=False), lambda h: h.get_body_argument("d", ""), body, body),
        ):
            if all(_utf8(v) for v in read):  # tornado decodes every value it has, then gives the last
                assert outcome(lambda: fast(handler(body, query))) == outcome(lambda: slow(handler(body, query)))
            elif not _utf8(chosen[-1]):
                assert outcome(lambda: fast(handler(body, query))) == 400
            else:  # an earlier value tornado would refuse: the one returned is read as tornado reads it alone
                assert outcome(lambda: fast(handler(body, query))) == outcome(lambda: slow(handler([chosen[-1]], [])))

    check()


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_cookie_flags(server, client, tmp_path, kb):
    page = client.get("/s/topic:reissue_lost")
    assert "HttpOnly" in page.headers["set-cookie"] and "SameSite=Lax" in page.headers["set-cookie"]  # _xsrf
    r = client.post("/a", data={"_xsrf": xsrf(page.text), "d": action_data(page.text, "📋")}, follow_redirects=False)
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("eg_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session and "expires=" in session.lower()
    assert "Secure" not in session  # plain http on loopback
    value = session.split(";")[0].split("=", 1)[1].strip('"')
    assert value.startswith("2|")  # signed by tornado; the token in it is random
    with web_server(tmp_path / "secure.db", kb, web_url="https://guide.example.org") as (url, _):
        with httpx.Client(base_url=url, follow_redirects=False) as c:
            p = c.get("/s/topic:reissue_lost")
            assert "Secure" in p.headers["set-cookie"]
            token = p.headers["set-cookie"].split(";")[0]  # a browser sends a Secure cookie over https only
            r = c.post("/a", data={"_xsrf": xsrf(p.text), "d": action_data(p.text, "📋")}, headers={"Cookie": token})
            session = next(x for x in r.headers.get_list("set-cookie") if x.startswith("__Host-eg_session="))
            assert "Secure" in session and "HttpOnly" in session and "Path=/" in session and "domain" not in session.lower()
            assert all(x.startswith("__Host-") for x in r.headers.get_list("set-cookie"))
    # behind the operator's proxy (one trusted hop) that says the visitor came over HTTPS: __Host- cookies;
    # the same header from a client with no trusted proxy in front changes nothing
    for hops, prefixed in ((1, True), (0, False)):
        with web_server(tmp_path / f"proxied{hops}.db", kb, web_trusted_proxies=hops) as (url, _):
            with httpx.Client(base_url=url, follow_redirects=False, headers={"X-Forwarded-Proto": "https"}) as c:
                p = c.get("/s/topic:reissue_lost")
                r = c.post(
                    "/a",
                    data={"_xsrf": xsrf(p.text), "d": action_data(p.text, "📋")},
                    headers={"Cookie": p.headers["set-cookie"].split(";")[0]},
                )
                session = next(x for x in r.headers.get_list("set-cookie") if "eg_session=" in x)
                assert session.startswith("__Host-eg_session=") == prefixed and ("Secure" in session) == prefixed
                if prefixed:  # over HTTPS a plain-named session cookie (planted to fix a session) is not read
                    own = c.get("/s/checklists", headers={"Cookie": session.split(";")[0]}).text
                    assert "丢失补办" in own.split("<nav")[0]
                    planted = session.split(";")[0].replace("__Host-", "")
                    mine = c.get("/s/checklists", headers={"Cookie": planted}).text
                    assert "reissue_lost" not in mine and "丢失补办" not in mine.split("<nav")[0]
    # a forged or tampered session cookie is ignored (and nothing is shown from anyone's data)
    client.cookies.set("eg_session", value[:-3] + "abc")
    mine = client.get("/s/checklists").text
    assert "reissue_lost" not in mine and "0/" not in mine


def test_personal_pages_are_never_stored_and_the_language_choice_is_kept_a_year(server, client, kb):
    """Checklists, settings and the redirect after a tick are no-store (a shared phone or a proxy must
    not keep someone's checklist); the language cookie outlives the browser session."""
    topic = client.get("/s/topic:reissue_lost").text
    opened = press(client, topic, "📋")
    assert opened.status_code == 200
    tick, _ = tick_first(client, opened.text, follow_redirects=False)
    assert tick.status_code == 303
    script_tick = client.post(
        "/a",
        data={"_xsrf": xsrf(opened.text), "d": f"e1|tick|reissue_lost:{list(boxes(opened.text))[1]}:1"},
        headers={"Accept": "application/json"},
    )
    assert script_tick.json()["done"] == 2
    printable = client.get("/print/reissue_lost")
    responses = {
        "the redirect after a tick": tick,
        "the answer to the page's script": script_tick,
        "the checklist": opened,
        "the printable checklist": printable,
    }
    for route in ("checklists", "checklist:reissue_lost", "settings", "language", "forget"):
        responses[route] = client.get(f"/s/{route}")
    for where, r in responses.items():
        assert r.headers["cache-control"] == "no-store", where
        assert "expires" not in r.headers, where  # nothing that would let a cache keep it
    assert "2/" in client.get("/s/checklists").text  # they were this visitor's own pages
    page = client.get("/s/offices").text
    r = client.post("/lang", data={"_xsrf": xsrf(page), "lang": "en", "next": "/s/offices"}, follow_redirects=False)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("eg_lang="))
    m = re.search(r"expires=([^;]+)", cookie, re.I)
    assert m, "a session cookie: the choice would be lost when the browser closes"
    from email.utils import parsedate_to_datetime

    lifetime = parsedate_to_datetime(m.group(1)).timestamp() - time.time()
    assert 360 * 86400 < lifetime <= 366 * 86400


def cache_lifetime(r: httpx.Response) -> int | None:
    """How long a private cache (the browser's) may keep the page: None unless ``private, max-age=N``."""
    m = re.fullmatch(r"private, max-age=(\d+)", r.headers["cache-control"])
    return int(m.group(1)) if m else None


def test_answer_pages_reopen_from_the_browser_s_cache_with_a_working_form(server, client, kb, monkeypatch):
    """Answer pages (the same for everyone) may be kept by the browser for hours, so they reopen at the counter
    with bad signal; never by a shared cache; a fresh copy whenever the cookies (session, language) change.
    A form on a page reopened from the cache still works; one older than its token's day gets a fresh form."""
    import web.server

    answers = [f"/s/topic:{t}" for t in kb.businesses] + [f"/t/{next(iter(kb.businesses))}", "/", "/s/offices"]
    for round_ in ("before a session", "with a session"):
        for path in answers:
            r = client.get(path)
            lifetime = cache_lifetime(r)
            assert lifetime is not None, (round_, path, r.headers["cache-control"])
            assert 3600 <= lifetime < web.server.CSRF_MAX_AGE_S, path  # a token in a cached page is still valid
            vary = {v.strip().lower() for v in r.headers["vary"].split(",")}
            assert {"cookie", "accept-language"} <= vary, path  # a switched language or a new session: a fresh copy
            assert "set-cookie" not in r.headers or round_ == "before a session"
        if round_ == "before a session":
            press(client, client.get("/s/topic:reissue_lost").text, "📋")  # starts a session
    # the page as the browser kept it, reopened just before it goes stale: its form still works
    cached = client.get("/s/topic:change_name")
    lifetime = cache_lifetime(cached)
    later = time.time() + lifetime - 1
    monkeypatch.setattr(web.server.time, "time", lambda: later)
    r = client.post("/a", data={"_xsrf": xsrf(cached.text), "d": action_data(cached.text, "📋")})
    assert r.status_code == 200 and "checklist:change_name" in str(r.url)
    assert kb.businesses["change_name"].name in r.text and 'type="checkbox"' in r.text
    # a page kept past its token's day (history, a tab left open): refused, nothing changed, a fresh form that works
    much_later = later + web.server.CSRF_MAX_AGE_S
    monkeypatch.setattr(web.server.time, "time", lambda: much_later)
    refused = client.post("/a", data={"_xsrf": xsrf(cached.text), "d": action_data(cached.text, "📋")})
    assert refused.status_code == 403 and "表单已过期" in refused.text
    assert refused.headers["cache-control"] == "no-store"
    again = client.post("/lang", data={"_xsrf": xsrf(refused.text), "lang": "en", "next": "/s/topic:change_name"})
    assert again.status_code == 200 and str(again.url).endswith("/s/topic:change_name") and '<html lang="en">' in again.text


def test_checklist_ticks_survive_a_restart(tmp_path, kb):
    db = tmp_path / "restart.db"
    with web_server(db, kb) as (url, _):
        c = httpx.Client(base_url=url, follow_redirects=True)
        page = c.get("/s/topic:reissue_lost").text
        checklist = press(c, page, "📋")
        assert checklist.url.path == "/s/checklist:reissue_lost"  # Post/Redirect/Get
        ticked, first = tick_first(c, checklist.text)
        assert ticked.url.path == "/s/checklist:reissue_lost" and ticked.url.fragment == "m-" + first.split(".")[0]
        assert 'class="toast"' in ticked.text and boxes(ticked.text)[first]
        assert boxes(c.get(ticked.url.path).text) == boxes(ticked.text)  # a reload shows the tick
    with web_server(db, kb) as (url, _):
        cookies = c.cookies
        c2 = httpx.Client(base_url=url, follow_redirects=True, cookies=cookies)
        page = c2.get("/s/checklist:reissue_lost").text
        assert [i for i, on in boxes(page).items() if on] == [first]
        assert "1/" in c2.get("/s/checklists").text
        other = httpx.Client(base_url=url, follow_redirects=True).get("/s/checklist:reissue_lost").text
        assert boxes(other) and not any(boxes(other).values())  # another browser does not see it


def test_a_checklist_item_that_does_not_apply_is_marked_so_on_the_web_page(server, client, kb):
    total = len(kb.checklist_items("change_legal_rep"))
    checklist = press(client, client.get("/s/topic:change_legal_rep").text, "📋")
    assert (
        f"<b data-done>0</b>/<b data-total>{total}</b>" in checklist.text and "原法定代表人还是新法定代表人" in checklist.text
    )  # the answer's caveat
    optional = list(boxes(checklist.text, "na"))
    assert optional and all(i.startswith("foreign_translation") for i in optional)  # only the （如有） items can be 不适用
    marked = save(client, checklist.text, [], na=optional[:1], at="foreign_translation")  # a form (a change), like a tick
    assert marked.url.path == "/s/checklist:change_legal_rep" and 'class="toast"' in marked.text
    assert re.search(rf"进度 <b data-done>0</b>/<b data-total>{total - 1}</b>", marked.text) and "1 项不适用" in marked.text
    assert boxes(client.get("/s/checklist:change_legal_rep").text, "na")[optional[0]]  # stored for this browser
    restored = save(client, marked.text, [], na=[])
    assert f"<b data-total>{total}</b>" in restored.text and not any(boxes(restored.text, "na").values())


def test_delete_my_data_leaves_no_rows(server, client):
    _, guide, db = server
    page = client.get("/s/topic:reissue_lost").text
    checklist = press(client, page, "📋").text
    tick_first(client, checklist)
    press(client, client.get("/s/more:reissue_lost").text, "👍")
    uid = web_user_ids(db)[0]
    assert uid < 0
    before = rows_of(db, uid)
    assert (
        before["users.id"] == 1
        and before["ticks.user_id"] == 1
        and before["web_sessions.user_id"] == 1
        and before["feedback.user_id"] == 1
    )
    confirm = client.get("/s/forget").text
    done = press(client, confirm, "确认删除")
    assert done.status_code == 200 and "已删除关于您的全部数据" in done.text
    assert rows_of(db, uid) == no_rows(db)
    assert web_user_ids(db) == []
    # the browser's session is gone: the next page has no checklist and writes nothing
    assert "reissue_lost" not in client.get("/s/checklists").text
    assert rows_of(db, uid) == no_rows(db)


def test_retention_deletes_inactive_web_sessions_without_warning(server, client):
    import datetime as dt

    from dialogs.features.privacy import retention_due

    _, guide, db = server
    press(client, client.get("/s/topic:reissue_lost").text, "📋")
    uid = web_user_ids(db)[0]
    guide.store.touch_user(42, "zh")  # a Telegram user
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    warn, delete = retention_due(guide.store, later - dt.timedelta(days=40), 365)
    assert 42 in warn and uid not in warn  # web users cannot be messaged
    from web.server import Web

    web = Web(guide, retention_days=365)
    assert web.expire(later) == [uid]
    assert rows_of(db, uid) == no_rows(db) and user_known(guide.store, 42)


def test_rate_limit_per_client(tmp_path, kb):
    from web.server import RateLimiter

    with web_server(tmp_path / "rl.db", kb, rate_limiter=RateLimiter(rate=0.01, burst=5)) as (url, _):
        with httpx.Client(base_url=url) as c:
            codes = [c.get("/").status_code for _ in range(7)]
            assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
            r = c.get("/")
            assert r.headers["retry-after"] == "30" and "请求过于频繁" in r.text
            # no trusted proxy (the default): headers a client sends cannot pick another bucket
            assert c.get("/", headers={"X-Real-IP": "203.0.113.9"}).status_code == 429
            assert c.get("/", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429


def test_rate_limit_behind_the_operator_s_proxies(tmp_path, kb):
    from web.server import RateLimiter

    def get(c, forwarded, **headers):
        return c.get("/", headers={"X-Forwarded-For": forwarded, **headers}).status_code

    with web_server(tmp_path / "rl.db", kb, rate_limiter=RateLimiter(rate=0.01, burst=2), web_trusted_proxies=1) as (url, _):
        with httpx.Client(base_url=url) as c:
            # the client's own X-Forwarded-For entries (left of what the proxy appended) and X-Real-IP are ignored
            assert [get(c, f"10.0.0.{n}, 198.51.100.7", **{"X-Real-IP": f"10.1.0.{n}"}) for n in range(3)] == [200, 200, 429]
            assert get(c, "198.51.100.8") == 200  # another client behind the proxy: its own bucket
            # IPv6: one bucket per /64 (a client can pick any address in its network)
            assert [get(c, f"2001:db8:1:2::{n:x}") for n in range(1, 4)] == [200, 200, 429]
            assert get(c, "2001:db8:1:3::1") == 200
    with web_server(tmp_path / "rl2.db", kb, rate_limiter=RateLimiter(rate=0.01, burst=2), web_trusted_proxies=2) as (url, _):
        with httpx.Client(base_url=url) as c:  # two proxies: the entry the outer one appended
            assert [get(c, f"10.0.0.{n}, 198.51.100.7, 10.9.9.9") for n in range(3)] == [200, 200, 429]


@pytest.mark.parametrize(
    "peer,forwarded,hops,client",
    [
        ("127.0.0.1", ["203.0.113.9"], 0, "127.0.0.1"),
        ("127.0.0.1", ["1.1.1.1, 203.0.113.9"], 1, "203.0.113.9"),
        ("127.0.0.1", ["1.1.1.1", "203.0.113.9"], 1, "203.0.113.9"),  # the header sent twice is one list
        ("127.0.0.1", ["1.1.1.1, 203.0.113.9, 10.0.0.2"], 2, "203.0.113.9"),
        ("127.0.0.1", ["not-an-address"], 1, "127.0.0.1"),
        ("127.0.0.1", [], 1, "127.0.0.1"),
        ("2001:db8::1", [], 0, "2001:db8::/64"),
        ("::ffff:192.0.2.1", [], 0, "192.0.2.1"),
    ],
)
def test_client_address(peer, forwarded, hops, client):
    from web.server import client_address

    assert client_address(peer, forwarded, hops) == client


def test_request_size_limits(server, client):
    page = client.get("/").text
    try:  # tornado refuses a body over the limit before reading it (and closes the connection)
        status = client.post("/a", data={"_xsrf": xsrf(page), "d": "x" * 100_000}).status_code
    except httpx.TransportError:
        status = None
    assert status in (None, 400, 413)
    assert client.get("/").status_code == 200  # and keeps serving
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_an_over_long_question_or_address_gets_a_page_saying_so(server, client, lang):
    from web.server import MAX_QUESTION, QUESTION_TOO_LONG, URL_TOO_LONG

    said = {m: i18n.translations(lang).gettext(m).replace("{n}", str(MAX_QUESTION)) for m in (QUESTION_TOO_LONG, URL_TOO_LONG)}
    headers = {"Accept-Language": lang}
    r = client.get("/ask", params={"q": "卡" * (MAX_QUESTION + 1)}, headers=headers)
    assert r.status_code == 400 and html.escape(said[QUESTION_TOO_LONG], quote=False) in r.text
    assert f'value="{"卡" * MAX_QUESTION}"' in r.text  # the first 500 characters back in the box, to shorten
    assert client.get("/ask", params={"q": "卡" * MAX_QUESTION}, headers=headers).status_code == 200
    # 10,000 characters in the URL: 90 KB percent-encoded, beyond the old 64 KB header limit (a reset)
    url, _, _ = server
    for question in ("卡" * 10_000, "x" * 10_000 + "卡" * 2_000):
        target = "/ask?" + urllib.parse.urlencode({"q": question})
        with socket.create_connection((httpx.URL(url).host, httpx.URL(url).port), timeout=10) as sock:
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nAccept-Language: {lang}\r\nConnection: close\r\n\r\n".encode())
            raw = b"".join(iter(lambda: sock.recv(65536), b""))  # the whole answer (a reset raises here)
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414"), head[:80]
        if b"gzip" in head.lower():
            body = gzip.decompress(body)
        text = body.decode()
        assert html.escape(said[URL_TOO_LONG], quote=False) in text
        assert f'<html lang="{ {"zh": "zh-CN"}.get(lang, lang) }">' in text
    assert client.get("/").status_code == 200


def test_upload_precheck_in_memory_never_stored(server, client, tmp_path):
    _, guide, db = server
    page = client.get("/check").text
    assert 'enctype="multipart/form-data"' in page
    marker = b"UNIQUE-MARKER-" + b"7" * 20
    ok = client.post(upload_action(page), files={"file": ("scan.pdf", b"%PDF-1.4\n" + marker, "application/pdf")})
    assert ok.status_code == 200 and "✅" in ok.text
    big = b"%PDF-1.4\n" + b"0" * 3_100_000
    r = client.post(upload_action(page), files={"file": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 200 and "3.1" in r.text  # too big, said with its size
    renamed = client.post(upload_action(page), files={"file": ("photo.pdf", b"\xff\xd8\xff\xe0" + b"0" * 100, "application/pdf")})
    assert renamed.status_code == 200 and "jpg" in renamed.text
    url = httpx.URL(str(client.base_url))
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items()).encode()
    with socket.create_connection((url.host, url.port), timeout=10) as raw:  # a body declared over the limit
        raw.sendall(
            b"POST "
            + upload_action(page).encode()
            + b" HTTP/1.1\r\nHost: x\r\nCookie: "
            + cookie
            + b"\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n" % (30 * 1024 * 1024)
        )
        answer = raw.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413") and "文件超过 10MB".encode() in answer
    for path in db.parent.rglob("*"):
        if path.is_file():
            assert marker not in path.read_bytes(), path


def test_web_engine_offers_no_reminders(server, client):
    page = client.get("/s/settings").text
    assert "提醒" not in page.split('class="buttons"')[1].split("</nav>")[0]
    assert client.get("/s/remind:refund").status_code == 404
    r = client.post("/a", data={"_xsrf": xsrf(page), "d": "e1|remind|refund"})
    assert r.status_code == 200 and "此菜单已过期" in r.text  # a forged button: the fresh menu


# -- links and the command --------------------------------------------------------------------------
def test_links_web_variant(tmp_path, eport_guide, monkeypatch):
    from dialogs.links import qr_matrix

    from .test_helpdesk import read_qr_png

    env = {"EPORT_GUIDE_WEB_URL": "https://guide.example.org/"}  # and no token, no bot username
    r = eport_guide("links", "--web", "--out", str(tmp_path / "qr"), env=env)
    assert r.returncode == 0, r.stderr
    assert "https://guide.example.org/t/reissue_lost" in r.stdout and "t.me" not in r.stdout
    sheet = (tmp_path / "qr" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://guide.example.org/t/reissue_lost"' in sheet
    assert read_qr_png(tmp_path / "qr" / "reissue_lost.png") == qr_matrix("https://guide.example.org/t/reissue_lost")
    one = eport_guide("link", "unlock", "--web", env=env)
    assert one.stdout.strip() == "https://guide.example.org/t/unlock"
    monkeypatch.delenv("EPORT_GUIDE_WEB_URL")
    missing = eport_guide("links", "--web")
    assert missing.returncode == 2 and "EPORT_GUIDE_WEB_URL" in missing.stderr
    bad = eport_guide("links", "--web", env={"EPORT_GUIDE_WEB_URL": "guide.example.org"})
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "EPORT_GUIDE_WEB_URL" in bad.stderr


def test_the_web_server_runs_on_uvloop_when_installed_else_on_asyncio(monkeypatch):
    from web.server import run_loop

    async def loop_kind() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    assert run_loop(loop_kind()) == "uvloop"
    monkeypatch.setitem(sys.modules, "uvloop", None)  # not installed (a platform without its wheels)
    assert run_loop(loop_kind()) == "asyncio"


@pytest.mark.measured_subprocesses  # eport-guide web until SIGTERM
def test_web_command_serves_and_stops_on_sigterm(tmp_path):
    import signal

    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "EPORT_GUIDE_DB": str(tmp_path / "p.db")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        r = first_page(proc, f"http://127.0.0.1:{port}/t/unlock")
        assert r.status_code == 200
        taken = subprocess.run(
            [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert taken.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/t/unlock", timeout=10).status_code == 200  # a view just before the stop
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "web pages served" in err and "web server stopped" in err and "Traceback" not in err
    assert "unlock" in err and "?q=" not in err
    with contextlib.closing(sqlite3.connect(tmp_path / "p.db")) as conn:  # the views held back were written at the stop
        assert conn.execute("SELECT COUNT(*) FROM events WHERE kind = 'view' AND topic = 'unlock'").fetchone()[0] == 2


async def test_bot_and_web_in_one_process_share_the_database(fake, tmp_path, kb):
    """eport-guide run --web: Telegram and the web pages on one loop, one SQLite file."""
    from web.server import attach

    from .conftest import running_bot

    port = free_port()
    db = tmp_path / "one.db"
    async with running_bot(fake, db, before_init=attach, web_port=port, admins="77") as app:
        user = fake.user(id=77)
        answer = await user.send("/start unlock")
        await user.click(answer, "📋 加入清单")
        await user.click(user.last, "☐ 经办人身份证明材料")
        await user.click(user.last, "☐ 经办人·复印件")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as c:
            page = (await c.get("/s/topic:unlock")).text
            data = action_data(page, "📋")
            checklist = await c.post("/a", data={"_xsrf": xsrf(page), "d": data})
            total = len(kb.checklist_items("unlock"))
            assert f"<b data-done>0</b>/<b data-total>{total}</b>" in checklist.text  # not the Telegram user's ticks
            first = next(iter(boxes(checklist.text)))
            ticked = await c.post("/c/unlock", data={"_xsrf": xsrf(checklist.text), f"m:{first.split('.')[0]}": [first]})
            assert f"<b data-done>1</b>/<b data-total>{total}</b>" in ticked.text
            # an admin's /reload refreshes the web pages' knowledge too
            web_engine = app.bot_data["web_server"].request_callback.web.engine
            before = web_engine.kb
            await user.send("/reload")
            for _ in range(100):  # /reload reads the files in a thread
                if web_engine.kb is not before:
                    break
                await asyncio.sleep(0.1)
            assert web_engine.kb is not before and web_engine.kb is app.bot_data["guide"].kb
        uid = web_user_ids(db)[0]
        assert rows_of(db, 77)["ticks.user_id"] == 1 and rows_of(db, uid)["ticks.user_id"] == 1
    assert "web_server" not in app.bot_data
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)  # stopped with the bot


def test_lang_redirect_refuses_header_injection(server, client):
    page = client.get("/").text
    r = client.post(
        "/lang", data={"_xsrf": xsrf(page), "lang": "en", "next": "/s/main\r\nSet-Cookie: x=1"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/" and "x=1" not in r.headers.get("set-cookie", "")


def test_the_printable_checklist_replaces_the_text_download(server, client, kb):
    """On the web the checklist prints (or saves as PDF) from a page of its own: every item with its mark,
    the picture of each prepared copy, the office and the hotline; no text file to download."""
    from dialogs.pictures import copy_materials

    page = client.get("/s/topic:reissue_lost").text
    checklist = press(client, page, "📋")
    _, first = tick_first(client, checklist.text)
    checklist = client.get("/s/checklist:reissue_lost").text
    assert "📄" not in checklist and 'href="/print/reissue_lost"' in checklist and "🖨" in checklist
    r = client.get("/print/reissue_lost")
    assert (
        r.status_code == 200
        and r.headers["content-type"] == "text/html; charset=utf-8"
        and "content-disposition" not in r.headers
    )
    assert "@media print" in r.text and "0470-2299089" in r.text and "打印 / 保存为 PDF" in r.text
    marks = re.findall(r"<li>([☐☑➖]) ", r.text)
    assert len(marks) == len(kb.checklist_items("reissue_lost")) and marks.count("☑") == 1
    copies = [m for m in copy_materials(kb) if any(ref.material == m for ref in kb.businesses["reissue_lost"].materials)]
    assert copies and r.text.count("<svg") == len(copies)
    for m in copies:  # each copy's picture carries its annotation verbatim
        annotation = next(
            kb.annotations[c.annotation].text for rs in kb.materials[m].rulesets for c in kb.rulesets[rs].checks if c.annotation
        )
        assert annotation in r.text
    old = press(client, client.get("/s/topic:reissue_lost").text, "📋")  # an export button sent earlier: the printable page
    export = client.post("/a", data={"_xsrf": xsrf(old.text), "d": "e1|checklist_export|reissue_lost"}, follow_redirects=False)
    assert export.status_code == 303 and export.headers["location"] == "/print/reissue_lost"
    # light: every business's printout, pictures and all, at most 30 KB before compression in every language
    with httpx.Client(base_url=str(client.base_url)) as visitor:
        for lang in i18n.LANGUAGES:
            for business in kb.businesses:
                r = visitor.get(f"/print/{business}", headers={"Accept-Language": lang})
                assert f'<html lang="{ {"zh": "zh-CN"}.get(lang, lang) }">' in r.text
                assert len(r.content) <= 30 * 1024, (business, lang, len(r.content))


def test_anonymous_visitors_see_and_leave_no_one_s_data(server, client):
    _, guide, db = server
    guide.store.open_checklist(0, "unlock")  # user 0: the console chat's default user
    guide.store.set_tick(0, "unlock", guide.kb.checklist_items("unlock")[0].id, True)
    for path in ("/s/checklists", "/s/checklist:unlock", "/s/settings", "/t/checklists", "/t/settings"):
        r = client.get(path)
        assert (
            r.status_code in (200, 404)
            and "✅" not in r.text.split('class="content"')[1].split("<!--/content-->")[0]
            and " checked" not in r.text
        ), path
    client.get("/s/topic:unlock")
    client.get("/ask", params={"q": "卡丢了怎么办"})
    with contextlib.closing(sqlite3.connect(db)) as conn:
        views = lambda: conn.execute("SELECT COUNT(*) FROM events WHERE kind = 'view'").fetchone()[0]  # noqa: E731
        deadline = time.monotonic() + 10  # the server writes its views together, within EVENTS_HOLD_S
        while views() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert views() >= 2  # views still count
        assert conn.execute("SELECT COUNT(*) FROM events WHERE user_id IS NOT NULL AND user_id != 0").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    assert web_user_ids(db) == []


def test_hostile_requests_never_fail_the_server(server, client):
    """Random routes, forged button data, forged reply forms, odd questions: a page, never a 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    page = client.get("/s/topic:reissue_lost").text
    token = xsrf(page)
    press(client, page, "📋")  # with a session, so actions and replies reach the engine
    screens = [
        "topic",
        "checklist",
        "city",
        "material",
        "fact",
        "walk",
        "stuck",
        "category",
        "settings",
        "forget",
        "stats",
        "precheck",
        "remind",
        "feedback_reason",
        "reminder_due",
        "language",
        "x",
    ]
    actions = [
        "go",
        "g",
        "x",
        "fb",
        "tick",
        "feedback",
        "checklist_open",
        "checklist_switch",
        "checklist_reset_confirm",
        "checklist_export",
        "set_language",
        "settings_reminders",
        "forget_confirm_",
        "remind",
        "reminder_cancel",
        "zz",
    ]
    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(screen=st.sampled_from(screens), arg=text, action=st.sampled_from(actions), q=text, w=text)
    def check(screen, arg, action, q, w):
        from urllib.parse import quote

        for r in (
            client.get(f"/s/{screen}:{quote(arg, safe='')}" if arg else f"/s/{screen}"),
            client.post("/a", data={"_xsrf": token, "d": f"e1|{action}|{arg}"}),
            client.post("/reply", data={"_xsrf": token, "w": w, "text": q}),
            client.get("/ask", params={"q": q}),
        ):
            assert r.status_code < 500, (r.request.url, r.status_code)

    check()


def test_pages_are_one_small_request(server, client):
    """Fast on a slow connection: one gzip-compressed document, nothing else to fetch."""
    import gzip

    _, guide, _ = server
    biggest = 0
    for route in all_routes(guide.engine):
        if route.split(":")[0] in ("stats", "precheck"):
            continue
        r = client.get("/" if route == "main" else f"/s/{route}", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        biggest = max(biggest, len(gzip.compress(r.content)))
        assert not re.search(r"<(link|img|iframe)\b|\ssrc=", r.text.replace('<link rel="icon" href="data:,">', "")), (
            route
        )  # nothing to fetch (no favicon either)
    assert biggest < 12_000  # bytes on the wire for the largest page, headers aside


def test_a_busy_database_says_nothing_was_saved_and_the_server_goes_on(server, client):
    from dialogs.store import StoreBusy

    _, guide, db = server
    press(client, client.get("/s/topic:reissue_lost").text, "📋")
    checklist = client.get("/s/checklist:reissue_lost").text
    real = guide.store._write, guide.store._transaction, guide.store._atomic

    def busy(*args, **kwargs):
        raise StoreBusy("the database is busy: database is locked")

    # every write of this request finds the database locked (single statements and transactions alike)
    guide.store._write = guide.store._transaction = guide.store._atomic = busy
    try:
        r, _ = tick_first(client, checklist)
    finally:
        guide.store._write, guide.store._transaction, guide.store._atomic = real
    assert r.status_code == 503 and "刚才的操作没有保存" in r.text and "Traceback" not in r.text
    again, _ = tick_first(client, client.get("/s/checklist:reissue_lost").text)
    assert again.status_code == 200 and "<b data-done>1</b>/" in again.text


def test_refusals_speak_the_visitor_s_language(tmp_path, kb):
    from web.server import RateLimiter

    with web_server(tmp_path / "rl2.db", kb, rate_limiter=RateLimiter(rate=0.01, burst=1)) as (url, _):
        with httpx.Client(base_url=url, headers={"Accept-Language": "ru"}) as c:
            c.get("/")
            r = c.get("/")
            assert r.status_code == 429 and i18n.translations("ru").gettext("请求过于频繁，请稍后再试。") in r.text
        with httpx.Client(base_url=url, headers={"Accept-Language": "ru"}) as c:  # refused before the body is read
            r = c.post("/check", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
            assert (
                r.status_code == 403
                and i18n.translations("ru").gettext("表单已过期或来源不明，未作任何更改。请返回页面重试。") in r.text
            )


# -- bounded work per request ------------------------------------------------------------------
def raw_request(base: str, request: bytes, timeout: float = 10) -> bytes:
    """Send ``request`` as is and return the first bytes of the answer."""
    url = httpx.URL(base)
    with socket.create_connection((url.host, url.port), timeout=timeout) as raw:
        raw.sendall(request)
        return raw.recv(65536)


def cookie_header(client: httpx.Client) -> bytes:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items()).encode()


def test_an_upload_without_a_valid_token_is_refused_before_its_body_is_sent(server, client):
    url, guide, _ = server
    page = client.get("/check").text
    head = b"Host: x\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 20000000\r\n"
    # no token; the token in the body only (unread); another visitor's token; a forged one: the answer comes
    # while the 20 MB body is still unsent (nothing of it is read or buffered)
    with httpx.Client(base_url=url) as other:
        foreign = upload_action(other.get("/check").text)
    for target, cookie in [
        ("/check", cookie_header(client)),
        (upload_action(page), b""),
        (foreign, cookie_header(client)),
        ("/check?_xsrf=1700000000.00000000000000000000000000000000", cookie_header(client)),
    ]:
        answer = raw_request(url, b"POST " + target.encode() + b" HTTP/1.1\r\n" + head + b"Cookie: " + cookie + b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403"), target
        assert "表单已过期".encode() in answer
    assert guide.store.stats()["users"] == 0


def test_a_slow_upload_check_does_not_hold_up_other_visitors(server, client, monkeypatch):
    """The pre-check runs off the event loop: while one file is being checked, pages are served."""
    from dialogs import uploads as upload

    url, _, _ = server
    started, release = threading.Event(), threading.Event()
    real = upload.precheck

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(upload, "precheck", slow)
    action = upload_action(client.get("/check").text)
    answers = []
    with httpx.Client(base_url=url, cookies=client.cookies, timeout=30) as uploader:
        thread = threading.Thread(
            target=lambda: answers.append(
                uploader.post(action, files={"file": ("scan.pdf", b"%PDF-1.4\n1 0 obj\n%%EOF", "application/pdf")})
            )
        )
        thread.start()
        try:
            assert started.wait(10)
            with httpx.Client(base_url=url, timeout=5) as someone_else:  # answered while the check is still running
                assert someone_else.get("/").status_code == 200
                assert someone_else.get("/s/offices").status_code == 200
        finally:
            release.set()
            thread.join(30)
    assert answers[0].status_code == 200 and "✅" in answers[0].text


def test_the_first_question_builds_the_matcher_off_the_event_loop(server, client, monkeypatch):
    import dialogs.matcher

    url, guide, _ = server
    assert not guide.engine.matcher_ready  # nothing has asked yet
    started, release = threading.Event(), threading.Event()
    real = dialogs.matcher.Matcher.__init__

    def slow_build(self, *args, **kwargs):
        started.set()
        assert release.wait(30)
        real(self, *args, **kwargs)

    monkeypatch.setattr(dialogs.matcher.Matcher, "__init__", slow_build)
    answers = []
    thread = threading.Thread(target=lambda: answers.append(httpx.get(url + "/ask", params={"q": "卡丢了怎么办"}, timeout=60)))
    thread.start()
    try:
        assert started.wait(20)
        with httpx.Client(base_url=url, timeout=5) as someone_else:
            assert someone_else.get("/").status_code == 200
    finally:
        release.set()
        thread.join(60)
    assert answers[0].status_code == 200 and "丢失补办" in answers[0].text


def test_the_server_caps_open_connections_and_refuses_cleanly_beyond(tmp_path, kb, caplog):
    idle = []
    with web_server(tmp_path / "cap.db", kb, max_connections=8) as (url, _guide):
        port = int(url.rsplit(":", 1)[1])
        try:
            time.sleep(0.5)
            for _ in range(8):  # eight idle connections: the cap
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            time.sleep(0.3)
            answers = [raw_request(url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") for _ in range(5)]
            assert all(a.startswith(b"HTTP/1.1 503") for a in answers), answers
            for s in idle:
                s.close()
            idle = []
            time.sleep(0.5)
            assert httpx.get(f"{url}/", timeout=10).status_code == 200  # room again
            refusals = [r for r in caplog.records if "refusing" in r.getMessage()]
            assert len(refusals) == 1  # one warning, not one per connection
        finally:
            for s in idle:
                s.close()


OUT_OF_FILES = r"""
import resource, socket, sys, time, asyncio
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
from bot.settings import Settings
from web import server as web
web.FD_RESERVE = -10_000  # the cap above the file limit: accept() itself runs out of descriptors
async def main():
    s = web.start(Settings(db_path=sys.argv[1]), listen="127.0.0.1", port=int(sys.argv[2]))
    print("ready", s.max_connections, flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


def test_out_of_file_descriptors_the_server_pauses_instead_of_spinning(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", OUT_OF_FILES, str(tmp_path / "fd.db"), str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sockets = []
    try:
        assert proc.stdout.readline().startswith("ready")
        for _ in range(100):  # more than the process may open
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        time.sleep(0.5)
        with open(f"/proc/{proc.pid}/stat") as f:
            before = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        time.sleep(3)
        with open(f"/proc/{proc.pid}/stat") as f:
            after = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        assert (after - before) / os.sysconf("SC_CLK_TCK") < 1.0  # CPU seconds in 3 s: paused, not spinning
        for s in sockets:
            s.close()
        sockets = []
        time.sleep(1.5)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200  # serving again
    finally:
        for s in sockets:
            s.close()
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert err.count("Too many open files") <= 2 and "Traceback" not in err, err[-2000:]


# -- request hygiene ---------------------------------------------------------------------------
def test_malformed_requests_get_a_4xx_never_a_500(server, client, caplog):
    url, _, _ = server
    page = client.get("/check").text
    action = upload_action(page).encode()
    head = b"POST " + action + b" HTTP/1.1\r\nHost: x\r\nCookie: " + cookie_header(client) + b"\r\n"
    part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 1 0 obj %%EOF'
    truncated = head + b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n" % len(part) + part
    assert raw_request(url, truncated).startswith(b"HTTP/1.1 400")
    for lengths in (
        b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(part), len(part) + 1),
        b"Content-Length: %d, %d\r\n" % (len(part), len(part) + 1),
        b"Content-Length: 1e3\r\n",
    ):
        answer = raw_request(url, head + b"Content-Type: multipart/form-data; boundary=x\r\n" + lengths + b"\r\n" + part)
        assert answer.startswith(b"HTTP/1.1 400"), lengths
    not_a_form = head + b"Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc"
    assert raw_request(url, not_a_form).startswith(b"HTTP/1.1 400")
    token = xsrf(page)
    for back in ("/\x7f", "/s/\x7foffices", "/\u2028", "//evil.example", "/\\evil", "https://evil.example/", "/s/x y"):
        r = client.post("/lang", data={"_xsrf": token, "lang": "en", "next": back}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", back
    r = client.post("/lang", data={"_xsrf": token, "lang": "zh", "next": "/s/topic:reissue_lost?x=1"}, follow_redirects=False)
    assert r.headers["location"] == "/s/topic:reissue_lost?x=1"  # our own page: back to it
    assert client.get("/ask", params={"q": "a" * 20000}).status_code == 414
    assert client.get("/").status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_junk_posts_create_no_session_and_no_user(server, client):
    _, guide, db = server
    page = client.get("/s/topic:reissue_lost").text
    token = xsrf(page)
    for n in range(100):
        r = client.post("/a", data={"_xsrf": token, "d": f"junk{n}" if n % 2 else f"e1|tick|nothing:{n}"})
        assert r.status_code == 200 and "此菜单已过期" in r.text
    client.post("/a", data={"_xsrf": token, "d": "e1|go|offices"})  # a valid action that stores nothing
    assert "eg_session" not in client.cookies
    assert web_user_ids(db) == [] and guide.store.stats()["users"] == 0
    press(client, page, "📋")  # the first change that stores something: a session, one user
    assert len(web_user_ids(db)) == 1 and guide.store.stats()["users"] == 1


def test_csrf_tokens_are_bound_to_the_session_and_expire(server, client, monkeypatch):
    url, _, _ = server
    page = client.get("/s/topic:reissue_lost").text
    before_session = xsrf(page)
    press(client, page, "📋")
    with_session = client.get("/s/topic:reissue_lost").text
    assert xsrf(with_session) != before_session
    data = action_data(with_session, "📋")
    # a token issued to another visitor (own browser cookie, no session) does not work with this session
    with httpx.Client(base_url=url) as other:
        stranger = xsrf(other.get("/s/topic:reissue_lost").text)
    assert client.post("/a", data={"_xsrf": stranger, "d": data}).status_code == 403
    assert client.post("/a", data={"_xsrf": before_session, "d": data}).status_code == 403  # issued before the session
    # the session's own token works from this browser only
    assert client.post("/a", data={"_xsrf": xsrf(with_session), "d": data}).status_code == 200
    with httpx.Client(base_url=url) as thief:
        assert thief.post("/a", data={"_xsrf": xsrf(with_session), "d": data}).status_code == 403
    import web.server

    # the visitor's pages within a minute carry the same token (one HMAC a minute); a page after that a new one,
    # and both work
    assert xsrf(client.get("/s/topic:unlock").text) == xsrf(with_session)
    minute = time.time() + web.server.CSRF_REISSUE_S + 2
    monkeypatch.setattr(web.server.time, "time", lambda: minute)
    fresh = xsrf(client.get("/s/topic:unlock").text)
    assert fresh != xsrf(with_session) and fresh.startswith(str(int(minute)))
    assert client.post("/a", data={"_xsrf": fresh, "d": data}).status_code == 200
    assert client.post("/a", data={"_xsrf": xsrf(with_session), "d": data}).status_code == 200
    # a day later the same form is refused as expired

    later = time.time() + web.server.CSRF_MAX_AGE_S + 60
    monkeypatch.setattr(web.server.time, "time", lambda: later)
    r = client.post("/a", data={"_xsrf": xsrf(with_session), "d": data})
    assert r.status_code == 403 and "表单已过期" in r.text


# -- retention ------------------------------------------------------------------------------------
def test_a_web_only_deployment_expires_old_questions_and_reasons(server, client):
    import datetime as dt

    _, guide, db = server
    client.get("/ask", params={"q": "火星上能办卡吗 zzqx"})  # a question nobody can answer: kept for /stats
    more = client.get("/s/more:reissue_lost").text  # 👎 is one tap away, behind ⋯ 更多
    reason_page = press(client, more, "👎").text
    m = re.search(r'name="w" value="([^"]+)"', reason_page)
    assert m, "👎 asks for a reason"
    client.post("/reply", data={"_xsrf": xsrf(reason_page), "w": html.unescape(m.group(1)), "text": "电话号码 13800000000 不对"})
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0] >= 1
        assert conn.execute("SELECT COUNT(*) FROM feedback WHERE reason IS NOT NULL").fetchone()[0] == 1
    from web.server import Web

    client.get("/")  # the visitor keeps coming: their session stays, their old free text does not
    guide.store.touch_user(web_user_ids(db)[0], "zh", now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400))
    Web(guide, retention_days=365).expire(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM feedback WHERE reason IS NOT NULL").fetchone()[0] == 0
    assert len(web_user_ids(db)) == 1


def test_a_drawn_session_whose_id_is_taken_is_not_saved(guide):
    from web import sessions

    token, user_id = sessions.draw()
    assert user_id < -1 and sessions.lookup(guide.store, token) is None  # drawn: nothing stored yet
    assert sessions.save(guide.store, token, user_id, "ru")
    assert sessions.lookup(guide.store, token) == user_id and sessions.exists(guide.store, user_id)
    other, _ = sessions.draw()
    assert not sessions.save(guide.store, other, user_id, "zh")  # the same id: the caller draws again
    assert sessions.lookup(guide.store, other) is None and sessions.lookup(guide.store, token) == user_id
    assert sessions.lookup(guide.store, "") is None


def shown_progress(page: str) -> tuple[int, int, dict[str, str]]:
    """What a checklist page shows: (done, total, material → its count or 不适用)."""
    done = int(re.search(r"<b data-done>(\d+)</b>", page).group(1))
    total = int(re.search(r"<b data-total>(\d+)</b>", page).group(1))
    groups = dict(
        re.findall(r'<fieldset id="m-([a-z_]+)"[^>]*>\s*<legend>.*?<span class="count" data-count>([^<]*)</span>', page, re.S)
    )
    return done, total, groups


def test_the_page_s_script_saves_a_tick_and_gets_the_progress_without_a_screen_drawn(server, client, kb, monkeypatch):
    """A box ticked (or 不适用) with the script: stored before the answer, and the answer is the progress the page
    then shows, overall and per material; no screen is drawn for it. A forged tick stores nothing."""
    url, guide, db = server
    checklist = press(client, client.get("/s/topic:reissue_lost").text, "📋").text
    items, optional = list(boxes(checklist)), list(boxes(checklist, "na"))
    drawn: list[str] = []
    render = guide.engine.render
    monkeypatch.setattr(guide.engine, "render", lambda route, *a, **k: drawn.append(route) or render(route, *a, **k))

    def script(action: str, item: str, on: int) -> dict:
        r = client.post(
            "/a",
            data={"_xsrf": xsrf(checklist), "d": f"e1|{action}|reissue_lost:{item}:{on}"},
            headers={"Accept": "application/json"},
        )
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        return r.json()

    time.sleep(1.1)  # the page's token is from an earlier second than any token the answers could mint
    answers = [
        script("tick", items[0], 1),
        script("tick", items[2], 1),
        script("na", optional[0], 1),
        script("tick", items[2], 0),
    ]
    assert drawn == [], "the script's tick drew a screen"
    assert {a["xsrf"] for a in answers} == {xsrf(checklist)}  # the page's young token back, not a new one each time
    assert [a["done"] for a in answers] == [1, 2, 2, 1] and answers[2]["total"] == answers[1]["total"] - 1
    assert answers[0]["toast"] == "已勾选" and answers[3]["toast"] == "已取消勾选" and answers[2]["na"]
    user = web_user_ids(db)[0]
    assert guide.store.ticks(user, "reissue_lost") == {items[0]} and guide.store.not_applicable(user, "reissue_lost") == {
        optional[0]
    }
    page = client.get("/s/checklist:reissue_lost").text
    assert shown_progress(page) == (answers[-1]["done"], answers[-1]["total"], answers[-1]["groups"])
    # forged or stale: nothing stored, the page reloads itself
    for action, item in (("tick", "nothing.here"), ("na", next(i for i in items if i not in optional)), ("tick", items[1] + "x")):
        assert script(action, item, 1)["stale"] is True
    assert guide.store.ticks(user, "reissue_lost") == {items[0]}
    assert guide.store.not_applicable(user, "reissue_lost") == {optional[0]}


def test_a_kept_page_gzipped_with_a_visitor_s_token_is_the_page_with_that_token():
    """A kept page's gzip (parts compressed once, the trailer's CRC from tables per token length) unpacks to
    exactly the page with the visitor's token, for tokens of one length and of many (beyond the tables kept)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from web.render import Kept

    mark = "\x00csrf\x00"

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.text(max_size=400), min_size=1, max_size=8), st.lists(st.text(max_size=60), min_size=1, max_size=6))
    def check(pieces: list[str], tokens: list[str]) -> None:
        kept = Kept(mark.join(pieces), mark)
        for token in [*tokens, *tokens, "1796530284." + "a" * 32, "1796530285." + "b" * 32]:
            assert gzip.decompress(kept.gzip(token)) == kept.text(token) == token.join(pieces).encode()

    check()


def test_one_render_per_request_and_a_business_view_counted_once(tmp_path, kb):
    """Each page is drawn once from the engine's screen model; a change answers from what the action returned
    (a redirect, the page, or JSON for the page's script) without drawing the screen again; a business's view
    is counted by the engine alone, once per time it is shown."""
    apps: list = []
    with web_server(tmp_path / "once.db", kb, apps=apps) as (url, guide):
        renderer = apps[0].web.renderer
        views = lambda: guide.store.stats(guide.engine.clock())["views"].get("unlock", 0)  # noqa: E731
        c = httpx.Client(base_url=url, follow_redirects=False)
        for path, status in (
            ("/", 200),
            ("/s/topic:unlock", 200),
            ("/s/offices", 200),
            ("/s/help", 200),
            ("/print/unlock", 200),
            ("/ask?q=%E9%80%9A%E8%BE%BD", 200),
            ("/s/nothing", 404),
        ):
            before = renderer.renders
            assert c.get(path).status_code == status, path
            assert renderer.renders == before + 1, path
        assert views() == 1
        # drawn once, then kept: each visitor gets the same page with a token of its own, gzip-compressed once
        other = httpx.Client(base_url=url, headers={"Accept-Encoding": "gzip"})
        before = renderer.renders
        again, theirs = c.get("/s/topic:unlock"), other.get("/s/topic:unlock")
        assert renderer.renders == before and theirs.headers["content-encoding"] == "gzip"
        assert xsrf(again.text) != xsrf(theirs.text) and xsrf(theirs.text) in theirs.text
        assert again.text.replace(xsrf(again.text), "") == theirs.text.replace(xsrf(theirs.text), "")
        assert press(other, theirs.text, "📋").status_code == 303  # the token works
        assert views() == 3
        page = c.get("/s/topic:unlock").text
        before = renderer.renders
        opened = press(c, page, "📋")  # a change whose screen has an address: redirected, not drawn
        assert opened.status_code == 303 and renderer.renders == before
        checklist = c.get(opened.headers["location"]).text
        before = renderer.renders
        ticked, _ = tick_first(c, checklist)
        assert ticked.status_code == 303 and renderer.renders == before
        scripted = c.post(
            "/a",
            data={"_xsrf": xsrf(checklist), "d": f"e1|tick|unlock:{list(boxes(checklist))[1]}:1"},
            headers={"Accept": "application/json"},
        )
        assert scripted.json()["done"] == 2 and renderer.renders == before
        before_views = views()
        voted = press(c, c.get("/s/more:unlock").text, "👍")  # the answer shown again with its thanks: one view
        assert voted.status_code == 200 and views() == before_views + 1


def test_a_quiet_moment_copies_the_ticks_into_the_database_file_itself(tmp_path, kb):
    """The WAL is copied into the database file by the server's checkpoint thread once requests pause (not by
    a request's commit on the event loop): a copy of the .db file alone, as a file backup takes it, then holds
    the tick just saved."""
    db = tmp_path / "quiet.db"
    with web_server(db, kb) as (url, guide):
        c = httpx.Client(base_url=url, follow_redirects=True)
        checklist = press(c, c.get("/s/topic:reissue_lost").text, "📋")
        _, first = tick_first(c, checklist.text)
        copy = tmp_path / "copy.db"
        deadline = time.monotonic() + 10
        while True:
            copy.write_bytes(db.read_bytes())  # the file only: no -wal beside it
            try:
                with contextlib.closing(sqlite3.connect(copy)) as conn:
                    rows = conn.execute("SELECT item_id FROM ticks WHERE topic = 'reissue_lost'").fetchall()
            except sqlite3.DatabaseError:  # not even the tables are in the file yet
                rows = []
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert rows == [(first,)]


def test_a_burst_s_wal_is_cut_back_once_writes_pause(tmp_path, kb):
    """A burst of writes that never paused (here another connection's, its own checkpoints off) leaves a WAL
    beyond WAL_LIMIT_BYTES; once writes pause, the checkpoint thread copies it into the file, and the server's
    next commit starts the WAL afresh and cuts its file back to the limit (the commits' own checkpoint, far out
    at CHECKPOINT_BACKSTOP_PAGES, never ran)."""
    from web.server import CHECKPOINT_BACKSTOP_PAGES, WAL_LIMIT_BYTES

    db = tmp_path / "burst.db"
    wal = tmp_path / "burst.db-wal"
    with web_server(db, kb) as (url, guide):
        assert guide.store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == CHECKPOINT_BACKSTOP_PAGES
        c = httpx.Client(base_url=url, follow_redirects=True)
        checklist = press(c, c.get("/s/topic:reissue_lost").text, "📋").text
        with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as burst:
            burst.execute("PRAGMA wal_autocheckpoint=0")
            burst.execute("CREATE TABLE burst (b BLOB)")
            for _ in range(WAL_LIMIT_BYTES // 4_000_000 + 2):
                burst.execute("INSERT INTO burst VALUES (zeroblob(4000000))")
        assert wal.stat().st_size > WAL_LIMIT_BYTES
        items = list(boxes(checklist))
        deadline = time.monotonic() + 15
        n = 0
        while wal.stat().st_size > WAL_LIMIT_BYTES and time.monotonic() < deadline:
            time.sleep(0.5)  # a quiet moment: the thread's checkpoint
            r = c.post(  # the server's next commit
                "/a",
                data={"_xsrf": xsrf(checklist), "d": f"e1|tick|reissue_lost:{items[n % len(items)]}:1"},
                headers={"Accept": "application/json"},
            )
            assert r.status_code == 200
            n += 1
        assert wal.stat().st_size <= WAL_LIMIT_BYTES


def test_a_signed_cookie_is_verified_once_a_minute_and_a_forged_one_every_time():
    """``SignedValues``: a cookie that verified is not verified again for ``ttl`` seconds (the exact text, per
    cookie name and age limit), then again; one that did not verify is checked anew on every request."""
    from web.server import SignedValues

    calls: list[str] = []

    def verify(value):
        return lambda: calls.append(value) or (value.encode() if value.startswith("good") else None)

    kept = SignedValues(size=2, ttl=60)
    assert kept.get("eg_session", "good|sig", 365, verify("good|sig"), now=0) == b"good|sig"
    assert kept.get("eg_session", "good|sig", 365, verify("good|sig"), now=59) == b"good|sig"
    assert calls == ["good|sig"]
    assert kept.get("eg_session", "good|sig", 365, verify("good|sig"), now=61) == b"good|sig"  # a minute on: again
    assert kept.get("eg_flash", "good|sig", 1, verify("good|sig"), now=61) == b"good|sig"  # another cookie: its own check
    assert calls == ["good|sig"] * 3
    for now in (62, 63):
        assert kept.get("eg_session", "bad|sig", 365, verify("bad|sig"), now=now) is None
    assert calls[-2:] == ["bad|sig", "bad|sig"]
    kept.get("eg_session", "good|other", 365, verify("good|other"), now=64)  # beyond ``size``: all forgotten
    assert len(kept.known) <= 2
