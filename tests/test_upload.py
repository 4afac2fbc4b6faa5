"""Upload pre-check on real small files, renamed files, size limits and photos."""

from __future__ import annotations

import asyncio
import io

import pytest

from dialogs.engine import Context
from dialogs.features.upload import check_file
from dialogs.uploads import TELEGRAM_DOWNLOAD_LIMIT, precheck, sniff

from .conftest import until


def _image(size=(64, 48)):
    from PIL import Image

    img = Image.new("RGB", size, "white")
    for x in range(size[0]):
        img.putpixel((x, x % size[1]), (200, 0, 0))
    return img


def _save(fmt: str) -> bytes:
    out = io.BytesIO()
    _image().save(out, fmt)
    return out.getvalue()


def make_png() -> bytes:
    return _save("PNG")


def make_pdf() -> bytes:
    return _save("PDF")


def make_jpeg() -> bytes:
    return _save("JPEG")


@pytest.mark.parametrize(
    "data,name,kind",
    [
        (make_png(), "scan.png", "png"),
        (make_pdf(), "营业执照.pdf", "pdf"),
        (make_jpeg(), "id.jpeg", "jpg"),
        (make_jpeg(), "ID.JPG", "jpg"),
    ],
)
def test_small_valid_files_pass(kb, data, name, kind):
    assert sniff(data) == kind
    result = precheck(kb, data, name, None)
    assert result.ok and result.problems == []


def test_real_files_open_as_what_they_claim():
    from PIL import Image

    assert Image.open(io.BytesIO(make_jpeg())).format == "JPEG"
    assert Image.open(io.BytesIO(make_png())).format == "PNG"
    assert make_pdf().startswith(b"%PDF-")


def test_other_real_formats_are_refused_with_advice(kb):
    for fmt, kind, advice in (("GIF", "gif", "to_image"), ("BMP", "bmp", "to_image"), ("TIFF", "tiff", "to_image")):
        result = precheck(kb, _save(fmt), f"scan.{kind}", None)
        assert not result.ok and result.problems[0] == ("bad_type", {"type": kind}) and (advice, {}) in result.advice


def test_renamed_non_image_fails_with_the_reason(kb, plain_guide):
    docx = b"PK\x03\x04" + b"\x00" * 200
    result = precheck(kb, docx, "scan.jpg", None)
    assert not result.ok and result.problems[0][0] == "bad_type"
    text = check_file(plain_guide, Context(), docx, "scan.jpg", None).text
    assert "ZIP/Word(docx)/Excel(xlsx)" in text and "PDF" in text


def test_png_named_jpg_is_a_mismatch(kb):
    result = precheck(kb, make_png(), "photo.jpg", None)
    assert not result.ok and result.problems == [("ext_mismatch", {"ext": "jpg", "detected": "png"})]


def test_size_limit_boundary(kb):
    limit = 3_000_000
    at = make_jpeg() + b"\x00" * (limit - len(make_jpeg()))
    assert len(at) == limit and precheck(kb, at, "a.jpg", None).ok
    over = at + b"\x00"
    result = precheck(kb, over, "a.jpg", None)
    assert not result.ok and result.problems[0][0] == "too_big" and ("compress_image", {}) in result.advice


def test_over_telegram_limit_is_answered_without_download(kb, plain_guide):
    result = precheck(kb, None, "scan.pdf", 25 * 1024 * 1024)
    assert not result.ok and result.detected is None and ("not_downloaded", {}) in result.advice
    assert "20MB" in check_file(plain_guide, Context(), None, "scan.pdf", 25 * 1024 * 1024).text


def test_html_looking_file_name_is_escaped(plain_guide):
    screen = check_file(plain_guide, Context(), make_pdf(), "<b>x</b>&.pdf", None)
    assert "&lt;b&gt;x&lt;/b&gt;&amp;.pdf" in screen.html and "<b>x</b>" not in screen.html


def test_limits_come_from_the_knowledge(kb):
    from knowledge import load_knowledge

    other = load_knowledge(kb.directory)
    fact = other.facts["upload_files"]
    other.facts["upload_files"] = fact.model_copy(update={"values": {**fact.values, "max_file_mb": 1}})
    data = make_jpeg() + b"\x00" * 1_500_000
    assert precheck(kb, data, "a.jpg", None).ok and not precheck(other, data, "a.jpg", None).ok


async def test_documents_and_photos_in_telegram(fake, bot_app):
    user = fake.user()
    ok = await user.send_document(make_pdf(), "营业执照.pdf", "application/pdf")
    assert "可以上传" in ok.plain
    renamed = await user.send_document(b"PK\x03\x04" + b"\x00" * 100, "scan.jpg", "image/jpeg")
    assert "可能无法上传" in renamed.plain and "PDF" in renamed.plain
    downloads = len(fake.calls("getFile"))
    big = await user.send_document(None, "huge.pdf", "application/pdf", size=30 * 1024 * 1024)
    assert "超过江苏省指南写的 3MB 上限" in big.plain and "20MB" in big.plain
    assert len(fake.calls("getFile")) == downloads  # answered without downloading
    photo = await user.send_photo(make_jpeg())
    assert "Telegram 会压缩照片" in photo.plain


# -- bounded work: hostile files, the time budget, the pool ------------------------------------------
def test_hostile_jpegs_are_judged_damaged(kb):
    """A JPEG header on 20 MB of fill bytes, or on millions of empty segments: damaged (the walk is
    bounded: fill bytes skipped at once, at most MAX_SEGMENTS segments), real JPEGs still pass."""
    from dialogs.uploads import MAX_SEGMENTS

    fill = b"\xff\xd8" + b"\xff" * TELEGRAM_DOWNLOAD_LIMIT
    empty_segments = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 2_000_000
    padded = make_jpeg()[:2] + b"\xff" * 1000 + make_jpeg()[2:]  # fill bytes before a marker are allowed
    for data in (fill, empty_segments):
        assert ("damaged", {"type": "jpg"}) in precheck(kb, data, "scan.jpg", None).problems
    assert precheck(kb, padded, "scan.jpg", None).ok
    just_enough = make_jpeg()[:2] + b"\xff\xfe\x00\x02" * (MAX_SEGMENTS - 20) + make_jpeg()[2:]
    assert precheck(kb, just_enough, "scan.jpg", None).ok


async def test_a_check_over_its_time_budget_or_beyond_the_pool_says_so(plain_guide, monkeypatch):
    import threading

    from dialogs import uploads
    from dialogs.features import upload

    hostile = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 2_000_000
    monkeypatch.setattr(uploads, "PRECHECK_BUDGET_S", 0.0)
    screen = await upload.check_file_off_loop(plain_guide, Context(), hostile, "scan.jpg", len(hostile))
    assert "没能在规定时间内检查完" in screen.text and "可以上传" not in screen.text
    monkeypatch.setattr(uploads, "PRECHECK_BUDGET_S", 5.0)
    monkeypatch.setattr(uploads, "_slots", threading.BoundedSemaphore(1))
    assert uploads._slots.acquire(blocking=False)  # the one place is taken
    scan = make_pdf().replace(b"%%EOF", b"%" + b"0" * upload.INLINE_BYTES + b"\n%%EOF")
    screen = await upload.check_file_off_loop(plain_guide, Context(), scan, "a.pdf", None)
    assert "同时检查的文件太多" in screen.text
    uploads._slots.release()
    screen = await upload.check_file_off_loop(plain_guide, Context(), scan, "a.pdf", None)
    assert "可以上传" in screen.text


async def test_a_slow_check_in_telegram_does_not_hold_up_the_event_loop(fake, tmp_path, monkeypatch):
    """eport-guide run --web: while the bot checks a file, the web pages on the same loop are served."""
    import threading

    import httpx

    from dialogs.features import upload
    from web.server import attach

    from .conftest import running_bot
    from .test_web import free_port

    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    real = upload.precheck

    def slow(*args, **kwargs):
        started.set()
        release.wait(5)  # on the event loop this would hold up everything for 5 s
        finished.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(upload, "precheck", slow)
    port = free_port()
    async with running_bot(fake, tmp_path / "one.db", before_init=attach, web_port=port):
        scan = make_pdf().replace(b"%%EOF", b"%" + b"0" * upload.INLINE_BYTES + b"\n%%EOF")  # a file checked in the pool
        task = asyncio.ensure_future(fake.user(id=81).send_document(scan, "营业执照.pdf", "application/pdf"))
        await until(started.is_set, 10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as web:
            assert (await web.get("/")).status_code == 200
        assert not finished.is_set()  # answered while the file was still being checked
        release.set()
        await task
        await fake.wait_for(lambda: any("可以上传" in m.plain for m in fake.user(id=81).messages), timeout=10, what="the verdict")
