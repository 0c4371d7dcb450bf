"""People's own phrasings that were misread or ignored: former place names, traditional script, gaps
said by the Spring Festival or a range of dates, a month forgotten, years still to pay (examples and
properties, with the real region dataset)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opencc import OpenCC

from flows.nlu.normalise import FORMER_NAMES, normalise
from flows.nlu.when import months_between
from flows.understand import understand
from policies.limits import MAX_GAP_MONTHS
from policies.regions import RegionIndex

REGIONS = RegionIndex.load()  # read-only; loaded once for the module (hypothesis forbids fixtures)
TODAY = date(2025, 6, 10)
_dates = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31))
_CN = "一二三四五六七八九十"


def _cn(n: int) -> str:
    """1..99 in Chinese numerals, as people write them ("十二", "二十", "二十三")."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN[tens - 1] + "十")
    return head + (_CN[ones - 1] if ones else "")


def _numeral(n: int) -> st.SearchStrategy[str]:
    return st.sampled_from([str(n), _cn(n)])


# --------------------------------------------------------------------------- places
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("襄樊 灵活就业 过完年就没交了", "420600"),
        ("湖北襄樊市职工医保断了3个月", "420600"),
        ("襄樊", "420600"),
        ("大庸市新农合", "430800"),
        ("北京宣武区 公司没交", "110102"),
        ("上海闸北 灵活就业", "310106"),
        ("昭乌达盟", "150400"),  # was read as 乌海市乌达区
        ("锡盟 新农合", "152500"),
    ],
)
def test_a_former_name_reads_as_todays(text: str, code: str) -> None:
    u = understand(text, TODAY, REGIONS)
    assert u.region is not None and u.region.code == code


def test_former_names_are_no_part_of_a_current_name_and_each_leads_to_one_region() -> None:
    for old, new in FORMER_NAMES:
        assert not any(old in region.name for region in REGIONS), old  # the replacement breaks nothing
        assert REGIONS.find_in_text(old) is None or old == "昭乌达盟", old  # not known by itself
        found = REGIONS.resolve(normalise(old))
        assert found.region is not None, (old, new)


_FRAGMENTS = [
    "乌鲁木齐", "广州", "沈阳", "台北", "北京朝阳区", "灵活就业", "新农合", "职工医保", "公司没给我交",
    "自己忘了交", "断了", "4个月", "两年多", "半年", "去年10月开始没交", "过完年就没交了", "3月份忘记交了",
    "从2023年3月到8月没交", "交了12年", "还差3年", "快退休了", "男", "女", "基数5000", "能补吗",
    "多少钱", "后面", "发", "里面", "几个月", "，", "。",
]  # fmt: skip
_TRADITIONAL = [OpenCC(config) for config in ("s2t", "s2tw", "s2hk")]


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=8), which=st.integers(0, 2),
       today=_dates)
def test_traditional_script_reads_like_simplified(parts: list[str], which: int, today: date) -> None:
    text = "".join(parts)
    traditional = _TRADITIONAL[which].convert(text)
    assert understand(traditional, today, REGIONS) == understand(text, today, REGIONS)


@pytest.mark.parametrize(("traditional", "simplified"), [("臺北", "台北"), ("廣州", "广州"), ("瀋陽", "沈阳"),
                                                          ("烏魯木齊 靈活就業 斷繳兩個月", "乌鲁木齐 灵活就业 断缴两个月")])
def test_traditional_names(traditional: str, simplified: str) -> None:
    assert understand(traditional, TODAY, REGIONS) == understand(simplified, TODAY, REGIONS)


# --------------------------------------------------------------------------- gaps
@pytest.mark.parametrize(
    ("text", "since", "months"),
    [
        ("过完年就没交了", date(2025, 2, 1), 4),
        ("年后一直没交", date(2025, 2, 1), 4),
        ("春节后没交了", date(2025, 2, 1), 4),
        ("过了年我就没交了", date(2025, 2, 1), 4),
        ("去年过完年就没交了", date(2024, 2, 1), 16),
        ("年初就断了", date(2025, 1, 1), 5),
        ("年底开始没交", date(2024, 12, 1), 6),
        ("去年底开始没交", date(2024, 12, 1), 6),
        ("医保从二零二三年三月开始没交", date(2023, 3, 1), 27),
        ("2024年十月份开始没交", date(2024, 10, 1), 8),
    ],
)
def test_a_gap_said_by_a_time_of_year(text: str, since: date, months: int) -> None:
    u = understand(text, TODAY, REGIONS)
    assert (u.gap_since, u.gap_months, u.years_paid) == (since, months, None)


@pytest.mark.parametrize("text", ["三年后就没用了", "半年后再交", "十年后退休", "过年前交了", "每年年底交"])
def test_years_later_and_other_times_are_no_start(text: str) -> None:
    assert understand(text, TODAY, REGIONS).gap_since is None


@settings(max_examples=100, deadline=None)
@given(today=_dates, phrase=st.sampled_from(["过完年就没交了", "年后一直没交", "春节以后就断了"]))
def test_after_the_festival_is_the_latest_february(today: date, phrase: str) -> None:
    u = understand(phrase, today, REGIONS)
    february = date(today.year if today.month >= 2 else today.year - 1, 2, 1)
    assert u.gap_since == february
    assert u.gap_months == months_between(february, today)  # 0 in February itself, as "这个月没交"
    assert u.years_paid is None


@pytest.mark.parametrize(
    "text", ["3月份忘记交了", "三月份漏交了", "3月份的没交", "3月份忘了交", "就3月份一个月没交", "只有3月没交",
             "就二月份没交", "我是灵活就业的，3月份忘记交了，4月5月都交了"]
)
def test_one_month_forgotten(text: str) -> None:
    u = understand(text, TODAY, REGIONS)
    assert (u.gap_months, u.years_paid) == (1, None)


@settings(max_examples=100, deadline=None)
@given(today=_dates, month=st.integers(1, 12), data=st.data())
def test_a_month_forgotten_is_one_month(today: date, month: int, data: st.DataObject) -> None:
    said = data.draw(st.sampled_from([str(month), _cn(month)]))
    verb = data.draw(st.sampled_from(["份忘记交了", "份忘交了", "份漏交了", "忘了交"]))
    u = understand(f"{said}月{verb}", today, REGIONS)
    if month == today.month:
        assert u.gap_months is None  # this month is not yet a gap
    else:
        assert (u.gap_months, u.years_paid) == (1, None)


@pytest.mark.parametrize(
    "text",
    ["从2023年3月到8月没交", "2023.3-2023.8断了", "2023年3月-2023年8月断缴", "2023年3月至8月没交", "前年3月到8月没交",
     "2023/3-2023/8断缴", "从2023年三月到八月没交", "二零二三年三月到二零二三年八月断了"],
)
def test_a_range_of_dates_is_its_months(text: str) -> None:
    assert understand(text, TODAY, REGIONS).gap_months == 6  # read 18 when the end had no year


_RANGE_FORMS = ["从{y1}年{m1}月到{y2}年{m2}月没交", "{y1}.{m1}-{y2}.{m2}断了", "{y1}/{m1}-{y2}/{m2}断缴",
                "{y1}年{m1}月份至{y2}年{m2}月份公司没给交"]


@settings(max_examples=200, deadline=None)
@given(today=_dates, back=st.one_of(st.integers(1, 30), st.integers(1, 400)),
       length=st.one_of(st.integers(1, 12), st.integers(1, 400)), data=st.data())
def test_a_date_range_gives_a_gap_consistent_with_its_ends(today: date, back: int, length: int,
                                                           data: st.DataObject) -> None:
    index = today.year * 12 + today.month - 1
    first_i = index - back
    last_i = min(first_i + length - 1, index)
    first, last = date(first_i // 12, first_i % 12 + 1, 1), date(last_i // 12, last_i % 12 + 1, 1)
    forms = list(_RANGE_FORMS)
    if first.year == last.year:
        forms.append("{y1}年{m1}月到{m2}月没交")
    text = data.draw(st.sampled_from(forms)).format(y1=first.year, m1=first.month, y2=last.year, m2=last.month)
    u = understand(text, today, REGIONS)
    expected = min(last_i + 1, index) - first_i  # those months, the current one not counted
    if first.year < 1990 or expected > MAX_GAP_MONTHS:
        assert u.gap_months is None or u.gap_months <= MAX_GAP_MONTHS
        return
    assert u.gap_months == expected
    assert u.years_paid is None
    if u.gap_since is not None:
        assert u.gap_since == first
        assert abs(months_between(first, today) - expected) <= 1


# --------------------------------------------------------------------------- years
@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("还差3年才交够", None),
        ("再交3年就够了", None),  # read as a gap of 36 months, then taken for 3 years paid
        ("再缴两年就满了", None),
        ("再交2年就满15年了", None),  # read 15 years paid and a gap of 24
        ("还得缴两年才够", None),
        ("交够15年才能退休", None),
        ("缴满20年才可以享受待遇", None),
        ("交了12年，还差3年", 12.0),
        ("交了13年，再交2年就满15年了", 13.0),
        ("我交了18年了，还要交7年才满25年", 18.0),
        ("已经交满15年了", 15.0),
        ("交了15年才发现断了", 15.0),
    ],
)
def test_years_still_to_pay_are_not_years_paid(text: str, years: float | None) -> None:
    u = understand(text, TODAY, REGIONS)
    assert (u.years_paid, u.gap_months) == (years, None)


_SHORT = ["还差{n}年", "还差{n}年才交够", "再交{n}年就够了", "再缴{n}年就满了", "还得交{n}年", "还要交{n}年才满{t}年",
          "再交{n}年就满{t}年了", "差{n}年才够{t}年"]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 20), t=st.sampled_from([10, 15, 20, 25, 30]), paid=st.integers(1, 40), data=st.data(),
       today=_dates)
def test_a_shortfall_never_sets_years_paid_or_a_gap(n: int, t: int, paid: int, data: st.DataObject,
                                                   today: date) -> None:
    short = data.draw(st.sampled_from(_SHORT)).format(n=data.draw(_numeral(n)), t=data.draw(_numeral(t)))
    alone = understand(short, today, REGIONS)
    assert (alone.years_paid, alone.gap_months) == (None, None)
    said = data.draw(_numeral(paid))
    both = understand(data.draw(st.sampled_from([f"交了{said}年，{short}", f"{short}，已经交了{said}年"])),
                      today, REGIONS)
    assert (both.years_paid, both.gap_months) == (float(paid), None)


_GAPS = ["断了{n}个月", "断缴{n}年", "{n}个月没交", "过完年就没交了", "{m}月份忘记交了", "去年{m}月开始没交",
         "从去年{m}月到今年1月没交", "年初就断了"]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 30), m=st.integers(1, 12), data=st.data(), today=_dates)
def test_a_gap_phrase_never_sets_years_paid(n: int, m: int, data: st.DataObject, today: date) -> None:
    text = data.draw(st.sampled_from(_GAPS)).format(n=data.draw(_numeral(n)), m=data.draw(_numeral(m)))
    assert understand(text, today, REGIONS).years_paid is None


@pytest.mark.parametrize(
    ("text", "months", "years"),
    [
        ("医保从24年年底开始没交", 6, None),  # read as a gap of 24 years
        ("24年开始没交", None, None),  # which month of 2024: asked
        ("23年就没交了", None, None),
        ("新农合从23年开始就没交了", 29, None),  # paid by the year: since January 2023
        ("断了24年", 288, None),
        ("交了15年就断了", None, 15.0),
        ("医保断档了仨月", 3, None),  # read as March
    ],
)
def test_two_digit_years_and_spoken_counts(text: str, months: int | None, years: float | None) -> None:
    u = understand(text, TODAY, REGIONS)
    assert (u.gap_months, u.years_paid) == (months, years)


@settings(max_examples=100, deadline=None)
@given(today=_dates, back=st.integers(0, 20), data=st.data())
def test_a_two_digit_year_said_as_a_start_is_no_stretch(today: date, back: int, data: st.DataObject) -> None:
    year = today.year - back
    form = data.draw(st.sampled_from(["从{yy}年开始没交", "{yy}年开始就断了", "{yy}年年底开始没交", "从{yy}年起没缴"]))
    u = understand(form.format(yy=f"{year % 100:02d}"), today, REGIONS)
    assert u.gap_months is None or u.gap_months <= months_between(date(year, 1, 1), today)
    assert u.years_paid is None


@pytest.mark.parametrize(
    ("text", "months", "loose"),
    [
        ("医保断了个把月", 1, (1, 2)),
        ("医保停了一个季度", 3, None),
        ("断了两个季度", 6, None),
        ("断了一季度", None, None),  # the first quarter, or one quarter: asked
        ("断了小一年", 12, (11, 12)),  # read as exactly 12
        ("医保段了三个月", 3, None),  # 段 typed for 断: read as an unmarked stretch
        ("我系广州嘅，社保断咗两个月", 2, None),
        ("医保断左3个月", 3, None),
    ],
)
def test_spoken_durations(text: str, months: int | None, loose: tuple[int, int] | None) -> None:
    u = understand(text, TODAY, REGIONS)
    assert (u.gap_months, u.gap_range, u.years_paid, u.gap_unmarked) == (months, loose, None, False)


_CORRECTIONS = ["不对，是", "不对 ", "说错了，", "不对，应该是", "搞错了，是"]


@settings(max_examples=150, deadline=None)
@given(a=st.integers(1, 40), b=st.integers(1, 40), data=st.data())
def test_a_corrected_value_keeps_the_kind_it_corrects(a: int, b: int, data: st.DataObject) -> None:
    """"交了12年，不对，是13年" was read as 12 years paid and a gap of 13 years."""
    fix = data.draw(st.sampled_from(_CORRECTIONS))
    years = understand(f"交了{data.draw(_numeral(a))}年，{fix}{data.draw(_numeral(b))}年", TODAY, REGIONS)
    assert (years.years_paid, years.gap_months) == (float(b), None)
    gap = understand(f"断了{data.draw(_numeral(a))}个月，{fix}{data.draw(_numeral(b))}个月", TODAY, REGIONS)
    assert (gap.gap_months, gap.years_paid) == (b, None)


@pytest.mark.parametrize(("text", "since"), [("3月没交", date(2025, 3, 1)), ("就3月份开始没交", date(2025, 3, 1)),
                                             ("3月份开始忘了交", date(2025, 3, 1))])
def test_a_month_with_no_word_for_one_month_is_still_a_start(text: str, since: date) -> None:
    assert understand(text, TODAY, REGIONS).gap_since == since
