"""Template environment (one per language, compiled once) and HTML → plain text."""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

import jinja2
import markupsafe

from . import i18n


@lru_cache(maxsize=None)
def environment(lang: str, html: bool = True) -> jinja2.Environment:
    """Templates for ``lang``; ``html=False`` for plain-text labels (no escaping)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dialogs", "templates"),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["tr"] = lambda text: i18n.beside(text, lang)  # translation of an official term, "" in Chinese
    env.filters["beside"] = lambda text: f"（{t}）" if (t := i18n.beside(text, lang)) else ""
    env.filters["labelled"] = lambda fact: labelled(fact, lang)
    env.filters["intl_phone"] = intl_phone
    env.filters["map_url"] = map_url
    env.filters["code_marks"] = code_marks if html else (lambda text, marks: text)
    return env


def labelled(fact, lang: str) -> str:
    """A fact's verbatim text with its title translated beside it: "满洲里制卡中心客服热线
    （Hotline of the Manzhouli card centre）：0470-2299089、2299090" (unchanged in Chinese)."""
    text, title = fact.text, fact.title
    translated = i18n.beside(title, lang)
    if not translated:
        return text
    if text.startswith(title):
        return f"{title}（{translated}）{text[len(title):]}"
    return f"{text}（{translated}）"


def code_marks(text: str, marks) -> markupsafe.Markup:
    """Escape ``text`` and show each of ``marks`` (annotation strings) in monospace, so a
    tap copies it in Telegram."""
    out = markupsafe.escape(text)
    for mark in marks or ():
        m = markupsafe.escape(mark)
        out = markupsafe.Markup(str(out).replace(str(m), f"<code>{m}</code>"))
    return markupsafe.Markup(out)


def intl_phone(number: str) -> str:
    """"0470-2299089" → "+86 470 2299089" (mainland numbers drop the trunk 0)."""
    digits = number.replace("-", "")
    if number.startswith("1") and len(digits) == 11:
        return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
    area, _, local = number.partition("-")
    return f"+86 {area.lstrip('0')} {local}" if local else f"+86 {digits.lstrip('0')}"


def map_url(address: str, city: str = "") -> str:
    """A map search for the address (no coordinates are invented)."""
    from urllib.parse import quote

    return f"https://uri.amap.com/search?keyword={quote(address)}&city={quote(city)}"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag == "a" and self._href:
            href = self._href.pop()
            if href:
                self.parts.append(f" ({href})")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Telegram-HTML to what a reader sees as plain text."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def tidy(markup: str) -> str:
    """Collapse runs of blank lines left by conditional template blocks."""
    markup = re.sub(r"[ \t]+\n", "\n", markup)
    return re.sub(r"\n{3,}", "\n\n", markup).strip()

