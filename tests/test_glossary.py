"""One glossary (knowledge/data/glossary.yaml): every official term is said one way in Russian
and in English — in the message catalogues, in the knowledge and on every rendered screen —
and the Chinese an applicant meets at the counter stays beside it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

from dialogs import i18n
from dialogs.engine import Context
from dialogs.features import all_routes
from dialogs.guide import build_guide
from knowledge import KnowledgeError, load_knowledge

LANGS = ("ru", "en")
DATA = Path(__file__).resolve().parent.parent / "knowledge" / "data"
# matcher input (how people ask, not what the guide says) and the glossary itself
NOT_SHOWN_FILES = {"vocabulary.yaml", "glossary.yaml"}


def catalogue_texts(lang: str) -> list[tuple[str, str]]:
    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return [(f"messages.po {m.id}", m.string) for m in read_po(fh, locale=lang) if m.id and m.string]


def knowledge_texts(lang: str, data_dir: Path = DATA) -> list[tuple[str, str]]:
    """Every ru/en string of the knowledge a user can see (titles, plain lines, notes), not the
    `questions:` lists (they are how people ask, for the matcher)."""
    out: list[tuple[str, str]] = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "questions":
                    continue
                if k == lang and isinstance(v, str):
                    out.append((where, v))
                walk(v, f"{where}.{k}" if not isinstance(k, int) else where)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{v.get('id', i) if isinstance(v, dict) else i}]")

    for path in sorted(data_dir.glob("*.yaml")):
        if path.name not in NOT_SHOWN_FILES:
            walk(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    return out


@pytest.fixture(scope="module")
def screens(tmp_path_factory, kb):
    """Every screen the guide can show, rendered in Russian and English: text and button labels."""
    g = build_guide(tmp_path_factory.mktemp("glossary") / "g.db", kb=kb)
    out: dict[str, list[tuple[str, str]]] = {}
    for lang in LANGS:
        ctx = Context(user_id=1, lang=lang)
        rendered = []
        for route in all_routes(g.engine):
            screen = g.engine.render(route, ctx)
            rendered.append((route, screen.text))
            rendered += [(f"{route} button", b.label) for b in screen.all_buttons()]
        out[lang] = rendered
    g.close()
    return out


def rejected_variants(kb, lang: str, texts: list[tuple[str, str]]) -> list[str]:
    found = []
    for term in kb.glossary.values():
        for pattern in getattr(term.avoid, lang):
            for where, text in texts:
                if m := re.search(pattern, text, re.I):
                    found.append(f"{term.id}: {m.group(0)!r} in {where}")
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_no_variant_the_glossary_rejects_in_the_catalogues(kb, lang):
    assert rejected_variants(kb, lang, catalogue_texts(lang)) == []


@pytest.mark.parametrize("lang", LANGS)
def test_no_variant_the_glossary_rejects_in_the_knowledge(kb, lang):
    texts = knowledge_texts(lang)
    assert len(texts) > 150  # titles, plain lines and notes were all read
    assert rejected_variants(kb, lang, texts) == []


@pytest.mark.parametrize("lang", LANGS)
def test_no_variant_the_glossary_rejects_on_any_screen(kb, screens, lang):
    assert rejected_variants(kb, lang, screens[lang]) == []


@pytest.mark.parametrize("lang", LANGS)
def test_the_glossary_would_catch_the_variants_it_was_written_for(kb, lang):
    """The rejected variants the translation review found, as they were written."""
    old = {
        "ru": [
            "печать переводчика 翻译专用章",
            "документ о правосубъектности",
            "печать организации 公章",
            "Удостоверение личности — паспорт гражданина КНР",
            "вид на жительство иностранца",
            "сама карта электронного порта",
            "заявление на обработку персональных данных",
            "Новое предприятие: при первом оформлении",
            "получение в окне — указать окно",
            "Согласен на оформление карты электронного порта",
            "сведения о юрлице, операторах и исполнителе",
            "документ исполнителя, кто подаёт (经办人)",
            "подаются в копиях",
        ],
        "en": [
            "USBKey and the shared shield (共享盾)",
            "a 共享盾 (shared key)",
            "proof of legal status",
            "company seal 公章",
            "a newly registered company",
            "the E-Port card itself",
            "the personal information processing form",
            "counter pickup — name the counter",
            "Choose the business:",
            "Take these materials to:",
            "card holder's ID",
        ],
    }[lang]
    caught = {text for text in old if rejected_variants(kb, lang, [("old", text)])}
    assert caught == set(old)


@pytest.mark.parametrize("lang", LANGS)
def test_terms_applicants_meet_at_the_counter_keep_their_chinese(kb, lang):
    """A knowledge line that says "official company seal" also says 公章, and so on."""
    missing = []
    for term in kb.glossary.values():
        for pattern in getattr(term.with_chinese, lang):
            for where, text in knowledge_texts(lang):
                if re.search(pattern, text, re.I) and term.zh not in text:
                    missing.append(f"{term.id} without {term.zh} in {where}: {text}")
    assert missing == []


def test_every_glossary_term_says_what_it_is_in_both_languages(kb):
    assert {"official_seal", "translation_seal", "registration_document", "handling_agent", "shared_dun"} <= set(kb.glossary)
    for term in kb.glossary.values():
        assert term.zh and term.ru and term.en and term.note.ru and term.note.en


@pytest.fixture
def glossary_copy(tmp_path):
    shutil.copytree(DATA, tmp_path / "data")
    shutil.copytree(DATA.parent / "sources", tmp_path / "sources")
    return tmp_path / "data" / "glossary.yaml"


def test_a_glossary_term_not_in_the_documents_is_refused(glossary_copy):
    text = glossary_copy.read_text(encoding="utf-8")
    glossary_copy.write_text(text.replace("zh: 翻译专用章", "zh: 翻译专用印章"), encoding="utf-8")
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(glossary_copy.parent)
    assert any("not found verbatim" in str(p) and "翻译专用印章" in str(p) for p in exc.value.problems)


def test_a_glossary_rendering_that_is_its_own_rejected_variant_is_refused(glossary_copy):
    text = glossary_copy.read_text(encoding="utf-8")
    glossary_copy.write_text(
        text.replace("en: 'special translation seal (翻译专用章)'", "en: 'translator''s seal (翻译专用章)'"), encoding="utf-8"
    )
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(glossary_copy.parent)
    assert any("matches its own avoided variant" in str(p) for p in exc.value.problems)


@pytest.mark.parametrize("lang", LANGS)
def test_no_variant_the_glossary_rejects_on_any_picture(kb, lang):
    """The pictures of prepared copies draw translated labels and carry a caption: the same terms."""
    from dialogs.pictures import copy_materials, picture

    texts = []
    for material in copy_materials(kb):
        drawn = picture(kb, material, lang)
        texts.append((f"picture {material} caption", drawn.caption))
        texts += [(f"picture {material} {item.role}", item.text) for item in drawn.items if hasattr(item, "text")]
    assert len(texts) > 20
    assert rejected_variants(kb, lang, texts) == []
