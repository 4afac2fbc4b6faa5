"""The Telegram channel: one factory, ``build_application(settings)``.

Handlers translate Telegram updates into engine calls and engine screens into messages
(HTML parse mode, inline keyboards). Button presses edit the message in place and are
always answered; stale or forged buttons get a fresh menu; errors are logged with the
update id and the user is pointed to the hotline.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputFile,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
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
from dialogs.links import deep_link
from dialogs.render import labelled
from dialogs.service import build_engine
from knowledge import KnowledgeError, load_knowledge

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


class Bot:
    """The handlers, sharing one engine."""

    def __init__(self, engine: Engine, settings: Settings):
        self.engine = engine
        self.settings = settings
        self.store = getattr(engine, "store", None)

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
        if user is None:
            return Context()
        lang = None
        if self.store is not None:
            lang = self.store.touch_user(user.id, i18n.normalise_language(user.language_code))
        return Context(user_id=user.id, lang=i18n.normalise_language(lang or user.language_code))

    async def send(self, update: Update, context: ContextTypes.DEFAULT_TYPE, screen: Screen) -> Message | None:
        chat = update.effective_chat
        if chat is None:
            return None
        message = await context.bot.send_message(
            chat.id, screen.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(screen), link_preview_options=NO_PREVIEW
        )
        await self._after(update, context, screen)
        return message

    async def _after(self, update: Update, context: ContextTypes.DEFAULT_TYPE, screen: Screen) -> None:
        if context.user_data is not None:
            if screen.awaiting:
                context.user_data["awaiting"] = screen.awaiting
            else:
                context.user_data.pop("awaiting", None)
        if screen.document and update.effective_chat:
            name, content = screen.document
            await context.bot.send_document(update.effective_chat.id, InputFile(content, filename=name))

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
        try:
            await query.answer(screen.toast)
        except BadRequest as exc:  # too old to answer: the edit below still helps
            log.info("callback %s not answered: %s", query.id, exc)
        message = query.message
        if isinstance(message, Message) and not screen.stale:
            try:
                await query.edit_message_text(
                    screen.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(screen), link_preview_options=NO_PREVIEW
                )
                await self._after(update, context, screen)
                return
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    await self._after(update, context, screen)
                    return
                log.info("cannot edit message %s (%s); sending a new one", message.message_id, exc)
        chat_id = message.chat.id if message is not None else query.from_user.id
        await context.bot.send_message(
            chat_id, screen.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(screen), link_preview_options=NO_PREVIEW
        )
        await self._after(update, context, screen)

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
            file = await context.bot.get_file(item.file_id)
            data = bytes(await file.download_as_bytearray())
        await self.send(update, context, self.engine.precheck(ctx, data, name, size, photo=photo))

    async def non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        ctx = self.ctx(update)
        text = self.engine._("我只能看懂文字问题和按钮（发送文件可检查能否上传）。请直接输入问题，或发送 /menu 打开菜单。", ctx)
        await update.effective_message.reply_text(text)

    # -- inline mode ---------------------------------------------------------------------------
    async def inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        ctx = Context(lang=i18n.normalise_language(query.from_user.language_code))
        popular = list(self.store.stats(days=1)["views"]) if self.store is not None and not query.query.strip() else None
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

    # -- admin ---------------------------------------------------------------------------------
    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admins

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.is_admin(update) or update.effective_chat.type != ChatType.PRIVATE:
            await self.unknown_command(update, context)
            return
        await self.route_command(update, context, "stats")

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.is_admin(update) or update.effective_chat.type != ChatType.PRIVATE:
            await self.unknown_command(update, context)
            return
        ctx = self.ctx(update)
        try:
            kb = load_knowledge(self.settings.knowledge_dir)
        except KnowledgeError as exc:
            lines = "\n".join(html.escape(str(p)) for p in exc.problems[:30])
            more = f"\n… +{len(exc.problems) - 30}" if len(exc.problems) > 30 else ""
            head = self.engine._("❌ 资料文件有误，继续使用原资料（%(count)d 处）：", ctx) % {"count": len(exc.problems)}
            text = f"{html.escape(head)}\n<pre>{lines}{more}</pre>"
            await update.effective_message.reply_text(text[:4000], parse_mode=ParseMode.HTML)
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
        if isinstance(exc, (RetryAfter, TimedOut, NetworkError)):
            log.warning("update %s: Telegram unreachable or rate-limited: %s", update_id, exc)
            return  # telling the user would need the same unreachable Telegram
        ctx = Context(lang=self.language_of(update))
        if isinstance(exc, StoreError):
            log.warning("update %s: database unavailable: %s", update_id, exc)
            text = self.engine._("系统繁忙，刚才的操作没有保存，请稍后再试一次。", ctx)
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


async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> RetentionRun:
    """Daily: warn users 7 days before their data expires, delete the expired."""
    bot: Bot = context.application.bot_data["handlers"]
    store = bot.store
    now = bot.engine.clock()
    to_warn, to_delete = retention.due(store, now, bot.settings.retention_days)
    warned = []
    for user_id in to_warn:
        ctx = Context(user_id=user_id, lang=i18n.normalise_language(store.get_language(user_id)))
        text = bot.engine._("您已较长时间未使用本机器人。按照隐私说明，若 7 天内仍未使用，您的清单和设置将被删除。发送任意消息即可保留。", ctx)
        try:
            await context.bot.send_message(user_id, text)
            warned.append(user_id)
        except Forbidden:
            log.info("retention: user %s blocked the bot; not warned", user_id)
        store.mark_warned(user_id)
    for user_id in to_delete:
        store.forget_user(user_id)
    if warned or to_delete:
        log.info("retention: warned %d user(s), deleted the data of %d", len(warned), len(to_delete))
    return RetentionRun(warned, to_delete)


def schedule_reminder(application: Application, reminder_id: int) -> None:
    """Queue one stored reminder; one already due (e.g. missed while down) goes out now."""
    bot: Bot = application.bot_data["handlers"]
    row = bot.store.get_reminder(reminder_id)
    if row is None or row.sent_at or row.cancelled or application.job_queue is None:
        return
    delay = (dt.datetime.fromisoformat(row.due_at) - bot.engine.clock()).total_seconds()
    application.job_queue.run_once(send_reminder, when=max(delay, 0.0), data=reminder_id, name=f"reminder-{reminder_id}")


async def send_reminder(context: ContextTypes.DEFAULT_TYPE) -> None:
    bot: Bot = context.application.bot_data["handlers"]
    row = bot.store.get_reminder(context.job.data)
    if row is None or row.sent_at or row.cancelled:
        return
    if bot.store.get_setting(row.user_id, "reminders", True):
        lang = i18n.normalise_language(bot.store.get_language(row.user_id))
        screen = reminder_message(bot.engine, row, lang)
        try:
            await context.bot.send_message(row.chat_id, screen.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(screen),
                                           link_preview_options=NO_PREVIEW)
        except Forbidden:
            log.info("reminder %s: user %s blocked the bot", row.id, row.user_id)
    bot.store.mark_reminder_sent(row.id)


async def _post_init(application: Application) -> None:
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
    add(CommandHandler("reload", bot.reload))
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


def run(settings: Settings, *, web: bool = False) -> None:
    """Long polling, or a webhook when ``settings.webhook_url`` is set: the URL's path is
    the path served on ``listen:port`` (a reverse proxy forwards it unchanged), and
    requests without the secret token are refused with 403. ``web``: serve the web pages
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
        application.run_polling(allowed_updates=ALLOWED_UPDATES)

