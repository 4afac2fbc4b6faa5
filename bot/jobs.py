"""The bot's scheduled work: reminders and the daily retention run.

``Jobs(guide)`` is built with the application object by ``build_application``; its methods are
the job callbacks, so every job reaches the engine, the store and the settings through the one
Guide. Each user is handled on their own: one failure (blocked, chat gone, Telegram down) never
stops a run; a transient one is retried with backoff, a permanent one is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ContextTypes

from dialogs.engine import Context
from dialogs.guide import Guide
from dialogs.i18n import t
from dialogs.retention import RetentionRun
from dialogs.store import StoreError

from .delivery import deliver

log = logging.getLogger("eport_guide.bot")
SHANGHAI = ZoneInfo("Asia/Shanghai")
RETRY_DELAYS = (60, 300, 1800, 7200, 21600)  # seconds before the next attempt after a transient error
RETENTION_AT = dt.time(3, 0, tzinfo=SHANGHAI)


def transient(exc: BaseException) -> bool:
    """Worth trying again later: Telegram unreachable, slow, rate-limiting or failing (5xx), the database busy.
    Not: blocked (403), "chat not found" and other 400s, a rejected token."""
    if isinstance(exc, (Forbidden, BadRequest, InvalidToken)):
        return False
    return isinstance(exc, (NetworkError, TimedOut, RetryAfter)) or isinstance(exc, StoreError)


def retry_delay(attempt: int) -> float:
    """Backoff before attempt ``attempt + 1`` (1-based ``attempt``), or -1 when it is time to give up."""
    return float(RETRY_DELAYS[attempt - 1]) if attempt <= len(RETRY_DELAYS) else -1.0


class Jobs:
    """The scheduled work of the Telegram channel: the daily retention run and the users' reminders."""

    def __init__(self, guide: Guide):
        self.guide = guide

    def start(self, application: Application) -> None:
        """Schedule the daily retention run, re-schedule the pending reminders, and follow the
        reminders users add and cancel from now on."""
        store = self.guide.store
        if application.job_queue is None or store is None:
            return
        application.job_queue.run_daily(self.retention, time=RETENTION_AT, name="retention")
        pending = store.pending_reminders()
        for row in pending:
            self.schedule_reminder(application, row.id)

        def on_event(kind: str, ctx: Context, value: str) -> None:
            if kind == "reminder_added":
                self.schedule_reminder(application, int(value))
            elif kind == "reminder_cancelled":
                for job in application.job_queue.get_jobs_by_name(f"reminder-{value}"):
                    job.schedule_removal()

        self.guide.engine.extend(listeners=[on_event])
        if pending:
            log.info("re-scheduled %d pending reminder(s)", len(pending))

    # -- retention ---------------------------------------------------------------------------
    async def retention(self, context: ContextTypes.DEFAULT_TYPE) -> RetentionRun:
        """Daily: warn users 7 days before their data expires, then the retention routine every channel
        shares (Guide.expire, dialogs.retention): the expired users' data, old free text."""
        guide = self.guide
        now = guide.engine.clock()
        retention_days = guide.settings.retention_days
        try:
            to_warn, _ = guide.retention_due(now, retention_days)
        except StoreError as exc:  # tomorrow's run catches up
            log.warning("retention: cannot read the users: %s", exc)
            to_warn = []
        warned: list[int] = []
        for user_id in to_warn:
            if await self._warn(context, user_id, attempt=1):
                warned.append(user_id)
        deleted = guide.expire(now, retention_days)
        if warned or deleted:
            log.info("retention: warned %d user(s), deleted the data of %d", len(warned), len(deleted))
        return RetentionRun(warned, deleted)

    async def _warn(self, context: ContextTypes.DEFAULT_TYPE, user_id: int, attempt: int) -> bool:
        guide, store = self.guide, self.guide.store
        try:
            ctx = Context(user_id=user_id, lang=guide.language(user_id))
            text = t(
                "您已较长时间未使用本机器人。按照隐私说明，若 7 天内仍未使用，您的清单和设置将被删除。发送任意消息即可保留。", ctx
            )
            await context.bot.send_message(user_id, text)
            store.mark_warned(user_id)
            return True
        except Exception as exc:  # noqa: BLE001 - one user's failure is recorded, never the end of the run
            delay = retry_delay(attempt) if transient(exc) else -1.0
            if delay >= 0 and context.job_queue is not None:
                log.warning("retention: warning user %s failed (%s); retrying in %.0f s", user_id, exc, delay)
                context.job_queue.run_once(
                    self._retry_warn, when=delay, data=(user_id, attempt + 1), name=f"retention-warn-{user_id}"
                )
                return False
            log.warning("retention: user %s cannot be warned: %s", user_id, exc)
            try:
                store.record_warn_failure(user_id, f"{type(exc).__name__}: {exc}")
                store.mark_warned(user_id)  # not retried every day; the deletion still happens on time
            except StoreError as inner:
                log.warning("retention: could not record the failure for user %s: %s", user_id, inner)
            return False

    async def _retry_warn(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        user_id, attempt = context.job.data
        await self._warn(context, user_id, attempt)

    # -- reminders -----------------------------------------------------------------------------
    def schedule_reminder(self, application: Application, reminder_id: int, delay: float | None = None) -> None:
        """Queue one stored reminder; one already due (e.g. missed while down) goes out now."""
        row = self.guide.store.get_reminder(reminder_id)
        if row is None or row.sent_at or row.cancelled or application.job_queue is None:
            return
        if delay is None:
            delay = (dt.datetime.fromisoformat(row.due_at) - self.guide.engine.clock()).total_seconds()
        application.job_queue.run_once(self.send_reminder, when=max(delay, 0.0), data=reminder_id, name=f"reminder-{reminder_id}")

    async def send_reminder(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Deliver one reminder. A transient failure (5xx, timeout, database busy) is retried with backoff;
        a permanent one (blocked, chat gone) or too many attempts is recorded on the reminder."""
        guide, store = self.guide, self.guide.store
        reminder_id = context.job.data
        try:
            row = store.get_reminder(reminder_id)
            if row is None or row.sent_at or row.cancelled:
                return
            if store.get_setting(row.user_id, "reminders", True):
                screen = guide.reminder_message(row, guide.language(row.user_id))
                await deliver(context.bot, row.chat_id, screen)
            store.mark_reminder_sent(row.id)
        except Exception as exc:  # noqa: BLE001 - recorded on the reminder; the job queue goes on
            error = f"{type(exc).__name__}: {exc}"
            try:
                attempts = store.record_attempt(reminder_id, error, permanent=not transient(exc))
            except StoreError:
                attempts = 1
            delay = retry_delay(attempts) if transient(exc) else -1.0
            if delay >= 0 and context.job_queue is not None:
                log.warning("reminder %s not delivered (%s); attempt %d, retrying in %.0f s", reminder_id, error, attempts, delay)
                context.job_queue.run_once(self.send_reminder, when=delay, data=reminder_id, name=f"reminder-{reminder_id}")
                return
            if transient(exc):
                try:
                    store.record_attempt(reminder_id, error, permanent=True)
                except StoreError:
                    pass
            log.warning("reminder %s given up after %d attempt(s): %s", reminder_id, attempts, error)
