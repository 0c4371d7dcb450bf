"""Small calendar helpers (month arithmetic, parsing YYYY-MM[-DD])."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, the day clamped to the month's length."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def first_of_month(day: date, plus_months: int = 0) -> date:
    """The first day of ``day``'s month, moved by ``plus_months``."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + plus_months, 12)
    return date(year, month0 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start``'s month to ``end``'s month (Mar -> Jun = 3)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def parse_month(text: str) -> date:
    """Parse ``YYYY-MM`` (or ``YYYY-MM-DD``) into the first day of that month; ValueError if bad."""
    parts = text.strip().split("-")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"不是有效的年月：{text!r}（应为 YYYY-MM，例如 2025-03）")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 1900:
        raise ValueError(f"不是有效的年月：{text!r}（应为 YYYY-MM，例如 2025-03）")
    return date(year, month, 1)


def parse_day(text: str) -> date:
    """Parse ``YYYY-MM-DD``; ValueError with a Chinese message if bad."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"不是有效的日期：{text!r}（应为 YYYY-MM-DD，例如 2025-06-10）") from None
