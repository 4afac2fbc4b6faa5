"""Delivery of a screen to Telegram, in one place (``deliver``: edit in place under a pressed button,
else a new message; then the screen's document), at the lowest cost per update.

Two things python-telegram-bot would otherwise do on every message, and the bot never needs:

- serialise the inline keyboard again: a screen's keyboard is turned into its JSON text once
  (memoised on the buttons, which are immutable) and sent as that text, exactly what the
  library would have put in the request;
- parse the Message Telegram returns: Telegram echoes the whole text, its entities and the
  keyboard, and building ~30 button objects from it costs more than rendering the screen.
  The bot never reads the returned message, so it is not even decoded from JSON.

Both are done with the library's public raw call (``bot.telegram_api.raw_call``, which holds
every such call and the supported library versions): the reply is not decoded (the bot's request,
``bot.telegram_api.UnreadReplies``), and the call still goes through the bot's request stack (the
rate limiter, the proxy, error mapping — a refused edit raises ``BadRequest``).

Telegram failing (a 5xx) or not answering in time is retried after ``RETRY_DELAYS`` (bounded:
a few seconds in all); what Telegram refuses (400, 403) is not.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
)
from telegram.error import BadRequest, NetworkError

from dialogs.engine import Button, Screen

from .photos import send_picture
from .telegram_api import raw_call

log = logging.getLogger("eport_guide.bot")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # for the library's own calls (inline answers)
NO_PREVIEW_JSON = '{"is_disabled":true}'
RETRY_DELAYS = (0.5, 1.0, 2.0)  # seconds before each new attempt after a 5xx or a timeout
T = TypeVar("T")


async def retrying(method: str, call: Callable[[], Awaitable[T]]) -> T:
    """``call()``, tried again after a 5xx or a timeout (TimedOut and other NetworkErrors that are
    not a BadRequest), at most len(RETRY_DELAYS) more times; the last failure is raised."""
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        try:
            return await call()
        except BadRequest:
            raise  # Telegram answered: trying again would get the same answer
        except NetworkError as exc:  # TimedOut is one too
            log.info(
                "%s failed (%s: %s); attempt %d of %d in %.1f s",
                method,
                type(exc).__name__,
                exc,
                attempt + 1,
                len(RETRY_DELAYS) + 1,
                delay,
            )
            await asyncio.sleep(delay)
    return await call()


def _button(b: Button) -> InlineKeyboardButton | None:
    if b.data:
        return InlineKeyboardButton(b.label, callback_data=b.data)
    if b.url:
        return InlineKeyboardButton(b.label, url=b.url)
    if b.copy_text:
        return InlineKeyboardButton(b.label, copy_text=CopyTextButton(b.copy_text))
    if b.switch_inline_query is not None:
        return InlineKeyboardButton(b.label, switch_inline_query=b.switch_inline_query)
    return None


@functools.lru_cache(maxsize=4096)
def markup_of(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The inline keyboard for a screen's buttons (memoised: buttons are immutable, objects reused)."""
    rows = [[b for b in map(_button, row) if b is not None] for row in buttons]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


@functools.lru_cache(maxsize=4096)
def markup_json(buttons: tuple[tuple[Button, ...], ...]) -> str | None:
    """The keyboard as the JSON text the Bot API takes (serialised once per distinct keyboard)."""
    markup = markup_of(buttons)
    return None if markup is None else json.dumps(markup.to_dict(), ensure_ascii=False, separators=(",", ":"))


KEYBOARDS_MAX = 4096
_keyboards: dict[int, tuple[tuple[tuple[Button, ...], ...], str | None]] = {}


def keyboard_json(buttons: tuple[tuple[Button, ...], ...]) -> str | None:
    """``markup_json`` of a screen's buttons, found by the identity of the tuple first: a screen the engine
    reuses (the same for everyone, or per checklist state) keeps its tuple, whose lookup in ``markup_json``
    would hash every button again. The entry holds the tuple, so its id is not reused while it is kept."""
    hit = _keyboards.get(id(buttons))
    if hit is not None and hit[0] is buttons:
        return hit[1]
    text = markup_json(buttons)
    if len(_keyboards) >= KEYBOARDS_MAX:
        _keyboards.clear()
    _keyboards[id(buttons)] = (buttons, text)
    return text


def _params(screen: Screen) -> dict[str, Any]:
    return {
        "text": screen.html,
        "parse_mode": "HTML",
        "reply_markup": keyboard_json(screen.buttons),
        "link_preview_options": NO_PREVIEW_JSON,
    }


async def send_screen(bot: Bot, chat_id: int, screen: Screen) -> None:
    """sendMessage with the screen's HTML and keyboard, link previews off."""
    params = {"chat_id": chat_id, **_params(screen)}
    await retrying("sendMessage", lambda: raw_call(bot, "sendMessage", params))


async def edit_screen(bot: Bot, chat_id: int, message_id: int, screen: Screen) -> None:
    """editMessageText of a message the bot sent (raises BadRequest as the library's call does)."""
    params = {"chat_id": chat_id, "message_id": message_id, **_params(screen)}
    await retrying("editMessageText", lambda: raw_call(bot, "editMessageText", params))


async def deliver(bot: Bot, chat_id: int, screen: Screen, *, query: CallbackQuery | None = None) -> None:
    """Show ``screen`` in ``chat_id``: under a pressed button (``query``) the message is edited in
    place (a stale menu and a message that cannot be edited get a new message instead); then the
    screen's document and its picture (a photo), if any."""
    edited = False
    message = query.message if query is not None else None
    if isinstance(message, Message) and not screen.stale:
        try:
            await edit_screen(bot, message.chat.id, message.message_id, screen)
            edited = True
        except BadRequest as exc:
            edited = "not modified" in str(exc).lower()  # the same screen again: nothing to change
            if not edited:
                log.info("cannot edit message %s (%s); sending a new one", message.message_id, exc)
    if not edited:
        await send_screen(bot, chat_id, screen)
    if screen.document:
        name, content = screen.document
        await retrying("sendDocument", lambda: bot.send_document(chat_id, InputFile(content, filename=name)))
    if screen.photo is not None:  # e.g. a prepared copy's example picture, below the screen
        await send_picture(bot, chat_id, screen.photo)
