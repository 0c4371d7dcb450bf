"""A platform-neutral structured view of an answer, for adapters that can draw more than text.

The text of an `OutMessage` is always the primary content and says everything the view says; a
rich adapter (the web page) may draw the view instead: a verdict card, a cost table, a timeline
and the sources. Plain data only (strings, bools, tuples), so any adapter can serialise it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# "nothing_due": no gap to pay back (paid up, enough years, or unemployment benefit pays it).
Verdict = Literal["yes", "conditional", "no", "nothing_due"]


@dataclass(frozen=True, slots=True)
class Timeline:
    """Dates an answer implies, as ISO strings ("2025-06-10"); None where unknown or not applicable."""

    gap_start: str | None = None  # first unpaid month (day 1)
    paid_on: str | None = None  # the day the back-payment is assumed made (the question's date)
    waiting_ends: str | None = None  # last day of the waiting period
    benefits_resume: str | None = None  # first day benefits can be used again


@dataclass(frozen=True, slots=True)
class AnswerView:
    """What the answer card says, as fields.

    `cost_rows` are (label, amount text) pairs in display order, e.g. ("本金", "1,234.00元");
    `sources` are (title, confidence label) pairs; `changed` names the slots a correction changed
    (e.g. ("gap_months",)), empty on a first answer.
    """

    verdict: Verdict
    headline: str
    local_rule: bool
    confidence: str
    cost_rows: tuple[tuple[str, str], ...] = ()
    timeline: Timeline = field(default_factory=Timeline)
    sources: tuple[tuple[str, str], ...] = ()
    changed: tuple[str, ...] = ()
