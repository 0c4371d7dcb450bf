"""Helpers for the reminder tests: a dispatcher on the fake Bot API, reminders in bulk."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.outbound import OutboundLimiter
from bot.reminders.config import DispatchConfig, background_limits
from bot.reminders.dispatcher import ReminderDispatcher
from bot.telegram.runner import RunningBot, make_adapter, running_bot
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


async def add_many(store: ReminderStore, reminders: Sequence[Reminder], at_once: int = 32) -> None:
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
        limits = background_limits(config.outbound_limits())
        limiter = OutboundLimiter(redis, limits, str(me.id), prefix=f"{keyspace.prefix}:ob")
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


@contextlib.asynccontextmanager
async def start_worker(api: FakeBotApi, framework: str, redis: Redis, make_service: Callable[[Any], Any], *,
                       key_prefix: str, reminder_clock: SetClock | None = None,
                       **settings: Any) -> AsyncIterator[RunningBot]:
    """A polling worker like tests.bot.conftest.start_bot, with the reminder clock the test controls."""
    config = bot_settings(api, "polling", **settings)
    async with running_bot(framework, config, redis=redis, make_service=make_service,
                           key_prefix=f"{key_prefix}:ob", reminder_clock=reminder_clock) as bot:
        try:
            yield bot
        finally:
            await api.release_polls()
