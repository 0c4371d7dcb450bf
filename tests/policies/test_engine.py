"""Engine semantics: precedence, dates, inherit vs none, schemes, purity and answer invariants."""

from __future__ import annotations

import builtins
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import (
    BackpayVerdict,
    Cause,
    Confidence,
    InsuranceType,
    Level,
    Query,
    RuleBook,
    Scheme,
    UnknownRegion,
    load_rulebook,
)
from policies.regions import RegionIndex
from tests.policies.ruletree import CITY, CITY_PATH, NATIONAL, write_tree

ON = date(2025, 6, 10)

PROVINCE = """\
region: "650000"
name: 新疆维吾尔自治区
level: province
sources:
  s004:
    id: "seed:004_278633159ec3df58"
    title: 2025新疆乌鲁木齐职工医保断缴怎么补交
    confidence: content_site
employee:
  late_fee_daily_rate:
    - since: 2020-01-01
      value: 0.0007
      sources: [s004]
"""


def _book(tmp_path: Path, regions: RegionIndex, city_rules: str, province: bool = False) -> RuleBook:
    files = {"000000-national.yaml": NATIONAL, CITY_PATH: CITY.split("employee:")[0] + city_rules}
    if province:
        files["65-xinjiang/650000.yaml"] = PROVINCE
    return load_rulebook(write_tree(tmp_path, files), regions=regions)


def _rate(book: RuleBook, code: str, on: date = ON) -> float | None:
    return book.answer(Query(code, InsuranceType.EMPLOYEE, on, gap_months=1)).late_fee.daily_rate


def test_precedence_county_falls_back_to_city_then_province_then_national(
    tmp_path: Path, regions: RegionIndex
) -> None:
    city = "employee:\n  late_fee_daily_rate:\n    - since: 2025-01-01\n      value: 0.0009\n      sources: [s004]\n"
    book = _book(tmp_path, regions, city, province=True)
    assert _rate(book, "650102") == 0.0009  # 天山区 -> 乌鲁木齐市
    traced = book.answer(Query("650102", InsuranceType.EMPLOYEE, ON)).trace
    assert next(t for t in traced if t.field == "late_fee.daily_rate").level is Level.CITY
    assert _rate(book, "650200") == 0.0007  # 克拉玛依市 -> 新疆
    assert _rate(book, "650102", date(2024, 6, 1)) == 0.0007  # city value not yet in force -> province
    assert _rate(book, "410100") == 0.0005  # 郑州 -> national
    assert book.answer(Query("410100", InsuranceType.EMPLOYEE, ON)).rule_level is Level.NATIONAL


def test_a_later_date_supersedes(tmp_path: Path, regions: RegionIndex) -> None:
    city = (
        "employee:\n  late_fee_daily_rate:\n"
        "    - since: 2025-01-01\n      value: 0.0009\n      sources: [s004]\n"
        "    - since: 2023-01-01\n      value: 0.0008\n      sources: [s004]\n"
    )
    book = _book(tmp_path, regions, city)
    assert _rate(book, "650100", date(2024, 1, 1)) == 0.0008
    assert _rate(book, "650100", date(2025, 1, 1)) == 0.0009
    assert _rate(book, "650100", date(2022, 12, 31)) == 0.0005


def test_inherit_uses_the_parent_value_from_its_date(tmp_path: Path, regions: RegionIndex) -> None:
    city = (
        "employee:\n  late_fee_daily_rate:\n"
        "    - since: 2023-01-01\n      value: 0.0009\n      sources: [s004]\n"
        "    - since: 2025-01-01\n      value: inherit\n"
    )
    book = _book(tmp_path, regions, city, province=True)
    assert _rate(book, "650100", date(2024, 6, 1)) == 0.0009
    assert _rate(book, "650100") == 0.0007  # the province's value


def test_none_means_no_such_rule_here_and_stops_inheritance(tmp_path: Path, regions: RegionIndex) -> None:
    city = "employee:\n  late_fee_daily_rate:\n    - since: 2025-01-01\n      value: none\n      sources: [s004]\n"
    book = _book(tmp_path, regions, city, province=True)
    assert _rate(book, "650100") is None
    assert _rate(book, "650100", date(2024, 6, 1)) == 0.0007


def test_unknown_region_and_bad_gap(book: RuleBook) -> None:
    with pytest.raises(UnknownRegion):
        book.answer(Query("999999", InsuranceType.EMPLOYEE, ON))
    with pytest.raises(ValueError):
        book.answer(Query("650100", InsuranceType.EMPLOYEE, ON, gap_since=date(2025, 8, 1)))


def test_answering_does_no_io(book: RuleBook, monkeypatch: pytest.MonkeyPatch) -> None:
    query = Query("650102", InsuranceType.FLEXIBLE, ON, gap_months=5)
    first = book.answer(query)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine opened a file while answering")

    monkeypatch.setattr(builtins, "open", no_open)
    monkeypatch.setattr(Path, "read_text", no_open)
    assert book.answer(query) == first
    assert book.answer(Query("110105", InsuranceType.RESIDENT, ON, gap_months=30)).waiting_months == 5


def test_schemes_are_never_mixed(book: RuleBook) -> None:
    resident = book.answer(Query("371500", InsuranceType.RESIDENT, ON, gap_months=48))
    employee = book.answer(Query("371500", InsuranceType.FLEXIBLE, ON, gap_months=48))
    assert resident.scheme is Scheme.RESIDENT and employee.scheme is Scheme.EMPLOYEE
    resident_fields = {t.field for t in resident.trace}
    assert not resident_fields & {"gap_band", "late_fee.daily_rate", "cost.rate", "late_fee.payer"}
    assert "doc:国办发〔2024〕38号" not in {s.id for s in employee.sources}
    assert "doc:国办发〔2024〕38号" in {s.id for s in resident.sources}


def test_trace_names_file_line_level_and_source(book: RuleBook) -> None:
    answer = book.answer(Query("650102", InsuranceType.FLEXIBLE, ON, gap_months=5))
    band = next(t for t in answer.trace if t.field == "gap_band")
    assert band.file == "policies/rules/65-xinjiang/650100-urumqi.yaml"
    assert band.level is Level.CITY and band.region_code == "650100" and band.line > 0
    assert band.sources == ("seed:004_278633159ec3df58",)
    lines = Path(band.file).read_text(encoding="utf-8").splitlines()
    assert "types: [flexible]" in lines[band.line - 1]


def test_cost_formula_shows_its_figures(book: RuleBook) -> None:
    answer = book.answer(Query("430100", InsuranceType.EMPLOYEE, ON, gap_months=4, cause=Cause.PERSONAL))
    assert answer.cost is not None
    assert answer.cost.formula.startswith("6711 × 10.7%（单位8.7%+个人2%） × 4个月 = 2872.31元")
    # 湖南 has no local rule on an individual's late fee: it is shown apart, never in the total.
    assert not answer.late_fee.certain and answer.late_fee.amount
    assert answer.cost.late_fee == 0
    assert answer.cost.total == pytest.approx(answer.cost.principal + answer.cost.serious_illness)


REGION_CODES = ["000000", "410100", "650102", "110105", "120101", "310101", "330203", "371502", "420502",
                "430102", "430602", "440402", "450102", "360202", "320302", "350203", "210402", "370602"]


@settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from(REGION_CODES),
    itype=st.sampled_from(list(InsuranceType)),
    gap=st.one_of(st.none(), st.integers(0, 150)),
    cause=st.sampled_from(list(Cause)),
    base=st.one_of(st.none(), st.floats(1000, 60000)),
    years=st.one_of(st.none(), st.floats(0, 40)),
    day=st.dates(date(2023, 1, 1), date(2027, 12, 31)),
)
def test_every_answer_is_complete_and_consistent(
    book: RuleBook, code: str, itype: InsuranceType, gap: int | None, cause: Cause, base: float | None,
    years: float | None, day: date,
) -> None:
    answer = book.answer(Query(code, itype, day, gap_months=gap, cause=cause, monthly_base=base,
                               years_paid=years))
    data = json.loads(json.dumps(answer.to_json(), ensure_ascii=False))
    for key in ("region", "rule_level", "scheme", "can_backpay", "channels", "waiting_months", "benefits_resume",
                "retroactive", "continuity_reset", "late_fee", "cost", "materials", "sources", "notes"):
        assert key in data
    assert set(data["channels"]) <= {"online", "offline"}
    assert answer.waiting_months is None or answer.waiting_months >= 0
    assert answer.benefits_resume is None or answer.benefits_resume > day
    assert "12393（医保服务热线）" in answer.hotlines and "12333（人社服务热线）" in answer.hotlines
    assert answer.sources, "every answer cites its sources"
    if any(s.confidence is Confidence.CONTENT_SITE for s in answer.sources):
        assert any("非官方网站" in n for n in answer.notes)
    if answer.can_backpay is not BackpayVerdict.YES:
        assert answer.condition
    if gap is None and itype is not InsuranceType.RETIREE:
        # nothing to pay back whatever the gap (the unemployment fund pays): the gap is not asked
        assert ("gap_months" in answer.missing_inputs) is not answer.no_gap
    assert set(answer.missing_inputs) <= {"gap_months", "cause", "monthly_base", "years_paid", "gender"}
    if answer.cost is not None:
        assert answer.cost.total >= answer.cost.principal >= 0
        assert answer.cost.months == (gap or 0)


def test_a_band_that_only_fills_in_a_detail_is_traced_apart(book: RuleBook) -> None:
    # 岳阳's own band gives verdict, wait and claims; national practice only the continuity: the
    # verdict's trace (and so its confidence) is 岳阳's, the national band is a detail without notes.
    answer = book.answer(Query("430600", InsuranceType.FLEXIBLE, ON, gap_months=2))
    deciding = {t.file for t in answer.trace if t.field == "gap_band"}
    details = {t.file for t in answer.trace if t.field == "gap_detail"}
    assert deciding == {"policies/rules/43-hunan/430600-yueyang.yaml"}
    assert details == {"policies/rules/000000-national.yaml"}
    assert answer.continuity_reset is False
    assert not any("零星报销" in n for n in answer.notes)


def test_the_declaration_window_today_is_a_local_fact_said_once(book: RuleBook) -> None:
    answer = book.answer(Query("120000", InsuranceType.FLEXIBLE, date(2025, 6, 20), gap_months=2))
    today = [n for n in answer.notes if n.startswith("今天不在申报缴费时间内")]
    assert today == ["今天不在申报缴费时间内，下一次从本月26日起可申报缴费"]
    traced = [t for t in answer.trace if t.field == "declaration_window.today"]
    assert [(t.value, t.level) for t in traced] == [(today[0], Level.PROVINCE)]
    assert sum("26日至次月15日" in n for n in answer.notes) == 1
