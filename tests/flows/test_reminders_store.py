"""ReminderStore against real Redis: per-slot shards, claims with a lease, the slot hint."""

from __future__ import annotations

from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.crc import key_slot

from flows.reminders import MAX_PER_CHAT, Kind, Reminder, clean_arg
from flows.reminders_store import ReminderStore
from flows.reminders_time import CHINA
from flows.store import KeySpace

CHANNEL = "telegram:42"
CID = f"{CHANNEL}:7001:-:7001"
NOW = datetime(2027, 1, 5, 9, 30, tzinfo=CHINA)
LEASE = timedelta(seconds=60)


def rem(kind: Kind, due: datetime, arg: str = "", chat: str = "7001") -> Reminder:
    return Reminder(CHANNEL, chat, kind, due, arg)


async def test_kept_in_the_conversations_own_slot(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    r = rem(Kind.OWN, NOW, "交医保")
    index, claims = store.shard_of(r)
    conversation_key = keyspace.state(CID)
    assert key_slot(index.encode()) == key_slot(claims.encode()) == key_slot(conversation_key.encode())
    await store.add(r)
    assert await redis.zscore(index, r.member) == int(NOW.timestamp())
    assert await redis.object("encoding", index) in (b"listpack", b"ziplist")  # compact (Redis 7 | 6)


async def test_add_replace_list_cancel(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    assert await store.add(rem(Kind.WAITING, NOW + timedelta(days=90), "2027-04-05"))
    assert await store.add(rem(Kind.WINDOW, NOW + timedelta(days=9), "2027-01-21"))
    assert await store.add(rem(Kind.WINDOW, NOW + timedelta(days=10), "2027-01-22"))  # replaces its kind
    assert await store.add(rem(Kind.OWN, NOW + timedelta(days=3), "交医保"))
    assert await store.add(rem(Kind.OWN, NOW + timedelta(days=4), "交医保"))  # own ones add up
    assert await store.add(rem(Kind.OWN, NOW + timedelta(days=4), "交医保"))  # the same one: stored once
    await store.add(rem(Kind.OWN, NOW, "别人的", chat="7002"))
    mine = await store.of(CID)
    assert [(r.kind, r.due - NOW) for r in mine] == [
        (Kind.OWN, timedelta(days=3)), (Kind.OWN, timedelta(days=4)),
        (Kind.WINDOW, timedelta(days=10)), (Kind.WAITING, timedelta(days=90)),
    ]
    gone = await store.cancel(CID, mine[2].ref)
    assert gone == mine[2]
    assert await store.cancel(CID, mine[2].ref) is None  # a second press finds it gone
    assert await store.cancel_all(CID) == 3
    assert await store.of(CID) == []
    assert len(await store.of(f"{CHANNEL}:7002:-:7002")) == 1
    assert await store.of("telegram:42:-100:-:7001") == []  # group conversations keep none


async def test_a_person_has_at_most_max_reminders(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    for i in range(MAX_PER_CHAT):
        assert await store.add(rem(Kind.OWN, NOW + timedelta(days=i + 1), f"第{i}件"))
    assert not await store.add(rem(Kind.OWN, NOW + timedelta(days=40), "再一件"))
    assert await store.add(rem(Kind.WINDOW, NOW, "x", chat="7003"))  # others are not affected


def test_arguments_are_one_short_redacted_line() -> None:
    cleaned = clean_arg("交医保|打\n13812345678")
    assert cleaned.startswith("交医保 打 ［已隐去") and "|" not in cleaned and "1381" not in cleaned
    assert len(clean_arg("很长的事情" * 20).encode()) <= 36
    assert "13812345678" not in clean_arg("给13812345678打电话")


async def test_claim_lease_begin_finish(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    due = rem(Kind.OWN, NOW - timedelta(minutes=1), "交医保")
    later = rem(Kind.WINDOW, NOW + timedelta(hours=2), "2027-01-12")
    await store.add(due)
    await store.add(later)
    slot = key_slot(CID.encode())
    assert await store.due_slots(CHANNEL, NOW) == [slot]
    first = await store.claim(CHANNEL, slot, NOW, LEASE, 10, "A")
    assert first.reminders == [due] and first.head == int((NOW + LEASE).timestamp())
    assert (await store.claim(CHANNEL, slot, NOW, LEASE, 10, "B")).reminders == []  # held by A
    # A dies; when its lease ends B takes the reminder, and A can no longer send it.
    taken = await store.claim(CHANNEL, slot, NOW + LEASE, LEASE, 10, "B")
    assert taken.reminders == [due]
    assert not await store.begin(due, "A", NOW + LEASE * 2)
    assert await store.begin(due, "B", NOW + LEASE * 2)
    await store.finish(due)
    assert not await store.begin(due, "B", NOW + LEASE * 2)  # sent: gone
    assert await store.of(CID) == [later]


async def test_release_gives_a_claim_back_for_later(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    r = rem(Kind.OWN, NOW, "x")
    await store.add(r)
    slot = key_slot(CID.encode())
    await store.claim(CHANNEL, slot, NOW, LEASE, 10, "A")
    assert not await store.release(r, "B", NOW + timedelta(minutes=5))  # not B's to give back
    assert await store.release(r, "A", NOW + timedelta(minutes=5))
    assert (await store.claim(CHANNEL, slot, NOW + timedelta(minutes=4), LEASE, 10, "C")).reminders == []
    assert (await store.claim(CHANNEL, slot, NOW + timedelta(minutes=5), LEASE, 10, "C")).reminders == [r]


async def test_settling_a_slot_never_hides_a_reminder_added_meanwhile(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    old = rem(Kind.OWN, NOW - timedelta(minutes=1), "old")
    await store.add(old)
    slot = key_slot(CID.encode())
    claimed = await store.claim(CHANNEL, slot, NOW, LEASE, 10, "A")
    await store.finish(old)
    # Between the claim (which saw the head) and settling, someone schedules an earlier one.
    new = rem(Kind.OWN, NOW, "new")
    await store.add(new)
    await store.settle(CHANNEL, {slot: claimed.head})
    assert await store.due_slots(CHANNEL, NOW) == [slot]
    assert (await store.claim(CHANNEL, slot, NOW, LEASE, 10, "A")).reminders == [new]
    await store.finish(new)
    await store.settle(CHANNEL, {slot: None})
    assert await store.due_slots(CHANNEL, NOW + timedelta(days=365)) == []  # empty slot: off the hint


async def test_upcoming_counts_and_times(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    for i in range(5):
        await store.add(rem(Kind.OWN, NOW + timedelta(days=i), "x", chat=str(8000 + i)))
    total, times = await store.upcoming(CHANNEL, NOW + timedelta(days=2), 3)
    assert total == 2
    assert times == [NOW, NOW + timedelta(days=1), NOW + timedelta(days=2)]
