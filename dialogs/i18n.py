"""Message catalogues: gettext translations per interface language (zh is the source)."""

from __future__ import annotations

import gettext as gettext_module
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "zh"
LANGUAGES = ("zh", "ru", "en")
TRANSLATED = ("ru", "en")  # catalogues under locale/<lang>/LC_MESSAGES/messages.po
LANGUAGE_NAMES = {"zh": "中文", "ru": "Русский", "en": "English"}


def normalise_language(code: str | None) -> str:
    """Map a Telegram language_code ("ru", "en-US", "zh-hans") to a supported language."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext_module.NullTranslations:
    """The catalogue of ``lang``, compiled in memory from its .po file on first use."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not path.exists():
        return gettext_module.NullTranslations()
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def gettext(message: str, lang: str) -> str:
    """``message`` (its Chinese source text) in ``lang``; itself where the catalogue has no translation."""
    return translations(lang).gettext(message)


def t(message: str, ctx: Any) -> str:
    """The translation function of Python code: ``message`` in the language of ``ctx`` — an
    ``engine.Context`` (who is asking) or a language code. Extracted for the catalogues like ``_()``."""
    return translations(ctx if isinstance(ctx, str) else ctx.lang).gettext(message)


def beside(text: str, lang: str) -> str:
    """The translation of an official Chinese term, to show beside it (empty in Chinese)."""
    if lang == DEFAULT_LANGUAGE or not text:
        return ""
    translated = translations(lang).gettext(text)
    return "" if translated == text else translated
