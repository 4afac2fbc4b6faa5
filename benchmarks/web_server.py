"""A server for the web rows of `make bench`, in a process of its own (one core, like a deployment), on the
event loop `eport-guide web` runs (uvloop when installed, as web.server.run_loop), the bare handler too.

    python -m benchmarks.web_server guide PORT DB          # the web pages (web.server.start), no rate limit
    python -m benchmarks.web_server bare PORT DIR [pre]    # a bare tornado handler: the files of DIR by address

DIR holds ``paths.txt`` (one address a line) and ``<n>.body``, the answer to the n-th address (the pages'
very bytes: the bare handler sends the same sizes); any other address gets ``0.body``. The bare handler
gzips each answer with tornado's compress_response, as a plain tornado handler does; with ``pre`` it sends
each page gzipped once at start-up instead (what the pages themselves do for a page everyone sees alike).
Both answer GET and POST alike; the bare one has no session, template, engine or database: it is the
ceiling the pages are compared with.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path


def bare_app(pages: dict[str, bytes], default: bytes, *, pre: bool = False):
    """The bare handler: ``pages[path]`` (else ``default``) for any GET or POST, gzipped by tornado per
    request, or (``pre``) gzipped once."""
    import gzip

    import tornado.web

    packed = {path: gzip.compress(body, 6, mtime=0) for path, body in [*pages.items(), ("", default)]} if pre else {}

    class Page(tornado.web.RequestHandler):
        def check_xsrf_cookie(self) -> None:
            pass

        def get(self, *_: str) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            path = self.request.path if self.request.path in pages else ""
            if pre and "gzip" in self.request.headers.get("Accept-Encoding", ""):
                self.set_header("Content-Encoding", "gzip")  # tornado's compression then leaves it alone
                self.finish(packed[path])
            else:
                self.finish(pages.get(path, default))

        post = get

    return tornado.web.Application([(r"/.*", Page)], compress_response=True, log_function=lambda handler: None)


def read_pages(folder: Path) -> tuple[dict[str, bytes], bytes]:
    """The addresses and answers a bare server serves (see the module's docstring)."""
    paths = (folder / "paths.txt").read_text(encoding="utf-8").splitlines()
    return {p: (folder / f"{n}.body").read_bytes() for n, p in enumerate(paths)}, (folder / "0.body").read_bytes()


async def main(argv: list[str]) -> None:
    logging.disable(logging.INFO)
    kind, port = argv[0], int(argv[1])
    if kind == "bare":
        import tornado.httpserver

        pages, default = read_pages(Path(argv[2]))
        server = tornado.httpserver.HTTPServer(bare_app(pages, default, pre=argv[3:4] == ["pre"]))
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
    # both servers on the loop `eport-guide web` runs (web.server.run_loop, not imported here: the bare
    # server's heap stays bare)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(sys.argv[1:]))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main(sys.argv[1:]))
