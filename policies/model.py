"""Public data model of the policy engine: the query it takes and the answer it gives.

These types are the contract between `policies/` and everything that calls it
(`flows/`, the command line, benchmarks). They are plain frozen dataclasses so
answers can be cached, compared in tests and turned into JSON without surprises.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
    cause: Cause = Cause.UNKNOWN
    monthly_base: float | None = None  # yuan per month
    years_paid: float | None = None  # retiree: years of employee insurance paid
    gender: Gender | None = None


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: str  # e.g. "seed:004_278633159ec3df58" or "law:社会保险法#86"
    title: str
    confidence: Confidence


@dataclass(frozen=True, slots=True)
class Channel:
    kind: str  # "online" | "offline"
    name: str  # e.g. "新疆医保服务平台 App / 小程序", "区（县）医保分中心窗口"


@dataclass(frozen=True, slots=True)
class LateFee:
    daily_rate: float | None  # e.g. 0.0005
    payer: LateFeePayer
    days: int | None = None
    amount: float | None = None  # yuan, when a principal is known


@dataclass(frozen=True, slots=True)
class CostEstimate:
    months: int
    monthly_base: float
    rate: float  # total contribution rate applied (employer + personal, or flexible rate)
    principal: float
    serious_illness: float  # 大病保险费 part, 0 where not charged or unknown
    late_fee: float
    total: float
    formula: str  # human readable, Chinese, with the figures, e.g. "6711 × 10.7% × 4 = 2872.31"
    base_note: str = ""  # where the base came from (the user's, or 60% of the local average...)
    payer: str = ""  # who pays the principal: "employer" | "insured" | "fund" (added by policies engine)
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
class Answer:
    region: Region
    rule_level: Level  # most specific level that supplied a rule
    scheme: Scheme
    insurance_type: InsuranceType
    can_backpay: BackpayVerdict
    condition: str | None  # when conditional or no: why, in Chinese
    channels: tuple[Channel, ...]
    materials: tuple[str, ...]
    waiting_months: int
    benefits_resume: date | None  # if paid on the date of the question
    retroactive: bool  # gap-period costs can still be claimed
    continuity_reset: bool
    late_fee: LateFee
    cost: CostEstimate | None
    retiree: RetireeShortfall | None
    gap_months: int | None
    hotlines: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    notes: tuple[str, ...]
    trace: tuple[TraceEntry, ...] = ()
    missing_inputs: tuple[str, ...] = ()  # Query field names that would make the answer fuller
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def channel_kinds(self) -> tuple[str, ...]:
        """Distinct channel kinds, in a stable order ("online" before "offline")."""
        kinds = {c.kind for c in self.channels}
        return tuple(k for k in ("online", "offline") if k in kinds)

    def to_json(self) -> dict[str, Any]:
        """The answer as a JSON-ready dict (the shape `python -m policies answer --json` prints)."""
        raw = asdict(self)
        out: dict[str, Any] = {
            "region": {"code": self.region.code, "name": self.region.name, "level": str(self.region.level)},
            "rule_level": str(self.rule_level),
            "scheme": str(self.scheme),
            "insurance_type": str(self.insurance_type),
            "can_backpay": str(self.can_backpay),
            "condition": self.condition,
            "channels": list(self.channel_kinds),
            "channel_details": [{"kind": c.kind, "name": c.name} for c in self.channels],
            "materials": list(self.materials),
            "waiting_months": self.waiting_months,
            "benefits_resume": self.benefits_resume.isoformat() if self.benefits_resume else None,
            "retroactive": self.retroactive,
            "continuity_reset": self.continuity_reset,
            "late_fee": {
                "daily_rate": self.late_fee.daily_rate,
                "payer": str(self.late_fee.payer),
                "days": self.late_fee.days,
                "amount": self.late_fee.amount,
            },
            "cost": raw["cost"],
            "retiree": raw["retiree"],
            "gap_months": self.gap_months,
            "hotlines": list(self.hotlines),
            "sources": [
                {"id": s.id, "title": s.title, "confidence": str(s.confidence)} for s in self.sources
            ],
            "notes": list(self.notes),
            "missing_inputs": list(self.missing_inputs),
        }
        deadline = self.extra.get("backpay_deadline")
        out["backpay_deadline"] = deadline.isoformat() if isinstance(deadline, date) else None
        return out
