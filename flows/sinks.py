"""Where the conversation service's replies go: the `Sink` an adapter provides, and a collecting one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flows.messages import InEvent, OutMessage
from flows.store import LogAppend, LogEntry


@dataclass(frozen=True, slots=True)
class LogReply:
    """A sink's answer when its chat is kept with the conversation rather than sent (a web page's
    transcript): the entries the service has the turn's commit write with the state, exactly once,
    and who to hand the log's entries after `append.since` once they are written (or None)."""

    append: LogAppend
    written: Callable[[list[LogEntry]], None] | None = None


class Sink(Protocol):
    """Where replies go: an adapter sends them to the chat the event came from, or returns them
    as a `LogReply` to be written with the state. A wrapper must return what its sink returns."""

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> LogReply | None: ...


class CollectingSink:
    """A sink that keeps what it is given (terminal chat, tests)."""

    def __init__(self) -> None:
        self.delivered: list[tuple[InEvent, list[OutMessage]]] = []

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        self.delivered.append((event, list(messages)))
