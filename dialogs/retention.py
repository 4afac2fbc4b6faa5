"""Retention: users inactive for the configured period lose their data, warned 7 days before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

WARN_DAYS_BEFORE = 7


@dataclass(frozen=True)
class RetentionRun:
    warned: list[int]
    deleted: list[int]


def due(store: Any, now: dt.datetime, retention_days: int) -> tuple[list[int], list[int]]:
    """(users to warn now, users whose data is due for deletion)."""
    delete_before = now - dt.timedelta(days=retention_days)
    warn_before = now - dt.timedelta(days=max(retention_days - WARN_DAYS_BEFORE, 0))
    to_delete = store.inactive_users(delete_before)
    # web sessions (negative ids, web/sessions.py) cannot be sent a warning; any visit keeps their data
    to_warn = [u for u in store.users_to_warn(warn_before) if u not in to_delete and u > 0]
    return to_warn, to_delete
