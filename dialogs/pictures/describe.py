"""One description of a prepared copy, built from the knowledge: what the copy carries (the
company seal, the handwritten annotation, the signature, the date), what is refused beside it,
and the rule as the document puts it. ``render.py`` draws the same description as SVG and PNG.

Every word on a picture comes from the knowledge (``knowledge/data/materials.yaml`` and
``annotations.yaml``: the check labels, the plain lines, the rule sentences, the annotation
strings) or from the message catalogues (the few headings below). The documents fix no
position on the page, so the picture says it is an illustration. Only the Manzhouli document's
rules are drawn: the Jiangsu guide's extra requirements (印泥, a seal not photocopied, written
by the person) are not Manzhouli rules.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge import Knowledge

from .. import i18n
from ..commands import N_

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILE = FONT_DIR / "NotoSansCJKsc-subset.otf"
FONT_INDEX = 0  # the face in a collection (tools/make_font_subset.py measures with the full collection)
FONT_FAMILY = "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"


# Headings (the message catalogues translate them; every fact on a picture is knowledge).
NOTE = N_("示意图：位置仅为示意")
MUST = N_("复印件上要有：")
REFUSED = N_("不得加盖：")
ALL_REQUIRED = N_("以上各项缺一不可")
EXAMPLE = N_("示例")
COPY_EXACTLY = N_("用中文逐字照写")
MEANING = N_("意思（只供理解，不要照写）")
SEAL_MARK = "公章"  # drawn on the seal itself, as on the paper (not a label)

WIDTH = 1000
INK = "#1f3f9f"  # handwriting
RED = "#d0282e"  # the seal
GREY = "#666666"
DARK = "#222222"
PAPER = "#ffffff"
COPY_FILL = "#e6e6e6"
COPY_LINE = "#c2c2c2"


@dataclass(frozen=True)
class Text:
    """A text of a picture (position, size, colour)."""

    x: float
    y: float  # the baseline
    text: str
    size: float
    fill: str = DARK
    anchor: str = "start"  # start | middle
    role: str = ""  # what it is (tests read it from the SVG's class): annotation, signature, date, …


@dataclass(frozen=True)
class Rect:
    """A rectangle of a picture."""

    x: float
    y: float
    w: float
    h: float
    fill: str | None = None
    stroke: str | None = None
    width: float = 1
    radius: float = 0
    role: str = ""


@dataclass(frozen=True)
class Circle:
    """A circle of a picture (the seal)."""

    cx: float
    cy: float
    r: float
    fill: str | None = None
    stroke: str | None = None
    width: float = 1
    role: str = ""


@dataclass(frozen=True)
class Path_:
    """A drawn path of a picture (a signature)."""

    points: tuple[tuple[float, float], ...]
    stroke: str | None = None
    width: float = 1
    fill: str | None = None  # a closed, filled polygon when set
    role: str = ""


@dataclass(frozen=True)
class Group:
    """Shapes that are one thing on the picture (the seal, a refused seal): one <g class=role>."""

    role: str
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Picture:
    """An example picture: its shapes and its caption, drawn as SVG or PNG."""

    material: str
    lang: str
    width: int
    height: int
    title: str
    caption: str  # the short caption a photo is sent with
    items: tuple[Any, ...] = field(repr=False)
    key: str = ""  # material, language and a digest of the content: cache and Telegram file_id key

    def svg(self) -> str:
        """The picture as SVG text."""
        from .render import svg

        return svg(self)

    def png(self) -> bytes:
        """The picture as PNG bytes."""
        from .render import png

        return png(self)


# -- text measuring (the bundled font: the same metrics the PNG is drawn with) -------------------
_font_override: tuple[str, int] | None = None  # tools/make_font_subset.py measures with the full font


def use_font(path: str | None, index: int = 0) -> None:
    """Measure and draw with another font file (tools/make_font_subset.py: the full font); None: the bundled one."""
    global _font_override
    _font_override = (path, index) if path else None
    font.cache_clear()


@lru_cache(maxsize=64)
def font(size: float):
    """The bundled CJK font at ``size`` pixels."""
    from PIL import ImageFont

    path, index = _font_override or (str(FONT_FILE), FONT_INDEX)
    return ImageFont.truetype(path, size=round(size), index=index)


def text_width(text: str, size: float) -> float:
    """The width of ``text`` in pixels at ``size``."""
    return font(size).getlength(text)


CLOSING = "”」』）)】》»、，。：；！？,.;:!?"


def wrap(text: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``: Chinese breaks anywhere, other scripts at spaces."""
    tokens = re.findall(r"[A-Za-z\u00c0-\u024f\u0400-\u04ff0-9'’.,;:!?%/«»“”\"()\-–—]+\s*|\s+|.", text)
    lines, line = [], ""
    for token in tokens:
        closing = token[0] in CLOSING  # never at the start of a line
        if closing or text_width(line + token.rstrip(), size) <= width or not line.strip():
            line += token
        else:
            lines.append(line.rstrip())
            line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


# -- what the knowledge says about a copy --------------------------------------------------------
def copy_materials(kb: Knowledge) -> list[str]:
    """The materials handed in as a prepared copy that carries an annotation: each has a picture."""
    return [
        m.id
        for m in kb.materials.values()
        if m.form == "copy" and any(c.annotation for rs in m.rulesets for c in kb.rulesets[rs].checks)
    ]


def _manzhouli_rules(kb: Knowledge, material: str) -> list[Any]:
    return [r for r in kb.rules_of(material) if r.region != "jiangsu"]


def refused_seals(kb: Knowledge, material: str) -> list[str]:
    """The seals the document refuses ("不得加盖合同章、财务章或其他业务专用章"), from the material's own
    rules or, where they say nothing, from the rule that says "下同" (the same applies below)."""
    texts = [r.text for r in _manzhouli_rules(kb, material)]
    texts += [c.label for rs in kb.materials[material].rulesets for c in kb.rulesets[rs].checks]
    said = next((t for t in texts if "不得加盖" in t), None)
    if said is None:
        said = next(
            (
                r.text
                for rs in kb.rulesets.values()
                for r in rs.rules
                if r.region != "jiangsu" and "不得加盖" in r.text and "下同" in r.text
            ),
            None,
        )
    if said is None:
        return []
    listed = re.search(r"不得加盖([^，,。）)]+)", said)
    return [s for s in re.split(r"、|或", listed.group(1)) if s] if listed else []


def required_rule(kb: Knowledge, material: str) -> str | None:
    """The document's own closing rule for the copy: "公章和三处签注缺一不可" / "三处签注缺一不可"."""
    for r in _manzhouli_rules(kb, material):
        m = re.search(r"（([^（）]*缺一不可)）", r.text)
        if m:
            return m.group(1)
    return None


def _checks(kb: Knowledge, material: str) -> dict[str, Any]:
    return {c.id: c for rs in kb.materials[material].rulesets for c in kb.rulesets[rs].checks}


def _plain(check: Any, lang: str) -> str:
    return getattr(check.plain, lang) if check.plain else check.label


def _cut_aside(text: str) -> str:
    """A label without its bracketed aside (the refused seals are drawn separately)."""
    return re.split(r"\s*[（(]", text, maxsplit=1)[0].strip() or text


# -- the description --------------------------------------------------------------------------
def describe(kb: Knowledge, material: str, lang: str) -> Picture:
    """The picture of ``material``'s prepared copy in ``lang`` (labels in that language, the
    annotation and the document's rule always in Chinese, exactly)."""
    if material not in copy_materials(kb):
        raise KeyError(material)
    m = kb.materials[material]
    checks = _checks(kb, material)
    tr = i18n.translations(lang).gettext
    annotation_check = next(c for c in checks.values() if c.annotation)
    annotation = kb.annotations[annotation_check.annotation].text
    seal = checks.get("seal")
    signature, date, copy = checks.get("signature"), checks.get("date"), checks.get("copy")
    items: list[Any] = []
    add = items.append

    # title
    copy_label = copy.label if copy else ""
    title = f"{m.name}（{copy_label}）" if copy_label else m.name
    add(Text(40, 48, title, 26, role="title"))
    subtitle = i18n.beside(m.name, lang)
    head = f"{tr(EXAMPLE)} · {subtitle}" if subtitle else tr(EXAMPLE)
    add(Text(40, 78, head, 16, GREY, role="subtitle"))

    # the right-hand panel: what the copy carries, what is refused, the rule, the note
    px, pw = 555, WIDTH - 555 - 30
    y = 128
    add(Text(px, y, tr(MUST), 19, role="heading"))
    y += 12
    legend: list[tuple[str, Any, str]] = []
    if seal:
        legend.append(("seal-label", seal, _cut_aside(seal.label)))
    legend.append(("annotation-label", annotation_check, annotation_check.label))
    if signature:
        legend.append(("signature-label", signature, signature.label))
    if date:
        legend.append(("date-label", date, date.label))
    numbers: dict[str, str] = {}
    for n, (role, check, label) in enumerate(legend, 1):
        numbers[role] = str(n)
        y += 30
        items += _marker(px + 11, y - 6, str(n))
        for k, line in enumerate(wrap(label, 16, pw - 32)):
            add(Text(px + 30, y + 23 * k, line, 16, role=role))
            last = y + 23 * k
        y = last
        if lang != i18n.DEFAULT_LANGUAGE:
            plain = _plain(check, lang)
            plain = _cut_aside(plain) if check is seal else plain
            for line in wrap(plain, 15, pw - 32):
                y += 21
                add(Text(px + 30, y, line, 15, GREY, role=f"{role}-tr"))
    refused = refused_seals(kb, material) if seal else []
    if refused:
        y += 44
        add(Text(px, y, tr(REFUSED), 19, role="heading"))
        y += 50
        step = pw / len(refused)
        for i, name in enumerate(refused):
            cx = px + step * i + step / 2
            items.append(_refused_seal(cx, y, name))
            for k, line in enumerate(wrap(name, 15, step - 8)):
                add(Text(cx, y + 52 + 19 * k, line, 15, DARK, "middle", role="refused"))
        y += 52 + 19 * max(len(wrap(n, 15, step - 8)) for n in refused)
        if lang != i18n.DEFAULT_LANGUAGE:
            for line in wrap(_plain(seal, lang), 14, pw):
                y += 20
                add(Text(px, y, line, 14, GREY, role="refused-tr"))
    rule = required_rule(kb, material)
    if rule:
        y += 28
        lines = wrap(rule, 20, pw - 24)
        extra = wrap(tr(ALL_REQUIRED), 15, pw - 24) if lang != i18n.DEFAULT_LANGUAGE else []
        box_h = 20 + 27 * len(lines) + 21 * len(extra)
        add(Rect(px, y, pw, box_h, fill="#fff4e0", stroke="#e0a040", width=2, radius=8, role="rule-box"))
        ty = y + 32
        for line in lines:
            add(Text(px + 12, ty, line, 20, DARK, role="rule"))
            ty += 27
        for line in extra:
            add(Text(px + 12, ty - 4, line, 15, GREY, role="rule-tr"))
            ty += 21
        y += box_h
    y += 34
    add(Text(px, y, tr(NOTE), 15, GREY, role="note"))
    for line in wrap(kb.source_label(m.source), 13, pw):
        y += 20
        add(Text(px, y, line, 13, GREY, role="source"))
    height = max(720, int(y) + 36)

    # the page: the copied document, then the annotation, signature and date in its blank space
    x0, y0, w0, h0 = 40, 100, 480, height - 140
    add(Rect(x0 + 4, y0 + 4, w0, h0, fill="#d8d8d8"))
    add(Rect(x0, y0, w0, h0, fill=PAPER, stroke="#9a9a9a", width=1.5, role="page"))
    # what is copied, as the material's rules name it: a licence (营业执照) or an identity document
    if any("营业执照" in r.text for r in _manzhouli_rules(kb, material)):
        items += _certificate(x0 + 30, y0 + 25, w0 - 60, 230)
        below = y0 + 25 + 230
    else:
        items += _id_card(x0 + 90, y0 + 35, 300, 189)
        below = y0 + 35 + 189
    if copy:
        for k, line in enumerate(wrap(_plain(copy, lang), 14, w0 - 60)):
            add(Text(x0 + 30, below + 24 + 19 * k, line, 14, GREY, role="copy-label"))
    base = y0 + h0 - 250
    size = min(26.0, (w0 - 90) / max(len(annotation), 1))
    add(Text(x0 + 45, base, annotation, size, INK, role="annotation"))
    items += _marker(x0 + 22, base - size / 3, numbers["annotation-label"])
    if signature:
        items.append(Group("signature", (_squiggle(x0 + 50, base + 70, 170),)))
        items += _marker(x0 + 22, base + 64, numbers["signature-label"])
    if date:
        add(Text(x0 + 45, base + 145, "____年__月__日", 22, INK, role="date"))
        items += _marker(x0 + 22, base + 138, numbers["date-label"])
    if seal:
        items.append(_seal(x0 + w0 - 110, base + 100, 64, SEAL_MARK))
        items += _marker(x0 + w0 - 185, base + 40, numbers["seal-label"])
    add(Text(x0 + 12, y0 + h0 - 12, tr(NOTE), 12, GREY, role="page-note"))

    if lang == i18n.DEFAULT_LANGUAGE:
        written = f"✍️ {annotation}"
    else:  # the Chinese to copy, then apart its meaning: the translation is never taken for the text
        written = f"✍️ {tr(COPY_EXACTLY)}: 「{annotation}」\n{tr(MEANING)}: {i18n.beside(annotation, lang)}"
    caption = "\n".join(filter(None, [f"🖼 {title}", subtitle, written, rule, tr(NOTE)]))
    digest = hashlib.sha1(repr(items).encode("utf-8")).hexdigest()[:12]
    return Picture(material, lang, WIDTH, height, title, caption, tuple(items), f"{material}-{lang}-{digest}")


# -- shapes -----------------------------------------------------------------------------------
def _marker(cx: float, cy: float, label: str) -> list[Any]:
    return [Circle(cx, cy, 11, fill=DARK, role="marker"), Text(cx, cy + 5, label, 14, PAPER, "middle", role="marker")]


def _star(cx: float, cy: float, r: float) -> tuple[tuple[float, float], ...]:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.4
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((round(cx + radius * math.cos(angle), 1), round(cy + radius * math.sin(angle), 1)))
    return tuple(points)


def _seal(cx: float, cy: float, r: float, mark: str) -> Group:
    """The applicant company's seal (公章): a red ring with a star."""
    return Group(
        "seal",
        (
            Circle(cx, cy, r, stroke=RED, width=4),
            Circle(cx, cy, r - 8, stroke=RED, width=1.5),
            Path_(_star(cx, cy - 8, r * 0.38), fill=RED),
            Text(cx, cy + r * 0.55, mark, 15, RED, "middle"),
        ),
    )


def _refused_seal(cx: float, cy: float, name: str) -> Group:
    r = 28
    d = r * 0.8
    return Group(
        "refused-seal",
        (
            Circle(cx, cy, r, stroke="#b07070", width=3),
            Path_(_star(cx, cy, r * 0.35), fill="#b07070"),
            Path_(((cx - d, cy - d), (cx + d, cy + d)), stroke=DARK, width=5),
            Path_(((cx - d, cy + d), (cx + d, cy - d)), stroke=DARK, width=5),
        ),
    )


def _certificate(x: float, y: float, w: float, h: float) -> list[Any]:
    """The copied business licence: a grey sheet with lines standing for its text."""
    out: list[Any] = [Rect(x, y, w, h, fill=COPY_FILL, stroke="#b5b5b5", role="copied-document")]
    out.append(Rect(x + w / 2 - 80, y + 18, 160, 18, fill=COPY_LINE))
    for k, frac in enumerate((0.85, 0.7, 0.8, 0.6, 0.75, 0.5)):
        ly = y + 62 + 26 * k
        out.append(Rect(x + 24, ly, (w - 150) * frac, 9, fill=COPY_LINE))
    out.append(Rect(x + w - 100, y + h - 100, 76, 76, fill=COPY_LINE))
    return out


def _id_card(x: float, y: float, w: float, h: float) -> list[Any]:
    """The copied identity document: a card-shaped grey box with a photo and lines."""
    out: list[Any] = [Rect(x, y, w, h, fill=COPY_FILL, stroke="#b5b5b5", radius=12, role="copied-document")]
    out.append(Rect(x + w - 92, y + 24, 70, 88, fill=COPY_LINE, radius=4))
    for k, frac in enumerate((0.55, 0.45, 0.6, 0.5)):
        out.append(Rect(x + 20, y + 30 + 24 * k, (w - 130) * frac, 9, fill=COPY_LINE))
    out.append(Rect(x + 20, y + h - 34, w - 40, 10, fill=COPY_LINE))
    return out


def _squiggle(x: float, y: float, w: float) -> Path_:
    """A handwritten signature (an illustration: no name)."""
    points = []
    for k in range(61):
        t = k / 60
        points.append((round(x + w * t, 1), round(y - 14 * math.sin(t * 11) * (1 - 0.5 * t) - 6 * math.sin(t * 29), 1)))
    return Path_(tuple(points), stroke=INK, width=2.5, role="signature")
