"""Routes (knowledge.route, dialogs.routes): the one parser, the parameters screens.yaml declares,
and the route strings already in users' chats, links and databases, which must keep working."""

from __future__ import annotations

import pytest
import yaml

from dialogs.engine import Context, Engine, callback_data
from dialogs.routes import BadRoute, Route, all_routes, params_of

# Route strings as they were written before the Route type existed, as users' old buttons, bookmarked
# web links and stored rows (pending questions, taught routes) hold them.
STORED = [
    "main",
    "topic:reissue_lost",
    "more:new_entry",
    "category:{category}",
    "walk:{step}",
    "walk:{track}",
    "checklist_part:reissue_lost:{material}",
    "remind:refund",
    "city:满洲里",
    "answer:hotline",
]


def fill(engine: Engine, text: str) -> str:
    kb = engine.kb
    track = next(r for r in all_routes(engine) if r.startswith("walk:") and "." in r)
    material = next(i.material for i in kb.checklist_items("reissue_lost"))
    return text.format(category=next(iter(kb.categories)), step=kb.steps[0].id, track=track[5:], material=material)


@pytest.mark.parametrize("written", STORED)
def test_stored_route_strings_parse_and_write_back_unchanged(guide, written):
    text = fill(guide.engine, written)
    route = Route.parse(text)
    assert str(route) == text and Route.parse(str(route)) == route
    assert len(route.params) == len(params_of(guide.engine, route.screen))  # as screens.yaml declares them
    screen = guide.engine.handle(Context(user_id=7), callback_data("go", text))  # an old button in a chat
    assert not screen.stale and screen.route == text


def test_every_listed_route_round_trips_and_opens_its_screen(guide):
    routes = all_routes(guide.engine)
    assert len(routes) == len(set(routes))
    for text in routes:
        route = Route.parse(text)
        assert str(route) == text and Route.of(route.screen, *route.params) == route
        assert guide.engine.render(route, Context(user_id=7)).route == text


def test_the_routes_follow_the_declared_parameters_and_the_knowledge(guide):
    """Each business has its pages, each checklist material its page, each walkthrough step its
    page (with and without the business) — derived from screens.yaml, never listed by hand."""
    engine, kb = guide.engine, guide.kb
    routes = set(all_routes(engine))
    for screen in ("topic", "more", "rules", "jiangsu", "stuck", "checklist"):
        assert params_of(engine, screen) == ("business",)
        assert {f"{screen}:{t}" for t in kb.businesses} <= routes
    for t in kb.businesses:
        assert {f"checklist_part:{t}:{i.material}" for i in kb.checklist_items(t)} <= routes
    assert {f"walk:{s.id}" for s in kb.steps} <= routes
    assert {f"city:{c}" for c in kb.cities} <= routes and "remind:expiry" in routes
    # admin, internal and action-only screens are not among them
    assert not any(
        Route.parse(r).screen in ("stats", "missed_pick", "answers", "feedback_reason", "checklist_reset") for r in routes
    )


def test_without_a_store_the_personal_routes_are_not_listed(plain_guide):
    screens = {Route.parse(r).screen for r in all_routes(plain_guide.engine)}
    assert "topic" in screens and not screens & {"checklist", "checklist_part", "settings", "reminders", "remind"}


@pytest.mark.parametrize(
    "text", ["", "Topic:x", "topic:a b", "topic:a|b", "topic:", "t" * 21, "topic:" + "x" * 49, "topic:换\n行"]
)
def test_text_that_is_not_a_route_is_refused_and_a_forged_button_gets_the_fresh_menu(engine, text):
    with pytest.raises(BadRoute):
        Route.parse(text)
    assert engine.handle(Context(user_id=7), f"e1|go|{text}").stale


def test_a_screen_declaring_an_unknown_parameter_type_stops_the_start_up(kb, monkeypatch, tmp_path):
    import dialogs.engine as engine_module

    text = engine_module.SCREENS_FILE.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    spec["screens"]["topic"]["params"] = ["bussiness"]
    typo = tmp_path / "screens.yaml"
    typo.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(engine_module, "SCREENS_FILE", typo)
    with pytest.raises(ValueError, match="bussiness"):
        Engine(kb)
