"""Upload pre-check on real small files, renamed files, size limits and photos."""

from __future__ import annotations

import io
import zlib

import png
import pytest

from dialogs.engine import Context
from dialogs.upload import precheck, sniff


def make_png(width=64, height=64) -> bytes:
    out = io.BytesIO()
    png.Writer(width, height, greyscale=True).write(out, [[(x * y) % 256 for x in range(width)] for y in range(height)])
    return out.getvalue()


def make_pdf() -> bytes:
    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    body += b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    return body


def make_jpeg() -> bytes:
    # a minimal baseline JPEG header (SOI, APP0/JFIF) followed by filler and EOI
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + zlib.compress(b"x" * 2000) + b"\xff\xd9"


@pytest.mark.parametrize("data,name,kind", [(make_png(), "scan.png", "png"), (make_pdf(), "营业执照.pdf", "pdf"),
                                            (make_jpeg(), "id.jpeg", "jpg"), (make_jpeg(), "ID.JPG", "jpg")])
def test_small_valid_files_pass(kb, data, name, kind):
    assert sniff(data) == kind
    result = precheck(kb, data, name, None)
    assert result.ok and result.problems == []


def test_renamed_non_image_fails_with_the_reason(kb, engine):
    docx = b"PK\x03\x04" + b"\x00" * 200
    result = precheck(kb, docx, "scan.jpg", None)
    assert not result.ok and result.problems[0][0] == "bad_type"
    text = engine.precheck(Context(), docx, "scan.jpg", None).text
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


def test_over_telegram_limit_is_answered_without_download(kb, engine):
    result = precheck(kb, None, "scan.pdf", 25 * 1024 * 1024)
    assert not result.ok and result.detected is None and ("not_downloaded", {}) in result.advice
    assert "20MB" in engine.precheck(Context(), None, "scan.pdf", 25 * 1024 * 1024).text


def test_html_looking_file_name_is_escaped(engine):
    screen = engine.precheck(Context(), make_pdf(), "<b>x</b>&.pdf", None)
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
    assert "超过 3MB" in big.plain and "20MB" in big.plain
    assert len(fake.calls("getFile")) == downloads  # answered without downloading
    photo = await user.send_photo(make_jpeg())
    assert "Telegram 会压缩照片" in photo.plain
