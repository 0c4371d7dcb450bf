"""What every scheme module returns: the answer's core before the channels, notes and sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from policies.model import BackpayVerdict, CostEstimate, LateFee, LateFeePayer, Level, RetireeShortfall

NO_LATE_FEE = LateFee(None, LateFeePayer.NONE)


@dataclass(frozen=True, slots=True)
class Core:
    """The part of an answer a scheme module decides."""

    verdict: BackpayVerdict
    condition: str | None
    rule_level: Level  # the level that decided the verdict and the wait
    local_rule: bool  # the verdict came from a regional rule
    applies_if: str | None = None
    waiting_months: int | None = None
    waiting_days: int | None = None
    resume: date | None = None
    retroactive: bool | None = None
    continuity_reset: bool | None = None
    late_fee: LateFee = NO_LATE_FEE
    cost: CostEstimate | None = None
    retiree: RetireeShortfall | None = None
    deadline: date | None = None
    gap_days: int | None = None
    waiting_range: tuple[int, int | None] | None = None  # high None: no upper bound ("至少3个月")
    nothing_due: bool = False  # nothing to pay back (a retiree with the years): answered like no gap
    wait_after: str = "backpay"  # the wait counts from paying the gap back, or from paying again
    enrolment_closed: date | None = None  # this year's local enrolment period ended on this day
