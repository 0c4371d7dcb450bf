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
    """Rate and payer for this cause (``asked_cause`` may be unknown: read as the person's own).

    Only what says it is cited: the law for an employer's fee; for an individual's, a local rule
    (its payer entry, and its own rate when it has one) or else the content sites of
    ``late_fee_personal_practice``.
    """
    cause = Cause.PERSONAL if asked_cause is Cause.UNKNOWN else asked_cause
    payers = r.now.first("late_fee_payer")
    if payers is None:  # no payer rule at all: the rate alone, charged to no one
        return LateFee(r.value("late_fee_daily_rate", "late_fee.daily_rate"), LateFeePayer.NONE)
    rule: Payers = payers.value
    payer = rule.by_cause.get(cause, LateFeePayer.NONE)
    if payer is LateFeePayer.NONE and cause is Cause.PERSONAL:
        practice = r.value("late_fee_personal_practice", "late_fee.daily_rate")
        return LateFee(practice, LateFeePayer.INSURED) if practice is not None else LateFee(None, payer)
    r.record("late_fee.payer", payers, str(rule), payers.line)
    if payer is LateFeePayer.INSURED:
        stated = rule.personal_max_months is None or (r.gap is not None and r.gap <= rule.personal_max_months)
        certain = payers.level is not Level.NATIONAL and stated
        return LateFee(_personal_rate(r), payer, certain=certain)
    rate = r.value("late_fee_daily_rate", "late_fee.daily_rate")
    return LateFee(rate, payer, certain=payer is LateFeePayer.EMPLOYER)


def _personal_rate(r: Reader) -> float | None:
    """An individual's daily rate: the region's own when it states one, else local practice."""
    e = r.now.first("late_fee_daily_rate")
    if e is not None and e.level is not Level.NATIONAL:
        r.record("late_fee.daily_rate", e, f"{e.value:g}", e.line)
        return float(e.value)
    return r.value("late_fee_personal_practice", "late_fee.daily_rate")


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
