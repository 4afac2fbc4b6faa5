"""Configuration from the environment (and command-line flags that override it)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Mapping

TOKEN_RE = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,}$")
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message says which and how."""


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_FILE_URL
    db_path: str = "eport-guide.db"
    admins: frozenset[int] = field(default_factory=frozenset)
    bot_username: str | None = None
    stale_days: int = 180
    retention_days: int = 365
    request_timeout: float = 15.0  # seconds for one Bot API call

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        values = {
            "token": env.get("TELEGRAM_BOT_TOKEN") or None,
            "base_url": env.get("TELEGRAM_API_BASE_URL") or DEFAULT_BASE_URL,
            "base_file_url": env.get("TELEGRAM_API_FILE_URL") or DEFAULT_FILE_URL,
            "db_path": env.get("EPORT_GUIDE_DB") or "eport-guide.db",
            "admins": parse_admins(env.get("EPORT_GUIDE_ADMINS", "")),
            "bot_username": (env.get("EPORT_GUIDE_BOT_USERNAME") or "").lstrip("@") or None,
            "stale_days": _positive_int(env, "EPORT_GUIDE_STALE_DAYS", 180),
            "retention_days": _positive_int(env, "EPORT_GUIDE_RETENTION_DAYS", 365),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def require_token(self) -> str:
        if not self.token:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set; get a token from @BotFather (see README) or run `eport-guide chat`")
        if not TOKEN_RE.match(self.token):
            raise SettingsError("TELEGRAM_BOT_TOKEN is malformed: expected '<digits>:<35 letters, digits, - or _>' as given by @BotFather")
        return self.token


def parse_admins(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise SettingsError(f"EPORT_GUIDE_ADMINS must be comma-separated Telegram user ids; {part!r} is not a number")
        ids.add(int(part))
    return frozenset(ids)


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.strip().isdigit() or int(raw) <= 0:
        raise SettingsError(f"{name} must be a positive whole number of days, not {raw!r}")
    return int(raw)
