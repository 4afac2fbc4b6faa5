"""Facts an applicant can ask about (knowledge/data/answers.yaml): the validator, the answer screen."""

from __future__ import annotations

import re

import pytest
import yaml

from dialogs.engine import Context, parse_callback
from knowledge import KnowledgeError, load_knowledge
from knowledge.loader import DEFAULT_SOURCES_DIR

LANGS = ["zh", "ru", "en"]
JIANGSU_LABEL = {
    "zh": "仅适用于江苏省省内企业（江苏省指南）",
    "ru": "Только для предприятий провинции Цзянсу",
    "en": "Applies only to enterprises in Jiangsu Province",
}


def source_lines(name: str) -> list[str]:
    return (DEFAULT_SOURCES_DIR / name).read_text(encoding="utf-8").splitlines()


def edit_answer(directory, answer_id, change):
    path = directory / "answers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    record = next(a for a in data["answers"] if a["id"] == answer_id)
    change(record)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems(directory) -> str:
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(directory)
    return str(exc.value)


# -- the knowledge -------------------------------------------------------------------------
def test_every_rule_clause_of_both_documents_is_an_answer(kb):
    """Each requirement line of the two documents is quoted by at least one answer."""
    quoted = {(q.file, q.line) for a in kb.answers.values() for q in a.quotes}
    mzl = "000_3ab73ada24f74472.txt"
    js = "002_4f600b157a6b266a.txt"
    clauses = {
        mzl: [
            4,
            6,
            12,
            13,
            14,
            16,
            18,
            19,
            20,
            21,
            23,
            43,
            45,
            46,
            47,
            48,
            49,
            50,
            53,
            55,
            56,
            58,
            59,
            60,
            61,
            65,
            66,
            68,
            69,
            94,
            95,
        ],
        js: [6, 7, 8, 10, 12, 13, 14, 16, 17, 20, 22, 25, 33, 35, 37, 38, 39, 41, 42, 44, 45],
    }
    for file, lines in clauses.items():
        missing = [n for n in lines if (file, n) not in quoted]
        assert not missing, (file, missing, [source_lines(file)[n - 1] for n in missing])


def test_quotes_are_verbatim_on_the_line_they_cite(kb):
    for a in kb.answers.values():
        for q in a.quotes:
            line = re.sub(r"\s+", " ", source_lines(q.file)[q.line - 1])
            assert re.sub(r"\s+", " ", q.text) in line, (a.id, q.line)
            assert kb.sources[q.file].region == a.region, a.id


def test_silent_answers_say_so_and_give_the_hotline(kb):
    silent = [a for a in kb.answers.values() if a.silent]
    assert {
        "silent_processing_time",
        "silent_hours",
        "silent_fees",
        "silent_forms_where",
        "silent_mail_mzl",
        "silent_old_new_rep",
    } <= {a.id for a in silent}
    hotline = kb.offices[kb.facts["hotline"].office].phones[0]
    for a in silent:
        assert not a.quotes
        for lang in LANGS:
            assert hotline in getattr(a.plain, lang), (a.id, lang)


def test_plain_answers_quote_annotations_character_for_character(kb):
    annotations = [x.text for x in kb.annotations.values()]
    used = {t for a in kb.answers.values() for lang in LANGS for t in annotations if t in getattr(a.plain, lang)}
    assert used == set(annotations)  # every annotation is answered, verbatim, in some plain line
    for a in kb.answers.values():
        for lang in LANGS:
            plain = getattr(a.plain, lang)
            assert "\n" not in plain.strip()


def test_synonyms_cover_what_applicants_call_things(kb):
    groups = {g.id: {w.lower() for w in g.words} for g in kb.synonyms}
    assert {"企业", "单位", "公司"} <= groups["company"]
    assert {"法定代表人", "法人", "法人代表"} <= groups["legal_rep"]
    assert {"营业执照", "执照", "市场主体资格证明材料"} <= groups["licence"]
    assert {"身份证", "身份证明材料"} <= groups["id_doc"]
    assert {"usbkey", "ukey", "卡介质"} <= groups["key"]
    assert "离职" in groups["leave"] and "搬家" in groups["move"]


# -- the validator ---------------------------------------------------------------------------
def test_a_quote_on_the_wrong_line_is_refused(knowledge_copy):
    edit_answer(knowledge_copy, "seal_official_only", lambda r: r["quotes"][0].update(line=46))
    text = problems(knowledge_copy)
    assert "answers.yaml:" in text and "not on line 46" in text and "it is on line 47" in text


def test_an_invented_quote_is_refused(knowledge_copy):
    edit_answer(knowledge_copy, "seal_official_only", lambda r: r["quotes"][0].update(text="可以加盖财务章"))
    assert "not found verbatim" in problems(knowledge_copy)


def test_a_silent_answer_without_the_hotline_is_refused(knowledge_copy):
    edit_answer(knowledge_copy, "silent_hours", lambda r: r["plain"].update(en="The documents give no opening hours."))
    assert "must give the hotline 0470-2299089" in problems(knowledge_copy)


def test_a_silent_answer_with_a_quote_is_refused(knowledge_copy):
    quote = {"file": "000_3ab73ada24f74472.txt", "line": 66, "text": "满洲里制卡中心客服热线：0470-2299089、2299090"}
    edit_answer(knowledge_copy, "silent_hours", lambda r: r.update(quotes=[quote]))
    assert "a silent fact cites no quote" in problems(knowledge_copy)


def test_a_rule_without_a_quote_is_refused(knowledge_copy):
    edit_answer(knowledge_copy, "copies", lambda r: r.update(quotes=[]))
    assert "needs at least one verbatim quote" in problems(knowledge_copy)


def test_an_altered_annotation_in_a_plain_answer_is_refused(knowledge_copy):
    edit_answer(
        knowledge_copy, "org_annotation", lambda r: r["plain"].update(ru="Напишите на копии «同意办理电子口岸业务» и подпишите.")
    )
    text = problems(knowledge_copy)
    assert "同意办理电子口岸制发卡业务" in text and "not character for character" in text


def test_an_unlabelled_jiangsu_quote_is_refused(knowledge_copy):
    edit_answer(knowledge_copy, "max_operators", lambda r: r.update(region="manzhouli"))
    assert "quote is from the jiangsu document" in problems(knowledge_copy)


def test_unknown_business_and_screen_are_refused(knowledge_copy):
    edit_answer(knowledge_copy, "copies", lambda r: r.update(businesses=["no_such"], see="topic:no_such"))
    text = problems(knowledge_copy)
    assert "unknown business 'no_such'" in text and "unknown screen 'topic:no_such'" in text


# -- the answer screen -------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_every_answer_renders_short_in_every_language(engine, kb, lang):
    ctx = Context(lang=lang)
    for aid, a in kb.answers.items():
        screen = engine.render(f"answer:{aid}", ctx)
        assert getattr(a.plain, lang) in screen.text
        # on a ru/en answer an annotation also gets its Chinese-to-copy and meaning (a blank, ✍️ and a line):
        # those lines do not count against the answer's own shortness
        lines = screen.text.splitlines()
        glossed = {j for i, line in enumerate(lines) if lang != "zh" and line.startswith("✍️") for j in (i - 1, i, i + 1)}
        own = [line for i, line in enumerate(lines) if i not in glossed]
        assert len(own) <= 8 and len("\n".join(own)) <= 600, (aid, lang)
        assert ("0470-2299089") in screen.text
        if a.region == "jiangsu":
            assert JIANGSU_LABEL[lang] in screen.text, (aid, lang)
        labels = [b.label for b in screen.all_buttons()]
        assert any(b.copy_text == "0470-2299089" for b in screen.all_buttons())
        source = next((b for b in screen.all_buttons() if b.label.startswith("📖")), None)
        assert (source is None) == a.silent, aid
        if source:
            quote_screen = engine.render(parse_callback(source.data)[1], ctx)
            for q in a.quotes:
                assert q.text in quote_screen.text and q.file in quote_screen.text
        assert all(lab.strip() for lab in labels)


def test_an_answer_leads_to_its_full_business(engine):
    screen = engine.ask(Context(), "变更法人交新法人的身份证还是老法人的")
    assert screen.route == "answer:silent_old_new_rep"
    assert "文件未说明" not in screen.text or "0470-2299089" in screen.text
    routes = [parse_callback(b.data)[1] for b in screen.all_buttons() if b.data]
    assert "topic:change_legal_rep" in routes and "offices" in routes


def test_the_source_screen_gives_file_and_line(engine):
    screen = engine.render("answer_source:holder_annotation", Context(lang="en"))
    assert "用于处理本人的电子口岸卡及用户信息" in screen.text
    assert "line 60" in screen.text and "000_3ab73ada24f74472.txt" in screen.text


def test_forged_answer_routes_give_the_fresh_menu(engine):
    from dialogs.engine import callback_data

    for route in ("answer:nope", "answer_source:silent_hours", "answer_source:../../etc"):
        screen = engine.handle(Context(), callback_data("go", route))
        assert screen.stale and screen.route == "main"


def test_the_matcher_libraries_are_not_loaded_at_start_up():
    """Start-up stays fast: the engine builds the matcher on first use (or in the background).

    (rapidfuzz is loaded: the knowledge validator uses it to catch altered annotations.)"""
    import subprocess
    import sys

    code = (
        "import sys; from knowledge import load_knowledge; from dialogs.engine import Engine, Context; "
        "from dialogs.guide import build_guide; e = build_guide(kb=load_knowledge(), store=False).engine; "
        "e.render('main', Context()); "
        "print(sorted(m for m in ('numpy', 'rank_bm25', 'Stemmer', 'ahocorasick') if m in sys.modules)); "
        "e.ask(Context(), '卡丢了怎么办'); print('rank_bm25' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True"


# -- in Telegram ----------------------------------------------------------------------------------
async def test_a_single_fact_question_in_telegram(fake, bot_app):
    user = fake.user(language_code="en")
    reply = await user.send("can we stamp the licence copy with the finance seal")
    assert "official company seal (公章)" in reply.plain and "0470-2299089" in reply.plain
    assert len(reply.plain.splitlines()) <= 6
    await user.click(reply, "📖 Original text")
    assert "不得加盖合同章、财务章或其他业务专用章" in reply.plain and "line 47" in reply.plain
    await user.click(reply, "⬅️ Back")
    await user.click(reply, next(label for label in reply.labels if label.startswith("➡️ 市场主体资格证明材料")))
    assert "同意办理电子口岸制发卡业务" in reply.plain


async def test_a_silent_question_in_telegram_gets_the_hotline_not_a_shrug(fake, bot_app):
    reply = await fake.user().send("办卡要几天能拿到")
    assert "文件未说明" in reply.plain and "0470-2299089" in reply.plain
    assert "没有找到" not in reply.plain and "📖 原文" not in reply.labels


@pytest.mark.parametrize("lang,label", [("zh", "仅适用于江苏省"), ("ru", "только для Цзянсу"), ("en", "Jiangsu only")])
def test_a_jiangsu_fact_offered_as_a_suggestion_is_labelled(plain_guide, kb, lang, label):
    from dialogs.features.answers import route_label

    for aid, a in kb.answers.items():
        assert (label in route_label(plain_guide, f"answer:{aid}", Context(lang=lang))) == (a.region == "jiangsu"), aid
