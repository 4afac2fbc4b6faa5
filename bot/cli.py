"""The ``eport-guide`` command.

Exit codes: 0 ok · 1 invalid knowledge files · 2 bad usage (unknown topic, empty
question, missing or malformed configuration).
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from knowledge import Knowledge, KnowledgeError, load_knowledge

EXIT_OK, EXIT_KNOWLEDGE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def user_id(text: str) -> int:
    """A Telegram user id as typed on the command line: ASCII digits, within SQLite's 64-bit integers."""
    import re

    if not re.fullmatch(r"-?[0-9]{1,19}", text.strip()) or not -(2**63) < int(text) < 2**63:
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {text!r}")
    return int(text)


def _kb() -> Knowledge:
    return load_knowledge()


def _engine(args: argparse.Namespace):
    from dialogs.engine import Engine

    return Engine(_kb())


def _ctx(args: argparse.Namespace):
    from dialogs import i18n
    from dialogs.engine import Context

    return Context(user_id=getattr(args, "user", None), lang=i18n.normalise_language(getattr(args, "lang", None)))


def cmd_check_knowledge(args: argparse.Namespace) -> int:
    from knowledge.loader import resolve_directory

    directory = resolve_directory(args.directory)
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        print(f"knowledge in {directory} is invalid ({len(exc.problems)} problem(s)):", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return EXIT_KNOWLEDGE
    print(
        f"knowledge in {directory} is valid: {len(kb.businesses)} businesses, {len(kb.materials)} materials, "
        f"{len(kb.annotations)} annotations, {len(kb.offices)} offices, {len(kb.facts)} facts; "
        f"every quote found verbatim in {', '.join(sorted(kb.sources))}"
    )
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    engine = _engine(args)
    topic = args.topic.strip()
    if topic not in engine.kb.businesses:
        raise UsageError(f"unknown topic {topic!r}; known topics: {', '.join(engine.kb.businesses)}")
    screen = engine.render(f"topic:{topic}", _ctx(args))
    print(screen.html if args.html else screen.text)
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question).strip()
    if not question:
        raise UsageError('empty question; example: eport-guide ask "卡丢了怎么办"')
    engine = _engine(args)
    screen = engine.ask(_ctx(args), question)
    print(screen.text)
    if screen.route == "suggest":
        for b in screen.all_buttons():
            print(f"  • {b.label}")
    return EXIT_OK


def cmd_offices(args: argparse.Namespace) -> int:
    engine = _engine(args)
    ctx = _ctx(args)
    if not args.city:
        print(engine.render("offices", ctx).text)
        return EXIT_OK
    city = args.city.strip()
    if city not in engine.kb.cities:
        best = engine.matcher.match(city).best
        if best is None or not best.route.startswith("city:"):
            raise UsageError(f"no office in {city!r}; cities: {'、'.join(engine.kb.cities)}")
        city = best.route.split(":", 1)[1]
    print(engine.render(f"city:{city}", ctx).text)
    return EXIT_OK


def _store_engine(args: argparse.Namespace, writable: bool = True):
    from dialogs.service import build_engine
    from dialogs.store import StoreError

    try:
        return build_engine(getattr(args, "db", None), writable=writable)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc


def cmd_chat(args: argparse.Namespace) -> int:
    from dialogs.console import run_console

    return run_console(_store_engine(args), _ctx(args))


def cmd_checklist(args: argparse.Namespace) -> int:
    engine = _store_engine(args, writable=False)  # a report: works on a read-only copy
    ctx = _ctx(args)
    if args.topic:
        if args.topic not in engine.kb.businesses:
            raise UsageError(f"unknown topic {args.topic!r}; known topics: {', '.join(engine.kb.businesses)}")
        topics = [args.topic]
    else:
        topics = [row.topic for row in engine.store.list_checklists(args.user) if row.topic in engine.kb.businesses]
    if not topics:
        print(f"user {args.user} has no checklists")
        return EXIT_OK
    for n, topic in enumerate(topics):
        if n:
            print("\n" + "=" * 40 + "\n")
        print(engine.checklists.export_text(ctx, topic), end="")
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    engine = _store_engine(args)
    rows = engine.store.forget_user(args.user)
    print(f"deleted {rows} row(s) about user {args.user}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .logs import setup_logging
    from .settings import Settings, SettingsError

    try:
        settings = Settings.from_env(token=args.token, base_url=args.base_url, db_path=args.db)
        settings.require_token()
    except SettingsError as exc:
        raise UsageError(str(exc)) from exc
    if args.webhook_url and not args.webhook_url.startswith("https://"):
        raise UsageError("--webhook-url must be an https:// address that Telegram can reach")
    setup_logging(settings.token)
    from dialogs.store import StoreError

    from .app import run

    try:
        return run(settings, webhook_url=args.webhook_url, listen=args.listen, port=args.port, secret_token=args.secret_token)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc


def _bot_username() -> str:
    """EPORT_GUIDE_BOT_USERNAME, else asked from Telegram with the token (getMe)."""
    import asyncio
    import os

    from .settings import Settings, SettingsError

    name = (os.environ.get("EPORT_GUIDE_BOT_USERNAME") or "").lstrip("@")
    if name:
        return name
    try:
        settings = Settings.from_env()
        token = settings.require_token()
    except SettingsError as exc:
        raise UsageError(f"set EPORT_GUIDE_BOT_USERNAME (or a valid TELEGRAM_BOT_TOKEN to ask Telegram): {exc}") from exc
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    async def get_me() -> str:
        async with Bot(token, base_url=settings.base_url, base_file_url=settings.base_file_url) as bot:
            return bot.username

    try:
        return asyncio.run(get_me())
    except InvalidToken as exc:
        raise UsageError("Telegram rejected the bot token (revoked or mistyped, or TELEGRAM_API_BASE_URL is not a Bot API "
                         "address); set EPORT_GUIDE_BOT_USERNAME or a valid TELEGRAM_BOT_TOKEN") from exc
    except TelegramError as exc:
        raise UsageError(f"cannot ask Telegram for the bot's username ({exc}); set EPORT_GUIDE_BOT_USERNAME") from exc


def cmd_link(args: argparse.Namespace) -> int:
    from dialogs.links import deep_link, write_qr_png

    kb = _kb()
    if args.topic not in kb.businesses:
        raise UsageError(f"unknown topic {args.topic!r}; known topics: {', '.join(kb.businesses)}")
    link = deep_link(_bot_username(), args.topic)
    print(link)
    if args.qr:
        try:
            written = write_qr_png(link, args.qr)
        except OSError as exc:
            raise UsageError(f"cannot write the QR code to {args.qr}: {exc.strerror or exc}") from exc
        print(f"QR code written to {written}", file=sys.stderr)
    return EXIT_OK


def cmd_links(args: argparse.Namespace) -> int:
    from dialogs.links import deep_link, write_sheet

    kb = _kb()
    username = _bot_username()
    width = max(len(t) for t in kb.businesses)
    for topic, business in kb.businesses.items():
        print(f"{topic:<{width}}  {deep_link(username, topic)}  {business.name}")
    if args.out:
        try:
            sheet = write_sheet(kb, username, args.out)
        except OSError as exc:
            raise UsageError(f"cannot write the QR codes to {args.out}: {exc.strerror or exc} (--out takes a directory)") from exc
        print(f"QR codes and a printable sheet written to {sheet}", file=sys.stderr)
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from dialogs.engine import Context

    engine = _store_engine(args, writable=False)  # a report: works on a read-only copy
    print(engine.render("stats", Context(admin=True)).text)  # whoever runs the command has the database
    return EXIT_OK


def cmd_stale(args: argparse.Namespace) -> int:
    from dialogs.admin import stale_records

    from .settings import Settings, SettingsError

    try:
        days = args.days if args.days is not None else Settings.from_env().stale_days
    except SettingsError as exc:
        raise UsageError(str(exc)) from exc
    records = stale_records(_kb(), days)
    if not records:
        print(f"no knowledge record is older than {days} days")
    for r in records:
        print(f"{r['kind']:<10} {r['id']:<24} verified {r['verified_on']} ({r['age']} days ago)  source {r['source']}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eport-guide",
        description="电子口岸制发卡业务指南 — China E-Port card business guide (Manzhouli).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=fn)
        return p

    p = add("check-knowledge", cmd_check_knowledge, "validate the knowledge files (default: EPORT_GUIDE_KNOWLEDGE or the packaged ones)")
    p.add_argument("directory", nargs="?", help="a knowledge directory to validate instead")
    p = add("show", cmd_show, "print the answer screen of a business")
    p.add_argument("topic", help="topic id, e.g. reissue_lost")
    p.add_argument("--html", action="store_true", help="print the Telegram HTML instead of plain text")
    p.add_argument("--lang", default=None)
    p = add("ask", cmd_ask, "answer a free-text question")
    p.add_argument("question", nargs="*")
    p.add_argument("--lang", default=None)
    p = add("offices", cmd_offices, "list the offices, all or in one city")
    p.add_argument("city", nargs="?")
    p.add_argument("--lang", default=None)
    p = add("chat", cmd_chat, "chat with the guide in the terminal")
    p.add_argument("--user", type=user_id, default=0, help="user id (checklists are kept per user)")
    p.add_argument("--lang", default=None)
    p.add_argument("--db", default=None, help="SQLite file (default: EPORT_GUIDE_DB or ./eport-guide.db)")
    p = add("run", cmd_run, "run the Telegram bot (long polling, or a webhook with --webhook-url)")
    p.add_argument("--token", default=None, help="overrides TELEGRAM_BOT_TOKEN (prefer the variable: flags show in ps)")
    p.add_argument("--base-url", default=None, help="overrides TELEGRAM_API_BASE_URL")
    p.add_argument("--db", default=None, help="overrides EPORT_GUIDE_DB")
    p.add_argument("--webhook-url", default=None, help="public https URL Telegram posts updates to")
    p.add_argument("--listen", default="127.0.0.1", help="webhook listen address (default 127.0.0.1, behind a reverse proxy)")
    p.add_argument("--port", type=int, default=8443, help="webhook port (default 8443)")
    p.add_argument("--secret-token", default=None, help="webhook secret token Telegram sends back in a header")
    p = add("link", cmd_link, "print the deep link that opens a business in the bot")
    p.add_argument("topic")
    p.add_argument("--qr", metavar="FILE.png", help="also write a QR code of the link")
    p = add("links", cmd_links, "print every topic's deep link; --out writes QR codes and a printable HTML sheet")
    p.add_argument("--out", metavar="DIR")
    p = add("stats", cmd_stats, "usage statistics (as admins see them in /stats)")
    p.add_argument("--db", default=None)
    p = add("stale", cmd_stale, "knowledge records not re-checked for EPORT_GUIDE_STALE_DAYS (default 180) days")
    p.add_argument("--days", type=int, default=None)
    p = add("checklist", cmd_checklist, "print a user's checklists")
    p.add_argument("--user", type=user_id, required=True)
    p.add_argument("topic", nargs="?")
    p.add_argument("--lang", default=None)
    p.add_argument("--db", default=None)
    p = add("forget", cmd_forget, "delete every row about a user (privacy requests)")
    p.add_argument("--user", type=user_id, required=True)
    p.add_argument("--db", default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import os

    from .logs import redact_output

    # everything printed from here on (our lines, usage errors, library exceptions, tracebacks) is redacted
    redact_output(os.environ.get("TELEGRAM_BOT_TOKEN"))
    parser = build_parser()
    args = parser.parse_args(argv)
    redact_output(getattr(args, "token", None))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
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
        line = _telegram_error(exc)  # only commands that talk to Telegram import it
        if line is None:
            raise
        print(f"eport-guide: {line}", file=sys.stderr)
        return EXIT_USAGE


def _telegram_error(exc: Exception) -> str | None:
    """One line for an error from the Telegram library (the token never appears: output is redacted)."""
    errors = sys.modules.get("telegram.error")
    if errors is None or not isinstance(exc, errors.TelegramError):
        return None
    if isinstance(exc, errors.InvalidToken):
        return ("Telegram rejected the bot token (revoked or mistyped, or TELEGRAM_API_BASE_URL is not a Bot API address); "
                "get the token from @BotFather")
    if isinstance(exc, errors.NetworkError) and not isinstance(exc, errors.BadRequest):
        return f"cannot reach Telegram ({exc}); check the network, the proxy or TELEGRAM_API_BASE_URL"
    return f"Telegram refused the request: {exc}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
