"""Snapshots of the screens, one per template *shape* and language: tests/snapshots/<lang>/<template>.txt.

Not every route: the screens of the 13-odd businesses, 12 materials and 5 cities differ mostly by
the names and facts substituted in, and those substitutions are checked for every business,
material and city by the property tests in tests/test_screens_over_knowledge.py. What is pinned
here is each template's layout: ``CASES`` lists the routes chosen, each with why (one business of
each kind, a city with one office and one with several, a material with and without annotation …),
and ``SCENARIOS`` the screens users reach by doing something. Each language's file of a template
holds every case rendered with it, one after another under a ``=== name — why`` line.

The engine is built the way production builds it (every feature on: checklists, feedback,
share, settings, reminders; a store in a temporary directory), and the screens are those a
new user sees in the private chat. Regenerate after an intended change with `make golden`
(python -m tests.snapshot_regen), then review the diff of tests/snapshots/ like any other change.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from dialogs import i18n
from dialogs.engine import Context, Engine, Screen, callback_data, html_to_text, parse_callback
from dialogs.features import inline, reminders, upload
from dialogs.guide import Defaults, Guide, build_guide
from knowledge import Knowledge, load_knowledge
from knowledge.loader import DEFAULT_DATA_DIR, DEFAULT_SOURCES_DIR

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
LANGUAGES = (i18n.DEFAULT_LANGUAGE, *i18n.TRANSLATED)
USER = 1  # the new user every snapshot is rendered for


@contextmanager
def production_guide(kb: Knowledge | None = None) -> Iterator[Guide]:
    """The guide as the Telegram channel runs it (bot.app.build_application), on a fresh store."""
    with tempfile.TemporaryDirectory() as d:
        # retention as production's default (bot.settings.Settings: EPORT_GUIDE_RETENTION_DAYS=365), not the environment's
        guide = build_guide(
            Path(d) / "snapshots.db", kb or load_knowledge(), settings=Defaults(retention_days=365), channel="telegram"
        )
        try:
            yield guide
        finally:
            guide.close()


def describe_button(b) -> str:
    if b.data:
        parsed = parse_callback(b.data)
        if parsed and parsed[0] == "go":
            return f"{b.label}  → {parsed[1]}"
        return f"{b.label}  ⚙ {parsed[0]} {parsed[1]}".rstrip() if parsed else f"{b.label}  ⚙ {b.data}"
    if b.url:
        return f"{b.label}  🔗 {b.url}"
    if b.copy_text:
        return f"{b.label}  ⧉ {b.copy_text}"
    return f"{b.label}  ↪ @bot {b.switch_inline_query}"


MARKUP_ATTRIBUTES = {"a": re.compile(r' href="[^"<>]*"')}  # what the screens' tags may carry (Telegram reads these)


def check_markup(html: str) -> None:
    """The screen's HTML is what Telegram accepts (tests/fake_telegram.check_html: known tags, nested, & escaped)
    and each tag carries only the attribute Telegram reads: the text a snapshot shows would hide a broken tag."""
    from .fake_telegram import TAG, ApiError, check_html

    try:
        check_html(html)
    except ApiError as exc:
        raise AssertionError(f"{exc.description}: {html[:300]!r}") from None
    for m in TAG.finditer(html):
        closing, tag, attributes = m.groups()
        allowed = MARKUP_ATTRIBUTES.get(tag)
        if attributes and (closing or allowed is None or not allowed.fullmatch(attributes)):
            raise AssertionError(f"a tag with attributes Telegram does not read: {m.group()!r}")


def format_snapshot(screen: Screen) -> str:
    """The screen as the user reads it (plain text), then each button with what it does; a button
    press's toast, the file sent along and the question the screen asks, when there are. Its HTML must
    be valid for Telegram (check_markup): a broken tag fails here, though the text would not show it."""
    check_markup(screen.html)
    lines = [f"[{screen.route}]"]
    if screen.toast:
        lines.append(f"(toast: {screen.toast})")
    lines += [screen.text.rstrip(), ""]
    for r, row in enumerate(screen.buttons, 1):  # [row] or [row.column]: the keyboard's layout
        for c, b in enumerate(row, 1):
            lines.append(f"  [{r}{f'.{c}' if len(row) > 1 else ''}] {describe_button(b)}")
    if screen.awaiting:
        lines.append(f"  (the next message answers {screen.awaiting.split(':')[0]})")
    if screen.document:
        name, content = screen.document
        lines += ["", f"[file {name}]", content.decode("utf-8").rstrip()]
    return "\n".join(lines).rstrip() + "\n"


# -- the routes pinned: one per template shape ---------------------------------------------------
# (route, why it is here). The rest of the routes are the same templates with other knowledge
# substituted: tests/test_screens_over_knowledge.py renders every one of them in every language.
CASES: tuple[tuple[str, str], ...] = (
    ("main", "the main menu"),
    ("help", "the help"),
    ("privacy", "what is stored"),
    ("settings", "the settings"),
    ("language", "the language choice"),
    ("forget", "the confirmation before deleting everything"),
    ("checklists", "a new user's checklists: none yet"),
    ("reminders", "a new user's reminders: none yet"),
    ("remind:refund", "the date asked for a refund reminder"),
    ("remind:expiry", "the date asked for a certificate expiry reminder"),
    ("offices", "all offices by city"),
    ("online", "online application"),
    ("category:change", "a category of several businesses"),
    ("category:holder", "the category of one business for card holders"),
    ("topic:new_entry", "a new business the Jiangsu guide covers: its handwriting label"),
    ("topic:change_legal_rep", "a change: the caveat old or new legal representative"),
    ("topic:reissue_lost", "a lost card: the card medium cannot be brought"),
    ("topic:renew_cert", "maintenance: the expiry reminder button"),
    ("topic:cancel_legal", "a cancellation: the 情况说明 alternative"),
    ("topic:holder_cancel", "the holder's own business: no company seal, own signature"),
    ("more:new_entry", "more, with the Jiangsu guide and the business's walkthrough"),
    ("more:reissue_lost", "more, without the Jiangsu guide"),
    ("rules:new_operator", "the verbatim rules of a business the Jiangsu guide covers"),
    ("rules:reissue_lost", "the verbatim rules of one it does not cover"),
    ("rules:holder_cancel", "the verbatim rules of the holder's business"),
    ("rules:cancel_legal", "the verbatim rules of a cancellation: its materials' notes (the 情况说明 alternative)"),
    ("jiangsu:new_operator", "what only the Jiangsu guide adds"),
    ("jiangsu:reissue_lost", "the Jiangsu guide does not cover this business"),
    ("stuck:reissue_lost", "still stuck: whom to call"),
    ("pictures:reissue_lost", "the example pictures of a company's copies"),
    ("pictures:holder_cancel", "the example picture of the holder's own copy"),
    ("feedback_reason:reissue_lost", "the 👎 reason asked"),
    ("checklist_reset:reissue_lost", "the reset confirmation"),
    ("checklist:reissue_lost", "a new checklist's overview"),
    ("checklist:holder_cancel", "the holder's checklist overview"),
    ("checklist_part:reissue_lost:org_cert", "a material's page: a copy with an annotation"),
    ("checklist_part:reissue_lost:application_form", "a material's page: an original, no annotation"),
    ("checklist_part:reissue_lost:card_medium", "the card medium of a lost card: may not apply"),
    ("checklist_part:cancel_legal:foreign_translation", "a conditional material"),
    ("checklist_part:holder_cancel:self_id", "the holder's own ID copy"),
    ("material:org_cert", "a copy with an annotation and a Jiangsu rule"),
    ("material:application_form", "an original form, no annotation"),
    ("material:foreign_translation", "a conditional material"),
    ("material:self_id", "the holder's own ID copy"),
    ("city:满洲里", "a city with several offices"),
    ("city:通辽", "a city with one agent office"),
    ("fact:hotline", "a fact of the Manzhouli document with an office"),
    ("fact:jiangsu_materials", "a fact only the Jiangsu guide states: labelled"),
    ("fact:forms", "a fact about two forms: what the documents leave open about each, their 🔎 screens"),
    ("answer:org_annotation", "an answer with an annotation"),
    ("answer:js_seal_ink", "an answer only the Jiangsu guide gives: labelled"),
    ("answer:silent_fees", "where the documents are silent: the hotline"),
    ("answer_source:org_annotation", "an answer's source quotes"),
    ("answer_source:js_seal_ink", "a Jiangsu answer's source quotes: labelled"),
    ("ask_business:materials", "a question that needs the business: asked back"),
    ("walk:mzl_path", "the walkthrough's first step (the Manzhouli paragraph)"),
    ("walk:login", "a walkthrough step from the Jiangsu guide"),
    ("walk:cards", "the walkthrough's last step"),
    ("walk:new_entry.mzl_path", "a business's own walkthrough: steps skipped"),
    ("walk:new_operator.remark", "a business's walkthrough, a middle step"),
)


def template_of(engine: Engine, route: str) -> str:
    """The template a route's screen is rendered with (screens.yaml)."""
    return engine.screens[route.split(":")[0]]["template"]


def section(name: str, why: str, text: str) -> str:
    return f"=== {name}{f' — {why}' if why else ''}\n{text}"


# -- screens users reach by what they did -----------------------------------------------------------
# A typed date, ticks, an upload, a group message, an inline query, a due reminder, the admin's
# statistics: each scenario runs for its own new user on the production guide, with the clock at NOW,
# in every language, and is stored as <lang>/after__<name>.txt.
NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai
TOPIC = "reissue_lost"  # a business with a checklist, rules from both documents and a Jiangsu label
BOT_USERNAME = "eport_guide_bot"


@dataclass(frozen=True)
class Scenario:
    name: str
    templates: tuple[str, ...]  # the templates whose output it pins (tests/test_snapshots.py checks all are pinned)
    run: Callable[[Guide, Context], str]


def _press(guide: Guide, ctx: Context, action: str, args: str = "") -> Screen:
    screen = guide.engine.handle(ctx, callback_data(action, args))
    assert not screen.stale, f"{action}|{args}: the 'out of date' menu (a scenario step names nothing)"
    return screen


def _typed(guide: Guide, ctx: Context, action: str, args: str, text: str) -> Screen:
    """Press a button whose screen asks for a text, then send it."""
    asked = _press(guide, ctx, action, args)
    assert asked.awaiting, f"{action}|{args} asked for nothing"
    return guide.engine.reply(ctx, asked.awaiting, text)


def _checklist(ticked: int | None, *then: tuple[str, str]) -> Callable[[Guide, Context], str]:
    """Open TOPIC's checklist, tick its first ``ticked`` items (None: all), then press each (action,
    args) — "go" opens a route; in args {first} is the first item, {user} the user — and pin the last screen."""

    def run(guide: Guide, ctx: Context) -> str:
        items = guide.kb.checklist_items(TOPIC)
        _press(guide, ctx, "checklist_open", TOPIC)
        for item in items[:ticked]:
            _press(guide, ctx, "tick", f"{TOPIC}:{item.id}:1")
        screen = None
        for action, args in then:
            args = args.format(first=items[0].id, user=ctx.user_id)
            screen = guide.engine.go(ctx, args) if action == "go" else _press(guide, ctx, action, args)
        assert screen is not None
        return format_snapshot(screen)

    return run


def _reminder_set(kind: str, text: str) -> Callable[[Guide, Context], str]:
    return lambda guide, ctx: format_snapshot(_typed(guide, ctx, "remind", kind, text))


def _reminders_listed(guide: Guide, ctx: Context) -> str:
    _typed(guide, ctx, "remind", "refund", "2026-11-28")
    _typed(guide, ctx, "remind", "expiry", "2027-03-01")
    return format_snapshot(guide.engine.go(ctx, "reminders"))


def _reminder_cancelled(guide: Guide, ctx: Context) -> str:
    _typed(guide, ctx, "remind", "expiry", "2027-03-01")
    first = guide.store.user_reminders(ctx.user_id or 0)[0]
    return format_snapshot(_press(guide, ctx, "reminder_cancel", str(first.id)))


def _reminder_cancelled_twice(guide: Guide, ctx: Context) -> str:
    """The ❌ of a reminder already cancelled (an old message): said, nothing else changes."""
    _typed(guide, ctx, "remind", "expiry", "2027-03-01")
    first = guide.store.user_reminders(ctx.user_id or 0)[0]
    _press(guide, ctx, "reminder_cancel", str(first.id))
    return format_snapshot(_press(guide, ctx, "reminder_cancel", str(first.id)))


def _reminder_due(kind: str, text: str) -> Callable[[Guide, Context], str]:
    def run(guide: Guide, ctx: Context) -> str:
        _typed(guide, ctx, "remind", kind, text)
        due = guide.store.user_reminders(ctx.user_id or 0)[0]
        return format_snapshot(reminders.reminder_message(guide.engine, due, ctx.lang))

    return run


def _feedback(value: str, reason: str | None = None) -> Callable[[Guide, Context], str]:
    def run(guide: Guide, ctx: Context) -> str:
        if reason is None:
            return format_snapshot(_press(guide, ctx, "feedback", f"{TOPIC}:{value}"))
        return format_snapshot(_typed(guide, ctx, "feedback", f"{TOPIC}:{value}", reason))

    return run


def _forgotten(guide: Guide, ctx: Context) -> str:
    _press(guide, ctx, "checklist_open", TOPIC)
    return format_snapshot(_press(guide, ctx, "forget_confirm", str(ctx.user_id)))


def _precheck(data: bytes | None, name: str, size: int) -> Callable[[Guide, Context], str]:
    return lambda guide, ctx: format_snapshot(upload.check_file(guide, ctx, data, name, size))


def _in_group(route: str) -> Callable[[Guide, Context], str]:
    def run(guide: Guide, ctx: Context) -> str:
        group = Context(user_id=ctx.user_id, lang=ctx.lang, chat="group", bot_username=BOT_USERNAME)
        return format_snapshot(guide.engine.go(group, route))

    return run


def _inline(query: str) -> Callable[[Guide, Context], str]:
    def run(guide: Guide, ctx: Context) -> str:
        result = inline.results(guide, ctx, query, limit=1)[0]
        return (
            "\n".join(
                [
                    f"[inline {result.route}]",
                    f"(title: {result.title})",
                    f"(description: {result.description})",
                    html_to_text(result.html).rstrip(),
                ]
            )
            + "\n"
        )

    return run


def _png() -> bytes:
    from .test_upload import make_png

    return make_png()


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
DATE = re.compile(r"\b20[0-9]{2}-[0-9]{2}-[0-9]{2}\b")


def _stats(shared: Guide, ctx: Context) -> str:
    """The admin's /stats after one user's visit, on a store of its own (the store counts by the real
    date: the days are shown relative to today)."""
    with production_guide(shared.kb) as guide:
        guide.store.touch_user(ctx.user_id or 0, ctx.lang)  # as the Telegram channel does for every update
        _press(guide, ctx, "go", f"topic:{TOPIC}")
        _press(guide, ctx, "checklist_open", TOPIC)
        _press(guide, ctx, "feedback", f"{TOPIC}:-1")
        guide.engine.ask(ctx, "zzzz qqqq")
        admin = Context(user_id=ctx.user_id, lang=ctx.lang, admin=True)
        text = format_snapshot(guide.engine.go(admin, "stats"))
    today = dt.date.today()
    return DATE.sub(lambda m: f"<day {(dt.date.fromisoformat(m.group()) - today).days:+d}>", text)


def _admin_on_a_new_store(route: str) -> Callable[[Guide, Context], str]:
    """An admin's screen on a store of its own where nothing happened yet (the "none yet" lines)."""

    def run(shared: Guide, ctx: Context) -> str:
        with production_guide(shared.kb) as guide:
            text = format_snapshot(guide.engine.go(Context(user_id=ctx.user_id, lang=ctx.lang, admin=True), route))
        today = dt.date.today()
        return DATE.sub(lambda m: f"<day {(dt.date.fromisoformat(m.group()) - today).days:+d}>", text)

    return run


def _missed(*steps: str) -> Callable[[Guide, Context], str]:
    """An admin's grouped unanswered questions (🧩 under /stats) after two similar questions, another
    one and a 👎 reason, then each step: "group" (the first group), "pick" (within its business),
    "general" (the answers of no business), "teach" (attach it to that business)."""

    def run(shared: Guide, ctx: Context) -> str:
        with production_guide(shared.kb) as guide:
            for question in ("公司改名了卡要重新办吗", "公司改名后卡需要重新办吗", "zzzz qqqq"):
                guide.engine.ask(ctx, question)
            _press(guide, ctx, "feedback", f"{TOPIC}:-1")
            guide.engine.reply(ctx, f"feedback_reason:1:{TOPIC}", "没写要带几份复印件")
            admin = Context(user_id=ctx.user_id, lang=ctx.lang, admin=True)
            screen = guide.engine.go(admin, "missed")
            ref = screen.all_buttons()[0].data.rsplit(":", 1)[1]
            for step in steps:
                if step == "teach":
                    screen = _press(guide, admin, "teach", f"{ref}|topic:change_name")
                else:
                    where = {
                        "group": f"missed_group:{ref}",
                        "pick": f"missed_pick:{ref}.change_name",
                        "general": f"missed_pick:{ref}._1",
                    }[step]
                    screen = _press(guide, admin, "go", where)
            return format_snapshot(screen)

    return run


def _every_kind_of_part(guide: Guide, ctx: Context) -> str:
    """A composed answer with a part of each kind: a business, a city, the offices, a material, a walkthrough
    step, a Jiangsu answer the Manzhouli document is silent on, one it speaks to (with its annotation), a screen."""
    from dialogs.features import answers

    parts = ("topic:reissue_lost", "city:满洲里", "offices", "material:org_cert", "walk:login")
    parts += ("answer:free_first_set", "answer:js_annotation_by_self", "help")
    return format_snapshot(answers.show(guide, ctx, parts))


def _several(*runs: Callable[[Guide, Context], str]) -> Callable[[Guide, Context], str]:
    """Several screens of one kind in one section, one after another."""
    return lambda guide, ctx: "\n".join(run(guide, ctx) for run in runs)


def _unchecked(code: str, photo: bool = False) -> Callable[[Guide, Context], str]:
    """A file that could not be checked: ``busy`` (too many at once) or ``timeout``."""
    from dialogs.uploads import unchecked

    return lambda guide, ctx: format_snapshot(
        guide.engine.render("precheck", ctx, variables={"result": unchecked("营业执照.pdf", 2_000_000, code, photo=photo)})
    )


# a file of each type the check tells apart (dialogs/uploads.SIGNATURES), named as it would be sent
FILES_OF_EACH_TYPE = (
    (b"\xff\xd8\xff\xe0" + b"\x00" * 60, "照片.jpg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 60, "申请书.doc"),
    (b"GIF89a" + b"\x00" * 60, "动图.gif"),
    (b"BM" + b"\x00" * 60, "扫描.bmp"),
    (b"II*\x00" + b"\x00" * 60, "扫描.tiff"),
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 60, "IMG_0001.heic"),
    (b"RIFF\x00\x00\x00\x00WEBP" + b"\x00" * 60, "图片.webp"),
    (b"Rar!\x1a\x07\x00" + b"\x00" * 60, "材料.rar"),
    ("营业执照号码 123".encode(), "说明.txt"),
    (b"\x00\x01\x02\x03" * 20, "文件.bin"),
)


def _private_only_without_link(guide: Guide, ctx: Context) -> str:
    """A personal screen asked for in a group of a bot whose username is not known: no button to the private chat."""
    return format_snapshot(guide.engine.go(Context(user_id=ctx.user_id, lang=ctx.lang, chat="group"), "checklists"))


def _privacy_without_store(guide: Guide, ctx: Context) -> str:
    """The privacy note of a guide that keeps nothing (no database: the console's demo, `show`)."""
    plain = build_guide(kb=guide.kb, store=False)
    return format_snapshot(plain.engine.render("privacy", ctx))


def _holder_done(guide: Guide, ctx: Context) -> str:
    """The holder's checklist with its last item ticked: done, and the holder's notes on the page."""
    items = guide.kb.checklist_items("holder_cancel")
    _press(guide, ctx, "checklist_open", "holder_cancel")
    screen = None
    for item in items:
        screen = _press(guide, ctx, "tick", f"holder_cancel:{item.id}:1")
    assert screen is not None
    return format_snapshot(screen)


@functools.lru_cache(maxsize=None)
def edited_knowledge(*edits: tuple[str, str, str]) -> Knowledge:
    """The shipped knowledge with each (file, old, new) edit made in a copy of its data and source
    documents (a file of knowledge/data, or sources/<document>), loaded and validated as any knowledge
    is: a screen shown over a record the shipped knowledge has none of. Loaded once per process."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(DEFAULT_DATA_DIR, Path(d) / "data")
        shutil.copytree(DEFAULT_SOURCES_DIR, Path(d) / "data" / "sources")
        for name, old, new in edits:
            path = Path(d) / "data" / name
            text = path.read_text(encoding="utf-8")
            assert old in text, f"{name}: {old!r} is no longer there to edit"
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return load_knowledge(Path(d) / "data")


# an agent branch whose line in the document gives two numbers, written as the card centre's are (no shipped one has two)
AGENT_WITH_TWO_PHONES = (
    ("sources/000_3ab73ada24f74472.txt", "联系电话：0475-8235577\n", "联系电话：0475-8235577、8235578\n"),
    (
        "offices.yaml",
        'phones_as_written: 0475-8235577\n    phones: ["0475-8235577"]',
        'phones_as_written: 0475-8235577、8235578\n    phones: ["0475-8235577", "0475-8235578"]',
    ),
)


def _over(edits: tuple[tuple[str, str, str], ...], route: str) -> Callable[[Guide, Context], str]:
    """A screen everyone sees (nothing stored) over the knowledge with these edits (edited_knowledge), on a
    guide of its own without a database."""

    def run(shared: Guide, ctx: Context) -> str:
        return format_snapshot(build_guide(kb=edited_knowledge(*edits), store=False).engine.go(ctx, route))

    return run


def _checklist_item_gone(guide: Guide, ctx: Context) -> str:
    """A tick of an item the knowledge no longer has (stored before a reload): dropped, and said once."""
    _press(guide, ctx, "checklist_open", TOPIC)
    guide.store.set_tick(ctx.user_id or 0, TOPIC, "gone_material.gone_check", True)
    return format_snapshot(guide.engine.go(ctx, f"checklist:{TOPIC}"))


def _stale_records(shared: Guide, ctx: Context) -> str:
    """The admin's /stats where every record counts as due for checking again (stale after 0 days): the
    oldest 20 listed and the rest counted; dates and ages shown relative to today."""
    with tempfile.TemporaryDirectory() as d:
        guide = build_guide(Path(d) / "stale.db", shared.kb, settings=Defaults(stale_days=0), channel="telegram")
        try:
            text = format_snapshot(guide.engine.go(Context(user_id=ctx.user_id, lang=ctx.lang, admin=True), "stats"))
        finally:
            guide.close()
    text = re.sub(r"：20[0-9]{2}-[0-9]{2}-[0-9]{2}（[0-9]+ ", "：<verified_on>（<age> ", text)  # fixed dates, a moving today
    today = dt.date.today()
    return DATE.sub(lambda m: f"<day {(dt.date.fromisoformat(m.group()) - today).days:+d}>", text)


OTHER_QUESTIONS = (  # questions about something else, nothing alike: a group each
    "天气怎么样",
    "火车票在哪里买",
    "签证要多久",
    "护照丢了怎么办",
    "海关申报单怎么填",
    "营业执照年检时间",
    "税务登记去哪里",
    "银行开户要几天",
    "社保卡怎么补",
    "驾驶证换证",
    "公积金提取",
    "进口关税税率",
)


def _missed_crowded(*steps: str) -> Callable[[Guide, Context], str]:
    """More unanswered groups than the screen lists: two phrasings of one question, one the guide answers by
    now, the same 👎 reason on two businesses, and a dozen others; then each step is a group opened: a
    route, or the question a listed group is shown by."""

    def run(shared: Guide, ctx: Context) -> str:
        with production_guide(shared.kb) as guide:
            store = guide.store
            questions = (*OTHER_QUESTIONS, "卡丢了怎么办")  # the last one is answered by now: "now" names the answer
            questions += ("公司改名了卡要重新办吗", "公司改名后卡需要重新办吗", "公司改名了卡要重新办吗")
            for n, question in enumerate(questions):  # a second apart: the same order on every run
                store.record_unanswered(question, user_id=ctx.user_id, now=NOW + dt.timedelta(seconds=n))
            for user, topic in ((ctx.user_id, TOPIC), ((ctx.user_id or 0) + 1, "change_name")):  # one reason, two businesses
                _typed(guide, Context(user_id=user, lang=ctx.lang), "feedback", f"{topic}:-1", "没写要带几份复印件")
            admin = Context(user_id=ctx.user_id, lang=ctx.lang, admin=True)
            screen = guide.engine.go(admin, "missed")
            if not steps:
                return format_snapshot(screen)
            shown = {b.label.split("× ", 1)[-1]: parse_callback(b.data)[1] for b in screen.all_buttons() if b.data}
            return "\n".join(format_snapshot(_press(guide, admin, "go", shown.get(step, step))) for step in steps)

    return run


SCENARIOS = (
    Scenario("tick", ("checklist.j2",), _checklist(0, ("tick", TOPIC + ":{first}:1"))),
    Scenario("untick", ("checklist.j2",), _checklist(1, ("tick", TOPIC + ":{first}:0"))),
    Scenario("old_tick_button", ("checklist.j2",), _checklist(1, ("x", TOPIC + ":{first}"))),  # sent before ticks carried state
    Scenario("checklist_in_progress", ("checklist.j2",), _checklist(3, ("go", f"checklist:{TOPIC}"))),
    Scenario("checklist_done", ("checklist.j2",), _checklist(None, ("go", f"checklist:{TOPIC}"))),
    Scenario("checklist_switch", ("checklist.j2",), _checklist(1, ("checklist_switch", f"{TOPIC}:reissue_expired"))),
    Scenario("checklist_export", ("checklist.j2", "checklist_export.j2"), _checklist(1, ("checklist_export", TOPIC))),
    Scenario(
        "checklist_export_not_applicable",
        ("checklist.j2", "checklist_export.j2"),
        _checklist(1, ("na", f"{TOPIC}:card_medium.have:1"), ("checklist_export", TOPIC)),
    ),
    Scenario("checklist_reset_done", ("checklist.j2",), _checklist(1, ("checklist_reset_confirm", TOPIC + ":{user}"))),
    Scenario(
        "checklist_export_with_notes",
        ("checklist.j2", "checklist_export.j2"),  # the business's caveats in the file
        lambda g, c: (
            _press(g, c, "checklist_open", "change_legal_rep"),
            format_snapshot(_press(g, c, "checklist_export", "change_legal_rep")),
        )[1],
    ),
    Scenario("checklists_two", ("checklists.j2",), _checklist(1, ("checklist_open", "renew_cert"), ("go", "checklists"))),
    Scenario("checklists_one_done", ("checklists.j2",), _checklist(None, ("go", "checklists"))),
    Scenario("remind_refund_set", ("reminder_set.j2",), _reminder_set("refund", "2026-11-28")),
    Scenario("remind_today", ("reminder_set.j2",), lambda g, c: format_snapshot(_press(g, c, "remind_today", "refund"))),
    Scenario("remind_expiry_set", ("reminder_set.j2",), _reminder_set("expiry", "2027-03-01")),
    Scenario("remind_expiry_too_late", ("reminder_set.j2",), _reminder_set("expiry", "2026-12-01")),
    Scenario("remind_unreadable", ("remind.j2",), _reminder_set("refund", "<b>下周</b>")),
    Scenario("remind_no_such_day", ("remind.j2",), _reminder_set("expiry", "2027-02-30")),
    Scenario("remind_refund_passed", ("remind.j2",), _reminder_set("refund", "2026-11-01")),
    Scenario("remind_future", ("remind.j2",), _reminder_set("refund", "2026-12-05")),
    Scenario("remind_not_future", ("remind.j2",), _reminder_set("expiry", "2026-11-30")),
    Scenario("reminders_listed", ("reminders.j2",), _reminders_listed),
    Scenario("reminder_cancelled", ("reminders.j2",), _reminder_cancelled),
    Scenario("reminder_cancelled_twice", ("reminders.j2",), _reminder_cancelled_twice),
    Scenario("reminder_due_refund", ("reminder_due.j2",), _reminder_due("refund", "2026-11-28")),
    Scenario("reminder_due_expiry", ("reminder_due.j2",), _reminder_due("expiry", "2027-03-01")),
    Scenario("reminders_off", ("settings.j2",), lambda g, c: format_snapshot(_press(g, c, "settings_reminders", "off"))),
    Scenario(
        "reminders_on_again",
        ("settings.j2",),
        lambda g, c: (_press(g, c, "settings_reminders", "off"), format_snapshot(_press(g, c, "settings_reminders", "on")))[1],
    ),
    Scenario("feedback_up", ("topic.j2",), _feedback("1")),
    Scenario("feedback_down", ("feedback_reason.j2",), _feedback("-1")),
    Scenario("feedback_reason_given", ("topic.j2",), _feedback("-1", "没写要带几份复印件")),
    Scenario("forget_done", ("main.j2",), _forgotten),
    Scenario("question_unknown", ("suggest.j2",), lambda g, c: format_snapshot(g.engine.ask(c, "zzzz qqqq"))),
    Scenario("question_vague", ("suggest.j2",), lambda g, c: format_snapshot(g.engine.ask(c, "补办"))),
    Scenario("question_two_things", ("answers.j2",), lambda g, c: format_snapshot(g.engine.ask(c, "USBKey和共享盾在哪买"))),
    Scenario("question_asked_back", ("ask_business.j2",), lambda g, c: format_snapshot(g.engine.ask(c, "要带哪些材料"))),
    Scenario(
        "question_asked_back_answered",
        ("topic.j2",),
        lambda g, c: format_snapshot(g.engine.reply(c, g.engine.ask(c, "要带哪些材料").awaiting, "公司改名了")),
    ),
    Scenario("upload_ok", ("precheck.j2",), _precheck(PDF, "营业执照.pdf", len(PDF))),
    Scenario("upload_refused", ("precheck.j2",), _precheck(None, "scan.docx", 5_000_000)),
    # each problem the check names, with the advice that fixes it
    Scenario("upload_renamed", ("precheck.j2",), lambda g, c: _precheck(_png(), "营业执照.jpg", None)(g, c)),
    Scenario("upload_damaged", ("precheck.j2",), _precheck(PDF[:20], "营业执照.pdf", 20)),
    Scenario("upload_no_extension", ("precheck.j2",), _precheck(PDF, "营业执照", len(PDF))),
    Scenario("upload_word", ("precheck.j2",), _precheck(b"PK\x03\x04" + b"\x00" * 100, "申请书.docx", 104)),
    Scenario("upload_big_pdf", ("precheck.j2",), _precheck(None, "营业执照.pdf", 5_000_000)),
    Scenario("group_checklist", ("private_only.j2",), _in_group("checklists")),
    Scenario("group_topic", ("topic.j2",), _in_group(f"topic:{TOPIC}")),
    Scenario("inline_topic", ("inline_topic.j2",), _inline("丢失补办")),
    Scenario("inline_city", ("inline_city.j2",), _inline("满洲里")),
    Scenario("stats", ("stats.j2",), _stats),
    Scenario("stats_nothing_yet", ("stats.j2",), _admin_on_a_new_store("stats")),
    Scenario("missed_nothing_yet", ("missed.j2",), _admin_on_a_new_store("missed")),
    Scenario("missed", ("missed.j2",), _missed()),
    Scenario("missed_group", ("missed_group.j2",), _missed("group")),
    Scenario("missed_pick", ("missed_pick.j2",), _missed("group", "pick")),
    Scenario("missed_general", ("missed_pick.j2",), _missed("group", "general")),
    Scenario("missed_taught", ("missed.j2",), _missed("group", "teach")),
    Scenario("question_every_kind_of_part", ("answers.j2", "_macros.j2"), _every_kind_of_part),
    Scenario(
        "upload_each_type",
        ("precheck.j2",),
        _several(*(_precheck(data, name, len(data)) for data, name in FILES_OF_EACH_TYPE)),
    ),
    Scenario(
        "upload_not_checked",
        ("precheck.j2",),
        _several(_precheck(None, "扫描.pdf", 25_000_000), _unchecked("busy"), _unchecked("timeout", photo=True)),
    ),
    Scenario("group_checklist_without_link", ("private_only.j2",), _private_only_without_link),
    Scenario("privacy_without_store", ("privacy.j2",), _privacy_without_store),
    Scenario(
        "checklist_page_not_applicable",
        ("checklist.j2",),
        _checklist(0, ("na", f"{TOPIC}:card_medium.have:1"), ("go", f"checklist_part:{TOPIC}:card_medium")),
    ),
    Scenario("checklist_holder_done", ("checklist.j2",), _holder_done),
    Scenario("stats_stale_records", ("stats.j2",), _stale_records),
    Scenario("missed_crowded", ("missed.j2",), _missed_crowded()),
    Scenario("missed_group_with_reasons", ("missed_group.j2",), _missed_crowded("missed_group:f1", "卡丢了怎么办")),
    Scenario(
        "inline_topic_other_forms",  # originals; the 情况说明 alternative; the holder's own
        ("inline_topic.j2",),
        _several(_inline("新增操作员"), _inline("注销法人卡证书"), _inline("操作员卡注销业务服务")),
    ),
    Scenario("checklist_item_gone", ("checklist.j2",), _checklist_item_gone),
    Scenario("stuck_agent_with_two_phones", ("stuck.j2",), _over(AGENT_WITH_TWO_PHONES, f"stuck:{TOPIC}")),
    Scenario("stale_button", ("main.j2",), lambda g, c: format_snapshot(g.engine.handle(c, callback_data("go", "topic:gone")))),
)


def rendered(guide: Guide, lang: str, only: Callable[[str], bool] = lambda name: True) -> Iterator[tuple[str, str]]:
    """(file, section) for each of the CASES, then each of the SCENARIOS, in ``lang``, whose section name
    ``only`` accepts (a route, or "after " and the scenario's name); the scenarios on the clock at NOW."""
    engine = guide.engine
    ctx = Context(user_id=USER, lang=lang)
    for route, why in CASES:
        if only(route):
            yield (
                f"{lang}/{Path(template_of(engine, route)).stem}.txt",
                section(route, why, format_snapshot(engine.render(route, ctx))),
            )
    clock, engine.clock = engine.clock, lambda: NOW
    try:
        for n, scenario in enumerate(SCENARIOS):
            if only(f"after {scenario.name}"):
                ctx = Context(user_id=10_000 * (1 + LANGUAGES.index(lang)) + n, lang=lang, bot_username=BOT_USERNAME)
                yield (
                    f"{lang}/{Path(scenario.templates[0]).stem}.txt",
                    section(f"after {scenario.name}", "", scenario.run(guide, ctx)),
                )
    finally:
        engine.clock = clock


# -- the web pages: web/templates (page.html, help.html; style.css and copy.js are inlined whole) ----------
WEB_PAGES: tuple[tuple[str, str], ...] = (
    ("/t/reissue_lost", "a business's answer: copy buttons, the call button, the question box"),
    ("/s/material:org_cert", "a copy's material screen: the example picture inline"),
    ("/s/help", "the web's help page"),
    ("/check", "the file check: the upload form"),
    ("/", "the main menu (screens/main.html)"),
    ("/s/offices", "where to go: the cities first, the card centre (screens/offices.html, _office.html)"),
    ("/s/city:赤峰", "a city's offices with map and tel: links (screens/city.html)"),
    ("/s/checklist:reissue_lost", "the 25-item checklist as a new visitor sees it: real checkboxes (screens/checklist.html)"),
    ("/s/checklists", "my lists, none yet (screens/checklists.html)"),
    ("/print/reissue_lost", "the printable checklist with each copy's picture (screens/print.html)"),
    ("/t/cancel_legal", "a cancellation: the 情况说明 alternative, items to bring (screens/topic.html)"),
    ("/t/holder_cancel", "the holder's own service: the handwriting line of a holder (screens/topic.html)"),
    ("/t/new_operator", "a new business: originals, the Jiangsu guide folded away (screens/topic.html)"),
    ("/s/online", "online application: buttons that open another site (buttons.html)"),
    ("/s/checklist:cancel_legal", "a checklist with optional items: 如适用 and the 不适用 boxes (screens/checklist.html)"),
    ("/print/cancel_legal", "a printable checklist with optional items (screens/print.html)"),
)
_XSRF = re.compile(r'(_xsrf=|name="_xsrf" value="|name="w" value=")[^"&]+')  # per-request tokens, signed values
# what a visitor who has a session sees by acting (a form's POST, then the page it redirects to)
WEB_VISIT = (
    ("/s/more:reissue_lost 👎", "the reason asked: the reply form (page.html's awaiting)"),
    ("/reply", "the reason sent: the thanks (page.html's notice)"),
    ("/s/checklist:reissue_lost ☑", "the checklist opened and its first item ticked: the toast (page.html's toast)"),
    ("/s/checklists", "the visitor's lists: the one opened (screens/checklists.html)"),
    ("/s/checklist:reissue_lost ☑ all", "every item ticked, the optional ones 不适用: done (screens/checklist.html)"),
    ("/s/checklists ✅", "the visitor's lists: the one done (screens/checklists.html)"),
    ("/print/reissue_lost ✅", "the print of the finished list: the 不适用 marks (screens/print.html)"),
    (
        "/s/checklist:holder_cancel ☑ all",
        "the holder's own list done: no company's materials to take along (screens/checklist.html)",
    ),
)


def web_snapshots(kb: Knowledge | None = None) -> dict[str, str]:
    """Relative path (<lang>/web.txt) → the WEB_PAGES as served (the real server on a free port, a new
    visitor, Accept-Language), the per-request form tokens masked."""
    out: dict[str, list[str]] = {}
    for name, text in web_sections(kb):
        out.setdefault(name, []).append(text)
    return {name: "\n".join(parts) for name, parts in out.items()}


def web_sections(kb: Knowledge | None = None) -> Iterator[tuple[str, str]]:
    """(<lang>/web.txt, section) for each of the WEB_PAGES, then the WEB_VISIT, one language after another,
    as it is served (tests.template_planting stops reading at the first section a plant changes)."""
    import httpx

    from .test_web import web_server

    with tempfile.TemporaryDirectory() as d, web_server(Path(d) / "web.db", kb or load_knowledge()) as (url, _guide):
        for lang in LANGUAGES:
            seen: set[str] = set()
            for path, why in WEB_PAGES:
                response = httpx.get(url + path, headers={"Accept-Language": lang}, timeout=30)
                html = _inlined_once(_XSRF.sub(r"\1…", response.text), seen)
                yield f"{lang}/web.txt", section(path, why, f"[{response.status_code}]\n{html.rstrip()}\n")
            for (path, why), response in zip(WEB_VISIT, _web_visit(url, lang)):
                html = _inlined_once(_XSRF.sub(r"\1…", response.text), seen)
                yield f"{lang}/web.txt", section(path, why, f"[{response.status_code}]\n{html.rstrip()}\n")


_INLINED = re.compile(r"(<(style|script)\b[^>]*>)(.*?)(</\2>)", re.DOTALL)


def _inlined_once(html: str, seen: set[str]) -> str:
    """The page with each inlined stylesheet or script that an earlier page of the file showed in full
    replaced by a line saying so: a change to one shows once, in the first page that has it, not in
    every page (a different one is shown in full where it first appears)."""

    def once(m: re.Match) -> str:
        if m.group(3) in seen:
            return f"{m.group(1)}(as in the first page with it: {len(m.group(3).encode())} bytes){m.group(4)}"
        seen.add(m.group(3))
        return m.group(0)

    return _INLINED.sub(once, html)


def _web_visit(url: str, lang: str) -> list:
    """The responses of WEB_VISIT, for a visitor of its own (its session starts with the first page)."""
    import html

    import httpx

    from .test_web import boxes, press, save, tick_first, xsrf

    with httpx.Client(base_url=url, follow_redirects=True, headers={"Accept-Language": lang}, timeout=30) as client:
        asked = press(client, client.get("/s/more:reissue_lost").text, "👎")
        w = re.search(r'name="w" value="([^"]+)"', asked.text)
        assert w, "👎 asks for a reason"
        sent = client.post(
            "/reply", data={"_xsrf": xsrf(asked.text), "w": html.unescape(w.group(1)), "text": "没写要带几份复印件"}
        )
        checklist = press(client, client.get("/s/topic:reissue_lost").text, "📋")
        ticked, _item = tick_first(client, checklist.text)
        opened = client.get("/s/checklists")
        optional = boxes(ticked.text, "na")
        done = save(client, ticked.text, [i for i in boxes(ticked.text) if i not in optional], na=list(optional))
        listed, printed = client.get("/s/checklists"), client.get("/print/reissue_lost")
        holders = press(client, client.get("/s/topic:holder_cancel").text, "📋")
        holder_done = save(client, holders.text, list(boxes(holders.text)))
        return [asked, sent, ticked, opened, done, listed, printed, holder_done]


def all_snapshots(guide: Guide) -> dict[str, str]:
    """Relative path (<lang>/<template>.txt) → the file's text: its CASES, then its SCENARIOS; and
    <lang>/web.txt, the web pages."""
    files: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for name, text in rendered(guide, lang):
            files.setdefault(name, []).append(text)
    return {**{name: "\n".join(parts) for name, parts in sorted(files.items())}, **web_snapshots(guide.kb)}


def sections(text: str) -> dict[str, str]:
    """A snapshot file's sections by name (the word(s) after ``=== `` up to `` — ``)."""
    out: dict[str, str] = {}
    for part in re.split(r"^=== ", text, flags=re.MULTILINE)[1:]:
        header, _, body = part.partition("\n")
        out[header.split(" — ")[0]] = body
    return out


def stored() -> dict[str, str]:
    return {p.relative_to(SNAPSHOT_DIR).as_posix(): p.read_text(encoding="utf-8") for p in SNAPSHOT_DIR.glob("*/*.txt")}


def main() -> None:
    with production_guide() as guide:
        current = all_snapshots(guide)
    for old in SNAPSHOT_DIR.glob("*/*.txt"):
        if old.relative_to(SNAPSHOT_DIR).as_posix() not in current:
            old.unlink()
    changed = 0
    for name, text in current.items():
        path = SNAPSHOT_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed += 1
    print(f"{len(current)} snapshots in {SNAPSHOT_DIR} ({changed} written)")


if __name__ == "__main__":
    main()
