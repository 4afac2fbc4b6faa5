"""Regenerate the font the pictures are drawn with: a subset of Noto Sans CJK SC (SIL Open Font
License 1.1, dialogs/pictures/fonts/OFL.txt) holding every character the pictures use in every
language, plus printable ASCII, Latin-1, Cyrillic and the Chinese punctuation.

    apt-get install fonts-noto-cjk        # Debian: the full font, only needed here
    .venv/bin/pip install fonttools
    .venv/bin/python tools/make_font_subset.py [FONT.ttc [INDEX]]

Run it again when tests/test_pictures.py says a character is missing from the subset (a
knowledge edit brought a new character). Commit the .otf it writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SOURCE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DEFAULT_INDEX = 2  # Noto Sans CJK SC in Debian's collection
BLOCKS = [(0x20, 0x7E), (0xA0, 0xFF), (0x400, 0x45F), (0x2010, 0x2027), (0x3000, 0x303F), (0xFF01, 0xFF5E)]
EXTRA = "№•·…«»“”‘’←→✓✗"


def characters() -> set[str]:
    """Every character on every picture in every language, from the knowledge and the catalogues."""
    import dialogs.pictures  # noqa: F401
    from dialogs import i18n
    from dialogs.pictures import copy_materials, describe
    from knowledge import load_knowledge

    kb = load_knowledge()
    chars: set[str] = set()
    for material in copy_materials(kb):
        for lang in i18n.LANGUAGES:
            picture = describe(kb, material, lang)
            chars |= set(picture.title + picture.caption)
            chars |= {c for text in texts(picture.items) for c in text}
    for name in ("materials.yaml", "annotations.yaml"):  # room for a reworded label
        chars |= {c for c in (ROOT / "knowledge" / "data" / name).read_text(encoding="utf-8") if "\u4e00" <= c <= "\u9fff"}
    for lo, hi in BLOCKS:
        chars |= {chr(c) for c in range(lo, hi + 1)}
    chars |= set(EXTRA)
    return {c for c in chars if c.isprintable() or c == " "}


def texts(items) -> list[str]:
    from dialogs.pictures.describe import Group, Text

    out = []
    for item in items:
        if isinstance(item, Group):
            out += texts(item.items)
        elif isinstance(item, Text):
            out.append(item.text)
    return out


def main(argv: list[str]) -> int:
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    source = argv[0] if argv else DEFAULT_SOURCE
    index = int(argv[1]) if len(argv) > 1 else DEFAULT_INDEX
    from dialogs.pictures.describe import use_font

    use_font(source, index)  # measure with the full font while collecting
    chars = characters()
    font = TTCollection(source).fonts[index] if source.endswith(".ttc") else TTFont(source)
    options = subset.Options()
    options.layout_features = ["kern", "palt", "vert", "locl"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    out = ROOT / "dialogs" / "pictures" / "fonts" / "NotoSansCJKsc-subset.otf"
    font.save(str(out))
    print(f"{out.relative_to(ROOT)}: {len(chars)} characters, {out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
