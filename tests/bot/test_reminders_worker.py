"""Reminders through a running Telegram worker: set from the answer card's button, sent by the
dispatcher that runs inside the worker (unless REMINDERS=off)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from flows.dialog import GapDialog
from flows.reminders import Kind
from flows.reminders_store import ReminderStore
from flows.reminders_time import SetClock, morning_of
from flows.service import ConversationService
from flows.store import ConversationStore, KeySpace
from tests.bot.fake_bot_api import Chat, FakeBotApi, User
from tests.bot.reminders_support import START, reminder, start_worker

TODAY = date(2027, 1, 5)
ALICE = User(4242, "Alice")
PRIVATE = Chat(4242)


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


def _service(redis: Redis, keyspace: KeySpace, dialog: GapDialog, clock: SetClock) -> Callable[[Any], Any]:
    store = ConversationStore(redis, keyspace)
    return lambda sink: ConversationService(store, dialog, sink, clock=lambda: TODAY, reminder_clock=clock)


def _payloads(message: dict[str, Any]) -> list[str]:
    return [b.get("callback_data", "") for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for b in row]


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_set_from_the_card_then_sent_by_the_workers_dispatcher(
    framework: str, bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace, dialog: GapDialog
) -> None:
    clock = SetClock(START, running=False)
    async with start_worker(bot_api, framework, redis, _service(redis, keyspace, dialog, clock),
                         key_prefix=keyspace.prefix, reminder_clock=clock, reminders_every=0.2) as bot:
        assert bot.reminders is not None
        await bot_api.say(ALICE, PRIVATE, "天津灵活就业断了4个月")
        [card] = await bot_api.replies(PRIVATE.id, 1)
        assert "a:remind" in _payloads(card)
        await bot_api.press(ALICE, card, "a:remind")
        [offer] = await bot_api.replies(PRIVATE.id, 1, after=1)
        assert "rp:d" in _payloads(offer)
        await bot_api.press(ALICE, offer, "rp:d")
        [confirmed] = await bot_api.replies(PRIVATE.id, 1, after=2)
        assert "已设好提醒" in confirmed["text"] and "2027年1月26日（周二）上午9点" in confirmed["text"]
        [stored] = await ReminderStore(redis, keyspace).of(f"telegram:{bot_api.bot_id}:4242:-:4242")
        assert (stored.kind, stored.due) == (Kind.DECLARATION, morning_of(date(2027, 1, 26)))
        clock.set(stored.due + timedelta(minutes=1))  # the day comes
        [sent] = await bot_api.replies(PRIVATE.id, 1, after=3)
        assert sent["text"].startswith("⏰ 提醒：今天是每月26日") and "12393" in sent["text"]
        assert _payloads(sent) == ["rz:d|26", "rd:d|26"]
        await bot_api.press(ALICE, sent, "rd:d|26")
        [done] = await bot_api.replies(PRIVATE.id, 1, after=4)
        assert "下个月26日还会提醒您" in done["text"]
    [following] = await ReminderStore(redis, keyspace).of(f"telegram:{bot_api.bot_id}:4242:-:4242")
    assert following.due == morning_of(date(2027, 2, 26))


async def test_reminders_off_runs_no_dispatcher(
    bot_api: FakeBotApi, redis: Redis, keyspace: KeySpace, dialog: GapDialog
) -> None:
    clock = SetClock(START, running=False)
    await ReminderStore(redis, keyspace).add(reminder(4343, START - timedelta(minutes=1)))
    async with start_worker(bot_api, "aiogram", redis, _service(redis, keyspace, dialog, clock),
                         key_prefix=keyspace.prefix, reminders="off") as bot:
        assert bot.reminders is None
    async with start_worker(bot_api, "aiogram", redis, _service(redis, keyspace, dialog, clock),
                         key_prefix=keyspace.prefix, reminder_clock=clock) as bot:
        assert bot.reminders is not None
        [sent] = await bot_api.replies(4343, 1)  # the first pass runs as the worker starts
    assert "交医保" in sent["text"]
