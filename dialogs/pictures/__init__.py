"""Pictures of the prepared copies: the business licence copy and the ID copies with their seal,
handwritten annotation, signature and date, drawn from the knowledge.

    picture(kb, "org_cert", "ru")   # the description (cached per knowledge, material, language)
    picture(...).svg()              # SVG text (inline on web pages)
    picture(...).png()              # PNG bytes (Telegram, `eport-guide picture`)
    svgs_in_one_page([p1, p2, …])   # several inline in one HTML page, each shared part drawn once

One description renders to both (``describe.py`` → ``render.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .describe import Picture, copy_materials, describe, refused_seals, required_rule
from .render import svgs_in_one_page

if TYPE_CHECKING:
    from knowledge import Knowledge

__all__ = ["Picture", "copies_of", "copy_materials", "describe", "picture", "refused_seals", "required_rule", "svgs_in_one_page"]

_cache: dict[tuple[int, str, str], tuple[Knowledge, Picture]] = {}


def copies_of(kb: Knowledge, topic: str) -> list[str]:
    """The prepared copies a business needs, in the order the business lists them."""
    pictured = set(copy_materials(kb))
    return list(dict.fromkeys(r.material for r in kb.businesses[topic].materials if r.material in pictured))


def picture(kb: Knowledge, material: str, lang: str) -> Picture:
    """The picture of a copy material in a language; KeyError if the material has none. Cached per
    knowledge (a reload draws anew), material and language."""
    key = (id(kb), material, lang)
    hit = _cache.get(key)
    if hit is not None and hit[0] is kb:
        return hit[1]
    made = describe(kb, material, lang)
    if len(_cache) > 256:
        _cache.clear()
    _cache[key] = (kb, made)
    return made
