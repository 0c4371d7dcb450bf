"""A gap that ended - a new job started, paying resumed - is its real length, never counted up to today."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.nlu.when import months_between
from flows.understand import Understanding, understand
from policies.regions import RegionIndex

REGIONS = RegionIndex.load()  # read-only; loaded once for the module (hypothesis forbids fixtures)
TODAY = date(2026, 11, 30)


def read(text: str, today: date = TODAY) -> Understanding:
    return understand(text, today, REGIONS)


@pytest.mark.parametrize(
    ("text", "months"),
    [
        # the employer pays the month of leaving, the new one the month of joining: Nov 2025 - Feb 2026
        ("我是广州的，去年10月离职，今年3月入职新公司，中间医保没交，能补吗", 4),
        ("3月份离职，5月入职新公司", 1),  # April
        ("10月离职，3月入职", 4),  # in November: last October to this March
        ("2024年3月离职，2025年5月入职新公司", 13),
        ("去年11月开始没交，今年3月又交上了", 4),
        ("乌鲁木齐 个体户 去年断了8个月 后来又接着交了", 8),
        ("断了3个月，上个月开始又交上了", 3),
        ("断了2个月，上个月开始又交上了", 2),  # "上个月开始" is when paying resumed, not a start
        ("去年12月辞职，今年2月份找到新工作了", 1),
    ],
)
def test_an_ended_gap_is_its_months_and_not_running(text: str, months: int) -> None:
    u = read(text)
    assert (u.gap_months, u.gap_since, u.gap_ended) == (months, None, True)


@pytest.mark.parametrize(
    ("text", "months", "since"),
    [
        # the new job does not pay: the gap still runs (from the month after leaving)
        ("去年10月离职，今年3月入职新公司，新公司也没给交", 12, date(2025, 11, 1)),
        # a job begun before the gap does not end it
        ("2020年3月入职，去年11月离职后一直没交", 11, date(2025, 12, 1)),
        ("3月份离职的，之后一直没交", 7, date(2026, 4, 1)),
    ],
)
def test_a_gap_not_ended_still_runs_to_today(text: str, months: int, since: date) -> None:
    u = read(text)
    assert (u.gap_months, u.gap_since, u.gap_ended) == (months, since, False)


def test_paying_resumed_in_a_month_not_said_leaves_the_length_to_be_asked() -> None:
    u = read("去年11月开始断了，后来又接着交了")
    assert u.gap_months is None and u.gap_since is None


@pytest.mark.parametrize("text", ["能接着交吗", "怎么恢复缴费", "10月离职，11月入职"])
def test_no_ended_gap_where_none_was_said(text: str) -> None:
    u = read(text)
    assert u.gap_months is None and not u.gap_ended


def test_a_month_paid_back_is_still_that_month_alone() -> None:
    u = read("3月份没交，4月又补上了")
    assert (u.gap_months, u.gap_since) == (1, None)


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _said(month: date, today: date, form: str) -> str:
    if form == "year":
        return f"{month.year}年{month.month}月"
    if form == "relative":
        return {0: "今年", 1: "去年", 2: "前年"}[today.year - month.year] + f"{month.month}月"
    return f"{month.month}月份"  # bare: the latest such month, the join the first one after the leave


@given(
    today=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    back=st.integers(1, 36),  # how many months ago the person left
    after=st.integers(1, 35),  # how many months later they joined
    form=st.sampled_from(["year", "relative", "bare"]),
    leave_word=st.sampled_from(["离职", "辞职", "被裁了"]),
    join_word=st.sampled_from(["入职新公司", "入职", "进了新单位"]),
)
def test_leave_then_join_is_the_months_between(
    today: date, back: int, after: int, form: str, leave_word: str, join_word: str
) -> None:
    """"L月离职，J月入职新公司" is J−L−1 months, ended, never more than the months up to today."""
    now = today.year * 12 + today.month - 1
    leave, join = _month(now - back), _month(now - back + after)
    if join > _month(now):
        return
    if form == "relative" and today.year - leave.year > 2:
        form = "year"
    if form == "bare" and (after > 11 or leave.month == today.month):
        form = "year"  # a bare month in this month or a year apart means another one
    u = read(f"{_said(leave, today, form)}{leave_word}，{_said(join, today, form)}{join_word}", today)
    expected = months_between(leave, join) - 1
    assert u.gap_since is None
    assert u.gap_months == (expected or None)
    assert u.gap_ended is (expected > 0)
    assert (u.gap_months or 0) <= months_between(leave, today) - 1
