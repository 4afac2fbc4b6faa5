"""Upload pre-check: would the online system accept this file? (the precheck screen)

The rule (formats jpg/jpeg/png/pdf, at most 3MB a file) comes from the Jiangsu guide's
quote in knowledge/data/facts.yaml (``upload_files``), not from this code. The type is
detected from the file's first bytes, so a renamed file is caught. "3MB" is read
conservatively as 3,000,000 bytes: a file between 3,000,000 and 3×1024×1024 bytes might
be accepted, but we do not promise it. File contents are never stored.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from typing import TYPE_CHECKING, Any

from knowledge import Knowledge

from ..engine import Context, Screen, clean_text
from ._shared import sources
from .online import first_step

if TYPE_CHECKING:
    from ..guide import Guide

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # bots cannot download bigger files

SIGNATURES: list[tuple[bytes, int, str]] = [  # (magic, offset, type)
    (b"\xff\xd8\xff", 0, "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"%PDF-", 0, "pdf"),
    (b"PK\x03\x04", 0, "zip"),  # also docx, xlsx, ofd
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "doc"),  # old Word/Excel
    (b"GIF8", 0, "gif"),
    (b"BM", 0, "bmp"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"ftypheic", 4, "heic"),
    (b"ftypheix", 4, "heic"),
    (b"ftypmif1", 4, "heic"),
    (b"Rar!", 0, "rar"),
]


def sniff(data: bytes) -> str:
    """The file type from its first bytes."""
    for magic, offset, kind in SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:512]
    if head and all(b in b"\t\n\r" or 32 <= b < 127 or b >= 128 for b in head):
        try:
            head.decode("utf-8")
            return "text"
        except UnicodeDecodeError:
            pass
    return "unknown"


SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_intact(data: bytes) -> bool:
    """Walk the JPEG segments: a frame header with a size, then the scan, then the end marker."""
    i, frame = 2, False
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2 or i + 2 + length > len(data):
            return False
        if marker in SOF_MARKERS:
            if length < 8:
                return False
            height, width = int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 7:i + 9], "big")
            if not height or not width:
                return False
            frame = True
        if marker == 0xDA:  # start of scan: the image data runs to the end marker
            return frame and data.rfind(b"\xff\xd9") > i
        i += 2 + length
    return False


def _png_intact(data: bytes) -> bool:
    """The IHDR chunk with a valid CRC and a non-empty size, and an IEND chunk after it."""
    if len(data) < 45 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return False
    if zlib.crc32(data[12:29]) != int.from_bytes(data[29:33], "big"):
        return False
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return bool(width and height) and data.rfind(b"IEND") > 33


def _pdf_intact(data: bytes) -> bool:
    """A PDF has objects and ends (possibly after incremental updates) with %%EOF."""
    return b" obj" in data and data.rfind(b"%%EOF") > 8


INTACT = {"jpg": _jpeg_intact, "png": _png_intact, "pdf": _pdf_intact}


def intact(data: bytes, kind: str) -> bool:
    """Whether a file of an accepted type is whole, beyond its first bytes (a renamed or cut-off file is not)."""
    check = INTACT.get(kind)
    return check(data) if check else True


def extension(file_name: str | None) -> str | None:
    if not file_name or "." not in file_name:
        return None
    ext = file_name.rsplit(".", 1)[1].lower()
    return "jpg" if ext == "jpeg" else ext


@dataclass(frozen=True)
class PrecheckResult:
    ok: bool
    file_name: str | None
    size: int | None
    detected: str | None  # the type sniffed from the first bytes (see SIGNATURES), None when not downloaded
    problems: list[tuple[str, dict]] = field(default_factory=list)
    advice: list[tuple[str, dict]] = field(default_factory=list)
    photo: bool = False
    limit_bytes: int = 0


def limits(kb: Knowledge) -> tuple[set[str], int]:
    values = kb.facts["upload_files"].values
    formats = {"jpg" if f == "jpeg" else f for f in values["formats"]}
    return formats, int(values["max_file_mb"]) * 1000 * 1000


def precheck(kb: Knowledge, data: bytes | None, file_name: str | None, size: int | None, *, photo: bool = False) -> PrecheckResult:
    formats, limit = limits(kb)
    size = len(data) if data is not None else size
    detected = sniff(data) if data is not None else None
    ext = extension(file_name)
    problems: list[tuple[str, dict]] = []  # (message code, values) — worded in precheck.j2
    advice: list[tuple[str, dict]] = []
    if size is not None and size > limit:
        problems.append(("too_big", {"size": f"{size / 1_000_000:.1f}", "limit": limit // 1_000_000}))
        advice.append(("compress_pdf", {}) if (detected == "pdf" or ext == "pdf") else ("compress_image", {}))
    if data is None and size is not None and size > TELEGRAM_DOWNLOAD_LIMIT:
        advice.append(("not_downloaded", {}))
    if detected is not None:
        if detected not in formats:
            problems.append(("bad_type", {"type": detected}))
            if detected in ("zip", "doc", "text"):
                advice.append(("to_pdf", {}))
            elif detected in ("heic", "webp", "gif", "bmp", "tiff"):
                advice.append(("to_image", {}))
            else:
                advice.append(("use_scan", {}))
        elif not intact(data, detected):
            problems.append(("damaged", {"type": detected}))
            advice.append(("resave", {}))
        elif ext is not None and ext != detected:
            problems.append(("ext_mismatch", {"ext": ext, "detected": detected}))
            advice.append(("rename", {"detected": detected}))
        elif ext is None and file_name:
            problems.append(("no_ext", {}))
            advice.append(("rename", {"detected": detected}))
    elif ext is not None and ext not in formats:
        problems.append(("bad_ext", {"ext": ext}))
    return PrecheckResult(ok=not problems, file_name=file_name, size=size, detected=detected, problems=problems,
                          advice=advice, photo=photo, limit_bytes=limit)


# -- the screen ------------------------------------------------------------------------------
def check_file(guide: "Guide", ctx: Context, data: bytes | None, file_name: str | None, size: int | None, *,
               photo: bool = False) -> Screen:
    """A file the user sent (a channel downloads it, or only knows its size): the precheck screen."""
    file_name = clean_text(file_name)[:200] or None
    result = precheck(guide.kb, data, file_name, size, photo=photo)
    return guide.engine.render("precheck", ctx, variables={"result": result})


def screen(guide: "Guide", arg: str | None, ctx: Context) -> dict[str, Any]:
    """The precheck screen's rule and sources (``check_file`` passes the ``result``)."""
    kb = guide.kb
    rule = kb.facts["upload_files"]
    return {"rule": rule, "first_step": first_step(kb), "sources": sources(kb, [rule.source])}
