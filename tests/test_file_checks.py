"""The file check before uploading: damaged, misnamed and unsupported files are named for what they are, with
the advice that fixes each problem.

Each test here once caught a deliberately planted one-line bug the rest of the suite let through.
"""

from __future__ import annotations

import zlib

from dialogs.uploads import precheck, sniff

from .test_upload import _save, make_jpeg, make_pdf, make_png


def _jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, marker, segment length) of each segment before the scan of a baseline JPEG."""
    out, i = [], 2
    while data[i + 1] != 0xDA:
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        out.append((i, data[i + 1], length))
        i += 2 + length
    return out


def test_a_png_that_claims_no_width_or_height_is_reported_damaged(kb):
    good = make_png()
    assert precheck(kb, good, "scan.png", None).ok
    for width, height in ((0, 48), (64, 0)):
        ihdr = b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + good[24:29]
        forged = good[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + good[33:]
        result = precheck(kb, forged, "scan.png", None)
        assert not result.ok and result.problems == [("damaged", {"type": "png"})]


def test_damaged_jpegs_are_reported_and_whole_ones_pass(kb):
    """A scan cut off in the middle, a JPEG without its frame header, one claiming zero height or
    width, a segment running past the end: each would be refused by the system after the upload."""
    good = make_jpeg()
    assert precheck(kb, good, "photo.jpg", None).ok
    sof = next(offset for offset, marker, _ in _jpeg_segments(good) if marker == 0xC0)
    sof_length = int.from_bytes(good[sof + 2 : sof + 4], "big")
    damaged = {
        "cut before the end marker": good[:-200],
        "no frame header": good[:sof] + good[sof + 2 + sof_length :],
        "zero height": good[: sof + 5] + b"\x00\x00" + good[sof + 7 :],
        "zero width": good[: sof + 7] + b"\x00\x00" + good[sof + 9 :],
        "a segment longer than the file": good[: sof + 2] + b"\xff\xf0" + good[sof + 4 :],
    }
    for what, data in damaged.items():
        result = precheck(kb, data, "photo.jpg", None)
        assert not result.ok and result.problems == [("damaged", {"type": "jpg"})], what


def test_webp_text_and_unknown_files_are_named_for_what_they_are(kb):
    """The precheck says what the file really is: a WebP picture, a text file, or something unreadable."""
    webp = _save("WEBP")
    assert sniff(webp) == "webp"
    assert precheck(kb, webp, "scan.jpg", None).problems[0] == ("bad_type", {"type": "webp"})
    assert sniff("营业执照号码：123\n".encode()) == "text" and sniff(b"line one\r\n\tline two") == "text"
    for binary in (b"\x00\x01\x02 binary", b"abc\x7f", b"RIFF\x00\x00\x00\x00WAVE", b"\xff\xfe\xfd"):
        assert sniff(binary) == "unknown", binary


def test_each_problem_comes_with_the_advice_that_fixes_it(kb):
    """What the precheck tells the applicant to do, per problem (the screen words each code)."""
    png, pdf = make_png(), make_pdf()
    cases = [
        # (data, file name, size when not downloaded) → (problems' codes, advice codes)
        ((png, "营业执照.jpg", None), (["ext_mismatch"], [("rename", {"detected": "png"})])),
        ((png, "营业执照", None), (["no_ext"], [("rename", {"detected": "png"})])),
        ((png[:-40], "营业执照.png", None), (["damaged"], [("resave", {})])),
        ((b"PK\x03\x04" + b"\x00" * 100, "申请书.docx", None), (["bad_type"], [("to_pdf", {})])),
        (("营业执照号码".encode(), "scan.txt", None), (["bad_type"], [("to_pdf", {})])),
        ((_save("GIF"), "scan.gif", None), (["bad_type"], [("to_image", {})])),
        ((b"\x00\x01\x02\x03 unknown", "scan.bin", None), (["bad_type"], [("use_scan", {})])),
        ((None, "申请书.pdf", 3_000_001), (["too_big"], [("compress_pdf", {})])),
        ((None, "营业执照.jpg", 3_000_001), (["too_big"], [("compress_image", {})])),
        ((None, "申请书.docx", 1000), (["bad_ext"], [])),
        ((None, "营业执照.JPEG", 1000), ([], [])),
        ((None, "scan.v2.PNG", 1000), ([], [])),
        ((pdf, "营业执照.pdf", None), ([], [])),
    ]
    for (data, name, size), (problems, advice) in cases:
        result = precheck(kb, data, name, size)
        assert [code for code, _ in result.problems] == problems and result.advice == advice, (name, result)
        assert result.ok == (not problems)
    big = precheck(kb, None, "申请书.pdf", 3_000_001)
    assert big.problems[0][1] == {"size": "3.0", "limit": 3} and big.limit_bytes == 3_000_000


async def test_a_file_sent_as_a_document_is_checked_against_its_name(fake, bot_app):
    """A PNG renamed to .jpg: the system checks the extension, so the precheck names the mismatch."""
    reply = await fake.user(id=85).send_document(make_png(), "营业执照.jpg", "image/jpeg")
    assert "营业执照.jpg" in reply.plain and "❌" in reply.plain and ".jpg" in reply.plain and "PNG" in reply.plain
