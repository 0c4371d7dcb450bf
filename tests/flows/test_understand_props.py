"""Property tests: `understand` returns an Understanding for any text, never raises."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.understand import Understanding, understand
from policies.model import Gender, InsuranceType
from policies.regions import RegionIndex

REGIONS = RegionIndex.load()  # read-only; loaded once for the module (hypothesis forbids fixtures)

_WORDS = [
    "乌鲁木齐", "北京", "朝阳", "灵活就业", "新农合", "职工医保", "断了", "个月", "年", "半年", "两年多",
    "去年", "上个月", "10月", "开始", "没交", "公司", "单位", "不对", "如果", "呢", "基数", "交了",
    "男", "女", "退休", "失业金", "补缴", "多少钱", "十二", "两", "几", "多", "前", "［已隐去的手机号］",
    "烏魯木齊", "０", "９", "，", "。", "？", " ", "\n", "\x00", "\u200b", "😀", "👨‍👩‍👧",
    "/start", "/cancel",
]  # fmt: skip

_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
_any_text = st.text(max_size=300)
_chinese_soup = st.lists(st.sampled_from(_WORDS), max_size=40).map("".join)
_digits_and_units = st.lists(
    st.one_of(
        st.integers(-10, 10**12).map(str),
        st.sampled_from(["年", "月", "个月", "份", "多", "半", "."]),
    ),
    max_size=20,
).map("".join)


def _check(u: Understanding) -> None:
    assert isinstance(u, Understanding)
    assert u.insurance_type is None or isinstance(u.insurance_type, InsuranceType)
    assert u.cause in (None, "employer", "personal", "job_change", "unknown")
    assert u.gender is None or isinstance(u.gender, Gender)
    assert u.gap_months is None or 0 <= u.gap_months <= 600
    assert u.years_paid is None or 0 <= u.years_paid <= 60
    assert u.monthly_base is None or 100 <= u.monthly_base <= 1_000_000
    assert not (u.region is not None and u.region_candidates)
    assert len(u.region_candidates) != 1
    assert set(u.filled()) <= {
        "region", "insurance_type", "gap_months", "gap_since",
        "cause", "years_paid", "gender", "monthly_base",
    }  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(_any_text, _chinese_soup, _digits_and_units), today=_dates)
def test_any_text_is_understood_without_error(text: str, today: date) -> None:
    u = understand(text, today, REGIONS)
    _check(u)
    if u.gap_since is not None:
        assert u.gap_since.day == 1 and u.gap_since <= today


@settings(max_examples=50, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50), today=_dates)
def test_emoji_and_control_characters(text: str, today: date) -> None:
    _check(understand("乌鲁木齐" + text + "断了4个月\x07\x1b[0m😀", today, REGIONS))


@settings(max_examples=20, deadline=None)
@given(unit=st.sampled_from(_WORDS), today=_dates)
def test_very_long_messages(unit: str, today: date) -> None:
    _check(understand(unit * (100_000 // max(1, len(unit))), today, REGIONS))


@pytest.mark.parametrize(
    "text",
    ["\ud800乌鲁木齐", "\x00" * 1000, "a" * 100_000, "断了" + "9" * 5000 + "个月", "年" * 100_000],
)
def test_hostile_inputs(text: str) -> None:
    _check(understand(text, date(2026, 11, 22), REGIONS))


def test_gap_since_and_months_agree() -> None:
    today = date(2026, 11, 22)
    for text in ["去年10月开始没交", "上个月没交", "今年1月起断缴", "2020年3月开始停了"]:
        u = understand(text, today, REGIONS)
        assert u.gap_since is not None and u.gap_months is not None
        assert u.gap_months == (today.year - u.gap_since.year) * 12 + today.month - u.gap_since.month
