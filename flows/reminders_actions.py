"""Carries out a turn's reminder effects against Redis and words the replies (async I/O).

The service calls `resolve` after the dialog step and before delivering the turn's
replies, so a confirmation says what was really stored. Every effect is idempotent
(setting the same reminder twice stores it once; cancelling twice finds it gone), which
matters because a turn whose commit fails is processed again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import get_args

from flows import reminders_text as say
from flows.messages import InEvent, OutMessage
from flows.pii import redact
from flows.reminders import Kind, Reminder, clean_arg, split_conversation
from flows.reminders_ops import (
    CancelReminder,
    ListReminders,
    ReminderOp,
    SetReminders,
    SnoozeReminder,
    StopReminders,
)
from flows.reminders_store import ReminderStore
from flows.reminders_time import Clock, china, morning_of, real_clock
from flows.turn import Turn

log = logging.getLogger(__name__)

_OPS = get_args(ReminderOp)
SNOOZE = timedelta(days=7)
FAILED = "抱歉，提醒这一步没有办成（系统繁忙），请稍后再试一次。"


class ReminderActions:
    """Runs `ReminderOp` effects for one conversation and returns what to say."""

    def __init__(self, store: ReminderStore, clock: Clock = real_clock) -> None:
        self.store = store
        self.clock = clock

    async def resolve(self, event: InEvent, turn: Turn) -> Turn:
        """Carry out the turn's reminder effects; their replies join the turn's messages."""
        ops = [e for e in turn.effects if isinstance(e, _OPS)]
        if not ops:
            return turn
        messages = list(turn.messages)
        for op in ops:
            try:
                messages.extend(await self.run(event, op))  # type: ignore[arg-type]
            except Exception as exc:  # Redis trouble: say so; nothing was promised
                log.error("reminder %s for %s failed: %s", type(op).__name__, event.conversation_id,
                          redact(repr(exc)))
                messages.append(OutMessage(FAILED))
        turn.messages = messages
        turn.effects = [e for e in turn.effects if not isinstance(e, _OPS)]
        return turn

    async def run(self, event: InEvent, op: ReminderOp) -> list[OutMessage]:
        """One effect; returns the reply."""
        cid = event.conversation_id
        found = split_conversation(cid)
        if found is None:
            return [OutMessage(say.PRIVATE_ONLY)]
        channel, chat = found
        if isinstance(op, SetReminders):
            stored: list[Reminder] = []
            full = False
            for spec in op.specs:
                reminder = Reminder(channel, chat, Kind(spec.kind), spec.due, clean_arg(spec.arg))
                if await self.store.add(reminder):
                    stored.append(reminder)
                else:
                    full = True
            return [say.confirmed(stored, {s.kind: s.reason for s in op.specs}, full)]
        if isinstance(op, ListReminders):
            return [say.listing(await self.store.of(cid))]
        if isinstance(op, CancelReminder):
            gone = await self.store.cancel(cid, op.ref)
            return [say.cancelled(gone) if gone else OutMessage(say.GONE)]
        if isinstance(op, StopReminders):
            n = await self.store.cancel_all(cid)
            return [OutMessage(say.STOPPED.format(n=n) if n else say.STOPPED_NONE)]
        if isinstance(op, SnoozeReminder):
            today = china(self.clock()).date()
            again = Reminder(channel, chat, Kind(op.kind), morning_of(today), op.arg).snoozed(
                morning_of(today + SNOOZE))
            if not await self.store.add(again):
                return [OutMessage(say.FULL)]
            return [say.confirmed([again], {}, False)]
        raise TypeError(f"not a reminder effect: {op!r}")
