"""The employee-scheme part for employees and flexible workers: verdict and bands, late fee, cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from policies.cost import estimate, monthly_base
from policies.late_fee import late_fee_rule, with_days
from policies.model import BackpayVerdict, Cause, InsuranceType, Level, Query
from policies.parts import Core
from policies.reader import Reader, least_specific
from policies.schema import DayWindow
from policies.verdict import Outcome, deadline, decide, general, resume_date

NO_RULE = "未找到适用的补缴规定，请咨询当地医保经办机构"
FLEXIBLE_CAUSE_NOTE = "灵活就业人员自行缴费，按个人原因断缴处理；如系单位原因，请说明"
NATIONAL_WAIT_NOTE = "当地规定未说明等待期，等待期按全国通行做法估算"
NO_RULE_OUTCOME = Outcome(BackpayVerdict.CONDITIONAL, NO_RULE, "当地允许补缴的", None, None, None, None, None,
                          Level.NATIONAL, Level.NATIONAL, False, ())


def employee(r: Reader, q: Query, gap: int | None, gap_since: date | None, missing: list[str]) -> Core:
    """Can the gap be paid back, on what terms and at what cost."""
    itype = q.insurance_type
    if itype is InsuranceType.FLEXIBLE and q.cause is Cause.UNKNOWN:
        r.note(FLEXIBLE_CAUSE_NOTE)
    if itype is InsuranceType.EMPLOYEE and q.cause is Cause.UNKNOWN:
        missing.append("cause")
    o = decide(r) or NO_RULE_OUTCOME
    verdict, condition, applies_if = o.backpay, o.condition, o.applies_if
    waiting, wait_days = o.waiting_months, o.waiting_days
    retro, reset = o.retroactive, o.continuity_reset
    resume = resume_date(q.on, o)
    if gap is None:
        summary = general(r)
        if len(summary.split("；")) > 1 or verdict is not BackpayVerdict.YES:
            verdict, condition = BackpayVerdict.CONDITIONAL, summary
            applies_if = "断缴时长在可以补缴的范围内的"
            waiting = wait_days = retro = reset = resume = None
    elif o.wait_level is Level.NATIONAL and o.verdict_level is not Level.NATIONAL and verdict is not BackpayVerdict.NO:
        r.note(NATIONAL_WAIT_NOTE)
    level = least_specific([o.verdict_level, o.wait_level])
    core = Core(verdict, condition, level, o.verdict_level is not Level.NATIONAL, applies_if, waiting, wait_days,
                resume, retro, reset, gap_days=r.gap_days if o.counts_days and gap is not None else None)
    if verdict is BackpayVerdict.NO:
        return core
    fee = late_fee_rule(r, q.cause if itype is InsuranceType.EMPLOYEE else r.cause)
    cost = None
    if gap is not None and gap_since is not None:
        cost, fee, no_base = estimate(r, q, gap, gap_since, fee, r.cause)
        if no_base:
            missing.append("monthly_base")
        fee = with_days(fee, gap_since, gap, q.on)
    elif monthly_base(r, q, itype)[0] is None:
        missing.append("monthly_base")  # worth asking for now: the cost needs it once the gap is known
    if itype is InsuranceType.FLEXIBLE:
        window = r.value("declaration_window")
        if isinstance(window, DayWindow):
            _window_note(r, window, q.on)
    due = deadline(r, o, gap_since, q.on) if gap_since is not None and verdict is BackpayVerdict.YES else None
    return replace(core, late_fee=fee, cost=cost, deadline=due)


def _window_note(r: Reader, window: DayWindow, on: date) -> None:
    inside = on.day >= window.from_day or on.day <= window.to_day
    text = f"个人缴费人员每月{window.from_day}日至次月{window.to_day}日办理申报缴费"
    if not inside:
        text += f"；今天不在申报期内，下一申报期从本月{window.from_day}日开始"
    r.note(text)
