"""The rules engine: a loaded rule set answers a Query with an Answer.

Pure and synchronous: everything is read at load time; `RuleBook.answer` does no I/O and keeps
nothing between answers. One answer is put together here from one small module per part:

* `in_force` — the rules in force along the region chain on the question's date;
* `reader` — every value read, traced (trace, sources, notes, disagreements, as-of date);
* `employee` (with `verdict`, `late_fee`, `cost`), `resident`, `retiree`, `unemployed` — the core;
* `next_steps` — re-enrolment after a "no", the employer's duty for an employer-caused gap, how
  to keep paying after leaving a job with no gap yet;
* `steps` (here) — channels, materials, notes and hotlines, only when back-pay is possible.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Protocol

from policies.dates import first_of_month, months_between
from policies.employee import employee
from policies.in_force import rules_in_force
from policies.model import (
    Answer,
    BackpayVerdict,
    Cause,
    Channel,
    InsuranceType,
    Level,
    Query,
    Region,
    Scheme,
    scheme_of,
)
from policies.next_steps import employer_duty, keep_paying, re_enrolment
from policies.parts import Core
from policies.reader import Reader
from policies.resident import resident
from policies.retiree import retiree
from policies.schema import Entry, RuleFile
from policies.unemployed import unemployed
from policies.wording import NO_GAP, NOTE_CONTENT_SITE, NOTE_ESTIMATE

NATIONAL_CODE = "000000"
NATIONAL_REGION = Region(NATIONAL_CODE, "全国", Level.NATIONAL, None, "全国")
# 《社会保险法》 took effect on this day; the national rules answer questions from then on.
EARLIEST = date(2011, 7, 1)


class UnknownRegion(LookupError):
    """The query's region code is not a known administrative division."""


class RegionLookup(Protocol):
    """What the engine needs of `policies.regions.RegionIndex`."""

    def get(self, code: str) -> Region | None: ...

    def chain(self, code: str) -> list[Region]: ...


class RuleBook:
    """A validated, immutable rule set plus the region index it answers for.

    Build it with `policies.load_rulebook()`; keep the instance (loading reads files, answering does
    not). ``RuleBook.answer(query)`` is pure and synchronous.
    """

    def __init__(self, files: list[RuleFile], regions: RegionLookup) -> None:
        self.files: dict[str, RuleFile] = {rf.region_code: rf for rf in files}
        self.regions = regions

    def chain(self, region_code: str, regions: RegionLookup | None = None) -> tuple[Region, tuple[RuleFile, ...]]:
        """The region and its rule files, most specific first (national last); UnknownRegion if unknown."""
        if region_code == NATIONAL_CODE:
            return NATIONAL_REGION, (self.files[NATIONAL_CODE],)
        lookup = regions or self.regions
        region = lookup.get(region_code)
        if region is None:
            raise UnknownRegion(f"未知的地区代码：{region_code}")
        files = [self.files[r.code] for r in lookup.chain(region.code) if r.code in self.files]
        return region, (*files, self.files[NATIONAL_CODE])

    def answer(self, query: Query, regions: RegionLookup | None = None) -> Answer:
        """Answer one query (pure, no I/O). ``regions`` overrides the index given at load time.

        Raises UnknownRegion for an unknown region code and ValueError for inconsistent input
        (a gap that starts after the date of the question, a date before 2011-07-01).
        """
        if query.on < EARLIEST:
            raise ValueError("提问日期早于《社会保险法》施行日（2011-07-01），无法按现行规定回答")
        region, files = self.chain(query.region_code, regions)
        scheme = scheme_of(query.insurance_type)
        gap, gap_since = _gap(query)
        gap_days = (query.on - gap_since).days if gap_since is not None else None
        # A job change is the person's own gap to the rules; only with no gap yet does it change the answer.
        left_job = query.cause is Cause.JOB_CHANGE
        asked = replace(query, cause=Cause.UNKNOWN) if left_job else query
        cause = Cause.PERSONAL if asked.cause is Cause.UNKNOWN else asked.cause
        r = Reader(rules_in_force(files, scheme, query.on), query.insurance_type, cause, gap, gap_days)
        missing: list[str] = []
        fund = _fund_pays(r, query)
        no_gap = gap == 0 and query.insurance_type is not InsuranceType.RETIREE and fund is None
        # Left a job with nothing unpaid yet: the old employer no longer pays, so how to keep paying.
        leaving = no_gap and left_job and query.insurance_type is InsuranceType.EMPLOYEE
        # No gap, nothing to pay back: said plainly, no verdict, cost or re-enrolment from any band.
        if fund is not None:  # on unemployment benefit: the fund pays, whatever the gap
            core = unemployed(r, fund)
        else:
            core = _no_gap(r, leaving) if no_gap else _core(r, asked, gap, gap_since, missing)
        keep = keep_paying(r) if leaving else None
        # a retiree with the years, someone on benefit: nothing to pay back either
        no_gap = no_gap or core.nothing_due
        if gap is None and query.insurance_type is not InsuranceType.RETIREE and not no_gap:
            missing.insert(0, "gap_months")
        possible = core.verdict is not BackpayVerdict.NO
        channels = tuple(Channel(i.kind, _with_when(i.text, i.when.gap_text(), gap)) for i in r.items("channels")) \
            if possible else ()
        materials = tuple(_with_when(i.text, i.when.gap_text(), gap) for i in r.items("materials")) \
            if possible else ()
        employee_scheme = scheme is Scheme.EMPLOYEE and query.insurance_type in (InsuranceType.EMPLOYEE,
                                                                                 InsuranceType.FLEXIBLE)
        employee_scheme = employee_scheme and not no_gap
        re_enrol = re_enrolment(r, query.on) \
            if employee_scheme and core.verdict is not BackpayVerdict.YES and cause is not Cause.EMPLOYER else None
        duty = employer_duty(r) if employee_scheme and cause is Cause.EMPLOYER else None
        if not no_gap:
            r.free_notes(possible)
        # Nothing to pay back: the sources and date are those of what was said, not of the hotlines.
        supporting = (dict(r.sources), r.as_of)
        hotlines = r.hotlines()
        if no_gap:
            r.sources, r.as_of = supporting
        notes = list(r.notes)
        if core.cost is not None or (core.retiree is not None and core.retiree.lump_sum is not None):
            notes.append(NOTE_ESTIMATE)
        if r.content_site:
            notes.append(NOTE_CONTENT_SITE)
        notes.append("咨询电话：" + "、".join(hotlines))
        return Answer(
            region=region,
            rule_level=core.rule_level,
            local_rule=core.local_rule,
            scheme=scheme,
            insurance_type=query.insurance_type,
            can_backpay=core.verdict,
            condition=core.condition,
            steps_apply_if=core.applies_if if core.verdict is BackpayVerdict.CONDITIONAL else None,
            channels=channels,
            materials=materials,
            waiting_months=core.waiting_months,
            waiting_days=core.waiting_days,
            waiting_range=core.waiting_range,
            benefits_resume=core.resume if possible else None,
            retroactive=core.retroactive,
            continuity_reset=core.continuity_reset,
            late_fee=core.late_fee,
            cost=core.cost if possible else None,
            retiree=core.retiree,
            gap_months=gap,
            gap_days=core.gap_days,
            backpay_deadline=core.deadline if possible else None,
            re_enrol=re_enrol,
            employer_duty=duty,
            disagreements=tuple(r.disagreements),
            as_of=r.as_of,
            hotlines=hotlines,
            sources=tuple(r.sources.values()),
            notes=tuple(notes),
            trace=tuple(r.trace),
            missing_inputs=tuple(dict.fromkeys(missing)),
            no_gap=no_gap,
            wait_after=core.wait_after,
            enrolment_closed=core.enrolment_closed,
            keep_paying=keep,
            # rules of the region's own chain in force for this scheme today (read once, above)
            regional_rules=any(e.level is not Level.NATIONAL for found in r.now.entries.values() for e in found),
        )


def _no_gap(r: Reader, left_job: bool) -> Core:
    """No gap: what to do instead of paying back (monthly or yearly as the scheme pays; after leaving
    a job, keep paying some other way), with its source."""
    text: str | None = (r.value("no_gap_job_change", "no_gap") if left_job else None) or r.value("no_gap")
    return Core(BackpayVerdict.NO, text or NO_GAP, Level.NATIONAL, False)


def _core(r: Reader, q: Query, gap: int | None, gap_since: date | None, missing: list[str]) -> Core:
    """The scheme module that decides this person's answer."""
    if scheme_of(q.insurance_type) is Scheme.RESIDENT:
        return resident(r, q, gap)
    if q.insurance_type is InsuranceType.RETIREE:
        return retiree(r, q, missing)
    return employee(r, q, gap, gap_since, missing)


def _fund_pays(r: Reader, q: Query) -> Entry | None:
    """The rule that the unemployment fund pays for someone on benefit, if one is in force."""
    if q.insurance_type is not InsuranceType.UNEMPLOYED:
        return None
    fund = r.now.first("unemployed_fund_pays")
    return fund if fund is not None and fund.value else None


def _gap(query: Query) -> tuple[int | None, date | None]:
    """Gap length in months and its start (derived from each other when one is given). A gap in days
    starts that many days before the question's date, so days-counted bands (宜昌 60/180 天) see the
    days the person said; its months are the calendar months it spans, at least 1 for any day."""
    if query.gap_days is not None:
        if query.gap_days < 0:
            raise ValueError("断缴天数不能为负数")
        start = query.on - timedelta(days=query.gap_days)
        if query.gap_months is not None:
            return query.gap_months, start
        months = months_between(start, query.on)
        return (max(months, 1) if query.gap_days > 0 else 0), start
    if query.gap_since is not None:
        since = query.gap_since.replace(day=1)
        if since > query.on:
            raise ValueError("断缴开始月份晚于提问日期")
        months = query.gap_months if query.gap_months is not None else months_between(since, query.on)
        return months, since
    if query.gap_months is not None:
        if query.gap_months < 0:
            raise ValueError("断缴月数不能为负数")
        return query.gap_months, first_of_month(query.on, -query.gap_months)
    return None, None


def _with_when(text: str, when: str, gap: int | None) -> str:
    # With the gap unknown, say when an item applies (e.g. "（断缴3个月及以上）").
    return f"{text}（{when}）" if gap is None and when else text
