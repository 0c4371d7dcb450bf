"""Web chat turns per second and latency through the JSON API, beside the core's own figure.

    .venv/bin/python benchmarks/web_chat.py [--users 120] [--concurrency 12] [--rounds 5] [--baseline REV|DIR ...]

* web: `python -m bot web` (the real entry point) in a child process; simulated visitors in
  this process POST /api/start, then each message of SCRIPT (typed text and one button) to
  /api/message, one at a time per visitor, each reply awaited (the response carries it and
  is checked for one). Cookie session, rate limit, transcript, metrics and JSON included.
* core: the same visitors and the same events (as the web adapter makes them: platform
  "web", can_push=False) submitted straight to `ConversationService.submit` in this process,
  same dialog and Redis; a counting sink checks every turn was answered.
* http floor: the least any JSON-over-HTTP adapter does (see `serve_floor`), driven like the
  web: what the HTTP path itself costs on this machine, so the web's own part is visible.
* web@REV: with --baseline, the web server as of a git revision (or a folder), in the same run.

Fair shares of the machine: the code under test (this process in the core run, the server in
the web runs) is pinned to one CPU; Redis and the web runs' HTTP client (the visitors' phones,
about a quarter of the server's CPU per turn, which the core run never pays) to the other.
CPU seconds are read per process (/proc), Redis's from INFO, its commands per turn from INFO
commandstats, round trips per turn from MONITOR in a separate untimed pass; "busy" says whether
the serving process was the bottleneck (near 100%: turns per second measure its CPU; well
below: the machine is shared, or the hops between processes set the pace). The 2-core bound is
what two cores could carry at the measured CPU per turn (serving process + Redis). Rounds alternate
core and servers (order rotating), medians reported, so a noisy moment hits all alike. Redis is this
run's own embedded server; ports start at --port (default: the first of YB_PORTS, else 18050).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import RedisCost, checkout, cpu_seconds, pct, redis_cost, redis_reset  # noqa: E402
from bot.runtime import Runtime, open_runtime  # noqa: E402
from bot.web.api import BOT_ID, PLATFORM  # noqa: E402
from bot.web.transcript import MAX_ENTRIES, Transcript, message_json  # noqa: E402
from flows.messages import ChatKind, InEvent, OutMessage  # noqa: E402
from flows.redis_embed import open_redis  # noqa: E402
from flows.service import CollectingSink  # noqa: E402
from flows.store import KeySpace  # noqa: E402

TODAY = date(2026, 11, 22)
# (text, button payload): every turn is answered by the core; the button is the type choice.
SCRIPT: tuple[tuple[str | None, str | None], ...] = (
    ("我在乌鲁木齐", None), (None, "t:flexible"), ("断了4个月", None), ("要交多少钱", None),
    ("什么时候能报销", None), ("谢谢", None),
)
LABEL = "灵活就业（自己交）"  # the pressed button's label, sent along as the page does
JSON = {"Content-Type": "application/json"}


class CountingSink:
    """The core run's sink: replies are counted (every turn must get one), then dropped."""

    answered = 0  # per instance once counted

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        self.answered += bool(messages)


@dataclass
class Run:
    """One timed run: turns, latencies, CPU seconds per process and Redis's work."""

    name: str
    turns: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, float] = field(default_factory=dict)
    redis: RedisCost = field(default_factory=RedisCost)

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds

    def cpu_ms(self, seconds: float) -> float:
        return seconds / self.turns * 1000


@dataclass(frozen=True)
class Cpus:
    """Which CPU runs the code under test and which runs the rest (None: no pinning)."""

    tested: set[int] | None
    helpers: set[int] | None

    @classmethod
    def split(cls, pin: bool) -> Cpus:
        mine = sorted(os.sched_getaffinity(0))
        return cls({mine[0]}, {mine[1]}) if pin and len(mine) >= 2 else cls(None, None)

    def pin(self, pid: int, tested: bool) -> None:
        cpus = self.tested if tested else self.helpers
        if cpus is not None:
            os.sched_setaffinity(pid, cpus)


async def drive(users: range, concurrency: int, start: Callable[[int], Awaitable[None]],
                turn: Callable[[int, int, str | None, str | None], Awaitable[None]]) -> tuple[float, list[float]]:
    """Each user starts, then sends SCRIPT in order; `concurrency` users at a time. Times every turn."""
    latencies: list[float] = []
    waiting = list(users)

    async def visitor() -> None:
        while waiting:
            user = waiting.pop()
            began = time.perf_counter()
            await start(user)
            latencies.append(time.perf_counter() - began)
            for seq, (text, payload) in enumerate(SCRIPT):
                began = time.perf_counter()
                await turn(user, seq, text, payload)
                latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(visitor() for _ in range(concurrency)))
    return time.perf_counter() - began, latencies


async def run_core(service: object, sink: CountingSink, users: range, concurrency: int, tag: str) -> Run:
    submit = service.submit  # type: ignore[attr-defined]

    def event(user: int, seq: str, text: str | None, payload: str | None = None) -> InEvent:
        # What bot.web.api.Visitor.event makes of a visitor's message.
        return InEvent(PLATFORM, BOT_ID, f"{tag}{user}", f"{tag}{user}", ChatKind.PRIVATE, f"m-{seq}", text,
                       payload, can_push=False)

    async def start(user: int) -> None:
        await submit(event(user, "start", "/start"))

    async def turn(user: int, seq: int, text: str | None, payload: str | None) -> None:
        await submit(event(user, str(seq), text, payload))

    answered, cpu = sink.answered, time.process_time()
    seconds, latencies = await drive(users, concurrency, start, turn)
    if sink.answered - answered != len(latencies):
        raise RuntimeError(f"core: {len(latencies) - sink.answered + answered} turns without a reply")
    return Run("core", len(latencies), seconds, latencies, {"core (this process)": time.process_time() - cpu})


async def run_web(name: str, url: str, server_pid: int, users: range, concurrency: int) -> Run:
    cookies: dict[int, str] = {}
    seen: dict[int, int] = {}  # the last entry number each visitor's page has
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:

        async def call(user: int, path: str, body: bytes) -> None:
            headers = {**JSON, "Cookie": cookies[user]} if user in cookies else JSON
            async with http.post(url + path, data=body, headers=headers) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{path} answered {resp.status}: {raw.decode(errors='replace')}")
                data = orjson.loads(raw)
                if not any(e["role"] == "bot" for e in data["entries"]):
                    raise RuntimeError(f"{path}: no reply")
                seen[user] = data["seq"]
                morsel = resp.cookies.get("yb_session")
                if morsel is not None:
                    cookies[user] = f"yb_session={morsel.value}"

        async def start(user: int) -> None:
            await call(user, "api/start", b"{}")

        async def turn(user: int, seq: int, text: str | None, payload: str | None) -> None:
            body: dict[str, object] = {"text": text} if text is not None else {"payload": payload, "label": LABEL}
            body["since"] = seen[user]  # as the page does: only the new entries come back
            await call(user, "api/message", orjson.dumps(body))

        server_cpu, cpu = cpu_seconds(server_pid), time.process_time()
        seconds, latencies = await drive(users, concurrency, start, turn)
        used = {"server": cpu_seconds(server_pid) - server_cpu, "client (this process)": time.process_time() - cpu}
    return Run(name, len(latencies), seconds, latencies, used)


async def serve_floor(port: int) -> None:
    """The HTTP floor: the least any JSON-over-HTTP adapter does - read the body, submit the
    event to the core (`handle`: replies returned), answer them as JSON - on the same aiohttp,
    core and Redis, nothing else (no cookie signing, rate limit, transcript, metrics or headers).
    Run as a child process like the web server (`--serve-floor PORT`, REDIS_URL, REDIS_KEY_PREFIX)."""
    async with open_runtime() as rt:
        service = rt.make_service(CountingSink(), clock=lambda: TODAY)

        async def turn(request: web.Request) -> web.Response:
            body = orjson.loads(await request.read())
            session = request.cookies.get("yb_session") or secrets.token_urlsafe(18)
            text = "/start" if request.path == "/api/start" else body.get("text")
            event = InEvent(PLATFORM, BOT_ID, session, session, ChatKind.PRIVATE, f"m-{secrets.token_urlsafe(9)}",
                            text, body.get("payload"), can_push=False)
            replies = [message_json(m) for m in await service.handle(event)]
            seq = int(body.get("since", 0)) + len(replies)
            response = web.Response(body=orjson.dumps({"entries": replies, "seq": seq}), content_type="application/json")
            if "yb_session" not in request.cookies:
                response.set_cookie("yb_session", session)
            return response

        app = web.Application()
        app.router.add_post("/api/start", turn)
        app.router.add_post("/api/message", turn)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print(f"http floor on http://127.0.0.1:{port}/", flush=True)
        await asyncio.Event().wait()


def start_server(root: Path | None, redis_url: str, prefix: str, port: int) -> subprocess.Popen[bytes]:
    """`python -m bot web` from the project at `root` (this one, or a baseline's copy); None: the HTTP floor."""
    env = {**os.environ, "PYTHONPATH": str(root or ROOT), "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix,
           "WEB_RATE_LIMIT": "1000"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # one process: its metrics in memory, as in a container
    command = [sys.executable, "-m", "bot", "web", "--listen", f"127.0.0.1:{port}", "--today", TODAY.isoformat()]
    if root is None:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve-floor", str(port)]
    proc = subprocess.Popen(command, cwd=root or ROOT, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"web server ({root}) did not start: {line!r}")
    return proc


async def measured(run: Awaitable[Run], redis: object) -> Run:
    """`run` with Redis's CPU and commands during it."""
    before = await redis_reset(redis)  # type: ignore[arg-type]
    result = await run
    result.redis = await redis_cost(redis, before)  # type: ignore[arg-type]
    result.cpu["Redis"] = result.redis.cpu
    return result


async def round_trips(redis: object, run: Awaitable[Run]) -> float:
    """Commands sent to Redis per turn of `run` (a script once, not the commands it runs), from MONITOR."""
    async with redis.monitor() as monitor:  # type: ignore[attr-defined]
        async def count(sent: int = 0) -> int:
            async for command in monitor.listen():
                if command["command"] == "ECHO round-trips-end":
                    return sent
                sent += command["client_type"] != "lua"
            return sent
        counting = asyncio.create_task(count())
        turns = (await run).turns
        await redis.echo("round-trips-end")  # type: ignore[attr-defined]
        return await counting / turns


def serving_ms(run: Run) -> float:
    """CPU per turn of the process that serves the turn (the core's, or the web server's)."""
    return run.cpu_ms(run.cpu["core (this process)" if run.name == "core" else "server"])


async def append_cost(rt: Runtime, prefix: str, turns: int = 300) -> float:
    """Redis time (µs, commandstats) of one turn's transcript write once a page holds its most entries:
    the real `Transcript.append` (the Lua the commit runs for them) with the core's replies to SCRIPT."""
    sink = CollectingSink()
    service = rt.make_service(sink, clock=lambda: TODAY)
    for n, (text, payload) in enumerate((("/start", None), *SCRIPT)):
        await service.submit(InEvent(PLATFORM, BOT_ID, "long", "long", ChatKind.PRIVATE, f"m-{n}", text, payload,
                                     can_push=False))
    entries = [message_json(m) for _event, messages in sink.delivered for m in messages]
    transcript = Transcript(rt.redis, KeySpace(prefix), rt.store.config.ttl)
    for n in range(MAX_ENTRIES):
        await transcript.append("web:web:long:long", [entries[n % len(entries)]])
    await rt.redis.config_resetstat()
    for n in range(turns):
        user = {"role": "user", "text": SCRIPT[n % len(SCRIPT)][0] or LABEL}
        await transcript.append("web:web:long:long", [user, entries[n % len(entries)]], since=MAX_ENTRIES + 2 * n)
    stats = (await rt.redis.info("commandstats"))["cmdstat_evalsha"]
    return float(stats["usec"]) / int(stats["calls"])


def report(runs: list[Run], names: Sequence[str], cpus: int, concurrency: int, trips: dict[str, float]) -> None:
    def median(name: str, value: Callable[[Run], float]) -> float:
        return statistics.median(value(r) for r in runs if r.name == name)

    bound: dict[str, float] = {}
    for name in names:
        keys = next(r for r in runs if r.name == name).cpu
        cpu = {k: median(name, lambda r, k=k: r.cpu_ms(r.cpu[k])) for k in keys}  # type: ignore[misc]
        bound[name] = cpus * 1000 / (median(name, serving_ms) + cpu["Redis"])
        print(f"{name:12} {median(name, lambda r: r.per_second):5.0f} turns/s   "
              f"p50 {median(name, lambda r: pct(r.latencies, 0.50)):6.2f} ms   "
              f"p99 {median(name, lambda r: pct(r.latencies, 0.99)):6.2f} ms   "
              f"serving process busy {median(name, lambda r: serving_ms(r) * r.per_second / 10):.0f}%")
        print("             CPU per turn: " + ", ".join(f"{k} {v:.2f} ms" for k, v in cpu.items()))
        print(f"             Redis per turn: {median(name, lambda r: r.redis.calls.get('evalsha', 0) / r.turns):.2f} "
              f"scripts (EVALSHA), {median(name, lambda r: sum(r.redis.calls.values()) / r.turns):.1f} commands "
              f"(those run by scripts included), {trips[name]:.2f} round trips (MONITOR)")
    print(f"{cpus}-core bound at the CPU per turn above (serving process + Redis; the web on {cpus} workers): " +
          ", ".join(f"{n} {bound[n]:.0f}" for n in names) + " turns/s")
    for name in names[1:]:
        rate = median("core", lambda r: r.per_second) / median(name, lambda r: r.per_second) - 1
        p50 = median(name, lambda r: pct(r.latencies, 0.5)) / median("core", lambda r: pct(r.latencies, 0.5)) - 1
        cpu_cost = median(name, serving_ms) / median("core", serving_ms) - 1
        print(f"adapter cost, {name} vs core: serving CPU per turn {cpu_cost:+.0%}, {cpus}-core bound "
              f"{bound['core'] / bound[name] - 1:+.0%}; time per turn at {concurrency} visitors at once "
              f"{rate:+.0%}, p50 {p50:+.0%} (goal: under +30%)")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=120, help="visitors per run")
    parser.add_argument("--concurrency", type=int, default=12, help="visitors at once")
    parser.add_argument("--rounds", type=int, default=5)
    first = int((os.environ.get("YB_PORTS") or "18050").split("-")[0])
    parser.add_argument("--port", type=int, default=first, help="the web server's port (baselines: the next ones)")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="pin the code under test to one CPU, Redis and the client to another")
    parser.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the HTTP floor (aiohttp + JSON + the core, nothing else)")
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="append", default=[], metavar="REV|DIR",
                        help="also run the web server as of git revision REV (or from folder DIR), interleaved: "
                             "before/after of a change in the same run; may repeat")
    return parser.parse_args(argv)


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    if args.serve_floor:
        await serve_floor(args.serve_floor)
        return
    roots: dict[str, Path | None] = {"web": ROOT}
    if args.floor:
        roots["http floor"] = None
    for baseline in args.baseline:
        given = Path(baseline)
        roots[f"web@{given.name if given.is_dir() else baseline[:10]}"] = given if given.is_dir() else checkout(baseline)  # noqa: ASYNC240
    machine = len(os.sched_getaffinity(0))  # CPUs this run may use
    cpus = Cpus.split(args.pin)
    servers: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        handle = await open_redis(None, Path(folder))  # this run's own server
        try:
            cpus.pin(int((await handle.client.info("server"))["process_id"]), tested=False)
            for number, (name, root) in enumerate(roots.items()):
                proc = start_server(root, handle.url, f"ybbench{number}", args.port + number)
                servers[name] = (f"http://127.0.0.1:{args.port + number}/", proc)
                cpus.pin(proc.pid, tested=True)
            async with open_runtime(handle.url, key_prefix="ybbench") as rt:
                sink = CountingSink()
                service = rt.make_service(sink, clock=lambda: TODAY)
                cpus.pin(0, tested=False)
                for name, (url, proc) in servers.items():  # warm-up: caches, connections
                    await run_web(name, url, proc.pid, range(0, 24), args.concurrency)
                cpus.pin(0, tested=True)
                await run_core(service, sink, range(0, 24), args.concurrency, "warm")
                runs: list[Run] = []
                for n in range(args.rounds):
                    users = range(n * args.users, (n + 1) * args.users)
                    cpus.pin(0, tested=True)
                    runs.append(await measured(run_core(service, sink, users, args.concurrency, f"r{n}-"), rt.redis))
                    cpus.pin(0, tested=False)
                    order = list(servers)[n % len(servers):] + list(servers)[:n % len(servers)]
                    for name in order:
                        url, proc = servers[name]
                        runs.append(await measured(run_web(name, url, proc.pid, users, args.concurrency), rt.redis))
                    print(f"  round {n + 1}: " + ", ".join(f"{r.name} {r.per_second:.0f}" for r in runs[-1 - len(order):])
                          + " turns/s", file=sys.stderr)
                few, c = range(10**6, 10**6 + 12), args.concurrency  # round trips: a few fresh visitors, untimed
                trips = {"core": await round_trips(rt.redis, run_core(service, sink, few, c, "rt-"))} | {
                    name: await round_trips(rt.redis, run_web(name, url, proc.pid, few, c))
                    for name, (url, proc) in servers.items()}
            pinning = (f"the code under test pinned to CPU {min(cpus.tested)}, Redis and the client to CPU "
                       f"{min(cpus.helpers)}") if cpus.tested and cpus.helpers else "not pinned"
            print(f"web chat vs core: {args.users} visitors x {len(SCRIPT) + 1} turns, {args.concurrency} at once, "
                  f"{args.rounds} alternating rounds (medians); embedded Redis of its own; {machine} CPUs: "
                  f"{pinning}")
            report(runs, ["core", *servers], machine, args.concurrency, trips)
            async with open_runtime(handle.url, key_prefix="ybappend") as rt:
                print(f"Redis time of a turn's transcript write at {MAX_ENTRIES} entries (the most a page keeps): "
                      f"{await append_cost(rt, 'ybappend'):.0f} µs")
        finally:
            for _url, proc in servers.values():
                proc.terminate()
                proc.wait(10)
            await handle.close()


if __name__ == "__main__":
    asyncio.run(main())
