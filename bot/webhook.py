"""The webhook endpoint: Telegram POSTs each update to the path of ``EPORT_GUIDE_WEBHOOK_URL``.

A tornado handler of our own (not the library's webhook server, which reads up to 100 MB of body
before looking at the secret): the ``X-Telegram-Bot-Api-Secret-Token`` header is checked, in
constant time, **before** the body is read (``stream_request_body``: ``prepare`` runs on the
headers alone); a body is at most ``MAX_BODY`` bytes (an update is a few kilobytes). The update is
kept in the inbox (``bot.inbox``) before the 200 that confirms it to Telegram; a retry of an update
already received is answered 200 and not handled again.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Update

from .inbox import Inbox

log = logging.getLogger("eport_guide.bot")
MAX_BODY = 1024 * 1024  # bytes: Telegram's updates are far smaller (a 4096-character message is ~20 kB of JSON)
REFUSED_BODY = 16 * 1024  # bytes of a refused request's body skipped (unread, unkept) to answer it cleanly
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram."""

    def initialize(self, inbox: Inbox, secret: str) -> None:
        self.inbox = inbox
        self.secret = secret.encode("utf-8")
        self.chunks: list[bytes] = []
        self.size = 0
        self.refused: int | None = None  # the status a refused request gets once its (small) body is past

    def prepare(self) -> None:  # the headers only: nothing of the body has been read
        length = self.request.headers.get("Content-Length")
        declared = int(length) if length is not None and length.isdigit() else None
        if length is not None and declared is None:
            raise tornado.web.HTTPError(400)
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            # refused before any of the body is read; a small one is skipped unread (never kept) so that the
            # client reads the 403 instead of a reset connection; a larger one ends the connection now
            if declared is None or declared > REFUSED_BODY:
                raise tornado.web.HTTPError(403)
            self.refused = 403
            self.request.connection.set_max_body_size(REFUSED_BODY)  # type: ignore[union-attr]
            return
        if declared is not None and declared > MAX_BODY:
            raise tornado.web.HTTPError(413)
        self.request.connection.set_max_body_size(MAX_BODY)  # type: ignore[union-attr]  # chunked bodies too

    def data_received(self, chunk: bytes) -> None:
        if self.refused:
            return  # skipped, not kept
        self.size += len(chunk)
        if self.size > MAX_BODY:
            raise tornado.web.HTTPError(413)
        self.chunks.append(chunk)

    async def post(self) -> None:
        if self.refused:
            raise tornado.web.HTTPError(self.refused)
        try:
            data = json.loads(b"".join(self.chunks))
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) or isinstance(data["update_id"], bool):
                raise TypeError("not an update")
        except (ValueError, TypeError) as exc:
            log.warning("webhook: a request with the right secret but no update in it (%s)", type(exc).__name__)
            raise tornado.web.HTTPError(400) from None
        try:
            update = Update.de_json(data, self.inbox.application.bot)
        except Exception as exc:  # noqa: BLE001 - a field the library cannot read: sending it again will not help
            log.warning("webhook: update %s cannot be read (%s); skipped", data["update_id"], type(exc).__name__)
            self.finish()
            return
        await self.inbox.accept([update])  # kept (or handled) before the 200 confirms it
        self.set_status(200)
        self.finish()

    def get(self) -> None:
        raise tornado.web.HTTPError(self.refused or 405)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish()  # no page, no traceback: Telegram reads only the status

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[no-untyped-def]
        if isinstance(value, tornado.web.HTTPError):
            return  # refused requests are expected on a public port; not worth a line each
        super().log_exception(typ, value, tb)


def start_webhook(inbox: Inbox, *, path: str, secret: str, listen: str, port: int) -> tornado.httpserver.HTTPServer:
    """Serve ``path`` on ``listen:port`` (call inside the running loop); returns the server to stop."""
    route = "/" + re.escape(path.strip("/"))
    app = tornado.web.Application(
        [(route, UpdateHandler, {"inbox": inbox, "secret": secret})], log_function=lambda handler: None
    )  # no line per request (forged ones included)
    server = tornado.httpserver.HTTPServer(
        app, max_body_size=MAX_BODY, idle_connection_timeout=120, body_timeout=30, xheaders=False
    )
    server.listen(port, address=listen)
    return server
