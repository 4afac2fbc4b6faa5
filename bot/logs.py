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
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text


def setup_logging(token: str | None, stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    secrets = [token] if token else []
    if token and ":" in token:
        secrets.append(token.split(":", 1)[1])  # the secret half alone, in case it is logged split
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
    return handler
