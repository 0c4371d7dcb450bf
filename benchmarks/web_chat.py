"""Web chat turns per second and latency through the JSON API, beside the core's own figure.

    .venv/bin/python benchmarks/web_chat.py [--users 120] [--concurrency 12] [--rounds 3]

* web: `python -m bot web`'s application (bot.web.server.running_web) in a child process;
  simulated visitors in this process POST /api/start, then each message of SCRIPT (typed
  text and one button) to /api/message, one at a time per visitor, each reply awaited
  (the response carries it). Cookie session, rate limit, transcript and JSON included.
* core: the same visitors and messages submitted straight to `ConversationService.submit`
  (same GapDialog, same Redis, replies dropped by a null sink), in this process.
* core+transcript: the same, with the web's sink (each turn's entries written to the page's
  transcript in Redis): the part of the adapter's cost that is not HTTP, cookies or the rate limit.

Rounds are interleaved (core, web, core, web, ...) and medians reported, so a noisy moment on
this shared 2-core machine hits both alike. CPU seconds are given per process: the web run
has the server and the client (load generator) competing for the same two cores.
Uses REDIS_URL when set, else an embedded Redis in a temporary folder; every key is
written under a fresh prefix and deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.turns import RunResult  # noqa: E402

from bot.runtime import open_runtime  # noqa: E402
from bot.web.transcript import Transcript, TranscriptSink  # noqa: E402
from flows.messages import ChatKind, InEvent, OutMessage  # noqa: E402
from flows.redis_embed import open_redis  # noqa: E402
from tests.conftest import delete_prefixed  # noqa: E402

TODAY = date(2026, 11, 22)
# (text, button payload): every turn is answered by the core; the button is the type choice.
SCRIPT: tuple[tuple[str | None, str | None], ...] = (
    ("我在乌鲁木齐", None), (None, "t:flexible"), ("断了4个月", None), ("要交多少钱", None),
    ("什么时候能报销", None), ("谢谢", None),
)
JSON = {"Content-Type": "application/json"}


class NullSink:
    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        return None


@dataclass
class Run(RunResult):
    """One timed run, with the CPU seconds each process spent in it."""

    cpu: dict[str, float] = field(default_factory=dict)


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def run_core(service: object, users: range, concurrency: int, tag: str, name: str = "core") -> Run:
    submit = service.submit  # type: ignore[attr-defined]

    def event(user: int, seq: str, text: str | None, payload: str | None = None) -> InEvent:
        return InEvent("web", "bench", f"{tag}{user}", f"{tag}{user}", ChatKind.PRIVATE, f"m-{seq}", text, payload)

    async def start(user: int) -> None:
        await submit(event(user, "start", "/start"))

    async def turn(user: int, seq: int, text: str | None, payload: str | None) -> None:
        await submit(event(user, str(seq), text, payload))

    cpu = time.process_time()
    seconds, latencies = await drive(users, concurrency, start, turn)
    return Run(name, len(latencies), seconds, latencies, 0, {"this process": time.process_time() - cpu})


async def run_web(url: str, server_pid: int, users: range, concurrency: int) -> Run:
    cookies: dict[int, str] = {}
    seen: dict[int, int] = {}  # the last entry number each visitor's page has
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:

        async def call(user: int, path: str, body: bytes) -> None:
            headers = {**JSON, "Cookie": cookies[user]} if user in cookies else JSON
            async with http.post(url + path, data=body, headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"{path} answered {resp.status}: {await resp.text()}")
                data = await resp.json()
                if not any(e["role"] == "bot" for e in data["entries"]):
                    raise RuntimeError(f"{path}: no reply")
                seen[user] = data["seq"]
                morsel = resp.cookies.get("yb_session")
                if morsel is not None:
                    cookies[user] = f"yb_session={morsel.value}"

        async def start(user: int) -> None:
            await call(user, "api/start", b"{}")

        async def turn(user: int, seq: int, text: str | None, payload: str | None) -> None:
            body: dict[str, object] = {"text": text} if text is not None else {"payload": payload, "label": "灵活就业（自己交）"}
            body["since"] = seen[user]  # as the page does: only the new entries come back
            await call(user, "api/message", orjson.dumps(body))

        server_cpu, cpu = cpu_of(server_pid), time.process_time()
        seconds, latencies = await drive(users, concurrency, start, turn)
        used = {"server": cpu_of(server_pid) - server_cpu, "client (this process)": time.process_time() - cpu}
    return Run("web", len(latencies), seconds, latencies, 0, used)


def start_server(redis_url: str, prefix: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix, "WEB_RATE_LIMIT": "1000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--listen", f"127.0.0.1:{port}", "--today", TODAY.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"web server did not start: {line!r}")
    return proc


def report(runs: list[Run]) -> None:
    for name in ("core", "core+transcript", "web"):
        mine = [r for r in runs if r.name == name]
        rate = statistics.median(r.per_second for r in mine)
        p50 = statistics.median(r.pct(0.50) for r in mine)
        p99 = statistics.median(r.pct(0.99) for r in mine)
        cpu = {k: statistics.median(r.cpu[k] / r.turns * 1000 for r in mine) for k in mine[0].cpu}
        cpu_text = ", ".join(f"{k} {v:.2f} ms" for k, v in cpu.items())
        print(f"{name:15} {rate:6.0f} turns/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   CPU per turn: {cpu_text}")
    core = statistics.median(r.per_second for r in runs if r.name == "core")
    web = statistics.median(r.per_second for r in runs if r.name == "web")
    core_p50 = statistics.median(r.pct(0.5) for r in runs if r.name == "core")
    web_p50 = statistics.median(r.pct(0.5) for r in runs if r.name == "web")
    print(f"adapter cost: throughput {core / web - 1:+.0%} time per turn, p50 {web_p50 / core_p50 - 1:+.0%} "
          f"(goal: under +30%)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=18050)
    args = parser.parse_args()
    prefix = f"ybbench:{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        handle = await open_redis(os.environ.get("REDIS_URL") or None, Path(folder))
        server = start_server(handle.url, prefix, args.port)
        try:
            async with open_runtime(handle.url, key_prefix=prefix) as rt:
                service = rt.make_service(NullSink(), clock=lambda: TODAY)
                transcript = Transcript(rt.redis, rt.store.keys, rt.store.config.ttl)
                logged = rt.make_service(TranscriptSink(transcript), clock=lambda: TODAY)
                url = f"http://127.0.0.1:{args.port}/"
                await run_web(url, server.pid, range(0, 2), 2)  # warm-up: caches, connections
                await run_core(service, range(0, 2), 2, "warm")
                runs: list[Run] = []
                for n in range(args.rounds):
                    users = range(n * args.users, (n + 1) * args.users)
                    runs.append(await run_core(service, users, args.concurrency, f"r{n}-"))
                    runs.append(await run_core(logged, users, args.concurrency, f"t{n}-", "core+transcript"))
                    runs.append(await run_web(url, server.pid, users, args.concurrency))
            print(f"web chat vs core: {args.users} visitors x {len(SCRIPT) + 1} turns, {args.concurrency} at once, "
                  f"{args.rounds} interleaved rounds (medians); Redis {'REDIS_URL' if os.environ.get('REDIS_URL') else 'embedded'}; "
                  f"{os.cpu_count()} CPUs shared by the server, the client and Redis")
            report(runs)
        finally:
            server.terminate()
            server.wait(10)
            await delete_prefixed(handle.client, prefix)
            await handle.close()


if __name__ == "__main__":
    asyncio.run(main())
