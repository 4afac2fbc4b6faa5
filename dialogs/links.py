"""Deep links into the bot and QR codes of them, for help-desk staff to hand out (the QR libraries
are loaded only when a code is drawn)."""

from __future__ import annotations

import html
from pathlib import Path

from knowledge import Knowledge


def chat_link(bot_username: str) -> str:
    """The bot's private chat (``https://t.me/<bot>``)."""
    return f"https://t.me/{bot_username.lstrip('@')}"


def deep_link(bot_username: str, topic: str) -> str:
    """The bot's private chat opened with ``/start TOPIC``."""
    return f"{chat_link(bot_username)}?start={topic}"


def web_link(base_url: str, topic: str) -> str:
    """The web page of a topic (``eport-guide web``): works in any phone browser, WeChat's too."""
    return f"{base_url.rstrip('/')}/t/{topic}"


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules (True = dark), including the quiet-zone border."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def write_qr_png(data: str, path: str | Path, box_size: int = 8) -> Path:
    """Write a black-on-white PNG of the QR code for ``data`` (pure Python, no PIL)."""
    import qrcode
    import qrcode.image.pure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4, image_factory=qrcode.image.pure.PyPNGImage
    )
    code.add_data(data)
    code.make(fit=True)
    with path.open("wb") as fh:
        code.make_image().save(fh)
    return path


def write_sheet(kb: Knowledge, bot_username: str | None, out_dir: str | Path, link=None) -> Path:
    """One QR PNG per topic plus an HTML sheet (topic name, QR, link) to print; ``link``
    (topic → URL) replaces the Telegram deep link, e.g. with ``web_link``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    link_of = link or (lambda topic: deep_link(bot_username or "", topic))
    for topic, business in kb.businesses.items():
        link = link_of(topic)
        write_qr_png(link, out / f"{topic}.png")
        category = kb.categories[business.category].name
        rows.append(
            f"<tr><td><b>{html.escape(business.name)}</b><br><small>{html.escape(category)}</small></td>"
            f'<td><img src="{topic}.png" width="160" height="160" alt="QR {topic}"></td>'
            f'<td><a href="{html.escape(link)}">{html.escape(link)}</a></td></tr>'
        )
    sheet = out / "index.html"
    sheet.write_text(
        '<!doctype html><html lang="zh"><meta charset="utf-8"><title>电子口岸制发卡业务 — 扫码查看办理指南</title>'
        "<style>body{font-family:sans-serif}td{border-bottom:1px solid #ccc;padding:8px}@media print{a{color:#000}}</style>"
        "<h1>电子口岸制发卡业务 — 扫码查看办理指南</h1><table>" + "".join(rows) + "</table></html>\n",
        encoding="utf-8",
    )
    return sheet
