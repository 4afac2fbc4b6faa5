"""Golden transcripts of every path through the menus.

Regenerate after an intended change with `make golden` (python -m tests.golden_regen),
then review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

from pathlib import Path

from dialogs.console import format_screen
from dialogs.engine import Context, Engine, parse_callback
from dialogs.guide import build_guide
from knowledge import load_knowledge

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def _go_routes(screen) -> list[tuple[str, str]]:
    out = []
    for b in screen.all_buttons():
        parsed = parse_callback(b.data) if b.data else None
        if parsed and parsed[0] == "go":
            out.append((b.label, parsed[1]))
    return out


def walk(engine: Engine, ctx: Context, path: list[tuple[str, str]]) -> str:
    """Render a path of (button label, route) steps as a plain-text transcript."""
    parts = []
    for label, route in path:
        screen = engine.render(route, ctx)
        parts.append(f">>> {label}  [{route}]\n{format_screen(screen)}")
    return "\n".join(parts)


def transcripts(engine: Engine, ctx: Context | None = None) -> dict[str, str]:
    """One transcript per menu path: main → category → business → each screen it links to,
    plus the office finder, the online screen and help. Together they cover every route."""
    ctx = ctx or Context()
    kb = engine.kb
    out: dict[str, str] = {}
    main = engine.render("main", ctx)
    main_links = dict((r, l) for l, r in _go_routes(main))
    for cid, category in kb.categories.items():
        cat_route = f"category:{cid}"
        cat = engine.render(cat_route, ctx)
        for label, route in _go_routes(cat):
            if not route.startswith("topic:"):
                continue
            topic = engine.render(route, ctx)
            path = [("/start", "main"), (main_links[cat_route], cat_route), (label, route)]
            text = walk(engine, ctx, path)
            for sub_label, sub_route in _go_routes(topic):
                if sub_route.startswith(("material:", "offices", "online", "stuck:", "rules:", "jiangsu:")):
                    text += "\n" + walk(engine, ctx, [(sub_label, sub_route)])
                elif sub_route.startswith("walk:"):  # this business's walkthrough, step by step
                    steps = [(sub_label, sub_route)]
                    while True:
                        nxt = [r for l, r in _go_routes(engine.render(steps[-1][1], ctx)) if l == "下一步 ➡️"]
                        if not nxt:
                            break
                        steps.append(("下一步 ➡️", nxt[0]))
                    text += "\n" + walk(engine, ctx, steps)
            out[f"{route.split(':', 1)[1]}.txt"] = text
    offices = engine.render("offices", ctx)
    text = walk(engine, ctx, [("/start", "main"), (main_links["offices"], "offices")])
    for label, route in _go_routes(offices):
        if route.startswith("city:"):
            text += "\n" + walk(engine, ctx, [(label, route)])
    out["offices.txt"] = text
    out["online.txt"] = walk(engine, ctx, [("/start", "main"), (main_links["online"], "online")])
    out["help.txt"] = walk(engine, ctx, [("/start", "main"), (main_links["help"], "help")])
    out["privacy.txt"] = walk(engine, ctx, [("/privacy", "privacy")])
    steps = [("🧭 分步指引", f"walk:{kb.steps[0].id}")] + [("下一步 ➡️", f"walk:{s.id}") for s in kb.steps[1:]]
    out["walkthrough.txt"] = walk(engine, ctx, [("/start", "main"), (main_links["online"], "online"), *steps])
    facts = "\n".join(walk(engine, ctx, [(f"(free text → {fid})", f"fact:{fid}")]) for fid in kb.facts)
    out["facts.txt"] = facts
    # the answer to a single-fact question, and its verbatim source one tap away
    answers = []
    for aid, a in kb.answers.items():
        path = [(f"(free text → {aid})", f"answer:{aid}")]
        if not a.silent:
            path.append(("📖 原文", f"answer_source:{aid}"))
        answers.append(walk(engine, ctx, path))
    out["answers.txt"] = "\n".join(answers)
    out["materials.txt"] = "\n".join(walk(engine, ctx, [(f"(free text → {mid})", f"material:{mid}")]) for mid in kb.materials)
    for lang in ("ru", "en"):  # the main paths in the other interface languages
        lctx = Context(lang=lang)
        path = [("/start", "main"), ("补办业务", "category:reissue"), ("丢失补办", "topic:reissue_lost"),
                ("📖", "rules:reissue_lost"), ("📘", "jiangsu:reissue_lost"), ("/start", "topic:cancel_legal"),
                ("/start", "topic:holder_cancel"),
                ("🔎", "material:org_cert"), ("🔎", "material:holder_id"), ("📍", "offices"), ("📍", "city:满洲里"),
                ("🧭", f"walk:{kb.steps[0].id}"), ("➡️", f"walk:{kb.steps[1].id}"), ("/help", "help"),
                ("(free text)", "answer:seal_official_only"), ("📖", "answer:seal_official_only".replace("answer:", "answer_source:")),
                ("(free text)", "answer:refund_deadline"), ("(free text)", "answer:silent_processing_time")]
        out[f"{lang}_main.txt"] = walk(engine, lctx, path)
    return out


def main() -> None:
    engine = build_guide(kb=load_knowledge(), store=False).engine
    GOLDEN_DIR.mkdir(exist_ok=True)
    for old in GOLDEN_DIR.glob("*.txt"):
        old.unlink()
    for name, text in transcripts(engine).items():
        (GOLDEN_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(list(GOLDEN_DIR.glob('*.txt')))} transcripts to {GOLDEN_DIR}")


if __name__ == "__main__":
    main()
