"""The late fee (滞纳金) part of an answer: rate, who pays, whether that is certain, and days.

《社会保险法》第八十六条 binds employers. For an individual the national sources say only that
some regions charge it, so a fee on the insured is certain only where a regional rule says so
(a `late_fee_payer` entry below the national file); otherwise it is local practice and is never
added to what the person owes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from policies.dates import first_of_month
from policies.model import Cause, LateFee, LateFeePayer, Level
from policies.reader import Reader
from policies.schema import Payers


def late_fee_rule(r: Reader, asked_cause: Cause) -> LateFee:
    """Rate and payer for this cause (``asked_cause`` may be unknown: read as the person's own)."""
    rate = r.value("late_fee_daily_rate", "late_fee.daily_rate")
    payers = r.entry("late_fee_payer", "late_fee.payer")
    if payers is None:
        return LateFee(rate, LateFeePayer.NONE)
    rule: Payers = payers.value
    payer = rule.by_cause.get(Cause.PERSONAL if asked_cause is Cause.UNKNOWN else asked_cause, LateFeePayer.NONE)
    stated = rule.personal_max_months is None or (r.gap is not None and r.gap <= rule.personal_max_months)
    certain = payer is LateFeePayer.EMPLOYER or (
        payer is LateFeePayer.INSURED and payers.level is not Level.NATIONAL and stated)
    return LateFee(rate, payer, certain=certain)


def overdue_days(gap_since: date, months: int, on: date) -> int:
    """Days overdue summed over the unpaid months: each month is overdue from the first day of the
    month after it."""
    total = 0
    for k in range(months):
        days = (on - first_of_month(gap_since, k + 1)).days
        if days > 0:
            total += days
    return total


def with_days(fee: LateFee, gap_since: date | None, months: int | None, on: date) -> LateFee:
    """``fee`` with its overdue days filled in (when the gap is known and a fee applies)."""
    if fee.days is not None or gap_since is None or not months or fee.daily_rate is None:
        return fee
    return replace(fee, days=overdue_days(gap_since, months, on))
