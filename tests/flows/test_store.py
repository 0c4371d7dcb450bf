"""ConversationStore against real Redis: round trip, TTLs, CAS, duplicates, ordering, forgetting."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from flows.state import ConversationState
from flows.store import (
    KEEP,
    AcquireStatus,
    CommitStatus,
    ConversationStore,
    KeySpace,
    StoreConfig,
    SubmitStatus,
    decode_event,
    encode_event,
    unpack_state,
)
from flows.store.lua import LuaScript
from tests.conftest import make_event

CID = make_event(1).conversation_id


async def _submit(store: ConversationStore, update_id: int | str, text: str = "hi"):
    event = make_event(update_id, text)
    return await store.submit(event.conversation_id, event.update_id, encode_event(event))


def _state(*seen: str) -> bytes:
    return ConversationState(step="ask", slots={"seen": list(seen)}).dumps()


async def test_key_layout_shares_one_hash_tag(keyspace: KeySpace) -> None:
    keys = keyspace.all_of(CID)
    assert keys[0] == f"{keyspace.prefix}:{{telegram:bot1:42:-:42}}:st"
    assert {key.split("{", 1)[1].split("}", 1)[0] for key in keys} == {CID}


async def test_round_trip(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace)
    submitted = await _submit(store, 7, "第一句")
    assert submitted.status is SubmitStatus.LEASED
    lease = submitted.lease
    assert lease is not None and lease.item is not None
    assert (lease.version, lease.state, lease.item.update_id) == (0, None, "7")
    assert decode_event(lease.item.payload or b"") == make_event(7, "第一句")

    assert await store.commit(lease, _state("第一句")) is CommitStatus.COMMITTED
    assert lease.item is None  # inbox drained, lease released in the same script
    record = await store.read(CID)
    assert ConversationState.loads(record.state).slots == {"seen": ["第一句"]}
    assert (record.version, record.recent_ids) == (1, ("7",))
    # Steady state: only the record is left: "<version> <seen ids>\n<packed state>",
    # and, until the flood window passes, its counter.
    assert await store.existing_keys(CID) == [keyspace.state(CID), keyspace.flood(CID)]
    assert 0 < await redis.pttl(keyspace.flood(CID)) <= 30_000
    raw = await redis.get(keyspace.state(CID))
    assert raw is not None and raw.startswith(b"1 @") and b" | 7\n" in raw
    assert unpack_state(raw.split(b"\n", 1)[1]) == _state("第一句")


async def test_second_submit_is_queued_and_handed_over_by_commit(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace)
    first = await _submit(store, 1, "a")
    assert (await _submit(store, 2, "b")).status is SubmitStatus.QUEUED
    lease = first.lease
    assert lease is not None
    assert await store.commit(lease, _state("a")) is CommitStatus.COMMITTED
    assert lease.item is not None and lease.item.update_id == "2"
    assert lease.state == _state("a") and lease.version == 1
    assert await store.commit(lease, _state("a", "b")) is CommitStatus.COMMITTED
    assert lease.item is None
    assert await redis.exists(keyspace.lease(CID), keyspace.inbox(CID), keyspace.payloads(CID)) == 0


async def test_numeric_ids_are_drained_in_id_order_whatever_the_arrival(
    redis: Redis, keyspace: KeySpace
) -> None:
    store = ConversationStore(redis, keyspace)
    lease = (await _submit(store, 100)).lease
    for update_id in (105, 101, 103, 102, 104):
        assert (await _submit(store, update_id)).status is SubmitStatus.QUEUED
    assert lease is not None
    order = []
    while lease.item is not None:
        order.append(lease.item.update_id)
        assert await store.commit(lease, KEEP) is CommitStatus.COMMITTED
    assert order == ["100", "101", "102", "103", "104", "105"]


async def test_non_numeric_ids_are_drained_in_arrival_order(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace)
    ids = ["web-c", "web-a", "web-b", "web-0"]
    lease = (await _submit(store, ids[0])).lease
    for update_id in ids[1:]:
        await _submit(store, update_id)
    assert lease is not None
    order = []
    while lease.item is not None:
        order.append(lease.item.update_id)
        await store.commit(lease, KEEP)
    assert order == ids


async def test_repeated_update_id_is_dropped_while_waiting_and_after_processing(
    redis: Redis, keyspace: KeySpace
) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(recent_ids=3))
    lease = (await _submit(store, 1)).lease
    assert (await _submit(store, 1)).status is SubmitStatus.DUPLICATE  # in flight
    assert (await _submit(store, 2)).status is SubmitStatus.QUEUED
    assert (await _submit(store, 2)).status is SubmitStatus.DUPLICATE  # waiting
    assert lease is not None
    while lease.item is not None:
        await store.commit(lease, KEEP)
    assert (await _submit(store, 1)).status is SubmitStatus.DUPLICATE  # processed
    assert (await _submit(store, 2)).status is SubmitStatus.DUPLICATE
    # The seen-ids window is bounded (memory); it keeps the last `recent_ids`.
    for update_id in (3, 4, 5):
        lease = (await _submit(store, update_id)).lease
        assert lease is not None
        await store.commit(lease, KEEP)
    assert (await store.read(CID)).recent_ids == ("3", "4", "5")


async def test_ttl_refresh_covers_every_key_of_the_conversation(redis: Redis, keyspace: KeySpace) -> None:
    ttl = timedelta(seconds=1000)
    store = ConversationStore(redis, keyspace, StoreConfig(ttl=ttl))
    lease = (await _submit(store, 1)).lease
    assert lease is not None
    await store.commit(lease, _state("x"))
    # Age the record and add a reminders hash that would expire earlier.
    await redis.pexpire(keyspace.state(CID), 5_000)
    await redis.hset(keyspace.reminders(CID), "window_closing", "{}")
    await redis.pexpire(keyspace.reminders(CID), 5_000)

    lease = (await _submit(store, 2)).lease
    assert lease is not None
    await _submit(store, 3)  # queued behind 2: the inbox keys exist meanwhile
    for key in (keyspace.inbox(CID), keyspace.payloads(CID)):
        assert 990_000 < await redis.pttl(key) <= 1_000_000
    assert 0 < await redis.pttl(keyspace.lease(CID)) <= 30_000
    await store.commit(lease, _state("x", "y"))
    for key in (keyspace.state(CID), keyspace.reminders(CID), keyspace.inbox(CID), keyspace.payloads(CID)):
        assert 990_000 < await redis.pttl(key) <= 1_000_000, key
    await store.commit(lease, KEEP)
    # Refresh never shortens a reminder hash that must outlive the conversation.
    await redis.pexpire(keyspace.reminders(CID), 5_000_000)
    lease = (await _submit(store, 4)).lease
    assert lease is not None
    await store.commit(lease, KEEP)
    assert await redis.pttl(keyspace.reminders(CID)) > 4_000_000
    assert 990_000 < await redis.pttl(keyspace.state(CID)) <= 1_000_000


async def test_zombie_drainer_is_refused_after_its_lease_expired(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(lease=timedelta(milliseconds=150)))
    zombie = (await _submit(store, 1, "a")).lease
    assert zombie is not None
    await asyncio.sleep(0.3)  # the drainer stalls past its lease...
    taken = await _submit(store, 2, "b")  # ...so the next submit takes over, starting at update 1
    assert taken.status is SubmitStatus.LEASED and taken.lease is not None
    successor = taken.lease
    assert successor.item is not None and successor.item.update_id == "1"
    assert await store.commit(successor, _state("a")) is CommitStatus.COMMITTED

    assert await store.commit(zombie, _state("zombie")) is CommitStatus.LOST_LEASE
    assert await store.commit(successor, _state("a", "b")) is CommitStatus.COMMITTED
    record = await store.read(CID)
    assert ConversationState.loads(record.state).slots["seen"] == ["a", "b"]
    assert record.version == 2


async def test_version_cas_rejects_a_writer_whose_record_moved(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace)
    lease = (await _submit(store, 1)).lease
    assert lease is not None
    await redis.set(keyspace.state(CID), b"1 x\n")  # someone wrote without the lease
    assert await store.commit(lease, _state("stale")) is CommitStatus.STALE_VERSION
    assert (await store.read(CID)).state is None


async def test_forgetting_deletes_the_state_but_remembers_seen_ids(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(tombstone_ttl=timedelta(seconds=60)))
    lease = (await _submit(store, 1)).lease
    assert lease is not None
    await store.commit(lease, _state("secret-ish"))
    lease = (await _submit(store, 2, "/cancel")).lease
    assert lease is not None
    await store.commit(lease, None)
    assert lease.state is None
    raw = await redis.get(keyspace.state(CID))  # version and seen ids only
    assert raw is not None and raw.startswith(b"2 @") and raw.endswith(b" | 1 2\n")
    assert 0 < await redis.pttl(keyspace.state(CID)) <= 60_000
    assert (await store.read(CID)).state is None
    assert (await _submit(store, 2, "/cancel")).status is SubmitStatus.DUPLICATE
    fresh = (await _submit(store, 3)).lease
    assert fresh is not None and fresh.state is None


async def test_acquire_reports_empty_busy_and_leased(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace, StoreConfig(lease=timedelta(milliseconds=100)))
    assert (await store.acquire(CID)).status is AcquireStatus.EMPTY
    dead = (await _submit(store, 1)).lease  # a drainer that never commits
    assert dead is not None
    assert (await store.acquire(CID)).status is AcquireStatus.BUSY
    await asyncio.sleep(0.2)
    acquired = await store.acquire(CID)
    assert acquired.status is AcquireStatus.LEASED and acquired.lease is not None
    assert acquired.lease.item is not None and acquired.lease.item.update_id == "1"


async def test_unknown_script_is_loaded_on_first_use(redis: Redis, key_prefix: str) -> None:
    script = LuaScript(f"-- {key_prefix}\nreturn redis.call('INCR', KEYS[1])")
    assert await script(redis, (f"{key_prefix}:n",), ()) == 1  # NOSCRIPT, load, run
    assert await script(redis, (f"{key_prefix}:n",), ()) == 2


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="SCRIPT FLUSH only on the tests' own server")
async def test_scripts_are_reloaded_after_script_flush(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace)
    lease = (await _submit(store, 1)).lease
    assert lease is not None
    # SCRIPT FLUSH only drops the server's script cache; no data is touched.
    await redis.script_flush()
    assert await store.commit(lease, KEEP) is CommitStatus.COMMITTED
    await redis.script_flush()
    assert (await _submit(store, 2)).status is SubmitStatus.LEASED


async def test_pending_hint_is_cleared_only_if_unchanged(redis: Redis, keyspace: KeySpace) -> None:
    config = StoreConfig(lease=timedelta(milliseconds=50), recover_after=timedelta(milliseconds=50))
    store = ConversationStore(redis, keyspace, config)
    await _submit(store, 1)
    await asyncio.sleep(0.1)
    [(cid, score)] = await store.stale_pending()
    assert cid == CID
    assert not await store.clear_hint(cid, score - 1)
    assert await store.clear_hint(cid, score)
    assert await store.stale_pending() == []


async def test_pending_hint_lives_while_updates_wait(redis: Redis, keyspace: KeySpace) -> None:
    store = ConversationStore(redis, keyspace)
    lease = (await _submit(store, 1)).lease
    await _submit(store, 2)
    assert await redis.zscore(keyspace.pending, CID) is not None
    assert lease is not None
    await store.commit(lease, KEEP)  # update 2 still waits
    assert await redis.zscore(keyspace.pending, CID) is not None
    await store.commit(lease, KEEP)  # inbox empty, lease released, hint dropped
    assert await redis.zcard(keyspace.pending) == 0


async def test_cluster_mode_keeps_the_hint_out_of_the_scripts(redis: Redis, keyspace: KeySpace) -> None:
    # On one server the flag only changes how the hint is written: by separate commands.
    store = ConversationStore(redis, keyspace, StoreConfig(cluster=True))
    lease = (await _submit(store, 1)).lease
    assert lease is not None and await redis.zscore(keyspace.pending, CID) is not None
    assert await store.commit(lease, _state("a")) is CommitStatus.COMMITTED
    assert await redis.zscore(keyspace.pending, CID) is not None  # left for recover() to clear
    assert ConversationState.loads((await store.read(CID)).state).slots == {"seen": ["a"]}
