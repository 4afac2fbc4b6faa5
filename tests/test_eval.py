"""The free-text answerer on tests/eval/questions.yaml: ≥95 % overall, ≥90 % in every group."""

from __future__ import annotations

import re

import pytest

from dialogs.features import all_routes

from tests.eval.__main__ import GROUP_TARGET, OVERALL_TARGET, accuracy, evaluate, load_questions, report


@pytest.fixture(scope="module")
def outcomes(engine):
    return evaluate(engine)


def test_the_evaluation_set_is_large_varied_and_multilingual():
    groups = load_questions()
    questions = [q for items in groups.values() for q, _ in items]
    assert len(questions) >= 250
    assert len(set(questions)) == len(questions)
    foreign = [q for q in questions if not re.search(r"[\u4e00-\u9fff]", q)]
    assert len(foreign) >= 0.2 * len(questions)
    assert {"business", "rules", "holder", "online", "silent", "places", "typos", "word_order", "russian", "english",
            "unsure"} <= set(groups)


def test_no_evaluation_question_is_a_question_form_of_the_knowledge(kb):
    forms = {f.strip().lower() for a in kb.answers.values() for lang in ("zh", "ru", "en")
             for f in getattr(a.questions, lang)}
    forms |= {t.strip().lower() for v in kb.vocabulary for t in v.terms}
    # (a bare category word such as 补办 is asked on purpose: it must get suggestions)
    copied = [q for items in load_questions().values() for q, r in items if r != "suggest" and q.strip().lower() in forms]
    assert not copied


def test_every_expected_route_exists(engine):
    routes = set(all_routes(engine)) | {"suggest"}
    for items in load_questions().values():
        for q, expected in items:
            for r in expected.split("|"):
                assert r in routes, (q, r)


def test_accuracy_meets_the_targets(outcomes):
    overall, per_group = accuracy(outcomes)
    assert overall >= OVERALL_TARGET and min(per_group.values()) >= GROUP_TARGET, report(outcomes)
