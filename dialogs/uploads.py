"""Upload pre-check: would the online system accept this file? The file-format checks, without
any screen (``dialogs.features.upload`` wires them to the precheck screen).

The rule (formats jpg/jpeg/png/pdf, at most 3MB a file) comes from the Jiangsu guide's
quote in knowledge/data/facts.yaml (``upload_files``), not from this code. The type is
detected from the file's first bytes, so a renamed file is caught. "3MB" is read
conservatively as 3,000,000 bytes: a file between 3,000,000 and 3×1024×1024 bytes might
be accepted, but we do not promise it. File contents are never stored.

Bounded work: a channel serving many users calls ``dialogs.features.upload.check_file_off_loop``
(``Guide.check_file_off_loop``), never ``check_file``, on its event loop. A file over INLINE_BYTES is checked in a small thread pool (``PRECHECK_WORKERS``
threads, at most ``PRECHECK_PENDING`` files in it at once: beyond that the user is told to try
again) with a time budget (``PRECHECK_BUDGET_S``: the walk gives up, the user is told the file
could not be checked). Why threads and our own walk rather than a process pool or Pillow:
the walk is bounded (at most ``MAX_SEGMENTS`` JPEG segments and ``MAX_FILL`` fill bytes, the
scan data skipped with one C-level search), so a 20 MB hostile file costs milliseconds of the GIL, not
seconds; a thread needs no copy of the 20 MB into another process; and Pillow's own JPEG
header reader steps through fill bytes one Python call at a time (the very stall to avoid),
besides being a new runtime dependency.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from knowledge import Knowledge


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
        if data[offset : offset + len(magic)] == magic:
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
MAX_SEGMENTS = 1000  # segments before the scan: a real JPEG has a few dozen at most
MAX_FILL = 64 * 1024  # fill bytes (0xFF padding between segments) in all: real files have a handful
FILL = re.compile(rb"\xff+")


class PrecheckTimeout(Exception):
    """The check ran over its time budget (``PRECHECK_BUDGET_S``)."""


def _jpeg_intact(data: bytes, deadline: float | None = None) -> bool:
    """Walk the JPEG segments: a frame header with a size, then the scan, then the end marker.
    Bounded: runs of fill bytes are skipped in one C-level match (MAX_FILL of them in all), at most
    MAX_SEGMENTS segments are walked (more: damaged), and the walk stops at ``deadline``
    (``time.monotonic()``)."""
    i, frame, fill = 2, False, MAX_FILL
    for segment in range(MAX_SEGMENTS):
        if i + 4 > len(data):
            return False
        if deadline is not None and segment % 64 == 63 and time.monotonic() > deadline:
            raise PrecheckTimeout
        if data[i] != 0xFF:
            return False
        run = FILL.match(data, i, i + fill + 2).end() - i - 1  # fill bytes: the last 0xFF is the marker's
        if run > fill:
            return False  # more padding than any real JPEG has
        fill -= run
        i += run
        if i + 4 > len(data):
            return False
        marker = data[i + 1]
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > len(data):
            return False
        if marker in SOF_MARKERS:
            if length < 8:
                return False
            height, width = int.from_bytes(data[i + 5 : i + 7], "big"), int.from_bytes(data[i + 7 : i + 9], "big")
            if not height or not width:
                return False
            frame = True
        if marker == 0xDA:  # start of scan: the image data runs to the end marker
            return frame and data.rfind(b"\xff\xd9") > i
        i += 2 + length
    return False  # more segments than any real JPEG has before its scan


def _png_intact(data: bytes) -> bool:
    """The IHDR chunk with a valid CRC and a non-empty size, and an IEND chunk after it."""
    if len(data) < 45 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return False
    if zlib.crc32(data[12:29]) != int.from_bytes(data[29:33], "big"):
        return False
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return bool(width and height) and data.rfind(b"IEND") > 33


PDF_WINDOW = 1 << 20  # where a PDF's first object and its last %%EOF are looked for (bounded searches)


def _pdf_intact(data: bytes) -> bool:
    """A PDF has objects (the first soon after its header) and ends (possibly after incremental
    updates) with %%EOF."""
    return data.find(b" obj", 0, PDF_WINDOW) != -1 and data.rfind(b"%%EOF", max(0, len(data) - PDF_WINDOW)) > 8


INTACT = {"jpg": _jpeg_intact, "png": _png_intact, "pdf": _pdf_intact}


def intact(data: bytes, kind: str, deadline: float | None = None) -> bool:
    """Whether a file of an accepted type is whole, beyond its first bytes (a renamed or cut-off file is not)."""
    if kind == "jpg":
        return _jpeg_intact(data, deadline)
    check = INTACT.get(kind)
    return check(data) if check else True


def extension(file_name: str | None) -> str | None:
    """The file name's extension, lower case (jpeg read as jpg), None without one."""
    if not file_name or "." not in file_name:
        return None
    ext = file_name.rsplit(".", 1)[1].lower()
    return "jpg" if ext == "jpeg" else ext


@dataclass(frozen=True)
class PrecheckResult:
    """The verdict on one file: ok, what was found and the advice, with the limit applied."""

    ok: bool
    file_name: str | None
    size: int | None
    detected: str | None  # the type sniffed from the first bytes (see SIGNATURES), None when not downloaded
    problems: list[tuple[str, dict]] = field(default_factory=list)
    advice: list[tuple[str, dict]] = field(default_factory=list)
    photo: bool = False
    limit_bytes: int = 0


def limits(kb: Knowledge) -> tuple[set[str], int]:
    """The accepted formats and the byte limit, from the knowledge's upload fact."""
    values = kb.facts["upload_files"].values
    formats = {"jpg" if f == "jpeg" else f for f in values["formats"]}
    return formats, int(values["max_file_mb"]) * 1000 * 1000


def precheck(
    kb: Knowledge,
    data: bytes | None,
    file_name: str | None,
    size: int | None,
    *,
    photo: bool = False,
    deadline: float | None = None,
) -> PrecheckResult:
    """The verdict on one file. ``deadline`` (``time.monotonic()``): raise PrecheckTimeout past it."""
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
        elif not intact(data, detected, deadline):
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
    return PrecheckResult(
        ok=not problems,
        file_name=file_name,
        size=size,
        detected=detected,
        problems=problems,
        advice=advice,
        photo=photo,
        limit_bytes=limit,
    )


PRECHECK_WORKERS = 2  # threads checking files; the event loop never does
PRECHECK_PENDING = 8  # files being checked or waiting at once; beyond: "try again in a moment"
PRECHECK_BUDGET_S = 5.0  # a check that takes longer is given up: "could not be checked"
INLINE_BYTES = 64 * 1024  # a file this small is checked on the spot: the bounded walk costs microseconds
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_slots = threading.BoundedSemaphore(PRECHECK_PENDING)


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(PRECHECK_WORKERS, thread_name_prefix="precheck")
        return _executor


def unchecked(file_name: str | None, size: int | None, code: str, *, photo: bool = False) -> PrecheckResult:
    """The verdict when the file could not be checked (``busy``: too many at once; ``timeout``)."""
    return PrecheckResult(ok=False, file_name=file_name, size=size, detected=None, problems=[(code, {})], photo=photo)


async def off_loop(work: Callable[..., Any], *args: Any, budget: float | None = None) -> Any:
    """Run ``work(*args, deadline)`` in the pre-check pool. Raises ``PrecheckBusy`` when
    PRECHECK_PENDING files are already in it, ``PrecheckTimeout`` past ``budget`` seconds (the
    work's own deadline stops it; its slot is freed only when it has really stopped)."""
    budget = PRECHECK_BUDGET_S if budget is None else budget
    slots = _slots
    if not slots.acquire(blocking=False):
        raise PrecheckBusy
    deadline = time.monotonic() + budget

    def run() -> Any:
        try:
            return work(*args, deadline)
        finally:
            slots.release()

    try:
        future = asyncio.get_running_loop().run_in_executor(_pool(), run)
    except BaseException:
        slots.release()
        raise
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout=budget + 1.0)
    except TimeoutError:
        raise PrecheckTimeout from None


class PrecheckBusy(Exception):
    """PRECHECK_PENDING files are being checked already."""
