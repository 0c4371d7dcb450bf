"""The card and the parts behind its buttons never contradict each other, read as the person who asked,
as properties over the real engine.

* Resident insurance after this year's local enrolment period has ended (聊城 2025-02-28): the card
  says it ended and to ask whether the region takes enrolment now; nothing promises "如今天参保缴费"
  or a day benefits start; the 几号申报 part knows the deadline; the deadline is said once.
* A retiree topping up years: no wait anywhere (the card has no 能用 line; the part says what the
  law says and that the day is unknown), never "等待期未知".
* A day benefits start is said by the card and the when part alike, or by neither; outside a local
  declaration window (天津) it is not "如今天…".
* A retiree's lump sum is the card's cost and the cost part's, never beside "估算不了".
* An employer-caused gap: the card's 办理 line says the employer back-pays (its channels are the
  employer's), beside "由单位补缴，个人不用交".

Over every rule region, regions without rules, every type, cause and gap, and question dates on
both sides of 聊城's deadline; then hypothesis over the whole region index.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.render import TOPICS, render_card, topic_parts
from policies import Cause, Gender, InsuranceType, Query, RuleBook, load_rulebook, wording
from policies.loader import RULES_DIR, load_rule_files
from policies.model import Answer, Scheme
from policies.regions import RegionIndex

REGIONS = RegionIndex.load()
BOOK: RuleBook = load_rulebook(regions=REGIONS)
RULE_REGIONS = sorted(rf.region_code for rf in load_rule_files(RULES_DIR) if rf.region_code != "000000")
CODES = [*RULE_REGIONS, "371502", "371581", "510100", "610100", "441900"]  # 聊城's districts, no rules, 东莞
DATES = [date(2024, 12, 1), date(2025, 2, 10), date(2025, 2, 28), date(2025, 3, 1), date(2025, 6, 10),
         date(2025, 6, 20), date(2026, 6, 10)]  # 06-20: outside 天津's window (26日至次月15日)
GAPS: list[int | None] = [None, 0, 1, 3, 4, 7, 12, 13, 25, 49]
CAUSES = (Cause.EMPLOYER, Cause.PERSONAL, Cause.UNKNOWN)
DAY = re.compile(r"(\d{4}-\d{2}-\d{2})起")
PROMISE = ("如今天", "起可报销", "起恢复报销")


def _parts(a: Answer, on: date) -> dict[str, str]:
    return {t: "\n\n".join(topic_parts(a, on, {t})) for t in TOPICS}


def _line(card: str, label: str) -> str | None:
    return next((line for line in card.splitlines() if line.startswith(label)), None)


def _problems(a: Answer, on: date, where: str) -> list[str]:
    card = render_card(a, on)
    text, parts = card.text, _parts(a, on)
    out: list[str] = []
    closed = a.enrolment_closed
    if closed is not None:
        day = closed.isoformat()
        if not (closed < on and a.benefits_resume is None):
            out.append(f"{where}: an ended enrolment period with a resume date, or not yet ended")
        if f"已于{day}截止" not in text or "12393" not in text:
            out.append(f"{where}: the card does not say the period ended and whom to ask: {text!r}")
        for name, said in {"card": text, **parts}.items():
            found = [p for p in PROMISE if p in said]
            if found:
                out.append(f"{where}: {name} promises paying today after the period ended: {found}")
        if "在集中参保期内" in text:
            out.append(f"{where}: the card's steps are only for the period that has ended")
        if day not in parts["window"] or "资料里没有" in parts["window"]:
            out.append(f"{where}: 几号申报 does not know the ended period: {parts['window']!r}")
        if day not in parts["when"]:
            out.append(f"{where}: the when part reads as if one could pay today: {parts['when']!r}")
        if card.view is not None and (card.view.timeline.paid_on or card.view.timeline.benefits_resume):
            out.append(f"{where}: the view assumes paying today after the period ended")
    deadline = next((t.value for t in a.trace if t.field == "enrollment_deadline"), None)
    if deadline is not None:
        y, m, d = deadline.split("-")
        said = parts["why"].count(deadline) + parts["why"].count(f"{int(y)}年{int(m)}月{int(d)}日")
        if said != 1:
            out.append(f"{where}: 依据和说明 says the enrolment deadline {said} times")
    if a.retiree is not None and not a.no_gap:
        if _line(text, "能用：") is not None or "等待期" in parts["when"] or "断缴期间" in parts["when"]:
            out.append(f"{where}: a retiree topping up years is given a wait: {parts['when']!r}")
        if "第二十七条" not in parts["when"]:
            out.append(f"{where}: the retiree's when part does not cite what it says")
    if a.no_gap and not a.local_rule and "全国一般做法" in text:  # it is the law (第六十条, 第四十八条)
        out.append(f"{where}: nothing to pay back is called national practice: {text!r}")
    r = a.retiree
    if r is not None and r.lump_sum is not None and not a.no_gap:  # the lump sum is the cost, said alike
        if "估算不了" in parts["cost"] or f"约{wording.money(r.lump_sum)}元" not in (_line(text, "费用：") or ""):
            out.append(f"{where}: card and cost part disagree on the retiree's lump sum: {parts['cost']!r}")
    if a.scheme is Scheme.RESIDENT and "每月" in parts["window"]:
        out.append(f"{where}: resident insurance is paid yearly, yet 几号申报 speaks of months")
    if any(wording.OUTSIDE_WINDOW.split("，")[0] in t.value for t in a.trace):
        if any("如今天" in said for said in (text, parts["when"])):
            out.append(f"{where}: today is outside the declaration window, yet '如今天…' is said")
    how = _line(text, "办理")
    if a.employer_duty is not None and how is not None and "由单位补缴" not in how:
        out.append(f"{where}: the employer pays back, yet 办理 reads as the person's own steps: {how!r}")
    on_card = DAY.findall(_line(text, "能用：") or "")
    in_part = DAY.findall(parts["when"].split("\n", 1)[0])
    if not a.no_gap and on_card != in_part:
        out.append(f"{where}: the card says benefits start {on_card}, the when part {in_part}")
    return out


@pytest.mark.parametrize("code", CODES)
def test_card_and_parts_agree_for_every_type_cause_gap_and_date(code: str) -> None:
    problems: list[str] = []
    for on in DATES:
        for kind in InsuranceType:
            for cause in CAUSES if kind in (InsuranceType.EMPLOYEE, InsuranceType.FLEXIBLE) else (Cause.UNKNOWN,):
                for gap in GAPS:
                    years = 12.0 if kind is InsuranceType.RETIREE else None
                    base = 6000.0 if gap in (3, 7) else None
                    a = BOOK.answer(Query(code, kind, on, gap_months=gap, cause=cause, years_paid=years,
                                          gender=Gender.FEMALE if gap == 7 else None, monthly_base=base))
                    problems += _problems(a, on, f"{code} {kind} {cause} {gap} {on}")
    assert not problems, "\n".join(problems[:15])


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(sorted(r.code for r in REGIONS)), kind=st.sampled_from(list(InsuranceType)),
       cause=st.sampled_from(CAUSES), gap=st.one_of(st.none(), st.integers(0, 80)),
       base=st.one_of(st.none(), st.floats(1000, 40000)), years=st.one_of(st.none(), st.floats(0, 40)),
       day=st.dates(date(2015, 1, 1), date(2026, 12, 31)))
def test_any_answer_card_and_parts_agree(
    code: str, kind: InsuranceType, cause: Cause, gap: int | None, base: float | None, years: float | None,
    day: date,
) -> None:
    a = BOOK.answer(Query(code, kind, day, gap_months=gap, cause=cause, monthly_base=base, years_paid=years))
    assert not _problems(a, day, f"{code} {kind} {cause} {gap} {base} {years} {day}")


def test_liaocheng_after_its_period_says_so_once_and_promises_no_day() -> None:
    on = date(2025, 6, 10)
    a = BOOK.answer(Query("371500", InsuranceType.RESIDENT, on, gap_months=12))
    card = render_card(a, on).text
    why = _parts(a, on)["why"]
    assert "已于2025-02-28截止" in card and "如今天" not in card
    assert (_line(card, "能用：") or "").startswith("能用：参保缴费后等待期3个月")
    # 聊城's own note keeps what it adds (补缴期3个月, said without dates), not the deadline again
    assert "补缴期3个月（未说明起止日期）" in why and "2025年2月28日" not in why
    before = BOOK.answer(Query("371500", InsuranceType.RESIDENT, date(2025, 2, 10), gap_months=12))
    assert before.enrolment_closed is None and before.benefits_resume == date(2025, 5, 10)
    assert "（尚未截止）" in render_card(before, date(2025, 2, 10)).text
