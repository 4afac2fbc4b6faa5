"""Small outbound proxies on 127.0.0.1 for the proxy tests: an HTTP forward proxy and a
SOCKS5 proxy (no auth, or user and password).
Both record every HTTP request they carry, so a test can tell that nothing went around them."""

from __future__ import annotations

import asyncio
import re
import struct

import aiohttp
from aiohttp import web

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
}

REQUEST_LINE = re.compile(rb"(GET|POST|PUT|HEAD|DELETE|PATCH|OPTIONS) (\S+) HTTP/1\.[01]\r\n")


class _Proxy:
    def __init__(self):
        self.requests: list[str] = []  # request paths carried, in order
        self.connections = 0
        self.refused = 0
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self):
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)  # 0 unless set: any free port
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sniff: bool) -> None:
        buffer = b""
        try:
            while data := await reader.read(65536):
                if sniff:
                    buffer = (buffer + data)[-8192:]
                    for m in REQUEST_LINE.finditer(buffer):
                        self.requests.append(m.group(2).decode())
                    buffer = buffer[buffer.rfind(b"\r\n") + 2 :] if REQUEST_LINE.search(buffer) else buffer
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    async def _tunnel(self, client_r, client_w, host: str, port: int, first: bytes = b"") -> None:
        server_r, server_w = await asyncio.open_connection(host, port)
        if first:
            for m in REQUEST_LINE.finditer(first):
                self.requests.append(m.group(2).decode())
            server_w.write(first)
        await asyncio.gather(self._pipe(client_r, server_w, True), self._pipe(server_r, client_w, False))


class HttpProxy:
    """``http://127.0.0.1:port``: a forward proxy (absolute-form requests), as squid or
    tinyproxy would be for plain-HTTP targets; records each request it forwards."""

    def __init__(self):
        self.requests: list[str] = []
        self.refused = 0
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if not request.url.is_absolute() or request.url.host != "127.0.0.1" or request.url.port == self.port:
            self.refused += 1  # origin-form: someone talked to the proxy as if it were the server
            return web.Response(status=400, text="not a proxy request")
        self.requests.append(request.path)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self._session.request(
            request.method, request.url, headers=headers, data=await request.read(), allow_redirects=False
        ) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP | {"content-length"}}
            return web.Response(status=upstream.status, body=body, headers=out)

    async def start(self) -> "HttpProxy":
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()

    async def __aenter__(self) -> "HttpProxy":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()


class Socks5Proxy(_Proxy):
    """``socks5://[user:password@]127.0.0.1:port`` (RFC 1928/1929, CONNECT only)."""

    def __init__(self, username: str | None = None, password: str | None = None):
        super().__init__()
        self.username, self.password = username, password

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            version, n = await reader.readexactly(2)
            methods = await reader.readexactly(n)
            wanted = 2 if self.username else 0
            if version != 5 or wanted not in methods:
                self.refused += 1
                writer.write(b"\x05\xff")
                writer.close()
                return
            writer.write(bytes([5, wanted]))
            if wanted == 2:
                _, ulen = await reader.readexactly(2)
                user = await reader.readexactly(ulen)
                (plen,) = await reader.readexactly(1)
                password = await reader.readexactly(plen)
                if (user.decode(), password.decode()) != (self.username, self.password):
                    self.refused += 1
                    writer.write(b"\x01\x01")
                    writer.close()
                    return
                writer.write(b"\x01\x00")
            _, cmd, _, atyp = await reader.readexactly(4)
            if atyp == 1:
                host = ".".join(str(b) for b in await reader.readexactly(4))
            elif atyp == 3:
                (length,) = await reader.readexactly(1)
                host = (await reader.readexactly(length)).decode()
            else:
                raise ConnectionError("IPv6 not supported by the test proxy")
            (port,) = struct.unpack("!H", await reader.readexactly(2))
            if cmd != 1:
                raise ConnectionError("only CONNECT")
            writer.write(b"\x05\x00\x00\x01" + bytes(4) + b"\x00\x00")
            await writer.drain()
            await self._tunnel(reader, writer, host, port)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
