"""The employee-scheme part for employees and flexible workers: verdict and bands, late fee, cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from policies.cost import estimate, monthly_base
from policies.late_fee import late_fee_rule, with_days
from policies.model import BackpayVerdict, Cause, InsuranceType, Level, Query
from policies.parts import Core
from policies.reader import Reader, least_specific
from policies.schema import DayWindow, Entry
from policies.verdict import Outcome, deadline, decide, general, national_details, resume_date
from policies.wording import OUTSIDE_WINDOW

NO_RULE = "未找到适用的补缴规定，请咨询当地医保经办机构"
FLEXIBLE_CAUSE_NOTE = "灵活就业人员自行缴费，按个人原因断缴处理；如系单位原因，请说明"
# An employee who has not said why: the answer is for their own gap (a "no" too), and says the other case.
EMPLOYER_CAUSE_NOTE = "以上按个人原因断缴回答；若断缴是单位原因造成的，由单位补缴欠费和滞纳金，个人无需缴纳滞纳金"
NATIONAL_WAIT_NOTE = "当地规定未说明等待期，所列等待期为全国通行做法"
NATIONAL_DETAILS_NOTE = "当地规定未说明{details}，所列为全国通行做法"
NO_RULE_OUTCOME = Outcome(BackpayVerdict.CONDITIONAL, NO_RULE, "当地允许补缴的", None, None, None, None, None,
                          Level.NATIONAL, Level.NATIONAL, False, ())


def employee(r: Reader, q: Query, gap: int | None, gap_since: date | None, missing: list[str]) -> Core:
    """Can the gap be paid back, on what terms and at what cost."""
    itype = q.insurance_type
    if itype is InsuranceType.FLEXIBLE and q.cause is Cause.UNKNOWN:
        r.note(FLEXIBLE_CAUSE_NOTE)
    if itype is InsuranceType.EMPLOYEE and q.cause is Cause.UNKNOWN:
        missing.append("cause")
        r.note(EMPLOYER_CAUSE_NOTE)
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
    elif o.verdict_level is not Level.NATIONAL and verdict is not BackpayVerdict.NO:
        # a local verdict: say which details are only national practice (烟台's claims, 岳阳's continuity)
        details = national_details(o)
        if details:
            r.note(NATIONAL_WAIT_NOTE if details == ["等待期"] else NATIONAL_DETAILS_NOTE.format(details="、".join(details)))
    level = least_specific([o.verdict_level, o.wait_level])
    core = Core(verdict, condition, level, o.verdict_level is not Level.NATIONAL, applies_if, waiting, wait_days,
                resume, retro, reset, gap_days=r.gap_days if o.counts_days and gap is not None else None,
                waiting_range=o.waiting_range if gap is not None and verdict is not BackpayVerdict.NO else None,
                wait_after=o.wait_after)
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
        window = r.entry("declaration_window")
        if window is not None and isinstance(window.value, DayWindow):
            _window_note(r, window, q.on)
    due = deadline(r, o, gap_since, q.on) if gap_since is not None and verdict is BackpayVerdict.YES else None
    return replace(core, late_fee=fee, cost=cost, deadline=due)


def _window_note(r: Reader, e: Entry, on: date) -> None:
    """The declaration window, unless the rule's own note already says it (天津 said it twice), and
    whether today is outside it; traced to the local entry it comes from (a local fact)."""
    window: DayWindow = e.value
    inside = on.day >= window.from_day or on.day <= window.to_day
    parts = [] if e.note else [f"个人缴费人员每月{window.from_day}日至次月{window.to_day}日办理申报缴费"]
    if not inside:
        parts.append(OUTSIDE_WINDOW.format(day=window.from_day))
    if parts:
        text = "；".join(parts)
        r.record("declaration_window.today", e, text, e.line)
        r.note(text)
