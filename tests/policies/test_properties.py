"""Consistency as properties, over the whole product: every rule region plus three without rules ×
every type × both causes × gaps unknown, 0 and 1–60 months × three question dates (2015, 2024, 2025).

44,640 answers (and their Chinese text): a few seconds on this machine, so the full product runs,
not a sample.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from policies import BackpayVerdict, Cause, InsuranceType, LateFeePayer, Query, RuleBook
from policies.engine import EARLIEST
from policies.loader import RULES_DIR, load_rule_files
from policies.render import render_text
from policies.wording import NATIONAL_FIRST, NATIONAL_NOT_COVERED, NATIONAL_ONLY, NATIONAL_VERDICT

WITHOUT_RULES = ["510100", "610100", "410100"]  # 成都, 西安, 郑州: no file on their chain but national
RULE_REGIONS = sorted(rf.region_code for rf in load_rule_files(RULES_DIR) if rf.region_code != "000000")
DATES = [date(2015, 6, 15), date(2024, 6, 10), date(2025, 6, 10)]
GAPS: list[int | None] = [None, 0, *range(1, 61)]
# What an answer with nothing to pay back (no gap, a retiree with the years, someone on benefit whose
# insurance the unemployment fund pays) never says: a verdict on back-pay, how to do it, a gap, a wait.
NOTHING_DUE_NEVER = ("不能补缴", "可以补缴", "办理渠道", "所需材料", "断缴时长", "待遇等待期", "费用估算", "如今天缴费",
                     "补缴申请", "补缴申报表")


def _problems(book: RuleBook, q: Query) -> list[str]:
    a = book.answer(q)
    where = f"{q.region_code} {q.insurance_type} {q.cause} {q.gap_months}m {q.on}"
    out = []
    if a.can_backpay is BackpayVerdict.NO:
        if a.cost is not None or a.channels or a.materials or a.benefits_resume or a.backpay_deadline:
            out.append(f"{where}: a 'no' carries back-pay channels, materials, cost or a resume date")
    if a.can_backpay is BackpayVerdict.CONDITIONAL and not a.steps_apply_if:
        out.append(f"{where}: a 'conditional' does not say whom its steps are for")
    if q.cause is Cause.EMPLOYER:
        if a.late_fee.payer is LateFeePayer.INSURED or (a.cost is not None and a.cost.person_pays):
            out.append(f"{where}: an employer-caused gap puts a late fee or cost on the insured")
    if a.cost is not None:
        certain = a.cost.late_fee if a.late_fee.certain else 0.0
        if not a.late_fee.certain and a.cost.late_fee:
            out.append(f"{where}: an uncertain late fee is in the cost")
        if abs(a.cost.total - (a.cost.principal + a.cost.serious_illness + certain)) > 0.011:
            out.append(f"{where}: the total is not principal + serious illness + certain late fee")
    names = [re.sub(r"（[^（）]*）$", "", c.name) for c in a.channels]  # as the chat card shortens them
    if len(set(names)) != len(names):
        out.append(f"{where}: a channel is listed twice: {names}")
    if a.benefits_resume is not None and a.waiting_months is None and a.waiting_days is None:
        out.append(f"{where}: a resume date without a known wait")
    for i, note in enumerate(a.notes):
        if (a.condition and note in a.condition) or any(note in other for other in a.notes[i + 1:]):
            out.append(f"{where}: the note {note!r} repeats the condition or another note")
    text = render_text(a)
    first = text.split("\n", 1)[0]
    # nothing to pay back is not a verdict of national practice (it is the law: 第六十条, 第四十八条)
    local_facts = any(t.level.value != "national" and t.field != "hotlines" for t in a.trace)
    # never "no local rule" beside one, nor where the region has rules that do not cover the case
    national_first = NATIONAL_VERDICT if local_facts else NATIONAL_NOT_COVERED if a.regional_rules else NATIONAL_ONLY
    if not a.local_rule and not a.no_gap and first != national_first:
        out.append(f"{where}: local_rule is false but the first line is {first!r}")
    if (a.local_rule or a.no_gap) and first in (*NATIONAL_FIRST, NATIONAL_VERDICT):
        out.append(f"{where}: a local verdict (or nothing to pay) is announced as national practice")
    if a.no_gap:
        if a.cost is not None or a.channels or a.materials or a.re_enrol or a.employer_duty or a.waiting_range:
            out.append(f"{where}: nothing to pay back, yet back-pay steps, a cost or a wait are given")
        if "无需" not in (a.condition or "") or "gap_months" in a.missing_inputs:
            out.append(f"{where}: nothing to pay back is not said plainly, or the gap is still asked")
        out += [f"{where}: nothing to pay back, yet the text says {w!r}" for w in NOTHING_DUE_NEVER if w in text]
    if q.insurance_type is InsuranceType.UNEMPLOYED:  # 《社会保险法》第四十八条 in every region
        if not a.no_gap or "失业保险基金" not in (a.condition or "") or a.late_fee.payer is not LateFeePayer.FUND:
            out.append(f"{where}: someone on benefit is not told the fund pays and nothing is theirs to pay back")
    # a local verdict whose wait, claims or continuity come from national bands says they are national practice
    national_band = any(t.field in ("gap_band", "gap_detail") and t.level.value == "national" for t in a.trace)
    shown = any(v is not None for v in (a.waiting_months, a.waiting_range, a.retroactive, a.continuity_reset))
    if a.local_rule and a.can_backpay is not BackpayVerdict.NO and q.gap_months and national_band and shown:
        if not any("为全国通行做法" in n for n in a.notes):
            out.append(f"{where}: a local verdict with national details does not say they are national practice")
    # a wait whose source does not say the gap can be paid back counts from paying again, and a known
    # wait says where it came from (its own trace entry: a renderer tells national practice by it)
    known_wait = a.waiting_months is not None or a.waiting_days is not None
    if known_wait and "未说明能否补缴" in (a.condition or "") and a.wait_after != "payment":
        out.append(f"{where}: back-pay is not known, yet the wait counts from back-pay")
    if known_wait and not a.no_gap and not any(t.field == "waiting_months" for t in a.trace):
        out.append(f"{where}: a known wait without a trace of where it came from")
    if "待遇等待期：未知" in text and any("固定待遇等待期" in n for n in a.notes):
        out.append(f"{where}: the wait is 'unknown' beside a note giving its fixed part")
    if q.insurance_type is InsuranceType.RESIDENT and q.on.year >= 2025 and q.gap_months != 0:
        if a.waiting_months is None and (a.waiting_range is None or a.waiting_range[0] < 3):
            out.append(f"{where}: a resident's wait from 2025 is at least 3 months (国办发〔2024〕38号)")
    return out


@pytest.mark.parametrize("code", RULE_REGIONS + WITHOUT_RULES)
def test_answers_are_consistent_for_every_type_cause_gap_and_date(book: RuleBook, code: str) -> None:
    problems: list[str] = []
    for itype in InsuranceType:
        for cause in (Cause.EMPLOYER, Cause.PERSONAL, Cause.JOB_CHANGE):
            for on in DATES:
                for gap in GAPS:
                    problems += _problems(book, Query(code, itype, on, gap_months=gap, cause=cause))
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("code", RULE_REGIONS + WITHOUT_RULES)
def test_a_job_change_is_the_persons_own_gap_until_there_is_none(book: RuleBook, code: str) -> None:
    """Leaving a job changes the answer only when nothing is unpaid yet (an employee told how to keep
    paying, with the sources of it); any gap, or anyone else, is answered as for an unstated cause."""
    problems: list[str] = []
    for itype in InsuranceType:
        for on in DATES:
            for gap in GAPS:
                left = book.answer(Query(code, itype, on, gap_months=gap, cause=Cause.JOB_CHANGE))
                plain = book.answer(Query(code, itype, on, gap_months=gap, cause=Cause.UNKNOWN))
                where = f"{code} {itype} {gap}m {on}"
                if gap == 0 and itype is InsuranceType.EMPLOYEE:
                    keep = left.keep_paying
                    if keep is None or not keep.ways or not keep.sources or not left.no_gap:
                        problems.append(f"{where}: left a job, no gap, and not told how to keep paying")
                    elif not {s.id for s in keep.sources} <= {s.id for s in left.sources}:
                        problems.append(f"{where}: how to keep paying cites sources the answer does not list")
                    if left.condition == plain.condition:
                        problems.append(f"{where}: left a job, yet told what someone whose employer pays is told")
                elif left != plain:
                    problems.append(f"{where}: a job change changes an answer that has a gap (or is not an employee's)")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("on", [date(2012, 3, 1), date(2024, 6, 10)])
@pytest.mark.parametrize("code", RULE_REGIONS + WITHOUT_RULES)
def test_questions_dated_from_2011_are_answered_from_national_law(book: RuleBook, code: str, on: date) -> None:
    for cause in (Cause.EMPLOYER, Cause.PERSONAL):
        a = book.answer(Query(code, InsuranceType.EMPLOYEE, on, gap_months=2, cause=cause))
        assert "未找到适用的补缴规定" not in (a.condition or "")
        assert a.late_fee.daily_rate == 0.0005
        # 第八十六条 binds employers: cited for their fee, never for an individual's uncertain one
        law = "law:社会保险法#86" in {s.id for s in a.sources}
        assert law if cause is Cause.EMPLOYER else (law is False or a.late_fee.certain)
        assert a.late_fee.payer is (LateFeePayer.EMPLOYER if cause is Cause.EMPLOYER else LateFeePayer.INSURED)
        if cause is Cause.EMPLOYER:
            assert a.employer_duty is not None and a.late_fee.certain


def test_questions_before_the_law_took_effect_are_refused(book: RuleBook) -> None:
    with pytest.raises(ValueError, match="2011-07-01"):
        book.answer(Query("510100", InsuranceType.EMPLOYEE, date(2011, 6, 30), gap_months=2))
    assert book.answer(Query("510100", InsuranceType.EMPLOYEE, EARLIEST, gap_months=2)).can_backpay
