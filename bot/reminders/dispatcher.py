"""The reminder dispatcher: takes due reminders from Redis and sends them through the Bot API.

Any number may run (one inside each Telegram worker, plus `python -m bot reminders
send-due`). A pass finds the slots with due reminders, claims a batch per slot with a
lease, and sends each at its outbound slot (shared limiter: 30/s overall, 1/s per chat;
a 429 delays that chat only). Right before the Bot API call it checks the claim is still
its own; right after Telegram accepts, it writes the sent marker (the reminder goes; a
monthly one's next month comes). A dispatcher killed mid-batch loses its claims when
the lease ends and another sends them.

Outcomes per reminder: sent (and late, when over a day late: "（晚了N天）"), dropped
(more than 30 days late: logged, not sent), failed (403: the person's reminders stop;
another Bot API refusal: that reminder goes; rate-limited or network trouble: given
back for a later pass). In quiet hours (21:00-08:00 China time) nothing is sent and
what is due is counted as held_quiet.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from dataclasses import dataclass, fields
from datetime import timedelta

from bot.outbound import OutboundLimiter, RetryLater
from bot.reminders.config import DispatchConfig
from bot.telegram.api import ApiError, Blocked, BotApi
from bot.telegram.translate import render
from flows.messages import ChatKind, InEvent
from flows.reminders import Reminder
from flows.reminders_store import ReminderStore
from flows.reminders_text import reminder_message
from flows.reminders_time import MAX_LATE, Clock, days_late, is_quiet, real_clock, release_at

log = logging.getLogger(__name__)

RETRY_LATER = timedelta(minutes=5)  # a send that failed for a passing reason is tried again then
SWEEP_EVERY = timedelta(hours=1)  # hint repair (a writer that died between its two commands)


@dataclass(slots=True)
class PassCounts:
    """What one pass did (`late` counts sent reminders that were over a day late)."""

    sent: int = 0
    late: int = 0
    held_quiet: int = 0
    dropped: int = 0
    failed: int = 0

    def add(self, other: PassCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> str:
        """One line of counts: "sent=3 late=1 held_quiet=0 dropped=0 failed=0"."""
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


class _NotOurs(Exception):
    """The claim moved to another dispatcher while this one waited for its send slot."""


class ReminderDispatcher:
    """Sends the due reminders of one bot (channel "telegram:<bot id>")."""

    def __init__(self, store: ReminderStore, api: BotApi, limiter: OutboundLimiter, bot_id: str, *,
                 clock: Clock = real_clock, config: DispatchConfig | None = None) -> None:
        self.store = store
        self.api = api
        self.limiter = limiter
        self.bot_id = bot_id
        self.channel = f"telegram:{bot_id}"
        self.clock = clock
        self.config = config or DispatchConfig()
        self.token = secrets.token_hex(8)  # names this dispatcher's claims

    async def run_pass(self, stop: asyncio.Event | None = None) -> PassCounts:
        """Send everything due now (until `stop` is set); returns the counts."""
        counts = PassCounts()
        now = self.clock()
        if is_quiet(now):
            counts.held_quiet = await self.store.held(self.channel, now)
            return counts
        slots = await self.store.due_slots(self.channel, now)
        chunks = iter([slots[i:i + self.config.chunk] for i in range(0, len(slots), self.config.chunk)])
        gate = asyncio.Semaphore(self.config.in_flight)

        async def worker() -> None:
            for chunk in chunks:  # shared iterator: each chunk of slots goes to one worker
                await self._drain_chunk(chunk, counts, gate)
                if stop is not None and stop.is_set():
                    return

        await asyncio.gather(*(worker() for _ in range(self.config.concurrency)))
        return counts

    async def _drain_chunk(self, chunk: list[int], counts: PassCounts, gate: asyncio.Semaphore) -> None:
        """Claim a few slots at once, send what they hold, then settle their hints together.

        Sends run side by side (the limiter keeps one chat's in order), so a 429 that makes one
        chat wait holds up no one else."""
        claims = await self.store.claim_many(self.channel, chunk, self.clock(), self.config.lease,
                                             self.config.batch, self.token)
        heads: dict[int, int | None] = {slot: claimed.head for slot, claimed in zip(chunk, claims, strict=True)}
        taken = [r for claimed in claims for r in claimed.reminders]
        for result in await asyncio.gather(*(self._one(r, gate) for r in taken)):
            counts.add(result)
        for slot, claimed in zip(chunk, claims, strict=True):
            if len(claimed.reminders) >= self.config.batch:  # more waits there: drain it fully
                heads[slot] = await self._drain_slot(slot, counts, gate)
        await self.store.settle(self.channel, heads)

    async def _drain_slot(self, slot: int, counts: PassCounts, gate: asyncio.Semaphore) -> int | None:
        """Claim and send batches of one slot until nothing there is due; returns the shard's head
        score after the last claim (sending moves it no earlier; `settle` re-checks)."""
        while True:
            claimed = await self.store.claim(self.channel, slot, self.clock(), self.config.lease,
                                             self.config.batch, self.token)
            for result in await asyncio.gather(*(self._one(r, gate) for r in claimed.reminders)):
                counts.add(result)
            if len(claimed.reminders) < self.config.batch or is_quiet(self.clock()):
                return claimed.head

    async def run_forever(self, stop: asyncio.Event, every: float) -> None:
        """A pass every `every` seconds until `stop` is set; a failed pass is logged and retried.

        Every SWEEP_EVERY (first at a random moment within it, so workers spread out) the
        slot hint is repaired from all shards (see flows.reminders_store)."""
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + random.uniform(0, SWEEP_EVERY.total_seconds())
        while not stop.is_set():
            try:
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + SWEEP_EVERY.total_seconds()
                    await self.store.sweep(self.channel)
                counts = await self.run_pass(stop)
                if counts.sent or counts.failed or counts.dropped:
                    log.info("reminders: %s", counts.line())
            except Exception:
                log.exception("reminder pass failed; trying again in %ss", every)
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass

    async def _one(self, reminder: Reminder, gate: asyncio.Semaphore) -> PassCounts:
        try:
            async with gate:
                return await self._send(reminder)
        except Exception:
            # Redis or the network failed mid-way: the claim returns when its lease ends.
            log.exception("reminder for chat %s: unexpected failure", reminder.chat)
            return PassCounts(failed=1)

    async def _send(self, reminder: Reminder) -> PassCounts:
        now = self.clock()
        if is_quiet(now):  # the pass began before 21:00 and is still going: hold the rest
            await self.store.release(reminder, self.token, release_at(now))
            return PassCounts(held_quiet=1)
        if now - reminder.release > MAX_LATE:
            log.warning("reminder %s for chat %s dropped: due %s, more than %s days late",
                        reminder.kind.value, reminder.chat, reminder.due.isoformat(), MAX_LATE.days)
            await self.store.finish(reminder)
            return PassCounts(dropped=1)
        late = days_late(reminder.due, now)
        event = InEvent("telegram", self.bot_id, reminder.chat, reminder.chat, ChatKind.PRIVATE, "")
        outs = render(event, reminder_message(reminder, late))

        async def send_first() -> None:
            # The last check before the Bot API call: still our claim? Then extend its lease.
            if not await self.store.begin(reminder, self.token, self.clock() + self.config.lease):
                raise _NotOurs
            await self.api.send_message(outs[0])

        try:
            await self.limiter.send(reminder.chat, False, send_first)
        except _NotOurs:
            return PassCounts()
        except Blocked as exc:
            stopped = await self.store.stop_chat(self.channel, reminder.chat)
            log.warning("chat %s blocked the bot (%s): %d reminders stopped", reminder.chat, exc, stopped)
            return PassCounts(failed=1)
        except ApiError as exc:
            log.warning("reminder for chat %s refused (%s); not retried", reminder.chat, exc)
            await self.store.finish(reminder)
            return PassCounts(failed=1)
        except (RetryLater, OSError, TimeoutError) as exc:
            log.warning("reminder for chat %s not sent (%r); again in %s", reminder.chat, exc, RETRY_LATER)
            await self.store.release(reminder, self.token, self.clock() + RETRY_LATER)
            return PassCounts(failed=1)
        await self._mark_sent(reminder)
        for out in outs[1:]:  # a reminder is one message; longer texts would continue here
            await self.limiter.send(reminder.chat, False, lambda out=out: self.api.send_message(out))
        return PassCounts(sent=1, late=1 if late >= 1 else 0)

    async def _mark_sent(self, reminder: Reminder, attempts: int = 5) -> None:
        """The sent marker, written as soon as Telegram accepted; retried, since it must land."""
        for attempt in range(1, attempts + 1):
            try:
                await self.store.finish(reminder)
                return
            except Exception:
                if attempt == attempts:
                    raise
                log.warning("sent marker for chat %s not written (attempt %d); retrying",
                            reminder.chat, attempt)
                await asyncio.sleep(0.2 * attempt)
