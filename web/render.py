"""Web pages drawn from the engine's screen model.

Each engine screen carries its model (``Screen.template``, ``Screen.model``: the variables its
template was rendered from). A page is drawn from that model by a web template of its own
(``templates/screens/<name>.html``, the name of the engine's template): real lists, forms of
checkboxes, ``<details>``, ``tel:`` links. A screen without a web template of its own (a rare
one) is drawn by ``screens/generic.html`` from the engine's markup, which its autoescaped
templates made (only ``b i u s code a`` tags), with every mainland phone number made a ``tel:`` link.

``Renderer.render`` is the one render of a request; ``renders`` counts them (a test pins one per
request).
"""

from __future__ import annotations

import re
import struct
import zlib
from array import array
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import markupsafe

from dialogs.render import environment as dialogs_environment, intl_phone
from dialogs.routes import Route

TEMPLATES = Path(__file__).resolve().parent / "templates"
GENERIC = "screens/generic.html"

# 0470-2299089 (area code, number) and 18947604303 (mobile); not parts of longer digit runs
PHONE = re.compile(r"(?<![\d-])(0\d{2,3}-\d{7,8}|1[3-9]\d{9})(?![\d-])")
# "0470-2299089、2299090": a number after "、" shares the area code of the one before it (as the
# documents write the hotline); each is its own link, the text unchanged
MORE = re.compile(r"、(\d{7,8})(?![\d-])")
TAG = re.compile(r"(<[^<>]*>)")


def tel(number: str) -> str:
    """ "0470-2299089" → "tel:+864702299089": the international form the chats show, without spaces."""
    return "tel:" + intl_phone(number).replace(" ", "")


def is_phone(text: str) -> bool:
    """Whether the text is one phone number (a landline with its area code or a mobile), which the
    page offers as a call link rather than a copy button."""
    return bool(PHONE.fullmatch(text.strip()))


def _link_phones(text: str) -> str:
    """Text (already escaped) with each phone number a ``tel:`` link."""
    out, pos = [], 0
    for m in PHONE.finditer(text):
        if m.start() < pos:
            continue
        out.append(text[pos : m.start()])
        out.append(f'<a href="{tel(m.group(1))}">{m.group(1)}</a>')
        pos = m.end()
        if m.group(1).startswith("0"):
            area = m.group(1).split("-")[0]
            while (more := MORE.match(text, pos)) is not None:
                out.append(f'、<a href="{tel(area + "-" + more.group(1))}">{more.group(1)}</a>')
                pos = more.end()
    out.append(text[pos:])
    return "".join(out)


def phones(text: Any) -> markupsafe.Markup:
    """A jinja filter: the text escaped, its phone numbers ``tel:`` links."""
    return markupsafe.Markup(_link_phones(str(markupsafe.escape(text))))


@lru_cache(maxsize=4096)
def _tel_markup(markup: str) -> str:
    parts, inside = [], 0
    for piece in TAG.split(markup):
        if piece.startswith("<") and piece.endswith(">"):
            low = piece.lower()
            inside += 1 if low.startswith("<a") else -1 if low.startswith("</a") else 0
            if low.startswith('<a href="http'):  # a map or the national system: nothing of this page goes along
                piece = '<a rel="noopener noreferrer"' + piece[2:]
            parts.append(piece)
        else:
            parts.append(piece if inside else _link_phones(piece))
    return "".join(parts)


def tel_markup(markup: Any) -> markupsafe.Markup:
    """The engine's markup (made by autoescaped templates) with phone numbers outside links made
    ``tel:`` links; cached per markup (screens are mostly the same for everyone)."""
    return markupsafe.Markup(_tel_markup(str(markup)))


def route_href(route: str) -> str:
    """A route's page: ``/`` for the main menu, ``/s/<route>`` otherwise; a checklist material's page
    is the checklist at that material."""
    if route == "main":
        return "/"
    parsed = Route.parse(route)
    if parsed.screen == "checklist_part":
        topic, material = parsed.param(0), parsed.param(1)
        return "/s/checklist:" + quote(topic, safe="") + "#m-" + quote(material, safe="")
    return "/s/" + quote(route, safe=":")


class Renderer:
    """The web templates, one environment per language (each template compiled once)."""

    def __init__(self) -> None:
        self.renders = 0
        self.own = {p.stem for p in (TEMPLATES / "screens").glob("*.html")}

    @lru_cache(maxsize=None)
    def environment(self, lang: str) -> jinja2.Environment:
        """The jinja environment of a language: the web templates over the chat's, with the engine's
        filters and translations plus the web's (phone links, page addresses); made once per language."""
        base = dialogs_environment(lang)  # the same filters (tr, beside, labelled …) and translations
        env = base.overlay(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), base.loader]), autoescape=True)
        env.filters = dict(env.filters)  # the overlay's own filters (not added to the engine's)
        env.filters.update(phones=phones, tel_markup=tel_markup, href=route_href, tel=tel)
        return env

    def template_for(self, name: str | None) -> str:
        """The web template that draws a screen: its own under screens/ if there is one, else the generic page."""
        stem = (name or "").rsplit(".", 1)[0]
        return f"screens/{stem}.html" if stem in self.own else GENERIC

    def render(self, lang: str, name: str, values: dict[str, Any]) -> str:
        """A web template filled in the visitor's language (counted in ``renders``)."""
        self.renders += 1
        return self.environment(lang).get_template(name).render(values)


# -- gzip once ---------------------------------------------------------------------------------
_END = b"\x03\x00"  # a final, empty fixed-Huffman block: the end of a deflate stream
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no time, unknown OS


def _deflated(data: bytes, level: int = 6) -> bytes:
    """``data`` as deflate blocks that end byte-aligned and refer to nothing before them (a full flush):
    such pieces, each compressed on its own, join into one valid stream."""
    c = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def _stored(data: bytes) -> bytes:
    """``data`` as one non-final *stored* deflate block (no compression; byte-aligned, up to 65,535 bytes): a
    visitor's token (random, about 45 bytes) gains nothing from compression and costs a compressor's set-up."""
    return b"\x00" + struct.pack("<HH", len(data), 0xFFFF ^ len(data)) + data


_ONES = 0xFFFFFFFF
_CRC_LENGTHS = 4  # token lengths a kept page remembers its CRC tables for (tokens have one length)


def _after_zeros(n: int, register: int, zeros: memoryview) -> int:
    """The CRC-32 register ``register`` after ``n`` zero bytes: linear in the register (zlib's crc32 continues a
    CRC, inverting it in and out)."""
    return zlib.crc32(zeros[:n], register ^ _ONES) ^ _ONES


def _crc_tables(parts: list[bytes], length: int) -> tuple[int, int, tuple[array, ...]]:
    """What the CRC-32 of ``value.join(parts)`` needs for any ``value`` of ``length`` bytes: CRC-32 is affine
    in the message for a fixed length, so it is the CRC with zeros for the value, XOR a linear map of the
    value's own CRC (XOR that of ``length`` zeros): the map applied to a 32-bit number by four tables of 256
    entries. Returns (CRC with zeros, CRC of ``length`` zeros, tables); made once per page and length."""
    blank = bytes(length)
    total = sum(map(len, parts)) + length * (len(parts) - 1)
    zeros = memoryview(bytes(total))
    after, behind = [], total
    for part in parts[:-1]:  # the bytes after each place of the value
        behind -= len(part) + length
        after.append(behind)
    basis = []
    for bit in range(32):
        image = 0
        for n in after:
            image ^= _after_zeros(n, 1 << bit, zeros)
        basis.append(image)
    tables = []
    for k in range(4):
        table = array("L", [0]) * 256
        for b in range(1, 256):
            low = b & -b
            table[b] = table[b ^ low] ^ basis[8 * k + low.bit_length() - 1]
        tables.append(table)
    return zlib.crc32(blank.join(parts)), zlib.crc32(blank), tuple(tables)


class Kept:
    """A page drawn once, with a mark where each visitor's own value (the CSRF token) goes: its text and
    its parts compressed once, so a visitor's copy costs the compression of the token alone, and the gzip
    trailer's CRC of the whole page four table look-ups (``_crc_tables``) instead of a pass over the page."""

    def __init__(self, html: str, mark: str):
        self.parts = [p.encode("utf-8") for p in html.split(mark)]
        self.packed = [_deflated(p) for p in self.parts]
        self.size = sum(map(len, self.parts))
        self.crcs: dict[int, tuple[int, int, tuple[array, ...]]] = {}  # value's length → _crc_tables

    def text(self, value: str) -> bytes:
        """The page as UTF-8 bytes with this visitor's value (the CSRF token) in place of the mark."""
        return value.encode("utf-8").join(self.parts)

    def crc(self, raw: bytes) -> int:
        """The CRC-32 of the page with ``raw`` in place of the mark."""
        if len(self.parts) == 1:
            return zlib.crc32(self.parts[0])
        tables = self.crcs.get(len(raw))
        if tables is None:
            if len(self.crcs) >= _CRC_LENGTHS:
                return zlib.crc32(raw.join(self.parts))
            tables = self.crcs[len(raw)] = _crc_tables(self.parts, len(raw))
        base, blank, (t0, t1, t2, t3) = tables
        v = zlib.crc32(raw) ^ blank
        return base ^ t0[v & 255] ^ t1[(v >> 8) & 255] ^ t2[(v >> 16) & 255] ^ t3[v >> 24]

    def gzip(self, value: str) -> bytes:
        """The page gzipped with this visitor's value in place of the mark: the kept parts' compression
        reused, the value stored as it is (a stored block)."""
        raw = value.encode("utf-8")
        packed = _stored(raw) if len(raw) <= 0xFFFF else _deflated(raw)
        out = [_GZIP_HEADER, self.packed[0]]
        for pack in self.packed[1:]:
            out += [packed, pack]
        size = self.size + len(raw) * (len(self.parts) - 1)
        out += [_END, struct.pack("<II", self.crc(raw), size & _ONES)]
        return b"".join(out)
