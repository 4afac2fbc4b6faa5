"""The web pages in a real browser: headless Chromium at a phone's 360×740 viewport.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skipped
with the reason elsewhere when they are missing. Screenshots go to the test's temporary
directory (``EPORT_WEB_SCREENSHOTS=DIR`` keeps them, e.g. for docs/img/).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dialogs.features import all_routes

from .test_web import web_server

CHROMEDRIVER = "/usr/bin/chromedriver"
# read at import: the suite's hermetic environment drops EPORT_WEB_* variables before the tests run
SCREENSHOTS = os.environ.get("EPORT_WEB_SCREENSHOTS")
WIDTH, HEIGHT = 360, 740

# Every element whose box reaches past the right edge of the viewport, or that scrolls
# sideways inside itself, with its text: the page must read without horizontal scrolling.
OVERFLOW_JS = """
const width = arguments[0];
const out = [];
if (window.innerWidth > width) out.push('the page widened the viewport to ' + window.innerWidth);
if (document.documentElement.scrollWidth > width) out.push('page scrollWidth ' + document.documentElement.scrollWidth + ' > ' + width);
for (const el of document.body.querySelectorAll('*')) {
  if (['SCRIPT', 'STYLE'].includes(el.tagName)) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.right > width + 0.5 || r.left < -0.5) out.push(el.tagName + ' [' + Math.round(r.left) + ',' + Math.round(r.right) + '] ' + (el.textContent || '').trim().slice(0, 60));
  if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') out.push(el.tagName + ' scrolls sideways: ' + (el.textContent || '').trim().slice(0, 60));
}
return out;
"""


def _browser_missing() -> str | None:
    if not Path(CHROMEDRIVER).exists():
        return f"{CHROMEDRIVER} not found: install Debian's chromium and chromium-driver (.ci/run does)"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "chromium not found: install Debian's chromium and chromium-driver (.ci/run does)"
    return None


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module's tests (starting one costs a few seconds of CPU)."""
    reason = _browser_missing()
    if reason:
        if os.environ.get("EPORT_REQUIRE_BROWSER"):
            pytest.fail(reason)  # in CI the browser test must run
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WIDTH},{HEIGHT}",
        "--lang=zh-CN",
        "--hide-scrollbars",
        # nothing a test page needs: the browser's own background work (updates, sync, translation, field trials)
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--mute-audio",
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    ):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    # the viewport itself, not the window, is 360×740, as on a phone
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium):
    """The module's browser as a new visitor: no cookie of an earlier test's server (cookies ignore the port)."""
    chromium.delete_all_cookies()
    chromium.get("about:blank")
    yield chromium
    chromium.delete_all_cookies()


def no_overflow(driver, where: str) -> None:
    problems = driver.execute_script(OVERFLOW_JS, WIDTH)
    assert not problems, f"text wider than the {WIDTH}px viewport on {where}: {problems[:5]}"


def tap(driver, text: str, then: str) -> None:
    """Tap the first button whose label contains ``text``; wait for the page at ``then``."""
    from selenium.webdriver.common.by import By

    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, ".btn") if text in b.text]
    assert buttons, f"no button {text!r} on {driver.current_url}"
    click_and_wait(driver, buttons[0], then)


def click_and_wait(driver, element, then: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element("tag name", "html")
    element.click()
    WebDriverWait(driver, 15).until(
        lambda d: (
            then in d.current_url
            and d.execute_script("return document.readyState") == "complete"
            and (d.find_element("tag name", "html") != old)
        )
    )


def test_phone_browser_menu_answer_checklist_reload(browser, tmp_path, kb):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    shots = Path(SCREENSHOTS or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    business = kb.businesses["reissue_lost"]
    category = kb.categories[business.category]
    with web_server(tmp_path / "browser.db", kb) as (url, guide):
        browser.get(url + "/")
        assert "电子口岸制发卡业务指南" in browser.title
        no_overflow(browser, "the main menu")
        browser.save_screenshot(str(shots / "web-menu.png"))
        # the main menu lists every business under its category (one tap); the category's own page too
        assert [b for b in browser.find_elements(By.CSS_SELECTOR, ".btn") if b.text == business.name]
        heading = next(h for h in browser.find_elements(By.CSS_SELECTOR, "h2 a") if h.text.startswith(category.name))
        click_and_wait(browser, heading, "/s/category:")
        no_overflow(browser, "a category")
        tap(browser, business.name, "/s/topic:reissue_lost")
        body = browser.find_element(By.CSS_SELECTOR, ".content").text
        assert business.name in body and "0470-2299089" in body
        no_overflow(browser, "the answer")
        browser.save_screenshot(str(shots / "web-answer.png"))
        dial = browser.find_elements(By.CSS_SELECTOR, 'a[href^="tel:+86"]')
        assert dial, "offices' numbers are dialable"
        tap(browser, "📋", "/s/checklist:reissue_lost")
        no_overflow(browser, "the checklist")
        # 25 items, one real checkbox each, grouped by material: three ticks, no page jump
        boxes = browser.find_elements(By.CSS_SELECTOR, 'form.checklist input[name^="m:"]:not([value^="na:"])')
        assert len(boxes) == len(kb.checklist_items("reissue_lost")) == 25
        assert len(browser.find_elements(By.CSS_SELECTOR, "form.checklist fieldset")) == len(business.materials)
        page = browser.current_url
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", boxes[10])
        browser.execute_script("window.scrollBy(0, 1)")  # not an anchor position: a reload would not restore it
        scroll = browser.execute_script("return window.scrollY")
        assert scroll > 300
        for n, box in enumerate((boxes[10], boxes[11], boxes[12]), start=1):
            label = box.find_element(By.XPATH, "./ancestor::label")
            label.click()
            WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-done]").text == str(n))
            assert browser.execute_script("return window.scrollY") == scroll and browser.current_url == page
        assert browser.find_element(By.CSS_SELECTOR, ".progress progress").get_attribute("value") == "3"
        browser.refresh()  # the ticks were saved, each on its own
        ticked = [
            b.get_attribute("value")
            for b in browser.find_elements(By.CSS_SELECTOR, 'form.checklist input[name^="m:"]:not([value^="na:"])')
            if b.is_selected()
        ]
        assert len(ticked) == 3
        assert ticked == [i.id for i in kb.checklist_items("reissue_lost")][10:13]
        no_overflow(browser, "the ticked checklist")
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(shots / "web-checklist.png"))
        # printing (print media emulated): the list, each copy's picture; no menus or forms' buttons
        browser.get(url + "/print/reissue_lost")
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            assert not browser.find_element(By.TAG_NAME, "header").is_displayed()
            assert not browser.find_element(By.CSS_SELECTOR, "form.ask").is_displayed()
            marks = [li.text for li in browser.find_elements(By.CSS_SELECTOR, ".marks li") if li.is_displayed()]
            assert len(marks) == 25 and sum(m.startswith("☑") for m in marks) == 3
            pictures = [p for p in browser.find_elements(By.CSS_SELECTOR, ".picture svg") if p.is_displayed()]
            assert pictures and all(p.size["width"] > 200 for p in pictures)
            browser.get(url + "/s/checklist:reissue_lost")  # the checklist page prints as well
            assert len([b for b in browser.find_elements(By.CSS_SELECTOR, ".item") if b.is_displayed()]) == 25
            assert not browser.find_element(By.CSS_SELECTOR, "a.btn.print").is_displayed()
        finally:
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.get(url + "/print/reissue_lost")
        assert browser.find_element(By.CSS_SELECTOR, "button.print-now").is_displayed()  # the script's print button
        browser.save_screenshot(str(shots / "web-print.png"))
        cookies = {c["name"]: c for c in browser.get_cookies()}
        assert cookies["eg_session"]["httpOnly"] and cookies["eg_session"]["sameSite"] == "Lax"
        assert browser.execute_script("return document.cookie") == ""  # no script can read the session
        # the language buttons name each language in itself (that every kind of page fits in each language:
        # test_every_page_kind_is_accessible_light_and_dialable_in_three_languages)
        for lang in ("中文", "Русский", "English"):
            assert browser.find_element(By.XPATH, f'//form[@class="langs"]/button[@title="{lang}"]')
        # a copy button puts the exact annotation on the clipboard, and says so
        browser.execute_cdp_cmd(
            "Browser.grantPermissions", {"origin": url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}
        )
        browser.get(url + "/s/topic:change_name")
        copy = browser.find_elements(By.CSS_SELECTOR, "button.copy")
        assert copy
        wanted = copy[0].get_attribute("data-copy")
        assert wanted in {a.text for a in kb.annotations.values()}
        copy[0].click()
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(browser, 10).until(lambda d: "✅" in copy[0].text)
        pasted = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], e => arguments[0]('ERR ' + e))")
        assert pasted == wanted
        # the share button: the phone's share sheet where the browser has one, else the page's link copied
        share = browser.find_element(By.CSS_SELECTOR, "button.share")
        assert share.is_displayed() and share.rect["height"] >= 44  # shown by the script (hidden without it)
        if not browser.execute_script("return !!navigator.share"):
            share.click()
            WebDriverWait(browser, 10).until(lambda d: "✅" in share.text)
            link = browser.execute_async_script(
                "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('ERR ' + e))"
            )
            assert link == url + "/s/topic:change_name"
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] if hasattr(browser, "get_log") else []
        assert not [e for e in errors if "Content Security Policy" in e["message"]], errors
        # the detector itself: one unbreakable line wider than the phone is caught
        browser.execute_script(
            "const d = document.createElement('div'); d.style.whiteSpace = 'nowrap';"
            "d.textContent = '0470-2299089 '.repeat(8); document.querySelector('main').appendChild(d);"
        )
        with pytest.raises(AssertionError, match="wider than the 360px viewport"):
            no_overflow(browser, "a page with a line too long")
    assert (shots / "web-answer.png").stat().st_size > 10_000


def test_phone_browser_a_command_typed_in_the_question_box_opens_its_page(browser, tmp_path, kb):
    """In each language, /checklist typed into the question box at the top opens the checklists page (the box's
    place and size on every answer page: test_every_page_kind_is_accessible_light_and_dialable_in_three_languages)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with web_server(tmp_path / "call.db", kb) as (url, guide):
        for lang in ("zh", "ru", "en"):
            browser.get(url + "/s/topic:reissue_lost")
            if lang != "zh":
                switch = browser.find_element(By.CSS_SELECTOR, f'form.langs button[value="{lang}"]')
                click_and_wait(browser, switch, "/")
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == {"zh": "zh-CN"}.get(lang, lang)
            field = browser.find_element(By.ID, "q")
            field.clear()
            field.send_keys("/checklist")
            field.submit()
            WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/s/checklists"))


def test_ci_installs_the_browser_and_requires_the_test():
    script = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    update, install = script.index("apt-get update"), script.index("apt-get install -y")
    assert update < install and "DEBIAN_FRONTEND=noninteractive" in script
    for package in ("chromium", "chromium-driver", "fonts-noto-cjk"):
        assert f" {package}" in script[install:].split("\n")[0]
    assert "EPORT_REQUIRE_BROWSER=1 make test" in script  # in CI a missing browser fails instead of skipping


# Every control a finger taps, with its box: buttons, block links, the question box, the checkboxes' labels,
# <summary>. Links inside running text (display: inline) are exempt, as WCAG 2.5.8 exempts them.
TARGETS_JS = """
const out = [];
for (const el of document.querySelectorAll('a, button, input, textarea, summary, label')) {
  if (el.type === 'hidden' || el.type === 'checkbox') continue;  // a checkbox is tapped through its label
  if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
  if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue;
  if (el.tagName === 'LABEL' && !el.querySelector('input[type=checkbox]')) continue;  // a label beside its field
  const r = el.getBoundingClientRect();
  if (r.height < 43.5 || r.width < 43.5) out.push(el.tagName + ' ' + Math.round(r.width) + 'x' + Math.round(r.height) + ' ' + (el.textContent || el.value || '').trim().slice(0, 30));
}
return out;
"""
# What the page loaded: the document's size before compression, and every other request it made.
LOAD_JS = """
const nav = performance.getEntriesByType('navigation')[0];
return [nav.decodedBodySize, performance.getEntriesByType('resource').map(e => e.name)];
"""
PAGE_BUDGET = 30 * 1024
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'best-practice']}})
  .then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => ({target: n.target}))}))}),
        e => done('axe failed: ' + e));
"""


def test_every_page_kind_is_accessible_light_and_dialable_in_three_languages(browser, tmp_path, kb):
    """At 360×740 in zh, ru and en, every kind of page: no serious or critical axe-core violation (contrast AA
    included), tap targets of at least 44×44 px, the page's language in <html lang>, no horizontal overflow,
    at most 30 KB before compression and no other request; every answer page has the tel: call button, at least
    44 px high and fully on the screen's width, and the question box with its visible label above the content."""
    from axe_selenium_python import Axe
    from selenium.webdriver.common.by import By

    shots = Path(SCREENSHOTS or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with web_server(tmp_path / "axe.db", kb) as (url, guide):
        kinds: dict[str, str] = {}
        for route in all_routes(guide.engine):
            kinds.setdefault(route.split(":")[0], route)
        kinds["topic_jiangsu"] = "topic:new_entry"  # the answer with the Jiangsu guide's extras folded in
        paths = (
            ["/"]
            + [f"/s/{r}" for k, r in kinds.items() if k != "main"]
            + [
                "/s/answer:silent_hours",  # an answer the documents are silent on: the hotline instead
                "/s/checklists",
                "/s/checklist:reissue_lost",
                "/print/reissue_lost",
                "/check",
                "/s/help",
                "/ask?q=%E9%80%9A%E8%BE%BD",
                "/ask?q=%E8%A6%81%E5%B8%A6%E5%93%AA%E4%BA%9B%E6%9D%90%E6%96%99",
                "/ask?q=xyzzy",
            ]
        )
        answers = {"/s/topic:", "/s/fact:", "/s/answer:", "/s/stuck:", "/ask?q="}
        browser.get(url + "/s/topic:reissue_lost")
        tap(browser, "📋", "/s/checklist:reissue_lost")  # a session with a checklist
        browser.find_elements(By.CSS_SELECTOR, "form.checklist .tick")[0].click()
        axe = Axe(browser)
        problems: list[str] = []
        for lang in ("zh", "ru", "en"):
            browser.get(url + "/")
            switch = browser.find_element(By.CSS_SELECTOR, f'form.langs button[value="{lang}"]')
            if switch.is_enabled():  # the current language's button is disabled
                click_and_wait(browser, switch, "/")
            for path in paths:
                browser.get(url + path)
                where = f"{path} ({lang})"
                assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == {"zh": "zh-CN"}.get(lang, lang), where
                size, requests = browser.execute_script(LOAD_JS)
                budget = PAGE_BUDGET  # the printout too, with each copy's picture (their shared parts drawn once)
                if size > budget:
                    problems.append(f"{where}: {size} bytes > {budget}")
                if requests:
                    problems.append(f"{where}: requests {requests}")
                if any(path.startswith(a) for a in answers):
                    call = browser.find_elements(By.CSS_SELECTOR, 'a.btn.call[href="tel:+864702299089"]')
                    if not call:
                        problems.append(f"{where}: no call button")
                    else:
                        box = call[0].rect
                        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (where, box)
                    label = browser.find_element(By.CSS_SELECTOR, 'form.ask.top label[for="q"]')
                    field = browser.find_element(By.ID, "q")
                    assert label.is_displayed() and label.text and field.is_displayed(), where
                    assert field.rect["y"] + field.rect["height"] <= browser.find_element(By.CSS_SELECTOR, ".content").rect["y"]
                    assert field.rect["y"] < HEIGHT and field.rect["height"] >= 44, (where, field.rect)
                    if path == f"/s/{kinds['topic']}" and lang == "zh":
                        browser.save_screenshot(str(shots / "web-answer-call.png"))
                small = browser.execute_script(TARGETS_JS)
                if small:
                    problems.append(f"{where}: small tap targets {small[:4]}")
                no_overflow(browser, where)
                axe.inject()  # axe-core, as axe-selenium-python ships it
                found = browser.execute_async_script(AXE_RUN)
                assert isinstance(found, dict), found
                for v in found["violations"]:
                    if v["impact"] in ("serious", "critical"):
                        problems.append(f"{where}: axe {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}")
            if lang != "zh":
                browser.get(url + "/s/topic:reissue_lost")
                browser.save_screenshot(str(shots / f"web-answer-{lang}.png"))
        browser.get(url + "/s/offices")
        browser.save_screenshot(str(shots / "web-offices.png"))
    assert not problems, "\n".join(problems)
