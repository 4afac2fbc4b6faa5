"""Draw a picture description (``describe.Picture``) as SVG and as PNG.

SVG: text stays text (selectable, searchable, copied exactly); only presentation attributes,
no style element or attribute (the web pages' Content-Security-Policy allows no inline style).
PNG: Pillow, drawing with the font bundled in the package (a fresh server has no Chinese font).
Both are cached per description (a description is per material, language and knowledge).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from html import escape
from typing import Any

from .describe import DARK, FONT_FAMILY, Circle, Group, Path_, Picture, Rect, Text, font

PNG_SCALE = 1.5  # pixels per unit: 1500 px wide, sharp on phones


def _attr(name: str, value: Any) -> str:
    return f' {name}="{escape(str(value), quote=True)}"' if value not in (None, "") else ""


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


# the names' single quotes need no escaping inside the double-quoted attribute
FAMILY = escape(FONT_FAMILY, quote=False).replace('"', "&quot;")


def _text_fill(fill: str | None) -> str | None:
    """A text's fill, unless it is the picture's own (``DARK``, set once on the <svg>: the text inherits it)."""
    return None if fill == DARK else fill


def _svg_item(item: Any) -> str:
    if isinstance(item, Group):
        inner = "".join(_svg_item(i) for i in item.items)
        return f'<g class="{escape(item.role)}">{inner}</g>'
    if isinstance(item, Text):
        anchor = "middle" if item.anchor == "middle" else None
        return (
            f'<text x="{_num(item.x)}" y="{_num(item.y)}" font-size="{_num(item.size)}"{_attr("fill", _text_fill(item.fill))}'
            f"{_attr('text-anchor', anchor)}{_attr('class', item.role)}>{escape(item.text, quote=False)}</text>"
        )
    if isinstance(item, Rect):
        return (
            f'<rect x="{_num(item.x)}" y="{_num(item.y)}" width="{_num(item.w)}" height="{_num(item.h)}"'
            f"{_attr('rx', _num(item.radius) if item.radius else None)}"
            f' fill="{item.fill or "none"}"{_attr("stroke", item.stroke)}'
            f"{_attr('stroke-width', _num(item.width) if item.stroke else None)}{_attr('class', item.role)}/>"
        )
    if isinstance(item, Circle):
        return (
            f'<circle cx="{_num(item.cx)}" cy="{_num(item.cy)}" r="{_num(item.r)}" fill="{item.fill or "none"}"'
            f"{_attr('stroke', item.stroke)}{_attr('stroke-width', _num(item.width) if item.stroke else None)}"
            f"{_attr('class', item.role)}/>"
        )
    if isinstance(item, Path_):
        points = " ".join(f"{round(x)},{round(y)}" for x, y in item.points)  # a stroke's points: whole units do
        tag = "polygon" if item.fill else "polyline"
        return (
            f'<{tag} points="{points}" fill="{item.fill or "none"}"{_attr("stroke", item.stroke)}'
            f"{_attr('stroke-width', _num(item.width) if item.stroke else None)}"
            f"{_attr('stroke-linecap', 'round' if item.stroke else None)}{_attr('class', item.role)}/>"
        )
    raise TypeError(f"cannot draw {item!r}")


@lru_cache(maxsize=64)
def svg(picture: Picture) -> str:
    """The picture as an SVG document (also valid inline in HTML)."""
    return _document(picture, "".join(_svg_item(i) for i in picture.items))


def _document(picture: Picture, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {picture.width} {picture.height}" width="100%"'
        f' role="img" aria-label="{escape(picture.title, quote=True)}" font-family="{FAMILY}" fill="{DARK}"'
        f' data-material="{escape(picture.material)}" data-lang="{escape(picture.lang)}">'
        f"<title>{escape(picture.title, quote=False)}</title>"
        f'<rect width="{picture.width}" height="{picture.height}" fill="#f7f7f4"/>{body}</svg>'
    )


def _anchor(item: Any) -> tuple[float, float]:
    """Where an element is: its first coordinate."""
    if isinstance(item, Group):
        return _anchor(item.items[0]) if item.items else (0.0, 0.0)
    if isinstance(item, (Text, Rect)):
        return item.x, item.y
    if isinstance(item, Circle):
        return item.cx, item.cy
    return item.points[0] if item.points else (0.0, 0.0)


def _moved(item: Any, dx: float, dy: float) -> Any:
    """The element moved by (dx, dy)."""
    if isinstance(item, Group):
        return replace(item, items=tuple(_moved(i, dx, dy) for i in item.items))
    if isinstance(item, (Text, Rect)):
        return replace(item, x=item.x + dx, y=item.y + dy)
    if isinstance(item, Circle):
        return replace(item, cx=item.cx + dx, cy=item.cy + dy)
    return replace(item, points=tuple((x + dx, y + dy) for x, y in item.points))


def svgs_in_one_page(pictures: Sequence[Picture], prefix: str = "pic") -> list[str]:
    """Several pictures inline in one HTML page (the printable checklist), drawn as ``svg`` draws each, except
    that an element drawn alike elsewhere on the page (a heading, a marker, the seal, a refused seal, the
    copied document; the same or moved) is drawn once, where it first appears, with an id, and is used
    (``<use>``, moved where it belongs) everywhere else. The first of each element stays text; the page
    carries each part once. Each string is valid inline in that page only, in this order (its uses point
    into the pictures before it)."""
    seen: dict[str, tuple[str, tuple[float, float]]] = {}  # the element's markup at (0, 0) → its id, its place
    out = []
    for picture in pictures:
        body = []
        for item in picture.items:
            markup = _svg_item(item)
            ax, ay = _anchor(item)
            key = _svg_item(_moved(item, -ax, -ay))
            hit = seen.get(key)
            if hit is not None:
                ident, (x0, y0) = hit
                dx, dy = _num(ax - x0), _num(ay - y0)
                use = f'<use href="#{ident}"{_attr("x", dx if dx != "0" else None)}{_attr("y", dy if dy != "0" else None)}/>'
                if len(use) < len(markup):
                    body.append(use)
                    continue
            if hit is None and len(markup) > 40:
                ident = f"{prefix}{len(seen)}"
                seen[key] = (ident, (ax, ay))
                cut = markup.index(" ")  # every element's markup starts "<tag " (see _svg_item)
                markup = f'{markup[:cut]} id="{ident}"{markup[cut:]}'
            body.append(markup)
        out.append(_document(picture, "".join(body)))
    return out


def _png_item(draw: Any, item: Any, s: float) -> None:
    if isinstance(item, Group):
        for i in item.items:
            _png_item(draw, i, s)
    elif isinstance(item, Text):
        anchor = "ms" if item.anchor == "middle" else "ls"  # the baseline, as in SVG
        draw.text((item.x * s, item.y * s), item.text, font=font(item.size * s), fill=item.fill, anchor=anchor)
    elif isinstance(item, Rect):
        box = (item.x * s, item.y * s, (item.x + item.w) * s, (item.y + item.h) * s)
        width = max(1, round(item.width * s)) if item.stroke else 0
        draw.rounded_rectangle(box, radius=item.radius * s, fill=item.fill, outline=item.stroke, width=width)
    elif isinstance(item, Circle):
        box = ((item.cx - item.r) * s, (item.cy - item.r) * s, (item.cx + item.r) * s, (item.cy + item.r) * s)
        width = max(1, round(item.width * s)) if item.stroke else 0
        draw.ellipse(box, fill=item.fill, outline=item.stroke, width=width)
    elif isinstance(item, Path_):
        points = [(x * s, y * s) for x, y in item.points]
        if item.fill:
            draw.polygon(points, fill=item.fill)
        else:
            draw.line(points, fill=item.stroke, width=max(1, round(item.width * s)), joint="curve")
    else:
        raise TypeError(f"cannot draw {item!r}")


@lru_cache(maxsize=64)
def png(picture: Picture) -> bytes:
    """The picture as a PNG image, drawn with the bundled font (no system font needed)."""
    from PIL import Image, ImageDraw

    s = PNG_SCALE
    image = Image.new("RGB", (round(picture.width * s), round(picture.height * s)), "#f7f7f4")
    draw = ImageDraw.Draw(image)
    for item in picture.items:
        _png_item(draw, item, s)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()
