"""Numbers written in Arabic or Chinese numerals, and durations ("4个月", "一年半", "两年多").

Chinese numerals go through cn2an. A number is only ever read together with its unit, so the digits
of a phone number or an ID never turn into a gap.

Conventions for vague durations (documented because the policy answer depends on them):

* 半年 = 6, 一年半 = 18, 大半年 = 8 (approximate), 半个月 = 1 (approximate: the month is unpaid),
  一个半月 = 2 (approximate, rounded up for the same reason).
* "N多" forms (两年多, 三个多月, 十多个月) and ranges (三四个月, 6-7个月, 一两年) take the lower
  bound and are flagged approximate.
* 几个月 / 好几年 are unknown: no number is guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import cn2an

from flows.nlu.prefilter import first_char_guard, gate

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


_DURATION = re.compile(
    rf"(?P<bigh>大半年)"
    rf"|(?P<ym>(?P<ym_y>{NUM})年(?:零|又)?(?P<ym_m>{NUM})个(?P<ym_more>多)?月)"
    rf"|(?P<yh>(?P<yh_n>{NUM})年半)"
    rf"|(?P<mh>(?P<mh_n>{NUM})个半月)"
    rf"|(?P<halfm>半个月)"
    rf"|(?P<half>半年)"
    rf"|(?P<few>(?:好)?几(?:个多?月|多?年))"
    rf"|(?P<m>(?P<m_n>{NUM})(?:{_RANGE_SEP}(?P<m_hi>{NUM}))?(?P<m_more1>多)?个(?P<m_more2>多)?月)"
    rf"|(?P<two>两(?P<two_more>多)?月)(?!份)"  # 两月 / 俩月: no month is called 两月
    rf"|(?P<y>(?P<y_n>{NUM})(?:{_RANGE_SEP}(?P<y_hi>{NUM}))?(?P<y_more1>多)?年(?P<y_more2>多)?"
    rf"(?!{NUM}月|\d|[初底末中级]))"
    # "断了3月": a bare month count only straight after a gap verb (otherwise 3月 is March).
    rf"|(?:断了|断缴|停了|停缴|欠了|欠缴|漏了|漏缴|没交|没缴)(?P<bm_n>{NUM})月(?![份初底中末\d])"
)

# Lets callers skip `durations` on text that cannot hold one (today: text without 年 or 月).
DURATION_GATE = gate(_DURATION)
# The same matches, found faster: `re` skips positions where no duration can start.
_DURATION_SCAN = first_char_guard(_DURATION)


def durations(text: str) -> list[Duration]:
    """Every duration in the text, in order."""
    out: list[Duration] = []
    for m in _DURATION_SCAN.finditer(text):
        months: float | None
        approx = False
        unit = "month"
        if m.group("bigh"):
            months, approx = 8, True
        elif m.group("ym"):
            y, mo = to_number(m.group("ym_y")), to_number(m.group("ym_m"))
            months = None if y is None or mo is None else y * 12 + mo
            approx = bool(m.group("ym_more"))
            unit = "year"
        elif m.group("yh"):
            n = to_number(m.group("yh_n"))
            months = None if n is None else n * 12 + 6
            unit = "year"
        elif m.group("mh"):
            n = to_number(m.group("mh_n"))
            months, approx = (None if n is None else math.ceil(n + 0.5)), True
        elif m.group("halfm"):
            months, approx = 1, True
        elif m.group("half"):
            months, unit = 6, "year"
        elif m.group("few"):
            months, approx = None, True
        elif m.group("m"):
            months, ranged = _lower_bound(m.group("m_n"), m.group("m_hi"))
            approx = ranged or bool(m.group("m_more1") or m.group("m_more2"))
        elif m.group("two"):
            months, approx = 2, bool(m.group("two_more"))
        elif m.group("y"):
            n, ranged = _lower_bound(m.group("y_n"), m.group("y_hi"))
            if n is None or n >= 100:  # "2025年" is a year, not a duration
                continue
            months, unit = n * 12, "year"
            approx = ranged or bool(m.group("y_more1") or m.group("y_more2"))
        else:
            months = to_number(m.group("bm_n"))
            start = m.start("bm_n")
            out.append(Duration(start, m.end(), months, False, "month"))
            continue
        out.append(Duration(m.start(), m.end(), months, approx, unit))
    return out
