"""`python -m bot reminders send-due|list`: one dispatcher pass, or what is waiting.

send-due --framework aiogram|ptb [--now ISO]
    One pass as if it were --now (default: the real time; the clock runs on from there),
    with the same Telegram settings as the workers (environment / .env). Prints one line of
    counts and exits 0. Safe alongside workers and other copies: every reminder is claimed.
list [--due-before ISO]
    The number due (before --due-before, default now) and the next few times reminders
    go out. No personal data: no chat ids, no texts.
"""

from __future__ import annotations

import os
from datetime import datetime

from bot.outbound import OutboundLimiter
from bot.reminders.config import background_limits
from bot.settings import load_settings_or_exit
from flows.redis_embed import open_redis
from flows.reminders_store import ReminderStore
from flows.reminders_time import CHINA, Clock, SetClock, real_clock
from flows.store import KeySpace

NEXT_SHOWN = 5


def running_from(start: datetime | None) -> Clock:
    """The real clock, or one set to `start` that runs on in real time."""
    return real_clock if start is None else SetClock(start)


def _keys() -> KeySpace:
    prefix = os.environ.get("REDIS_KEY_PREFIX") or None
    return KeySpace(prefix) if prefix else KeySpace()


async def send_due(framework: str, now: datetime | None) -> str:
    """One pass; returns the counts line."""
    from bot.reminders.dispatcher import ReminderDispatcher  # Telegram code: only for sending
    from bot.telegram.runner import make_adapter

    settings = load_settings_or_exit()
    handle = await open_redis(settings.redis_url or os.environ.get("REDIS_URL") or None)
    adapter = make_adapter(framework, settings)
    try:
        await adapter.start()
        me = await adapter.api.get_me()
        keys = _keys()
        limits = background_limits(settings.outbound_limits())
        limiter = OutboundLimiter(handle.client, limits, str(me.id), prefix=f"{keys.prefix}:ob")
        dispatcher = ReminderDispatcher(ReminderStore(handle.client, keys), adapter.api, limiter, str(me.id),
                                        clock=running_from(now), config=settings.dispatch_config())
        await dispatcher.store.sweep(dispatcher.channel)  # catch-up tool: trust no hint
        return (await dispatcher.run_pass()).line()
    finally:
        await adapter.close()
        await handle.close()


async def list_due(before: datetime | None) -> str:
    """The number due before `before` (default now) and the next few release times."""
    handle = await open_redis(os.environ.get("REDIS_URL") or None)
    try:
        store = ReminderStore(handle.client, _keys())
        cutoff = before or real_clock()
        total = 0
        upcoming: list[datetime] = []
        for channel in await store.channels():
            due, nxt = await store.upcoming(channel, cutoff, NEXT_SHOWN)
            total += due
            upcoming.extend(nxt)
        shown = " ".join(t.astimezone(CHINA).isoformat() for t in sorted(upcoming)[:NEXT_SHOWN]) or "-"
        return f"due={total} before={cutoff.astimezone(CHINA).isoformat()}\nnext={shown}"
    finally:
        await handle.close()
