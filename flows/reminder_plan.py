"""Which reminders an answer calls for, and on which date (pure; storage is flows/reminders.py).

Every date comes from the engine's answer: the back-pay deadline, the day benefits resume
after a waiting period, a region's monthly declaration window (天津: the 26th), a
resident-insurance enrolment deadline from a rule file. A self-payer without a known
window gets a monthly payment reminder on the 1st. Dated reminders go out at 09:00
China time on their day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flows.answer_lines import if_paid_today
from flows.reminders import Kind
from flows.reminders_time import add_months, morning_of
from policies.model import Answer, BackpayVerdict, InsuranceType

WINDOW_LEAD = timedelta(days=7)  # remind a week before the back-pay window closes
ENROLMENT_LEAD = timedelta(days=3)  # and a few days before an enrolment deadline
MONTHLY_DAY = 1  # a self-payer's payment reminder when the region names no window
_DAY_WINDOW = re.compile(r"from_day=(\d+), to_day=(\d+)")


@dataclass(frozen=True, slots=True)
class Plan:
    """A reminder the answer supports: its kind, when it goes out, its argument and why."""

    kind: Kind
    due: datetime
    arg: str
    reason: str  # one plain line: why this date


def plan_reminders(answer: Answer, slots: dict[str, Any], today: date) -> list[Plan]:
    """The reminders worth offering after this answer, soonest first (none in the past)."""
    plans = [
        p
        for p in (
            _window(answer, today),
            _waiting(answer, today),
            _enrolment(answer, today),
            _monthly(answer, slots, today),
        )
        if p is not None
    ]
    return sorted(plans, key=lambda p: p.due)


def _window(answer: Answer, today: date) -> Plan | None:
    deadline = _fact(answer, "backpay_deadline")
    if not isinstance(deadline, date) or answer.can_backpay is BackpayVerdict.NO or deadline <= today:
        return None
    day = max(deadline - WINDOW_LEAD, today + timedelta(days=1))
    return Plan(Kind.WINDOW, morning_of(day), deadline.isoformat(),
                f"{_cn(deadline)}前补缴还按现在的规定办（之后断缴更久，规定不同），提前{(deadline - day).days}天提醒您")


def _waiting(answer: Answer, today: date) -> Plan | None:
    resume = answer.benefits_resume
    if not (answer.waiting_months or answer.waiting_days) or resume is None or resume <= today:
        return None
    wait = f"{answer.waiting_months}个月" if answer.waiting_months else f"{answer.waiting_days}天"
    return Plan(Kind.WAITING, morning_of(resume), resume.isoformat(),
                f"{if_paid_today(answer)}，等待期约{wait}，{_cn(resume)} 起可以报销")


def _enrolment(answer: Answer, today: date) -> Plan | None:
    deadline = _fact(answer, "enrollment_deadline")
    if not isinstance(deadline, date) or deadline <= today:
        return None
    day = max(deadline - ENROLMENT_LEAD, today + timedelta(days=1))
    return Plan(Kind.ENROLMENT, morning_of(day), deadline.isoformat(),
                f"居民医保集中参保缴费 {_cn(deadline)} 截止")


def _monthly(answer: Answer, slots: dict[str, Any], today: date) -> Plan | None:
    if slots.get("insurance_type") != InsuranceType.FLEXIBLE.value:
        return None
    window = _fact(answer, "declaration_window")
    if isinstance(window, tuple):
        from_day, to_day = window
        day = _next_day_of_month(today, from_day)
        return Plan(Kind.DECLARATION, morning_of(day), str(from_day),
                    f"本地个人缴费每月{from_day}日至次月{to_day}日申报，每月{from_day}日提醒您")
    day = _next_day_of_month(today, MONTHLY_DAY)
    return Plan(Kind.MONTHLY, morning_of(day), str(MONTHLY_DAY), f"每月{MONTHLY_DAY}日提醒您按月缴费，避免再次断缴")


def _next_day_of_month(today: date, day_of_month: int) -> date:
    """The next `day_of_month` after today (clipped to short months)."""
    this = add_months(today, 0, day_of_month)
    return this if this > today else add_months(today, 1, day_of_month)


def _fact(answer: Answer, name: str) -> Any:
    """A dated fact of the answer: its typed field, else the rule entry the engine used (trace)."""
    value = getattr(answer, name, None)
    if value is not None:
        return _as_fact(value)
    entry = next((t for t in answer.trace if t.field == name), None)
    return _as_fact(entry.value) if entry is not None else None


def _as_fact(value: Any) -> Any:
    if isinstance(value, date | tuple):
        return value
    if hasattr(value, "from_day") and hasattr(value, "to_day"):
        return (int(value.from_day), int(value.to_day))
    text = str(value)
    if m := _DAY_WINDOW.search(text):
        return (int(m.group(1)), int(m.group(2)))
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
