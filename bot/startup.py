"""Start-up and shut-down of ``eport-guide run``, around python-telegram-bot's run loop.

* :func:`wait_for_telegram` asks Telegram (getMe) until it answers: at boot the network or
  the proxy (TELEGRAM_PROXY, in mainland China) is often not up yet, and a bot that exits
  then stays down. Every failed attempt is one log line (no secret: the log is redacted);
  the attempts are spaced by a capped exponential backoff. Only a token Telegram rejects
  ends the wait (InvalidToken, exit 2, like a configuration error). SIGTERM or Ctrl-C while
  waiting ends the process cleanly (exit 0).
* :func:`run_on` runs the Application on that event loop and, once it has shut down,
  cancels and awaits what is still pending there and closes the loop (as ``asyncio.run``
  does): a clean SIGTERM leaves no "Task was destroyed but it is pending" behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator

from .ops import one_off_bot
from .settings import Settings

log = logging.getLogger("eport_guide.bot")

FIRST_DELAY_S = 1.0  # the wait after the first failed attempt
MAX_DELAY_S = 60.0  # the backoff doubles up to this, then stays


def backoff(first: float = FIRST_DELAY_S, cap: float = MAX_DELAY_S) -> Iterator[float]:
    """1, 2, 4, … seconds, at most ``cap``."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)


async def wait_for_telegram(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    sleep: Callable[[float], Awaitable[object]] | None = None,
    delays: Iterator[float] | None = None,
) -> str | None:
    """getMe with the token (through TELEGRAM_PROXY if set) until Telegram answers; returns the
    bot's username, or None when ``stop`` is set meanwhile. Raises InvalidToken at once when
    Telegram rejects the token; any other failure (unreachable, timed out, the proxy refusing,
    5xx, 429) is logged and retried."""
    from telegram.error import InvalidToken, RetryAfter, TelegramError

    stop = stop or asyncio.Event()
    delays = delays or backoff()
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            async with one_off_bot(settings, settings.require_token()) as bot:
                if attempt > 1:
                    log.info("Telegram answered at attempt %d", attempt)
                return bot.username
        except InvalidToken:
            raise
        except TelegramError as exc:
            delay = next(delays)
            if isinstance(exc, RetryAfter):
                delay = max(delay, _seconds(exc))
            via = " via TELEGRAM_PROXY" if settings.proxy else ""
            log.warning(
                "start-up: Telegram unreachable%s (attempt %d: %s: %s); trying again in %g s",
                via,
                attempt,
                type(exc).__name__,
                exc,
                delay,
            )
        if sleep is not None:
            await sleep(delay)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    return None


def _seconds(exc) -> float:
    """A RetryAfter's wait in seconds (an int in PTB 22, a timedelta later: both accepted, the
    deprecation notice about the change silenced)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def reach_telegram(settings: Settings, loop: asyncio.AbstractEventLoop) -> bool:
    """:func:`wait_for_telegram` on ``loop``, SIGTERM and SIGINT ending the wait. True once Telegram
    answered, False when stopped by a signal."""
    stop = asyncio.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    installed = []
    for sig in signals:
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass
    try:
        username = loop.run_until_complete(wait_for_telegram(settings, stop=stop))
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    if username is None:
        log.info("stopped while waiting for Telegram")
        return False
    return True


_collection_paused = False


def pause_collection() -> None:
    """Pause the cyclic garbage collector for the start-up of ``eport-guide run`` (importing the libraries,
    loading the knowledge, building the application): start-up allocates a great deal and frees almost
    nothing, and the collector's passes over the growing heap were a tenth of it. Until
    :func:`resume_collection`."""
    global _collection_paused
    if gc.isenabled():
        gc.disable()
        _collection_paused = True


def resume_collection(*, settle: bool = False) -> None:
    """Resume the collector if :func:`pause_collection` paused it (else nothing). ``settle``, once start-up is
    over (the bot polling, the answerer built): what start-up left unreachable is collected once and the rest
    (alive for the whole run: modules, knowledge, matcher) frozen out of later collections (``gc.freeze``)."""
    global _collection_paused
    if _collection_paused:
        _collection_paused = False
        if settle:
            gc.collect()
            gc.freeze()
        gc.enable()


def new_loop() -> asyncio.AbstractEventLoop:
    """The event loop of the whole run, current for python-telegram-bot to find."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and await every task still pending on ``loop`` (watchdogs, timers of libraries),
    finish async generators and the default executor, close the loop."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        for task in pending:
            if not task.cancelled() and task.exception() is not None:
                log.warning("a task failed while shutting down: %r", task.exception())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


class QuietBootstrapFailure(logging.Filter):
    """python-telegram-bot logs its start-up failure (an ERROR with the traceback) and raises it;
    ``eport-guide`` prints the raised error as its one line, so the library's record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name.startswith("telegram.ext")
            and record.levelno >= logging.ERROR
            and record.getMessage().startswith("Network Retry Loop (Bootstrap")
        )
