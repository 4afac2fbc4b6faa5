"""Configuration: one validated settings object read from the environment.

Every ``eport-guide`` command reads :class:`Settings` once (``Settings.from_env``);
command-line flags override single values. A malformed value raises
:class:`SettingsError` whose message is one line starting with the variable's name.
The variables, their defaults and meaning are listed in README.md ("Configuration").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Iterable
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TOKEN_RE = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,}$")
# Telegram usernames: 5–32 characters, letters, digits and underscores, starting with a
# letter; a bot's username ends in "bot".
BOT_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,28}[Bb][Oo][Tt]$")
# Telegram's rule for the webhook secret token: 1–256 characters A-Z, a-z, 0-9, _ and -.
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ASCII_DIGITS = re.compile(r"^[0-9]+$")
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
MAX_DAYS = 36500  # a hundred years; anything longer is a typo
MAX_USER_ID = 2**53  # Telegram user ids fit in 52 bits
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
MAX_PROXY_HOPS = 10
# WeChat's rules (公众平台 → 基本配置): the Token 3-32 letters or digits; the EncodingAESKey 43 letters or
# digits (base64 of a 32-byte AES key without its "="); the AppID "wx" and 16 letters or digits; the
# AppSecret 32 hexadecimal digits.
WECHAT_TOKEN_RE = re.compile(r"^[A-Za-z0-9]{3,32}$")
WECHAT_AES_KEY_RE = re.compile(r"^[A-Za-z0-9+/]{43}$")
WECHAT_APP_ID_RE = re.compile(r"^wx[A-Za-z0-9]{16}$")
WECHAT_APP_SECRET_RE = re.compile(r"^[0-9A-Fa-f]{32}$")
DEFAULT_WECHAT_API_URL = "https://api.weixin.qq.com"


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message says which and how."""


def _days(name: str, raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = str(raw).strip()
        if not ASCII_DIGITS.match(text) or len(text) > 6:
            raise ValueError(f"must be a whole number of days from 1 to {MAX_DAYS}, not {raw!r}")
        value = int(text)
    if not 1 <= value <= MAX_DAYS:
        raise ValueError(f"must be a whole number of days from 1 to {MAX_DAYS}, not {raw!r}")
    return value


def parse_admins(raw: Any) -> frozenset[int]:
    """Comma-separated Telegram user ids, ASCII digits only (e.g. "12345,67890")."""
    if isinstance(raw, (set, frozenset, list, tuple)):
        return frozenset(int(x) for x in raw)
    ids = set()
    for part in str(raw).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not ASCII_DIGITS.match(part) or not 0 < int(part) < MAX_USER_ID:
            raise ValueError(f"must be comma-separated Telegram user ids (digits 0-9); {part!r} is not one")
        ids.add(int(part))
    return frozenset(ids)


def masked(raw: Any) -> str:
    """A URL as it may be printed: whatever stands before the last "@" of its address part
    (user name and password) is replaced by ***, e.g. socks5://***@127.0.0.1:1080."""
    text = str(raw).strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def credentials(raw: Any) -> list[str]:
    """The user-name-and-password part of a URL as written, and the password alone: what a
    malformed proxy address must never print (read without parsing, which may fail)."""
    text = str(raw or "").strip()
    rest = text.partition("://")[2] or text
    if "@" not in rest:
        return []
    userinfo = rest.rsplit("@", 1)[0]
    return [s for s in (userinfo, userinfo.partition(":")[2]) if s]


def _url(raw: str, schemes: tuple[str, ...], example: str, *, echo: bool = True) -> str:
    """``raw`` as a URL with one of ``schemes`` and a host. The message shows the value with any
    credentials masked; ``echo=False`` (a proxy) shows nothing of a value without a scheme://,
    where what is a password cannot be told."""
    shown = f", not {masked(raw)!r}" if echo or "://" in raw else " (the value is not shown: it may hold a password)"
    kinds = [f"{s}://" for s in schemes]
    kinds = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
    try:
        parts = urlsplit(raw.strip())
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        raise ValueError(f"is not a well-formed address (an IPv6 host goes in [brackets]){shown}") from None
    if parts.scheme.lower() not in schemes or not host:
        raise ValueError(f"must be an {kinds} address such as {example}{shown}")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError(f"has a malformed port (a number from 1 to 65535 after the host){shown}") from None
    return raw.strip()


class Settings(BaseSettings):
    """Every setting of every command. Field → variable: see ``ENV`` and README.md."""

    model_config = SettingsConfigDict(
        frozen=True,
        populate_by_name=True,
        extra="ignore",
        env_ignore_empty=True,
        case_sensitive=True,
        validate_default=False,
    )

    token: str | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    base_url: str = Field(DEFAULT_BASE_URL, validation_alias="TELEGRAM_API_BASE_URL")
    base_file_url: str = Field(DEFAULT_FILE_URL, validation_alias="TELEGRAM_API_FILE_URL")
    proxy: str | None = Field(None, validation_alias="TELEGRAM_PROXY")
    db_path: str = Field("eport-guide.db", validation_alias="EPORT_GUIDE_DB")
    knowledge_dir: str | None = Field(None, validation_alias="EPORT_GUIDE_KNOWLEDGE")
    # question forms staff taught (`eport-guide teach`); default: knowledge-overlay.yaml beside the database
    overlay_path: str | None = Field(None, validation_alias="EPORT_GUIDE_OVERLAY")
    admins: Annotated[frozenset[int], NoDecode] = Field(frozenset(), validation_alias="EPORT_GUIDE_ADMINS")
    bot_username: str | None = Field(None, validation_alias="EPORT_GUIDE_BOT_USERNAME")
    stale_days: int = Field(180, validation_alias="EPORT_GUIDE_STALE_DAYS")
    retention_days: int = Field(365, validation_alias="EPORT_GUIDE_RETENTION_DAYS")
    webhook_url: str | None = Field(None, validation_alias="EPORT_GUIDE_WEBHOOK_URL")
    webhook_secret: str | None = Field(None, validation_alias="EPORT_GUIDE_WEBHOOK_SECRET")
    listen: str = Field("127.0.0.1", validation_alias="EPORT_GUIDE_LISTEN")
    port: int = Field(8443, validation_alias="EPORT_GUIDE_PORT")
    request_timeout: float = Field(15.0, validation_alias="EPORT_GUIDE_REQUEST_TIMEOUT")  # seconds per Bot API call
    web_url: str | None = Field(None, validation_alias="EPORT_GUIDE_WEB_URL")  # public address of `eport-guide web`
    web_listen: str = Field("127.0.0.1", validation_alias="EPORT_GUIDE_WEB_LISTEN")
    web_port: int = Field(8080, validation_alias="EPORT_GUIDE_WEB_PORT")
    # reverse proxies in front of `eport-guide web` whose X-Forwarded-For (and -Proto) is believed; 0: none
    web_trusted_proxies: int = Field(0, validation_alias="EPORT_WEB_TRUSTED_PROXIES")
    # the WeChat Official Account (web/wechat.py): /wechat is served when the token is set
    wechat_token: str | None = Field(None, validation_alias="EPORT_WECHAT_TOKEN")
    wechat_aes_key: str | None = Field(None, validation_alias="EPORT_WECHAT_AES_KEY")
    wechat_app_id: str | None = Field(None, validation_alias="EPORT_WECHAT_APP_ID")
    wechat_app_secret: str | None = Field(None, validation_alias="EPORT_WECHAT_APP_SECRET")
    wechat_api_url: str = Field(DEFAULT_WECHAT_API_URL, validation_alias="EPORT_WECHAT_API_URL")

    # -- validators: the message is what follows "VARIABLE " in the error line --------------
    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, v: Any) -> Any:
        if v is not None and not TOKEN_RE.match(str(v)):
            raise ValueError("is malformed: expected '<digits>:<35 letters, digits, - or _>' as given by @BotFather")
        return v

    @field_validator("base_url", "base_file_url", mode="before")
    @classmethod
    def _api_url(cls, v: Any) -> Any:
        return _url(str(v), ("http", "https"), "http://127.0.0.1:8081/bot")

    @field_validator("proxy", mode="before")
    @classmethod
    def _proxy(cls, v: Any) -> Any:
        return None if v is None else _url(str(v), PROXY_SCHEMES, "socks5://127.0.0.1:1080 or http://proxy:3128", echo=False)

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, v: Any) -> Any:
        if v is None:
            return v
        url = _url(str(v), ("https",), "https://bot.example.org/telegram")
        if urlsplit(url).port not in (None, 443, 80, 88, 8443):
            raise ValueError(f"must use one of the ports Telegram posts to (443, 80, 88, 8443), not {masked(v)!r}")
        return url

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret(cls, v: Any) -> Any:
        if v is not None and not SECRET_RE.match(str(v)):
            raise ValueError("must be 1-256 characters A-Z, a-z, 0-9, _ or - (Telegram's rule for secret_token)")
        return v

    # the WeChat secrets: the message never shows the value, only what is wrong with it
    @field_validator("wechat_token", mode="before")
    @classmethod
    def _wechat_token(cls, v: Any) -> Any:
        if v is not None and not WECHAT_TOKEN_RE.match(str(v)):
            raise ValueError(
                f"must be 3-32 letters or digits, the Token entered in the WeChat platform (basic "
                f"configuration); the value given has {len(str(v))} character(s) and is not shown"
            )
        return v

    @field_validator("wechat_aes_key", mode="before")
    @classmethod
    def _wechat_aes_key(cls, v: Any) -> Any:
        if v is not None and not WECHAT_AES_KEY_RE.match(str(v)):
            raise ValueError(
                f"must be the 43-character EncodingAESKey (letters and digits) from the WeChat platform; "
                f"the value given has {len(str(v))} character(s) and is not shown"
            )
        return v

    @field_validator("wechat_app_id", mode="before")
    @classmethod
    def _wechat_app_id(cls, v: Any) -> Any:
        if v is not None and not WECHAT_APP_ID_RE.match(str(v).strip()):
            raise ValueError(f"must be the account's AppID, 'wx' and 16 letters or digits, not {str(v)[:40]!r}")
        return None if v is None else str(v).strip()

    @field_validator("wechat_app_secret", mode="before")
    @classmethod
    def _wechat_app_secret(cls, v: Any) -> Any:
        if v is not None and not WECHAT_APP_SECRET_RE.match(str(v)):
            raise ValueError(
                f"must be the account's AppSecret, 32 hexadecimal digits; the value given has "
                f"{len(str(v))} character(s) and is not shown"
            )
        return v

    @field_validator("wechat_api_url", mode="before")
    @classmethod
    def _wechat_api_url(cls, v: Any) -> Any:
        return _url(str(v), ("http", "https"), DEFAULT_WECHAT_API_URL).rstrip("/")

    @model_validator(mode="after")
    def _wechat_safe_mode(self) -> "Settings":
        if self.wechat_aes_key and not self.wechat_app_id:
            raise ValueError(
                "EPORT_WECHAT_AES_KEY (safe mode) needs EPORT_WECHAT_APP_ID: every decrypted message "
                "is checked to be addressed to that account"
            )
        if self.wechat_aes_key and not self.wechat_token:
            raise ValueError("EPORT_WECHAT_AES_KEY needs EPORT_WECHAT_TOKEN (the messages are signed with it)")
        return self

    @field_validator("web_url", mode="before")
    @classmethod
    def _web_url(cls, v: Any) -> Any:
        if v is None:
            return v
        url = _url(str(v), ("https", "http"), "https://guide.example.org")
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise ValueError(f"must be the web pages' base address without ?query or #fragment, not {masked(v)!r}")
        return url.rstrip("/")

    @field_validator("port", "web_port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> Any:
        text = str(v).strip()
        if not ASCII_DIGITS.match(text) or not 1 <= int(text) <= 65535:
            raise ValueError(f"must be a TCP port number from 1 to 65535, not {v!r}")
        return int(text)

    @field_validator("web_trusted_proxies", mode="before")
    @classmethod
    def _hops(cls, v: Any) -> Any:
        text = str(v).strip()
        if not ASCII_DIGITS.match(text) or len(text) > 2 or int(text) > MAX_PROXY_HOPS:
            raise ValueError(
                f"must be the number of reverse proxies in front of the web server, 0 to {MAX_PROXY_HOPS}, not {v!r}"
            )
        return int(text)

    @field_validator("request_timeout", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> Any:
        try:
            value = float(str(v).strip())
        except ValueError:
            value = -1.0
        if not 0.1 <= value <= 600.0:
            raise ValueError(f"must be a number of seconds from 0.1 to 600, not {v!r}")
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, v: Any) -> Any:
        return parse_admins(v)

    @field_validator("bot_username", mode="before")
    @classmethod
    def _username(cls, v: Any) -> Any:
        if v is None:
            return v
        name = str(v).strip().removeprefix("@")
        if not BOT_USERNAME_RE.match(name):
            raise ValueError(
                f"must be a Telegram bot username (5-32 letters, digits or _, starting with a letter, ending in 'bot'), not {v!r}"
            )
        return name

    @field_validator("stale_days", "retention_days", mode="before")
    @classmethod
    def _day_count(cls, v: Any, info) -> Any:
        return _days(info.field_name, v)

    @field_validator("knowledge_dir", mode="before")
    @classmethod
    def _knowledge(cls, v: Any) -> Any:
        if v is not None and not Path(str(v)).expanduser().is_dir():
            raise ValueError(f"must be a directory of knowledge files; {v!r} is not a directory")
        return v

    @field_validator("overlay_path", mode="before")
    @classmethod
    def _overlay(cls, v: Any) -> Any:
        if v is None:
            return v
        text = str(v)
        if not text.strip() or "\x00" in text or Path(text).expanduser().is_dir():
            raise ValueError(f"must be the path of a YAML file (the knowledge overlay), not {v!r}")
        return text

    @field_validator("db_path", mode="before")
    @classmethod
    def _db(cls, v: Any) -> Any:
        text = str(v)
        if not text.strip() or "\x00" in text:
            raise ValueError(f"must be the path of an SQLite file, not {v!r}")
        if Path(text).expanduser().is_dir():
            raise ValueError(f"must be the path of an SQLite file; {v!r} is a directory")
        return text

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_env(cls, ignore: Iterable[str] = (), **overrides: Any) -> "Settings":
        """Read the environment; ``overrides`` (flags, by field name) win where not None.
        The fields in ``ignore`` keep their defaults whatever the environment says (a command
        that does not use them must not refuse to start over them: ``web`` and TELEGRAM_ONLY).

        Raises SettingsError with one line naming the variable (or flag) at fault."""
        given = {k: v for k, v in overrides.items() if v is not None}
        defaults = {f: cls.model_fields[f].default for f in ignore if f not in given}
        try:
            return cls(**defaults, **given)
        except ValidationError as exc:
            raise SettingsError(describe(exc, flags=set(given))) from None

    def secrets(self) -> list[str]:
        """Values besides the token that must never be printed: the webhook secret, the proxy's
        password and the WeChat token, EncodingAESKey and AppSecret."""
        out = [self.webhook_secret or "", self.wechat_token or "", self.wechat_aes_key or "", self.wechat_app_secret or ""]
        if self.proxy:
            out.append(urlsplit(self.proxy).password or "")
        return [s for s in out if s]

    def require_token(self) -> str:
        """The bot token; a clear SettingsError when it is not set."""
        if not self.token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set; get a token from @BotFather (see README) or run `eport-guide chat`"
            )
        return self.token


# What only the Telegram channel reads: `eport-guide web` ignores these variables (a malformed
# TELEGRAM_PROXY must not stop the web pages, which never talk to Telegram).
TELEGRAM_ONLY = (
    "token",
    "base_url",
    "base_file_url",
    "proxy",
    "webhook_url",
    "webhook_secret",
    "listen",
    "port",
    "request_timeout",
    "bot_username",
)
ENV = {name: field.validation_alias for name, field in Settings.model_fields.items()}
FLAGS = {
    "token": "--token",
    "base_url": "--base-url",
    "db_path": "--db",
    "webhook_url": "--webhook-url",
    "webhook_secret": "--secret-token",
    "listen": "--listen",
    "port": "--port",
    "web_listen": "--listen",
    "web_port": "--port",
    "web_url": "--web-url",
}


def describe(exc: ValidationError, flags: set[str] = frozenset()) -> str:
    """The first problem as one line: 'VARIABLE message' (or '--flag message' for a flag)."""
    err = exc.errors()[0]
    field = str(err["loc"][0]) if err.get("loc") else ""
    field = next((f for f, alias in ENV.items() if alias == field), field)
    name = FLAGS.get(field, field) if field in flags else ENV.get(field, field)
    message = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
    return " ".join(f"{name} {message}".split())
