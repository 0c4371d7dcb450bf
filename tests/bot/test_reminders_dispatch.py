"""The reminder dispatcher against real Redis, the real Bot clients and the local fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from flows.reminders import Kind
from flows.reminders_store import ReminderStore
from flows.reminders_time import CHINA, SetClock
from flows.store import KeySpace
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.reminders_support import START, add_many, dispatcher_on, per_chat, reminder


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_due_reminder_is_sent_once_with_its_reason_and_buttons(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace, framework: str
) -> None:
    store = ReminderStore(redis, keyspace)
    await store.add(reminder(501, START - timedelta(minutes=5), Kind.WINDOW, "2027-01-12"))
    await store.add(reminder(502, START + timedelta(hours=1)))  # not yet
    clock = SetClock(START, running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock, framework=framework) as dispatcher:
        assert (await dispatcher.run_pass()).line() == "sent=1 late=0 held_quiet=0 dropped=0 failed=0"
        assert (await dispatcher.run_pass()).sent == 0  # sent once, not again
        [message] = bot_api.sent(501)
        assert "2027年1月12日前补缴还按现在的规定办理" in message["text"] and "12393" in message["text"]
        assert "晚了" not in message["text"]
        payloads = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        assert payloads == ["rz:w|2027-01-12", "rd:w|2027-01-12"]
        clock.advance(timedelta(hours=1))
        assert (await dispatcher.run_pass()).sent == 1
    assert per_chat(bot_api) == {501: 1, 502: 1}
    assert await store.of("telegram:123456789:501:-:501") == []


async def test_quiet_hours_hold_until_nine(bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    day = START.date()
    at = lambda h, m: datetime(day.year, day.month, day.day, h, m, tzinfo=CHINA)  # noqa: E731
    await store.add(reminder(601, at(20, 59)))
    await store.add(reminder(602, at(21, 0)))  # due in quiet hours: released at 09:00 next day
    await store.add(reminder(603, at(23, 30)))
    clock = SetClock(at(20, 59), running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock) as dispatcher:
        assert (await dispatcher.run_pass()).sent == 1  # 20:59 is not quiet
        clock.set(at(21, 0))
        counts = await dispatcher.run_pass()
        assert (counts.sent, counts.held_quiet) == (0, 1)  # 602 waits for 09:00 tomorrow
        clock.set(at(7, 59) + timedelta(days=1))
        counts = await dispatcher.run_pass()
        assert (counts.sent, counts.held_quiet) == (0, 2)
        clock.set(at(8, 0) + timedelta(days=1))
        assert (await dispatcher.run_pass()).sent == 0  # held ones wait for 09:00
        clock.set(at(9, 0) + timedelta(days=1))
        counts = await dispatcher.run_pass()
        assert (counts.sent, counts.late) == (2, 0)
    assert per_chat(bot_api) == {601: 1, 602: 1, 603: 1}


async def test_due_during_quiet_pass_is_held_and_counted(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace
) -> None:
    store = ReminderStore(redis, keyspace)
    await store.add(reminder(611, START))
    clock = SetClock(START.replace(hour=22), running=False)  # workers were down from 09:30 to 22:00
    async with dispatcher_on(bot_api, redis, keyspace, clock) as dispatcher:
        assert (await dispatcher.run_pass()).line() == "sent=0 late=0 held_quiet=1 dropped=0 failed=0"
        clock.set(START.replace(hour=8) + timedelta(days=1))
        assert (await dispatcher.run_pass()).sent == 1
    assert per_chat(bot_api) == {611: 1}


async def test_late_reminders_are_marked_and_very_late_ones_dropped(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace, caplog: pytest.LogCaptureFixture
) -> None:
    store = ReminderStore(redis, keyspace)
    await store.add(reminder(701, START - timedelta(hours=20)))  # under a day: not marked
    await store.add(reminder(702, START - timedelta(days=3, minutes=1)))
    await store.add(reminder(703, START - timedelta(days=31)))
    clock = SetClock(START, running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock) as dispatcher:
        with caplog.at_level(logging.WARNING, logger="bot.reminders.dispatcher"):
            counts = await dispatcher.run_pass()
    assert counts.line() == "sent=2 late=1 held_quiet=0 dropped=1 failed=0"
    assert "晚了" not in bot_api.sent(701)[0]["text"]
    assert "（晚了3天）" in bot_api.sent(702)[0]["text"]
    assert bot_api.sent(703) == [] and "dropped" in caplog.text
    assert await store.of("telegram:123456789:703:-:703") == []


async def test_a_user_who_blocked_the_bot_has_their_reminders_stopped(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace
) -> None:
    store = ReminderStore(redis, keyspace)
    await store.add(reminder(801, START - timedelta(minutes=1)))
    await store.add(reminder(801, START + timedelta(days=7), Kind.WAITING, "2027-01-12"))
    await store.add(reminder(802, START - timedelta(minutes=1)))
    bot_api.blocked.add(801)
    clock = SetClock(START, running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock, framework="ptb") as dispatcher:
        counts = await dispatcher.run_pass()
        assert (counts.sent, counts.failed) == (1, 1)
        assert await store.of("telegram:123456789:801:-:801") == []  # the later one too: not retried
        clock.advance(timedelta(days=8))
        assert (await dispatcher.run_pass()).failed == 0
    assert len([c for c in bot_api.calls if c.method == "sendMessage" and c.params["chat_id"] == 801]) == 1


async def test_monthly_reminder_comes_back_next_month_clipped_to_its_end(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace
) -> None:
    store = ReminderStore(redis, keyspace)
    jan31 = datetime(2028, 1, 31, 9, 0, tzinfo=CHINA)
    await store.add(reminder(901, jan31, Kind.MONTHLY, "31"))
    clock = SetClock(jan31, running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock) as dispatcher:
        assert (await dispatcher.run_pass()).sent == 1
        [following] = await store.of("telegram:123456789:901:-:901")
        assert following.due == datetime(2028, 2, 29, 9, 0, tzinfo=CHINA)  # leap year
        clock.set(following.due)
        assert (await dispatcher.run_pass()).sent == 1
        [march] = await store.of("telegram:123456789:901:-:901")
        assert march.due == datetime(2028, 3, 31, 9, 0, tzinfo=CHINA)  # back to the 31st
    assert per_chat(bot_api) == {901: 2}


async def test_429_delays_that_chat_only(bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace) -> None:
    store = ReminderStore(redis, keyspace)
    await add_many(store, [reminder(1000 + i, START - timedelta(minutes=1)) for i in range(6)])
    bot_api.fail_next("sendMessage", retry_after=1, chat_id=1003)
    clock = SetClock(START, running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock) as dispatcher:
        assert (await dispatcher.run_pass()).sent == 6
    retried = [c.at for c in bot_api.calls if c.method == "sendMessage" and c.params["chat_id"] == 1003]
    others = [c.at for c in bot_api.calls if c.method == "sendMessage" and c.params["chat_id"] != 1003]
    assert len(retried) == 2 and retried[1] - retried[0] >= 0.9  # that chat waited out retry_after
    assert max(others) < retried[1]  # the others did not wait for it
    assert per_chat(bot_api) == {1000 + i: 1 for i in range(6)}


async def test_a_crashed_writer_is_repaired_by_the_sweep(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace
) -> None:
    store = ReminderStore(redis, keyspace)
    lost = reminder(1101, START - timedelta(minutes=1))
    await store.add(lost)
    await redis.delete(store.hint_key(lost.channel))  # as if the writer died before its hint write
    clock = SetClock(START, running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock) as dispatcher:
        assert (await dispatcher.run_pass()).sent == 0
        assert await store.sweep(lost.channel) == 1
        assert (await dispatcher.run_pass()).sent == 1


async def test_a_pass_running_into_quiet_hours_holds_the_rest(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace
) -> None:
    store = ReminderStore(redis, keyspace)
    evening = START.replace(hour=20, minute=59)
    await store.add(reminder(1201, evening))
    clock = SetClock(evening, running=False)
    async with dispatcher_on(bot_api, redis, keyspace, clock) as dispatcher:
        [claimed] = (await store.claim(dispatcher.channel, key_slot(b"telegram:123456789:1201:-:1201"), evening,
                                       timedelta(seconds=60), 10, dispatcher.token)).reminders
        clock.set(evening + timedelta(minutes=1))  # 21:00 strikes before the send
        assert (await dispatcher._one(claimed, asyncio.Semaphore(1))).held_quiet == 1
        clock.set(START.replace(hour=9) + timedelta(days=1))
        assert (await dispatcher.run_pass()).sent == 1
    [message] = bot_api.sent(1201)
    assert "晚了" not in message["text"]
