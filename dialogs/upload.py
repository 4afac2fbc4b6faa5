"""Upload pre-check: would the online system accept this file?

The rule (formats jpg/jpeg/png/pdf, at most 3MB a file) comes from the Jiangsu guide's
quote in knowledge/data/facts.yaml (``upload_files``), not from this code. The type is
detected from the file's first bytes, so a renamed file is caught. "3MB" is read
conservatively as 3,000,000 bytes: a file between 3,000,000 and 3×1024×1024 bytes might
be accepted, but we do not promise it. File contents are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    detected: str | None  # a key of TYPE_NAMES, None when not downloaded
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
