"""The durable inbox: no update Telegram was told we have is ever lost.

Telegram forgets an update once it is *confirmed*: for long polling, when the next ``getUpdates``
asks for a higher offset; for a webhook, when the POST is answered 200. So each update is written
to the database (``inbox`` table, one transaction per ``getUpdates`` batch) **before** it is
confirmed, handed to ``Application.process_update`` from there, and marked done once handled. On
start, whatever was kept and not marked done is handled first (ticks applied; a button pressed
before the restart is answered late, and its screen edited anyway). An update id seen before
(a webhook retry, a batch Telegram sends again because the process stopped before confirming it)
is handled once.

If the database refuses the write (locked, read-only, full), the batch is handled at once instead
and confirmed only afterwards: the bot keeps answering, and nothing confirmed is left unhandled.

Only public python-telegram-bot APIs: ``Bot.get_updates``, ``Update.de_json``/``to_json``,
``Application.process_update``. Polling: :meth:`Inbox.poll`; the webhook: ``bot.webhook``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Iterable, Sequence

from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from dialogs.store import Store, StoreError

log = logging.getLogger("eport_guide.bot")
QUEUE_SIZE = 1000  # updates parsed and waiting in memory; beyond that polling waits (the rest waits at Telegram)
MAX_STARTS = 3  # an update in hand when this many processes in a row stopped is given up (it may be what crashes them)
KEEP_DONE = dt.timedelta(days=1)  # handled update ids kept this long, to recognise replays
PRUNE_EVERY = 3600.0  # seconds between two prunes of old ids
RECENT = 4096  # update ids remembered in memory while the database refuses writes
POLL_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds before polling again after failures in a row
EXIT_POLLING_STOPPED = 3  # the process exit code when polling ends by itself (revoked token)


class Inbox:
    """Updates in, durably, handled one at a time in order (as PTB's own queue does by default)."""

    def __init__(self, application: Application, store: Store | None):
        self.application = application
        self.store = store
        self.queue: asyncio.Queue[Update] = asyncio.Queue(QUEUE_SIZE)
        self.exit_code = 0
        self.stopped = asyncio.Event()  # set when polling ends by itself (the process should end)
        self._recent: dict[int, None] = {}  # ids handled without the database (oldest first), at most RECENT
        self._store_failing = False
        self._worker: asyncio.Task | None = None
        self._busy = False
        self._stopping = False
        self._pruned = 0.0

    # -- in ----------------------------------------------------------------------------------
    async def accept(self, updates: Sequence[Update]) -> None:
        """Keep ``updates`` and queue them for handling; returns once they may be confirmed to
        Telegram: kept in the database, or (when it refuses the write) already handled."""
        if not updates:
            return
        try:
            if self.store is None:
                raise StoreError("no database")
            fresh = self.store.inbox_add([(u.update_id, u.to_json()) for u in updates])
        except StoreError as exc:
            if not self._store_failing:
                log.warning("inbox: cannot keep updates in the database (%s); handling them before confirming", exc)
                self._store_failing = True
            for update in updates:
                if update.update_id not in self._recent:
                    self._remember(update.update_id)
                    await self.handle(update, durable=False)
            return
        if self._store_failing:
            log.info("inbox: the database accepts updates again")
            self._store_failing = False
        if len(fresh) < len(updates):
            known = set(fresh)
            updates = [u for u in updates if u.update_id in known]
        for update in updates:
            if not self._recent or update.update_id not in self._recent:
                await self.queue.put(update)  # waits while QUEUE_SIZE updates are queued (they are kept already)

    def _remember(self, update_id: int) -> None:
        self._recent[update_id] = None
        if len(self._recent) > RECENT:
            del self._recent[next(iter(self._recent))]

    def _left_over(self) -> list[Update]:
        """What was kept and not handled before the last stop, oldest first (this start counted)."""
        if self.store is None:
            return []
        try:
            rows = self.store.inbox_pending()
        except StoreError as exc:
            log.warning("inbox: cannot read the updates left unhandled: %s", exc)
            return []
        out = []
        for update_id, body, starts in rows:
            if starts > MAX_STARTS or body is None:
                log.error("inbox: update %s given up: %d start(s) in a row did not finish it", update_id, starts - 1)
                self._done(update_id)
                continue
            try:
                out.append(Update.de_json(json.loads(body), self.application.bot))
            except (ValueError, TypeError, KeyError) as exc:
                log.error("inbox: update %s cannot be read back (%s); dropped", update_id, type(exc).__name__)
                self._done(update_id)
        if out:
            log.info("inbox: %d update(s) received before the last stop are handled first", len(out))
        return out

    def _after_last_kept(self) -> int | None:
        """The id after the newest update kept (ids older than KEEP_DONE are pruned at start, so this is
        never from before a reset of Telegram's numbering, which takes a week without updates)."""
        try:
            last = self.store.inbox_last_id() if self.store is not None else None
        except StoreError:
            return None
        return None if last is None else last + 1

    # -- handling ------------------------------------------------------------------------------
    async def handle(self, update: Update, *, durable: bool = True) -> None:
        """``Application.process_update`` (handler errors go to the error handler), then marked done."""
        try:
            await self.application.process_update(update)
        except Exception as exc:  # noqa: BLE001 - one update never stops the others
            log.error("update %s not handled: %s: %s", update.update_id, type(exc).__name__, exc)
        if durable:
            self._done(update.update_id)

    def _done(self, update_id: int) -> None:
        if self.store is None:
            return
        try:
            self.store.inbox_done(update_id)
        except StoreError as exc:  # handled again after a restart: better twice than never
            log.warning("inbox: update %s handled but not marked so: %s", update_id, exc)
        now = asyncio.get_running_loop().time()
        if now - self._pruned > PRUNE_EVERY:
            self._pruned = now
            try:
                self.store.inbox_prune(dt.datetime.now(dt.UTC) - KEEP_DONE)
            except StoreError as exc:
                log.info("inbox: old update ids not pruned: %s", exc)

    async def _work(self, left_over: list[Update]) -> None:
        for update in left_over:
            if self._stopping:
                return
            self._busy = True
            await self.handle(update)
            self._busy = False
        while not self._stopping:
            update = await self.queue.get()
            self._busy = True
            await self.handle(update)
            self._busy = False

    def start(self) -> None:
        """Handle what the last run left, then whatever arrives (call inside the running loop)."""
        self._stopping = False
        loop = asyncio.get_running_loop()
        self._pruned = loop.time()
        if self.store is not None:
            try:
                self.store.inbox_prune(dt.datetime.now(dt.UTC) - KEEP_DONE)
            except StoreError as exc:
                log.info("inbox: old update ids not pruned: %s", exc)
        self._worker = loop.create_task(self._work(self._left_over()), name="inbox")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the update being handled (at most ``grace`` seconds) and stop; whatever is still
        queued stays in the database for the next start."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        self._stopping = True
        if self._busy:
            done, _ = await asyncio.wait([worker], timeout=grace)
            if not done:
                log.warning("inbox: an update took longer than %.0f s to handle; it is handled again at the next start", grace)
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        self._busy = False

    # -- long polling --------------------------------------------------------------------------
    async def poll(self, *, timeout: int = 10, allowed_updates: Iterable[str] | None = None) -> None:
        """Long polling with ``Bot.get_updates``: each batch is kept before the next call confirms it.
        Network failures are retried with backoff; a rejected token ends polling (``stopped`` is set,
        ``exit_code`` is EXIT_POLLING_STOPPED) so that a supervisor notices."""
        bot = self.application.bot
        allowed = list(allowed_updates) if allowed_updates is not None else None
        offset: int | None = None  # None: Telegram sends what was not confirmed yet (kept ids are recognised)
        one_by_one = False  # after a batch the library could not read: one update per call until past the bad one
        failures = 0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset, limit=1 if one_by_one else None, timeout=0 if one_by_one else timeout, allowed_updates=allowed
                )
            except InvalidToken as exc:
                log.error("polling stopped (Telegram rejected the token: %s); exiting with status %d", exc, EXIT_POLLING_STOPPED)
                self.exit_code = EXIT_POLLING_STOPPED
                self.stopped.set()
                return
            except RetryAfter as exc:
                delay = exc.retry_after.total_seconds() if isinstance(exc.retry_after, dt.timedelta) else float(exc.retry_after)
                log.warning("polling: Telegram asks to wait %.0f s", delay)
                await asyncio.sleep(delay)
                continue
            except TelegramError as exc:  # unreachable, timed out, 5xx, another poller (Conflict), …
                delay = POLL_BACKOFF[min(failures, len(POLL_BACKOFF) - 1)]
                failures += 1
                (log.warning if failures in (1, len(POLL_BACKOFF)) else log.info)(
                    "polling: %s: %s; trying again in %.0f s", type(exc).__name__, exc, delay
                )
                await asyncio.sleep(delay)
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - an update the library cannot read (a malformed field)
                if not one_by_one:
                    one_by_one = True  # find it: the good updates before it are kept and handled
                elif offset is not None:
                    # the first update waiting is the unreadable one (none waits below it), so asking from
                    # offset + 1 confirms at most that one: it is skipped, nothing else
                    log.warning("polling: an update the library cannot read was skipped (%s)", type(exc).__name__)
                    offset += 1
                else:
                    offset = self._after_last_kept()  # confirms only updates already kept
                    if offset is None:
                        log.error(
                            "polling: an update cannot be read (%s) and no update id is known to step past it; "
                            "trying again in %.0f s",
                            type(exc).__name__,
                            POLL_BACKOFF[-1],
                        )
                        await asyncio.sleep(POLL_BACKOFF[-1])
                continue
            one_by_one = False
            if failures:
                log.info("polling: Telegram reachable again")
                failures = 0
            if updates:
                await self.accept(updates)  # kept (or handled) before the next call confirms them
                offset = updates[-1].update_id + 1
                await asyncio.sleep(0)  # let the handling begin before the next long poll (as the library's Updater does)
