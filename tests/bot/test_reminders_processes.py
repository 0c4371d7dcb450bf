"""Reminders across real processes: `python -m bot reminders send-due|list` copies racing each
other, one killed with SIGKILL mid-batch, and a Redis server restarted from its AOF file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.reminders.config import DispatchConfig
from flows.reminders_store import ReminderStore
from flows.reminders_time import CHINA, SetClock
from flows.store import KeySpace
from tests.bot.conftest import PROCESS_START_S
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.reminders_support import START, add_many, dispatcher_on, per_chat, reminder

FAST = {"OUTBOUND_GLOBAL_PER_SECOND": "20000", "OUTBOUND_CHAT_PER_SECOND": "200", "OUTBOUND_CHAT_BURST": "50"}


def _env(api: FakeBotApi, redis_url: str, prefix: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTBOUND_", "REMINDERS", "TELEGRAM_"))}
    env.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE=api.base, REDIS_URL=redis_url,
               REDIS_KEY_PREFIX=prefix, **extra)
    return env


async def _start(args: list[str], env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "reminders", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _finish(proc: asyncio.subprocess.Process, within: float = 90) -> str:
    out, err = await asyncio.wait_for(proc.communicate(), within)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode().strip()


def _counts(line: str) -> dict[str, int]:
    return {k: int(v) for k, v in (part.split("=") for part in line.split())}


async def test_three_dispatcher_processes_send_each_of_10000_exactly_once(
    bot_api: FakeBotApi, redis: Redis, redis_url: str, keyspace: KeySpace, tmp_path: Path
) -> None:
    store = ReminderStore(redis, keyspace)
    chats = range(2_000_000, 2_010_000)
    await add_many(store, [reminder(chat, START - timedelta(minutes=chat % 50)) for chat in chats])
    env = _env(bot_api, redis_url, keyspace.prefix, **FAST)
    now = ["--now", START.isoformat()]
    procs = [await _start(["send-due", "--framework", fw, *now], env, tmp_path) for fw in ("aiogram", "ptb", "aiogram")]
    lines = [await _finish(p, within=180) for p in procs]
    counts = [_counts(line) for line in lines]
    assert sum(c["sent"] for c in counts) == 10_000, lines
    assert all(c["sent"] > 0 for c in counts), lines  # all three took part
    assert sum(c["failed"] + c["dropped"] + c["late"] for c in counts) == 0
    delivered = per_chat(bot_api)
    assert len(delivered) == 10_000 and set(delivered.values()) == {1}
    assert set(delivered) == set(chats)
    listing = await _finish(await _start(["list", "--due-before", START.isoformat()], env, tmp_path))
    assert listing.splitlines()[0].startswith("due=0 ")


async def test_a_dispatcher_killed_mid_batch_has_its_claims_sent_by_another_within_the_lease(
    bot_api: FakeBotApi, redis: Redis, redis_url: str, keyspace: KeySpace, tmp_path: Path
) -> None:
    store = ReminderStore(redis, keyspace)
    chats = range(3_000_000, 3_000_200)
    await add_many(store, [reminder(chat, START) for chat in chats])
    lease = 3.0
    # A slow victim: 20 messages a second, so it is surely mid-batch when killed.
    slow = _env(bot_api, redis_url, keyspace.prefix, OUTBOUND_GLOBAL_PER_SECOND="20",
                REMINDERS_LEASE=str(lease))
    victim = await _start(["send-due", "--now", START.isoformat()], slow, tmp_path)
    await bot_api.wait_for(lambda: len(bot_api.sent()) >= 30, within=PROCESS_START_S)
    victim.send_signal(signal.SIGKILL)
    await victim.wait()
    killed_at = time.monotonic()
    claimed = await _claimed(store, keyspace)
    assert claimed > 0  # it died holding claims
    # Another dispatcher (in this process) sends everything left, the dead one's claims included.
    clock = SetClock(START)
    async with dispatcher_on(bot_api, redis, keyspace, clock, lease=timedelta(seconds=lease), **_fast()) as other:
        while len(per_chat(bot_api)) < len(chats):
            assert time.monotonic() - killed_at < lease + 5, f"{len(per_chat(bot_api))} of {len(chats)}"
            await other.run_pass()
            await asyncio.sleep(0.2)
    delivered = per_chat(bot_api)
    assert set(delivered) == set(chats)
    twice = [chat for chat, n in delivered.items() if n > 1]
    # Only a send in flight at the kill (Telegram accepted, marker not yet written) can repeat.
    assert len(twice) <= DispatchConfig().in_flight, twice


async def _claimed(store: ReminderStore, keyspace: KeySpace) -> int:
    total = 0
    async for key in store.redis.scan_iter(match=f"{keyspace.prefix}:*:rc:*"):
        total += await store.redis.hlen(key)  # type: ignore[misc]
    return total


def _fast() -> dict[str, object]:
    return {"outbound_global_per_second": 20000, "outbound_chat_per_second": 200, "outbound_chat_burst": 50}


@pytest.fixture
async def aof_redis(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """Start/stop control over an own redis-server with AOF on (every write fsynced)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = tmp_path / "aof"
    folder.mkdir()
    yield f"redis://127.0.0.1:{port}", folder


async def _redis_server(url: str, folder: Path) -> asyncio.subprocess.Process:
    port = url.rsplit(":", 1)[1]
    proc = await asyncio.create_subprocess_exec(
        "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", str(folder), "--appendonly", "yes",
        "--appendfsync", "always", "--save", "", stdout=asyncio.subprocess.DEVNULL)
    client = Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                await client.ping()
                return proc
            except (ConnectionError, OSError, Exception):
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    raise AssertionError("redis-server did not start")


async def test_reminders_survive_a_redis_restart_from_aof(
    bot_api: FakeBotApi, aof_redis: tuple[str, Path]
) -> None:
    url, folder = aof_redis
    keyspace = KeySpace("ybt:aof")
    server = await _redis_server(url, folder)
    client = Redis.from_url(url)
    try:
        store = ReminderStore(client, keyspace)
        await add_many(store, [reminder(4_000_000 + i, START + timedelta(days=i % 3)) for i in range(300)])
    finally:
        await client.aclose()
        server.kill()  # no SHUTDOWN, no save: only the append-only file remains
        await server.wait()
    server = await _redis_server(url, folder)
    client = Redis.from_url(url)
    try:
        clock = SetClock(START + timedelta(days=2), running=False)
        async with dispatcher_on(bot_api, client, keyspace, clock, **_fast()) as dispatcher:
            counts = await dispatcher.run_pass()
        assert (counts.sent, counts.failed) == (300, 0)
        assert set(per_chat(bot_api).values()) == {1} and len(per_chat(bot_api)) == 300
    finally:
        await client.aclose()
        server.terminate()
        await server.wait()


async def test_list_shows_counts_and_times_without_personal_data(
    redis: Redis, redis_url: str, keyspace: KeySpace, bot_api: FakeBotApi, tmp_path: Path
) -> None:
    store = ReminderStore(redis, keyspace)
    await store.add(reminder(5_550_001, START, arg="交医保"))
    await store.add(reminder(5_550_002, START + timedelta(days=1)))
    out = await _finish(await _start(["list", "--due-before", (START + timedelta(hours=1)).isoformat()],
                                     _env(bot_api, redis_url, keyspace.prefix), tmp_path))
    first, second = out.splitlines()
    assert first == f"due=1 before={(START + timedelta(hours=1)).astimezone(CHINA).isoformat()}"
    assert second == f"next={START.isoformat()} {(START + timedelta(days=1)).isoformat()}"
    assert "5550001" not in out and "交医保" not in out
