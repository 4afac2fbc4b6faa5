"""Message catalogues (gettext .po, maintained with Babel).

    python -m dialogs.catalog update   # extract every message, merge into locale/*/messages.po
    python -m dialogs.catalog check    # exit 1 listing messages without a translation

Messages come from the templates (`_()`), the button labels in screens.yaml (`text:` and
`_()` inside `label:`), Python code (`_()`, `t()` of dialogs.i18n, `N_()`) and the knowledge names
that are shown with a translation beside them (business, category, material, office and
city names, addresses, annotations, fact and step titles, rule sentences). Chinese is the
source language; the official Chinese always stays on screen.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from knowledge import load_knowledge

from .i18n import LOCALE_DIR, TRANSLATED

ROOT = Path(__file__).resolve().parent.parent
LABEL_MSG = re.compile(r"_\('([^']+)'\)")


def knowledge_terms() -> list[str]:
    """Knowledge strings shown with a translation beside them."""
    kb = load_knowledge()
    terms: list[str] = []
    terms += [b.name for b in kb.businesses.values()] + [b.materials_line for b in kb.businesses.values()]
    terms += [c.name for c in kb.categories.values()] + [c.summary for c in kb.categories.values()]
    for m in kb.materials.values():
        terms += [m.name, m.listed_as, m.short]  # short: checklist buttons
    for b in kb.businesses.values():
        terms += [ref.listed_as for ref in b.materials if ref.listed_as] + [ref.note for ref in b.materials if ref.note]
        terms += [ref.alternative for ref in b.materials if ref.alternative]
    terms += [a.text for a in kb.annotations.values()]
    for o in kb.offices.values():
        terms += [o.name, o.address, o.city]
    for rs in kb.rulesets.values():
        terms += [r.text for r in rs.rules] + [c.label for c in rs.checks]
    for f in kb.facts.values():
        terms += [f.title, f.text, *f.more]
    for s in kb.steps:
        terms += [s.title] + [q.text for q in s.quotes]
    return list(dict.fromkeys(t for t in terms if t))


def extract() -> list[str]:
    """Every translatable message: templates, screens.yaml labels, Python code, shown knowledge terms."""
    messages: list[str] = []
    templates = sorted((ROOT / "dialogs" / "templates").glob("*.j2")) + sorted((ROOT / "web" / "templates").rglob("*.html"))
    for path in templates:
        for _, msg, *_ in extract_from_file(
            "jinja2.ext:babel_extract",
            str(path),
            keywords={"_": None},
            options={"extensions": "jinja2.ext.i18n", "trimmed": "false"},
        ):
            messages += [msg] if isinstance(msg, str) else [m for m in msg if m]
    screens = yaml.safe_load((ROOT / "dialogs" / "screens.yaml").read_text(encoding="utf-8"))["screens"]

    def walk(node):
        if isinstance(node, dict):
            if "text" in node and isinstance(node["text"], str):
                messages.append(node["text"])
            if "label" in node and isinstance(node["label"], str):
                messages.extend(LABEL_MSG.findall(node["label"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(screens)
    for package in ("dialogs", "bot", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for _, msg, *_ in extract_from_file("python", str(path), keywords={"_": None, "t": None, "N_": None}):
                messages += [msg] if isinstance(msg, str) else [m for m in msg if m]
    from . import console

    messages += [console.HELP, console.UNKNOWN_COMMAND, console.NO_SUCH_BUTTON, console.GOODBYE, console.OPEN_URL]
    messages = [m for m in messages if m and re.search(r"[\u4e00-\u9fff]", m)]
    return list(dict.fromkeys(messages + knowledge_terms()))


def po_path(lang: str) -> Path:
    """The .po file of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def update() -> None:
    """Merge the extracted messages into every catalogue, keeping the translations made."""
    messages = extract()
    for lang in TRANSLATED:
        path = po_path(lang)
        old = read_po(path.open("rb")) if path.exists() else Catalog(locale=lang)
        new = Catalog(locale=lang, project="eport-guide", fuzzy=False)
        for msg in messages:
            existing = old.get(msg)
            new.add(msg, existing.string if existing is not None else "")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, new, width=0, omit_header=False, sort_output=False)
        print(f"{path}: {len(messages)} messages, {sum(1 for m in new if m.id and not m.string)} untranslated")


def missing() -> dict[str, list[str]]:
    """Per language, the messages without a translation."""
    messages = extract()
    out = {}
    for lang in TRANSLATED:
        catalog = read_po(po_path(lang).open("rb"))
        out[lang] = [m for m in messages if not (catalog.get(m) and catalog.get(m).string)]
    return out


def main(argv: list[str]) -> int:
    """``python -m dialogs.catalog update|check``."""
    if argv[:1] == ["update"]:
        update()
        return 0
    if argv[:1] == ["check"]:
        gaps = missing()
        for lang, msgs in gaps.items():
            for m in msgs:
                print(f"{lang}: untranslated: {m}")
        return 1 if any(gaps.values()) else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
