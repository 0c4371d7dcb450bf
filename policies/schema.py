"""What a rule file may contain, and the typed objects it is turned into.

A rule file is one region's rules. Each rule key holds a list of dated entries::

    employee:                       # scheme: employee | resident (never mixed)
      late_fee_daily_rate:
        - since: 2011-07-01         # date it takes effect; a later entry supersedes an earlier one
          value: 0.0005             # typed per key (see VALUE_PARSERS); or `inherit` / `none`
          sources: [law_86]         # aliases declared under the file's `sources:`
          note: 文字说明（可选，写进回答）
          disputed_by:              # weaker sources that say otherwise: kept, shown as a note
            - {says: "...", sources: [s002]}

``inherit`` means "from this date use the parent region's value"; ``none`` means "this region has no
such rule" (the lookup stops here, nothing is inherited). A key that is absent falls through to the
parent. Parsing is strict: every problem raises RuleError with file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from policies.errors import RuleError
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
from policies.yamlstrict import YNode


class _Marker:
    """Singleton marker values (`inherit`, `none`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


INHERIT = _Marker("inherit")
NOTHING = _Marker("none")

SOURCE_ID = re.compile(r"^(seed:\d{3}_[0-9a-f]{16}|(law|doc|reply|site):\S+)$")
REGION_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True)
class Source:
    """A source declared in a rule file (``alias`` is local to the file)."""

    alias: str
    id: str
    title: str
    confidence: Confidence
    published: date | None
    line: int


CONFIDENCE_RANK = {Confidence.OFFICIAL: 3, Confidence.OFFICIAL_REPLY: 2, Confidence.CONTENT_SITE: 1}


def strength(sources: tuple[Source, ...]) -> int:
    """Rank of the strongest source in ``sources`` (3 official .. 1 content site)."""
    return max((CONFIDENCE_RANK[s.confidence] for s in sources), default=0)


@dataclass(frozen=True, slots=True)
class Filter:
    """Who/what a list item or band applies to. ``None`` means "any"."""

    types: frozenset[InsuranceType] | None = None
    causes: frozenset[Cause] | None = None
    min_months: int | None = None
    max_months: int | None = None

    def matches_person(self, insurance_type: InsuranceType, cause: Cause) -> bool:
        """True when the type and cause fit (an unknown cause never fits a cause-restricted item)."""
        if self.types is not None and insurance_type not in self.types:
            return False
        return self.causes is None or cause in self.causes

    def matches_gap(self, gap: int | None) -> bool:
        """True when the gap fits; an unknown gap fits every item (the answer then lists conditions)."""
        if gap is None:
            return True
        if self.min_months is not None and gap < self.min_months:
            return False
        return self.max_months is None or gap <= self.max_months

    @property
    def gap_bound(self) -> bool:
        return self.min_months is not None or self.max_months is not None

    def gap_text(self) -> str:
        """Chinese description of the gap range, e.g. "断缴4–6个月"."""
        lo, hi = self.min_months, self.max_months
        if lo is None and hi is None:
            return ""
        if lo is None or lo <= 0:
            return f"断缴{hi}个月及以内"
        if hi is None:
            return f"断缴{lo}个月及以上"
        return f"断缴{lo}–{hi}个月" if lo != hi else f"断缴{lo}个月"


@dataclass(frozen=True, slots=True)
class Band:
    """What happens for a gap in a range. Unset fields fall back to the next matching band up the chain."""

    when: Filter
    line: int
    backpay: BackpayVerdict | None = None
    condition: str | None = None
    waiting_months: int | None = None
    waiting_days: int | None = None
    resume: str | None = None  # next_month | after_waiting_months | after_waiting_days
    retroactive: bool | None = None
    continuity_reset: bool | None = None
    note: str | None = None


BAND_FIELDS = ("backpay", "waiting_months", "resume", "retroactive", "continuity_reset")
RESUME_MODES = ("next_month", "after_waiting_months", "after_waiting_days")


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
    """A weaker source that says something else; shown as a note."""

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


# ---------------------------------------------------------------- small typed readers


class Ctx:
    """Parsing context: the file being read (for error messages)."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, line: int, problem: str, fix: str) -> RuleError:
        return RuleError(self.file, line, problem, fix)


def fields(ctx: Ctx, node: YNode, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
           ) -> dict[str, YNode]:
    """The keys of a mapping node, refusing unknown and missing ones."""
    if node.kind != "map":
        raise ctx.fail(node.line, f"{what} must be a mapping (key: value), got {_shown(node)}",
                       f"write {what} as 'key: value' lines with keys {', '.join(required + optional)}")
    allowed = required + optional
    assert node.key_lines is not None
    for key in node.value:
        if key not in allowed:
            raise ctx.fail(node.key_lines[key], f"unknown key {key!r} in {what}",
                           f"use one of: {', '.join(allowed)} (check the spelling)")
    for key in required:
        if key not in node.value:
            raise ctx.fail(node.line, f"{what} lacks the key {key!r}", f"add '{key}: ...'")
    return dict(node.value)


def _shown(node: YNode) -> str:
    if node.kind == "scalar":
        return f"{type(node.value).__name__} {node.value!r}"
    return "a list" if node.kind == "seq" else "a mapping"


def text(ctx: Ctx, node: YNode, what: str) -> str:
    if node.kind != "scalar" or not isinstance(node.value, str) or not node.value.strip():
        raise ctx.fail(node.line, f"{what} must be non-empty text, got {_shown(node)}", "write it as text")
    return node.value.strip()


def integer(ctx: Ctx, node: YNode, what: str, lo: int = 0, hi: int = 10_000) -> int:
    value = node.value
    if node.kind != "scalar" or isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ctx.fail(node.line, f"{what} must be a whole number from {lo} to {hi}, got {_shown(node)}",
                       f"write a whole number, e.g. {max(lo, min(hi, 3))}")
    return value


def number(ctx: Ctx, node: YNode, what: str, lo: float, hi: float, example: str) -> float:
    value = node.value
    ok = node.kind == "scalar" and not isinstance(value, bool) and isinstance(value, int | float)
    if not ok or not lo <= float(value) <= hi:
        raise ctx.fail(node.line, f"{what} must be a number from {lo:g} to {hi:g}, got {_shown(node)}",
                       f"write a plain number, e.g. {example}")
    return float(value)


def boolean(ctx: Ctx, node: YNode, what: str) -> bool:
    if node.kind != "scalar" or not isinstance(node.value, bool):
        raise ctx.fail(node.line, f"{what} must be true or false, got {_shown(node)}", "write true or false")
    return bool(node.value)


def a_date(ctx: Ctx, node: YNode, what: str) -> date:
    if node.kind != "scalar" or not isinstance(node.value, date):
        raise ctx.fail(node.line, f"{what} must be a date, got {_shown(node)}",
                       "write a real calendar date as YYYY-MM-DD (unquoted)")
    return node.value


def choice(ctx: Ctx, node: YNode, what: str, options: tuple[str, ...]) -> str:
    if node.kind != "scalar" or node.value not in options:
        raise ctx.fail(node.line, f"{what} must be one of {', '.join(options)}, got {_shown(node)}",
                       f"write one of: {', '.join(options)}")
    return str(node.value)


def seq(ctx: Ctx, node: YNode, what: str) -> list[YNode]:
    if node.kind != "seq" or not node.value:
        raise ctx.fail(node.line, f"{what} must be a non-empty list, got {_shown(node)}",
                       "write it as a YAML list ('- item' lines or [a, b])")
    return list(node.value)


# ---------------------------------------------------------------- value parsers (one per rule type)

FILTER_KEYS = ("types", "causes", "min_months", "max_months")


def parse_filter(ctx: Ctx, f: dict[str, YNode]) -> Filter:
    types = causes = None
    if "types" in f:
        opts = tuple(t.value for t in InsuranceType)
        types = frozenset(InsuranceType(choice(ctx, n, "types item", opts)) for n in seq(ctx, f["types"], "types"))
    if "causes" in f:
        causes = frozenset(Cause(choice(ctx, n, "causes item", ("employer", "personal")))
                           for n in seq(ctx, f["causes"], "causes"))
    lo = integer(ctx, f["min_months"], "min_months", 0, 600) if "min_months" in f else None
    hi = integer(ctx, f["max_months"], "max_months", 0, 600) if "max_months" in f else None
    if lo is not None and hi is not None and lo > hi:
        raise ctx.fail(f["min_months"].line, f"min_months {lo} is above max_months {hi}", "swap or fix them")
    return Filter(types, causes, lo, hi)


def p_rate(ctx: Ctx, node: YNode) -> float:
    return number(ctx, node, "the value (a rate)", 0.0, 1.0, "0.0005 for 0.05%")


def p_ratio(ctx: Ctx, node: YNode) -> float:
    return number(ctx, node, "the value (a ratio)", 0.01, 10.0, "0.6 for 60%")


def p_money(ctx: Ctx, node: YNode) -> float:
    return number(ctx, node, "the value (yuan)", 1.0, 10_000_000.0, "6711")


def p_bool(ctx: Ctx, node: YNode) -> bool:
    return boolean(ctx, node, "the value")


def p_date(ctx: Ctx, node: YNode) -> date:
    return a_date(ctx, node, "the value")


@dataclass(frozen=True, slots=True)
class EmployeeRate:
    """Employer + personal contribution rate; ``total_max`` when the source only gives a range."""

    total: float
    employer: float | None = None
    personal: float | None = None
    total_max: float | None = None


def p_rate_employee(ctx: Ctx, node: YNode) -> EmployeeRate:
    f = fields(ctx, node, "value", (), ("employer", "personal", "total", "total_max"))
    if "employer" in f or "personal" in f:
        if "total" in f or "total_max" in f or not ("employer" in f and "personal" in f):
            raise ctx.fail(node.line, "give either employer + personal, or total (+ total_max)",
                           "write {employer: 0.087, personal: 0.02} or {total: 0.10, total_max: 0.12}")
        emp = number(ctx, f["employer"], "employer", 0.0, 1.0, "0.087")
        per = number(ctx, f["personal"], "personal", 0.0, 1.0, "0.02")
        return EmployeeRate(round(emp + per, 6), emp, per)
    if "total" not in f:
        raise ctx.fail(node.line, "the rate lacks 'total' (or employer + personal)", "add total: 0.10")
    total = number(ctx, f["total"], "total", 0.0, 1.0, "0.10")
    top = number(ctx, f["total_max"], "total_max", total, 1.0, "0.12") if "total_max" in f else None
    return EmployeeRate(total, total_max=top)


def p_payer_map(ctx: Ctx, node: YNode) -> dict[Cause, LateFeePayer]:
    f = fields(ctx, node, "value", (), ("employer", "personal"))
    opts = tuple(p.value for p in LateFeePayer)
    return {Cause(k): LateFeePayer(choice(ctx, v, f"payer for {k}", opts)) for k, v in f.items()}


@dataclass(frozen=True, slots=True)
class Range:
    low: float
    high: float


def p_ratio_range(ctx: Ctx, node: YNode) -> Range:
    f = fields(ctx, node, "value", ("min", "max"))
    low = number(ctx, f["min"], "min", 0.01, 10.0, "0.6")
    return Range(low, number(ctx, f["max"], "max", low, 10.0, "3.0"))


def p_money_range(ctx: Ctx, node: YNode) -> Range:
    f = fields(ctx, node, "value", ("min", "max"))
    low = number(ctx, f["min"], "min", 1.0, 10_000_000.0, "7460")
    return Range(low, number(ctx, f["max"], "max", low, 10_000_000.0, "37302"))


def p_serious(ctx: Ctx, node: YNode) -> float | None:
    """Serious-illness fee: ``{monthly: 12.5}`` or ``{monthly: null}`` (charged, amount not known)."""
    f = fields(ctx, node, "value", ("monthly",))
    if f["monthly"].value is None:
        return None
    return number(ctx, f["monthly"], "monthly", 0.0, 100_000.0, "12.5")


@dataclass(frozen=True, slots=True)
class RequiredYears:
    male: float
    female: float
    local_min: float | None = None


def p_required_years(ctx: Ctx, node: YNode) -> RequiredYears:
    f = fields(ctx, node, "value", ("male", "female"), ("local_min",))
    male = number(ctx, f["male"], "male", 1, 50, "25")
    female = number(ctx, f["female"], "female", 1, 50, "20")
    local = number(ctx, f["local_min"], "local_min", 0, 50, "10") if "local_min" in f else None
    return RequiredYears(male, female, local)


@dataclass(frozen=True, slots=True)
class RetireeBackpay:
    allowed: bool
    immediate: bool = False  # done at once at the window (即来即办)


def p_retiree_backpay(ctx: Ctx, node: YNode) -> RetireeBackpay:
    f = fields(ctx, node, "value", ("allowed",), ("immediate",))
    return RetireeBackpay(boolean(ctx, f["allowed"], "allowed"),
                          boolean(ctx, f["immediate"], "immediate") if "immediate" in f else False)


@dataclass(frozen=True, slots=True)
class CostReference:
    """A published example cost: ``amount`` yuan for ``years`` years (used when no base is known)."""

    years: float
    amount: float

    @property
    def per_year(self) -> float:
        return self.amount / self.years


def p_cost_reference(ctx: Ctx, node: YNode) -> CostReference:
    f = fields(ctx, node, "value", ("years", "amount"))
    return CostReference(number(ctx, f["years"], "years", 0.1, 50, "10"),
                         number(ctx, f["amount"], "amount", 1, 10_000_000, "61000"))


@dataclass(frozen=True, slots=True)
class DayWindow:
    """Monthly declaration window, e.g. from the 26th to the 15th of the next month."""

    from_day: int
    to_day: int


def p_day_window(ctx: Ctx, node: YNode) -> DayWindow:
    f = fields(ctx, node, "value", ("from_day", "to_day"))
    return DayWindow(integer(ctx, f["from_day"], "from_day", 1, 31), integer(ctx, f["to_day"], "to_day", 1, 31))


@dataclass(frozen=True, slots=True)
class ResidentWaiting:
    """Resident-scheme waiting period (国办发〔2024〕38号 shape)."""

    fixed_months: int
    extra_per_break_year: int
    repair_per_year: int
    long_break_years: int
    long_break_min_months: int


def p_resident_waiting(ctx: Ctx, node: YNode) -> ResidentWaiting:
    keys = ("fixed_months", "extra_per_break_year", "repair_per_year", "long_break_years", "long_break_min_months")
    f = fields(ctx, node, "value", keys)
    return ResidentWaiting(*(integer(ctx, f[k], k, 0, 120) for k in keys))


def p_bands(ctx: Ctx, node: YNode) -> tuple[Band, ...]:
    bands = []
    opts = tuple(v.value for v in BackpayVerdict)
    for item in seq(ctx, node, "gap_bands value"):
        f = fields(ctx, item, "a gap band", (), (*FILTER_KEYS, "backpay", "condition", "waiting_months",
                                                "waiting_days", "resume", "retroactive", "continuity_reset",
                                                "note"))
        band = Band(
            when=parse_filter(ctx, f),
            line=item.line,
            backpay=BackpayVerdict(choice(ctx, f["backpay"], "backpay", opts)) if "backpay" in f else None,
            condition=text(ctx, f["condition"], "condition") if "condition" in f else None,
            waiting_months=integer(ctx, f["waiting_months"], "waiting_months", 0, 120)
            if "waiting_months" in f else None,
            waiting_days=integer(ctx, f["waiting_days"], "waiting_days", 1, 3650) if "waiting_days" in f else None,
            resume=choice(ctx, f["resume"], "resume", RESUME_MODES) if "resume" in f else None,
            retroactive=boolean(ctx, f["retroactive"], "retroactive") if "retroactive" in f else None,
            continuity_reset=boolean(ctx, f["continuity_reset"], "continuity_reset")
            if "continuity_reset" in f else None,
            note=text(ctx, f["note"], "note") if "note" in f else None,
        )
        if band.backpay in (BackpayVerdict.CONDITIONAL, BackpayVerdict.NO) and not band.condition:
            raise ctx.fail(item.line, f"band with backpay {band.backpay} has no condition",
                           "add condition: 说明条件或原因（中文）")
        if band.resume == "after_waiting_days" and band.waiting_days is None:
            raise ctx.fail(item.line, "resume after_waiting_days needs waiting_days", "add waiting_days: 30")
        if all(getattr(band, k) is None for k in (*BAND_FIELDS, "condition", "note")):
            raise ctx.fail(item.line, "the band says nothing", "add backpay, waiting_months, resume, ...")
        bands.append(band)
    return tuple(bands)


def _items(ctx: Ctx, node: YNode, what: str, text_key: str, with_kind: bool) -> ItemList:
    f = fields(ctx, node, "value", ("items",), ("extend",))
    extend = boolean(ctx, f["extend"], "extend") if "extend" in f else False
    out = []
    for item in seq(ctx, f["items"], f"{what} items"):
        required = (text_key, "kind") if with_kind else (text_key,)
        g = fields(ctx, item, f"a {what} item", required, FILTER_KEYS)
        kind = choice(ctx, g["kind"], "kind", ("online", "offline")) if with_kind else ""
        out.append(ListItem(text(ctx, g[text_key], text_key), parse_filter(ctx, g), item.line, kind))
    return ItemList(tuple(out), extend)


def p_channels(ctx: Ctx, node: YNode) -> ItemList:
    return _items(ctx, node, "channel", "name", True)


def p_materials(ctx: Ctx, node: YNode) -> ItemList:
    return _items(ctx, node, "material", "item", False)


def p_note(ctx: Ctx, node: YNode) -> ListItem:
    if node.kind == "scalar":
        return ListItem(text(ctx, node, "note text"), Filter(), node.line)
    f = fields(ctx, node, "a note", ("text",), FILTER_KEYS)
    return ListItem(text(ctx, f["text"], "text"), parse_filter(ctx, f), node.line)


def p_hotlines(ctx: Ctx, node: YNode) -> tuple[str, ...]:
    return tuple(text(ctx, n, "hotline") for n in seq(ctx, node, "hotlines value"))


Parser = Callable[[Ctx, YNode], Any]

# key -> (parser, schemes it may appear under)
_E, _R = (Scheme.EMPLOYEE,), (Scheme.RESIDENT,)
_BOTH = (Scheme.EMPLOYEE, Scheme.RESIDENT)
VALUE_PARSERS: dict[str, tuple[Parser, tuple[Scheme, ...]]] = {
    "gap_bands": (p_bands, _E),
    "channels": (p_channels, _BOTH),
    "materials": (p_materials, _BOTH),
    "late_fee_daily_rate": (p_rate, _E),
    "late_fee_payer": (p_payer_map, _E),
    "rate_employee": (p_rate_employee, _E),
    "rate_flexible": (p_rate, _E),
    "flexible_base_ratio": (p_ratio, _E),
    "base_reference": (p_money, _E),
    "base_ratio_range": (p_ratio_range, _E),
    "base_limits": (p_money_range, _E),
    "serious_illness": (p_serious, _E),
    "unemployed_fund_pays": (p_bool, _E),
    "unemployed_base_ratio": (p_ratio, _E),
    "retiree_required_years": (p_required_years, _E),
    "retiree_backpay": (p_retiree_backpay, _E),
    "retiree_cost_reference": (p_cost_reference, _E),
    "declaration_window": (p_day_window, _E),
    "resident_waiting": (p_resident_waiting, _R),
    "enrollment_deadline": (p_date, _R),
}
NOTE_PREFIX = "note:"
