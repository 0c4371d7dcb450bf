"""The answer card and its parts, read as the person who asked, as properties over the real engine.

* A national default is never shown as the local rule: each card line that can fall back to one
  (办理, 能用, 费用, and after a "no" 现在) says so when its rule is national, and never when it is the
  region's own (decided from the answer's trace, not from the renderer).
* A wait counted from paying again (杭州 "缴费满6个月"; a resident re-enrolling) is never "补缴后".
* A "no" carries no cost anywhere, and no part repeats a label line ("线上：" twice).

Exhaustive over every rule region, one region under each that has no file of its own (东莞 under
广东), and regions with no rule at all × every type × every cause × gaps; then hypothesis over the
whole region index.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.render import TOPICS, render_card, topic_parts
from policies import BackpayVerdict, Cause, InsuranceType, Query, RuleBook, load_rulebook
from policies.loader import RULES_DIR, load_rule_files
from policies.model import Answer, Level, TraceEntry
from policies.regions import RegionIndex
from policies.wording import NATIONAL_FIRST, headline

TODAY = date(2025, 6, 10)
REGIONS = RegionIndex.load()
BOOK: RuleBook = load_rulebook(regions=REGIONS)
RULE_REGIONS = sorted(rf.region_code for rf in load_rule_files(RULES_DIR) if rf.region_code != "000000")
WITHOUT_RULES = ["510100", "610100", "410100"]  # 成都, 西安, 郑州


def _inheriting() -> list[str]:
    """For each rule region, the first region below it without a file of its own (东莞 under 广东)."""
    ruled = set(RULE_REGIONS)
    out: dict[str, str] = {}
    for region in REGIONS:
        chain = [r.code for r in REGIONS.chain(region.code)]
        owner = next((c for c in chain if c in ruled), None)
        if owner is not None and region.code not in ruled and owner not in out:
            out[owner] = region.code
    return sorted(out.values())


CODES = RULE_REGIONS + _inheriting() + WITHOUT_RULES + ["441900", "440600"]  # 东莞, 佛山 by name
GAPS: list[int | None] = [None, 1, 2, 3, 4, 5, 6, 7, 13, 25, 49]
TAGS = ("全国通行", "全国统一规定")
CAUSES = (Cause.EMPLOYER, Cause.PERSONAL, Cause.UNKNOWN)


def _line(card: str, label: str) -> str | None:
    return next((line for line in card.splitlines() if line.startswith(label)), None)


def _national(entries: list[TraceEntry]) -> bool | None:
    """National (True), local (False), or not read (None)."""
    return all(t.level is Level.NATIONAL for t in entries) if entries else None


def _channel_national(a: Answer, name: str) -> bool | None:
    return _national([t for t in a.trace if t.field == "channels" and (name == t.value or name.startswith(t.value + "（"))])


def _ways(how: str) -> dict[str, str]:
    """"办理（…）：线上（A）或线下（B）（tag）" -> {"线上": "A", "线下": "B（tag）"}."""
    body = how[min(i for i in (how.find("线上（"), how.find("线下（")) if i >= 0):]
    online, _, offline = body.partition("或线下（") if body.startswith("线上（") else ("", "", body[3:])
    return {"线上": online[3:], "线下": offline}


def _card_problems(a: Answer, where: str) -> list[str]:
    card = render_card(a, TODAY).text
    out: list[str] = []
    if a.no_gap:
        return out
    said_first = headline(a) in NATIONAL_FIRST  # the first line says all of it is national practice
    how, when, cost, now = (_line(card, p) for p in ("办理", "能用：", "费用：", "现在："))
    if how is not None:
        ways = _ways(how)
        every = how.endswith("（全国通行做法，以当地为准）")
        for kind, label in (("online", "线上"), ("offline", "线下")):
            first = next((c for c in a.channels if c.kind == kind), None)
            if first is None:
                continue
            national = _channel_national(a, first.name)
            marked = every or "全国通行做法" in ways.get(label, "")
            if national and not said_first and not marked:
                out.append(f"{where}: the national channel {first.name!r} is shown as local: {how}")
            if national is False and marked:
                out.append(f"{where}: the region's own channel {first.name!r} is called national: {how}")
    wait = [t for t in a.trace if t.field == "waiting_months"]
    if when is not None and a.can_backpay is not BackpayVerdict.NO and (a.waiting_months is not None or a.waiting_days is not None):
        national = _national(wait)
        if national and not said_first and not any(t in when for t in TAGS):
            out.append(f"{where}: a national wait is shown as the local rule: {when}")
        if national is False and any(t in when for t in TAGS):
            out.append(f"{where}: the region's own wait is called national: {when}")
    if cost is not None and a.cost is not None and a.employer_duty is None:
        rate = _national([t for t in a.trace if t.field == "cost.rate"])
        if rate and not said_first and "全国通行" not in cost:
            out.append(f"{where}: a national rate's estimate is shown as local: {cost}")
    if now is not None and a.re_enrol is not None:
        national = _national([t for t in a.trace if t.field == "re_enrol"])
        if national and not said_first and "全国通行" not in now:
            out.append(f"{where}: national re-enrolment practice is shown as local: {now}")
        if national is False and "全国通行" in now:
            out.append(f"{where}: the region's own re-enrolment is called national: {now}")
    if a.wait_after == "payment" and ("补缴后等待期" in card or "如今天补缴" in card or "补缴后不设" in card):
        out.append(f"{where}: a wait counted from paying again reads as after back-pay: {when}")
    return out


COST_WORDS = re.compile(r"费用：约|约[\d,.]+元|合计|本金|个人需交|一次性补足")


def _part_problems(a: Answer, where: str) -> list[str]:
    out: list[str] = []
    texts = {t: "\n\n".join(topic_parts(a, TODAY, {t})) for t in TOPICS}
    card = render_card(a, TODAY).text
    if a.can_backpay is BackpayVerdict.NO:  # a "no" (or nothing due) carries no cost anywhere
        for topic, text in {"card": card, **texts}.items():
            found = COST_WORDS.search(text)
            if found:
                out.append(f"{where}: a 'no' states a cost in {topic}: {found.group(0)!r}")
    for topic, text in texts.items():
        for paragraph in text.split("\n\n"):
            labels = [label for line in paragraph.splitlines() if not line.startswith(("•", "📚", "📌", "ℹ️"))
                      and len(label := line.split("：", 1)[0]) <= 12 and "：" in line]
            if len(labels) != len(set(labels)):
                out.append(f"{where}: {topic} repeats a label line: {paragraph!r}")
    if a.wait_after == "payment" and "补缴后等待期" in texts["when"]:
        out.append(f"{where}: a wait counted from paying again reads as after back-pay (when part)")
    return out


@pytest.mark.parametrize("code", CODES)
def test_cards_and_parts_say_what_is_national_for_every_type_cause_and_gap(code: str) -> None:
    problems: list[str] = []
    for kind in InsuranceType:
        for cause in CAUSES:
            for gap in GAPS:
                a = BOOK.answer(Query(code, kind, TODAY, gap_months=gap, cause=cause, years_paid=10.0))
                where = f"{code} {kind} {cause} {gap}"
                problems += _card_problems(a, where) + _part_problems(a, where)
    assert not problems, "\n".join(problems[:15])


ALL_CODES = sorted(r.code for r in REGIONS)


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(ALL_CODES), kind=st.sampled_from(list(InsuranceType)), cause=st.sampled_from(CAUSES),
       gap=st.one_of(st.none(), st.integers(0, 80)), base=st.one_of(st.none(), st.floats(1000, 40000)),
       day=st.dates(date(2015, 1, 1), date(2026, 12, 31)))
def test_any_region_card_is_honest_about_national_defaults(
    code: str, kind: InsuranceType, cause: Cause, gap: int | None, base: float | None, day: date
) -> None:
    a = BOOK.answer(Query(code, kind, day, gap_months=gap, cause=cause, monthly_base=base, years_paid=12.0))
    where = f"{code} {kind} {cause} {gap} {base} {day}"
    assert not _card_problems(a, where) + _part_problems(a, where)


def test_dongguan_lists_each_channel_kind_once_and_says_the_generic_ones_are_national() -> None:
    for code in ("441900", "440600"):  # 东莞, 佛山: 广东's 粤医保 beside the national channels
        a = BOOK.answer(Query(code, InsuranceType.FLEXIBLE, TODAY, gap_months=3))
        where = "\n\n".join(topic_parts(a, TODAY, {"where"}))
        assert where.count("线上：") == 1 and "粤医保" in where and "医保服务平台App" in where
        online = _line(where, "线上：") or ""
        assert "全国通行做法" in online.split("粤医保")[1]  # the generic one, not 粤医保, is national
        card = render_card(a, TODAY).text
        assert "粤医保" in (_line(card, "办理") or "") and "全国通行做法" in (_line(card, "能用：") or "")


def test_a_wait_after_paying_again_is_not_called_back_pay() -> None:
    # 杭州/武汉 "需缴费满6个月后才能享受待遇；资料未说明能否补缴断缴期间"; 烟台 "需连续缴费满3个月"
    for code in ("330100", "420100", "370600"):
        a = BOOK.answer(Query(code, InsuranceType.EMPLOYEE, TODAY, gap_months=5))
        assert a.wait_after == "payment"
        when = _line(render_card(a, TODAY).text, "能用：") or ""
        assert when.startswith("能用：恢复缴费后等待期") and "如今天恢复缴费" in when
