"""Retention: inactive users lose their data (warned ``WARN_DAYS_BEFORE`` days before), old free
text (questions, 👎 reasons) is deleted — the one routine every channel runs (the bot's daily job,
the web server's), through ``Guide.expire``."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Callable

WARN_DAYS_BEFORE = 7
log = logging.getLogger("eport_guide.retention")


@dataclass(frozen=True)
class RetentionRun:
    """What one daily run did: the users warned, the users whose data was deleted."""

    warned: list[int]
    deleted: list[int]


def retention_due(store: Any, now: dt.datetime, retention_days: int) -> tuple[list[int], list[int]]:
    """(users to warn now, users whose data is due for deletion)."""
    delete_before = now - dt.timedelta(days=retention_days)
    warn_before = now - dt.timedelta(days=max(retention_days - WARN_DAYS_BEFORE, 0))
    to_delete = store.inactive_users(delete_before)
    # web sessions (negative ids, web/sessions.py) cannot be sent a warning; any visit keeps their data
    to_warn = [u for u in store.users_to_warn(warn_before) if u not in to_delete and u > 0]
    return to_warn, to_delete


def expire(store: Any, now: dt.datetime, retention_days: int, *, whose: Callable[[int], bool] | None = None) -> list[int]:
    """The one retention routine of every channel (the bot's daily job, the web server's): deletes
    everything the promised period covers — the data of users inactive for longer (of those ``whose``
    accepts: the web deletes only web sessions, whose users cannot be warned; the bot warns its users
    first), and questions and 👎 reasons older than the period, whoever wrote them. One failure
    (a busy database) is logged and retried on the next run; returns the users deleted."""
    from .store import StoreError

    deleted: list[int] = []
    try:
        _, due = retention_due(store, now, retention_days)
    except StoreError as exc:
        log.warning("retention: cannot read the users: %s", exc)
        due = []
    for user_id in due:
        if whose is not None and not whose(user_id):
            continue
        try:
            store.forget_user(user_id)
            deleted.append(user_id)
        except StoreError as exc:  # the next run tries again
            log.warning("retention: could not delete the data of user %s: %s", user_id, exc)
    try:
        store.expire_free_text(now - dt.timedelta(days=retention_days))
    except StoreError as exc:
        log.warning("retention: could not expire old questions and reasons: %s", exc)
    return deleted
