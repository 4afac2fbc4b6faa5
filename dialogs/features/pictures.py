"""Example pictures of the prepared copies (dialogs/pictures): the photo a material's screen is
shown with, and "🖼 看示例" — the copies a business needs, each a tap from its picture."""

from __future__ import annotations

from typing import Any

from knowledge import Knowledge

from ..engine import Context, NotFound
from ..routes import Route
from ..pictures import Picture, copies_of, copy_materials, picture, required_rule
from ._shared import App


def copy_picture(kb: Knowledge, material: str | None, lang: str) -> Picture | None:
    """The example picture of a prepared copy, or None for a material that is not one."""
    if material not in copy_materials(kb):
        return None
    return picture(kb, material, lang)


def examples(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """🖼 看示例: each copy the business needs with its annotation and the document's rule; a business
    with a single copy gets its picture on this screen."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.businesses:
        raise NotFound(arg)
    ids = copies_of(kb, arg)
    if not ids:
        raise NotFound(arg)
    copies = []
    for material in ids:
        m = kb.materials[material]
        checks = [c for rs in m.rulesets for c in kb.rulesets[rs].checks]
        annotation = next(kb.annotations[c.annotation].text for c in checks if c.annotation)
        copies.append(
            {
                "id": material,
                "name": m.name,
                "label": getattr(m.plain, ctx.lang),
                "annotation": annotation,
                "rule": required_rule(kb, material),
            }
        )
    return {"business": kb.businesses[arg], "copies": copies, "photo": picture(kb, ids[0], ctx.lang) if len(ids) == 1 else None}
