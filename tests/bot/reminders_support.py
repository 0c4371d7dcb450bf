"""Helpers for the reminder tests: a dispatcher on the fake Bot API, reminders in bulk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot.outbound import OutboundLimiter
from bot.reminders.config import DispatchConfig
from bot.reminders.dispatcher import ReminderDispatcher
from bot.telegram.runner import make_adapter
from flows.reminders import Kind, Reminder
from flows.reminders_store import ReminderStore
from flows.reminders_time import CHINA, SetClock
from flows.store import KeySpace
from tests.bot.conftest import bot_settings
from tests.bot.fake_bot_api import FakeBotApi

CHANNEL = f"telegram:{FakeBotApi.bot_id}"
START = datetime(2027, 1, 5, 9, 30, tzinfo=CHINA)  # a Tuesday morning


def reminder(chat: int | str, due: datetime, kind: Kind = Kind.OWN, arg: str = "交医保") -> Reminder:
    return Reminder(CHANNEL, str(chat), kind, due, arg)


async def add_many(store: ReminderStore, reminders: Sequence[Reminder], at_once: int = 200) -> None:
    """Store reminders concurrently, `at_once` at a time."""
    for i in range(0, len(reminders), at_once):
        assert all(await asyncio.gather(*(store.add(r) for r in reminders[i : i + at_once])))


@contextlib.asynccontextmanager
async def dispatcher_on(
    api: FakeBotApi, redis: Redis, keyspace: KeySpace, clock: SetClock, *, framework: str = "aiogram",
    lease: timedelta = timedelta(seconds=60), **settings: object,
) -> AsyncIterator[ReminderDispatcher]:
    """A dispatcher sending through a real framework's Bot client to the fake server."""
    config = bot_settings(api, "polling", **settings)
    adapter = make_adapter(framework, config)
    await adapter.start()
    try:
        me = await adapter.api.get_me()
        limiter = OutboundLimiter(redis, config.outbound_limits(), str(me.id), prefix=f"{keyspace.prefix}:ob")
        yield ReminderDispatcher(ReminderStore(redis, keyspace), adapter.api, limiter, str(me.id), clock=clock,
                                 config=DispatchConfig(lease=lease))
    finally:
        await adapter.close()


def per_chat(api: FakeBotApi) -> dict[int, int]:
    """How many messages each chat got."""
    counts: dict[int, int] = {}
    for message in api.sent():
        counts[message["chat"]["id"]] = counts.get(message["chat"]["id"], 0) + 1
    return counts
