"""The dispatcher's tunables (kept apart so settings can build them without importing Telegram code)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot.outbound import OutboundLimits


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    lease: timedelta = timedelta(seconds=60)  # must cover a batch's wait for its send slots
    batch: int = 10  # reminders claimed at once in one slot (sent one after another)
    chunk: int = 8  # slots claimed together in one round trip
    concurrency: int = 8  # chunks drained at once
    in_flight: int = 16  # sends waiting for their slot or under way at once
    # Claimed at once: about concurrency x chunk reminders (more where a slot has many due);
    # at 30 messages/s that is ~2 s of sending, well inside the lease.


def background_limits(limits: OutboundLimits) -> OutboundLimits:
    """The shared limits without bursts: reminders are background traffic, so they never take the
    burst allowance replies to people who are typing may need, and never exceed the rate."""
    return replace(limits, global_burst=1, chat_burst=1)
