"""Reminder dates, in Asia/Shanghai.

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
from zoneinfo import ZoneInfo

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
    return now.astimezone(SHANGHAI).date()


def parse_date(text: str, today: dt.date) -> dt.date:
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
    return dt.datetime.combine(day, REMIND_AT, tzinfo=SHANGHAI)


def refund_deadline(rejected_on: dt.date, days: int = 7) -> dt.date:
    """Last day to resubmit: the 退单 day counts as day 1."""
    return rejected_on + dt.timedelta(days=days - 1)


def refund_reminders(rejected_on: dt.date, now: dt.datetime, days: int = 7) -> tuple[dt.date, list[dt.datetime]]:
    today = today_in_shanghai(now)
    if rejected_on > today:
        raise DateError("future", today=today.isoformat())
    last = refund_deadline(rejected_on, days)
    if last < today:
        raise DateError("refund_passed", days=days, last=last.isoformat())
    times = [at_nine(last - dt.timedelta(days=d)) for d in REFUND_DAYS_BEFORE]
    return last, [t for t in times if t > now]


def expiry_reminders(expires_on: dt.date, now: dt.datetime) -> list[dt.datetime]:
    today = today_in_shanghai(now)
    if expires_on <= today:
        raise DateError("not_future", today=today.isoformat())
    times = [at_nine(expires_on - dt.timedelta(days=d)) for d in EXPIRY_DAYS_BEFORE]
    return [t for t in times if t > now]
