"""Logging to stderr, one line per event, with the bot token never written out."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """Replaces every occurrence of the secrets (the token) in the formatted line."""

    def __init__(self, secrets: list[str], fmt: str = FORMAT):
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and (record.name.startswith("telegram") or type(exc).__module__.startswith("telegram")):
            # the library's own errors (rejected token, network, a non-JSON answer) are events: one line
            record = logging.makeLogRecord(
                {
                    **record.__dict__,
                    "exc_info": None,
                    "exc_text": None,
                    "msg": f"{record.getMessage()} ({type(exc).__name__}: {exc})",
                    "args": None,
                }
            )
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text


def setup_logging(token: str | None, stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Log to standard error with ``token`` (and later other secrets) redacted; the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    secrets = secrets_of(token)  # with the secret half alone, in case it is logged split
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_eport_guide", False):
            root.removeHandler(old)
    handler._eport_guide = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL (which contains the token) at INFO
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run otherwise
    # python-telegram-bot logs each API call's reply (users' message texts) at DEBUG: never emitted
    for name in ("telegram.Bot", "telegram.ext.ExtBot"):
        logging.getLogger(name).setLevel(logging.INFO)
    return handler


def secrets_of(token: str | None) -> list[str]:
    """The strings that must never be printed: the token and its secret half."""
    if not token:
        return []
    out = [token]
    if ":" in token and len(token.split(":", 1)[1]) >= 8:
        out.append(token.split(":", 1)[1])
    return out


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by a placeholder."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    return text


class RedactingStream:
    """A text stream (stdout/stderr) that removes the secrets from everything written to it, whoever
    writes: our messages, library exceptions, tracebacks, warnings."""

    def __init__(self, stream: TextIO, secrets: list[str]):
        self._stream = stream
        self._secrets = [s for s in secrets if s]

    def write(self, text: str) -> int:
        self._stream.write(redact(text, self._secrets))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def redact_output(token: str | None, extra: list[str] | tuple[str, ...] = ()) -> None:
    """Route the process's stdout and stderr through the redaction (idempotent); ``extra``:
    other secrets (the webhook secret, a proxy password)."""
    secrets = secrets_of(token) + [s for s in extra if s and len(s) >= 4]
    if not secrets:
        return
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, RedactingStream):
            stream._secrets = list(dict.fromkeys(stream._secrets + secrets))
        else:
            setattr(sys, name, RedactingStream(stream, secrets))
