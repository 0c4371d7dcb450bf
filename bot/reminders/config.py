"""The dispatcher's tunables (kept apart so settings can build them without importing Telegram code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    lease: timedelta = timedelta(seconds=60)  # must cover a batch's wait for its send slots
    batch: int = 10  # reminders claimed at once in one slot (sent one after another)
    concurrency: int = 8  # slots drained at once
