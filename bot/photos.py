"""A screen's picture (``Screen.photo``: a prepared copy's example) sent to Telegram as a photo with
its short caption. The first upload of a picture is drawn off the event loop; after it, Telegram's
file_id of the photo is sent instead of the file (one upload per picture, language and knowledge)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError

log = logging.getLogger("eport_guide.bot")
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption
MAX_REMEMBERED = 512

file_ids: dict[str, str] = {}  # picture key → the file_id Telegram gave its first upload


async def send_picture(bot: Bot, chat_id: int, picture: Any) -> None:
    """sendPhoto with the picture's caption; a refused photo is logged and the screen stands without it."""
    caption = picture.caption[:CAPTION_LIMIT]
    known = file_ids.get(picture.key)
    try:
        if known is not None:
            try:
                await bot.send_photo(chat_id, known, caption=caption)
                return
            except BadRequest as exc:  # the file_id is no longer valid for this bot: upload again
                log.info("photo %s: file_id refused (%s); uploading it again", picture.key, exc)
                file_ids.pop(picture.key, None)
        data = await asyncio.to_thread(picture.png)  # the first drawing takes ~0.1 s: not on the event loop
        message = await bot.send_photo(chat_id, InputFile(data, filename=f"{picture.key}.png"), caption=caption)
        if message.photo:
            if len(file_ids) >= MAX_REMEMBERED:
                file_ids.clear()
            file_ids[picture.key] = message.photo[-1].file_id
    except Forbidden:
        raise  # the user blocked the bot: the error handler logs it
    except (BadRequest, NetworkError) as exc:
        log.warning("photo %s not sent to chat %s: %s", picture.key, chat_id, exc)
