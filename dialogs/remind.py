"""Reminders as a dialog: ask a date, store the reminders, list and cancel them.

The channel schedules delivery: it listens for "reminder_added"/"reminder_cancelled"
events and re-schedules ``store.pending_reminders()`` at start-up.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from knowledge import Knowledge

from . import providers
from .engine import Context, Engine, Screen
from .store import MAX_PENDING_REMINDERS, ReminderLimit
from .reminders import DateError, SHANGHAI, expiry_reminders, parse_date, refund_reminders, today_in_shanghai

KINDS = ("refund", "expiry")
LIST_MAX = MAX_PENDING_REMINDERS


def install(engine: Engine, store: Any) -> None:
    def base(kb: Knowledge) -> dict[str, Any]:
        return {"hotline": kb.facts["hotline"], "kb": kb, "rule": kb.facts["refund_deadline"],
                "sources": providers._sources(kb, [kb.facts["refund_deadline"].source])}

    def ask_provider(kb: Knowledge, arg: str | None, ctx: Context) -> dict[str, Any]:
        if arg not in KINDS:
            raise providers.NotFound(arg)
        return {**base(kb), "kind": arg, "error": None}

    def list_provider(kb: Knowledge, arg: str | None, ctx: Context) -> dict[str, Any]:
        rows = store.user_reminders(ctx.user_id or 0)
        more = max(len(rows) - LIST_MAX, 0)  # the list fits one message and one keyboard whatever is stored
        rows = rows[:LIST_MAX]
        items = [{"id": r.id, "kind": r.kind, "when": dt.datetime.fromisoformat(r.due_at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
                  "date": r.payload.get("date")} for r in rows]
        return {**base(kb), "items": items, "more": more, "enabled": bool(store.get_setting(ctx.user_id or 0, "reminders", True))}

    def ask(engine: Engine, ctx: Context, kind: str, error: DateError | None = None) -> Screen:
        screen = engine.render(f"remind:{kind}", ctx, variables={"error": error})
        return replace(screen, awaiting=f"remind_date:{kind}")

    def set_date(engine: Engine, ctx: Context, kind: str, text: str) -> Screen:
        if kind not in KINDS:
            raise providers.NotFound(kind)
        kb = engine.kb
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
            return ask(engine, ctx, kind, exc)
        uid = ctx.user_id or 0
        try:  # the same reminder twice is kept once; at most MAX_PENDING_REMINDERS pending per user
            ids = store.add_reminders(uid, uid, kind, [t.astimezone(dt.timezone.utc) for t in times],
                                      topic="renew_cert" if kind == "expiry" else None, payload=payload, now=now)
        except ReminderLimit:
            return ask(engine, ctx, kind, DateError("too_many", max=MAX_PENDING_REMINDERS))
        for rid in ids:
            engine.emit("reminder_added", ctx, str(rid))
        when = [t.strftime("%Y-%m-%d %H:%M") for t in times]
        return engine.render("reminder_set", ctx, variables={"kind": kind, "day": day.isoformat(), "last": last.isoformat(), "when": when})

    def today_action(engine: Engine, ctx: Context, kind: str) -> Screen:
        return set_date(engine, ctx, kind, "今天")

    def cancel(engine: Engine, ctx: Context, args: str) -> Screen:
        if not re.fullmatch(r"[0-9]{1,18}", args):
            raise providers.NotFound(args)
        if store.cancel_reminder(ctx.user_id or 0, int(args)):
            engine.emit("reminder_cancelled", ctx, args)
            return replace(engine.render("reminders", ctx), toast=engine._("已取消提醒", ctx))
        return replace(engine.render("reminders", ctx), toast=engine._("该提醒已不存在", ctx))

    def open_ask(engine: Engine, ctx: Context, kind: str) -> Screen:
        if kind not in KINDS:
            raise providers.NotFound(kind)
        return ask(engine, ctx, kind)

    def set_provider(kb, arg, ctx):
        return base(kb)

    engine.extend(
        "reminders",
        providers={"remind": ask_provider, "reminders": list_provider, "reminder_set": set_provider},
        actions={"remind": open_ask, "remind_today": today_action, "reminder_cancel": cancel},
        inputs={"remind_date": set_date},
    )


def reminder_message(engine: Engine, reminder: Any, lang: str) -> Screen:
    """The message a due reminder sends."""
    ctx = Context(user_id=reminder.user_id, lang=lang)
    return engine.render("reminder_due", ctx, variables={"r": reminder, "payload": reminder.payload})
