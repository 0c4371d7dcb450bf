"""ConversationStore under redelivery, dead drainers and floods, against real Redis."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from redis.asyncio import Redis

from flows.store import (
    KEEP,
    CommitStatus,
    ConversationLog,
    ConversationStore,
    KeySpace,
    LogAppend,
    LogEntry,
    StoreConfig,
    SubmitStatus,
    encode_event,
)
from tests.conftest import make_event

CID = make_event(1).conversation_id


async def _submit(store: ConversationStore, update_id: int | str, *, user: str = "42", jump: bool = False):
    event = make_event(update_id, f"m{update_id}", user=user, chat=user)
    return await store.submit(event.conversation_id, event.update_id, encode_event(event), jump=jump)


async def _apply(store: ConversationStore, update_id: int | str) -> None:
    submitted = await _submit(store, update_id)
    assert submitted.status is SubmitStatus.LEASED and submitted.lease is not None
    while submitted.lease.item is not None:
        assert await store.commit(submitted.lease, KEEP) is CommitStatus.COMMITTED


async def test_redelivery_is_refused_at_any_distance_for_a_bounded_cost(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(recent_ids=4))
    first = 1_000_000_000
    for update_id in range(first, first + 60, 3):  # a busy bot: other chats' ids in between
        await _apply(store, update_id)
    for update_id in range(first, first + 60, 3):
        assert (await _submit(store, update_id)).status is SubmitStatus.DUPLICATE, update_id
    record = await store.read(CID)
    assert record.version == 20
    assert len(record.recent_ids) == 4 and record.floor == str(first + 3 * 15)
    header = (await redis.get(keyspace.state(CID)) or b"").split(b"\n")[0]
    assert len(header) < 80  # the same after 20 updates as after 20,000


async def test_listed_ids_retire_into_the_floor_after_the_seen_window(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(seen_window=timedelta(seconds=1)))
    for update_id in (101, 103, 102):
        await _apply(store, update_id)
    await asyncio.sleep(2.05)  # two windows: both generations retire at the next commit
    await _apply(store, 110)
    record = await store.read(CID)
    assert (record.floor, record.recent_ids) == ("103", ("110",))
    for update_id in (101, 102, 103, 110):
        assert (await _submit(store, update_id)).status is SubmitStatus.DUPLICATE
    assert (await _submit(store, 109)).status is SubmitStatus.LEASED  # late, but within the window


async def test_late_first_arrival_within_the_window_is_applied_once(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(recent_ids=4))
    for update_id in (10, 12, 13):
        await _apply(store, update_id)
    await _apply(store, 11)  # delivered late (e.g. its first delivery failed), never seen before
    for update_id in (10, 11, 12, 13):
        assert (await _submit(store, update_id)).status is SubmitStatus.DUPLICATE
    assert (await store.read(CID)).version == 4


async def test_ids_longer_than_a_double_compare_exactly(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(recent_ids=1))
    big = 12345678901234567890
    for update_id in (big, big + 1, big + 2):
        await _apply(store, update_id)
    assert (await store.read(CID)).floor == str(big + 1)
    assert (await _submit(store, big + 1)).status is SubmitStatus.DUPLICATE
    assert (await _submit(store, big + 3)).status is SubmitStatus.LEASED


async def test_other_ids_are_remembered_first_in_first_out(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(recent_ids=2))
    for update_id in ("web-b", "web-a", "web-c"):
        await _apply(store, update_id)
    record = await store.read(CID)
    assert (record.recent_ids, record.floor) == (("web-a", "web-c"), "")
    assert (await _submit(store, "web-c")).status is SubmitStatus.DUPLICATE


async def test_redelivery_of_a_waiting_update_takes_over_from_a_dead_drainer(
    redis: Redis, keyspace: KeySpace
) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(lease=timedelta(milliseconds=100)))
    dead = (await _submit(store, 1)).lease  # this drainer dies without committing
    assert dead is not None
    assert (await _submit(store, 1)).status is SubmitStatus.DUPLICATE  # its lease still lives
    await asyncio.sleep(0.15)
    taken = await _submit(store, 1)
    assert taken.status is SubmitStatus.LEASED and taken.lease is not None
    assert taken.lease.item is not None and taken.lease.item.update_id == "1"
    assert await store.commit(dead, KEEP) is CommitStatus.LOST_LEASE
    assert await store.commit(taken.lease, KEEP) is CommitStatus.COMMITTED
    assert (await store.read(CID)).version == 1


async def test_renewed_lease_outlives_its_period_and_release_frees_it(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(lease=timedelta(milliseconds=150)))
    lease = (await _submit(store, 1)).lease
    assert lease is not None
    for _ in range(4):
        await asyncio.sleep(0.08)
        assert await store.renew(lease)
    assert (await _submit(store, 2)).status is SubmitStatus.QUEUED  # still held after 320 ms
    assert await store.release(lease) and lease.item is None
    assert not await store.renew(lease)
    taken = await _submit(store, 1)  # the waiting update is handed to the next caller at once
    assert taken.status is SubmitStatus.LEASED and taken.lease is not None
    assert taken.lease.item is not None and taken.lease.item.update_id == "1"


async def test_flood_gets_one_notice_then_drops_and_cancel_jumps_the_queue(
    redis: Redis, keyspace: KeySpace
) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(flood_limit=5, flood_window=timedelta(seconds=1)))
    lease = (await _submit(store, 100)).lease
    submitted = [await _submit(store, 100 + i) for i in range(1, 9)]
    assert [s.status for s in submitted] == [SubmitStatus.QUEUED] * 4 + [SubmitStatus.FLOODED] + [SubmitStatus.DROPPED] * 3
    assert all(0 <= s.retry_after <= 1 for s in submitted[4:])  # the time the window has left
    assert (await _submit(store, 200, jump=True)).status is SubmitStatus.QUEUED  # /cancel: never limited
    assert (await _submit(store, 7, user="43")).status is SubmitStatus.LEASED  # another user is unaffected
    assert lease is not None and lease.item is not None
    order = []
    while lease.item is not None:
        order.append(lease.item.update_id)
        await store.commit(lease, KEEP)
    assert order == ["100", "200", "101", "102", "103", "104"]
    await asyncio.sleep(1.05)  # the window passed
    assert (await _submit(store, 300)).status is SubmitStatus.LEASED


async def test_a_drainer_that_stalled_past_its_lease_still_commits_if_nobody_took_over(
    redis: Redis, keyspace: KeySpace
) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(lease=timedelta(milliseconds=100)))
    lease = (await _submit(store, 1)).lease
    assert lease is not None
    await _submit(store, 2)
    await asyncio.sleep(0.15)  # a slow turn: the lease expired, but no one else drains
    assert await store.commit(lease, KEEP) is CommitStatus.COMMITTED
    assert lease.item is not None and lease.item.update_id == "2"
    assert (await _submit(store, 3)).status is SubmitStatus.QUEUED  # held again for update 2
    assert await store.commit(lease, KEEP) is CommitStatus.COMMITTED
    assert await store.commit(lease, KEEP) is CommitStatus.COMMITTED
    assert lease.item is None and (await store.read(CID)).version == 3


async def test_a_log_is_written_only_by_the_commit_that_applies_its_update(redis: Redis, keyspace: KeySpace) -> None:
    """A turn's log entries (the web page's transcript) land with its state: a drainer that lost
    its lease, or whose version moved, writes none; the one that took over writes them once."""
    log = ConversationLog("tl", "tc", keep=3)
    store = ConversationStore(redis, keyspace, StoreConfig(lease=timedelta(milliseconds=100), ttl=timedelta(hours=1)))
    dead = (await _submit(store, 1)).lease
    await asyncio.sleep(0.15)  # the drainer stalls past its lease...
    taken = (await _submit(store, 1)).lease  # ...and a redelivery takes over
    assert dead is not None and taken is not None
    assert await store.commit(dead, KEEP, LogAppend(log, (b"dead",), since=0)) is CommitStatus.LOST_LEASE
    assert await store.logs.since(CID, log, 0) == [] and dead.logged == []
    await _submit(store, 2)
    assert await store.commit(taken, KEEP, LogAppend(log, (b"a1", b"a2"), since=0)) is CommitStatus.COMMITTED
    assert taken.logged == [LogEntry(1, b"a1"), LogEntry(2, b"a2")]
    assert taken.item is not None and taken.item.update_id == "2"
    taken.version -= 1  # as if another commit had moved the record meanwhile
    assert await store.commit(taken, KEEP, LogAppend(log, (b"stale",), since=0)) is CommitStatus.STALE_VERSION
    taken.version += 1
    assert await store.commit(taken, KEEP, LogAppend(log, (b"b1", b"b2"), since=1)) is CommitStatus.COMMITTED
    assert taken.logged == [LogEntry(2, b"a2"), LogEntry(3, b"b1"), LogEntry(4, b"b2")] and taken.item is None
    assert (await _submit(store, 1)).status is SubmitStatus.DUPLICATE  # a replay writes nothing more
    assert [e.data for e in await store.logs.since(CID, log, 0)] == [b"a2", b"b1", b"b2"]  # the last 3 kept
    restart = (await _submit(store, 3)).lease  # "重新开始": emptied in the same write, numbers go on
    assert restart is not None
    assert await store.commit(restart, KEEP, LogAppend(log, (b"c",), since=2, clear=True)) is CommitStatus.COMMITTED
    assert restart.logged == [LogEntry(5, b"c")] == await store.logs.since(CID, log, 0)
    for key in log.keys(keyspace, CID):  # kept as long as the conversation
        assert 3_500_000 < await redis.pttl(key) <= 3_600_000
