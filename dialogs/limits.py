"""Telegram's limits, in one place: the screens are shaped for Telegram (one HTML message with an
inline keyboard), and every channel gets screens that fit them — the web pages and the console
show the same screens.

The numbers are the Bot API's (https://core.telegram.org/bots/api): ``sendMessage`` text,
``InlineKeyboardButton.callback_data``, buttons per ``InlineKeyboardMarkup``.
"""

from __future__ import annotations

MAX_MESSAGE = 4096  # visible characters (UTF-16 code units) of one message, after entity parsing
MAX_CALLBACK_BYTES = 64  # bytes of a button's callback data
MAX_BUTTONS = 100  # buttons of one inline keyboard
