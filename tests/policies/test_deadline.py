"""The back-pay deadline: the last day on which paying keeps today's terms."""

from __future__ import annotations

from datetime import date

from policies import RuleBook
from policies.model import Cause, InsuranceType, Query


def test_deadline_is_the_day_before_the_gap_enters_a_worse_band(book: RuleBook) -> None:
    # Urumqi (seed 004): up to 3 months is back-paid without a wait; from 4 months a 6-month wait.
    q = Query("650100", InsuranceType.EMPLOYEE, on=date(2026, 11, 22), gap_since=date(2026, 10, 1),
              cause=Cause.PERSONAL)
    answer = book.answer(q)
    assert answer.waiting_months == 0
    assert answer.backpay_deadline == date(2027, 1, 31)
    assert answer.to_json()["backpay_deadline"] == "2027-01-31"
    later = book.answer(Query("650100", InsuranceType.EMPLOYEE, on=date(2027, 2, 1),
                                  gap_since=date(2026, 10, 1), cause=Cause.PERSONAL))
    assert later.waiting_months > 0


def test_no_deadline_without_a_known_start_or_when_not_payable(book: RuleBook) -> None:
    unknown = book.answer(Query("650100", InsuranceType.EMPLOYEE, on=date(2026, 11, 22)))
    assert unknown.backpay_deadline is None
    beijing_long = book.answer(Query("110000", InsuranceType.FLEXIBLE, on=date(2026, 11, 22),
                                         gap_months=8, cause=Cause.PERSONAL))
    assert str(beijing_long.can_backpay) != "yes" and beijing_long.backpay_deadline is None


def test_deadline_counts_days_where_the_rule_counts_days(book: RuleBook) -> None:
    # 宜昌 (灵活就业): up to 60 days -> next month; 61-180 days -> 3-month wait; over 180 -> new enrolment.
    since = date(2025, 3, 1)
    early = book.answer(Query("420500", InsuranceType.FLEXIBLE, on=date(2025, 4, 10), gap_since=since))
    assert (early.gap_days, early.waiting_months, early.backpay_deadline) == (40, 0, date(2025, 4, 30))
    later = book.answer(Query("420500", InsuranceType.FLEXIBLE, on=date(2025, 5, 10), gap_since=since))
    assert (later.gap_days, later.waiting_months, later.backpay_deadline) == (70, 3, date(2025, 8, 28))
    assert (date(2025, 8, 28) - since).days == 180
    gone = book.answer(Query("420500", InsuranceType.FLEXIBLE, on=date(2025, 8, 29), gap_since=since))
    assert gone.can_backpay.value == "no" and gone.backpay_deadline is None
