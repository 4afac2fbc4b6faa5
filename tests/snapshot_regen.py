"""Snapshots of every screen, one file per route and language: tests/snapshots/<lang>/<route>.txt.

The engine is built the way production builds it (every feature on: checklists, feedback,
share, settings, reminders; a store in a temporary directory), and the screens are those a
new user sees in the private chat. Regenerate after an intended change with `make golden`
(python -m tests.snapshot_regen), then review the diff of tests/snapshots/ like any other change.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dialogs import i18n
from dialogs.engine import Context, Engine, Screen, parse_callback
from dialogs.features import all_routes
from dialogs.guide import Guide, build_guide
from knowledge import Knowledge, load_knowledge

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
LANGUAGES = (i18n.DEFAULT_LANGUAGE, *i18n.TRANSLATED)
USER = 1  # the new user every snapshot is rendered for


@contextmanager
def production_guide(kb: Knowledge | None = None) -> Iterator[Guide]:
    """The guide as the Telegram channel runs it (bot.app.build_application), on a fresh store."""
    with tempfile.TemporaryDirectory() as d:
        guide = build_guide(Path(d) / "snapshots.db", kb or load_knowledge())
        guide.engine.extend("inline")  # as build_application does: share buttons need inline mode
        try:
            yield guide
        finally:
            guide.close()


def file_name(route: str) -> str:
    """The route as a file name: ':' (not allowed on every file system) becomes '__'."""
    return route.replace(":", "__") + ".txt"


def describe_button(b) -> str:
    if b.data:
        parsed = parse_callback(b.data)
        if parsed and parsed[0] == "go":
            return f"{b.label}  → {parsed[1]}"
        return f"{b.label}  ⚙ {parsed[0]} {parsed[1]}".rstrip() if parsed else f"{b.label}  ⚙ {b.data}"
    if b.url:
        return f"{b.label}  🔗 {b.url}"
    if b.copy_text:
        return f"{b.label}  ⧉ {b.copy_text}"
    return f"{b.label}  ↪ @bot {b.switch_inline_query}"


def format_snapshot(screen: Screen) -> str:
    """The screen as the user reads it (plain text), then each button with what it does."""
    lines = [f"[{screen.route}]", screen.text.rstrip(), ""]
    for r, row in enumerate(screen.buttons, 1):  # [row] or [row.column]: the keyboard's layout
        for c, b in enumerate(row, 1):
            lines.append(f"  [{r}{f'.{c}' if len(row) > 1 else ''}] {describe_button(b)}")
    return "\n".join(lines).rstrip() + "\n"


def routes(engine: Engine) -> list[str]:
    """Every route the engine can render: its routes (what links and free text open), and the screens
    only a button action opens (the 👎 reason, the reset confirmation)."""
    kb = engine.kb
    out = list(all_routes(engine))
    if "feedback" in engine.features:
        out += [f"feedback_reason:{t}" for t in kb.businesses]
    if "checklist" in engine.features:
        out += [f"checklist_reset:{t}" for t in kb.businesses]
    return out


def snapshots(engine: Engine) -> dict[str, str]:
    """Relative path (<lang>/<file>) → snapshot, for every route the engine can render, in every language."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        ctx = Context(user_id=USER, lang=lang)
        for route in routes(engine):
            out[f"{lang}/{file_name(route)}"] = format_snapshot(engine.render(route, ctx))
    return out


def stored() -> dict[str, str]:
    return {p.relative_to(SNAPSHOT_DIR).as_posix(): p.read_text(encoding="utf-8") for p in SNAPSHOT_DIR.glob("*/*.txt")}


def main() -> None:
    with production_guide() as guide:
        current = snapshots(guide.engine)
    for old in SNAPSHOT_DIR.glob("*/*.txt"):
        if old.relative_to(SNAPSHOT_DIR).as_posix() not in current:
            old.unlink()
    changed = 0
    for name, text in current.items():
        path = SNAPSHOT_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed += 1
    print(f"{len(current)} snapshots in {SNAPSHOT_DIR} ({changed} written)")


if __name__ == "__main__":
    main()
