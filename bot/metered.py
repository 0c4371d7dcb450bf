"""Wrappers that count what passes through them (bot.metrics), so no adapter has to.

`MeteredService` times every `submit` (turns and latency by adapter) and counts the
updates the service drained on behalf of a dead or stalled worker (`recover`);
`MeteredSink` counts replies by kind. Every adapter wraps its service and sink the
same way (the Telegram runner does it in `running_bot`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from bot.metrics import (
    LEASE_RECOVERIES,
    REMINDERS_DUE,
    REMINDERS_LATE,
    REMINDERS_SENT,
    REPLIES,
    TURN_SECONDS,
    TURNS,
)
from flows.messages import InEvent, OutMessage
from flows.sinks import LogReply


def reply_kind(message: OutMessage) -> str:
    """handoff (continue in private), buttons (a question with choices), or text."""
    if message.private_payload:
        return "handoff"
    if message.buttons:
        return "buttons"
    return "text"


def count_replies(messages: Iterable[OutMessage]) -> None:
    """Count replies by kind (adapters that take replies from `handle` call this)."""
    for message in messages:
        REPLIES.labels(reply_kind(message)).inc()


class MeteredSink:
    """A Sink that counts replies by kind, then hands them to `inner` (and returns what it returns:
    a `LogReply` for the commit to write, see flows.sinks)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> LogReply | None:
        count_replies(messages)
        reply: LogReply | None = await self.inner.deliver(event, messages)
        return reply


class MeteredService:
    """The conversation service, with turns, latency and recoveries counted for `adapter`."""

    def __init__(self, inner: Any, adapter: str) -> None:
        self.inner = inner
        self.adapter = adapter
        self._turns = TURNS.labels(adapter)
        self._seconds = TURN_SECONDS.labels(adapter)

    async def submit(self, event: InEvent) -> Any:
        start = time.perf_counter()
        try:
            return await self.inner.submit(event)
        finally:
            self._turns.inc()
            self._seconds.observe(time.perf_counter() - start)

    async def handle(self, event: InEvent) -> list[OutMessage]:
        start = time.perf_counter()
        try:
            replies: list[OutMessage] = await self.inner.handle(event)
            count_replies(replies)
            return replies
        finally:
            self._turns.inc()
            self._seconds.observe(time.perf_counter() - start)

    async def recover(self, *args: Any, **kwargs: Any) -> int:
        recovered: int = await self.inner.recover(*args, **kwargs)
        if recovered:
            LEASE_RECOVERIES.inc(recovered)
        return recovered

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def count_reminder_pass(*, due: int, sent: int, late: int) -> None:
    """Count one dispatcher pass: reminders found due, delivered, and delivered late."""
    REMINDERS_DUE.inc(due)
    REMINDERS_SENT.inc(sent)
    REMINDERS_LATE.inc(late)
