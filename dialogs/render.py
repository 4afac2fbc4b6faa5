"""Template environment (one per language, compiled once) and HTML → plain text."""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Callable

import markupsafe

from . import i18n
from .limits import MAX_MESSAGE

if TYPE_CHECKING:
    import jinja2


@lru_cache(maxsize=None)
def environment(lang: str, html: bool = True) -> jinja2.Environment:
    """Templates for ``lang``; ``html=False`` for plain-text labels (no escaping). Jinja is imported with the
    first environment (the first screen rendered), not when the bot starts."""
    import jinja2

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
    env.filters["phones_note"] = lambda text: phones_note(text, lang)
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
        return f"{title}（{translated}）{text[len(title) :]}{phones_note(text, lang)}"
    return f"{text}（{translated}）{phones_note(text, lang)}"


def N_(message: str) -> str:
    """Mark a message for the catalogues; it is translated where it is shown."""
    return message


_PHONE = re.compile(r"(?<![\d-])(?:(\d{3,4})-)?(\d{7,8})(?!\d)")


def phones_note(text: str, lang: str) -> str:
    """For ru/en readers, the numbers of ``text`` written without their area code, in full:
    "0470-2299089、2299090" → " (with the area code: 0470-2299090)" — in Chinese the second
    number shares the first one's area code; a reader of the translation may not know that.
    Empty in Chinese and when every number is written in full. The verbatim text stays."""
    if lang == i18n.DEFAULT_LANGUAGE:
        return ""
    full, area = [], None
    for m in _PHONE.finditer(text):
        if m.group(1):
            area = m.group(1)
        elif area:
            full.append(f"{area}-{m.group(2)}")
    if not full:
        return ""
    return " " + i18n.translations(lang).gettext(N_("（带区号：%(numbers)s）")) % {"numbers": ", ".join(full)}


def code_marks(text: str, marks) -> markupsafe.Markup:
    """Escape ``text`` and show each of ``marks`` (annotation strings) in monospace, so a
    tap copies it in Telegram."""
    out = markupsafe.escape(text)
    for mark in marks or ():
        m = markupsafe.escape(mark)
        out = markupsafe.Markup(str(out).replace(str(m), f"<code>{m}</code>"))
    return markupsafe.Markup(out)


def intl_phone(number: str) -> str:
    """ "0470-2299089" → "+86 470 2299089" (mainland numbers drop the trunk 0)."""
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


# -- Telegram's limits (dialogs.limits), by construction -----------------------------------------
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);|[^<&]+|[<&]", re.S)


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_length(markup: str) -> int:
    """What Telegram counts against the limit: the text without tags, entities as one character."""
    return _units(html_to_text(markup))


def fit_html(markup: str, more: Callable[[int], str], limit: int = MAX_MESSAGE) -> str:
    """Telegram-HTML cut to ``limit`` visible characters: whole lines where possible, open tags closed,
    and ``more(n)`` (e.g. "… 还有 3 行") saying how many lines were left out."""
    if _units(markup) <= limit or visible_length(markup) <= limit:  # the markup is never shorter than its text
        return markup
    budget = limit - 80  # room for the "… and N more" line
    out: list[str] = []
    stack: list[str] = []
    used = 0
    last_newline = None  # (len(out), len(stack snapshot), stack copy) at the last line break
    for m in _TOKEN.finditer(markup):
        token = m.group(0)
        if m.group(2):  # a tag
            name = m.group(2).lower()
            if m.group(1):
                if stack and stack[-1] == name:
                    stack.pop()
            else:
                stack.append(name)
            out.append(token)
            continue
        visible = 1 if token.startswith("&") and len(token) > 1 else _units(token)
        if used + visible > budget:
            if token.startswith("&") and len(token) > 1:
                break
            room = budget - used
            piece = token
            while piece and _units(piece) > room:
                piece = piece[: max(len(piece) - max((_units(piece) - room), 1), 0)]
            if "\n" in piece:
                piece = piece[: piece.rindex("\n")]
                out.append(piece)
                last_newline = None
            elif last_newline is not None:
                n, saved = last_newline
                out, stack = out[:n], saved
            else:
                out.append(piece)
            break
        if "\n" in token:
            cut = token.rindex("\n")
            out.append(token[:cut])
            last_newline = (len(out), list(stack))
            out.append(token[cut:])
        else:
            out.append(token)
        used += visible
    kept = "".join(out).rstrip()
    kept += "".join(f"</{name}>" for name in reversed(stack))
    left = html_to_text(markup).count("\n") - html_to_text(kept).count("\n")
    return f"{kept}\n… {escape(more(max(left, 1)))}"
