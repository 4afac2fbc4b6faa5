"""Delivery of a screen to Telegram, in one place: the keyboard, sending, editing in place, the
document that goes with it. Handlers and jobs call ``deliver``."""

from __future__ import annotations

import functools
import logging
from typing import Any

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
from telegram.constants import ParseMode
from telegram.error import BadRequest

from dialogs.engine import Screen

log = logging.getLogger("eport_guide.bot")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class FrozenKeyboard(InlineKeyboardMarkup):
    """An inline keyboard that serialises once: ours are immutable and reused."""

    __slots__ = ("_as_dict",)

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        cached = getattr(self, "_as_dict", None)
        if cached is None or not recursive:
            cached = super().to_dict(recursive)
            if recursive:
                object.__setattr__(self, "_as_dict", cached)
        return cached


@functools.lru_cache(maxsize=1024)
def keyboard(screen: Screen) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a screen (memoised: screens for everyone are reused)."""
    rows = []
    for row in screen.buttons:
        out = []
        for b in row:
            if b.data:
                out.append(InlineKeyboardButton(b.label, callback_data=b.data))
            elif b.url:
                out.append(InlineKeyboardButton(b.label, url=b.url))
            elif b.copy_text:
                out.append(InlineKeyboardButton(b.label, copy_text=CopyTextButton(b.copy_text)))
            elif b.switch_inline_query is not None:
                out.append(InlineKeyboardButton(b.label, switch_inline_query=b.switch_inline_query))
        if out:
            rows.append(out)
    return FrozenKeyboard(rows) if rows else None


async def deliver(bot: Bot, chat_id: int, screen: Screen, *, query: CallbackQuery | None = None) -> None:
    """Show ``screen`` in ``chat_id``: under a pressed button (``query``) the message is edited in
    place (a stale menu and a message that cannot be edited get a new message instead); then the
    screen's document, if any."""
    edited = False
    if query is not None and isinstance(query.message, Message) and not screen.stale:
        try:
            await query.edit_message_text(screen.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(screen),
                                          link_preview_options=NO_PREVIEW)
            edited = True
        except BadRequest as exc:
            edited = "not modified" in str(exc).lower()  # the same screen again: nothing to change
            if not edited:
                log.info("cannot edit message %s (%s); sending a new one", query.message.message_id, exc)
    if not edited:
        await bot.send_message(chat_id, screen.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(screen),
                               link_preview_options=NO_PREVIEW)
    if screen.document:
        name, content = screen.document
        await bot.send_document(chat_id, InputFile(content, filename=name))
