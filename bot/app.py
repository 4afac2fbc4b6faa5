"""The Telegram channel: one factory, ``build_application(settings)``.

Handlers translate Telegram updates into engine calls and engine screens into messages
(HTML parse mode, inline keyboards). Button presses edit the message in place and are
always answered; stale or forged buttons get a fresh menu; errors are logged with the
update id and the user is pointed to the hotline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import threading
import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from dialogs import i18n, retention
from dialogs.remind import reminder_message
from dialogs.retention import RetentionRun
from dialogs.store import StoreError
from dialogs.upload import TELEGRAM_DOWNLOAD_LIMIT
from dialogs.engine import CALLBACK_PREFIX, Context, Engine, Screen
from dialogs.render import fit_html
from dialogs.links import deep_link
from dialogs.render import labelled
from dialogs.service import build_engine
from knowledge import KnowledgeError, load_knowledge

from .delivery import NO_PREVIEW, deliver
from .ops import make_request
from .settings import Settings

log = logging.getLogger("eport_guide.bot")

def N_(message: str) -> str:
    """Marks a message for translation without translating it here."""
    return message


COMMANDS = [
    ("start", N_("开始 / 打开业务")),
    ("menu", N_("主菜单")),
    ("checklist", N_("我的材料清单")),
    ("offices", N_("办理地点与电话")),
    ("help", N_("使用帮助")),
    ("settings", N_("设置：语言、提醒、删除数据")),
    ("language", N_("界面语言")),
    ("reminders", N_("我的提醒（退单、证书到期）")),
    ("privacy", N_("隐私说明")),
    ("forget", N_("删除我的数据")),
    ("cancel", N_("取消当前操作")),
]
# command → (screen route, feature it needs); commands that only open a screen
COMMAND_ROUTES = {
    "menu": ("main", None),
    "help": ("help", None),
    "offices": ("offices", None),
    "privacy": ("privacy", None),
    "settings": ("settings", "store"),
    "language": ("language", "store"),
    "reminders": ("reminders", "reminders"),
    "checklist": ("checklists", "checklist"),
    "forget": ("forget", "store"),
}
# The profile texts (setMyDescription: the empty-chat screen, at most 512 characters;
# setMyShortDescription: profile and shared links, at most 120), per language.
DESCRIPTION = N_(
    "电子口岸制发卡业务指南（中国电子口岸数据中心满洲里分中心）。\n\n"
    "选择要办理的业务，即可看到所需材料、每份复印件的盖章和手写签注要求、办理地点与电话；"
    "也可以直接输入问题，或发送文件检查能否上传。内容均转述官方文件，文件未写明的事项请致电客服热线。\n\n"
    "点击“开始”。"
)
SHORT_DESCRIPTION = N_("电子口岸卡办理指南（满洲里）：材料、盖章与签注、办理地点和电话。")
PRIVATE = filters.ChatType.PRIVATE
SHANGHAI = ZoneInfo("Asia/Shanghai")
RETRY_DELAYS = (60, 300, 1800, 7200, 21600)  # seconds before the next attempt after a transient error
TOUCH_PAUSE = 5.0  # seconds between attempts to record visits while the database refuses writes
POPULAR_TTL = 600.0  # seconds an empty inline query's "most viewed" list is reused
EXIT_POLLING_STOPPED = 3  # the process exit code when polling ends by itself (revoked token)


class Bot:
    """The handlers, sharing one engine."""

    def __init__(self, engine: Engine, settings: Settings):
        self.engine = engine
        self.settings = settings
        self.store = getattr(engine, "store", None)
        self.store_failing = False  # the user row cannot be written (logged once, until it recovers)
        self._touch_again = 0.0  # while failing, the next attempt to write the user row
        self._popular: tuple[float, list[str]] | None = None
        self.username: str | None = settings.bot_username

    # -- helpers -------------------------------------------------------------------------
    def language_of(self, update: object) -> str:
        """The user's language without writing anything (for error replies: the database
        may be what failed)."""
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            return i18n.DEFAULT_LANGUAGE
        stored = None
        if self.store is not None:
            try:
                stored = self.store.get_language(user.id)
            except Exception:  # noqa: BLE001 - the database may be the fault being reported
                stored = None
        return i18n.normalise_language(stored or user.language_code)

    def ctx(self, update: Update) -> Context:
        user = update.effective_user
        chat = update.effective_chat
        kind = chat.type if chat is not None else "inline"  # a button under an inline message has no chat
        if user is None:
            return Context(chat=kind, bot_username=self.username)
        lang = self._touch(user.id, i18n.normalise_language(user.language_code))
        return Context(user_id=user.id, lang=i18n.normalise_language(lang or user.language_code), chat=kind,
                       admin=user.id in self.settings.admins and kind == ChatType.PRIVATE, bot_username=self.username)

    def _touch(self, user_id: int, language: str) -> str | None:
        """Record the visit; a database that cannot be written (locked, read-only, full) must not stop
        the answer: look-ups need no write. Returns the stored language when known."""
        if self.store is None:
            return None
        try:
            if self.store_failing and time.monotonic() < self._touch_again:
                raise StoreError("still failing")  # do not wait for the lock on every update meanwhile
            lang = self.store.touch_user(user_id, language)
        except StoreError as exc:
            if not self.store_failing:
                log.warning("cannot record users' visits, answering anyway: %s", exc)
                self._touch_again = time.monotonic() + TOUCH_PAUSE
            elif time.monotonic() >= self._touch_again:
                self._touch_again = time.monotonic() + TOUCH_PAUSE
            self.store_failing = True
            try:
                return self.store.get_language(user_id)
            except StoreError:
                return None
        if self.store_failing:
            log.info("the database accepts writes again")
            self.store_failing = False
        return lang

    async def send(self, update: Update, context: ContextTypes.DEFAULT_TYPE, screen: Screen) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        await deliver(context.bot, chat.id, screen)
        self._after(context, screen)

    def _after(self, context: ContextTypes.DEFAULT_TYPE, screen: Screen) -> None:
        if context.user_data is not None:
            if screen.awaiting:
                context.user_data["awaiting"] = screen.awaiting
            else:
                context.user_data.pop("awaiting", None)

    # -- commands ----------------------------------------------------------------------------
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        payload = context.args[0] if context.args else None
        await self.send(update, context, self.engine.start(self.ctx(update), payload))

    async def route_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE, route: str) -> None:
        ctx = self.ctx(update)
        await self.send(update, context, self.engine.render(route, ctx))

    def route_handler(self, route: str, feature: str | None):
        """A command that opens a screen (the main menu where the feature is off)."""

        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            available = feature is None or feature in self.engine.features
            await self.route_command(update, context, route if available else "main")

        return handler

    async def cancel(self, update, context):
        ctx = self.ctx(update)
        if context.user_data is not None:
            context.user_data.pop("awaiting", None)
        await self.send(update, context, self.engine.render("main", ctx, notice=self.engine._("已取消。", ctx)))

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
            return  # in groups, commands the bot does not know are someone else's
        ctx = self.ctx(update)
        text = self.engine._("未知命令。发送 /help 查看用法，或直接输入问题。", ctx)
        await update.effective_message.reply_text(text)

    # -- buttons ---------------------------------------------------------------------------
    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        screen = self.engine.handle(self.ctx(update), query.data)  # writes are committed here
        if screen.redirect is not None or (screen.route == "private_only"):
            # personal content asked for in a group: the shared message stays; the tapper is sent to
            # the private chat (Telegram opens t.me/<bot>?start=… links given with the answer)
            try:
                await query.answer(screen.toast, url=screen.redirect)
            except BadRequest as exc:
                log.info("callback %s not answered with a link (%s)", query.id, exc)
                await query.answer(screen.toast, show_alert=True)
            return
        try:
            await query.answer(screen.toast)
        except BadRequest as exc:  # too old to answer: the edit below still helps
            log.info("callback %s not answered: %s", query.id, exc)
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        await deliver(context.bot, chat_id, screen, query=query)
        self._after(context, screen)

    # -- free text ----------------------------------------------------------------------------
    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        ctx = self.ctx(update)
        awaiting = context.user_data.pop("awaiting", None) if context.user_data is not None else None
        text = message.text or ""
        screen = self.engine.reply(ctx, awaiting, text) if awaiting else self.engine.ask(ctx, text)
        await self.send(update, context, screen)

    async def group_mention(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        username = context.bot.username
        if not message.text or f"@{username}".lower() not in message.text.lower():
            return
        question = message.text.replace(f"@{username}", " ").strip()
        ctx = self.ctx(update)
        screen = self.engine.ask(ctx, question) if question else self.engine.render("main", ctx)
        await self.send(update, context, screen)

    async def upload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A document or photo: would the online system accept it? Nothing is stored."""
        message = update.effective_message
        ctx = self.ctx(update)
        photo = bool(message.photo)
        item = message.photo[-1] if photo else message.document
        name = None if photo else message.document.file_name
        size = item.file_size
        data = None
        if size is None or size <= TELEGRAM_DOWNLOAD_LIMIT:
            try:
                file = await context.bot.get_file(item.file_id)
                data = bytes(await file.download_as_bytearray())
            except BadRequest as exc:  # e.g. "file is too big" for a file that declared no size
                log.info("update %s: file not downloaded: %s", update.update_id, exc)
                size = size if size is not None else TELEGRAM_DOWNLOAD_LIMIT + 1
        await self.send(update, context, self.engine.precheck(ctx, data, name, size, photo=photo))

    async def non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        ctx = self.ctx(update)
        text = self.engine._("我只能看懂文字问题和按钮（发送文件可检查能否上传）。请直接输入问题，或发送 /menu 打开菜单。", ctx)
        await update.effective_message.reply_text(text)

    # -- inline mode ---------------------------------------------------------------------------
    async def inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        ctx = Context(lang=i18n.normalise_language(query.from_user.language_code))
        popular = self.popular() if not query.query.strip() else None
        results = []
        for r in self.engine.inline(ctx, query.query[:256], popular=popular):
            markup = None
            if r.topic:
                label = self.engine._("在机器人中查看完整说明", ctx)
                markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, url=deep_link(context.bot.username, r.topic))]])
            results.append(InlineQueryResultArticle(
                id=r.route[:64], title=r.title, description=r.description,
                input_message_content=InputTextMessageContent(r.html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW),
                reply_markup=markup,
            ))
        await query.answer(results, cache_time=60, is_personal=False)

    def popular(self) -> list[str] | None:
        """Most viewed topics for empty inline queries, computed at most every POPULAR_TTL seconds."""
        if self.store is None:
            return None
        now = time.monotonic()
        if self._popular is None or now - self._popular[0] > POPULAR_TTL:
            try:
                self._popular = (now, list(self.store.popular_topics()))
            except StoreError as exc:
                log.warning("inline: no view counts (%s)", exc)
                return self._popular[1] if self._popular else None
        return self._popular[1]

    # -- admin ---------------------------------------------------------------------------------
    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admins

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        ctx = self.ctx(update)
        if not ctx.admin:  # the engine refuses the screen anyway; others see an unknown command
            await self.unknown_command(update, context)
            return
        await self.send(update, context, self.engine.render("stats", ctx))

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.is_admin(update) or update.effective_chat.type != ChatType.PRIVATE:
            await self.unknown_command(update, context)
            return
        ctx = self.ctx(update)
        try:
            kb = await asyncio.to_thread(load_knowledge, self.settings.knowledge_dir)  # never in the event loop
        except KnowledgeError as exc:
            lines = "\n".join(html.escape(str(p)) for p in exc.problems[:30])
            more = f"\n… +{len(exc.problems) - 30}" if len(exc.problems) > 30 else ""
            head = self.engine._("❌ 资料文件有误，继续使用原资料（%(count)d 处）：", ctx) % {"count": len(exc.problems)}
            text = f"{html.escape(head)}\n<pre>{lines}{more}</pre>"
            text = fit_html(text, lambda n: f"… +{n}")
            await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
            log.warning("reload refused: %d problem(s) in the knowledge files", len(exc.problems))
            return
        self.engine.reload(kb)
        log.info("knowledge reloaded from %s", kb.directory)
        done = self.engine._("✅ 已重新载入资料：%(businesses)d 项业务、%(offices)d 个办理地点。", ctx)
        await update.effective_message.reply_text(done % {"businesses": len(kb.businesses), "offices": len(kb.offices)})

    # -- errors ------------------------------------------------------------------------------
    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        exc = context.error
        update_id = getattr(update, "update_id", None)
        if isinstance(exc, Forbidden):
            log.info("update %s: the user blocked the bot or left the chat (%s)", update_id, exc)
            return
        if isinstance(exc, InvalidToken):
            log.error("Telegram rejected the bot token (revoked?): %s", exc)
            return
        bad_request = isinstance(exc, BadRequest)  # a subclass of NetworkError, but Telegram answered: tell the user
        if isinstance(exc, (RetryAfter, TimedOut, NetworkError)) and not bad_request:
            log.warning("update %s: Telegram unreachable or rate-limited: %s", update_id, exc)
            return  # telling the user would need the same unreachable Telegram
        ctx = Context(lang=self.language_of(update))
        if isinstance(exc, StoreError):
            log.warning("update %s: database unavailable: %s", update_id, exc)
            text = self.engine._("系统繁忙，刚才的操作没有保存，请稍后再试一次。", ctx)
        elif bad_request:
            log.warning("update %s: Telegram refused a request: %s", update_id, exc)
            text = self.engine._("出错了，请稍后再试。", ctx)
        else:
            log.error("update %s: %s: %s", update_id, type(exc).__name__, exc, exc_info=exc)
            text = self.engine._("出错了，请稍后再试。", ctx)
        if not isinstance(update, Update):
            return
        try:
            if update.callback_query:
                await update.callback_query.answer(text[:190], show_alert=True)
            elif update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
                hotline = labelled(self.engine.kb.facts["hotline"], ctx.lang)
                await context.bot.send_message(update.effective_chat.id, f"{text}\n☎️ {hotline}")
        except Exception as inner:  # noqa: BLE001 - the user is unreachable; logged once
            log.warning("update %s: could not tell the user about the error: %s", update_id, inner)


def transient(exc: BaseException) -> bool:
    """Worth trying again later: Telegram unreachable, slow, rate-limiting or failing (5xx), the database busy.
    Not: blocked (403), "chat not found" and other 400s, a rejected token."""
    if isinstance(exc, (Forbidden, BadRequest, InvalidToken)):
        return False
    return isinstance(exc, (NetworkError, TimedOut, RetryAfter)) or isinstance(exc, StoreError)


def retry_delay(attempt: int) -> float:
    """Backoff before attempt ``attempt + 1`` (1-based ``attempt``), or -1 when it is time to give up."""
    return float(RETRY_DELAYS[attempt - 1]) if attempt <= len(RETRY_DELAYS) else -1.0


async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> RetentionRun:
    """Daily: warn users 7 days before their data expires, delete the expired, expire old free text.
    Each user is handled on their own: one failure (blocked, chat gone, Telegram down) never stops the
    run; a transient one is retried later with backoff, a permanent one is recorded."""
    bot: Bot = context.application.bot_data["handlers"]
    store = bot.store
    now = bot.engine.clock()
    retention_days = bot.settings.retention_days
    try:
        to_warn, to_delete = retention.due(store, now, retention_days)
    except StoreError as exc:  # tomorrow's run catches up
        log.warning("retention: cannot read the users: %s", exc)
        return RetentionRun([], [])
    warned: list[int] = []
    deleted: list[int] = []
    for user_id in to_warn:
        if await _warn(context, bot, user_id, attempt=1):
            warned.append(user_id)
    for user_id in to_delete:
        try:
            store.forget_user(user_id)
            deleted.append(user_id)
        except StoreError as exc:  # tomorrow's run tries again
            log.warning("retention: could not delete the data of user %s: %s", user_id, exc)
    try:
        store.expire_free_text(now - dt.timedelta(days=retention_days))
    except StoreError as exc:
        log.warning("retention: could not expire old questions and reasons: %s", exc)
    if warned or deleted:
        log.info("retention: warned %d user(s), deleted the data of %d", len(warned), len(deleted))
    return RetentionRun(warned, deleted)


async def _warn(context: ContextTypes.DEFAULT_TYPE, bot: "Bot", user_id: int, attempt: int) -> bool:
    store = bot.store
    try:
        ctx = Context(user_id=user_id, lang=i18n.normalise_language(store.get_language(user_id)))
        text = bot.engine._("您已较长时间未使用本机器人。按照隐私说明，若 7 天内仍未使用，您的清单和设置将被删除。发送任意消息即可保留。", ctx)
        await context.bot.send_message(user_id, text)
        store.mark_warned(user_id)
        return True
    except Exception as exc:  # noqa: BLE001 - one user's failure is recorded, never the end of the run
        delay = retry_delay(attempt) if transient(exc) else -1.0
        if delay >= 0 and context.job_queue is not None:
            log.warning("retention: warning user %s failed (%s); retrying in %.0f s", user_id, exc, delay)
            context.job_queue.run_once(_retry_warn, when=delay, data=(user_id, attempt + 1), name=f"retention-warn-{user_id}")
            return False
        log.warning("retention: user %s cannot be warned: %s", user_id, exc)
        try:
            store.record_warn_failure(user_id, f"{type(exc).__name__}: {exc}")
            store.mark_warned(user_id)  # not retried every day; the deletion still happens on time
        except StoreError as inner:
            log.warning("retention: could not record the failure for user %s: %s", user_id, inner)
        return False


async def _retry_warn(context: ContextTypes.DEFAULT_TYPE) -> None:
    bot: Bot = context.application.bot_data["handlers"]
    user_id, attempt = context.job.data
    await _warn(context, bot, user_id, attempt)


def schedule_reminder(application: Application, reminder_id: int, delay: float | None = None) -> None:
    """Queue one stored reminder; one already due (e.g. missed while down) goes out now."""
    bot: Bot = application.bot_data["handlers"]
    row = bot.store.get_reminder(reminder_id)
    if row is None or row.sent_at or row.cancelled or application.job_queue is None:
        return
    if delay is None:
        delay = (dt.datetime.fromisoformat(row.due_at) - bot.engine.clock()).total_seconds()
    application.job_queue.run_once(send_reminder, when=max(delay, 0.0), data=reminder_id, name=f"reminder-{reminder_id}")


async def send_reminder(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver one reminder. A transient failure (5xx, timeout, database busy) is retried with backoff;
    a permanent one (blocked, chat gone) or too many attempts is recorded on the reminder."""
    bot: Bot = context.application.bot_data["handlers"]
    reminder_id = context.job.data
    try:
        row = bot.store.get_reminder(reminder_id)
        if row is None or row.sent_at or row.cancelled:
            return
        if bot.store.get_setting(row.user_id, "reminders", True):
            lang = i18n.normalise_language(bot.store.get_language(row.user_id))
            screen = reminder_message(bot.engine, row, lang)
            await deliver(context.bot, row.chat_id, screen)
        bot.store.mark_reminder_sent(row.id)
    except Exception as exc:  # noqa: BLE001 - recorded on the reminder; the job queue goes on
        error = f"{type(exc).__name__}: {exc}"
        try:
            attempts = bot.store.record_attempt(reminder_id, error, permanent=not transient(exc))
        except StoreError:
            attempts = 1
        delay = retry_delay(attempts) if transient(exc) else -1.0
        if delay >= 0 and context.job_queue is not None:
            log.warning("reminder %s not delivered (%s); attempt %d, retrying in %.0f s", reminder_id, error, attempts, delay)
            context.job_queue.run_once(send_reminder, when=delay, data=reminder_id, name=f"reminder-{reminder_id}")
            return
        if transient(exc):
            try:
                bot.store.record_attempt(reminder_id, error, permanent=True)
            except StoreError:
                pass
        log.warning("reminder %s given up after %d attempt(s): %s", reminder_id, attempts, error)


async def _watch_polling(application: Application) -> None:
    """Polling that ends by itself (Telegram rejects the token: revoked) must end the process, non-zero,
    so that a supervisor notices; PTB would otherwise keep the process alive doing nothing."""
    while True:
        await asyncio.sleep(1.0)
        updater = application.updater
        task = getattr(updater, "_Updater__polling_task", None)  # PTB 22 keeps the polling task here
        if updater is None or not updater.running or task is None or not task.done():
            continue
        reason = "cancelled" if task.cancelled() else (task.exception() or "ended")
        # the dead task (and its clean-up, another getUpdates with the same rejected token) must not
        # be awaited again by Updater.stop(): that would re-raise and skip the orderly shutdown
        updater._Updater__polling_task = None  # type: ignore[attr-defined]
        updater._Updater__polling_cleanup_cb = None  # type: ignore[attr-defined]
        log.error("polling stopped (%s); exiting with status %d", reason, EXIT_POLLING_STOPPED)
        application.bot_data["exit_code"] = EXIT_POLLING_STOPPED
        application.stop_running()
        return


WARM_UP_DELAY_S = 1.0


async def _post_init(application: Application) -> None:
    handlers_: Bot = application.bot_data["handlers"]
    handlers_.username = application.bot.username or handlers_.username  # for deep links into the private chat
    if application.bot_data.get("watch_polling"):
        application.bot_data["watchdog"] = asyncio.get_running_loop().create_task(_watch_polling(application))
    commands = [BotCommand(name, description) for name, description in COMMANDS]
    await application.bot.set_my_commands(commands)
    await application.bot.set_my_description(DESCRIPTION)
    await application.bot.set_my_short_description(SHORT_DESCRIPTION)
    for lang in i18n.TRANSLATED:
        gettext = i18n.translations(lang).gettext
        await application.bot.set_my_commands([BotCommand(n, gettext(d)) for n, d in COMMANDS], language_code=lang)
        await application.bot.set_my_description(gettext(DESCRIPTION), language_code=lang)
        await application.bot.set_my_short_description(gettext(SHORT_DESCRIPTION), language_code=lang)
    handlers: Bot = application.bot_data["handlers"]
    if application.job_queue is not None and handlers.store is not None:
        application.job_queue.run_daily(retention_job, time=dt.time(3, 0, tzinfo=SHANGHAI), name="retention")
        pending = handlers.store.pending_reminders()
        for row in pending:
            schedule_reminder(application, row.id)

        def on_event(kind: str, ctx: Context, value: str) -> None:
            if kind == "reminder_added":
                schedule_reminder(application, int(value))
            elif kind == "reminder_cancelled":
                for job in application.job_queue.get_jobs_by_name(f"reminder-{value}"):
                    job.schedule_removal()

        handlers.engine.listeners.append(on_event)
        if pending:
            log.info("re-scheduled %d pending reminder(s)", len(pending))
    log.info("bot @%s started; %d commands registered", application.bot.username, len(commands))
    # the free-text answerer loads its libraries in the background once polling is under way
    # (a question arriving earlier builds it on the spot)
    warm = threading.Timer(WARM_UP_DELAY_S, handlers.engine.warm_up)
    warm.daemon = True
    warm.start()


def build_application(settings: Settings, *, engine: Engine | None = None, request: BaseRequest | None = None,
                      rate_limit: bool = True) -> Application:
    """The one factory: a configured Application with every handler.

    ``request`` replaces the HTTP client (benchmarks and fuzz tests pass an offline one);
    ``rate_limit=False`` drops the throttle to Telegram's limits, to measure the bot itself."""
    token = settings.require_token()
    engine = engine or build_engine(settings.db_path, load_knowledge(settings.knowledge_dir), stale_days=settings.stale_days,
                                    retention_days=settings.retention_days)
    bot = Bot(engine, settings)
    get_updates_request: BaseRequest
    if request is None:  # every Bot API call and file download goes through TELEGRAM_PROXY if set
        request = make_request(settings)
        get_updates_request = make_request(settings, pool=2, read_timeout=settings.request_timeout + 30)
    else:
        get_updates_request = request
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .request(request)
        .get_updates_request(get_updates_request)
        .post_init(_post_init)
    )
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    engine.extend("inline")  # share buttons need inline mode, which only Telegram has
    application.bot_data["engine"] = engine
    application.bot_data["handlers"] = bot
    add = application.add_handler
    add(CommandHandler("start", bot.start))
    for command, (route, feature) in COMMAND_ROUTES.items():
        add(CommandHandler(command, bot.route_handler(route, feature)))
    add(CommandHandler("cancel", bot.cancel))
    add(CommandHandler("stats", bot.stats))
    add(CommandHandler("reload", bot.reload, block=False))  # loading runs in a thread; other updates go on
    add(InlineQueryHandler(bot.inline_query))
    add(CallbackQueryHandler(bot.button, pattern=rf"^{CALLBACK_PREFIX}\|"))
    add(CallbackQueryHandler(bot.button))  # anything else is stale or forged: a fresh menu
    add(MessageHandler(PRIVATE & filters.COMMAND, bot.unknown_command))
    add(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, bot.text))
    add(MessageHandler(filters.ChatType.GROUPS & filters.TEXT & filters.Entity("mention") & ~filters.COMMAND, bot.group_mention))
    add(MessageHandler(PRIVATE & (filters.Document.ALL | filters.PHOTO) & filters.UpdateType.MESSAGE, bot.upload))
    add(MessageHandler(PRIVATE & ~filters.TEXT & filters.UpdateType.MESSAGES, bot.non_text))
    application.add_error_handler(bot.error)
    return application


ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]


def run(settings: Settings, *, web: bool = False) -> int:
    """Long polling, or a webhook when ``settings.webhook_url`` is set: the URL's path is
    the path served on ``listen:port`` (a reverse proxy forwards it unchanged), and
    requests without the secret token are refused with 403. Returns the process exit
    status (0 after SIGTERM, non-zero if polling died). ``web``: serve the web pages
    (``eport-guide web``) from this process too."""
    application = build_application(settings)
    if web:
        from web.server import attach

        attach(application, settings)
    if settings.webhook_url:
        url_path = urlsplit(settings.webhook_url).path.strip("/")
        application.run_webhook(listen=settings.listen, port=settings.port, url_path=url_path,
                                webhook_url=settings.webhook_url, secret_token=settings.webhook_secret,
                                allowed_updates=ALLOWED_UPDATES)
    else:
        application.bot_data["watch_polling"] = True
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return int(application.bot_data.get("exit_code", 0))

