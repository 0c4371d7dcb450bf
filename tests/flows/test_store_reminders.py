"""Reminder storage against real Redis: one compact record per conversation plus a due index."""

from __future__ import annotations

from datetime import date, timedelta

from redis.asyncio import Redis

from flows.reminders import Reminder, ReminderStore
from flows.store import KeySpace
from flows.turn import ScheduleReminder

CID = "telegram:bot1:42:-:42"
DAY_MS = 86_400_000


async def test_schedule_replace_list_and_cancel(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    today = date.today()
    await store.schedule(CID, ScheduleReminder("waiting_ends", today + timedelta(days=90), "等待期结束"))
    await store.schedule(CID, ScheduleReminder("monthly_payment", today + timedelta(days=9), "记得缴费"))
    await store.schedule(CID, ScheduleReminder("monthly_payment", today + timedelta(days=10), "按时缴费"))
    assert await store.of(CID) == [
        Reminder(CID, "monthly_payment", today + timedelta(days=10), "按时缴费"),
        Reminder(CID, "waiting_ends", today + timedelta(days=90), "等待期结束"),
    ]
    assert await redis.type(keyspace.reminders(CID)) == b"string"
    assert await redis.zcard(keyspace.reminders_due) == 2
    assert await store.cancel_all(CID) == 2
    assert await store.of(CID) == []
    assert not await redis.exists(keyspace.reminders(CID))
    assert await redis.zcard(keyspace.reminders_due) == 0
    assert await store.cancel_all(CID) == 0


async def test_record_lives_until_due_day_plus_ttl_and_is_never_shortened(
    redis: Redis, keyspace: KeySpace
) -> None:
    store = ReminderStore(redis, keyspace, ttl=timedelta(days=30))
    today = date.today()
    await store.schedule(CID, ScheduleReminder("waiting_ends", today + timedelta(days=90), "等待期结束"))
    far = await redis.pttl(keyspace.reminders(CID))
    assert 119 * DAY_MS < far <= 121 * DAY_MS
    await store.schedule(CID, ScheduleReminder("monthly_payment", today + timedelta(days=1), "缴费"))
    assert await redis.pttl(keyspace.reminders(CID)) > 119 * DAY_MS
    # A reminder dated in the past is still kept at least the TTL.
    other = "telegram:bot1:7:-:7"
    await store.schedule(other, ScheduleReminder("window_closing", date(2020, 1, 1), "已过期"))
    assert 29 * DAY_MS < await redis.pttl(keyspace.reminders(other)) <= 30 * DAY_MS


async def test_due_finds_what_is_due_and_drops_stale_index_entries(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    day = date(2027, 5, 1)
    await store.schedule(CID, ScheduleReminder("waiting_ends", day, "等待期结束"))
    await store.schedule(
        "telegram:bot1:7:-:7", ScheduleReminder("waiting_ends", day + timedelta(days=1), "b")
    )
    await store.schedule("telegram:bot1:8:-:8", ScheduleReminder("window_closing", day, "c"))
    await redis.delete(keyspace.reminders("telegram:bot1:8:-:8"))  # expired or forgotten
    assert await store.due(day - timedelta(days=1)) == []
    assert await store.due(day) == [Reminder(CID, "waiting_ends", day, "等待期结束")]
    assert await redis.zcard(keyspace.reminders_due) == 2  # the stale entry is gone
    [reminder] = await store.due(day)
    await store.remove(reminder)
    assert await store.due(day) == []
    assert not await redis.exists(keyspace.reminders(CID))
    assert len(await store.due(day + timedelta(days=1))) == 1


async def test_text_is_one_line_and_redacted(redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    text = "第一行\n第二行\t有问题打13812345678"
    await store.schedule(CID, ScheduleReminder("monthly_payment", date(2027, 1, 1), text))
    [reminder] = await store.of(CID)
    assert reminder.text == "第一行 第二行 有问题打［已隐去的手机号］"
    raw = await redis.get(keyspace.reminders(CID))
    assert raw is not None and b"13812345678" not in raw
