"""Reminders for WeChat followers: a customer-service message inside the 48-hour window, else on their next message.

WeChat lets an account write to a follower only within 48 hours of the follower's last
message (客服消息). So a due reminder of channel "wechat:<appid>" is

* sent as a customer-service message when the window is open (claim -> begin -> send ->
  finish, the reminders store's protocol, as the Telegram dispatcher does);
* otherwise parked: the claim is given back to be taken again only when it would be too
  late to send (then dropped, as everywhere), and `due_for` hands it to the adapter when
  the follower next writes, to be shown above the reply to that message.

Quiet hours (21:00-08:00 China time) hold what a dispatcher would send; a reminder shown
with a reply is shown whatever the hour (the person is writing just then).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta

from bot.metrics import REMINDERS_DUE, REMINDERS_LATE, REMINDERS_SENT
from bot.reminders.config import DispatchConfig
from bot.wechat.outbox import PLATFORM, WeChatOutbox
from bot.wechat.render import render
from flows.messages import OutMessage
from flows.reminders import Reminder
from flows.reminders_store import ReminderStore
from flows.reminders_text import reminder_message
from flows.reminders_time import MAX_LATE, Clock, days_late, is_quiet, real_clock

log = logging.getLogger(__name__)
PARK_MARGIN = timedelta(minutes=1)  # a parked reminder is next taken just after MAX_LATE: then dropped


@dataclass(slots=True)
class PassCounts:
    """What one pass did (the Telegram dispatcher's counts, plus `held_window`: parked for the
    follower's next message because the 48-hour window is closed)."""

    sent: int = 0
    late: int = 0
    held_quiet: int = 0
    held_window: int = 0
    dropped: int = 0

    def add(self, other: PassCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


class WeChatReminders:
    """Delivers the reminders of one official account."""

    def __init__(self, store: ReminderStore, outbox: WeChatOutbox, app_id: str, *, clock: Clock = real_clock,
                 config: DispatchConfig | None = None) -> None:
        self.store = store
        self.outbox = outbox
        self.app_id = app_id
        self.channel = f"{PLATFORM}:{app_id}"
        self.clock = clock
        self.config = config or DispatchConfig()
        self.token = secrets.token_hex(8)

    async def run_pass(self) -> PassCounts:
        """Send (or park) everything due now; returns the counts."""
        counts = PassCounts()
        now = self.clock()
        if is_quiet(now):
            counts.held_quiet = await self.store.held(self.channel, now)
            return counts
        heads: dict[int, int | None] = {}
        for slot in await self.store.due_slots(self.channel, now):
            while True:
                claimed = await self.store.claim(self.channel, slot, self.clock(), self.config.lease,
                                                 self.config.batch, self.token)
                for reminder in claimed.reminders:
                    counts.add(await self._one(reminder))
                if len(claimed.reminders) < self.config.batch:
                    break
            heads[slot] = claimed.head
        if heads:
            await self.store.settle(self.channel, heads)
        return counts

    async def _one(self, reminder: Reminder) -> PassCounts:
        REMINDERS_DUE.inc()
        now = self.clock()
        if now - reminder.release > MAX_LATE:
            log.warning("WeChat reminder %s dropped: due %s, more than %s days late",
                        reminder.kind.value, reminder.due.isoformat(), MAX_LATE.days)
            await self.store.finish(reminder)
            return PassCounts(dropped=1)
        if not await self.outbox.window_open(reminder.conversation_id):
            return await self._park(reminder)
        if not await self.store.begin(reminder, self.token, self.clock() + self.config.lease):
            return PassCounts()  # another dispatcher, or the follower's own message, took it
        late = days_late(reminder.due, now)
        text = render([reminder_message(reminder, late)], None).text
        if not await self.outbox.send_custom_message(self.app_id, reminder.chat, text):
            return await self._park(reminder)
        await self.store.finish(reminder)
        REMINDERS_SENT.inc()
        if late >= 1:
            REMINDERS_LATE.inc()
        return PassCounts(sent=1, late=1 if late >= 1 else 0)

    async def _park(self, reminder: Reminder) -> PassCounts:
        """Give the claim back until just after it would be dropped; `due_for` shows it before then."""
        await self.store.release(reminder, self.token, reminder.release + MAX_LATE + PARK_MARGIN)
        return PassCounts(held_window=1)

    async def due_for(self, cid: str) -> list[OutMessage]:
        """The follower's due reminders, taken from the store, to show with the reply to their message."""
        now = self.clock()
        shown: list[OutMessage] = []
        for reminder in await self.store.of(cid):
            if reminder.release > now or now - reminder.release > MAX_LATE:
                continue
            if not await self.store.remove([reminder]):
                continue  # a dispatcher took it meanwhile
            following = reminder.following()
            if following is not None:
                await self.store.add(following)
            shown.append(reminder_message(reminder, days_late(reminder.due, now)))
            REMINDERS_SENT.inc()
        return shown

    async def run_forever(self, stop: asyncio.Event, every: float,
                          on_pass: Callable[[PassCounts], None] | None = None) -> None:
        """A pass every `every` seconds until `stop` is set; a failed pass is logged and retried."""
        while not stop.is_set():
            try:
                counts = await self.run_pass()
                if on_pass is not None:
                    on_pass(counts)
                if counts.sent or counts.dropped or counts.held_window:
                    log.info("WeChat reminders: %s", counts.line())
            except Exception:
                log.exception("WeChat reminder pass failed; trying again in %ss", every)
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
