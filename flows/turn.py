"""The contract between the dialog (pure decisions) and the service (I/O).

A dialog step is a pure, synchronous function of (state, event, today). It returns
a `Turn`: the new state (or None to forget the conversation), the messages to send,
and side effects the service carries out after the state is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from flows.messages import InEvent, OutMessage
from flows.reminders_ops import ReminderOp
from flows.state import ConversationState


@dataclass(frozen=True, slots=True)
class CountReferral:
    """A deep link from a community service account started this conversation."""

    source: str


@dataclass(frozen=True, slots=True)
class ScheduleReminder:
    """Remind this (private) conversation on `due` with `text`. `kind` names why."""

    kind: str  # "window_closing" | "waiting_ends" | "monthly_payment"
    due: date
    text: str


@dataclass(frozen=True, slots=True)
class CancelReminders:
    """Forget every reminder of this conversation (/cancel)."""


Effect = CountReferral | ScheduleReminder | CancelReminders | ReminderOp


@dataclass(slots=True)
class Turn:
    state: ConversationState | None  # None: forget the conversation
    messages: list[OutMessage] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


class Dialog(Protocol):
    """Anything that can take one conversation one step further."""

    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn: ...
