"""Running the Telegram application: long polling or the webhook, both through the durable inbox.

``running(application, settings)`` is the one start-up and shut-down sequence (the process and
the tests use it): initialise (getMe), ``post_init``, start the application and its jobs, handle
what the inbox kept from the last run, then receive updates (``Inbox.poll``, or the webhook
endpoint of ``bot.webhook`` after ``setWebhook``), and only then register the bot's command menu
and profile texts (``bot_data["register_profile"]``, a failure ends the start-up as any other);
on the way out, stop receiving, finish the update in hand, stop the application, ``post_stop``,
shut down, ``post_shutdown``.

``serve(application, settings)`` runs that until SIGTERM or SIGINT (exit status 0) or until
polling ends by itself (a revoked token: ``EXIT_POLLING_STOPPED``). Only public
python-telegram-bot APIs: no Updater (``ApplicationBuilder.updater(None)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application

from .inbox import Inbox
from .settings import Settings

log = logging.getLogger("eport_guide.bot")
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
POLL_TIMEOUT = 10  # seconds Telegram holds a getUpdates open when there is nothing new
WEBHOOK_MAX_CONNECTIONS = 40


class _NoUpdateContent(logging.Filter):
    """The library logs a whole batch of updates (users' messages) when one cannot be read: kept to one
    line without the content."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error while parsing updates"):
            record.msg, record.args, record.exc_info, record.exc_text = (
                "Error while parsing updates (content not logged)",
                (),
                None,
                None,
            )
        return True


for _name in ("telegram.ext.ExtBot", "telegram.Bot"):
    logging.getLogger(_name).addFilter(_NoUpdateContent())


def inbox_of(application: Application) -> Inbox:
    """The application's inbox (made by ``bot.app.build_application``)."""
    return application.bot_data["inbox"]


@contextlib.asynccontextmanager
async def running(
    application: Application,
    settings: Settings,
    *,
    poll_timeout: int = POLL_TIMEOUT,
    allowed_updates: Sequence[str] | None = ALLOWED_UPDATES,
) -> AsyncIterator[Inbox]:
    """The application receiving and handling updates while the block runs; yields its inbox."""
    inbox = inbox_of(application)
    receiving: asyncio.Task | None = None
    server = None
    try:
        await application.initialize()  # getMe: raises when Telegram is unreachable or refuses the token
        if application.post_init:
            await application.post_init(application)
        await application.start()
        inbox.start()
        if settings.webhook_url:
            from .webhook import start_webhook

            server = start_webhook(
                inbox,
                path=urlsplit(settings.webhook_url).path,
                secret=settings.webhook_secret or "",
                listen=settings.listen,
                port=settings.port,
            )
            await application.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=allowed_updates,
                max_connections=WEBHOOK_MAX_CONNECTIONS,
            )
        else:
            await application.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            receiving = asyncio.get_running_loop().create_task(
                inbox.poll(timeout=poll_timeout, allowed_updates=allowed_updates), name="polling"
            )
        register_profile = application.bot_data.get("register_profile")
        if register_profile is not None:  # while the first updates are already being received and handled
            await register_profile(application)
        yield inbox
    finally:
        if receiving is not None:
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)
        if server is not None:
            server.stop()
            await server.close_all_connections()
        await inbox.stop()
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()  # nothing to do when initialize() failed
        if application.post_shutdown:
            await application.post_shutdown(application)


async def serve(application: Application, settings: Settings) -> int:
    """Run until SIGTERM/SIGINT (returns 0) or until polling ends by itself (returns its exit code)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(application, settings) as inbox:
            stopping = loop.create_task(stop.wait())
            ended = loop.create_task(inbox.stopped.wait())
            await asyncio.wait([stopping, ended], return_when=asyncio.FIRST_COMPLETED)
            for task in (stopping, ended):
                task.cancel()
            await asyncio.gather(stopping, ended, return_exceptions=True)
            if stop.is_set():
                log.info("stopping (signal received)")
            return inbox.exit_code
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
