"""Message catalogues: gettext translations per interface language (zh is the source)."""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "zh"
LANGUAGES = ("zh",)  # extended as catalogues are added under locale/
LANGUAGE_NAMES = {"zh": "中文", "ru": "Русский", "en": "English"}


def normalise_language(code: str | None) -> str:
    """Map a Telegram language_code ("ru", "en-US", "zh-hans") to a supported language."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation("messages", localedir=str(LOCALE_DIR), languages=[lang], fallback=True)
