"""Hedged years paid ("交了快20年"), a job that ended in a month, a month since paid back, and typos
(examples and properties, with the real region dataset)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.nlu.when import months_between
from flows.understand import understand
from policies.regions import RegionIndex

REGIONS = RegionIndex.load()  # read-only; loaded once for the module (hypothesis forbids fixtures)
TODAY = date(2025, 6, 10)
_dates = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31))
_UNDER = ("快", "将近", "接近", "不到", "小")
_ABOUT = ("差不多", "大概", "大约")


def _month_after(month: int, today: date) -> date:
    """The month after the latest `month` not after today's month."""
    year = today.year if month <= today.month else today.year - 1
    return date(year + month // 12, month % 12 + 1, 1)


# --------------------------------------------------------------------------- hedged years
@pytest.mark.parametrize(
    ("text", "years", "loose"),
    [
        ("医保交了快20年了", 20.0, (19.0, 20.0)),  # read as exactly 20
        ("医保交了将近20年", 20.0, (19.0, 20.0)),
        ("交了差不多20年", 20.0, (19.0, 21.0)),
        ("交了大概20年", 20.0, (19.0, 21.0)),
        ("医保交了20年左右", 20.0, (19.0, 21.0)),
        ("交了不到20年", 20.0, (19.0, 20.0)),  # read as a gap of 240 months
        ("一共交了快20年", 20.0, (19.0, 20.0)),
        ("交了20多年", 20.0, (20.0, 20.92)),
        ("交了20年", 20.0, None),
    ],
)
def test_hedged_years_keep_the_figure_and_what_it_can_mean(text: str, years: float,
                                                           loose: tuple[float, float] | None) -> None:
    u = understand(text, TODAY, REGIONS)
    assert (u.years_paid, u.years_range, u.gap_months) == (years, loose, None)


def test_an_unmarked_hedged_stretch_carries_its_years() -> None:
    """"快20年" answering "一共交了多少年": the dialog takes it as years, with 19–20."""
    u = understand("快20年", TODAY, REGIONS)
    assert u.gap_unmarked and u.years_range == (19.0, 20.0)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 50), hedge=st.sampled_from(_UNDER + _ABOUT), verb=st.sampled_from(["交了", "缴费", "医保交了"]))
def test_a_hedge_gives_a_range_around_the_figure(n: int, hedge: str, verb: str) -> None:
    u = understand(f"{verb}{hedge}{n}年", TODAY, REGIONS)
    assert u.years_paid == n and u.gap_months is None
    assert u.years_range == ((n - 1, n) if hedge in _UNDER else (n - 1, n + 1))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50))
def test_years_said_plainly_have_no_range(n: int) -> None:
    u = understand(f"交了{n}年", TODAY, REGIONS)
    assert u.years_paid == n and u.years_range is None


# --------------------------------------------------------------------------- a job that ended
@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("3月份离职的，之后一直没交", date(2025, 4, 1)),  # read no gap
        ("4月份辞职后就没交了", date(2025, 5, 1)),
        ("去年10月底离职，一直没交", date(2024, 11, 1)),
        ("2月被裁了，医保一直没续", date(2025, 3, 1)),
    ],
)
def test_a_job_ended_in_a_month_starts_the_gap_the_month_after(text: str, since: date) -> None:
    u = understand(text, TODAY, REGIONS)
    assert (u.gap_since, u.gap_months, u.cause) == (since, months_between(since, TODAY), "job_change")


def test_a_job_ended_without_anything_unpaid_is_no_gap() -> None:
    assert understand("3月份离职了，医保怎么办", TODAY, REGIONS).gap_since is None


@settings(max_examples=60, deadline=None)
@given(month=st.integers(1, 12), today=_dates, word=st.sampled_from(["离职", "辞职", "辞工", "被辞退"]))
def test_any_month_left_starts_the_gap_the_month_after(month: int, today: date, word: str) -> None:
    u = understand(f"{month}月份{word}的，之后一直没交", today, REGIONS)
    after = _month_after(month, today)
    if after <= today:
        assert u.gap_since == after
        assert u.gap_months == months_between(after, today)  # 0: left last month, nothing due yet
    else:  # left this month: nothing unpaid yet
        assert u.gap_since is None and u.gap_months is None


# --------------------------------------------------------------------------- a month paid back since
@pytest.mark.parametrize(
    "text", ["3月份没交，4月又补上了", "3月没交，后来补交了", "三月份没交，已经补缴了"]
)
def test_a_month_paid_back_since_is_that_month_alone(text: str) -> None:
    u = understand(text, TODAY, REGIONS)  # read as a gap since March (3 months and going on)
    assert (u.gap_months, u.gap_since) == (1, None)


def test_a_question_about_paying_back_is_not_paid_back() -> None:
    assert understand("3月份没交，能补上吗", TODAY, REGIONS).gap_since == date(2025, 3, 1)


@settings(max_examples=60, deadline=None)
@given(month=st.integers(1, 12), today=_dates)
def test_any_month_paid_back_is_never_an_ongoing_gap(month: int, today: date) -> None:
    u = understand(f"{month}月份没交，后来又补上了", today, REGIONS)
    assert u.gap_months in (0, 1)  # 0: this month, not yet a gap
    # a start month travels only when it gives the same months up to now (the engine counts from it)
    assert u.gap_since is None or months_between(u.gap_since, today) == u.gap_months


# --------------------------------------------------------------------------- typos
@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("断了三各月", "断了三个月"),
        ("断了5各多月", "断了5个多月"),
        ("断交了3个月", "断缴了3个月"),
        ("补交了3个月", "补缴了3个月"),
        ("医宝断了3个月", "医保断了3个月"),
        ("断了５个月", "断了5个月"),
        ("北京灵活就业断交三各月", "北京灵活就业断缴三个月"),
    ],
)
def test_typos_read_as_meant(typed: str, meant: str) -> None:
    assert understand(typed, TODAY, REGIONS) == understand(meant, TODAY, REGIONS)


def test_ge_typo_needs_a_number_before_month() -> None:
    assert understand("各月份都没交", TODAY, REGIONS).gap_months is None


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 36), today=_dates)
def test_full_width_digits_and_ge_typo_read_like_the_plain_form(n: int, today: date) -> None:
    full = "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    plain = understand(f"断了{n}个月", today, REGIONS)
    assert understand(f"断了{full}个月", today, REGIONS) == plain
    assert understand(f"断了{n}各月", today, REGIONS) == plain


@pytest.mark.parametrize(
    ("text", "today", "since"),
    [
        ("3月份忘记交了", date(2025, 5, 10), None),  # kept March: the engine counted 2 months to May
        ("3月份忘记交了", date(2025, 4, 10), date(2025, 3, 1)),  # up to now: the same month either way
        ("3月到5月没交", date(2025, 6, 10), date(2025, 3, 1)),
        ("3月到4月没交", date(2025, 6, 10), None),
    ],
)
def test_a_closed_range_keeps_its_start_only_when_it_reaches_now(text: str, today: date, since: date | None) -> None:
    u = understand(text, today, REGIONS)
    assert u.gap_since == since
    assert since is None or months_between(since, today) == u.gap_months
