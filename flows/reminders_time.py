"""China time for reminders: quiet hours, the hour a dated reminder goes out, lateness.

Everything takes the current time as an argument (a `Clock` the caller owns), so tests
move time without sleeping. Times are aware datetimes; Asia/Shanghai has no DST.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
Clock = Callable[[], datetime]

SEND_HOUR = 9  # a reminder set for a day goes out at 09:00 that day
QUIET_FROM = time(21, 0)  # nothing is sent from 21:00 ...
QUIET_UNTIL = time(8, 0)  # ... until 08:00
RELEASE_HOUR = 9  # what fell due in the quiet hours goes out at 09:00
MAX_LATE = timedelta(days=30)  # later than this: dropped with a log line, not sent


def real_clock() -> datetime:
    """The real time (UTC, aware)."""
    return datetime.now(UTC)


class SetClock:
    """A clock set to a moment, running on in real time from there (`python -m bot reminders
    send-due --now`), or standing still (`running=False`, for tests). `set` moves it."""

    def __init__(self, start: datetime, *, running: bool = True) -> None:
        self._running = running
        self.set(start)

    def set(self, moment: datetime) -> None:
        self._start = moment
        self._origin = _time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self() + delta)

    def __call__(self) -> datetime:
        if not self._running:
            return self._start
        return self._start + timedelta(seconds=_time.monotonic() - self._origin)


def china(moment: datetime) -> datetime:
    """`moment` in China time."""
    return moment.astimezone(CHINA)


def morning_of(day: date) -> datetime:
    """When a reminder set for `day` is due: 09:00 China time."""
    return datetime.combine(day, time(SEND_HOUR), tzinfo=CHINA)


def is_quiet(moment: datetime) -> bool:
    """Whether `moment` lies in the quiet hours (21:00 up to, not including, 08:00 China time)."""
    local = china(moment).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def release_at(due: datetime) -> datetime:
    """The first moment a reminder due at `due` may be sent: `due`, or 09:00 after quiet hours."""
    local = china(due)
    if not is_quiet(local):
        return local
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, time(RELEASE_HOUR), tzinfo=CHINA)


def days_late(due: datetime, now: datetime) -> int:
    """Whole days between a reminder's release time and `now` (0 when on time)."""
    late = now - release_at(due)
    return max(0, late // timedelta(days=1))


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, CHINA)


def add_months(day: date, months: int, on_day: int | None = None) -> date:
    """`day` moved by whole calendar months, the day clipped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    wanted = on_day if on_day is not None else day.day
    return date(year, month, min(wanted, _month_days(year, month)))


def _month_days(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day
