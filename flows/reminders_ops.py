"""What the dialog asks of the reminder store: typed effects of a turn (pure data, no I/O).

The dialog decides; `flows.reminders_actions.ReminderActions` carries these out against
Redis and words the confirmation from what was really stored, so nothing is announced
to a user before it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ReminderSpec:
    """One reminder to set: kind letter (flows.reminders.Kind), when, argument, and why (shown)."""

    kind: str
    due: datetime
    arg: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetReminders:
    """Store these reminders for this private conversation and confirm each with its date."""

    specs: tuple[ReminderSpec, ...]


@dataclass(frozen=True, slots=True)
class ListReminders:
    """Show this person's reminders with a cancel button each (/reminders)."""


@dataclass(frozen=True, slots=True)
class CancelReminder:
    """Cancel the reminder named `ref` (flows.reminders.Reminder.ref)."""

    ref: str


@dataclass(frozen=True, slots=True)
class StopReminders:
    """Cancel every reminder of this person (/stop, or the list's "全部取消")."""

    command: bool = True  # /stop (True) or the list's button (False): the wording differs


@dataclass(frozen=True, slots=True)
class SnoozeReminder:
    """The person pressed "再提醒我" under a sent reminder: the same again a week later."""

    kind: str
    arg: str


ReminderOp = SetReminders | ListReminders | CancelReminder | StopReminders | SnoozeReminder
