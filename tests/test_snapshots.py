"""Every screen pinned as a snapshot per route and language, and the click paths through them.

If a snapshot test fails after an intended change: `make golden` and review the diff of
tests/snapshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dialogs.console import find_button
from dialogs.engine import Context, Screen, callback_data, parse_callback
from dialogs.routes import parse_or_none

from dialogs.features import all_routes

from .snapshot_regen import (LANGUAGES, SCENARIOS, SNAPSHOT_DIR, file_name, production_guide, routes, scenario_snapshots,
                             snapshots, stored)

TEMPLATES = Path(__file__).resolve().parent.parent / "dialogs" / "templates"
SCREENS = yaml.safe_load((TEMPLATES.parent / "screens.yaml").read_text(encoding="utf-8"))["screens"]

PATHS_FILE = Path(__file__).resolve().parent / "paths.yaml"


@pytest.fixture(scope="module")
def prod_guide():
    with production_guide() as guide:
        yield guide


@pytest.fixture(scope="module")
def prod(prod_guide):
    return prod_guide.engine


@pytest.fixture(scope="module")
def scenarios(prod_guide):
    return scenario_snapshots(prod_guide.kb)


def test_snapshots_are_current(prod, scenarios):
    current = {**snapshots(prod), **scenarios}
    on_disk = stored()
    stale = sorted(name for name in current if name in on_disk and current[name] != on_disk[name])
    assert not stale, f"out of date (run `make golden` and review the diff): {', '.join(stale[:10])}"


def test_every_route_has_a_snapshot_in_each_language_and_no_orphans(prod):
    expected = {f"{lang}/{file_name(route)}" for lang in LANGUAGES for route in routes(prod)}
    expected |= {f"{lang}/after__{s.name}.txt" for lang in LANGUAGES for s in SCENARIOS}
    assert set(all_routes(prod)) <= set(routes(prod))
    on_disk = set(stored())
    missing = sorted(expected - on_disk)
    orphans = sorted(on_disk - expected)
    assert not missing, f"routes without a snapshot (run `make golden`): {missing[:10]}"
    assert not orphans, f"snapshots of routes the engine no longer has: {orphans[:10]}"
    assert {p.name for p in SNAPSHOT_DIR.iterdir()} == set(LANGUAGES)


def test_snapshots_show_the_production_features(prod):
    """The pinned UI is the one users get: checklists, feedback, share, settings and reminders are on."""
    on_disk = stored()
    topic = on_disk["zh/" + file_name("topic:renew_cert")]
    for label in ("📋 加入清单", "📤 分享", "⏰ 证书到期提醒", "⋯ 更多"):
        assert label in topic
    assert "👍 有帮助" in on_disk["zh/" + file_name("more:renew_cert")]
    assert "📋 我的清单" in on_disk["zh/main.txt"]
    assert "Reminders" in on_disk["en/" + file_name("settings")]


def test_every_template_is_pinned_by_a_snapshot(prod):
    """Each screen's template (routes' and those only reached by doing something: a typed date, a
    tick, an upload, a group message, an inline query, a due reminder, the statistics) shows in
    a snapshot in every language."""
    route_names = {route.split(":")[0] for route in routes(prod)}
    pinned = {SCREENS[name]["template"] for name in route_names} | {t for s in SCENARIOS for t in s.templates}
    templates = {p.name for p in TEMPLATES.glob("*.j2") if not p.name.startswith("_")}
    assert templates - pinned == set()
    assert pinned <= templates


def test_scenario_snapshots_show_what_the_user_did(scenarios):
    """The scenarios reach their screens (a broken step would pin the wrong screen silently)."""
    for lang in LANGUAGES:
        first_line = {name.split("/", 1)[1][len("after__"):-4]: text.splitlines()[0]
                      for name, text in scenarios.items() if name.startswith(lang + "/")}
        assert first_line["tick"].startswith("[checklist_part:") and first_line["remind_refund_set"] == "[reminder_set]"
        assert first_line["reminder_due_expiry"] == "[reminder_due]" and first_line["group_checklist"] == "[private_only]"
        assert first_line["question_vague"] == "[suggest]" and first_line["upload_ok"] == "[precheck]"
        assert first_line["stats"] == "[stats]" and first_line["stale_button"] == "[main]"
    zh = {name: text for name, text in scenarios.items() if name.startswith("zh/")}
    assert "(toast: 已勾选)" in zh["zh/after__tick.txt"] and "(toast: 已取消勾选)" in zh["zh/after__untick.txt"]
    assert "看不懂这个日期：<b>下周</b>" in zh["zh/after__remind_unreadable.txt"]  # the typed text, escaped, not bold
    assert "[file checklist-reissue_lost.txt]" in zh["zh/after__checklist_export.txt"]
    assert "✅" in zh["zh/after__upload_ok.txt"] and "❌" in zh["zh/after__upload_refused.txt"]
    assert "(toast: Отмечено)" in scenarios["ru/after__tick.txt"]


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
            screen = engine.start(ctx, what[len("/start"):].strip() or None)
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
    assert {"main", "category", "topic", "rules", "jiangsu", "material", "stuck", "offices", "city", "online", "walk",
            "checklist", "checklist_part", "checklist_reset", "checklists", "feedback_reason", "answer", "answer_source", "settings",
            "language", "reminders", "remind", "reminder_set", "forget"} <= reached
    for path in load_paths():
        assert path.get("lang", "zh") in LANGUAGES


def test_route_steps_are_buttons_that_exist(prod_guide, prod):
    """A route named as a step opens like a button: one that does not exist is refused, not shown."""
    walker = Walker(prod_guide, user_id=999, lang="zh")
    walker.step("/start")
    assert walker.step("topic:unlock").route == "topic:unlock"
    assert prod.handle(walker.ctx, callback_data("go", "topic:nope")).stale
    assert parse_callback(callback_data("go", "main")) == ("go", "main")
