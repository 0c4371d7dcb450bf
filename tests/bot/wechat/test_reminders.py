"""Reminders reach WeChat followers: a customer-service message in the 48-hour window, else with their next reply."""

from __future__ import annotations

from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot.wechat.outbox import conversation_id
from flows.reminders import Kind, Reminder
from flows.reminders_store import ReminderStore
from flows.reminders_time import CHINA, SetClock
from flows.store.keys import KeySpace
from tests.bot.wechat.conftest import Start, url_of
from tests.bot.wechat.fake_wechat import APP_ID, FakeWeChat

ALICE = "oia2TjjewbmiOUlr6X-alice00000"
BOB = "oia2TjjewbmiOUlr6X-bob000000000"
CHANNEL = f"wechat:{APP_ID}"
NOW = datetime(2027, 1, 5, 9, 30, tzinfo=CHINA)  # a Tuesday morning, outside quiet hours


def due_reminder(openid: str, topic: str) -> Reminder:
    return Reminder(CHANNEL, openid, Kind.OWN, NOW - timedelta(minutes=5), topic)


async def test_reminder_delivered_in_the_window_and_held_outside_it(
        wechat: FakeWeChat, start_worker: Start, redis: Redis, keyspace: KeySpace) -> None:
    clock = SetClock(NOW, running=False)
    store = ReminderStore(redis, keyspace)
    async with start_worker(wechat, reminders="off", reminder_clock=clock) as w:
        await wechat.push(url_of(w), wechat.text(ALICE, "你好"))  # Alice wrote: her window is open
        assert await store.add(due_reminder(ALICE, "交医保"))
        assert await store.add(due_reminder(BOB, "去社区办补缴"))  # Bob never wrote (or long ago)

        counts = await w.reminders.run_pass()
        assert (counts.sent, counts.held_window, counts.dropped) == (1, 1, 0)
        [sent] = wechat.sent
        assert sent.openid == ALICE and "交医保" in sent.text and "再提醒我" in sent.text
        assert await store.of(conversation_id(APP_ID, ALICE)) == []

        again = await w.reminders.run_pass()  # Bob's stays parked: no message, no repeated attempt
        assert (again.sent, again.held_window) == (0, 0) and len(wechat.sent) == 1

        reply = await wechat.push(url_of(w), wechat.text(BOB, "你好"))  # Bob's next message brings it
        content = reply.content or ""
        assert content.startswith("⏰ 提醒") and "去社区办补缴" in content
        assert "北京" in content  # the reply to his message follows (the region question's choices)
        assert await store.of(conversation_id(APP_ID, BOB)) == []
        later = await wechat.push(url_of(w), wechat.text(BOB, "北京"))
        assert "去社区办补缴" not in (later.content or "")  # shown once

        # A window older than 48 hours is closed: the reminder waits for the next message.
        window = keyspace.conversation(conversation_id(APP_ID, ALICE), "wxw")
        await redis.set(window, int(await redis.get(window) or 0) - 48 * 3600 - 1)
        assert await store.add(due_reminder(ALICE, "交下个月的医保"))
        late = await w.reminders.run_pass()
        assert (late.sent, late.held_window) == (0, 1) and len(wechat.sent) == 1


async def test_quiet_hours_hold_and_a_month_late_reminder_is_dropped(
        wechat: FakeWeChat, start_worker: Start, redis: Redis, keyspace: KeySpace) -> None:
    clock = SetClock(NOW.replace(hour=22), running=False)
    store = ReminderStore(redis, keyspace)
    async with start_worker(wechat, reminders="off", reminder_clock=clock) as w:
        await wechat.push(url_of(w), wechat.text(ALICE, "你好"))
        assert await store.add(due_reminder(ALICE, "交医保"))
        night = await w.reminders.run_pass()
        assert (night.sent, night.held_quiet) == (0, 1) and wechat.sent == []
        clock.set(NOW + timedelta(days=31))
        month_late = await w.reminders.run_pass()
        assert (month_late.sent, month_late.dropped) == (0, 1) and wechat.sent == []
