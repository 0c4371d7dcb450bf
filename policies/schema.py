"""The typed objects a rule file is turned into (parsing is `policies/parsers.py`).

A rule file is one region's rules. Each rule key holds a list of dated entries::

    employee:                       # scheme: employee | resident (never mixed)
      late_fee_daily_rate:
        - since: 2011-07-01         # the day the rule took effect (not the day an article was written)
          value: 0.0005             # typed per key (see parsers.VALUE_PARSERS); or `inherit` / `none`
          sources: [law_86]         # aliases declared under the file's `sources:`
          note: 文字说明（可选，写进回答）
          disputed_by:              # sources that say otherwise: one "来源说法不一" line in the answer
            - {says: "...", sources: [s002]}

``inherit`` means "from this date use the parent region's value"; ``none`` means "this region has no
such rule" (the lookup stops here, nothing is inherited). A key that is absent falls through to the
parent. When an entry starts before its sources were published (long-standing practice described
by a later article), the answer says "截至{as_of}的口径" (`Entry.as_of`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policies.model import (
    BackpayVerdict,
    Cause,
    Confidence,
    InsuranceType,
    LateFeePayer,
    Level,
    Scheme,
    SourceRef,
)


class _Marker:
    """Singleton marker values (`inherit`, `none`, `unknown`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


INHERIT = _Marker("inherit")
NOTHING = _Marker("none")
UNKNOWN = _Marker("unknown")  # a band field no source states: the answer says "unknown" (None)

SOURCE_ID = re.compile(r"^(seed:\d{3}_[0-9a-f]{16}(#\S+)?|(law|doc|reply|site):\S+)$")
REGION_CODE = re.compile(r"^\d{6}$")
NOTE_PREFIX = "note:"


@dataclass(frozen=True, slots=True)
class Source:
    """A source declared in a rule file (``alias`` is local to the file).

    ``verified`` is False when the title or the date is a description we could not check (a
    non-seed source known only from policy-facts.md); such a title is never shown as a real title.
    """

    alias: str
    id: str
    title: str
    confidence: Confidence
    published: date | None
    line: int
    verified: bool = True
    site: str | None = None  # the publishing site ("社保网"), shown before the title
    general: bool = False  # a general article (综述) whose title names a place: said so when cited

    @property
    def ref(self) -> SourceRef:
        return SourceRef(self.id, self.title, self.confidence, self.verified, self.site, self.general)


CONFIDENCE_RANK = {Confidence.OFFICIAL: 3, Confidence.OFFICIAL_REPLY: 2, Confidence.CONTENT_SITE: 1}


def strength(sources: tuple[Source, ...]) -> int:
    """Rank of the strongest source in ``sources`` (3 official .. 1 content site)."""
    return max((CONFIDENCE_RANK[s.confidence] for s in sources), default=0)


@dataclass(frozen=True, slots=True)
class Filter:
    """Who/what a list item or band applies to. ``None`` means "any".

    Gap bounds are months (``min_months``/``max_months``) or, where the source counts days,
    days (``min_days``/``max_days``); all inclusive.
    """

    types: frozenset[InsuranceType] | None = None
    causes: frozenset[Cause] | None = None
    min_months: int | None = None
    max_months: int | None = None
    min_days: int | None = None
    max_days: int | None = None

    def matches_person(self, insurance_type: InsuranceType, cause: Cause) -> bool:
        """True when the type and cause fit (an unknown cause never fits a cause-restricted item)."""
        if self.types is not None and insurance_type not in self.types:
            return False
        return self.causes is None or cause in self.causes

    def matches_gap(self, gap: int | None, days: int | None = None) -> bool:
        """True when the gap fits; an unknown gap fits every item (the answer then lists conditions)."""
        if gap is None:
            return True
        if self.counts_days:
            if days is None:
                return True
            return (self.min_days is None or days >= self.min_days) and (self.max_days is None or days <= self.max_days)
        if self.min_months is not None and gap < self.min_months:
            return False
        return self.max_months is None or gap <= self.max_months

    @property
    def counts_days(self) -> bool:
        return self.min_days is not None or self.max_days is not None

    @property
    def gap_bound(self) -> bool:
        return self.min_months is not None or self.max_months is not None or self.counts_days

    def gap_text(self) -> str:
        """Chinese description of the gap range, e.g. "断缴4–6个月", "断缴61–180天"."""
        if self.counts_days:
            lo, hi, unit = self.min_days, self.max_days, "天"
        else:
            lo, hi, unit = self.min_months, self.max_months, "个月"
        if lo is None and hi is None:
            return ""
        if lo is None or lo <= 0:
            return f"断缴{hi}{unit}及以内"
        if hi is None:
            return f"断缴{lo}{unit}及以上"
        return f"断缴{lo}–{hi}{unit}" if lo != hi else f"断缴{lo}{unit}"


@dataclass(frozen=True, slots=True)
class Band:
    """What happens for a gap in a range. Unset fields fall back to the next matching band up the
    chain; a field set to ``unknown`` (UNKNOWN) stops that and makes the answer's field None."""

    when: Filter
    line: int
    backpay: BackpayVerdict | None = None
    condition: str | None = None
    applies_if: str | None = None  # conditional: whom the cost and steps are for
    waiting_months: int | _Marker | None = None
    waiting_range: tuple[int, int] | None = None  # with waiting_months unknown: the range a source gives
    waiting_days: int | None = None
    resume: str | None = None  # next_month | after_waiting_months | after_waiting_days
    # what the wait counts from: "backpay" (paying the gap back) or "payment" (paying again: the
    # source says "缴费满6个月" and not whether the gap itself can be paid back); taken with the wait
    wait_after: str | None = None
    retroactive: bool | _Marker | None = None
    continuity_reset: bool | _Marker | None = None
    note: str | None = None


BAND_FIELDS = ("backpay", "waiting_months", "resume", "retroactive", "continuity_reset")
RESUME_MODES = ("next_month", "after_waiting_months", "after_waiting_days")
WAIT_AFTER = ("backpay", "payment")


@dataclass(frozen=True, slots=True)
class ListItem:
    """A channel, a material or a note, with the filter saying when it applies."""

    text: str
    when: Filter
    line: int
    kind: str = ""  # channels: online | offline


@dataclass(frozen=True, slots=True)
class ItemList:
    """A list-valued rule. ``extend`` keeps the parent's items after these; otherwise they replace them."""

    items: tuple[ListItem, ...]
    extend: bool


@dataclass(frozen=True, slots=True)
class Dispute:
    """A source that says something else; shown as one "来源说法不一" line."""

    says: str
    sources: tuple[Source, ...]
    line: int
    when: Filter = Filter()  # shown only when the question fits (an unknown gap fits every range)


@dataclass(frozen=True, slots=True)
class Entry:
    """One dated value of one rule key in one file."""

    key: str
    since: date
    value: Any  # typed value, INHERIT or NOTHING
    sources: tuple[Source, ...]
    note: str | None
    disputes: tuple[Dispute, ...]
    line: int
    file: str
    region_code: str
    level: Level
    refs: tuple[SourceRef, ...] = ()  # the sources as answer-ready SourceRefs (built once at load)
    as_of: date | None = None  # the value is known only from sources published on this later day


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One parsed rule file."""

    path: str  # display path, relative to the rules directory
    region_code: str
    name: str
    level: Level
    sources: dict[str, Source]
    rules: dict[tuple[Scheme, str], tuple[Entry, ...]]  # sorted by since
    hotlines: tuple[Entry, ...] = field(default=())


# ---------------------------------------------------------------- typed values of some keys


@dataclass(frozen=True, slots=True)
class EmployeeRate:
    """Employer + personal contribution rate; ``total_max`` when the source only gives a range."""

    total: float
    employer: float | None = None
    personal: float | None = None
    total_max: float | None = None


@dataclass(frozen=True, slots=True)
class Range:
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Payers:
    """Who pays the late fee for each cause; ``personal_max_months``: the source states the
    individual's fee only for gaps up to this many months (longer ones are local practice)."""

    by_cause: dict[Cause, LateFeePayer]
    personal_max_months: int | None = None

    def __str__(self) -> str:
        text = ", ".join(f"{k}: {v}" for k, v in self.by_cause.items())
        return text + (f" (personal stated up to {self.personal_max_months} months)" if self.personal_max_months else "")


@dataclass(frozen=True, slots=True)
class RequiredYears:
    male: float
    female: float
    local_min: float | None = None


@dataclass(frozen=True, slots=True)
class RetireeBackpay:
    allowed: bool
    immediate: bool = False  # done at once at the window (即来即办)


@dataclass(frozen=True, slots=True)
class CostReference:
    """A published example cost: ``amount`` yuan for ``years`` years (used when no base is known)."""

    years: float
    amount: float

    @property
    def per_year(self) -> float:
        return self.amount / self.years


@dataclass(frozen=True, slots=True)
class DayWindow:
    """Monthly declaration window, e.g. from the 26th to the 15th of the next month."""

    from_day: int
    to_day: int


@dataclass(frozen=True, slots=True)
class ResidentWaiting:
    """Resident-scheme waiting period (国办发〔2024〕38号 shape)."""

    fixed_months: int
    extra_per_break_year: int
    repair_per_year: int
    long_break_years: int
    long_break_min_months: int


@dataclass(frozen=True, slots=True)
class ReEnrolRule:
    """What a person can do after a "no": enrol again (`re_enrol` key)."""

    how: str
    benefits_from: str
    waiting_months: int | None  # None: no source states a wait for new enrolees here
    loses: tuple[str, ...]
    channels: tuple[ListItem, ...]
    materials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EmployerDutyRule:
    """What an employer owes for an employer-caused gap (`employer_duty` key)."""

    employer_pays: str
    insured_pays_late_fee: bool
    claimable_after_payment: bool | None
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KeepPayingRule:
    """Left a job with no gap yet: how to keep paying (`keep_paying` key; where: `re_enrol`'s channels)."""

    short: str
    ways: tuple[str, ...]
