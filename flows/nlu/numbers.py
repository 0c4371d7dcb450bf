"""Numbers written in Arabic or Chinese numerals, and durations ("4个月", "一年半", "两年多").

Chinese numerals go through cn2an. A number is only ever read together with its unit, so the digits
of a phone number or an ID never turn into a gap.

Conventions for vague durations (documented because the policy answer depends on them):

* 半年 = 6, 一年半 = 18, 大半年 = 8 (approximate), 半个月 = 1 (approximate: the month is unpaid),
  个把月 = 1..2 (approximate), 一个季度 = 3,
  一个半月 = 2 (approximate, rounded up for the same reason).
* "N多" forms (两年多, 三个多月, 十多个月) and ranges (三四个月, 6-7个月, 一两年) take the lower
  bound and are flagged approximate.
* 几个月 / 好几年 are unknown: no number is guessed.
* Days only next to a gap verb ("断了90天" 3 months, "100多天没交" 3..4); "三个月零几天" is 3..4. Days also keep their count (`Duration.days`: 90; "180多天" 181, the least it can mean), which
  the engine takes as days where a rule counts days (宜昌 60/61, 180/181).
* Each approximate duration also says the most it can mean (`Duration.high`): 三个多月 3..4,
  两年多 24..35, 大半年 7..11, 小半年 4..6, 半年多 6..7; "快/将近/接近/差不多/不到 N个月" is N-1..N
  (read in `flows.understand`). The dialog asks when the answer changes inside that range.
* Years said with a hedge (`years_span`) can mean: just under ("快20年", "将近20年", "不到20年",
  "小20年": 19–20), about ("差不多20年", "大概20年", "20年左右": 19–21), or an "N多年" form's range
  ("20多年": 20–20.92). The figure said stays the value; the dialog asks for the exact years when
  the verdict changes inside the range (`flows.dialog.years`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import cn2an

# One numeral: Arabic (with decimals) or Chinese (no 万: durations and years never need it).
# Arabic numerals must not be part of a longer digit run (a phone number is not "345678个月").
NUM = r"(?:(?<![\d.])\d{1,6}(?:\.\d{1,2})?(?![\d.])|[零〇一二两三四五六七八九十百]{1,6})"


def to_number(token: str) -> float | None:
    """The value of one numeral token, or None when it is not a number."""
    if not token:
        return None
    try:
        if token[0].isdigit():
            return float(token)
        value = cn2an.cn2an(token, "smart")
    except Exception:  # cn2an raises several types on odd input; a non-number is simply None
        return None
    return float(value)


_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# "6、7个月", "6-7个月", "6到7个月"; the Chinese "三四个月" form is two adjacent digits (below).
_RANGE_SEP = r"(?:[、\-~到至]|或者?)"


def _lower_bound(low: str, high: str | None) -> tuple[float | None, bool]:
    """The value of a numeral that may be a range; ranges give their lower bound (and True)."""
    if high is not None:
        a, b = to_number(low), to_number(high)
        if a is None or b is None or b <= a:
            return None, True
        return a, True
    digits = [_DIGIT.get(ch) for ch in low]
    if len(low) == 2 and None not in digits:  # 一两 / 三四 / 五六: a spoken range, not 34
        first, second = digits[0] or 0, digits[1] or 0
        if second in (first + 1, first + 2) or low == "一两":
            return float(first), True
        return None, True
    return to_number(low), False


@dataclass(frozen=True, slots=True)
class Duration:
    """A stretch of time in a message."""

    start: int  # offset in the text
    end: int
    months: float | None  # None: said but vague ("几个月")
    approximate: bool
    unit: str  # "month" | "year" (as written: years_paid takes only years)
    high: float | None = None  # approximate: the most it can mean ("三个多月" 3..4, "快4个月" 3..4)
    days: int | None = None  # said in days: "断了90天" 90, "180多天" 181 (the least it can mean)


_GAP_VERB = r"(?:断了|断缴|停了|停缴|欠了|欠缴|漏了|漏缴|没交|没缴)"
_DAYS_PER_MONTH = 30.44

_DURATION = re.compile(
    rf"(?P<bigh>大半年)"
    rf"|(?P<smallh>小半年)"
    rf"|(?P<ym>(?P<ym_y>{NUM})年(?:零|又)?(?P<ym_m>{NUM})个(?P<ym_more>多)?月)"
    rf"|(?P<yh>(?P<yh_n>{NUM})年半)"
    rf"|(?P<mh>(?P<mh_n>{NUM})个半月)"
    rf"|(?P<halfm>半个月)"
    rf"|(?P<baf>个把月)"  # "断了个把月": a month or so
    rf"|(?P<q>(?P<q_n>{NUM})个季度)"  # "一个季度" 3 months ("一季度" is the first quarter: not read)
    rf"|(?<![上下])(?P<half>半年)(?P<half_more>多)?"  # "下半年" is a time of year (flows.nlu.when)
    rf"|(?P<few>(?:好)?几(?:个多?月|多?年))"
    rf"|(?P<m>(?P<m_n>{NUM})(?:{_RANGE_SEP}(?P<m_hi>{NUM}))?(?P<m_more1>多|来)?个(?P<m_more2>多|来)?月"
    rf"(?P<m_days>(?:零|又|多)(?:几|{NUM})天)?)"
    rf"|(?P<two>两(?P<two_more>多)?月)(?!份)"  # 两月 / 俩月: no month is called 两月
    rf"|(?P<y>(?P<y_n>{NUM})(?:{_RANGE_SEP}(?P<y_hi>{NUM}))?(?P<y_more1>多)?年(?P<y_more2>多)?"
    rf"(?!{NUM}月|\d|[初底末中级]))"
    # "断了3月": a bare month count only straight after a gap verb (otherwise 3月 is March).
    rf"|{_GAP_VERB}(?P<bm_n>{NUM})月(?![份初底中末\d])"
    # Days likewise only next to a gap verb ("断了90天", "100多天没交"): "30日内" is a deadline.
    rf"|{_GAP_VERB}(?P<d_n>{NUM})(?P<d_more>多)?天|(?P<d2_n>{NUM})(?P<d2_more>多)?天(?:没交|没缴|没续|断缴)"
)



def durations(text: str) -> list[Duration]:
    """Every duration in the text, in order."""
    out: list[Duration] = []
    for m in _DURATION.finditer(text):
        months: float | None
        approx = False
        unit = "month"
        high: float | None = None
        if m.group("bigh"):
            months, approx, high = 8, True, 11
        elif m.group("smallh"):
            months, approx, high = 4, True, 6
        elif m.group("ym"):
            y, mo = to_number(m.group("ym_y")), to_number(m.group("ym_m"))
            months = None if y is None or mo is None else y * 12 + mo
            approx = bool(m.group("ym_more"))
            high = months + 1 if approx and months is not None else None
            unit = "year"
        elif m.group("yh"):
            n = to_number(m.group("yh_n"))
            months = None if n is None else n * 12 + 6
            unit = "year"
        elif m.group("mh"):
            n = to_number(m.group("mh_n"))
            months, approx = (None if n is None else math.ceil(n + 0.5)), True
            high = months
        elif m.group("halfm"):
            months, approx = 1, True
        elif m.group("baf"):
            months, approx, high = 1, True, 2
        elif m.group("q"):
            n = to_number(m.group("q_n"))
            months = None if n is None else n * 3
        elif m.group("half"):
            months, unit = 6, "year"
            if m.group("half_more"):
                approx, high = True, 7
        elif m.group("few"):
            months, approx = None, True
        elif m.group("m"):
            months, ranged = _lower_bound(m.group("m_n"), m.group("m_hi"))
            more = bool(m.group("m_more1") or m.group("m_more2") or m.group("m_days"))
            approx = ranged or more
            high = _upper(m.group("m_n"), m.group("m_hi"), months, 1) if approx else None
        elif m.group("two"):
            months, approx = 2, bool(m.group("two_more"))
            high = 3 if approx else None
        elif m.group("y"):
            n, ranged = _lower_bound(m.group("y_n"), m.group("y_hi"))
            if n is None or n >= 100 or _calendar_year(text, m):  # "2025年", "从24年开始": a year
                continue
            months, unit = n * 12, "year"
            approx = ranged or bool(m.group("y_more1") or m.group("y_more2"))
            high = _upper(m.group("y_n"), m.group("y_hi"), n, 1) * 12 - (0 if ranged else 1) if approx else None
        elif m.group("d_n") or m.group("d2_n"):
            token, many = m.group("d_n") or m.group("d2_n"), m.group("d_more") or m.group("d2_more")
            months, approx, high = _from_days(token, many)
            n = to_number(token)
            if months is not None and n is not None and n == int(n):
                out.append(Duration(m.start(), m.end(), months, approx, unit, high, int(n) + (1 if many else 0)))
                continue
        else:
            months = to_number(m.group("bm_n"))
            start = m.start("bm_n")
            out.append(Duration(start, m.end(), months, False, "month"))
            continue
        out.append(Duration(m.start(), m.end(), months, approx, unit, high))
    return out


# A two-digit year said as a time, not a stretch: "从24年开始没交", "24年年底", "23年就没交了".
_YEAR_BEFORE = re.compile(r"(?:从|自从|自|打)$")
_YEAR_AFTER = re.compile(r"开始|起|年[初底末中]|[上下]半年|那年|的时候|就")
_STRETCH_BEFORE = re.compile(r"[交缴断停了满够差有共计]")  # "交了15年就断了": 15 years, not 2015


def _calendar_year(text: str, m: re.Match[str]) -> bool:
    """Whether a plain two-digit "NN年" is a calendar year by the words around it."""
    token = m.group("y_n")
    if len(token) != 2 or not token.isdigit() or m.group("y_hi") or m.group("y_more1") or m.group("y_more2"):
        return False
    if _YEAR_BEFORE.search(text, max(0, m.start() - 2), m.start()):
        return True
    return bool(_YEAR_AFTER.match(text, m.end())) and not _STRETCH_BEFORE.search(text, max(0, m.start() - 3),
                                                                                 m.start())


def _from_days(token: str, more: str | None) -> tuple[float | None, bool, float | None]:
    """Days as (months, approximate, high): 60 or 61 days is 2 months, 100 days 3, "100多天" 3–4; never
    less than 1. The days themselves go to the engine (`Duration.days`), which counts months from
    exact days itself; only "N多天" stays a loose range of months."""
    days = to_number(token)
    if days is None or days <= 0:
        return None, True, None
    exact = days / _DAYS_PER_MONTH
    if not more:  # exact days: the engine counts the months from the days; this is the echo's
        return float(max(1, round(exact))), False, None
    low, top = max(1, math.floor(exact)), max(1, math.ceil(exact + (0.5 if more else 0)))
    return float(low), top != low, float(top) if top != low else None


def _upper(low: str, high: str | None, value: float | None, step: float) -> float:
    """The top of a range ("6-7个月" 7, "三四个月" 4) or of an "N多" form (N + step)."""
    if value is None:
        return 0
    if high is not None:
        top = to_number(high)
        return top if top is not None else value + step
    digits = [_DIGIT.get(ch) for ch in low]
    if len(low) == 2 and None not in digits:
        return float(digits[1] or 0)
    return value + step


# Hedges around a stretch of years: `search` on the few characters before it, `match` after it.
_UNDER_BEFORE = re.compile(r"(?:快|将近|接近|不到|快要|(?<!最)近|小)(?:有|要|到)?$")
_ABOUT_BEFORE = re.compile(r"(?:差不多|大概|大约|约)(?:有|是)?$")
_ABOUT_AFTER = re.compile(r"左右|上下")


def years_span(text: str, d: Duration, most: float = 60) -> tuple[float, float] | None:
    """The years a hedged stretch of years in `text` can mean ("快20年" 19–20, "差不多20年" 19–21,
    "20多年" 20–20.92), at most `most`; None when it is said plainly or is no stretch of years."""
    if d.months is None or d.unit != "year" or d.months < 12:
        return None
    said, before = d.months / 12, text[max(0, d.start - 4) : d.start]
    if _ABOUT_BEFORE.search(before) or _ABOUT_AFTER.match(text, d.end):
        low, high = said - 1, said + 1
    elif _UNDER_BEFORE.search(before):
        low, high = said - 1, said
    elif d.approximate and d.high is not None:
        low, high = said, d.high / 12
    else:
        return None
    return round(low, 2), round(min(high, most), 2)
