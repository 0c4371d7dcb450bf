"""Bridge from conversation slots to the policy engine.

The dialog keeps slots as JSON-safe values; the engine takes a typed `Query`.
This module is the one place that converts between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from policies import RuleBook
from policies.model import Answer, Cause, Gender, InsuranceType, Query
from policies.regions import RegionIndex


def _month_start(value: str) -> date | None:
    """Parse "YYYY-MM" into the first day of that month."""
    try:
        year, month = value.split("-")[:2]
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        return None


def query_from_slots(slots: dict[str, Any], today: date) -> Query | None:
    """Build an engine query from slots; None until region and insurance type are known."""
    region = slots.get("region")
    kind = slots.get("insurance_type")
    if not region or not kind:
        return None
    # A gap said in days goes as days; exact days give the months too ("N多天" keeps its loose months).
    gap_days = slots.get("gap_days")
    gap_since = _month_start(slots["gap_since"]) if slots.get("gap_since") and gap_days is None else None
    gap_months = slots.get("gap_months") if gap_days is None or slots.get("gap_range") else None
    cause = slots.get("cause")
    gender = slots.get("gender")
    return Query(
        region_code=str(region),
        insurance_type=InsuranceType(kind),
        on=today,
        gap_months=int(gap_months) if gap_months is not None and gap_since is None else None,
        gap_since=gap_since,
        gap_days=int(gap_days) if gap_days is not None else None,
        cause=engine_cause(cause),
        monthly_base=float(slots["monthly_base"]) if slots.get("monthly_base") else None,
        years_paid=float(slots["years_paid"]) if slots.get("years_paid") is not None else None,
        gender=Gender(gender) if gender else None,
    )


def engine_cause(cause: str | None) -> Cause:
    """The engine's cause for the slot's: a job change is its own cause where the engine knows one,
    else unknown (the engine then answers the person's own case and says what an employer changes)."""
    try:
        return Cause(cause) if cause else Cause.UNKNOWN
    except ValueError:
        return Cause.UNKNOWN


@dataclass(frozen=True, slots=True)
class Advisor:
    """Answers slot sets from one loaded rule book and region index (both immutable)."""

    rulebook: RuleBook
    regions: RegionIndex

    def answer(self, slots: dict[str, Any], today: date) -> Answer | None:
        """The engine's answer for these slots, or None if region/type are still missing."""
        query = query_from_slots(slots, today)
        if query is None:
            return None
        return self.rulebook.answer(query)
