"""The cost part of an answer: the monthly base, the contributions for the gap, a late fee.

Only a certain late fee (see `policies.late_fee`) is part of the total; an uncertain one is
worked out for `LateFee.amount` and shown apart.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from policies.late_fee import overdue_days
from policies.model import Cause, CostEstimate, InsuranceType, LateFee, LateFeePayer, Query
from policies.reader import Reader
from policies.schema import EmployeeRate, Range
from policies.wording import money, pct


def monthly_base(r: Reader, q: Query, itype: InsuranceType) -> tuple[float | None, str]:
    """The monthly base to estimate with, and where it came from (Chinese)."""
    reference = r.value("base_reference", "cost.base_reference")
    limits: Range | None = r.value("base_limits", "cost.base_limits")
    if limits is None and reference is not None:
        ratio: Range | None = r.value("base_ratio_range", "cost.base_ratio_range")
        if ratio is not None:
            limits = Range(round(reference * ratio.low, 2), round(reference * ratio.high, 2))
    if q.monthly_base is not None:
        base, note = q.monthly_base, "按您提供的缴费基数"
        if limits is not None and not limits.low <= base <= limits.high:
            base = min(max(base, limits.low), limits.high)
            note = f"您提供的基数不在当地范围内（{money(limits.low)}–{money(limits.high)}元），按{money(base)}元计算"
        return base, note
    if itype is InsuranceType.FLEXIBLE:
        share = r.value("flexible_base_ratio", "cost.flexible_base_ratio")
        if reference is not None and share is not None:
            return round(reference * share, 2), f"按当地缴费基准值{money(reference)}元的{pct(share)}"
        if limits is not None:
            return limits.low, f"按当地缴费基数下限{money(limits.low)}元"
        return None, ""
    if reference is not None:
        return reference, f"按当地缴费基准值（社平工资）{money(reference)}元"
    return None, ""


def _rate(r: Reader, itype: InsuranceType) -> tuple[float, str] | None:
    if itype is InsuranceType.FLEXIBLE:
        rate = r.value("rate_flexible", "cost.rate")
        return None if rate is None else (rate, pct(rate))
    er: EmployeeRate | None = r.value("rate_employee", "cost.rate")
    return None if er is None else (er.total, rate_text(er))


def rate_text(er: EmployeeRate) -> str:
    """The employee rate as a formula shows it: its parts, or the range it is the low end of."""
    if er.employer is not None and er.personal is not None:
        return f"{pct(er.total)}（单位{pct(er.employer)}+个人{pct(er.personal)}）"
    if er.total_max is not None:
        return f"{pct(er.total)}（通常{pct(er.total)}–{pct(er.total_max)}，按低值估算）"
    return pct(er.total)


def estimate(r: Reader, q: Query, gap: int, gap_since: date, fee: LateFee, cause: Cause
             ) -> tuple[CostEstimate | None, LateFee, bool]:
    """The cost of paying back ``gap`` months, the late fee with its days and amount, and whether
    the base was missing (then no cost)."""
    # An employer's arrears are employee contributions (employer + personal rate), also when the
    # person now pays as a flexible worker: the flexible 8% is not what the employer owes.
    itype = InsuranceType.EMPLOYEE if cause is Cause.EMPLOYER else q.insurance_type
    base, base_note = monthly_base(r, q, itype)
    if base is None:
        return None, fee, True
    found = _rate(r, itype)
    if found is None:
        return None, fee, False
    rate, rate_text = found
    monthly = base * rate
    principal = round(monthly * gap, 2)
    formula = f"{money(base)} × {rate_text} × {gap}个月 = {money(principal)}元"
    serious = 0.0
    # The only source (湖南, seed 000) adds the serious-illness fee to the employee formula; the
    # flexible formula it gives is base × 60% × 8% alone.
    serious_entry = r.entry("serious_illness", "cost.serious_illness") if itype is InsuranceType.EMPLOYEE else None
    if serious_entry is not None:
        if serious_entry.value is None:
            r.note("另需缴纳大病保险费，金额以当地规定为准（未计入估算）")
        else:
            serious = round(serious_entry.value * gap, 2)
            formula += f"；大病保险费 {money(serious_entry.value)} × {gap} = {money(serious)}元"
    if fee.daily_rate is not None and fee.payer is not LateFeePayer.NONE and gap > 0:
        days = overdue_days(gap_since, gap, q.on)
        amount = round((monthly + serious / gap) * fee.daily_rate * days, 2)
        fee = replace(fee, days=days, amount=amount)
    late = fee.amount if fee.certain and fee.amount else 0.0
    if late:
        formula += (f"；滞纳金 = 每月应缴 {money(monthly)} × {pct(fee.daily_rate or 0)}/天 × 各月逾期天数合计"
                    f"{fee.days}天 = {money(late)}元")
    total = round(principal + serious + late, 2)
    employer = cause is Cause.EMPLOYER
    person = 0.0 if employer else round(principal + serious + (late if fee.payer is LateFeePayer.INSURED else 0), 2)
    formula += f"；合计 {money(total)}元"
    if employer:
        formula += "（由用人单位缴纳，个人无需承担滞纳金）"
    cost = CostEstimate(gap, base, rate, principal, serious, late, total, formula, base_note,
                        "employer" if employer else "insured", person)
    return cost, fee, False
