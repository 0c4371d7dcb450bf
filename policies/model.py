"""Public data model of the policy engine: the query it takes and the answer it gives.

These types are the contract between `policies/` and everything that calls it
(`flows/`, the command line, benchmarks). They are plain frozen dataclasses so
answers can be cached, compared in tests and turned into JSON without surprises.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class InsuranceType(StrEnum):
    """Who the person is, as far as contributions go."""

    EMPLOYEE = "employee"  # 职工医保, paid through an employer
    FLEXIBLE = "flexible"  # 灵活就业, pays employee insurance personally
    RESIDENT = "resident"  # 城乡居民医保 (incl. former 新农合)
    UNEMPLOYED = "unemployed"  # receiving unemployment benefit (fund pays)
    RETIREE = "retiree"  # at or near retirement, short of required years


class Scheme(StrEnum):
    """The insurance scheme a rule belongs to. Rules of the two are never mixed."""

    EMPLOYEE = "employee"  # 职工基本医疗保险 (employees, flexible workers, unemployed, retirees)
    RESIDENT = "resident"  # 城乡居民基本医疗保险


class Cause(StrEnum):
    EMPLOYER = "employer"
    PERSONAL = "personal"
    # Left or changed jobs: rules read it as the person's own gap (like unknown); with no gap yet the
    # answer says how to keep paying now that the old employer no longer does (`Answer.keep_paying`).
    JOB_CHANGE = "job_change"
    UNKNOWN = "unknown"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Confidence(StrEnum):
    """How far a source can be trusted (strongest first)."""

    OFFICIAL = "official"  # law or official document
    OFFICIAL_REPLY = "official_reply"  # an official's reply, reposted
    CONTENT_SITE = "content_site"  # a content site: a lead, said so in the answer


class Level(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class BackpayVerdict(StrEnum):
    YES = "yes"
    CONDITIONAL = "conditional"
    NO = "no"


class LateFeePayer(StrEnum):
    EMPLOYER = "employer"
    INSURED = "insured"
    FUND = "fund"
    NONE = "none"


def scheme_of(insurance_type: InsuranceType) -> Scheme:
    """The scheme an insurance type belongs to."""
    return Scheme.RESIDENT if insurance_type is InsuranceType.RESIDENT else Scheme.EMPLOYEE


@dataclass(frozen=True, slots=True)
class Region:
    """One administrative division (GB/T 2260)."""

    code: str  # six digits, e.g. "650100"
    name: str  # official name, e.g. "乌鲁木齐市"
    level: Level
    parent_code: str | None = None
    full_name: str = ""  # e.g. "新疆维吾尔自治区乌鲁木齐市"


@dataclass(frozen=True, slots=True)
class Query:
    """What the engine is asked. Only `region_code`, `insurance_type` and `on` are required."""

    region_code: str
    insurance_type: InsuranceType
    on: date
    gap_months: int | None = None
    gap_since: date | None = None  # first unpaid month (day 1); gap_months derives from it
    gap_days: int | None = None  # the gap in days up to `on`, when the person counted days ("断了90天")
    cause: Cause = Cause.UNKNOWN
    monthly_base: float | None = None  # yuan per month
    years_paid: float | None = None  # retiree: years of employee insurance paid
    gender: Gender | None = None


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: str  # e.g. "seed:004_278633159ec3df58" or "law:社会保险法#86"
    title: str
    confidence: Confidence
    verified: bool = True  # False: the title/date is our description, not a checked title
    site: str | None = None  # the publishing site, e.g. "社保网"
    general: bool = False  # a general article (综述), though its title may name one place


@dataclass(frozen=True, slots=True)
class Channel:
    kind: str  # "online" | "offline"
    name: str  # e.g. "新疆医保服务平台 App / 小程序", "区（县）医保分中心窗口"


@dataclass(frozen=True, slots=True)
class LateFee:
    """The late fee (滞纳金) on the overdue contributions.

    ``certain`` is True only when a source says it is charged to ``payer``: the law for an employer
    (社会保险法第八十六条), a local rule for an individual. An uncertain fee on an individual is local
    practice ("部分地区…以当地为准"): its ``amount`` is what it could come to, shown apart and never
    part of what the person owes.
    """

    daily_rate: float | None  # e.g. 0.0005
    payer: LateFeePayer
    days: int | None = None  # days overdue (summed over the unpaid months: see `amount`)
    amount: float | None = None  # yuan, when a principal is known
    certain: bool = False


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What paying back would cost. For a "conditional" verdict it holds for the case that meets the
    condition (`Answer.steps_apply_if` says which)."""

    months: int
    monthly_base: float | None  # None: not known (e.g. the unemployment fund's base)
    rate: float  # total contribution rate applied (employer + personal, or flexible rate)
    principal: float
    serious_illness: float  # 大病保险费 part, 0 where not charged or unknown
    late_fee: float  # a certain late fee only (see LateFee.certain); 0 otherwise
    total: float  # principal + serious illness + certain late fee
    formula: str  # human readable, Chinese, with the figures, e.g. "6711 × 10.7% × 4个月 = 2872.31元"
    base_note: str = ""  # where the base came from (the user's, or 60% of the local average...)
    payer: str = ""  # who pays the principal: "employer" | "insured" | "fund"
    person_pays: float | None = None  # what the insured person pays of `total` (0 when employer/fund pays)


@dataclass(frozen=True, slots=True)
class RetireeShortfall:
    required_years: float | None
    years_paid: float | None
    shortfall_years: float | None
    lump_sum: float | None
    formula: str = ""


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """Where one field of the answer came from."""

    field: str
    value: str
    region_code: str
    level: Level
    file: str
    line: int
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReEnrolment:
    """What to do after a "no": enrol again as a new member (where, how, when benefits start, what
    is lost), each part with its sources."""

    how: str  # e.g. "以灵活就业人员身份重新参保缴费（不补缴断缴期间）"
    channels: tuple[Channel, ...]
    materials: tuple[str, ...]
    benefits_from: str  # in words, e.g. "按新参保人员：缴费次月起享受待遇，部分地区设等待期"
    waiting_months: int | None  # None: not stated by any source for this region
    benefits_resume: date | None  # if enrolled on the date of the question; None when not known
    loses: tuple[str, ...]  # e.g. "断缴期间的医疗费用不能报销", "连续参保（缴费）年限重新计算"
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True, slots=True)
class EmployerDuty:
    """An employer-caused gap: what the employer owes and what the insured can do."""

    employer_pays: str  # e.g. "欠缴的医保费（单位和个人部分）及滞纳金"
    insured_pays_late_fee: bool  # False unless a source says otherwise for this region
    claimable_after_payment: bool | None  # gap-period costs claimable once the employer pays; None: unknown
    steps: tuple[str, ...]  # how to get the employer to pay
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True, slots=True)
class KeepPaying:
    """Left a job, no gap yet: the old employer no longer pays; the ways to keep paying so that no
    gap starts, where to pay as a flexible worker, and the sources."""

    short: str  # the ways in one line, for the card
    ways: tuple[str, ...]  # one line each, with the order or article it rests on
    channels: tuple[Channel, ...]  # where to pay as a flexible worker (the region's, else national)
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer. The verdict governs it: a "no" has no channels, materials, cost or resume date
    (`re_enrol` says what to do instead); a "conditional" states the condition, and its cost and
    steps are for the case that meets it (`steps_apply_if`). Unknowns are None, never a guess."""

    region: Region
    rule_level: Level  # the level of the rule that decided the verdict and the waiting period
    local_rule: bool  # the verdict came from a regional rule (False: national practice)
    scheme: Scheme
    insurance_type: InsuranceType
    can_backpay: BackpayVerdict
    condition: str | None  # conditional: the condition; no: why
    steps_apply_if: str | None  # conditional: whom the cost and steps below are for
    channels: tuple[Channel, ...]
    materials: tuple[str, ...]
    waiting_months: int | None  # None: unknown (or counted in days: see waiting_days)
    waiting_days: int | None  # set when the source counts the wait in days
    # wait not known exactly, a source gives a range in months (e.g. 1–6); high None: at least low
    # (居民医保, gap unknown: the fixed 3 months of 国办发〔2024〕38号, more for a longer break)
    waiting_range: tuple[int, int | None] | None
    benefits_resume: date | None  # if paid on the date of the question; None when not known
    retroactive: bool | None  # gap-period costs can still be claimed; None: unknown
    continuity_reset: bool | None  # continuous years start again; None: unknown
    late_fee: LateFee
    cost: CostEstimate | None
    retiree: RetireeShortfall | None
    gap_months: int | None
    gap_days: int | None  # the gap in days, when the deciding rule counts days (e.g. 宜昌 60/180 天)
    backpay_deadline: date | None  # last day paying back keeps today's terms (reminders use it)
    re_enrol: ReEnrolment | None  # after a "no"
    employer_duty: EmployerDuty | None  # employer-caused gaps
    disagreements: tuple[str, ...]  # one line each: "来源说法不一：…"
    as_of: date | None  # a figure known only from a later article: "截至{as_of}的口径"
    hotlines: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    notes: tuple[str, ...]
    trace: tuple[TraceEntry, ...] = ()
    missing_inputs: tuple[str, ...] = ()  # Query field names that would make the answer fuller
    # nothing to pay back (can_backpay "no", condition says why): the gap is 0 months, a retiree has
    # the years, or the unemployment fund pays for someone on benefit
    no_gap: bool = False
    # what the wait counts from: "backpay" (paying the gap back) or "payment" (paying again: the
    # source counts the wait from resuming contributions and does not say the gap can be paid back,
    # e.g. 杭州 "缴费满6个月后"; a resident's wait after enrolling again)
    wait_after: str = "backpay"
    # resident insurance: this year's local enrolment period is known to have ended on this day,
    # before the question's date (聊城 2025-02-28). Joining now is outside it: 国办发〔2024〕38号's
    # fixed wait applies, but whether the region takes enrolment now is local, so no resume date.
    enrolment_closed: date | None = None
    keep_paying: KeepPaying | None = None  # no gap after leaving a job: how to keep paying
    # the region (or its province) has rule files of its own, whether or not any of them decided this
    # answer: a national answer then says the local rules do not cover the case, not that none exist
    regional_rules: bool = False

    @property
    def channel_kinds(self) -> tuple[str, ...]:
        """Distinct channel kinds, in a stable order ("online" before "offline")."""
        kinds = {c.kind for c in self.channels}
        return tuple(k for k in ("online", "offline") if k in kinds)

    def to_json(self) -> dict[str, Any]:
        """The answer as a JSON-ready dict (the shape `python -m policies answer --json` prints)."""
        raw = asdict(self)
        return {
            "region": {"code": self.region.code, "name": self.region.name, "level": str(self.region.level)},
            "rule_level": str(self.rule_level),
            "local_rule": self.local_rule,
            "scheme": str(self.scheme),
            "insurance_type": str(self.insurance_type),
            "can_backpay": str(self.can_backpay),
            "condition": self.condition,
            "steps_apply_if": self.steps_apply_if,
            "channels": list(self.channel_kinds),
            "channel_details": [{"kind": c.kind, "name": c.name} for c in self.channels],
            "materials": list(self.materials),
            "waiting_months": self.waiting_months,
            "waiting_days": self.waiting_days,
            "waiting_range": list(self.waiting_range) if self.waiting_range else None,
            "benefits_resume": _iso(self.benefits_resume),
            "retroactive": self.retroactive,
            "continuity_reset": self.continuity_reset,
            "late_fee": {
                "daily_rate": self.late_fee.daily_rate,
                "payer": str(self.late_fee.payer),
                "days": self.late_fee.days,
                "amount": self.late_fee.amount,
                "certain": self.late_fee.certain,
            },
            "cost": raw["cost"],
            "retiree": raw["retiree"],
            "gap_months": self.gap_months,
            "gap_days": self.gap_days,
            "backpay_deadline": _iso(self.backpay_deadline),
            "re_enrol": _re_enrol_json(self.re_enrol),
            "employer_duty": _employer_json(self.employer_duty),
            "disagreements": list(self.disagreements),
            "as_of": _iso(self.as_of),
            "hotlines": list(self.hotlines),
            "sources": [_source_json(s) for s in self.sources],
            "notes": list(self.notes),
            "missing_inputs": list(self.missing_inputs),
            "no_gap": self.no_gap,
            "wait_after": self.wait_after,
            "enrolment_closed": _iso(self.enrolment_closed),
            "keep_paying": _keep_paying_json(self.keep_paying),
            "regional_rules": self.regional_rules,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _source_json(s: SourceRef) -> dict[str, Any]:
    return {"id": s.id, "title": s.title, "confidence": str(s.confidence), "verified": s.verified}


def _re_enrol_json(r: ReEnrolment | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "how": r.how,
        "channel_details": [{"kind": c.kind, "name": c.name} for c in r.channels],
        "materials": list(r.materials),
        "benefits_from": r.benefits_from,
        "waiting_months": r.waiting_months,
        "benefits_resume": _iso(r.benefits_resume),
        "loses": list(r.loses),
        "sources": [_source_json(s) for s in r.sources],
    }


def _keep_paying_json(k: KeepPaying | None) -> dict[str, Any] | None:
    if k is None:
        return None
    return {
        "short": k.short,
        "ways": list(k.ways),
        "channel_details": [{"kind": c.kind, "name": c.name} for c in k.channels],
        "sources": [_source_json(s) for s in k.sources],
    }


def _employer_json(d: EmployerDuty | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {
        "employer_pays": d.employer_pays,
        "insured_pays_late_fee": d.insured_pays_late_fee,
        "claimable_after_payment": d.claimable_after_payment,
        "steps": list(d.steps),
        "sources": [_source_json(s) for s in d.sources],
    }
