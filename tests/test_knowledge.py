"""Knowledge integrity against the seed documents, and the validator's error messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge import KnowledgeError, load_knowledge
from knowledge.loader import DEFAULT_SOURCES_DIR

from .conftest import SEEDS_DIR

MZL = "000_3ab73ada24f74472.txt"
JS = "002_4f600b157a6b266a.txt"


def seed(name: str) -> str:
    return (DEFAULT_SOURCES_DIR / name).read_text(encoding="utf-8")


@pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason="shared/seeds not beside the checkout")
def test_packaged_sources_are_identical_to_the_shared_seeds():
    for path in SEEDS_DIR.glob("*.txt"):
        assert (DEFAULT_SOURCES_DIR / path.name).read_bytes() == path.read_bytes(), path.name


def test_the_topic_ids_published_in_the_readme_are_the_businesses_of_the_knowledge(kb):
    """Deep links, checklists and the CLI take these ids (README, "Topic ids"); each business is one
    the Manzhouli document names."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    published = re.search(r"Topic ids \(deep links, checklists, CLI\): (.*?)\.\n\n", readme, re.DOTALL)
    assert published is not None
    assert re.findall(r"`(\w+)`", published.group(1)) == list(kb.businesses)
    for business in kb.businesses.values():
        assert business.name in seed(MZL), business.id


def test_every_office_and_phone_of_the_manzhouli_document_is_present(kb):
    text = seed(MZL)
    # every "联系电话：" and the hotline line in the seed is an office's phones_as_written
    written = {o.phones_as_written for o in kb.offices.values()}
    for found in re.findall(r"联系电话：\s*(\S+)", text):
        assert found in written
    assert len(kb.offices) == 7
    for o in kb.offices.values():
        assert o.name in text and o.address in text and o.source == MZL
    # every phone number-like token of the seed is known
    numbers = set(re.findall(r"\b(?:0\d{3}-\d{7}|1\d{10})\b", text))
    dialable = {p for o in kb.offices.values() for p in o.phones}
    assert numbers <= dialable
    center = kb.offices["mzl_center"]
    assert center.phones == ["0470-2299089", "0470-2299090"]
    assert center.address == "满洲里市东五道街75号海关大楼10楼1021室"


def test_annotation_strings_are_verbatim(kb):
    texts = {a.text for a in kb.annotations.values()}
    assert texts == {"同意办理电子口岸制发卡业务", "同意使用本人信息办理电子口岸制发卡业务", "用于处理本人的电子口岸卡及用户信息"}
    for t in texts:
        assert f"“{t}”" in seed(MZL)


def test_every_listed_material_of_the_seed_is_known(kb):
    text = seed(MZL)
    lists = re.findall(r"1\. 申请材料清单\n(.*?)2\. 申请材料要求", text, re.S)
    assert len(lists) == 2  # organisations, card holders
    listed = [
        re.sub(r"^（\d）", "", line.replace("[bookmark: _GoBack]", "")).strip()
        for block in lists
        for line in block.splitlines()
        if line.strip()
    ]
    assert len(listed) == 10
    known = {m.listed_as for m in kb.materials.values()}
    for item in listed:
        assert item in known, item


def test_every_record_has_a_known_source_and_a_date(kb):
    for kind, rec in kb.records():
        assert rec.source in kb.sources, (kind, rec.id)
        assert rec.verified_on is not None
    for rs in kb.rulesets.values():
        for r in rs.rules + rs.checks:
            assert r.source in kb.sources


def test_jiangsu_facts_are_marked_with_their_region(kb):
    for f in kb.facts.values():
        if f.source == JS:
            assert f.region == "jiangsu", f.id
    for rs in kb.rulesets.values():
        for r in rs.rules:
            assert (r.region == "jiangsu") == (r.source == JS), r.text


def test_limits_used_by_code_match_the_quotes(kb):
    assert kb.facts["upload_files"].values == {"formats": ["jpg", "jpeg", "png", "pdf"], "max_file_mb": 3}
    assert kb.facts["refund_deadline"].values["days"] == 7
    assert kb.facts["max_operators"].values["max_operator_cards"] == 10


# -- the validator -------------------------------------------------------------------------
def problems_of(directory) -> list[str]:
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(directory)
    return [str(p) for p in exc.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_a_misquoted_annotation_names_file_line_and_path(knowledge_copy):
    f = knowledge_copy / "annotations.yaml"
    edit(f, "text: 同意办理电子口岸制发卡业务", "text: 同意办理电子口岸制卡业务")
    problems = problems_of(knowledge_copy)
    line = line_of(f, "同意办理电子口岸制卡业务")
    assert (
        f"annotations.yaml:{line}: annotations[0].text: not found verbatim in 000_3ab73ada24f74472.txt: '同意办理电子口岸制卡业务'"
        in problems
    )
    # the checklist label that quotes the annotation no longer agrees with it either
    assert any(p.startswith("materials.yaml:") and "must contain the annotation text" in p for p in problems)


def test_a_wrong_phone_is_caught(knowledge_copy):
    f = knowledge_copy / "offices.yaml"
    edit(f, 'phones: ["0470-6231859"]', 'phones: ["0470-6231858"]')
    (problem,) = problems_of(knowledge_copy)
    assert "offices.yaml:" in problem and "offices[1].phones" in problem and "0470-6231859" in problem


def test_yaml_syntax_error_names_the_line(knowledge_copy):
    f = knowledge_copy / "facts.yaml"
    edit(f, "  - id: usbkey\n", "  - id: usbkey\n   bad: [unclosed\n")
    problems = problems_of(knowledge_copy)
    assert any(p.startswith("facts.yaml:") and "YAML syntax error" in p for p in problems)


def test_a_control_character_is_a_problem_on_its_line(knowledge_copy):
    """A stray control character (pasted from a PDF) is reported like any syntax error, not as a crash."""
    f = knowledge_copy / "facts.yaml"
    edit(f, "  - id: usbkey\n", "  - id: usbkey\x07\n")
    problems = problems_of(knowledge_copy)
    line = line_of(f, "id: usbkey")
    assert f"facts.yaml:{line}: (file): YAML syntax error: character #x0007 is not allowed" in problems


@pytest.mark.parametrize(
    "old,new",
    [
        ("  - id: usbkey\n", "  - id:\tusbkey\n"),  # a tab where a space belongs
        ("    more: [附件2：", "    more: [附件2?："),  # a ? inside a [...] list, unquoted
    ],
    ids=["tab", "question mark in a list"],
)
def test_yaml_that_only_some_parsers_read_is_refused(knowledge_copy, old, new):
    """Spellings PyYAML's own parser refuses and libyaml (its fast parser, where installed) would read are
    refused either way: what the validator accepts does not depend on how PyYAML was built."""
    f = knowledge_copy / "facts.yaml"
    edit(f, old, new)
    line = line_of(f, new.strip().split("\n")[0])
    assert any(p.startswith(f"facts.yaml:{line}: ") and "YAML syntax error" in p for p in problems_of(knowledge_copy))


def test_wrong_type_unknown_key_and_missing_field(knowledge_copy):
    f = knowledge_copy / "offices.yaml"
    edit(f, "kind: ccb_agent", "kind: bank")
    edit(f, "  - id: ccb_chifeng\n", "  - id: ccb_chifeng\n    opening_hours: 9-17\n")
    b = knowledge_copy / "businesses.yaml"
    edit(b, "    audience: org\n", "")
    problems = problems_of(knowledge_copy)
    assert any("offices[1].kind" in p and "offices.yaml:" in p for p in problems)
    assert any("offices[3].opening_hours" in p and "Extra inputs are not permitted" in p for p in problems)
    assert any(p.startswith("businesses.yaml:") and "businesses[0].audience" in p and "required" in p.lower() for p in problems)


def test_unknown_reference_is_caught(knowledge_copy):
    f = knowledge_copy / "businesses.yaml"
    edit(f, "      - material: agent_id\n", "      - material: agent_idd\n")
    problems = problems_of(knowledge_copy)
    assert any("unknown material 'agent_idd'" in p for p in problems)


def test_missing_file_and_missing_source(knowledge_copy):
    (knowledge_copy / "facts.yaml").unlink()
    problems = problems_of(knowledge_copy)
    assert any(p.startswith("facts.yaml: (file): required knowledge file is missing") for p in problems)


def test_unknown_source_file(knowledge_copy):
    f = knowledge_copy / "annotations.yaml"
    edit(f, "source: 000_3ab73ada24f74472.txt", "source: 999_unknown.txt")
    problems = problems_of(knowledge_copy)
    assert any("unknown source '999_unknown.txt'" in p for p in problems)


def test_check_knowledge_command(eport_guide, knowledge_copy):
    cli = eport_guide
    ok = cli("check-knowledge")
    assert ok.returncode == 0 and "is valid" in ok.stdout
    edit(knowledge_copy / "offices.yaml", "address: 赤峰市红山区钢铁西街", "address: 赤峰市红山区钢铁东街")
    bad = cli("check-knowledge", str(knowledge_copy))
    assert bad.returncode == 1
    assert "offices.yaml:" in bad.stderr and "offices[3].address" in bad.stderr and "not found verbatim" in bad.stderr
    via_env = cli("check-knowledge", env={"EPORT_GUIDE_KNOWLEDGE": str(knowledge_copy)})
    assert via_env.returncode == 1 and "钢铁东街" in via_env.stderr
    # every other command refuses to serve broken knowledge, with a pointer
    show = cli("show", "reissue_lost", env={"EPORT_GUIDE_KNOWLEDGE": str(knowledge_copy)})
    assert show.returncode == 1 and "check-knowledge" in show.stderr
