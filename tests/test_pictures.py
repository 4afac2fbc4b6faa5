"""The prepared copies' example pictures (dialogs/pictures): drawn from the knowledge, the same
description as SVG and PNG, in every language; where they appear (a material's screen, 🖼 看示例,
Telegram's photo, the web page, `eport-guide picture`).

Reference PNGs (tests/pictures/*.png, reduced to REFERENCE_WIDTH, greyscale) are compared by a
perceptual tolerance; after an intended change to the drawing: `python -m tests.test_pictures`.
"""

from __future__ import annotations

import io
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dialogs import i18n
from dialogs.engine import Context
from dialogs.pictures import copy_materials, picture, refused_seals, required_rule, svgs_in_one_page
from dialogs.pictures.describe import ALL_REQUIRED, FONT_FILE, NOTE
from knowledge import load_knowledge
from knowledge.loader import DEFAULT_DATA_DIR

SVG = "{http://www.w3.org/2000/svg}"
REFERENCES = Path(__file__).resolve().parent / "pictures"
# a few meaningful references: the licence copy with its seal (zh), a company ID copy (ru), the holder's own (en)
REFERENCE_CASES = [("org_cert", "zh"), ("legal_rep_id", "ru"), ("self_id", "en")]
REFERENCE_WIDTH = 500
TILE = 20  # px of the reduced image


def checks_of(kb, material: str) -> dict:
    return {c.id: c for rs in kb.materials[material].rulesets for c in kb.rulesets[rs].checks}


def svg_tree(kb, material: str, lang: str) -> ET.Element:
    return ET.fromstring(picture(kb, material, lang).svg())


def texts(root: ET.Element, role: str) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if role in (t.get("class") or "").split()]


def groups(root: ET.Element, role: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == role]


def all_text(root: ET.Element) -> str:
    return "\n".join(t.text or "" for t in root.iter(f"{SVG}text"))


CASES = [(m, lang) for m in copy_materials(load_knowledge(DEFAULT_DATA_DIR)) for lang in i18n.LANGUAGES]


def test_every_prepared_copy_has_a_picture(kb):
    copies = {m.id for m in kb.materials.values() if m.form == "copy"}
    assert set(copy_materials(kb)) == copies
    assert {"org_cert", "legal_rep_id", "holder_id", "agent_id", "self_id"} <= copies


@pytest.mark.parametrize("material,lang", CASES)
def test_the_annotation_is_the_verified_string_character_for_character(kb, material, lang):
    root = svg_tree(kb, material, lang)
    checks = checks_of(kb, material)
    verified = kb.annotations[next(c.annotation for c in checks.values() if c.annotation)].text
    assert texts(root, "annotation") == [verified]  # written once on the copy, in Chinese, whatever the language
    label = "".join(texts(root, "annotation-label"))
    assert label == checks["annotation"].label and verified in label


@pytest.mark.parametrize("material,lang", CASES)
def test_signer_and_date_labels_are_the_documents_and_in_the_users_language(kb, material, lang):
    root = svg_tree(kb, material, lang)
    checks = checks_of(kb, material)
    assert "".join(texts(root, "signature-label")) == checks["signature"].label
    assert "".join(texts(root, "date-label")) == checks["date"].label
    assert groups(root, "signature") and texts(root, "date")  # drawn on the copy
    if lang != "zh":  # the label's meaning beside it, from the knowledge's plain line
        assert " ".join(texts(root, "signature-label-tr")) == getattr(checks["signature"].plain, lang)
        assert " ".join(texts(root, "date-label-tr")) == getattr(checks["date"].plain, lang)
    assert i18n.translations(lang).gettext(NOTE) in texts(root, "note")  # an illustration: no position is a rule


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_holders_own_copy_has_no_company_seal_and_the_company_copies_have_one(kb, lang):
    for material in copy_materials(kb):
        root = svg_tree(kb, material, lang)
        rule = "".join(texts(root, "rule"))
        if "seal" in checks_of(kb, material):
            assert len(groups(root, "seal")) == 1
            assert texts(root, "refused") == ["合同章", "财务章", "其他业务专用章"]
            assert len(groups(root, "refused-seal")) == 3
            assert rule == "公章和三处签注缺一不可"
        else:
            assert material == "self_id"
            assert groups(root, "seal") == [] and groups(root, "refused-seal") == [] and texts(root, "refused") == []
            assert "公章" not in all_text(root)
            assert rule == "三处签注缺一不可"
        if lang != "zh":
            assert i18n.translations(lang).gettext(ALL_REQUIRED) in texts(root, "rule-tr")


def test_refusals_and_rules_come_from_the_manzhouli_document_not_the_jiangsu_guide(kb):
    assert refused_seals(kb, "org_cert") == ["合同章", "财务章", "其他业务专用章"]
    # the ID copies' own rule says only 加盖申请单位公章; the licence copy's "下同" carries the refusal over
    assert refused_seals(kb, "holder_id") == refused_seals(kb, "org_cert")
    assert required_rule(kb, "agent_id") == "公章和三处签注缺一不可" and required_rule(kb, "self_id") == "三处签注缺一不可"
    for material, lang in CASES:
        text = all_text(svg_tree(kb, material, lang))
        for jiangsu_only in ("印泥", "公章不得复印", "由其本人", "三项内容缺一不可"):
            assert jiangsu_only not in text


def test_the_picture_follows_the_knowledge_and_is_cached_per_knowledge(tmp_path):
    """Nothing on a picture is typed in code: a knowledge whose documents word the holder's annotation
    differently draws that wording (knowledge and source edited together, as the validator demands)."""
    import shutil

    old, new = "用于处理本人的电子口岸卡及用户信息", "用于处理本人的电子口岸卡和用户信息"
    shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "data")
    shutil.copytree(DEFAULT_DATA_DIR.parent / "sources", tmp_path / "sources")
    for path in [*(tmp_path / "data").glob("*.yaml"), *(tmp_path / "sources").glob("*.txt")]:
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    edited = load_knowledge(tmp_path / "data")
    assert texts(ET.fromstring(picture(edited, "self_id", "ru").svg()), "annotation") == [new]
    kb = load_knowledge(DEFAULT_DATA_DIR)
    first = picture(kb, "self_id", "zh")
    assert texts(ET.fromstring(first.svg()), "annotation") == [old]
    assert picture(load_knowledge(DEFAULT_DATA_DIR), "self_id", "zh") is not first  # a reload draws anew
    assert picture(kb, "self_id", "zh") is first  # cached per knowledge, material and language
    assert first.png() is first.png() and first.svg() is first.svg()


def test_the_svg_has_no_inline_style_and_its_text_is_text(kb):
    """The web pages' Content-Security-Policy allows no inline style: presentation attributes only."""
    for material, lang in CASES:
        svg = picture(kb, material, lang).svg()
        assert "style" not in svg and "<script" not in svg and "<image" not in svg
        assert ET.fromstring(svg).find(f"{SVG}title").text == picture(kb, material, lang).title


def drawn_shapes(root: ET.Element, defined: dict[str, ET.Element], dx: float = 0, dy: float = 0) -> list[tuple]:
    """What a picture shows: every text, shape and stroke (tag, place, size, colour, class, text), with the
    elements a ``<use>`` draws from elsewhere on the page moved where the use puts them."""
    out = []
    for el in root:
        tag = el.tag.removeprefix(SVG)
        if tag == "use":
            ref = defined[el.get("href").removeprefix("#")]
            out += drawn_shapes(_wrapped(ref), defined, dx + float(el.get("x", 0)), dy + float(el.get("y", 0)))
            continue
        if tag == "g":
            out += [("g", el.get("class"))] + drawn_shapes(el, defined, dx, dy)
            continue
        if tag == "title":
            continue
        place = {}
        for name, shift in (("x", dx), ("y", dy), ("cx", dx), ("cy", dy)):
            if el.get(name) is not None:
                place[name] = float(el.get(name)) + shift
        if el.get("points"):
            place["points"] = tuple((float(x) + dx, float(y) + dy) for x, y in (p.split(",") for p in el.get("points").split()))
        attrs = tuple(sorted((k, v) for k, v in el.attrib.items() if k not in ("x", "y", "cx", "cy", "points", "id")))
        out.append((tag, tuple(sorted(place.items())), attrs, el.text))
    return out


def _wrapped(el: ET.Element) -> ET.Element:
    box = ET.Element("box")
    box.append(el)
    return box


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_pictures_on_one_page_draw_their_shared_parts_once_and_show_the_same(kb, lang):
    """The printout's pictures draw what they share (headings, markers, seals, the copied document) once and
    use it elsewhere: each shows exactly what it shows alone (every text character for character, in place),
    and the page is far smaller than the pictures one by one."""
    for business in kb.businesses.values():
        materials = [r.material for r in business.materials if r.material in copy_materials(kb)]
        if len(materials) < 2:
            continue
        pictures = [picture(kb, m, lang) for m in materials]
        page = svgs_in_one_page(pictures, prefix="pc")
        roots = [ET.fromstring(s) for s in page]
        defined = {el.get("id"): el for root in roots for el in root.iter() if el.get("id")}
        for alone, root in zip(pictures, roots):
            shown, expected = drawn_shapes(root, defined), drawn_shapes(ET.fromstring(alone.svg()), {})
            assert len(shown) == len(expected), (business.id, alone.material)
            for got, want in zip(shown, expected):
                if got[0] != "g":  # in place: within a rounding (0.1 unit; a stroke's points are whole units)
                    gplace, wplace = dict(got[1]), dict(want[1])
                    assert gplace.keys() == wplace.keys(), got
                    for name, value in gplace.items():
                        pairs = zip(sum(value, ()), sum(wplace[name], ())) if name == "points" else [(value, wplace[name])]
                        assert all(abs(a - b) <= (1 if name == "points" else 0.2) for a, b in pairs), (got, want)
                    got, want = got[:1] + got[2:], want[:1] + want[2:]
                assert got == want, (business.id, alone.material)
        assert "<use" in "".join(page[1:])
        assert sum(map(len, page)) < 0.6 * sum(len(p.svg()) for p in pictures), business.id
        # each annotation is text to select and copy where it first appears
        assert texts(roots[0], "annotation") == texts(ET.fromstring(pictures[0].svg()), "annotation")


def test_the_bundled_font_has_every_character_of_every_picture():
    """PNG without system fonts: the subset in the package covers every picture in every language (and
    Latin and Cyrillic whole, for translated labels). A miss: run tools/make_font_subset.py."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(FONT_FILE).getBestCmap()
    kb = load_knowledge(DEFAULT_DATA_DIR)
    used = set()
    for material, lang in CASES:
        drawn = picture(kb, material, lang)
        used |= set(all_text(ET.fromstring(drawn.svg()))) | set(drawn.title)
    used |= {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0x410, 0x450)} | set("ёЁ«»“”№")
    missing = sorted(c for c in used if c.strip() and ord(c) not in cmap)
    assert not missing, f"not in {FONT_FILE.name}: {''.join(missing)}"
    assert (FONT_FILE.parent / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE Version 1.1") == 1
    assert FONT_FILE.stat().st_size < 400_000  # a subset, not the 19 MB collection


# -- PNG: the same description, compared with references by a perceptual tolerance ---------------
def reduced(data: bytes):
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("L")
    height = round(image.height * REFERENCE_WIDTH / image.width)
    return image.resize((REFERENCE_WIDTH, height), Image.LANCZOS)


def difference(a, b) -> tuple[float, float]:
    """(mean absolute difference, the worst TILE×TILE tile's mean difference), in grey levels."""
    from PIL import ImageChops, ImageStat

    diff = ImageChops.difference(a, b)
    worst = 0.0
    for y in range(0, diff.height, TILE):
        for x in range(0, diff.width, TILE):
            worst = max(worst, ImageStat.Stat(diff.crop((x, y, x + TILE, y + TILE))).mean[0])
    return ImageStat.Stat(diff).mean[0], worst


@pytest.mark.parametrize("material,lang", REFERENCE_CASES)
def test_png_looks_like_its_reference(kb, material, lang):
    fresh = reduced(picture(kb, material, lang).png())
    from PIL import Image

    reference = Image.open(REFERENCES / f"{material}-{lang}.png").convert("L")
    assert fresh.size == reference.size, "the layout changed: python -m tests.test_pictures, then look at the PNGs"
    mean, worst = difference(fresh, reference)
    assert mean < 1.5 and worst < 12, (mean, worst)


def test_the_tolerance_sees_a_missing_seal(kb):
    """The comparison is not blind: the licence copy without its seal is not its reference."""
    from dataclasses import replace

    from PIL import Image

    drawn = picture(kb, "org_cert", "zh")
    without = replace(drawn, items=tuple(i for i in drawn.items if getattr(i, "role", "") != "seal"))
    reference = Image.open(REFERENCES / "org_cert-zh.png").convert("L")
    assert difference(reduced(without.png()), reference)[1] >= 12


@pytest.mark.parametrize("material,lang", CASES)
def test_png_renders_in_every_language(kb, material, lang):
    from PIL import Image

    drawn = picture(kb, material, lang)
    image = Image.open(io.BytesIO(drawn.png()))
    assert image.format == "PNG" and image.width == round(drawn.width * 1.5) and image.height == round(drawn.height * 1.5)


# -- where the pictures appear ---------------------------------------------------------------------
def test_a_copys_screen_carries_its_picture_and_other_materials_none(engine, kb):
    for lang in i18n.LANGUAGES:
        ctx = Context(lang=lang)
        for material in kb.materials:
            photo = engine.render(f"material:{material}", ctx).photo
            if material in copy_materials(kb):
                assert photo is not None and photo.material == material and photo.lang == lang
                verified = kb.annotations[next(c.annotation for c in checks_of(kb, material).values() if c.annotation)].text
                assert verified in photo.caption and i18n.translations(lang).gettext(NOTE) in photo.caption
            else:
                assert photo is None


def test_every_business_with_copies_has_see_an_example_and_it_lists_its_copies(engine, kb):
    from dialogs.features.pictures import copies_of

    for topic in kb.businesses:
        screen = engine.render(f"topic:{topic}", Context())
        button = [b for b in screen.all_buttons() if b.label == "🖼 看示例"]
        assert bool(button) == bool(copies_of(kb, topic))
        examples = engine.handle(Context(), button[0].data)
        assert examples.route == f"pictures:{topic}"
        targets = [b.data.split("|")[2] for b in examples.all_buttons() if b.label.startswith("🖼")]
        assert targets == [f"material:{m}" for m in copies_of(kb, topic)]
        # one copy (the holder's own ID): its picture right here
        assert (examples.photo is not None) == (len(targets) == 1)
    holder = engine.render("pictures:holder_cancel", Context(lang="en"))
    assert holder.photo.material == "self_id" and "用于处理本人的电子口岸卡及用户信息" in holder.text


async def test_telegram_sends_the_picture_as_a_photo_and_reuses_its_file_id(fake, bot_app, kb):
    from bot import photos

    photos.file_ids.clear()
    user = fake.user()
    answer = await user.send("/start reissue_lost")
    await user.click(answer, "⋯ 更多")
    await user.click(answer, "🔎 市场主体资格证明材料")
    photo = user.last
    assert photo.document and photo.document.get("photo") and photo.document["data"][:8] == b"\x89PNG\r\n\x1a\n"
    assert "同意办理电子口岸制发卡业务" in photo.text and "示意图：位置仅为示意" in photo.text
    assert "公章和三处签注缺一不可" in answer.plain  # the screen itself stays the text, edited in place
    first = fake.calls("sendPhoto")[-1]
    assert isinstance(first["photo"], dict)  # uploaded once
    other = fake.user(id=2)
    first_screen = await other.send("/start reissue_lost")
    await other.click(first_screen, "⋯ 更多")
    await other.click(first_screen, "🔎 市场主体资格证明材料")
    again = fake.calls("sendPhoto")[-1]
    assert again["photo"] == photo.document["file_id"]  # then Telegram's file_id, no second upload
    assert other.last.document["file_id"] == photo.document["file_id"]


async def test_a_file_id_telegram_no_longer_knows_is_replaced_by_a_fresh_upload(fake, bot_app, kb):
    from bot import photos

    photos.file_ids.clear()
    key = picture(kb, "self_id", "zh").key
    photos.file_ids[key] = "gone-after-a-token-change"
    user = fake.user()
    await user.click(await user.send("/start holder_cancel"), "🖼 看示例")
    calls = fake.calls("sendPhoto")
    assert calls[-2]["photo"] == "gone-after-a-token-change" and isinstance(calls[-1]["photo"], dict)
    assert user.last.document.get("photo") and photos.file_ids[key] == user.last.document["file_id"]


async def test_a_refused_photo_leaves_the_screen_and_the_bot_running(fake, bot_app):
    from bot import photos

    photos.file_ids.clear()
    user = fake.user()
    answer = await user.send("/start holder_cancel")
    fake.fail_next("sendPhoto", 400)
    await user.click(answer, "🖼 看示例")
    assert "用于处理本人的电子口岸卡及用户信息" in answer.plain and not fake.chats[user.id][-1].document
    assert "请选择要办理的业务" in (await user.send("/start")).plain


def test_the_web_page_shows_the_picture_inline_with_selectable_text(tmp_path, kb):
    import httpx

    from .test_web import web_server

    with web_server(tmp_path / "web.db", kb) as (url, _guide):
        page = httpx.get(f"{url}/s/material:self_id", headers={"Accept-Language": "ru"}, timeout=20).text
        other = httpx.get(f"{url}/s/material:application_form", timeout=20).text
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    root = ET.fromstring(svg)
    assert texts(root, "annotation") == ["用于处理本人的电子口岸卡及用户信息"] and root.get("data-lang") == "ru"
    assert "<svg" not in other


def test_cli_writes_a_png_or_an_svg_for_staff(tmp_path, monkeypatch, capsys):
    from .conftest import run_cli

    code, _, err = run_cli(monkeypatch, capsys, "picture", "holder_id", "--lang", "en", "--out", str(tmp_path / "h.png"))
    assert code == 0 and (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG" and "h.png" in err
    code, out, _ = run_cli(monkeypatch, capsys, "picture", "org_cert")
    assert code == 0 and texts(ET.fromstring(out), "annotation") == ["同意办理电子口岸制发卡业务"]
    code, _, err = run_cli(monkeypatch, capsys, "picture", "application_form")
    assert code == 2 and "org_cert" in err and "self_id" in err
    code, _, err = run_cli(monkeypatch, capsys, "picture", "org_cert", "--out", str(tmp_path / "x.jpg"))
    assert code == 2 and ".png or .svg" in err and not (tmp_path / "x.jpg").exists()


def test_the_console_says_how_to_get_a_screens_picture(plain_guide):
    from dialogs.console import run_console

    out = io.StringIO()
    run_console(plain_guide, stdin=io.StringIO("/start holder_cancel\n🖼 看示例\n"), stdout=out)
    assert "🖼 eport-guide picture self_id --lang zh --out self_id.png" in out.getvalue()


def write_references() -> None:
    kb = load_knowledge(DEFAULT_DATA_DIR)
    REFERENCES.mkdir(exist_ok=True)
    for material, lang in REFERENCE_CASES:
        reduced(picture(kb, material, lang).png()).save(REFERENCES / f"{material}-{lang}.png", optimize=True)
        print(REFERENCES / f"{material}-{lang}.png")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_caption_gives_the_annotation_to_copy_and_apart_its_meaning(kb, lang):
    """Sent with the picture in ru/en: the Chinese to copy exactly on one line, its meaning labelled on the next."""
    copy = {"ru": "Перепишите китайскими иероглифами точно: 「", "en": "Copy in Chinese characters exactly: 「"}[lang]
    label = {"ru": "Значение (", "en": "Meaning ("}[lang]
    for material in copy_materials(kb):
        lines = picture(kb, material, lang).caption.splitlines()
        i = next(i for i, line in enumerate(lines) if line.startswith("✍️"))
        annotation = next(a.text for a in kb.annotations.values() if f"「{a.text}」" in lines[i])
        assert lines[i] == f"✍️ {copy}{annotation}」", material
        assert lines[i + 1].startswith(label) and lines[i + 1].endswith(i18n.beside(annotation, lang)), material


if __name__ == "__main__":
    write_references()
    sys.exit(0)
