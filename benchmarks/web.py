"""The web rows of `make bench`: the pages against a bare tornado handler serving a page of the same size.

Each server runs in a process of its own (benchmarks/web_server.py), and so does the load (``python -m
benchmarks.web``, started by ``bench_web``): 32 keep-alive connections, each sending its next request when
the previous answer is in, gzip accepted, cookies kept (as a browser). The load is a lean client
(``Connection``: an asyncio Protocol reading only the status, length, encoding and cookies of each answer,
unpacking a gzipped page only where its text is read; every page is unpacked and checked once after the
warm-up) so that it takes little of the cores it shares with the server; both servers get the very same
client, and all three processes run on uvloop when it is installed (as `eport-guide web` does). Rounds
alternate the two servers on the same kind of request, so both see the same machine; the ratio is the
median of the rounds' ratios (the pages' requests per second over the bare handler's), the p99 pools the
pages' latencies of every round. Each row also gives the servers' CPU a request and share of a core, and
the load generator's (from /proc): a server well below a whole core was starved by other work.

- GET answer pages: the 13 businesses' answer pages in turn (/s/topic:…), against the bare handler
  serving each of them at its own address (their very bytes: the same sizes, compressed alike), which
  gzips every answer as tornado's compress_response does. The row also gives the ratio against the
  bare handler sending each page gzipped once (as the pages do): the other side of fairness.
- A checklist tick: the page's script ticking and unticking items of a checklist (POST /a, JSON
  back, each change written to SQLite before the answer), against the bare handler answering with
  the same JSON.

Both servers get the same requests: the bare handler's connections carry the same cookies, the same
forms (token and item) and the same headers as the pages'.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 32
SECONDS = 3.0
ROUNDS = 3


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with a browser's cookies. A lean client (an asyncio Protocol: the
    answer's head parsed for its status, length, encoding and cookies only, the body kept as it came), so
    that the load generator, which shares the machine's cores with the server, takes as little of them as
    it can and measures the server rather than itself. A gzipped body is unpacked only where its text is
    read (``body=True``): the server's work is the same either way."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.xsrf = ""  # the CSRF token of the visitor's checklist page
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: asyncio.Future | None = None
        self.head: tuple[int, dict[str, str], int] | None = None  # the answer being read: status, headers, end
        # when the last request left and its whole answer was in (time.perf_counter): its latency, without the
        # client's own work around it (building the request, resuming the waiting coroutine)
        self.sent = self.arrived = 0.0

    async def open(self) -> Connection:
        await asyncio.get_running_loop().create_connection(lambda: self, "127.0.0.1", self.port)
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(exc or ConnectionError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "set-cookie":
                    k, _, v = value.strip().split(";", 1)[0].partition("=")
                    self.cookies[k] = v
                headers[name] = value.strip()
            self.head = (int(lines[0].split()[1]), headers, end + 4 + int(headers.get("content-length", "0")))
        status, headers, stop = self.head
        if len(self.buffer) >= stop and self.waiting is not None:
            self.arrived = time.perf_counter()
            content = bytes(self.buffer[stop - int(headers.get("content-length", "0")) : stop])
            del self.buffer[:stop]
            self.head = None
            self.waiting.set_result((status, headers, content))

    async def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        *,
        accept: str = "text/html",
        gzip_ok: bool = True,
        body: bool = True,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request and its answer: (status, headers, body; a gzipped body unpacked if ``body``)."""
        assert self.transport is not None
        data = urlencode(form).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Accept: {accept}"]
        if gzip_ok:
            head.append("Accept-Encoding: gzip")
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(data)}"]
        self.waiting = asyncio.get_running_loop().create_future()
        message = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        self.sent = time.perf_counter()
        self.transport.write(message)
        status, headers, content = await self.waiting
        self.waiting = None
        if body and headers.get("content-encoding") == "gzip":
            content = gzip.decompress(content)
        return status, headers, content

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def token(page: bytes) -> str:
    m = re.search(rb'name="_xsrf" value="([^"]+)"', page)
    assert m, "a page with a form"
    return m.group(1).decode()


async def spawn(*args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "EPORT_GUIDE_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.web_server",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.strip() == b"ready", line
    return proc


async def load(conns: list[Connection], step, seconds: float) -> tuple[int, list[float]]:
    """Every connection runs ``step(conn, n)`` back to back for ``seconds``: (requests, latencies)."""
    times: list[float] = []
    end = time.perf_counter() + seconds

    async def run(conn: Connection, k: int) -> None:
        n = k
        while time.perf_counter() < end:
            await step(conn, n)
            times.append(conn.arrived - conn.sent)  # from the request's last byte sent to the answer's last received
            n += 1

    await asyncio.gather(*(run(c, k) for k, c in enumerate(conns)))
    return len(times), times


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far, from /proc; 0.0 where there is none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(conns: list[Connection], step, seconds: float, server: int) -> tuple[int, list[float], dict[str, float]]:
    """``load`` and what it cost: the wall time and the CPU time of the server (process id ``server``) and of
    this process, the load generator (which shares the machine's cores with the server)."""
    wall, server_cpu, own_cpu = time.perf_counter(), cpu_seconds(server), time.process_time()
    n, times = await load(conns, step, seconds)
    cost = {
        "wall": time.perf_counter() - wall,
        "server": cpu_seconds(server) - server_cpu,
        "client": time.process_time() - own_cpu,
        "requests": n,
    }
    return n, times, cost


def p99(times: list[float]) -> float:
    times = sorted(times)
    return times[int(0.99 * (len(times) - 1))]


async def bench_web(tmp: Path, rounds: int = ROUNDS, seconds: float = SECONDS, clients: int = CLIENTS) -> dict:
    """The web rows' measurements, the load generated by a process of its own (``python -m benchmarks.web``):
    a fresh heap on the loop the servers run (uvloop when installed), not the bench's process with every
    other row's objects for its garbage collector to walk while it times the servers."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.web",
        str(tmp),
        str(rounds),
        str(seconds),
        str(clients),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, f"the web rows' load generator failed ({proc.returncode})"
    return json.loads(out)


async def measure(tmp: Path, rounds: int = ROUNDS, seconds: float = SECONDS, clients: int = CLIENTS) -> dict:
    """The rounds themselves (see the module's docstring), in this process."""
    from knowledge import load_knowledge

    kb = load_knowledge()
    topics = list(kb.businesses)
    pages = [f"/s/topic:{quote(t)}" for t in topics]
    business = "unlock"
    items = [i.id for i in kb.checklist_items(business)]
    port = 20000 + os.getpid() % 1000
    guide = await spawn("guide", str(port), str(tmp / "webbench.db"))
    procs = [guide]
    try:
        probe = await Connection(port).open()
        bodies = [(await probe.request("GET", p, gzip_ok=False))[2] for p in pages]
        probe.close()
        # every connection a visitor with a session and a checklist (the tick's own page gave the token)
        conns = [await Connection(port).open() for _ in range(clients)]
        for conn in conns:
            page = (await conn.request("GET", f"/s/topic:{business}"))[2]
            status, _, _ = await conn.request("POST", "/a", {"_xsrf": token(page), "d": f"e1|checklist_open|{business}"})
            assert status == 303 and "eg_session" in conn.cookies, status
            conn.xsrf = token((await conn.request("GET", f"/s/checklist:{business}"))[2])

        async def get_page(conn: Connection, n: int) -> None:
            status, _, _ = await conn.request("GET", pages[n % len(pages)], body=False)
            assert status == 200, status

        async def tick(conn: Connection, n: int) -> None:
            item = items[(n // 2) % len(items)]
            form = {"_xsrf": conn.xsrf, "d": f"e1|tick|{business}:{item}:{1 - n % 2}"}
            status, _, body = await conn.request("POST", "/a", form, accept="application/json")
            assert status == 200 and body.startswith(b'{"done"'), (status, body[:80])

        status, _, answer = await conns[0].request(
            "POST", "/a", {"_xsrf": conns[0].xsrf, "d": f"e1|tick|{business}:{items[0]}:0"}, accept="application/json"
        )
        assert status == 200
        page_size = sorted(len(b) for b in bodies)[len(bodies) // 2]
        for folder, paths, answers in (("pages", pages, bodies), ("tick", ["/a"], [answer])):
            (tmp / folder).mkdir()
            (tmp / folder / "paths.txt").write_text("\n".join(paths), encoding="utf-8")
            for n, body in enumerate(answers):
                (tmp / folder / f"{n}.body").write_bytes(body)
        bare_page = await spawn("bare", str(port + 1), str(tmp / "pages"))
        bare_tick = await spawn("bare", str(port + 2), str(tmp / "tick"))
        bare_packed = await spawn("bare", str(port + 3), str(tmp / "pages"), "pre")
        procs += [bare_page, bare_tick, bare_packed]
        bare_conns = {p: [await Connection(p).open() for _ in range(clients)] for p in (port + 1, port + 2, port + 3)}
        for same in bare_conns.values():  # the same requests: the visitors' cookies and tokens
            for conn, visitor in zip(same, conns):
                conn.cookies, conn.xsrf = dict(visitor.cookies), visitor.xsrf

        async def bare_post(conn: Connection, n: int) -> None:
            item = items[(n // 2) % len(items)]
            form = {"_xsrf": conn.xsrf, "d": f"e1|tick|{business}:{item}:{1 - n % 2}"}
            status, _, _ = await conn.request("POST", "/a", form, accept="application/json")
            assert status == 200

        gc.collect()  # what the set-up made is kept out of the collector's sight while the rounds are timed
        gc.freeze()
        await load(conns, get_page, 0.5)  # warm-up: templates compiled, screens cached
        for n, path in enumerate(pages):  # the answers the rounds do not unpack are whole pages (gzipped)
            for conn in (conns[n % clients], bare_conns[port + 1][n % clients], bare_conns[port + 3][n % clients]):
                status, headers, page = await conn.request("GET", path)
                assert status == 200 and headers.get("content-encoding") == "gzip" and page.rstrip().endswith(b"</html>")
        await load(conns, tick, 0.5)
        await load(bare_conns[port + 1], get_page, 0.5)
        await load(bare_conns[port + 2], bare_post, 0.5)
        await load(bare_conns[port + 3], get_page, 0.5)
        out: dict[str, dict] = {
            "get": {"ratios": [], "times": [], "ours": [], "bare": []},
            "tick": {"ratios": [], "times": [], "ours": [], "bare": []},
        }
        packed_ratios = []
        servers = {"get": bare_page, "tick": bare_tick}
        for _ in range(rounds):
            for kind, ours, bare, conns_bare in (
                ("get", get_page, get_page, bare_conns[port + 1]),
                ("tick", tick, bare_post, bare_conns[port + 2]),
            ):
                n_ours, times, cost = await timed(conns, ours, seconds, guide.pid)
                n_bare, bare_times, bare_cost = await timed(conns_bare, bare, seconds, servers[kind].pid)
                for side, c in (("cost", cost), ("bare_cost", bare_cost)):
                    total = out[kind].setdefault(side, dict.fromkeys(c, 0.0))
                    for k, v in c.items():
                        total[k] += v
                out[kind]["ratios"].append(n_ours / n_bare)
                out[kind]["times"] += times
                out[kind]["ours"].append(n_ours / seconds)
                out[kind]["bare"].append(n_bare / seconds)
                out[kind].setdefault("bare_times", []).extend(bare_times)
                if kind == "get":  # the same round's pages against the bare handler sending them gzipped once
                    n_packed, _ = await load(bare_conns[port + 3], get_page, seconds)
                    packed_ratios.append(n_ours / n_packed)
        for c in conns + [c for same in bare_conns.values() for c in same]:
            c.close()
    finally:
        for proc in procs:
            proc.terminate()
            await proc.wait()
    result = {}
    for kind, d in out.items():
        result[kind] = {
            "ratio": statistics.median(d["ratios"]),
            "ratios": d["ratios"],
            "per_s": statistics.median(d["ours"]),
            "bare_per_s": statistics.median(d["bare"]),
            "p99_ms": 1000 * p99(d["times"]),
            "bare_p99_ms": 1000 * p99(d["bare_times"]),
            "p50_ms": 1000 * statistics.median(d["times"]),
            # CPU a request and share of a core (over the rounds): the server's (ours, the bare handler's) and
            # the load generator's while it loads ours; a server near a whole core is what limits the rate
            "cpu_us": 1e6 * d["cost"]["server"] / d["cost"]["requests"],
            "bare_cpu_us": 1e6 * d["bare_cost"]["server"] / d["bare_cost"]["requests"],
            "busy": d["cost"]["server"] / d["cost"]["wall"],
            "bare_busy": d["bare_cost"]["server"] / d["bare_cost"]["wall"],
            "client_busy": d["cost"]["client"] / d["cost"]["wall"],
            "client_us": 1e6 * d["cost"]["client"] / d["cost"]["requests"],
        }
    result["get"]["packed_ratio"] = statistics.median(packed_ratios)
    result["page_size"] = page_size
    result["tick_size"] = len(answer)
    result["clients"] = clients
    return result


def cost(d: dict) -> str:
    """The rounds' CPU: the servers' per request and share of a core, the load generator's share of one."""
    return (
        f"server CPU {d['cpu_us']:.0f} vs {d['bare_cpu_us']:.0f} µs a request, {d['busy']:.0%} vs {d['bare_busy']:.0%}"
        f" of a core; load generator {d['client_busy']:.0%} ({d['client_us']:.0f} µs a request)"
    )


def web_rows(web: dict, row) -> list[str]:
    get, tick = web["get"], web["tick"]
    return [
        row(
            f"web: GET answer pages / bare tornado handler, the same pages (median {web['page_size']:,} B), {web['clients']} clients, gzip",
            f"{get['ratio']:.2f} ({get['per_s']:.0f} vs {get['bare_per_s']:.0f} req/s; rounds {', '.join(f'{r:.2f}' for r in get['ratios'])};"
            f" against the bare handler sending them gzipped once: {get['packed_ratio']:.2f}; {cost(get)})",
            "≥ 0.6",
            get["ratio"] >= 0.6,
        ),
        row(
            "web: GET answer pages p99 latency",
            f"{get['p99_ms']:.1f} ms (p50 {get['p50_ms']:.1f} ms; bare p99 {get['bare_p99_ms']:.1f} ms)",
            "≤ 15 ms",
            get["p99_ms"] <= 15,
        ),
        row(
            f"web: checklist tick (the page's script, JSON back, written to SQLite) / bare handler ({web['tick_size']} B)",
            f"{tick['ratio']:.2f} ({tick['per_s']:.0f} vs {tick['bare_per_s']:.0f} req/s; rounds {', '.join(f'{r:.2f}' for r in tick['ratios'])};"
            f" {cost(tick)})",
            "≥ 0.5",
            tick["ratio"] >= 0.5,
        ),
        row(
            "web: checklist tick p99 latency",
            f"{tick['p99_ms']:.1f} ms (p50 {tick['p50_ms']:.1f} ms; bare p99 {tick['bare_p99_ms']:.1f} ms)",
            "≤ 15 ms",
            tick["p99_ms"] <= 15,
        ),
    ]


def main(argv: list[str]) -> None:
    """``python -m benchmarks.web TMP ROUNDS SECONDS CLIENTS``: the measurements as JSON on stdout."""
    tmp, rounds, seconds, clients = Path(argv[0]), int(argv[1]), float(argv[2]), int(argv[3])
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(measure(tmp, rounds, seconds, clients))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(measure(tmp, rounds, seconds, clients))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
