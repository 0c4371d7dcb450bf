"""The value parser of each rule key: YAML node in, typed value (see `policies/schema.py`) out.

To add a rule key: write its parser here, add it to `VALUE_PARSERS` with the schemes it belongs
to, and read it in the module of the answer part that uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from policies.limits import MAX_GAP_MONTHS
from policies.model import BackpayVerdict, Cause, InsuranceType, LateFeePayer, Scheme
from policies.readers import Ctx, a_date, boolean, choice, fields, integer, number, seq, text
from policies.schema import (
    BAND_FIELDS,
    RESUME_MODES,
    UNKNOWN,
    WAIT_AFTER,
    Band,
    CostReference,
    DayWindow,
    EmployeeRate,
    EmployerDutyRule,
    Filter,
    ItemList,
    KeepPayingRule,
    ListItem,
    Payers,
    Range,
    ReEnrolRule,
    RequiredYears,
    ResidentWaiting,
    RetireeBackpay,
)
from policies.yamlstrict import YNode

FILTER_KEYS = ("types", "causes", "min_months", "max_months", "min_days", "max_days")


def _bounds(ctx: Ctx, f: dict[str, YNode], unit: str, top: int) -> tuple[int | None, int | None]:
    lo_key, hi_key = f"min_{unit}", f"max_{unit}"
    lo = integer(ctx, f[lo_key], lo_key, 0, top) if lo_key in f else None
    hi = integer(ctx, f[hi_key], hi_key, 0, top) if hi_key in f else None
    if lo is not None and hi is not None and lo > hi:
        raise ctx.fail(f[lo_key].line, f"{lo_key} {lo} is above {hi_key} {hi}", "swap or fix them")
    return lo, hi


def parse_filter(ctx: Ctx, f: dict[str, YNode]) -> Filter:
    """The filter keys of an item, band or dispute (`types`, `causes`, months or days bounds)."""
    types = causes = None
    if "types" in f:
        opts = tuple(t.value for t in InsuranceType)
        types = frozenset(InsuranceType(choice(ctx, n, "types item", opts)) for n in seq(ctx, f["types"], "types"))
    if "causes" in f:
        causes = frozenset(Cause(choice(ctx, n, "causes item", ("employer", "personal")))
                           for n in seq(ctx, f["causes"], "causes"))
    lo, hi = _bounds(ctx, f, "months", MAX_GAP_MONTHS)
    lo_d, hi_d = _bounds(ctx, f, "days", 20_000)
    if (lo_d is not None or hi_d is not None) and (lo is not None or hi is not None):
        raise ctx.fail(f["min_days" if "min_days" in f else "max_days"].line,
                       "a filter counts the gap in months or in days, not both",
                       "keep the unit the source uses")
    return Filter(types, causes, lo, hi, lo_d, hi_d)


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


def p_payer_map(ctx: Ctx, node: YNode) -> Payers:
    f = fields(ctx, node, "value", (), ("employer", "personal", "personal_max_months"))
    opts = tuple(p.value for p in LateFeePayer)
    limit = f.pop("personal_max_months", None)
    return Payers({Cause(k): LateFeePayer(choice(ctx, v, f"payer for {k}", opts)) for k, v in f.items()},
                  integer(ctx, limit, "personal_max_months", 1, MAX_GAP_MONTHS) if limit is not None else None)


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


def p_required_years(ctx: Ctx, node: YNode) -> RequiredYears:
    f = fields(ctx, node, "value", ("male", "female"), ("local_min",))
    male = number(ctx, f["male"], "male", 1, 50, "25")
    female = number(ctx, f["female"], "female", 1, 50, "20")
    local = number(ctx, f["local_min"], "local_min", 0, 50, "10") if "local_min" in f else None
    return RequiredYears(male, female, local)


def p_retiree_backpay(ctx: Ctx, node: YNode) -> RetireeBackpay:
    f = fields(ctx, node, "value", ("allowed",), ("immediate",))
    return RetireeBackpay(boolean(ctx, f["allowed"], "allowed"),
                          boolean(ctx, f["immediate"], "immediate") if "immediate" in f else False)


def p_cost_reference(ctx: Ctx, node: YNode) -> CostReference:
    f = fields(ctx, node, "value", ("years", "amount"))
    return CostReference(number(ctx, f["years"], "years", 0.1, 50, "10"),
                         number(ctx, f["amount"], "amount", 1, 10_000_000, "61000"))


def p_day_window(ctx: Ctx, node: YNode) -> DayWindow:
    f = fields(ctx, node, "value", ("from_day", "to_day"))
    return DayWindow(integer(ctx, f["from_day"], "from_day", 1, 31), integer(ctx, f["to_day"], "to_day", 1, 31))


def p_resident_waiting(ctx: Ctx, node: YNode) -> ResidentWaiting:
    keys = ("fixed_months", "extra_per_break_year", "repair_per_year", "long_break_years", "long_break_min_months")
    f = fields(ctx, node, "value", keys)
    return ResidentWaiting(*(integer(ctx, f[k], k, 0, 120) for k in keys))


def _int_or_unknown(ctx: Ctx, node: YNode, what: str) -> Any:
    return UNKNOWN if node.value == "unknown" else integer(ctx, node, what, 0, 120)


def _bool_or_unknown(ctx: Ctx, node: YNode, what: str) -> Any:
    return UNKNOWN if node.value == "unknown" else boolean(ctx, node, what)


BAND_KEYS = (*FILTER_KEYS, "backpay", "condition", "applies_if", "waiting_months", "waiting_range", "waiting_days",
             "resume", "wait_after", "retroactive", "continuity_reset", "note")


def _months_range(ctx: Ctx, node: YNode) -> tuple[int, int]:
    f = fields(ctx, node, "waiting_range", ("min", "max"))
    low = integer(ctx, f["min"], "min", 0, 120)
    return low, integer(ctx, f["max"], "max", low, 120)


def p_band(ctx: Ctx, item: YNode) -> Band:
    """One gap band; `unknown` is allowed for waiting_months, retroactive and continuity_reset."""
    f = fields(ctx, item, "a gap band", (), BAND_KEYS)
    opts = tuple(v.value for v in BackpayVerdict)
    band = Band(
        when=parse_filter(ctx, f),
        line=item.line,
        backpay=BackpayVerdict(choice(ctx, f["backpay"], "backpay", opts)) if "backpay" in f else None,
        condition=text(ctx, f["condition"], "condition") if "condition" in f else None,
        applies_if=text(ctx, f["applies_if"], "applies_if") if "applies_if" in f else None,
        waiting_months=_int_or_unknown(ctx, f["waiting_months"], "waiting_months") if "waiting_months" in f else None,
        waiting_range=_months_range(ctx, f["waiting_range"]) if "waiting_range" in f else None,
        waiting_days=integer(ctx, f["waiting_days"], "waiting_days", 1, 3650) if "waiting_days" in f else None,
        resume=choice(ctx, f["resume"], "resume", RESUME_MODES) if "resume" in f else None,
        wait_after=choice(ctx, f["wait_after"], "wait_after", WAIT_AFTER) if "wait_after" in f else None,
        retroactive=_bool_or_unknown(ctx, f["retroactive"], "retroactive") if "retroactive" in f else None,
        continuity_reset=_bool_or_unknown(ctx, f["continuity_reset"], "continuity_reset")
        if "continuity_reset" in f else None,
        note=text(ctx, f["note"], "note") if "note" in f else None,
    )
    if band.backpay in (BackpayVerdict.CONDITIONAL, BackpayVerdict.NO) and not band.condition:
        raise ctx.fail(item.line, f"band with backpay {band.backpay} has no condition",
                       "add condition: 说明条件或原因（中文）")
    if band.backpay is BackpayVerdict.CONDITIONAL and not band.applies_if:
        raise ctx.fail(item.line, "a conditional band does not say whom its cost and steps are for",
                       "add applies_if: 符合条件的情形（中文），e.g. 因重大疾病等特殊情况获准补缴的")
    if band.waiting_range is not None and band.waiting_months is not UNKNOWN:
        raise ctx.fail(item.line, "waiting_range is for a wait that is not known exactly",
                       "write waiting_months: unknown beside it (or drop waiting_range)")
    if band.wait_after is not None and band.waiting_months is None and band.waiting_days is None:
        raise ctx.fail(item.line, "wait_after says what a wait counts from, but the band has no wait",
                       "add waiting_months (or waiting_days) beside it, or drop wait_after")
    if band.resume == "after_waiting_days" and band.waiting_days is None:
        raise ctx.fail(item.line, "resume after_waiting_days needs waiting_days", "add waiting_days: 30")
    if all(getattr(band, k) is None for k in (*BAND_FIELDS, "condition", "note")):
        raise ctx.fail(item.line, "the band says nothing", "add backpay, waiting_months, resume, ...")
    return band


def p_bands(ctx: Ctx, node: YNode) -> tuple[Band, ...]:
    return tuple(p_band(ctx, item) for item in seq(ctx, node, "gap_bands value"))


def _item(ctx: Ctx, item: YNode, what: str, text_key: str, with_kind: bool) -> ListItem:
    required = (text_key, "kind") if with_kind else (text_key,)
    g = fields(ctx, item, f"a {what} item", required, FILTER_KEYS)
    kind = choice(ctx, g["kind"], "kind", ("online", "offline")) if with_kind else ""
    return ListItem(text(ctx, g[text_key], text_key), parse_filter(ctx, g), item.line, kind)


def _items(ctx: Ctx, node: YNode, what: str, text_key: str, with_kind: bool) -> ItemList:
    f = fields(ctx, node, "value", ("items",), ("extend",))
    extend = boolean(ctx, f["extend"], "extend") if "extend" in f else False
    items = tuple(_item(ctx, i, what, text_key, with_kind) for i in seq(ctx, f["items"], f"{what} items"))
    return ItemList(items, extend)


def p_channels(ctx: Ctx, node: YNode) -> ItemList:
    return _items(ctx, node, "channel", "name", True)


def p_materials(ctx: Ctx, node: YNode) -> ItemList:
    return _items(ctx, node, "material", "item", False)


def p_note(ctx: Ctx, node: YNode) -> ListItem:
    """A note: text, or ``{text, filters..., about: backpay}`` (``about: backpay``: only shown when
    back-pay is possible; kept in `ListItem.kind`)."""
    if node.kind == "scalar":
        return ListItem(text(ctx, node, "note text"), Filter(), node.line)
    f = fields(ctx, node, "a note", ("text",), (*FILTER_KEYS, "about"))
    about = choice(ctx, f["about"], "about", ("backpay",)) if "about" in f else ""
    return ListItem(text(ctx, f["text"], "text"), parse_filter(ctx, f), node.line, about)


def p_text(ctx: Ctx, node: YNode) -> str:
    """A sentence shown as it is (e.g. `no_gap`: what someone without a gap reads)."""
    return text(ctx, node, "value")


def p_hotlines(ctx: Ctx, node: YNode) -> tuple[str, ...]:
    return tuple(text(ctx, n, "hotline") for n in seq(ctx, node, "hotlines value"))


def _texts(ctx: Ctx, node: YNode, what: str) -> tuple[str, ...]:
    return tuple(text(ctx, n, what) for n in seq(ctx, node, what))


def p_re_enrol(ctx: Ctx, node: YNode) -> ReEnrolRule:
    """``{how, benefits_from, waiting_months (number or unknown), loses: [...], channels: [...], materials: [...]}``."""
    f = fields(ctx, node, "value", ("how", "benefits_from", "waiting_months", "loses"), ("channels", "materials"))
    wait = _int_or_unknown(ctx, f["waiting_months"], "waiting_months")
    channels = tuple(_item(ctx, i, "channel", "name", True) for i in seq(ctx, f["channels"], "channels")) \
        if "channels" in f else ()
    return ReEnrolRule(
        how=text(ctx, f["how"], "how"),
        benefits_from=text(ctx, f["benefits_from"], "benefits_from"),
        waiting_months=None if wait is UNKNOWN else wait,
        loses=_texts(ctx, f["loses"], "loses"),
        channels=channels,
        materials=_texts(ctx, f["materials"], "materials") if "materials" in f else (),
    )


def p_employer_duty(ctx: Ctx, node: YNode) -> EmployerDutyRule:
    """``{employer_pays, insured_pays_late_fee, claimable_after_payment (bool or unknown), steps: [...]}``."""
    f = fields(ctx, node, "value", ("employer_pays", "insured_pays_late_fee", "claimable_after_payment", "steps"))
    claim = _bool_or_unknown(ctx, f["claimable_after_payment"], "claimable_after_payment")
    return EmployerDutyRule(
        employer_pays=text(ctx, f["employer_pays"], "employer_pays"),
        insured_pays_late_fee=boolean(ctx, f["insured_pays_late_fee"], "insured_pays_late_fee"),
        claimable_after_payment=None if claim is UNKNOWN else claim,
        steps=_texts(ctx, f["steps"], "steps"),
    )


def p_keep_paying(ctx: Ctx, node: YNode) -> KeepPayingRule:
    """``{short, ways: [...]}``."""
    f = fields(ctx, node, "value", ("short", "ways"))
    return KeepPayingRule(text(ctx, f["short"], "short"), _texts(ctx, f["ways"], "ways"))


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
    "late_fee_personal_practice": (p_rate, _E),
    "rate_employee": (p_rate_employee, _E),
    "rate_flexible": (p_rate, _E),
    "flexible_base_ratio": (p_ratio, _E),
    "base_reference": (p_money, _E),
    "base_ratio_range": (p_ratio_range, _E),
    "base_limits": (p_money_range, _E),
    "serious_illness": (p_serious, _E),
    "unemployed_fund_pays": (p_bool, _E),
    "unemployed_base_ratio": (p_ratio, _E),
    "unemployed_after_benefit": (p_text, _E),
    "retiree_required_years": (p_required_years, _E),
    "retiree_backpay": (p_retiree_backpay, _E),
    "retiree_cost_reference": (p_cost_reference, _E),
    "declaration_window": (p_day_window, _E),
    "re_enrol": (p_re_enrol, _E),
    "employer_duty": (p_employer_duty, _E),
    "keep_paying": (p_keep_paying, _E),
    "no_gap_job_change": (p_text, _E),
    "resident_waiting": (p_resident_waiting, _R),
    "enrollment_deadline": (p_date, _R),
    "no_gap": (p_text, _BOTH),
}
