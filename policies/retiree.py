"""The retiree part: years required locally, the shortfall, and what topping it up costs."""

from __future__ import annotations

from policies.cost import monthly_base, rate_text
from policies.model import BackpayVerdict, Gender, InsuranceType, Level, Query, RetireeShortfall
from policies.parts import Core
from policies.reader import Reader
from policies.schema import CostReference, EmployeeRate, Entry, RequiredYears, RetireeBackpay
from policies.wording import money


def retiree(r: Reader, q: Query, missing: list[str]) -> Core:
    """Can a (near-)retiree short of the required years pay the difference, and at what cost."""
    req_entry = r.entry("retiree_required_years", "retiree.required_years")
    required: float | None = None
    if req_entry is not None and isinstance(req_entry.value, RequiredYears):
        years: RequiredYears = req_entry.value
        if q.gender is not None:
            required = years.male if q.gender is Gender.MALE else years.female
        elif years.male == years.female:
            required = years.male
    # else: the national note `required_years_vary` says the years are set locally (said once)
    if q.years_paid is None:
        missing.append("years_paid")
    if q.gender is None and required is None:
        missing.append("gender")
    shortfall = None if required is None or q.years_paid is None else max(0.0, required - q.years_paid)
    if shortfall == 0 and req_entry is not None and q.years_paid is not None:
        return _enough(req_entry, q.years_paid, required)
    allowed_entry = r.entry("retiree_backpay", "can_backpay")
    allowed: RetireeBackpay | None = allowed_entry.value if allowed_entry is not None else None
    lump, formula = None, ""
    if shortfall:
        lump, formula = _lump_sum(r, q, shortfall, missing)
    elif shortfall is None:
        r.value("retiree_cost_reference", "retiree.cost_reference")  # a published example is worth showing
    if allowed is not None and not allowed.allowed:
        verdict, condition = BackpayVerdict.NO, "当地不允许退休人员补缴医保年限"
    elif shortfall is None:
        verdict = BackpayVerdict.CONDITIONAL
        condition = "缴费年限不足当地规定的，可以缴费至规定年限；需先确认" + _unknowns(req_entry, required, q)
    else:
        verdict, condition = BackpayVerdict.YES, f"可一次性补缴差额{shortfall:g}年至规定年限"
        if allowed is not None and allowed.immediate:
            condition += "（资料齐全当场办结）"
    deciding = req_entry or allowed_entry  # the local years decide; else the national right to top up
    level = deciding.level if deciding is not None else Level.NATIONAL
    return Core(
        verdict, condition, level, level is not Level.NATIONAL,
        applies_if="缴费年限确实不足当地规定的" if verdict is BackpayVerdict.CONDITIONAL else None,
        retiree=RetireeShortfall(required, q.years_paid, shortfall, lump, formula),
    )


def _unknowns(req_entry: Entry | None, required: float | None, q: Query) -> str:
    """What is still to be confirmed, never what is known: local years that differ by gender are
    known (stated), only the gender is not."""
    years = req_entry.value if req_entry is not None and isinstance(req_entry.value, RequiredYears) else None
    needs = []
    if required is None:
        needs.append("您的性别" if years is not None else "当地规定年限")
    if q.years_paid is None:
        needs.append("您已缴年限")
    known = [f"当地要求男满{years.male:g}年、女满{years.female:g}年"] if required is None and years is not None else []
    if q.years_paid is not None:
        known.append(f"您已缴{q.years_paid:g}年")
    return "和".join(needs) + (f"（{'，'.join(known)}）" if known else "")


def _enough(req_entry: Entry, years_paid: float, required: float | None) -> Core:
    """The years are there: nothing to pay back (answered like no gap: no cost, channel or
    re-enrolment), with the local years and only their rule read."""
    condition = (f"您已缴{years_paid:g}年，已达到当地规定的{required:g}年，无需补缴；"
                 "退休后不再缴费即可享受职工医保待遇")
    local_min = req_entry.value.local_min
    if local_min:  # the local years are not asked: say the rule instead of assuming it is met
        condition += f"（当地另要求其中在本地实际缴费满{local_min:g}年，未满的请向医保经办机构确认）"
    return Core(BackpayVerdict.NO, condition, req_entry.level, req_entry.level is not Level.NATIONAL,
                retiree=RetireeShortfall(required, years_paid, 0.0, None, ""), nothing_due=True)


def _lump_sum(r: Reader, q: Query, shortfall: float, missing: list[str]) -> tuple[float | None, str]:
    base, base_note = monthly_base(r, q, InsuranceType.EMPLOYEE)
    er: EmployeeRate | None = r.value("rate_employee", "retiree.rate") if base is not None else None
    if base is not None and er is not None:
        lump = round(base * er.total * 12 * shortfall, 2)
        return lump, f"{money(base)} × {rate_text(er)} × 12个月 × {shortfall:g}年 = {money(lump)}元（{base_note}）"
    ref: CostReference | None = r.value("retiree_cost_reference", "retiree.cost_reference")
    if ref is not None:
        lump = round(ref.per_year * shortfall, 2)
        return lump, (f"参考：补缴{ref.years:g}年约{money(ref.amount)}元，即每年约{money(ref.per_year)}元；"
                      f"{money(ref.per_year)} × {shortfall:g}年 = {money(lump)}元")
    missing.append("monthly_base")
    return None, ""
