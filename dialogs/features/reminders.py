"""Reminders: ask a date, store the reminders, list and cancel them; the due message.

The channel schedules delivery: it listens for "reminder_added"/"reminder_cancelled"
events and re-schedules ``store.pending_reminders()`` at start-up.

Reminder dates, in Asia/Shanghai.

退单: the Jiangsu guide says “‘退单’的申请单请在7日之内修改重新提交（自退单操作之日起计算）”.
We count the day of the 退单 operation as day 1, so the last day to resubmit is the 退单 day
plus 6 days — the earlier of the two possible readings, so nobody misses the deadline
because of us. The number of days comes from the knowledge (``refund_deadline.values.days``).

证书到期: reminders 30 and 7 days before the expiry date. Reminders go out at 09:00 local
time; reminder times already past are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from ..engine import Context, Engine, NotFound, Screen
from ..i18n import t
from ..routes import Route
from ..store import MAX_PENDING_REMINDERS, ReminderLimit
from ._shared import App, sources


KINDS = ("refund", "expiry")
LIST_MAX = MAX_PENDING_REMINDERS
SHANGHAI = ZoneInfo("Asia/Shanghai")
REMIND_AT = dt.time(9, 0)
EXPIRY_DAYS_BEFORE = (30, 7)
REFUND_DAYS_BEFORE = (2, 0)


class DateError(ValueError):
    """The typed date cannot be used: ``code`` and ``values`` say why (worded in remind.j2)."""

    def __init__(self, code: str, **values: object):
        super().__init__(code, values)
        self.code, self.values = code, values


def today_in_shanghai(now: dt.datetime) -> dt.date:
    """The date in China (UTC+8) at ``now``."""
    return now.astimezone(SHANGHAI).date()


def parse_date(text: str, today: dt.date) -> dt.date:
    """A typed date (2026-12-01, 12月1日, 1.12.2026, 今天, 昨天 …; a year-less date in ``today``'s year);
    DateError saying what is wrong."""
    t = " ".join(text.split()).lower().rstrip("。.")
    if t in ("今天", "今日", "today", "сегодня"):
        return today
    if t in ("昨天", "yesterday", "вчера"):
        return today - dt.timedelta(days=1)
    patterns = [
        (r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$", ("y", "m", "d")),
        (r"^(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$", ("m", "d")),
        (r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$", ("d", "m", "y")),
    ]
    for pattern, order in patterns:
        m = re.match(pattern, t)
        if m:
            parts = dict(zip(order, map(int, m.groups())))
            try:
                return dt.date(parts.get("y", today.year), parts["m"], parts["d"])
            except ValueError:
                raise DateError("no_such_day", text=text.strip()[:40]) from None
    raise DateError("unreadable", text=text.strip()[:40])


def at_nine(day: dt.date) -> dt.datetime:
    """09:00 China time on ``day``, in UTC."""
    return dt.datetime.combine(day, REMIND_AT, tzinfo=SHANGHAI)


def refund_deadline(rejected_on: dt.date, days: int = 7) -> dt.date:
    """Last day to resubmit: the 退单 day counts as day 1."""
    return rejected_on + dt.timedelta(days=days - 1)


def refund_reminders(rejected_on: dt.date, now: dt.datetime, days: int = 7) -> tuple[dt.date, list[dt.datetime]]:
    """The last day to resubmit after a rejection and the reminder times before it."""
    today = today_in_shanghai(now)
    if rejected_on > today:
        raise DateError("future", today=today.isoformat())
    last = refund_deadline(rejected_on, days)
    if last < today:
        raise DateError("refund_passed", days=days, last=last.isoformat())
    times = [at_nine(last - dt.timedelta(days=d)) for d in REFUND_DAYS_BEFORE]
    return last, [t for t in times if t > now]


def expiry_reminders(expires_on: dt.date, now: dt.datetime) -> list[dt.datetime]:
    """The reminder times before a certificate expires."""
    today = today_in_shanghai(now)
    if expires_on <= today:
        raise DateError("not_future", today=today.isoformat())
    times = [at_nine(expires_on - dt.timedelta(days=d)) for d in EXPIRY_DAYS_BEFORE]
    return [t for t in times if t > now]


# -- screens ----------------------------------------------------------------------------------
def _rule(guide: App) -> dict[str, Any]:
    kb = guide.kb
    return {"rule": kb.facts["refund_deadline"], "sources": sources(kb, [kb.facts["refund_deadline"].source])}


def ask_screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The reminder question: which date (refund: the rejection; expiry: the certificate's end)."""
    arg = route.arg
    if arg not in KINDS:
        raise NotFound(arg)
    return {**_rule(guide), "kind": arg, "error": None}


def list_screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The user's pending reminders."""
    rows = guide.store.user_reminders(ctx.user_id or 0)
    more = max(len(rows) - LIST_MAX, 0)  # the list fits one message and one keyboard whatever is stored
    items = [
        {
            "id": r.id,
            "kind": r.kind,
            "when": dt.datetime.fromisoformat(r.due_at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            "date": r.payload.get("date"),
        }
        for r in rows[:LIST_MAX]
    ]
    return {
        **_rule(guide),
        "items": items,
        "more": more,
        "enabled": bool(guide.store.get_setting(ctx.user_id or 0, "reminders", True)),
    }


def set_screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """``date_input`` passes the kind, the day and the reminder times."""
    return _rule(guide)


def due_screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """``reminder_message`` passes the reminder (``r``) and its payload."""
    return {}


def reminder_message(engine: Engine, reminder: Any, lang: str) -> Screen:
    """The message a due reminder sends."""
    ctx = Context(user_id=reminder.user_id, lang=lang)
    return engine.render("reminder_due", ctx, variables={"r": reminder, "payload": reminder.payload})


# -- button actions and the date input ---------------------------------------------------------
def _ask(guide: App, ctx: Context, kind: str, error: DateError | None = None) -> Screen:
    screen = guide.engine.render(Route("remind", (kind,)), ctx, variables={"error": error})
    return replace(screen, awaiting=str(Route("remind_date", (kind,))))


def ask(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """⏰ a reminder of this kind: ask the date."""
    kind = route.arg or ""
    if kind not in KINDS:
        raise NotFound(kind)
    return _ask(guide, ctx, kind)


def date_input(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """The typed date (awaiting "remind_date:<kind>"): store the reminders, or ask again saying why."""
    kind = route.arg or ""
    if kind not in KINDS:
        raise NotFound(kind)
    engine, kb = guide.engine, guide.kb
    now = engine.clock()
    try:
        day = parse_date(text, today_in_shanghai(now))
        if kind == "refund":
            last, times = refund_reminders(day, now, int(kb.facts["refund_deadline"].values["days"]))
            payload = {"date": day.isoformat(), "last": last.isoformat()}
        else:
            times = expiry_reminders(day, now)
            last, payload = day, {"date": day.isoformat()}
    except DateError as exc:
        return _ask(guide, ctx, kind, exc)
    uid = ctx.user_id or 0
    try:  # the same reminder twice is kept once; at most MAX_PENDING_REMINDERS pending per user
        ids = guide.store.add_reminders(
            uid,
            uid,
            kind,
            [t.astimezone(dt.timezone.utc) for t in times],
            topic="renew_cert" if kind == "expiry" else None,
            payload=payload,
            now=now,
        )
    except ReminderLimit:
        return _ask(guide, ctx, kind, DateError("too_many", max=MAX_PENDING_REMINDERS))
    for rid in ids:
        engine.emit("reminder_added", ctx, str(rid))
    when = [t.strftime("%Y-%m-%d %H:%M") for t in times]
    return engine.render(
        "reminder_set", ctx, variables={"kind": kind, "day": day.isoformat(), "last": last.isoformat(), "when": when}
    )


def today(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """ "今天" under the 退单 question: the same as typing it."""
    return date_input(guide, ctx, Route("remind_date", route.params), "今天")


def cancel(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Cancel one of the user's reminders."""
    args = route.arg or ""
    if not re.fullmatch(r"[0-9]{1,18}", args):
        raise NotFound(args)
    engine = guide.engine
    if guide.store.cancel_reminder(ctx.user_id or 0, int(args)):
        engine.emit("reminder_cancelled", ctx, args)
        return replace(engine.render("reminders", ctx), toast=t("已取消提醒", ctx))
    return replace(engine.render("reminders", ctx), toast=t("该提醒已不存在", ctx))
