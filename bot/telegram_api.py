"""What the bot needs of python-telegram-bot beyond its ordinary named methods, in one place.

Supported: python-telegram-bot ``>=22.0,<23`` (``SUPPORTED``, the range in pyproject.toml).
``check_version()`` runs when the Telegram application is built (``bot.app.build_application``)
and stops the start-up with one line naming the installed and the supported versions: the raw
call below depends on that major version's behaviour, and a silent change would show up only
as lost replies.

Everything here is public API of the library:

- ``raw_call(bot, endpoint, params)``: ``Bot.do_api_request`` with the parameters as the Bot
  API takes them, the reply left as JSON (see ``bot.delivery``: the bot never reads the Message
  Telegram echoes, and parsing it costs more than rendering a screen). It goes through the bot's
  request stack: the rate limiter, the proxy, the error mapping (a refused edit raises
  ``BadRequest``).
- The library warns (``PTBUserWarning``) that a named method exists for an endpoint passed to
  ``do_api_request``; that one warning is filtered for ``RAW_ENDPOINTS`` only, for the whole
  process, when this module is imported.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable
from typing import Any

import telegram
from telegram import Bot
from telegram.warnings import PTBUserWarning

SUPPORTED = ((22, 0), (23, 0))  # [lowest, first unsupported): keep in step with pyproject.toml
RAW_ENDPOINTS = ("sendMessage", "editMessageText")  # sent with raw_call (bot.delivery)
RAW_WARNING = rf"Please use 'Bot\.({'|'.join(RAW_ENDPOINTS)})' instead"

warnings.filterwarnings("ignore", message=RAW_WARNING, category=PTBUserWarning)


class UnsupportedLibrary(RuntimeError):
    """The installed python-telegram-bot is outside ``SUPPORTED`` (the message is one line)."""


def supported_range() -> str:
    """The supported versions as a requirement specifier, e.g. ``>=22.0,<23.0``."""
    (low_major, low_minor), (high_major, high_minor) = SUPPORTED
    return f">={low_major}.{low_minor},<{high_major}.{high_minor}"


def check_version(version: tuple[int, ...] | None = None) -> None:
    """Raise ``UnsupportedLibrary`` unless ``version`` (default: the installed library's) is in
    ``SUPPORTED`` and the library still has the public raw call."""
    installed = tuple(telegram.__version_info__[:2]) if version is None else tuple(version[:2])
    low, high = SUPPORTED
    shown = ".".join(map(str, installed))
    if not low <= installed < high:
        raise UnsupportedLibrary(
            f"python-telegram-bot {shown} is installed; this bot supports {supported_range()} "
            "(install the pinned versions: pip install -c requirements.lock -e .)"
        )
    if not callable(getattr(Bot, "do_api_request", None)):
        raise UnsupportedLibrary(f"python-telegram-bot {shown} has no Bot.do_api_request; this bot supports {supported_range()}")


def raw_call(bot: Bot, endpoint: str, params: dict[str, Any]) -> Awaitable[Any]:
    """``endpoint`` (one of ``RAW_ENDPOINTS``) with ``params`` as the Bot API takes them; the
    awaitable's result is Telegram's reply, unparsed."""
    return bot.do_api_request(endpoint, api_kwargs=params)
