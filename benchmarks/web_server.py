"""A server for the web rows of `make bench`, in a process of its own (one core, like a deployment).

    python -m benchmarks.web_server guide PORT DB     # the web pages (web.server.start), no rate limit
    python -m benchmarks.web_server bare PORT FILE    # a bare tornado handler: the bytes of FILE (one of the pages)

Both gzip their answers (tornado's compress_response) and answer GET and POST alike; the bare one has
no session, template, engine or database: it is the ceiling the pages are compared with.
"""

from __future__ import annotations

import asyncio
import logging
import sys


def bare_app(page: bytes):
    import tornado.web

    class Page(tornado.web.RequestHandler):
        def check_xsrf_cookie(self) -> None:
            pass

        def get(self, *_: str) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(page)

        post = get

    return tornado.web.Application([(r"/.*", Page)], compress_response=True, log_function=lambda handler: None)


async def main(argv: list[str]) -> None:
    logging.disable(logging.INFO)
    kind, port = argv[0], int(argv[1])
    if kind == "bare":
        import tornado.httpserver

        from pathlib import Path

        server = tornado.httpserver.HTTPServer(bare_app(Path(argv[2]).read_bytes()))
        server.listen(port, address="127.0.0.1")
    else:
        from bot.settings import Settings
        from web.server import RateLimiter, build_web_guide, settle, start

        settings = Settings(db_path=argv[2])
        guide = build_web_guide(settings)
        start(settings, guide=guide, listen="127.0.0.1", port=port, rate_limiter=RateLimiter(rate=1e9, burst=10**9))
        await settle(guide)  # as `eport-guide web` does after start-up: the answerer built, the heap frozen
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
