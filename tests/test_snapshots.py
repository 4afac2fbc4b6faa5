"""Each template's shape pinned as a snapshot per language, and the click paths through the screens.

The snapshots are few (``CASES`` and ``SCENARIOS`` in tests/snapshot_regen.py: one per template
shape, tests/snapshots/<lang>/<template>.txt); the same templates filled with every other record of
the knowledge are checked by tests/test_screens_over_knowledge.py. If a snapshot test fails after
an intended change: `make golden` and review the diff of tests/snapshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dialogs.console import find_button
from dialogs.engine import Context, Screen, callback_data, parse_callback
from dialogs.routes import parse_or_none

from dialogs.features import all_routes

from .snapshot_regen import CASES, LANGUAGES, SCENARIOS, SNAPSHOT_DIR, production_guide, rendered, sections, stored, web_snapshots
from .template_planting import loading_recorded

TEMPLATES = Path(__file__).resolve().parent.parent / "dialogs" / "templates"
WEB_TEMPLATES = TEMPLATES.parent.parent / "web" / "templates"
SCREENS = yaml.safe_load((TEMPLATES.parent / "screens.yaml").read_text(encoding="utf-8"))["screens"]
MAX_FILES = 150  # a template change must stay a diff a person reads

PATHS_FILE = Path(__file__).resolve().parent / "paths.yaml"


@pytest.fixture(scope="module")
def prod_guide():
    with production_guide() as guide:
        yield guide


@pytest.fixture(scope="module")
def prod(prod_guide):
    return prod_guide.engine


@pytest.fixture(scope="module")
def current():
    """The snapshots rendered now, on a guide of their own, and per language the templates each loads."""
    loaded: dict[str, set[str]] = {}
    parts: dict[str, list[str]] = {}
    with production_guide() as guide:
        for lang in LANGUAGES:
            with loading_recorded() as names:
                for name, text in rendered(guide, lang):
                    parts.setdefault(name, []).append(text)
            loaded[lang] = set(names)
        with loading_recorded() as names:
            web = web_snapshots(guide.kb)
        loaded["web"] = set(names)
    files = {**{name: "\n".join(texts) for name, texts in sorted(parts.items())}, **web}
    return files, loaded


def test_snapshots_are_current_and_none_is_missing_or_left_over(current):
    files, _ = current
    on_disk = stored()
    stale = sorted(name for name in files if name in on_disk and files[name] != on_disk[name])
    assert not stale, f"out of date (run `make golden` and review the diff): {', '.join(stale[:10])}"
    assert sorted(files.keys() - on_disk.keys()) == [], "templates without a snapshot (run `make golden`)"
    assert sorted(on_disk.keys() - files.keys()) == [], "snapshots of templates no case renders (run `make golden`)"
    assert {p.name for p in SNAPSHOT_DIR.iterdir()} == set(LANGUAGES)


def test_the_snapshot_files_stay_few(current):
    files, _ = current
    assert len(files) <= MAX_FILES
    assert len({name.split("/")[1] for name in files}) * len(LANGUAGES) == len(files)  # the same templates in each language


def test_every_template_is_loaded_by_a_snapshot_in_every_language(current):
    """Each template (screens', the macros, those only reached by doing something: a typed date, a
    tick, an upload, a group message, an inline query, a due reminder, the statistics) is rendered
    by some snapshot in every language; `python -m tests.template_planting` plants a change in every
    piece of each and checks a snapshot notices."""
    _, loaded = current
    templates = {p.name for p in TEMPLATES.glob("*.j2")}
    for lang in LANGUAGES:
        assert templates - loaded[lang] == set(), lang
    declared = {t for s in SCENARIOS for t in s.templates} | {SCREENS[r.split(":")[0]]["template"] for r, _ in CASES}
    assert declared <= templates


def test_every_web_template_shows_in_the_web_snapshot_of_every_language(current):
    """Every web template (page.html, the screens/ templates, their parts) is rendered by a page of WEB_PAGES;
    style.css and copy.js are inlined whole into each page."""
    files, loaded = current
    web = {p.relative_to(WEB_TEMPLATES).as_posix() for p in WEB_TEMPLATES.rglob("*.html")}
    assert web and web - loaded["web"] == set()
    for inlined in (p for p in WEB_TEMPLATES.iterdir() if p.suffix in (".css", ".js")):
        for lang in LANGUAGES:
            assert inlined.read_text(encoding="utf-8").strip() in files[f"{lang}/web.txt"], (inlined.name, lang)


def test_every_case_is_a_route_and_every_screen_a_route_opens_has_a_case(prod):
    routes = set(all_routes(prod)) | {
        f"{kind}:{t}" for kind in ("feedback_reason", "checklist_reset") for t in prod.kb.businesses
    }
    names = [route for route, _ in CASES]
    assert set(names) <= routes and len(set(names)) == len(names)
    assert {r.split(":")[0] for r in routes} <= {r.split(":")[0] for r in names}
    assert all(why.strip() for _, why in CASES)  # each says why it is there


def test_snapshots_show_the_production_features():
    """The pinned UI is the one users get: checklists, feedback, share, settings and reminders are on."""
    on_disk = stored()
    topic = sections(on_disk["zh/topic.txt"])["topic:renew_cert"]
    for label in ("📋 加入清单", "📤 分享", "⏰ 证书到期提醒", "⋯ 更多"):
        assert label in topic
    assert "👍 有帮助" in sections(on_disk["zh/more.txt"])["more:reissue_lost"]
    assert "📋 我的清单" in sections(on_disk["zh/main.txt"])["main"]
    assert "Reminders" in sections(on_disk["en/settings.txt"])["settings"]


def test_scenario_snapshots_show_what_the_user_did():
    """The scenarios reach their screens (a broken step would pin the wrong screen silently)."""
    on_disk = stored()
    for lang in LANGUAGES:
        by_name = {
            name: text
            for file, content in on_disk.items()
            if file.startswith(lang + "/")
            for name, text in sections(content).items()
        }
        first_line = {name[len("after ") :]: text.splitlines()[0] for name, text in by_name.items() if name.startswith("after ")}
        assert set(first_line) == {s.name for s in SCENARIOS}
        assert first_line["tick"].startswith("[checklist_part:") and first_line["remind_refund_set"] == "[reminder_set]"
        assert first_line["reminder_due_expiry"] == "[reminder_due]" and first_line["group_checklist"] == "[private_only]"
        assert first_line["question_vague"] == "[suggest]" and first_line["upload_ok"] == "[precheck]"
        assert first_line["stats"] == "[stats]" and first_line["stale_button"] == "[main]"
    zh = {
        name: text
        for content in (v for k, v in on_disk.items() if k.startswith("zh/"))
        for name, text in sections(content).items()
    }
    assert "(toast: 已勾选)" in zh["after tick"] and "(toast: 已取消勾选)" in zh["after untick"]
    assert "看不懂这个日期：<b>下周</b>" in zh["after remind_unreadable"]  # the typed text, escaped, not bold
    assert "[file checklist-reissue_lost.txt]" in zh["after checklist_export"]
    assert "✅" in zh["after upload_ok"] and "❌" in zh["after upload_refused"]
    assert "(toast: Отмечено)" in sections(on_disk["ru/checklist.txt"])["after tick"]


# -- click paths --------------------------------------------------------------------------------
def load_paths() -> list[dict]:
    return yaml.safe_load(PATHS_FILE.read_text(encoding="utf-8"))["paths"]


class Walker:
    """One user going through the screens as the Telegram channel would take them there."""

    def __init__(self, guide, user_id: int, lang: str):
        self.guide, self.engine, self.user_id, self.telegram_lang = guide, guide.engine, user_id, lang
        self.screen: Screen | None = None
        self.awaiting: str | None = None

    @property
    def ctx(self) -> Context:
        return Context(user_id=self.user_id, lang=self.guide.language(self.user_id, self.telegram_lang))

    def step(self, what: str) -> Screen:
        engine, ctx = self.engine, self.ctx
        if what == "/start" or what.startswith("/start "):
            screen = engine.start(ctx, what[len("/start") :].strip() or None)
        elif what.startswith("> "):
            text = what[2:]
            screen = engine.reply(ctx, self.awaiting, text) if self.awaiting else engine.ask(ctx, text)
        else:
            assert self.screen is not None, f"{what!r}: no screen to press a button on yet"
            button = find_button(self.screen, what)
            if button is None and parse_or_none(what) is not None and parse_or_none(what).screen in engine.screens:
                data = callback_data("go", what)
            else:
                labels = [b.label for b in self.screen.all_buttons()]
                assert button is not None, f"no button {what!r} on {self.screen.route}; buttons: {labels}"
                assert button.data, f"{what!r} on {self.screen.route} is not a button the bot answers"
                data = button.data
            screen = engine.handle(ctx, data)
            assert not screen.stale, f"{what!r} on {self.screen.route} gave the 'out of date' menu"
        self.awaiting = screen.awaiting
        self.screen = screen
        return screen


@pytest.mark.parametrize("path", load_paths(), ids=lambda p: p["name"])
def test_click_path_reaches_the_expected_routes(prod_guide, path):
    walker = Walker(prod_guide, user_id=1000 + load_paths().index(path), lang=path.get("lang", "zh"))
    for n, step in enumerate(path["steps"], 1):
        [(what, expected)] = step.items()
        screen = walker.step(str(what))
        assert screen.route == expected, f"step {n} {what!r}: reached {screen.route}, expected {expected}"


def test_click_paths_go_through_every_kind_of_screen():
    """The paths stay a tour of the bot: every screen users open by buttons appears in some path."""
    reached = {str(expected).split(":")[0] for path in load_paths() for step in path["steps"] for expected in step.values()}
    assert {
        "main",
        "category",
        "topic",
        "rules",
        "jiangsu",
        "material",
        "stuck",
        "offices",
        "city",
        "online",
        "walk",
        "checklist",
        "checklist_part",
        "checklist_reset",
        "checklists",
        "feedback_reason",
        "answer",
        "answer_source",
        "settings",
        "language",
        "reminders",
        "remind",
        "reminder_set",
        "forget",
    } <= reached
    for path in load_paths():
        assert path.get("lang", "zh") in LANGUAGES


def test_route_steps_are_buttons_that_exist(prod_guide, prod):
    """A route named as a step opens like a button: one that does not exist is refused, not shown."""
    walker = Walker(prod_guide, user_id=999, lang="zh")
    walker.step("/start")
    assert walker.step("topic:unlock").route == "topic:unlock"
    assert prod.handle(walker.ctx, callback_data("go", "topic:nope")).stale
    assert parse_callback(callback_data("go", "main")) == ("go", "main")
