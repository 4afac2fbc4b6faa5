"""Web sessions without an account: a random token in a signed cookie → a negative user id.

Telegram user ids are always positive, so web users get ids below zero and the two never
collide; every per-user table (checklists, ticks, settings, events, feedback) works for
them unchanged. Only the SHA-256 of the token is stored (``web_sessions``), so a copy of
the database does not let anyone take over a session. Deleting a user's data
(``Store.forget_user``, retention) deletes the session row too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

ANONYMOUS = -1  # the id of a visitor without a session: never allocated, nothing is written for it
ID_SPACE = 2**52


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def is_web_user(user_id: int | None) -> bool:
    """Whether a user id is a web visitor's or a WeChat follower's (negative ids; Telegram's are positive),
    so retention can expire them on their own schedule."""
    return user_id is not None and user_id < 0


def cookie_secret(store: Any) -> str:
    """The key that signs the web cookies: made once, kept in the database (so sessions
    survive restarts and a bot and a web process on the same file agree)."""
    return store.web_key("cookie", lambda: secrets.token_urlsafe(48))


def lookup(store: Any, token: str | None) -> int | None:
    """The user id of a session token, None if unknown (deleted, expired, forged)."""
    if not token:
        return None
    return store.session_user(_hash(token))


def draw() -> tuple[str, int]:
    """A token and a negative user id for a visitor about to change something; nothing is stored
    until ``save`` (a session exists only once the visitor's action stored something)."""
    return secrets.token_urlsafe(32), -2 - secrets.randbelow(ID_SPACE)


def save(store: Any, token: str, user_id: int, lang: str | None, now: dt.datetime | None = None) -> bool:
    """Store a drawn session; False if its id is taken (a clash of random ids: draw again)."""
    ts = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    if not store.add_session(_hash(token), user_id, ts):
        return False
    store.touch_user(user_id, lang, now=now)
    return True


def exists(store: Any, user_id: int) -> bool:
    """Whether a web user's session still exists (it does not after "delete my data")."""
    return store.has_session(user_id)


def adopt(store: Any, user_id: int, now: dt.datetime | None = None) -> str:
    """A new session token for an existing user (a WeChat follower opening a signed link): this browser
    becomes the user's one session; the token to put in the cookie is returned."""
    token = secrets.token_urlsafe(32)
    ts = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    store.replace_session(_hash(token), user_id, ts)
    return token
