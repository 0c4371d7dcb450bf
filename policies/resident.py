"""The resident-scheme part (城乡居民医保): yearly contributions, a waiting period after a break."""

from __future__ import annotations

import math
from datetime import date

from policies.dates import add_months, first_of_month
from policies.model import BackpayVerdict, Level, Query
from policies.parts import Core
from policies.reader import Reader
from policies.schema import ResidentWaiting

CONDITION = "城乡居民医保按年度缴费：断保期间的医疗费用不能报销；在集中参保期外参保或断保后再参保，需经过待遇等待期"
# Before a rule on the wait is in force (国办发〔2024〕38号, from 2025): the wait is the region's (the
# note `waiting_before_2025` says so with its sources), not one every region has.
CONDITION_LOCAL_WAIT = "城乡居民医保按年度缴费：断保期间的医疗费用不能报销；断保后再参保，部分地区设有待遇等待期"
# Whom the steps are for: 国办发〔2024〕38号 foresees joining outside the collection period (with the
# fixed wait), but whether a region takes it is its own matter.
APPLIES_IF = "在集中参保期内或当地允许期外参保缴费的"
# The local enrolment period of the question's year is known to have ended (聊城 2025-02-28): 国办发
# 〔2024〕38号 gives joining outside it the fixed wait, but whether the region takes enrolment now is
# its own matter; no date is promised (`Answer.benefits_resume` None).
CLOSED = "本年度集中参保缴费期已于{day}截止"
CLOSED_WAIT = "期外参保缴费的，需经过待遇等待期（固定{months}个月起，国办发〔2024〕38号）"
ASK_NOW = "当地现在是否受理参保缴费，请向医保经办机构或12393确认"
APPLIES_IF_CLOSED = "当地现在仍受理参保缴费的"
# 国办发〔2024〕38号 counts the wait from enrolling (paying the year's contribution) again; paying back
# earlier years only shortens its variable part
WAIT_AFTER = "payment"


def resident(r: Reader, q: Query, gap: int | None) -> Core:
    """The waiting period from the resident rule in force (国办发〔2024〕38号 shape)."""
    closed = _enrolment_closed(r, q)
    rw_entry = r.entry("resident_waiting", "waiting_months")
    if rw_entry is None:  # the wait is the region's: said by the free note waiting_before_2025
        condition = CONDITION_LOCAL_WAIT if closed is None else f"{CLOSED.format(day=closed)}，{ASK_NOW}"
        return Core(BackpayVerdict.CONDITIONAL, condition, Level.NATIONAL, False,
                    applies_if=APPLIES_IF if closed is None else APPLIES_IF_CLOSED, retroactive=False,
                    enrolment_closed=closed)
    rw: ResidentWaiting = rw_entry.value
    local = rw_entry.level is not Level.NATIONAL
    condition, applies_if = (CONDITION, APPLIES_IF) if closed is None else (
        # the part a card may cut (38号's wait, which its wait line says too) last
        f"{CLOSED.format(day=closed)}，{ASK_NOW}；{CLOSED_WAIT.format(months=rw.fixed_months)}", APPLIES_IF_CLOSED)
    if gap is None and not rw_entry.note:  # the entry's own note says the same in full
        r.note(f"固定等待期{rw.fixed_months}个月；断保每多1年增加{rw.extra_per_break_year}个月，"
               f"断保{rw.long_break_years}年及以上修复后不少于{rw.long_break_min_months}个月")
    if gap is None:  # any break: the fixed wait, and continuity starts again; more needs the gap
        return Core(BackpayVerdict.CONDITIONAL, condition, rw_entry.level, local, applies_if=applies_if,
                    retroactive=False, continuity_reset=True, waiting_range=(rw.fixed_months, None),
                    wait_after=WAIT_AFTER, enrolment_closed=closed)
    years = math.ceil(gap / 12) if gap > 0 else 0
    waiting = 0 if years == 0 else rw.fixed_months + rw.extra_per_break_year * max(0, years - 1)
    if years:
        floor = rw.long_break_min_months if years >= rw.long_break_years else rw.fixed_months
        best = max(floor, waiting - rw.repair_per_year * max(0, years - 1))
        if waiting > rw.fixed_months:
            # a started year counts as a year of break: say so rather than "约2年" for 14 months
            r.note(f"断保{gap}个月，按{years}年计：等待期{waiting}个月；每补缴1年可减少{rw.repair_per_year}个月变动等待期，"
                   f"补缴后最短{best}个月")
    resume = add_months(q.on, waiting) if waiting else first_of_month(q.on, 1)
    return Core(BackpayVerdict.CONDITIONAL, condition, rw_entry.level, local, applies_if=applies_if,
                waiting_months=waiting, resume=None if closed else resume, retroactive=False,
                continuity_reset=bool(years), wait_after=WAIT_AFTER, enrolment_closed=closed)


def _enrolment_closed(r: Reader, q: Query) -> date | None:
    """The day this year's local enrolment period ended, when it has ended by the question's date;
    while it is open, a note says until when."""
    deadline = r.now.first("enrollment_deadline")
    if deadline is None or deadline.value.year != q.on.year:
        return None
    r.record("enrollment_deadline", deadline, deadline.value.isoformat(), deadline.line)
    state = "尚未截止" if q.on <= deadline.value else "已截止"
    text = f"本年度居民医保集中参保缴费期延长至{deadline.value.isoformat()}（{state}）"
    # traced as said, so it reads as the local fact it is (聊城's extension), not a general one
    r.record("enrollment_deadline.today", deadline, text, deadline.line, quiet=True)
    if q.on <= deadline.value:
        r.note(text)
        return None
    return deadline.value  # the condition says it (with what joining now means): not a note too
