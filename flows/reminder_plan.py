"""Which one-to-one reminders an answer calls for (pure; storage is flows/reminders.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flows.turn import ScheduleReminder
from policies.model import Answer, BackpayVerdict, InsuranceType


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def plan_reminders(answer: Answer, slots: dict[str, Any], today: date) -> list[ScheduleReminder]:
    """Reminders worth setting for this answer: the back-pay deadline (a week before it
    closes), the end of a waiting period, and for self-payers the next monthly payment."""
    plans: list[ScheduleReminder] = []
    deadline = answer.backpay_deadline
    if deadline is not None and answer.can_backpay is not BackpayVerdict.NO and deadline > today:
        due = max(today + timedelta(days=1), deadline - timedelta(days=7))
        plans.append(
            ScheduleReminder(
                "window_closing",
                due,
                f"补缴期限将于 {deadline.isoformat()} 截止，请尽快办理补缴。",
            )
        )
    if (answer.waiting_months or answer.waiting_days) and answer.benefits_resume and answer.benefits_resume > today:
        plans.append(
            ScheduleReminder(
                "waiting_ends",
                answer.benefits_resume,
                "如已按时补缴，医保等待期今天结束，可以正常报销了（以当地经办机构为准）。",
            )
        )
    if slots.get("insurance_type") == InsuranceType.FLEXIBLE.value:
        plans.append(
            ScheduleReminder(
                "monthly_payment",
                _first_of_next_month(today),
                "本月灵活就业医保记得按时缴费，避免再次断缴。",
            )
        )
    return plans
