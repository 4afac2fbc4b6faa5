"""What the bot needs of python-telegram-bot beyond its ordinary named methods, in one place.

Supported: python-telegram-bot ``>=22.0,<23`` (``SUPPORTED``, the range in pyproject.toml).
``check_version()`` runs when the Telegram application is built (``bot.app.build_application``)
and stops the start-up with one line naming the installed and the supported versions: the raw
call below depends on that major version's behaviour, and a silent change would show up only
as lost replies.

Everything here is public API of the library:

- ``raw_call(bot, endpoint, params)``: ``Bot.do_api_request`` with the parameters as the Bot
  API takes them; Telegram's reply (the whole Message it echoes: text, entities, keyboard) is not
  read (see ``bot.delivery``: the bot never reads it, and even decoding its JSON costs about as
  much as rendering a screen). It goes through the bot's request stack: the rate limiter, the
  proxy, the error mapping (a refused edit raises ``BadRequest``).
- ``UnreadReplies(request)``: the bot's ``BaseRequest`` (``bot.app.build_application`` wraps the
  HTTP client in it): every call is the wrapped request's; only a successful reply to a raw call
  is not decoded — ``BaseRequest.parse_json_payload``, which the library documents as the method
  to override, answers ``{"ok": true, "result": true}`` for it. Errors (any status outside 2xx)
  and every other call's reply are decoded as the library does.
- The library warns (``PTBUserWarning``) that a named method exists for an endpoint passed to
  ``do_api_request``; that one warning is filtered for ``RAW_ENDPOINTS`` only, for the whole
  process, when this module is imported.
"""

from __future__ import annotations

import contextvars
import warnings
from typing import Any

import telegram
from telegram import Bot
from telegram.request import BaseRequest, RequestData
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


# Set while a raw call is under way (the request stack runs in the caller's task, so it sees it):
# its successful reply is not decoded.
_reply_unread: contextvars.ContextVar[bool] = contextvars.ContextVar("reply_unread", default=False)
OK = b'{"ok":true'  # how every successful Bot API reply begins


async def raw_call(bot: Bot, endpoint: str, params: dict[str, Any]) -> Any:
    """``endpoint`` (one of ``RAW_ENDPOINTS``) with ``params`` as the Bot API takes them. The result is
    what the bot's request makes of Telegram's reply: with ``UnreadReplies`` (the bot's), ``True`` for
    success, the reply left undecoded; a refusal raises as the library's own calls do."""
    token = _reply_unread.set(True)
    try:
        return await bot.do_api_request(endpoint, api_kwargs=params)
    finally:
        _reply_unread.reset(token)


class UnreadReplies(BaseRequest):
    """``request`` (the HTTP client, or a test's offline one) for the bot's calls, except that a
    successful reply to a ``raw_call`` is not decoded (its result is ``True``). Everything else —
    sending, timeouts, downloads, the decoding of errors and of every other reply — is ``request``'s."""

    def __init__(self, request: BaseRequest):
        self.wrapped = request

    @property
    def read_timeout(self) -> float | None:
        """The wrapped request's read timeout."""
        return self.wrapped.read_timeout

    async def initialize(self) -> None:
        """Initialise the wrapped request."""
        await self.wrapped.initialize()

    async def shutdown(self) -> None:
        """Shut the wrapped request down."""
        await self.wrapped.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The wrapped request's call."""
        return await self.wrapped.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:
        """A successful reply to a raw call: not decoded (``{"ok": true, "result": true}``); any other
        payload as the wrapped request decodes it. The library calls this only for 2xx replies and, to
        read the error, for the others — which never begin with ``{"ok":true``."""
        if _reply_unread.get() and payload.startswith(OK):
            return {"ok": True, "result": True}
        return self.wrapped.parse_json_payload(payload)
