"""The ``eport-guide`` command.

Exit codes: 0 ok · 1 invalid knowledge files (``health``: a check failed) · 2 bad usage
(unknown topic, empty question, missing or malformed configuration, missing database, a
token or request Telegram rejects) · 3 Telegram unreachable (``health --online``; ``run``
after its start-up retries, or when polling stopped by itself).

Every command reads one validated :class:`bot.settings.Settings` (``args.settings``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from dialogs.routes import Route, screen_of
from knowledge import Knowledge, KnowledgeError, load_knowledge

from .settings import SettingsError

EXIT_OK, EXIT_KNOWLEDGE, EXIT_USAGE, EXIT_TELEGRAM = 0, 1, 2, 3


SECRET_VARIABLES = ("EPORT_WECHAT_TOKEN", "EPORT_WECHAT_AES_KEY", "EPORT_WECHAT_APP_SECRET")  # never printed


class UsageError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def user_id(text: str) -> int:
    """A Telegram user id as typed on the command line: ASCII digits, within SQLite's 64-bit integers."""
    import re

    if not re.fullmatch(r"-?[0-9]{1,19}", text.strip()) or not -(2**63) < int(text) < 2**63:
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {text!r}")
    return int(text)


def _settings(args: argparse.Namespace):
    from .settings import Settings

    return getattr(args, "settings", None) or Settings.from_env()


def _kb(args: argparse.Namespace | None = None) -> Knowledge:
    return load_knowledge(_settings(args).knowledge_dir if args is not None else None)


def _plain_guide(args: argparse.Namespace):
    """A guide without a database (the screens everyone sees)."""
    from dialogs.guide import build_guide

    return build_guide(kb=_kb(args), settings=_settings(args), store=False)


def _engine(args: argparse.Namespace):
    """The engine of a guide without a database."""
    return _plain_guide(args).engine


def _ctx(args: argparse.Namespace):
    """``--user`` and the operator's ``--lang`` (reports and look-ups; the chat resolves the user's own)."""
    from dialogs import i18n
    from dialogs.engine import Context

    return Context(user_id=getattr(args, "user", None), lang=i18n.normalise_language(getattr(args, "lang", None)))


def cmd_check_knowledge(args: argparse.Namespace) -> int:
    """eport-guide check-knowledge: validate the knowledge files (and the overlay); exit 1 listing the problems."""
    from dialogs.guide import overlay_path
    from knowledge.loader import resolve_directory
    from knowledge.overlay import apply_overlay

    directory = resolve_directory(args.directory or _settings(args).knowledge_dir)
    overlay = args.overlay or overlay_path(None, _settings(args))  # the questions staff taught, beside the database
    if args.overlay and not Path(args.overlay).is_file():
        raise UsageError(f"--overlay {args.overlay} is not a file")
    try:
        kb = load_knowledge(directory)
        taught = apply_overlay(kb, overlay) if overlay is not None else kb
    except KnowledgeError as exc:
        print(f"knowledge in {directory} is invalid ({len(exc.problems)} problem(s)):", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return EXIT_KNOWLEDGE
    print(
        f"knowledge in {directory} is valid: {len(kb.businesses)} businesses, {len(kb.materials)} materials, "
        f"{len(kb.annotations)} annotations, {len(kb.offices)} offices, {len(kb.facts)} facts, "
        f"{len(kb.answers)} answers ({sum(a.silent for a in kb.answers.values())} where the documents are silent); "
        f"every quote found verbatim in {', '.join(sorted(kb.sources))}"
    )
    if taught.overlay is not None:
        print(
            f"overlay {taught.overlay} is valid: {len(taught.taught)} taught question(s), each to an existing answer or business"
        )
    return EXIT_OK


def cmd_unanswered(args: argparse.Namespace) -> int:
    """eport-guide unanswered: the missed questions grouped, with what the guide answers now."""
    guide = _guide(args, existing=True, writable=False)  # a report: works on a read-only copy
    groups = guide.missed_groups()
    if not groups:
        print("no unanswered question or 👎 reason is waiting to be taught")
        return EXIT_OK
    print(
        f"{sum(g.count for g in groups)} missed question(s) in {len(groups)} group(s) of similar ones, most asked first "
        "(unanswered questions and 👎 reasons, scrubbed of numbers when they were logged):"
    )
    for n, g in enumerate(groups[: args.limit], 1):
        down = f"   👎 {', '.join(f'{t} ×{c}' for t, c in g.down.items())}" if g.down else ""
        print(f"{n:>3}. {g.count}×  {g.question}{down}")
        if len(g.members) > 1:
            for text, count in g.members:
                print(f"        {count}× {text}")
        result = guide.engine.matcher.match(g.question)
        if result.confident and result.best:
            print(f"       now answered with {result.best.route}")
        else:
            print(f"       now: suggestions {', '.join(m.route for m in result.suggestions) or '(none)'}")
    if len(groups) > args.limit:
        print(f"… {len(groups) - args.limit} more group(s) (--limit)")
    print('teach one: eport-guide teach "QUESTION" answer:ID or topic:ID, then /reload the bot')
    return EXIT_OK


def cmd_teach(args: argparse.Namespace) -> int:
    """eport-guide teach: attach a question to an answer or business in the local overlay."""
    from dialogs.guide import build_guide, overlay_path
    from knowledge.overlay import TeachError, teach

    settings = _settings(args)
    path = overlay_path(None, settings)
    if path is None:
        raise UsageError("the database is in memory: set EPORT_GUIDE_OVERLAY to keep taught questions in a file")
    if not settings.overlay_path and not Path(settings.db_path).expanduser().is_file():
        raise UsageError(
            f"database {settings.db_path} does not exist (check --db or EPORT_GUIDE_DB); "
            "taught questions are kept beside it, so nothing was written"
        )
    kb = _kb(args)
    try:
        lesson = teach(path, kb, [(args.question, args.route.strip())], lang=args.lang)[0]
    except TeachError as exc:
        raise UsageError(f"cannot teach it: {exc}") from exc
    name = build_guide(kb=kb, store=False).route_label(lesson.route, _ctx(args))
    if not lesson.changed:
        print(f"already taught: {lesson.question!r} → {lesson.route} ({name}); {path} unchanged")
        return EXIT_OK
    moved = f" (was {lesson.previous})" if lesson.previous else ""
    print(f"taught: {lesson.question!r} → {lesson.route} ({name}){moved}, language {lesson.lang}, in {path}")
    print("send /reload to the bot (or restart it) and the guide answers it and similar questions")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """eport-guide show: a business's whole answer."""
    guide = _plain_guide(args)
    topic = args.topic.strip()
    if topic not in guide.kb.businesses:
        raise UsageError(f"unknown topic {topic!r}; known topics: {', '.join(guide.kb.businesses)}")
    # the first screen, then the verbatim rules and the labelled Jiangsu extras
    print(guide.full_answer(_ctx(args), topic, html=args.html))
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    """eport-guide ask: a free-text question answered as the bot would."""
    question = " ".join(args.question).strip()
    if not question:
        raise UsageError('empty question; example: eport-guide ask "卡丢了怎么办"')
    engine = _engine(args)
    screen = engine.ask(_ctx(args), question)
    print(screen.text)
    if screen_of(screen.route) in ("suggest", "ask_business"):  # the choices are the buttons
        for b in screen.all_buttons():
            print(f"  • {b.label}")
    return EXIT_OK


def cmd_offices(args: argparse.Namespace) -> int:
    """eport-guide offices: all offices, or one city's."""
    engine = _engine(args)
    ctx = _ctx(args)
    if not args.city:
        print(engine.render("offices", ctx).text)
        return EXIT_OK
    city = args.city.strip()
    if city not in engine.kb.cities:
        best = engine.matcher.match(city).best
        route = Route.parse(best.route) if best is not None else None
        if route is None or route.screen != "city":
            raise UsageError(f"no office in {city!r}; cities: {'、'.join(engine.kb.cities)}")
        city = route.arg
    print(engine.render(Route("city", (city,)), ctx).text)
    return EXIT_OK


def cmd_picture(args: argparse.Namespace) -> int:
    """A prepared copy's example picture: SVG on stdout, or --out FILE.png / FILE.svg."""
    from pathlib import Path

    from dialogs.pictures import copy_materials, picture

    kb = _kb(args)
    known = copy_materials(kb)
    if args.material not in known:
        raise UsageError(f"no picture of {args.material!r}; the prepared copies are: {', '.join(known)}")
    drawn = picture(kb, args.material, _ctx(args).lang)
    if not args.out:
        sys.stdout.write(drawn.svg() + "\n")
        return EXIT_OK
    suffix = Path(args.out).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise UsageError(f"--out must end in .png or .svg, not {args.out!r}")
    try:
        if suffix == ".png":
            Path(args.out).write_bytes(drawn.png())
        else:
            Path(args.out).write_text(drawn.svg() + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the picture to {args.out}: {exc.strerror or exc}") from exc
    print(f"picture written to {args.out}", file=sys.stderr)
    return EXIT_OK


def _guide(args: argparse.Namespace, *, existing: bool = False, writable: bool = True):
    """The application object with its database; ``existing``: refuse a file that does not exist
    (commands that read or delete data must not create an empty database from a typo);
    ``writable`` False: a report that works on a read-only copy."""
    from pathlib import Path

    from dialogs.guide import build_guide
    from dialogs.store import StoreError

    settings = _settings(args)
    if existing and not Path(settings.db_path).expanduser().is_file():
        raise UsageError(
            f"database {settings.db_path} does not exist (check --db or EPORT_GUIDE_DB); nothing was read or changed"
        )
    try:
        return build_guide(settings.db_path, _kb(args), settings=settings, writable=writable)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc


def cmd_chat(args: argparse.Namespace) -> int:
    """eport-guide chat: the console conversation."""
    from dialogs.console import run_console

    return run_console(_guide(args), args.user, args.lang)


def cmd_checklist(args: argparse.Namespace) -> int:
    """eport-guide checklist: a user's checklists."""
    guide = _guide(args, existing=True, writable=False)  # a report: works on a read-only copy
    ctx = _ctx(args)  # the operator's --lang (a report, not the user's chat)
    if args.topic:
        if args.topic not in guide.kb.businesses:
            raise UsageError(f"unknown topic {args.topic!r}; known topics: {', '.join(guide.kb.businesses)}")
        topics = [args.topic]
    else:
        topics = [row.topic for row in guide.store.list_checklists(args.user) if row.topic in guide.kb.businesses]
    if not topics:
        print(f"user {args.user} has no checklists")
        return EXIT_OK
    for n, topic in enumerate(topics):
        if n:
            print("\n" + "=" * 40 + "\n")
        print(guide.checklists.export_text(ctx, topic), end="")
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    """eport-guide forget: delete every row about a user."""
    guide = _guide(args, existing=True)
    rows = guide.store.forget_user(args.user)
    print(f"deleted {rows} row(s) about user {args.user}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """eport-guide run: the Telegram bot (long polling or the webhook), optionally with the web pages."""
    from .logs import setup_logging

    settings = _settings(args)
    try:
        settings.require_token()
    except SettingsError as exc:
        raise UsageError(str(exc)) from exc
    if settings.webhook_url and not settings.webhook_secret:
        raise UsageError(
            "EPORT_GUIDE_WEBHOOK_SECRET (or --secret-token) is required with a webhook: "
            "without it anyone who reaches the port can post forged updates"
        )
    handler = setup_logging(settings.token)
    handler.formatter.secrets += settings.secrets()  # the webhook secret and a proxy password, too
    from .startup import QuietBootstrapFailure, pause_collection, resume_collection

    handler.addFilter(QuietBootstrapFailure())  # a start-up failure is one line: ours, printed by main()
    pause_collection()  # until the bot polls and its answerer is built (bot.app, TelegramChannel.warm_up)
    try:
        from dialogs.store import StoreError

        from .app import run
        from .telegram_api import UnsupportedLibrary

        try:
            return run(settings, web=True) if args.web else run(settings)
        except (StoreError, UnsupportedLibrary) as exc:
            raise UsageError(str(exc)) from exc
    finally:
        resume_collection()  # a start-up that failed (or a run that ended) leaves the collector as it found it


def cmd_web(args: argparse.Namespace) -> int:
    """eport-guide web: the guide as mobile web pages."""
    from dialogs.store import StoreError
    from web.server import serve

    from .logs import setup_logging

    settings = _settings(args)
    handler = setup_logging(settings.token)
    handler.formatter.secrets += settings.secrets()  # the WeChat token, EncodingAESKey and AppSecret, too
    try:
        serve(settings)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:  # the address is taken or not ours
        raise UsageError(f"cannot listen on {settings.web_listen}:{settings.web_port}: {exc.strerror or exc}") from exc
    return EXIT_OK


def cmd_health(args: argparse.Namespace) -> int:
    """eport-guide health: the database, the knowledge and (--online) Telegram checked."""
    from .ops import health

    settings = _settings(args)
    if args.online:
        try:
            settings.require_token()
        except SettingsError as exc:
            raise UsageError(str(exc)) from exc
    code, checks = health(settings, online=args.online)
    for check in checks:
        print(check.line())
    return code


def cmd_backup(args: argparse.Namespace) -> int:
    """eport-guide backup: a consistent, integrity-checked copy of the live database."""
    from .ops import BackupError, backup

    try:
        path, size = backup(_settings(args).db_path, args.file, overwrite=args.force)
    except BackupError as exc:
        raise UsageError(str(exc)) from exc
    print(f"backup written to {path} ({size} bytes), integrity check ok")
    return EXIT_OK


def _bot_username(args: argparse.Namespace) -> str:
    """EPORT_GUIDE_BOT_USERNAME, else asked from Telegram with the token (getMe)."""
    import asyncio

    from .ops import one_off_bot

    settings = _settings(args)
    if settings.bot_username:
        return settings.bot_username
    try:
        token = settings.require_token()
    except SettingsError as exc:
        raise UsageError(f"set EPORT_GUIDE_BOT_USERNAME (or a valid TELEGRAM_BOT_TOKEN to ask Telegram): {exc}") from exc
    from telegram.error import InvalidToken, TelegramError

    async def get_me() -> str:
        async with one_off_bot(settings, token) as bot:
            return bot.username

    try:
        return asyncio.run(get_me())
    except InvalidToken as exc:
        raise UsageError(
            "Telegram rejected the bot token (revoked or mistyped, or TELEGRAM_API_BASE_URL is not a Bot API "
            "address); set EPORT_GUIDE_BOT_USERNAME or a valid TELEGRAM_BOT_TOKEN"
        ) from exc
    except TelegramError as exc:
        raise UsageError(f"cannot ask Telegram for the bot's username ({exc}); set EPORT_GUIDE_BOT_USERNAME") from exc


def _web_url(args: argparse.Namespace) -> str:
    url = _settings(args).web_url
    if not url:
        raise UsageError(
            "--web needs the web pages' public address: set EPORT_GUIDE_WEB_URL (or --web-url), e.g. https://guide.example.org"
        )
    return url


def cmd_link(args: argparse.Namespace) -> int:
    """eport-guide link: a business's deep link (or web link), optionally as a QR code."""
    from dialogs.links import deep_link, web_link, write_qr_png

    kb = _kb(args)
    if args.topic not in kb.businesses:
        raise UsageError(f"unknown topic {args.topic!r}; known topics: {', '.join(kb.businesses)}")
    link = web_link(_web_url(args), args.topic) if args.web else deep_link(_bot_username(args), args.topic)
    print(link)
    if args.qr:
        try:
            written = write_qr_png(link, args.qr)
        except OSError as exc:
            raise UsageError(f"cannot write the QR code to {args.qr}: {exc.strerror or exc}") from exc
        print(f"QR code written to {written}", file=sys.stderr)
    return EXIT_OK


def _wechat_links(args: argparse.Namespace, kb: Knowledge) -> int:
    """links --wechat: each business's scene value and the qrcode/create request; with --out (and the
    AppID and AppSecret) the permanent QR codes made by WeChat, as PNGs and a printable sheet."""
    import json

    from dialogs.links import write_sheet
    from web.wechat import WeChatAPI, WeChatAPIError, qr_request, scenes

    if args.web:
        raise UsageError("--wechat and --web are two kinds of links: choose one")
    width = max(len(t) for t in kb.businesses)
    for scene, name in scenes(kb):
        print(f"{scene:<{width}}  {name}  {json.dumps(qr_request(scene), ensure_ascii=False)}")
    if not args.out:
        return EXIT_OK
    settings = _settings(args)
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        raise UsageError("--wechat --out asks WeChat for the QR codes: set EPORT_WECHAT_APP_ID and EPORT_WECHAT_APP_SECRET")
    guide = _guide(args)  # the access token is cached in the database
    api = WeChatAPI(guide.store, settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_url)
    try:
        sheet = write_sheet(kb, None, args.out, link=api.qr_url)
    except WeChatAPIError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot write the QR codes to {args.out}: {exc.strerror or exc} (--out takes a directory)") from exc
    finally:
        guide.close()
    print(f"WeChat's QR codes and a printable sheet written to {sheet}", file=sys.stderr)
    return EXIT_OK


def cmd_links(args: argparse.Namespace) -> int:
    """eport-guide links: every business's link; --out writes QR codes and a printable sheet."""
    from dialogs.links import deep_link, web_link, write_sheet

    kb = _kb(args)
    if args.wechat:
        return _wechat_links(args, kb)
    if args.web:
        base = _web_url(args)
        make = lambda topic: web_link(base, topic)  # noqa: E731
    else:
        username = _bot_username(args)
        make = lambda topic: deep_link(username, topic)  # noqa: E731
    width = max(len(t) for t in kb.businesses)
    for topic, business in kb.businesses.items():
        print(f"{topic:<{width}}  {make(topic)}  {business.name}")
    if args.out:
        try:
            sheet = write_sheet(kb, None, args.out, link=make)
        except OSError as exc:
            raise UsageError(f"cannot write the QR codes to {args.out}: {exc.strerror or exc} (--out takes a directory)") from exc
        print(f"QR codes and a printable sheet written to {sheet}", file=sys.stderr)
    return EXIT_OK


def cmd_wechat_menu(args: argparse.Namespace) -> int:
    """The WeChat custom menu from the knowledge as JSON; --push sends it with the account's API."""
    import json

    from web.wechat import WeChatAPI, WeChatAPIError, menu

    settings = _settings(args)
    payload = menu(_kb(args))
    print(json.dumps(payload, ensure_ascii=False, indent=2))
    if not args.push:
        return EXIT_OK
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        raise UsageError("--push needs EPORT_WECHAT_APP_ID and EPORT_WECHAT_APP_SECRET (WeChat platform → basic configuration)")
    guide = _guide(args)  # the access token is cached in the database
    try:
        WeChatAPI(guide.store, settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_url).push_menu(payload)
    except WeChatAPIError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        guide.close()
    print(
        f"menu pushed to the account {settings.wechat_app_id}: {len(payload['button'])} buttons "
        "(followers see it within minutes, or at once after unfollowing and following again)",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    """eport-guide stats: the usage statistics."""
    from dialogs.engine import Context

    guide = _guide(args, existing=True, writable=False)  # a report: works on a read-only copy
    print(guide.engine.render("stats", Context(admin=True)).text)  # whoever runs the command has the database
    return EXIT_OK


def cmd_stale(args: argparse.Namespace) -> int:
    """eport-guide stale: knowledge records not re-checked for a number of days."""
    days = args.days if args.days is not None else _settings(args).stale_days
    records = _plain_guide(args).stale_records(days)
    if not records:
        print(f"no knowledge record is older than {days} days")
    for r in records:
        print(f"{r['kind']:<10} {r['id']:<24} verified {r['verified_on']} ({r['age']} days ago)  source {r['source']}")
    return EXIT_OK


LANG_HELP = "interface language: zh (Chinese, the default), ru (Russian) or en (English)"
DB_HELP = "SQLite database file (default: EPORT_GUIDE_DB, else ./eport-guide.db)"
# flag → Settings field, for the flags that override an environment variable
OVERRIDES = {
    "db": "db_path",
    "token": "token",
    "base_url": "base_url",
    "webhook_url": "webhook_url",
    "secret_token": "webhook_secret",
    "listen": "listen",
    "port": "port",
    "web_listen": "web_listen",
    "web_port": "web_port",
    "web_url": "web_url",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eport-guide")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def _day_count(raw: str) -> int:
    from .settings import MAX_DAYS, _days

    try:
        return _days("--days", raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of days from 1 to {MAX_DAYS}, not {raw!r}") from None


def _count(raw: str) -> int:
    if not raw.strip().isascii() or not raw.strip().isdigit() or not 1 <= int(raw) <= 1000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 1000, not {raw!r}")
    return int(raw)


def _languages() -> tuple[str, ...]:
    from dialogs.i18n import LANGUAGES

    return LANGUAGES


def _add(
    sub: Any, name: str, fn: Callable[[argparse.Namespace], int], help_: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """A subcommand running ``fn``, its help also its description."""
    p = sub.add_parser(name, help=help_, description=help_, epilog=epilog)
    p.set_defaults(func=fn)
    return p


def _lang_option(p: argparse.ArgumentParser, extra: str = "") -> None:
    p.add_argument("--lang", choices=_languages(), default=None, help=LANG_HELP + extra)


def _db_option(p: argparse.ArgumentParser, extra: str = "") -> None:
    p.add_argument("--db", default=None, metavar="FILE", help=DB_HELP + extra)


def _check_knowledge_command(sub: Any) -> None:
    """eport-guide check-knowledge: its options."""
    p = _add(
        sub,
        "check-knowledge",
        cmd_check_knowledge,
        "validate the knowledge files (default: EPORT_GUIDE_KNOWLEDGE or the packaged ones)",
    )
    p.add_argument(
        "directory", nargs="?", help="a knowledge directory to validate instead (quotes are checked against sources/ beside it)"
    )
    p.add_argument(
        "--overlay",
        default=None,
        metavar="FILE",
        help="the local knowledge overlay to validate with it (default: EPORT_GUIDE_OVERLAY, else "
        "knowledge-overlay.yaml beside the database, if it exists)",
    )
    _db_option(p, " — the overlay beside it is checked too")


def _show_command(sub: Any) -> None:
    """eport-guide show: its options."""
    p = _add(sub, "show", cmd_show, "print the answer screen of a business")
    p.add_argument("topic", help="topic id, e.g. reissue_lost (README lists them)")
    p.add_argument("--html", action="store_true", help="print the Telegram HTML instead of plain text")
    _lang_option(p)


def _ask_command(sub: Any) -> None:
    """eport-guide ask: its options."""
    p = _add(sub, "ask", cmd_ask, "answer a free-text question the way the bot would")
    p.add_argument("question", nargs="*", help='the question, e.g. "卡丢了怎么办" (several words are joined)')
    _lang_option(p)


def _offices_command(sub: Any) -> None:
    """eport-guide offices: its options."""
    p = _add(sub, "offices", cmd_offices, "list the offices, all or in one city")
    p.add_argument("city", nargs="?", help="a city or district, e.g. 海拉尔 or 通辽 (default: all offices)")
    _lang_option(p)


def _picture_command(sub: Any) -> None:
    """eport-guide picture: its options."""
    p = _add(
        sub, "picture", cmd_picture, "a prepared copy's example picture (seal, annotation, signature, date) to print or forward"
    )
    p.add_argument("material", help="a copy: org_cert, legal_rep_id, holder_id, agent_id or self_id")
    p.add_argument("--out", metavar="FILE.png|FILE.svg", help="write a PNG or SVG file (default: SVG on standard output)")
    _lang_option(p)


def _chat_command(sub: Any) -> None:
    """eport-guide chat: its options."""
    p = _add(sub, "chat", cmd_chat, "chat with the guide in the terminal (numbered buttons, free text, /quit)")
    p.add_argument("--user", type=user_id, default=0, help="user id (checklists and settings are kept per user; default 0)")
    _lang_option(p, "; the language the user chose in /language wins, as in Telegram")
    _db_option(p)


def _run_command(sub: Any) -> None:
    """eport-guide run: its options."""
    p = _add(
        sub,
        "run",
        cmd_run,
        "run the Telegram bot (long polling, or a webhook with --webhook-url)",
        epilog="Every flag overrides an environment variable; prefer the variables for secrets, flags show in ps.",
    )
    p.add_argument("--token", default=None, help="the bot token (overrides TELEGRAM_BOT_TOKEN)")
    p.add_argument("--base-url", default=None, metavar="URL", help="Bot API base URL (overrides TELEGRAM_API_BASE_URL)")
    _db_option(p)
    p.add_argument(
        "--webhook-url",
        default=None,
        metavar="URL",
        help="public https URL Telegram posts updates to; its path is the path served "
        "(overrides EPORT_GUIDE_WEBHOOK_URL; without it: long polling)",
    )
    p.add_argument(
        "--listen",
        default=None,
        metavar="ADDRESS",
        help="webhook listen address (overrides EPORT_GUIDE_LISTEN; default 127.0.0.1, behind a reverse proxy)",
    )
    p.add_argument("--port", default=None, metavar="PORT", help="webhook listen port (overrides EPORT_GUIDE_PORT; default 8443)")
    p.add_argument(
        "--secret-token",
        default=None,
        metavar="SECRET",
        help="webhook secret Telegram sends back in a header; requests without it get 403 "
        "(overrides EPORT_GUIDE_WEBHOOK_SECRET; required with a webhook)",
    )
    p.add_argument(
        "--web",
        action="store_true",
        help="also serve the web pages in this process (EPORT_GUIDE_WEB_LISTEN:EPORT_GUIDE_WEB_PORT, default 127.0.0.1:8080)",
    )


def _web_command(sub: Any) -> None:
    """eport-guide web: its options."""
    p = _add(
        sub,
        "web",
        cmd_web,
        "serve the guide as mobile web pages (for callers without Telegram)",
        epilog="Checklists and settings are kept per browser (a session cookie) in the same database as the bot's; "
        "the bot and the web pages can run in one process (run --web) or two. Put it behind a TLS reverse proxy.",
    )
    p.add_argument(
        "--listen",
        dest="web_listen",
        default=None,
        metavar="ADDRESS",
        help="listen address (overrides EPORT_GUIDE_WEB_LISTEN; default 127.0.0.1, behind a reverse proxy)",
    )
    p.add_argument(
        "--port", dest="web_port", default=None, metavar="PORT", help="listen port (overrides EPORT_GUIDE_WEB_PORT; default 8080)"
    )
    p.add_argument(
        "--web-url",
        default=None,
        metavar="URL",
        help="public address of the pages, e.g. https://guide.example.org (overrides EPORT_GUIDE_WEB_URL; "
        "https makes the cookies Secure)",
    )
    _db_option(p)


def _health_command(sub: Any) -> None:
    """eport-guide health: its options."""
    p = _add(
        sub,
        "health",
        cmd_health,
        "check the installation: database writable and migrated, knowledge valid",
        epilog="exit codes: 0 healthy, 1 a local check failed, 2 bad configuration, 3 Telegram unreachable (--online)",
    )
    p.add_argument(
        "--online", action="store_true", help="also ask Telegram (getMe) with the token, through TELEGRAM_PROXY if set"
    )
    _db_option(p)


def _backup_command(sub: Any) -> None:
    """eport-guide backup: its options."""
    p = _add(sub, "backup", cmd_backup, "copy the live database with SQLite's online backup API and check the copy's integrity")
    p.add_argument("file", metavar="FILE", help="where to write the copy (must not exist unless --force)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    _db_option(p, " — the database to copy")


def _link_command(sub: Any) -> None:
    """eport-guide link: its options."""
    p = _add(sub, "link", cmd_link, "print the deep link that opens a business in the bot")
    p.add_argument("topic", help="topic id, e.g. reissue_lost")
    p.add_argument("--qr", metavar="FILE.png", help="also write a QR code of the link to this PNG file")
    p.add_argument("--web", action="store_true", help="the web page's link (EPORT_GUIDE_WEB_URL/t/TOPIC) instead of Telegram's")
    p.add_argument("--web-url", default=None, metavar="URL", help="the web pages' public address (overrides EPORT_GUIDE_WEB_URL)")


def _links_command(sub: Any) -> None:
    """eport-guide links: its options."""
    p = _add(sub, "links", cmd_links, "print every topic's deep link; --out writes QR codes and a printable HTML sheet")
    p.add_argument("--out", metavar="DIR", help="directory for one QR PNG per topic and index.html")
    p.add_argument(
        "--web",
        action="store_true",
        help="links to the web pages (EPORT_GUIDE_WEB_URL/t/TOPIC, for callers without Telegram) instead of t.me links",
    )
    p.add_argument("--web-url", default=None, metavar="URL", help="the web pages' public address (overrides EPORT_GUIDE_WEB_URL)")
    p.add_argument(
        "--wechat",
        action="store_true",
        help="the WeChat scene value of each business (a permanent QR code with it opens the business in the "
        "Official Account) and the qrcode/create request that makes the code; with --out, EPORT_WECHAT_APP_ID "
        "and EPORT_WECHAT_APP_SECRET the codes themselves, made by WeChat",
    )
    _db_option(p, " — where WeChat's access token is cached (--wechat --out)")


def _wechat_menu_command(sub: Any) -> None:
    """eport-guide wechat-menu: its options."""
    p = _add(
        sub,
        "wechat-menu",
        cmd_wechat_menu,
        "print the WeChat Official Account's custom menu (JSON) built from the knowledge",
        epilog="With --push, EPORT_WECHAT_APP_ID and EPORT_WECHAT_APP_SECRET it is sent to WeChat (menu/create); "
        "the access token is cached in the database until it expires.",
    )
    p.add_argument(
        "--push", action="store_true", help="send the menu to WeChat (needs EPORT_WECHAT_APP_ID and EPORT_WECHAT_APP_SECRET)"
    )
    _db_option(p, " — where the access token is cached")


def _stats_command(sub: Any) -> None:
    """eport-guide stats: its options."""
    p = _add(sub, "stats", cmd_stats, "usage statistics (as admins see them in /stats)")
    _db_option(p, "; must exist")


def _unanswered_command(sub: Any) -> None:
    """eport-guide unanswered: its options."""
    p = _add(
        sub,
        "unanswered",
        cmd_unanswered,
        "the questions the guide could not answer and the 👎 reasons, grouped by similarity, with counts",
    )
    p.add_argument("--limit", type=_count, default=20, metavar="N", help="show the N most asked groups (1-1000, default 20)")
    _db_option(p, "; must exist")


def _teach_command(sub: Any) -> None:
    """eport-guide teach: its options."""
    p = _add(
        sub,
        "teach",
        cmd_teach,
        "attach a question to the answer or business that answers it (the local knowledge overlay)",
        epilog="The question is kept as a question form in knowledge-overlay.yaml beside the database (EPORT_GUIDE_OVERLAY "
        "to put it elsewhere), never in the package: it survives reinstalling. /reload (or a restart) applies it. "
        "Only question forms are added: quotes, annotations and answers are never changed.",
    )
    p.add_argument(
        "question", help='the question as users ask it, e.g. "公司改名了卡要重新办吗" (one line, at most 100 characters)'
    )
    p.add_argument(
        "route",
        metavar="ROUTE",
        help="answer:ID (an answer of answers.yaml, e.g. answer:hotline) or topic:ID (a business, e.g. topic:change_name)",
    )
    p.add_argument(
        "--lang", choices=_languages(), default=None, help="the question's language (default: detected from its letters)"
    )
    _db_option(p, " — the overlay is kept beside it; must exist")


def _stale_command(sub: Any) -> None:
    """eport-guide stale: its options."""
    p = _add(sub, "stale", cmd_stale, "knowledge records not re-checked for EPORT_GUIDE_STALE_DAYS (default 180) days")
    p.add_argument("--days", type=_day_count, default=None, help="age in days, 1-36500 (overrides EPORT_GUIDE_STALE_DAYS)")


def _checklist_command(sub: Any) -> None:
    """eport-guide checklist: its options."""
    p = _add(sub, "checklist", cmd_checklist, "print a user's checklists")
    p.add_argument("--user", type=user_id, required=True, help="the Telegram user id")
    p.add_argument("topic", nargs="?", help="only this topic's checklist (default: all of the user's)")
    _lang_option(p)
    _db_option(p, "; must exist")


def _forget_command(sub: Any) -> None:
    """eport-guide forget: its options."""
    p = _add(sub, "forget", cmd_forget, "delete every row about a user (privacy requests)")
    p.add_argument("--user", type=user_id, required=True, help="the Telegram user id whose data is deleted")
    _db_option(p, "; must exist (a typo is refused, not answered with 'deleted 0 rows')")


# the subcommands, in the order --help lists them: one function each
SUBCOMMANDS = (
    _check_knowledge_command,
    _show_command,
    _ask_command,
    _offices_command,
    _picture_command,
    _chat_command,
    _run_command,
    _web_command,
    _health_command,
    _backup_command,
    _link_command,
    _links_command,
    _wechat_menu_command,
    _stats_command,
    _unanswered_command,
    _teach_command,
    _stale_command,
    _checklist_command,
    _forget_command,
)


def build_parser() -> argparse.ArgumentParser:
    """The command line: the program's options and every subcommand of ``SUBCOMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="eport-guide",
        description="电子口岸制发卡业务指南 — China E-Port card business guide (Manzhouli). "
        "Configuration comes from environment variables (see README, 'Configuration').",
        epilog="exit codes: 0 ok, 1 invalid knowledge files or a failed health check, 2 bad usage or configuration "
        "(also a token Telegram rejects), 3 Telegram unreachable (health --online, run)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand(sub)
    return parser


def load_settings(args: argparse.Namespace):
    """The one Settings object of this command, flags overriding the environment."""
    from .settings import TELEGRAM_ONLY, Settings

    overrides = {field: getattr(args, flag) for flag, field in OVERRIDES.items() if getattr(args, flag, None) is not None}
    ignore = TELEGRAM_ONLY if getattr(args, "func", None) is cmd_web else ()  # the pages never talk to Telegram
    try:
        return Settings.from_env(ignore, **overrides)
    except SettingsError as exc:
        raise UsageError(str(exc)) from exc


def main(argv: Sequence[str] | None = None) -> int:
    """The eport-guide command: parse, run the subcommand, print errors as one redacted line; the exit status."""
    import os

    from .logs import redact_output
    from .settings import credentials

    # everything printed from here on (our lines, usage errors, library exceptions, tracebacks) is redacted:
    # the secrets as the environment has them, before any is parsed (a malformed value is still a secret)
    redact_output(
        os.environ.get("TELEGRAM_BOT_TOKEN"),
        [
            *credentials(os.environ.get("TELEGRAM_PROXY")),
            (os.environ.get("EPORT_GUIDE_WEBHOOK_SECRET") or "").strip(),
            *((os.environ.get(name) or "").strip() for name in SECRET_VARIABLES),
        ],
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    redact_output(getattr(args, "token", None), [getattr(args, "secret_token", None) or ""])
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        args.settings = load_settings(args)
        redact_output(args.settings.token, args.settings.secrets())
        return args.func(args)
    except UsageError as exc:
        print(f"eport-guide: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:
        print(f"eport-guide: {exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}", file=sys.stderr)
        return EXIT_USAGE
    except KnowledgeError as exc:
        print("eport-guide: the knowledge files are invalid; run `eport-guide check-knowledge`:", file=sys.stderr)
        for p in exc.problems[:20]:
            print(f"  {p}", file=sys.stderr)
        return EXIT_KNOWLEDGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        found = _telegram_error(exc)  # only commands that talk to Telegram import it
        if found is None:
            raise
        line, code = found
        print(f"eport-guide: {line}", file=sys.stderr)
        return code


def _telegram_error(exc: Exception) -> tuple[str, int] | None:
    """One line and the exit code for an error from the Telegram library (the token never appears:
    output is redacted). Telegram unreachable is 3, not 2: a supervisor restarts the bot then, while
    a rejected token or request needs the operator."""
    errors = sys.modules.get("telegram.error")
    if errors is None or not isinstance(exc, errors.TelegramError):
        return None
    if isinstance(exc, errors.InvalidToken):
        return (
            "Telegram rejected the bot token (revoked or mistyped, or TELEGRAM_API_BASE_URL is not a Bot API address); "
            "get the token from @BotFather"
        ), EXIT_USAGE
    if isinstance(exc, errors.NetworkError) and not isinstance(exc, errors.BadRequest):
        return f"cannot reach Telegram ({exc}); check the network, the proxy or TELEGRAM_API_BASE_URL", EXIT_TELEGRAM
    return f"Telegram refused the request: {exc}", EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
