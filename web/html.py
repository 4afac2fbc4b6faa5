"""Telegram HTML (what the engine renders) → HTML for a web page.

Only the tags Telegram allows pass, links only with http, https or tel, everything else
is escaped: the page shows exactly what the chat shows, and nothing in a screen can add
markup or script to the page. Mainland phone numbers become ``tel:`` links.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "blockquote"}
SCHEMES = ("http://", "https://", "tel:")
# 0470-2299089 (area code, number) and 18947604303 (mobile); not parts of longer digit runs
PHONE = re.compile(r"(?<![\d-])(0\d{2,3}-\d{7,8}|1[3-9]\d{9})(?![\d-])")
# "0470-2299089、2299090": a number after "、" shares the area code of the one before it (as the
# documents write the hotline); each is its own link, the text unchanged
MORE = re.compile(r"、(\d{7,8})(?![\d-])")


def tel(number: str) -> str:
    """"0470-2299089" → "tel:+864702299089" (the trunk 0 dropped)."""
    digits = number.replace("-", "")
    return "tel:+86" + (digits if number.startswith("1") else digits.lstrip("0"))


def is_phone(text: str) -> bool:
    return bool(PHONE.fullmatch(text.strip()))


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.in_link = 0

    def handle_starttag(self, tag, attrs):
        if tag in TAGS:
            self.out.append(f"<{tag}>")
            self.open.append(tag)
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            if href.lower().startswith(SCHEMES):
                self.out.append(f'<a href="{html.escape(href, quote=True)}" rel="noopener noreferrer">')
            else:
                self.out.append("<a>")
            self.open.append("a")
            self.in_link += 1

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open:  # close whatever was left open inside it
                inner = self.open.pop()
                self.out.append(f"</{inner}>")
                if inner == "a":
                    self.in_link -= 1
                if inner == tag:
                    break

    def handle_data(self, data):
        if self.in_link:
            self.out.append(html.escape(data, quote=False))
            return
        pos = 0
        for m in PHONE.finditer(data):
            if m.start() < pos:  # already linked as a number sharing an area code
                continue
            self.out.append(html.escape(data[pos:m.start()], quote=False))
            self.out.append(f'<a href="{tel(m.group(1))}">{m.group(1)}</a>')
            pos = m.end()
            if m.group(1).startswith("0"):
                area = m.group(1).split("-")[0]
                while (more := MORE.match(data, pos)) is not None:
                    self.out.append(f'、<a href="{tel(area + "-" + more.group(1))}">{more.group(1)}</a>')
                    pos = more.end()
        self.out.append(html.escape(data[pos:], quote=False))

    def close(self):
        super().close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")


def to_web(markup: str) -> str:
    parser = _Converter()
    parser.feed(markup)
    parser.close()
    return "".join(parser.out)
