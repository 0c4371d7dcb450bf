"""Several worker PROCESSES submit updates of one conversation at once, against real Redis.

Each process has its own Redis client and ConversationService. Deliveries are logged
to a Redis list (under the test's key prefix) by a sink in each worker, so the test
sees every reply from every process. The dialog is either the deterministic
`ListDialog` test double or the real `flows.dialog.GapDialog`.

What "in order" can mean across processes: submits racing each other have no order
until Redis sees them; the store promises (a) each update applied exactly once, (b)
updates waiting together are applied in update-id order, so (c) updates submitted one
after another (here: by one process) are applied in that order, and (d) replies go
out in the order updates are applied.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import random
import time
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from flows.messages import InEvent, OutMessage
from flows.redis_embed import connect
from flows.service import CollectingSink, ConversationService, SubmitOutcome
from flows.state import ConversationState
from flows.store import ConversationStore, KeySpace, StoreConfig
from flows.turn import Dialog
from tests.conftest import ListDialog, make_event

TODAY = date(2026, 11, 22)
CID = make_event(1).conversation_id
PROCESSES = 4
SPAWN = mp.get_context("spawn")


class _RedisLogSink:
    """Appends "update id, pid, reply texts" to a Redis list for the test to read."""

    def __init__(self, client: Redis, key: str):
        self.client = client
        self.key = key

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        for message in messages:  # "hold:<s>" keeps the drainer (and its lease) busy that long
            if message.text.startswith("got hold:"):
                await asyncio.sleep(float(message.text.removeprefix("got hold:")))
        record = {"u": event.update_id, "pid": os.getpid(), "texts": [m.text for m in messages]}
        await self.client.rpush(self.key, json.dumps(record, ensure_ascii=False))  # type: ignore[misc]


def _make_dialog(name: str) -> Dialog:
    if name == "gap":
        from flows.dialog import GapDialog

        return GapDialog.create()
    return ListDialog()


Jobs = list[tuple[str, str]]


def _worker(url: str, prefix: str, dialog: str, jobs: Jobs, go: Any, ready: Any, lockstep: Any,
            user: str = "42", lease: float = 5.0) -> None:
    """Process entry point: wait for `go`, then submit `jobs` (update id, text) one by one.

    With a `lockstep` barrier, all workers submit their n-th job at the same moment."""
    asyncio.run(_work(url, prefix, dialog, jobs, go, ready, lockstep, user, lease))


async def _work(url: str, prefix: str, dialog: str, jobs: Jobs, go: Any, ready: Any, lockstep: Any,
                user: str, lease: float) -> None:
    client = await connect(url)
    sink = _RedisLogSink(client, f"{prefix}:log")
    # Bursts on purpose (no flood limit); "slow:2" blocks the event loop, renewals included,
    # so the lease must outlast it (5 s unless a test asks for the real one).
    config = StoreConfig(flood_limit=0, lease=timedelta(seconds=lease))
    store = ConversationStore(client, KeySpace(prefix), config)
    service = ConversationService(store, _make_dialog(dialog), sink, lambda: TODAY)
    await client.ping()
    ready.release()
    await asyncio.to_thread(go.wait, 60)
    for update_id, text in jobs:
        if lockstep is not None:
            await asyncio.to_thread(lockstep.wait, 60)
        result = await service.submit(make_event(update_id, text, user=user, chat=user))
        row = {"u": update_id, "pid": os.getpid(), "outcome": str(result.outcome), "n": result.processed}
        await client.rpush(f"{prefix}:results", json.dumps(row))  # type: ignore[misc]
    await client.aclose()


class _Workers:
    """Starts worker processes that wait for a go signal."""

    def __init__(self, url: str, prefix: str, dialog: str, lockstep: int = 0, user: str = "42",
                 lease: float = 5.0):
        self.url, self.prefix, self.dialog, self.user, self.lease = url, prefix, dialog, user, lease
        self.procs: list[Any] = []
        self.ready = SPAWN.Semaphore(0)
        self.lockstep = SPAWN.Barrier(lockstep) if lockstep else None

    def start(self, jobs: Jobs) -> Any:
        go = SPAWN.Event()
        args = (self.url, self.prefix, self.dialog, jobs, go, self.ready, self.lockstep, self.user, self.lease)
        proc = SPAWN.Process(target=_worker, args=args)
        proc.start()
        self.procs.append(proc)
        return go

    async def wait_ready(self) -> None:
        for _ in self.procs:
            assert await asyncio.to_thread(self.ready.acquire, True, 30), "worker did not start"

    async def join(self) -> None:
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 60)
            assert proc.exitcode == 0, f"worker {proc.pid} exited with {proc.exitcode}"

    def kill(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()


async def _read(redis: Redis, prefix: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    log = [json.loads(x) for x in await redis.lrange(f"{prefix}:log", 0, -1)]  # type: ignore[misc]
    results = [json.loads(x) for x in await redis.lrange(f"{prefix}:results", 0, -1)]  # type: ignore[misc]
    return log, results


async def _run(redis_url: str, prefix: str, dialog: str, shares: list[Jobs], lockstep: bool = False,
               user: str = "42") -> None:
    workers = _Workers(redis_url, prefix, dialog, len(shares) if lockstep else 0, user)
    try:
        gos = [workers.start(jobs) for jobs in shares]
        await workers.wait_ready()
        for go in gos:
            go.set()
        await workers.join()
    finally:
        workers.kill()


def _round_robin(jobs: Jobs, n: int = PROCESSES) -> list[Jobs]:
    return [jobs[i::n] for i in range(n)]


def _assert_each_applied_once_in_process_order(
    applied: list[str], shares: list[Jobs], all_ids: list[str]
) -> None:
    assert sorted(applied, key=int) == sorted(all_ids, key=int), "every update exactly once"
    position = {update_id: i for i, update_id in enumerate(applied)}
    for share in shares:
        ids = [update_id for update_id, _ in share]
        assert [position[u] for u in ids] == sorted(position[u] for u in ids), "one process's order kept"


async def test_burst_over_four_processes_is_applied_exactly_once(
    redis_url: str, redis: Redis, keyspace: KeySpace
) -> None:
    jobs = [(str(1000 + i), f"m{1000 + i}") for i in range(50)]
    shares = _round_robin(jobs)
    await _run(redis_url, keyspace.prefix, "list", shares)

    log, results = await _read(redis, keyspace.prefix)
    record = await ConversationStore(redis, keyspace).read(CID)
    applied = [text.removeprefix("m") for text in ConversationState.loads(record.state).slots["seen"]]
    _assert_each_applied_once_in_process_order(applied, shares, [u for u, _ in jobs])
    assert record.version == 50
    # One reply per update, sent in the order the updates were applied.
    assert [row["u"] for row in log] == applied
    assert all(row["texts"] == [f"got m{row['u']}"] for row in log)
    assert sum(row["n"] for row in results) == 50
    assert await redis.exists(keyspace.lease(CID), keyspace.inbox(CID), keyspace.payloads(CID)) == 0


async def test_updates_waiting_together_are_applied_in_update_id_order(
    redis_url: str, redis: Redis, keyspace: KeySpace
) -> None:
    # Process 0 sends update 1, which keeps its drainer busy for a while; meanwhile three
    # processes send updates 2..49 in shuffled order. All of them wait in the inbox
    # together, and must come out sorted by update id - whatever order they arrived in.
    late = [(str(i), f"m{i}") for i in range(2, 50)]
    random.Random(7).shuffle(late)
    shares = _round_robin(late, PROCESSES - 1)
    workers = _Workers(redis_url, keyspace.prefix, "list")
    try:
        first = workers.start([("1", "slow:2")])
        others = [workers.start(share) for share in shares]
        await workers.wait_ready()
        first.set()
        async with asyncio.timeout(30):
            while not await redis.exists(keyspace.lease(CID)):  # noqa: ASYNC110 - polling Redis
                await asyncio.sleep(0.01)
        started = time.monotonic()
        for go in others:
            go.set()
        await workers.join()
    finally:
        workers.kill()

    log, results = await _read(redis, keyspace.prefix)
    late_results = [row for row in results if row["u"] != "1"]
    if any(row["outcome"] != SubmitOutcome.QUEUED for row in late_results):
        waited = time.monotonic() - started
        pytest.fail(f"setup too slow: not every update queued behind the busy drainer ({waited:.1f}s)")
    record = await ConversationStore(redis, keyspace).read(CID)
    expected = ["slow:2", *(f"m{i}" for i in range(2, 50))]
    assert ConversationState.loads(record.state).slots["seen"] == expected
    assert [row["u"] for row in log] == [str(i) for i in range(1, 50)]
    assert [row["n"] for row in results if row["u"] == "1"] == [49]


async def test_same_updates_submitted_by_every_process_are_answered_once(
    redis_url: str, redis: Redis, keyspace: KeySpace
) -> None:
    # Every process submits update n at the same moment (a barrier per round).
    jobs = [(str(i), f"m{i}") for i in range(1, 16)]
    await _run(redis_url, keyspace.prefix, "list", [list(jobs) for _ in range(PROCESSES)], lockstep=True)

    log, results = await _read(redis, keyspace.prefix)
    assert sorted((row["u"] for row in log), key=int) == [u for u, _ in jobs]  # one reply each
    record = await ConversationStore(redis, keyspace).read(CID)
    assert sorted(ConversationState.loads(record.state).slots["seen"], key=lambda t: int(t[1:])) == [
        t for _, t in jobs
    ]
    assert record.version == len(jobs)
    outcomes = [row["outcome"] for row in results]
    assert outcomes.count(SubmitOutcome.DUPLICATE) == len(jobs) * (PROCESSES - 1)
    assert sum(row["n"] for row in results) == len(jobs)


GAP_SCRIPT = [
    "/start",
    "我在乌鲁木齐",
    "灵活就业",
    "断了4个月",
    "每月基数4000",
    "还能补吗",
    "要交多少钱",
    "什么时候能报销",
    "我在宁波上班，单位交的医保断了2个月",
    "单位的原因",
    "我的手机13812345678",
    "谢谢",
]


async def test_real_dialog_burst_over_four_processes(
    redis_url: str, redis: Redis, keyspace: KeySpace
) -> None:
    pytest.importorskip("flows.dialog")
    from flows.dialog import GapDialog

    jobs = [(str(500 + i), text) for i, text in enumerate(GAP_SCRIPT * 3)]
    shares = _round_robin(jobs)
    await _run(redis_url, keyspace.prefix, "gap", shares)

    log, results = await _read(redis, keyspace.prefix)
    applied = [row["u"] for row in log]
    _assert_each_applied_once_in_process_order(applied, shares, [u for u, _ in jobs])
    record = await ConversationStore(redis, keyspace).read(CID)
    assert record.version == len(jobs)
    assert sum(row["n"] for row in results) == len(jobs)
    assert "13812345678" not in json.dumps(log, ensure_ascii=False)

    # Replaying the applied order through the dialog in one process gives the same state
    # and the same replies: nothing was lost, doubled or applied to a stale state.
    dialog = GapDialog.create()
    text_of = dict(jobs)
    raw: bytes | None = None
    for row in log:
        event = make_event(row["u"], text_of[row["u"]].replace("13812345678", "［已隐去的手机号］"))
        turn = dialog.step(ConversationState.loads(raw), event, TODAY)
        raw = turn.state.dumps() if turn.state is not None else None
        assert row["texts"] == [m.text for m in turn.messages]
    assert raw == record.state


async def test_real_dialog_duplicate_submissions_are_answered_once(
    redis_url: str, redis: Redis, keyspace: KeySpace
) -> None:
    pytest.importorskip("flows.dialog")
    jobs = [(str(700 + i), text) for i, text in enumerate(GAP_SCRIPT)]
    await _run(redis_url, keyspace.prefix, "gap", [list(jobs) for _ in range(PROCESSES)], lockstep=True)

    log, _ = await _read(redis, keyspace.prefix)
    assert sorted(row["u"] for row in log) == [u for u, _ in jobs]
    assert (await ConversationStore(redis, keyspace).read(CID)).version == len(jobs)


async def test_a_killed_drainer_holds_its_user_up_about_a_second(
    redis_url: str, redis: Redis, keyspace: KeySpace
) -> None:
    # Worker A takes update 1 and is SIGKILLed while sending its reply (lease held, renewed).
    # The user's next message reaches this process, which watches the lease and runs `recover`
    # as the bot's workers do: both updates are answered soon after the death.
    lease = StoreConfig().lease.total_seconds()
    workers = _Workers(redis_url, keyspace.prefix, "list", lease=lease)
    try:
        go = workers.start([("1", "hold:30")])
        await workers.wait_ready()
        go.set()
        async with asyncio.timeout(30):
            while await redis.zcard(keyspace.inbox(CID)) == 0 or not await redis.exists(keyspace.lease(CID)):  # noqa: ASYNC110 - polling Redis
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.4)  # into the held reply: the lease has been renewed
        workers.kill()
        died = time.monotonic()
    finally:
        workers.kill()
    sink = CollectingSink()
    service = ConversationService(ConversationStore(redis, keyspace), ListDialog(), sink, lambda: TODAY)
    assert (await service.submit(make_event(2, "next"))).outcome is SubmitOutcome.QUEUED
    async with asyncio.timeout(10):
        while len(sink.delivered) < 2:
            await service.recover()
            await asyncio.sleep(0.5)
    waited = time.monotonic() - died
    print(f"answered {waited:.2f}s after the drainer's death")
    record = await ConversationStore(redis, keyspace).read(CID)
    assert ConversationState.loads(record.state).slots["seen"] == ["hold:30", "next"]
    assert [m.text for _, messages in sink.delivered for m in messages] == ["got hold:30", "got next"]
    assert waited < 5  # the lease (1.6 s) runs out, then the queued update's worker takes over
