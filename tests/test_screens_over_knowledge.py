"""Every screen filled from the knowledge shows that knowledge exactly, for every record, in every language.

The snapshots (tests/test_snapshots.py) pin each template's layout once, on a few chosen records;
these tests check the substitutions on all of them: for every business, material, city, fact, answer
and walkthrough step in the knowledge, in zh, ru and en, the screen shows its title (the Chinese name,
with its translation beside it outside Chinese), the exact annotation strings with their copy
buttons, the office phones, the verbatim quotes and the source line with its check date. What is
expected is read from the knowledge files, never from the screens' own data functions.
"""

from __future__ import annotations

import pytest

from dialogs import i18n
from dialogs.engine import Context, parse_callback

from .snapshot_regen import LANGUAGES, production_guide


@pytest.fixture(scope="module")
def prod():
    with production_guide() as guide:
        yield guide.engine


@pytest.fixture(params=LANGUAGES)
def lang(request):
    """Each test runs in every language."""
    return request.param


@pytest.fixture
def show(prod, lang):
    """A route's screen as a new user sees it in the test's language."""
    ctx = Context(user_id=1, lang=lang)
    return lambda route: prod.render(route, ctx)


def named(name: str, lang: str) -> str:
    """How a Chinese name is shown: itself, and outside Chinese its translation beside it."""
    beside = i18n.beside(name, lang)
    return f"{name}（{beside}）" if beside else name


def annotations_of(kb, material_id: str) -> list[str]:
    """The annotation strings a material's checks ask for (knowledge/data/materials.yaml)."""
    material = kb.materials[material_id]
    return list(
        dict.fromkeys(
            kb.annotations[c.annotation].text for rs in material.rulesets for c in kb.rulesets[rs].checks if c.annotation
        )
    )


def center(kb):
    return next(o for o in kb.offices.values() if o.kind == "card_center")


def fail_list(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:20])


def test_every_business_answer_shows_its_name_annotations_phone_and_source(show, kb, lang):
    problems = []
    hotline = center(kb)
    for t, business in kb.businesses.items():
        screen = show(f"topic:{t}")
        text, first = screen.text, screen.text.strip().splitlines()[0]
        if named(business.name, lang) not in first or kb.categories[business.category].name not in first:
            problems.append(f"{t}: title line {first!r}")
        copies = {b.copy_text for b in screen.all_buttons() if b.copy_text}
        for m in business.materials:
            for annotation in annotations_of(kb, m.material):
                if annotation not in text or annotation not in copies:
                    problems.append(f"{t}: annotation {annotation!r} not shown verbatim with its ⧉ button")
        if hotline.phones_as_written not in text or hotline.phones[0] not in copies:
            problems.append(f"{t}: the hotline {hotline.phones_as_written} (and its ⧉ button)")
        footer = text.strip().splitlines()[-1]
        if kb.source_label(business.source) not in footer or str(business.verified_on) not in footer:
            problems.append(f"{t}: source line {footer!r}")
    fail_list(problems)


def test_every_business_screen_behind_the_answer_names_the_business(show, kb, lang):
    """⋯ more, 📖 rules, 📘 Jiangsu, 🆘 stuck, 🖼 pictures, 📋 checklist and its reset, 👎 reason: each
    shows (or, for the reason, acts on) the business it was opened for."""
    problems = []
    for t, business in kb.businesses.items():
        for kind in ("more", "rules", "jiangsu", "stuck", "checklist", "checklist_reset", "pictures"):
            screen = show(f"{kind}:{t}")
            if screen.stale or business.name not in screen.text.strip().splitlines()[0] + screen.text[:300]:
                if kind == "pictures" and screen.stale:
                    continue  # a business without copies has no pictures screen
                problems.append(f"{kind}:{t}: the business is not named: {screen.text[:80]!r}")
        reason = show(f"feedback_reason:{t}")
        if not any(b.data and parse_callback(b.data)[1] == f"topic:{t}" for b in reason.all_buttons()):
            problems.append(f"feedback_reason:{t}: its skip does not return to the business")
    fail_list(problems)


def test_the_rules_quote_the_manzhouli_document_and_the_jiangsu_guide_only_where_it_covers(show, kb, lang):
    problems = []
    for t, business in kb.businesses.items():
        rules, jiangsu = show(f"rules:{t}").text, show(f"jiangsu:{t}").text
        is_covered = kb.jiangsu_covers(t)
        if business.materials_line not in rules:
            problems.append(f"rules:{t}: the document's list of materials is not quoted")
        for m in business.materials:
            for rule in kb.rules_of(m.material):
                if rule.region == "jiangsu":
                    if (rule.text in jiangsu) != is_covered or rule.text in rules:
                        problems.append(
                            f"{t}: the Jiangsu rule {rule.text[:30]!r} shown where it {'covers' if is_covered else 'does not cover'}"
                        )
                elif business.audience == "org" and rule.text not in rules:
                    problems.append(f"rules:{t}: {rule.text[:30]!r} not quoted")
    fail_list(problems)


def test_every_material_screen_shows_its_name_rules_and_annotation(show, kb, lang):
    problems = []
    for m, material in kb.materials.items():
        screen = show(f"material:{m}")
        text, copies = screen.text, {b.copy_text for b in screen.all_buttons() if b.copy_text}
        if named(material.name, lang) not in text.strip().splitlines()[0]:
            problems.append(f"material:{m}: title {text.splitlines()[0]!r}")
        for annotation in annotations_of(kb, m):  # set apart to copy, not only inside a quoted rule
            if f"<code>{annotation}</code>" not in screen.html or annotation not in copies:
                problems.append(f"material:{m}: annotation {annotation!r} with its ⧉ button")
        for rule in kb.rules_of(m):
            if rule.text not in text:
                problems.append(f"material:{m}: rule {rule.text[:30]!r}")
    fail_list(problems)


def test_every_checklist_page_has_a_button_per_item_of_its_material(show, kb, lang):
    problems = []
    for t in kb.businesses:
        items = kb.checklist_items(t)
        for m in dict.fromkeys(i.material for i in items):
            screen = show(f"checklist_part:{t}:{m}")
            ticks = [b for b in screen.all_buttons() if b.data and parse_callback(b.data)[0] == "tick"]
            expected = {f"{t}:{i.id}" for i in items if i.material == m}
            if {parse_callback(b.data)[1].rsplit(":", 1)[0] for b in ticks} != expected:
                problems.append(f"checklist_part:{t}:{m}: tick buttons {[b.label for b in ticks]}")
            if f"{sum(i.material == m for i in items)}" not in screen.text.splitlines()[3]:
                problems.append(f"checklist_part:{t}:{m}: the page's count {screen.text.splitlines()[3]!r}")
    fail_list(problems)


def test_every_city_shows_each_office_name_address_and_phone(show, kb, lang):
    problems = []
    for city, offices in kb.cities.items():
        text = show(f"city:{city}").text
        if named(city, lang) not in text.splitlines()[0]:
            problems.append(f"city:{city}: title {text.splitlines()[0]!r}")
        for o in offices:
            for shown in (o.name, o.address, *o.phones):
                if shown not in text:
                    problems.append(f"city:{city}: {shown!r}")
    fail_list(problems)


def test_every_fact_answer_and_step_shows_its_title_and_verbatim_quotes(show, kb, lang):
    problems = []
    label = {"zh": "江苏", "ru": "Цзянсу", "en": "Jiangsu"}[lang]
    for f, fact in kb.facts.items():
        text = show(f"fact:{f}").text
        if named(fact.title, lang) not in text.splitlines()[0] or fact.text not in text:
            problems.append(f"fact:{f}: title or text")
        if fact.region == "jiangsu" and label not in text.splitlines()[0]:
            problems.append(f"fact:{f}: a Jiangsu fact without its label")
    for a, answer in kb.answers.items():
        text = show(f"answer:{a}").text
        if getattr(answer.title, lang) not in text or getattr(answer.plain, lang) not in text:
            problems.append(f"answer:{a}: title or plain line")
        if not answer.silent:
            source = show(f"answer_source:{a}").text
            for q in answer.quotes:
                if q.text not in source or str(q.line) not in source or kb.source_label(q.file) not in source:
                    problems.append(f"answer_source:{a}: quote {q.text[:30]!r} with its line and document")
    for n, step in enumerate(kb.steps, 1):
        text = show(f"walk:{step.id}").text
        if named(step.title, lang) not in text or f"{n}" not in text.splitlines()[0]:
            problems.append(f"walk:{step.id}: title or position")
        for q in step.quotes:
            if q.text not in text:
                problems.append(f"walk:{step.id}: quote {q.text[:30]!r}")
    fail_list(problems)
