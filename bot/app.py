"""The Telegram channel: one factory, ``build_application(settings)``.

Handlers turn Telegram updates into engine calls on the application object (``dialogs.guide``)
and hand the screens to ``bot.delivery.deliver`` (HTML, inline keyboard, edit in place, the
document). Button presses are always answered; stale or forged buttons get a fresh menu;
errors are logged with the update id and the user is pointed to the hotline, in their
language. The scheduled work is in ``bot.jobs``.
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
import time

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
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from dialogs import commands, i18n
from dialogs.commands import COMMANDS, N_
from dialogs.engine import Context, Screen
from dialogs.guide import Guide, build_guide
from dialogs.i18n import t
from dialogs.uploads import TELEGRAM_DOWNLOAD_LIMIT
from dialogs.links import deep_link
from dialogs.render import fit_html, labelled
from dialogs.store import StoreError
from knowledge import KnowledgeError, load_knowledge

from .delivery import NO_PREVIEW, deliver
from .inbox import Inbox
from .jobs import Jobs
from .ops import make_request
from .runner import serve
from .settings import Settings
from .startup import resume_collection
from .telegram_api import UnreadReplies, check_version

log = logging.getLogger("eport_guide.bot")

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
TOUCH_PAUSE = 5.0  # seconds between attempts to record visits while the database refuses writes
POPULAR_TTL = 600.0  # seconds an empty inline query's "most viewed" list is reused
WARM_UP_DELAY_S = 1.0
# the statistics' events (a business viewed, a checklist opened) are written together, 64 at a time or when
# this old, as the web pages' are (one commit for many instead of one per view: Store.hold_events); none is
# the user's data, the statistics flush them before reading, and the application's shutdown writes the rest
EVENTS_HOLD_S = 1.0
ASKED_MAX = 100_000  # users whose open question (or its absence) is remembered in memory
CONTEXTS_MAX = 1024  # Contexts of recent users kept for their next updates


def sender_id(update: object) -> int | None:
    """The id of the user behind an update, or None when it has none or an impossible one (Telegram's
    user ids are positive; ours below zero are web sessions)."""
    user = update.effective_user if isinstance(update, Update) else None
    return user.id if user is not None and isinstance(user.id, int) and user.id > 0 else None


class RefuseAnonymous(BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]):
    """First in line: an update without a sender, or with a sender id that is not a positive number,
    goes no further (it would act as nobody's, a web session's or user 0's). Logged once per process,
    without its content."""

    def __init__(self) -> None:
        super().__init__(self.refuse)
        self.logged = False

    def check_update(self, update: object) -> bool:
        return isinstance(update, Update) and sender_id(update) is None

    async def refuse(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer nothing and log one line: an update without a user (an anonymous admin, a channel post)."""
        if not self.logged:
            self.logged = True
            log.warning(
                "update %s refused: no sender or an impossible sender id (further ones are refused silently)", update.update_id
            )
        raise ApplicationHandlerStop


class TelegramChannel:
    """The handlers, sharing one Guide."""

    def __init__(self, guide: Guide, settings: Settings):
        self.guide = guide
        self.engine = guide.engine
        self.store = guide.store
        self.settings = settings
        self.jobs = Jobs(guide)
        self.store_failing = False  # the user row cannot be written (logged once, until it recovers)
        self._touch_again = 0.0  # while failing, the next attempt to write the user row
        self._popular: tuple[float, list[str]] | None = None
        self._asked: dict[int, str | None] = {}  # user → the open question (None: none), as stored
        self._contexts: dict[tuple, Context] = {}  # (user, language, chat type, admin, bot) → its Context
        self.username: str | None = settings.bot_username

    # -- who is asking -----------------------------------------------------------------------
    def ctx(self, update: Update) -> Context:
        """Who is asking in ``update``: the user, the language they read, the chat type, admin or not."""
        user = update.effective_user
        chat = update.effective_chat
        kind = chat.type if chat is not None else "inline"  # a button under an inline message has no chat
        if user is None:
            return Context(chat=kind, bot_username=self.username)
        stored = self._touch(user.id, i18n.normalise_language(user.language_code))
        key = (
            user.id,
            self.guide.language(user.id, user.language_code, stored=stored),
            kind,
            user.id in self.settings.admins and kind == ChatType.PRIVATE,
            self.username,
        )
        context = self._contexts.get(key)
        if context is None:  # a Context is immutable: the same one serves a user's next updates
            if len(self._contexts) >= CONTEXTS_MAX:
                self._contexts.clear()
            context = self._contexts[key] = Context(user_id=key[0], lang=key[1], chat=key[2], admin=key[3], bot_username=key[4])
        return context

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
            return None  # Guide.language reads it (or falls back to the client's language)
        if self.store_failing:
            log.info("the database accepts writes again")
            self.store_failing = False
        return lang

    # -- showing a screen ----------------------------------------------------------------------
    async def show(self, update: Update, context: ContextTypes.DEFAULT_TYPE, screen: Screen, *, edit: bool = False) -> None:
        """Deliver the screen to the chat of the update (editing the message under a pressed button)
        and remember whether its next free text answers a question."""
        query = update.callback_query if edit else None
        if query is not None:
            chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        elif update.effective_chat is not None:
            chat_id = update.effective_chat.id
        else:
            return
        user_id = sender_id(update)
        if user_id is not None and not screen.awaiting:
            self.ask(user_id, None)  # any other screen (/cancel's too) ends the question, delivered or not
        await deliver(context.bot, chat_id, screen, query=query)
        if user_id is not None and screen.awaiting:
            self.ask(user_id, screen.awaiting)  # asked only once the question was delivered

    # -- the question a user's next free text answers (kept with the user: it survives a restart) --
    def asked(self, user_id: int) -> str | None:
        """The open question of the user (Screen.awaiting), if any."""
        if user_id in self._asked:
            return self._asked[user_id]
        value = None
        if self.store is not None:
            try:
                value = self.store.pending_question(user_id)
            except StoreError as exc:
                log.info("the open question of a user cannot be read: %s", exc)
                return None  # not remembered: read again next time
        if len(self._asked) >= ASKED_MAX:
            self._asked.clear()
        self._asked[user_id] = value
        return value

    def ask(self, user_id: int, awaiting: str | None) -> None:
        """Open (or, with None, close) the question the user's next free text answers."""
        if self.asked(user_id) == awaiting:
            return
        if self.store is not None:
            try:
                self.store.set_pending_question(user_id, awaiting)
            except StoreError as exc:  # kept in memory meanwhile; the answer still works until a restart
                log.info("the open question of a user cannot be stored: %s", exc)
        self._asked[user_id] = awaiting

    async def say(self, update: Update, message: str) -> None:
        """A one-line answer in the user's language (no screen)."""
        await update.effective_message.reply_text(t(message, self.ctx(update)))

    # -- commands (one table: dialogs.commands) -------------------------------------------------
    def command(self, name: str):
        """The handler of the chat command ``name`` (the shared command table, dialogs.commands)."""

        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            arg = context.args[0] if context.args else None
            await self.show(update, context, commands.answer(self.engine, self.ctx(update), name, arg))

        return handler

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the bot does not have: says so and lists the commands."""
        if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
            return  # in groups, commands the bot does not know are someone else's
        await self.say(update, N_("未知命令。发送 /help 查看用法，或直接输入问题。"))

    # -- buttons ---------------------------------------------------------------------------
    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: answered at once, then the engine's screen edited in place (or sent anew)."""
        query = update.callback_query
        screen = self.engine.handle(self.ctx(update), query.data)  # writes are committed here
        if screen.redirect is not None or screen.route == "private_only":
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
        except BadRequest as exc:  # too old to answer (e.g. pressed before a restart): the edit below still helps
            log.info("callback %s not answered: %s", query.id, exc)
        except (TimedOut, NetworkError) as exc:  # Telegram failing (5xx) or slow: the tick is saved, show it
            log.warning("callback %s not answered (%s: %s); updating the screen anyway", query.id, type(exc).__name__, exc)
        await self.show(update, context, screen, edit=True)

    # -- free text and files ------------------------------------------------------------------
    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Free text in the private chat: the answer to the question a screen asked, else a question."""
        ctx = self.ctx(update)
        awaiting = self.asked(ctx.user_id) if ctx.user_id is not None else None
        if awaiting:
            self.ask(ctx.user_id, None)  # answered (or replaced by the question below)
        text = update.effective_message.text or ""
        await self.engine.ready()  # the first question after start or /reload: the matcher is built off the loop
        await self.show(update, context, self.engine.reply(ctx, awaiting, text) if awaiting else self.engine.ask(ctx, text))

    async def group_mention(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message that mentions the bot in a group: answered there, personal content by a link."""
        message = update.effective_message
        username = context.bot.username
        if not message.text or f"@{username}".lower() not in message.text.lower():
            return
        question = message.text.replace(f"@{username}", " ").strip()
        ctx = self.ctx(update)
        await self.engine.ready()
        await self.show(update, context, self.engine.ask(ctx, question) if question else self.engine.render("main", ctx))

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
        await self.show(update, context, await self.guide.check_file_off_loop(ctx, data, name, size, photo=photo))

    async def non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A sticker, a voice message and the like: the bot says what it understands."""
        await self.say(update, N_("我只能看懂文字问题和按钮（发送文件可检查能否上传）。请直接输入问题，或发送 /menu 打开菜单。"))

    # -- inline mode ---------------------------------------------------------------------------
    async def inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``@bot query`` in any chat: businesses and cities to share, the most viewed first."""
        query = update.inline_query
        user = query.from_user
        ctx = Context(lang=self.guide.language(user.id, user.language_code), chat="inline")
        popular = self.popular() if not query.query.strip() else None
        await self.engine.ready()
        results = []
        seen: set[str] = set()
        for r in self.guide.inline_results(ctx, query.query[:256], popular=popular):
            if r.route[:64] in seen:
                continue  # Telegram refuses the whole answer when a result id repeats
            seen.add(r.route[:64])
            markup = None
            if r.topic:
                label = t("在机器人中查看完整说明", ctx)
                markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, url=deep_link(context.bot.username, r.topic))]])
            results.append(
                InlineQueryResultArticle(
                    id=r.route[:64],
                    title=r.title,
                    description=r.description,
                    input_message_content=InputTextMessageContent(
                        r.html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                    ),
                    reply_markup=markup,
                )
            )
        # answers in the user's language: Telegram must not hand them to someone else
        await query.answer(results, cache_time=60, is_personal=True)

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
    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stats: the usage statistics (admins only, in their private chat)."""
        ctx = self.ctx(update)
        if not ctx.admin:  # the engine refuses the screen anyway; others see an unknown command
            await self.unknown_command(update, context)
            return
        await self.show(update, context, self.engine.render("stats", ctx))

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reload: load the knowledge files again (admins only); the old stay live if they are invalid."""
        ctx = self.ctx(update)
        if not ctx.admin:  # admins, in their private chat
            await self.unknown_command(update, context)
            return
        try:
            # the knowledge files and the questions staff taught (the overlay beside the database)
            kb = await asyncio.to_thread(self.guide.load_knowledge, self.settings.knowledge_dir)  # never in the event loop
        except KnowledgeError as exc:
            shown = exc.problems[:100]  # a message holds about 40 of them: the cut below counts the rest
            beyond = len(exc.problems) - len(shown)
            head = t("❌ 资料文件有误，继续使用原资料（%(count)d 处）：", ctx) % {"count": len(exc.problems)}
            lines = "\n".join(html.escape(str(p)) for p in shown)
            full = f"{html.escape(head)}\n<pre>{lines}</pre>"
            more = self.engine.more(ctx)  # "… 还有 N 条": every problem not shown
            text = fit_html(full, lambda n: more(n + beyond))
            if beyond and text == full:
                text += f"\n… {html.escape(more(beyond))}"
            await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
            log.warning("reload refused: %d problem(s) in the knowledge files", len(exc.problems))
            return
        self.engine.reload(kb)
        log.info("knowledge reloaded from %s", kb.directory)
        done = t("✅ 已重新载入资料：%(businesses)d 项业务、%(offices)d 个办理地点。", ctx)
        await update.effective_message.reply_text(done % {"businesses": len(kb.businesses), "offices": len(kb.offices)})

    # -- errors ------------------------------------------------------------------------------
    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any error in a handler: logged with the update id, the user pointed to the hotline in their language."""
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
        user = update.effective_user if isinstance(update, Update) else None
        # the language without writing anything: the database may be what failed
        ctx = Context(lang=self.guide.language(user.id, user.language_code) if user else i18n.DEFAULT_LANGUAGE)
        if isinstance(exc, StoreError):
            log.warning("update %s: database unavailable: %s", update_id, exc)
            text = t("系统繁忙，刚才的操作没有保存，请稍后再试一次。", ctx)
        elif bad_request:
            log.warning("update %s: Telegram refused a request: %s", update_id, exc)
            text = t("出错了，请稍后再试。", ctx)
        else:
            log.error("update %s: %s: %s", update_id, type(exc).__name__, exc, exc_info=exc)
            text = t("出错了，请稍后再试。", ctx)
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

    # -- start-up ------------------------------------------------------------------------------
    async def post_init(self, application: Application) -> None:
        """After getMe, before updates are received: the reminders' jobs, the warm-up."""
        self.username = application.bot.username or self.username  # for deep links into the private chat
        self.jobs.start(application)
        if application.job_queue is not None:
            application.job_queue.run_repeating(self.flush_job, interval=EVENTS_HOLD_S, name="statistics")
        log.info("bot @%s started", application.bot.username)
        # the free-text answerer loads its libraries in the background once polling is under way
        # (a question arriving earlier builds it on the spot)
        warm = threading.Timer(WARM_UP_DELAY_S, self.warm_up)
        warm.daemon = True
        warm.start()

    async def post_shutdown(self, application: Application) -> None:
        """After the last update: the statistics' events still held are written (the store is the guide's:
        it stays open for whoever built the guide)."""
        self.flush_events()

    async def flush_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The repeating job (started by ``post_init``): ``flush_events``."""
        self.flush_events()

    def flush_events(self) -> None:
        """The statistics' events held back written now (``Store.write_held_events``: no answer waits for them)."""
        if self.store is not None:
            self.store.write_held_events()

    def warm_up(self) -> None:
        """In a worker thread, once polling is under way: the answerer built, then the garbage collector
        resumed if ``eport-guide run`` paused it for the start-up (bot.startup)."""
        try:
            self.engine.warm_up()
        finally:
            resume_collection(settle=True)

    async def register_profile(self, application: Application) -> None:
        """The command menu and the profile texts, per language. Called by bot.runner once polling has begun:
        the first getUpdates does not wait for these nine calls, nor for the translated catalogues they need
        (compiled in a worker thread, so updates are handled meanwhile); a failure still ends the start-up."""
        menu = [BotCommand(c.name, c.description) for c in COMMANDS]
        await application.bot.set_my_commands(menu)
        await application.bot.set_my_description(DESCRIPTION)
        await application.bot.set_my_short_description(SHORT_DESCRIPTION)
        for lang in i18n.TRANSLATED:
            gettext = (await asyncio.to_thread(i18n.translations, lang)).gettext
            await application.bot.set_my_commands(
                [BotCommand(c.name, gettext(c.description)) for c in COMMANDS], language_code=lang
            )
            await application.bot.set_my_description(gettext(DESCRIPTION), language_code=lang)
            await application.bot.set_my_short_description(gettext(SHORT_DESCRIPTION), language_code=lang)
        log.info("%d commands and the profile texts registered", len(menu))


def build_application(
    settings: Settings, *, guide: Guide | None = None, request: BaseRequest | None = None, rate_limit: bool = True
) -> Application:
    """The one factory: a configured Application with every handler. ``application.bot_data["guide"]``
    is the application object (dialogs.guide.Guide) the handlers and jobs share.

    ``request`` replaces the HTTP client (benchmarks and fuzz tests pass an offline one);
    ``rate_limit=False`` drops the throttle to Telegram's limits, to measure the bot itself."""
    check_version()  # outside the supported python-telegram-bot versions: one line, before anything starts
    token = settings.require_token()
    guide = guide or build_guide(settings.db_path, load_knowledge(settings.knowledge_dir), settings=settings, channel="telegram")
    channel = TelegramChannel(guide, settings)
    if guide.store is not None:
        guide.store.hold_events(EVENTS_HOLD_S)
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
        .request(UnreadReplies(request))  # the screens' replies are not decoded (bot.telegram_api)
        .get_updates_request(get_updates_request)
        .updater(None)  # updates come through the durable inbox (bot.inbox), not the library's Updater
        .post_init(channel.post_init)
        .post_shutdown(channel.post_shutdown)
    )
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    application = builder.build()
    application.bot_data["guide"] = guide
    application.bot_data["inbox"] = Inbox(application, guide.store)  # bot.runner feeds the handlers from it
    application.bot_data["register_profile"] = channel.register_profile  # bot.runner, once updates are received
    application.add_handler(RefuseAnonymous(), group=-1)
    add = application.add_handler
    # Button presses first (most updates are; a handler is tried after another only when that one does not
    # take the update, and no message handler takes a button press): ours, and stale or forged ones too,
    # which the engine answers with a fresh menu.
    add(CallbackQueryHandler(channel.button))
    add(InlineQueryHandler(channel.inline_query))
    for command in COMMANDS:
        add(CommandHandler(command.name, channel.command(command.name)))
    add(CommandHandler("stats", channel.stats))
    add(CommandHandler("reload", channel.reload, block=False))  # loading runs in a thread; other updates go on
    add(MessageHandler(PRIVATE & filters.COMMAND, channel.unknown_command))
    add(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, channel.text))
    add(
        MessageHandler(
            filters.ChatType.GROUPS & filters.TEXT & filters.Entity("mention") & ~filters.COMMAND, channel.group_mention
        )
    )
    add(MessageHandler(PRIVATE & (filters.Document.ALL | filters.PHOTO) & filters.UpdateType.MESSAGE, channel.upload))
    add(MessageHandler(PRIVATE & ~filters.TEXT & filters.UpdateType.MESSAGES, channel.non_text))
    application.add_error_handler(channel.error)
    return application


def run(settings: Settings, *, web: bool = False) -> int:
    """Long polling, or a webhook when ``settings.webhook_url`` is set: the URL's path is
    the path served on ``listen:port`` (a reverse proxy forwards it unchanged), and
    requests without the secret token are refused with 403 before their body is read.
    Every update goes through the durable inbox (bot.inbox). Returns the process exit
    status (0 after SIGTERM, non-zero if polling died). ``web``: serve the web pages
    (``eport-guide web``) from this process too. Telegram unreachable at start-up is waited
    for (``bot.startup``); the event loop is left clean."""
    from . import startup

    application = build_application(settings)  # a database or knowledge problem stops here, before any waiting
    loop = startup.new_loop()
    try:
        if not startup.reach_telegram(settings, loop):
            application.bot_data["guide"].close()
            return 0  # SIGTERM while waiting
        if web:
            from web.server import attach

            attach(application, settings)
        return loop.run_until_complete(serve(application, settings))
    finally:
        startup.close_loop(loop)
