"""The slots one message filled: what `flows.understand` heard, as JSON-safe values for the state."""

from __future__ import annotations

from enum import Enum
from typing import Any

from flows.slots import SLOTS
from flows.understand import Understanding
from policies.model import Region


def slot_updates(heard: Understanding) -> dict[str, Any]:
    """The slots one message filled, as JSON-safe values for the stored state (generic over the
    slot table: an `Understanding` field named like a slot fills it when the value is valid)."""
    updates: dict[str, Any] = {}
    for spec in SLOTS:
        raw = getattr(heard, spec.name, None)
        value = spec.validate(_stored(raw)) if raw is not None else None
        if value is not None:
            updates[spec.name] = value
    if heard.gap_since is not None:  # the start month travels with the months it gives
        updates["gap_since"] = heard.gap_since.strftime("%Y-%m")
    if "gap_months" in updates and heard.gap_range is not None:
        updates["gap_range"] = list(heard.gap_range)
    if "gap_months" in updates and heard.gap_days is not None:
        updates["gap_days"] = heard.gap_days
    if "gap_months" in updates and heard.gap_ended:  # the gap ended: its months, not up to today
        updates["gap_ended"] = True
    if "years_paid" in updates and heard.years_range is not None:
        updates["years_range"] = list(heard.years_range)
    return updates


def _stored(value: Any) -> Any:
    """A region by its code, an enum by its value, anything else as it is."""
    if isinstance(value, Region):
        return value.code
    return value.value if isinstance(value, Enum) else value
