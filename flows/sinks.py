"""Where the conversation service's replies go: the `Sink` an adapter provides, and a collecting one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from flows.messages import InEvent, OutMessage


class Sink(Protocol):
    """Where replies go: an adapter sends them to the chat the event came from."""

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None: ...


class CollectingSink:
    """A sink that keeps what it is given (terminal chat, tests)."""

    def __init__(self) -> None:
        self.delivered: list[tuple[InEvent, list[OutMessage]]] = []

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        self.delivered.append((event, list(messages)))
