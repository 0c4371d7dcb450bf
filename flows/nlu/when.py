"""Month expressions that say when a gap began ("上个月", "去年10月", "2025年10月", "10月份开始").

Everything is relative to the `today` passed in; nothing reads the clock. The result is the first
day of the month. A bare month ("10月份") means the latest such month not after today's month.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from flows.nlu.numbers import NUM, to_number
from policies.limits import MAX_GAP_MONTHS

_REL_YEAR = {"今年": 0, "去年": -1, "前年": -2, "大前年": -3}
_EDGE_MONTH = {"年初": 1, "初": 1, "年底": 12, "底": 12, "年末": 12, "上半年": 1, "下半年": 7}

_MONTH = re.compile(
    r"(?P<ll>上上个?月)"
    r"|(?P<l>上个?月)"
    r"|(?P<this>这个月|本月|当月)"
    rf"|(?P<ago>(?P<ago_n>{NUM})个月(?:以前|之前|前))"
    rf"|(?P<ry>大前年|前年|去年|今年)(?:的)?(?:(?P<ry_m>{NUM})月|(?P<ry_e>年初|年底|年末|上半年|下半年|初|底))"
    r"|(?P<ay>(?<!\d)(?:19|20)\d{2}|(?<!\d)\d{2})(?:年(?P<am>\d{1,2}|十[一二]|十|[一二三四五六七八九])月|(?<=\d{4})[-/.](?P<am2>\d{1,2})(?!\d)"
    r"|年(?P<ae>年初|年底|年末|初|底))"  # "2024年底": as 去年年底
    rf"|(?P<bm>(?<![\d年.])(?:1[0-2]|0?[1-9])|(?<![一二两三四五六七八九十年])(?:十[一二]|十|[一二三四五六七八九]))月"
    # "年初就断了", "年底开始没交": the latest such month, like a bare month ("三年底" is no edge)
    r"|(?<![今去前明每\d年一二两三四五六七八九十几多半])(?P<be>年初|年底|年末)"
    # After the Spring Festival ("过完年就没交了", "年后一直没交"): February, the month after the
    # festival in most years (it falls between 21 Jan and 20 Feb). "三年后", "半年后" are durations.
    r"|(?:(?P<fy>大前年|前年|去年|今年)的?)?(?P<fest>过完年|过了年|过完春节|过了春节|春节(?:过)?(?:以后|之后|后)"
    r"|过年(?:以后|之后|后)|(?<![今去前明每\d一二两三四五六七八九十百千几多半整成周])年(?:以后|之后|后))"
)



@dataclass(frozen=True, slots=True)
class MonthMention:
    start: int
    end: int
    month: date  # first day of the month
    bare: bool  # "10月份" without a year: needs a start marker to count as the gap's beginning
    half: bool = False  # "去年下半年": its first month only with "开始/起" ("下半年没交" may be just those months)


def _latest(today: date, month: int) -> date:
    """The latest given month of the year not after today's month ("10月份" in June: last October)."""
    return date(today.year if month <= today.month else today.year - 1, month, 1)


def _shift(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from start's month to end's month (Oct 2025 -> Nov 2026 = 13)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def month_mentions(text: str, today: date) -> list[MonthMention]:
    """Every month expression in the text, resolved against today; impossible dates are skipped."""
    out: list[MonthMention] = []
    for m in _MONTH.finditer(text):
        month: date | None = None
        bare = False
        if m.group("ll"):
            month = _shift(today, -2)
        elif m.group("l"):
            month = _shift(today, -1)
        elif m.group("this"):
            month = _shift(today, 0)
        elif m.group("ago"):
            n = to_number(m.group("ago_n"))
            if n is not None and n == int(n) and 0 < n <= MAX_GAP_MONTHS:
                month = _shift(today, -int(n))
        elif m.group("ry"):
            year = today.year + _REL_YEAR[m.group("ry")]
            number = to_number(m.group("ry_m")) if m.group("ry_m") else _EDGE_MONTH[m.group("ry_e")]
            if number is not None and number == int(number) and 1 <= number <= 12:
                month = date(year, int(number), 1)
        elif m.group("ay"):
            year = int(m.group("ay"))
            year += 2000 if year < 100 else 0
            mon = _EDGE_MONTH[m.group("ae")] if m.group("ae") else int(to_number(m.group("am") or m.group("am2")) or 0)
            if 1 <= mon <= 12 and 1990 <= year <= today.year:
                month = date(year, mon, 1)
        elif m.group("bm"):
            number = to_number(m.group("bm"))
            if number is not None and 1 <= number <= 12:
                month, bare = _latest(today, int(number)), True
        elif m.group("be"):
            month, bare = _latest(today, _EDGE_MONTH[m.group("be")]), True
        else:  # after the Spring Festival: this year's February, or the one a year said
            said = m.group("fy")
            month = date(today.year + _REL_YEAR[said], 2, 1) if said else _latest(today, 2)
        if month is not None and month <= today:
            half = (m.group("ry_e") or "").endswith("半年")
            out.append(MonthMention(m.start(), m.end(), month, bare, half))
    return out


# Between the two ends of a range of months: "3月到5月", "去年11月至今年2月".
_RANGE_JOIN = re.compile(r"份?(?:到|至|~|-|—)")


def month_range(text: str, today: date) -> tuple[date, int] | None:
    """A closed range of months ("3月到5月没交"): its first month and how many months it holds,
    counted as the gap convention counts (the current month is not one); None when there is none."""
    mentions = month_mentions(text, today)
    for first, last in pairwise(mentions):
        if not _RANGE_JOIN.fullmatch(text, first.end, last.start):
            continue
        upto = last.month
        if last.bare and not first.bare:  # "2023年3月到8月": August of 2023, not the latest August
            upto = date(first.month.year + (upto.month < first.month.month), upto.month, 1)
        if first.month <= upto:
            end = min(_shift(upto, 1), _shift(today, 0))  # the month after the last, at most now
            return first.month, months_between(first.month, end)
    return None


# One month forgotten or skipped: "3月份忘记交了", "三月份漏交了", "2024年3月的没交上", "只有3月没交"
# (without a start word: "3月份开始忘了交" is read as a start by `flows.understand`).
_MISSED = re.compile(r"份?(?:的|那个月)?(?:忘记|忘了|忘|漏)了?(?:交|缴)?了?(?:交|缴)?|份?(?:的|那个月)(?:没交|没缴)")
_STARTED = re.compile(r"开始|起|以来|一直|至今|到现在|从|以后|之后")
# "只有3月没交", "就二月份没交": that month only.
_ONLY_BEFORE = re.compile(r"(?:只有|只是|只|仅仅?|就)$")
_UNPAID_AFTER = re.compile(r"份?(?:没有?|未)(?:交|缴)")


def missed_month(text: str, today: date, repaid: bool = False) -> tuple[date, int] | None:
    """A single month said to be missed ("3月份忘记交了"): that month and 1, as `month_range` gives a
    range of one month; None when there is none, when a start word is in the text, or when it is
    the current month (not yet a gap). `repaid`: the message says the gap was paid back since
    ("3月份没交，4月又补上了"), so a month said unpaid is that month alone, not a start."""
    if _STARTED.search(text):
        return None
    for mention in month_mentions(text, today):
        only = ((repaid or _ONLY_BEFORE.search(text, max(0, mention.start - 2), mention.start))
                and _UNPAID_AFTER.match(text, mention.end))
        if (only or _MISSED.match(text, mention.end)) and mention.month < _shift(today, 0):
            return mention.month, 1
    return None


# A whole year unpaid: "今年没交", "今年的新农合忘交了"; with a start word any year ("从去年开始就没交",
# "2023年就没交了") - read by `year_start`.
_YEAR_UNPAID = re.compile(
    r"(?P<start>从|自从|自)?(?<![前去大\d])(?P<y>今年|去年|前年|(?:19|20)\d{2}年|\d{2}年)(?:的|份)?"
    r"(?P<mark>开始|起|以来|就|一直)?[^,。!?;\d月初底末半]{0,6}?"
    r"(?:(?:没有?|未|忘了?|忘记)(?:给我?|帮我?)?(?:交|缴|续|买|参保)|(?<![没不])(?:断|停))"
)


def year_start(text: str, today: date, yearly: bool) -> date | None:
    """January of a year said to be unpaid as a whole: this year ("今年没交": nothing paid since
    January), or - for a scheme paid by the year (居民医保, `yearly`) - a year said as the start
    ("从去年开始就没交"). "去年没交" alone is left: one year missed, or every year since?"""
    for m in _YEAR_UNPAID.finditer(text):
        said = m.group("y")
        year = today.year + _REL_YEAR[said] if said in _REL_YEAR else int(said[:-1])
        year += 0 if year >= 100 else 2000 if year <= today.year % 100 else 1900  # "23年": 2023
        if not 1990 <= year <= today.year or (year, today.month) == (today.year, 1):
            continue  # in January "今年没交" may be a month not yet due: asked instead
        if year == today.year or (yearly and (m.group("start") or m.group("mark"))):
            return date(year, 1, 1)
    return None


# The last month paid: "交到去年12月", "缴费到今年3月", "最后一次交是去年8月".
_PAID_UNTIL = re.compile(r"(?:(?:交|缴)费?(?:到了?|至)|最后一(?:次|个月)(?:交|缴)费?(?:的|是|在)*)$")


def paid_until(text: str, today: date) -> date | None:
    """The month after the last month said to be paid (the first unpaid one), or None."""
    return _month_after(text, today, lambda m: _PAID_UNTIL.search(text, max(0, m.start - 8), m.start) is not None)


def _month_after(text: str, today: date, marked: Callable[[MonthMention], bool]) -> date | None:
    """The month after the first month mentioned that `marked` picks, if not after today."""
    for mention in month_mentions(text, today):
        if marked(mention):
            after = _shift(mention.month, 1)
            return after if after <= today else None
    return None


# What may follow a month before the event it dates: "3月份", "4月底的时候就", "去年10月才".
_AFTER_MONTH = r"份?(?:初|中旬|上旬|下旬|中|底|末)?(?:的时候|时)?"


# A job that ended in a month: "3月份离职的", "去年10月辞职后", "4月底被裁了". The employer normally
# still pays for the month a person leaves in (contributions are declared per month on the payroll
# and a leaver is usually taken off the rolls from the next month), so the first unpaid month is
# the one after. Said back in the echo ("2025年4月起断缴"), so a user whose March was not paid can
# correct it.
_LEFT_JOB = re.compile(
    _AFTER_MONTH + r"(?:就|才|刚)?(?:从[^,。!?;]{0,6}?)?"
    r"(?:离职|辞职|辞工|被辞退|被裁员?|被开除|离开(?:了)?(?:公司|单位)|失业(?!金|保险))"
)


def left_job(text: str, today: date) -> date | None:
    """The month after a month in which a job is said to have ended (the first unpaid month), or
    None; see `_LEFT_JOB` for why the month after."""
    return _month_after(text, today, lambda m: _LEFT_JOB.match(text, m.end) is not None)


# A month paid again after a gap: a new job began ("今年3月入职新公司": the new employer pays from
# the month of joining) or paying resumed ("上个月开始又交上了"). Read only after a first unpaid month.
_RESUMED_AFTER = re.compile(
    _AFTER_MONTH + r"(?:就|才|刚|已经)?(?:"
    r"入职|(?:进了?|到了?|去了?)新的?(?:公司|单位)|找到了?(?:新的?)?工作|重新上班"
    r"|(?:开始)?(?:又|重新|接着|继续|恢复)+(?:开始)?(?:交|缴|参保)|(?:开始)?(?:交|缴)上了|恢复(?:缴费|参保))"
)


def resumed_months(text: str, today: date) -> list[MonthMention]:
    """The months said to be paid again (a new job, payment resumed), in the order said."""
    return [mention for mention in month_mentions(text, today) if resumes(text, mention)]


def resumes(text: str, mention: MonthMention) -> bool:
    """Whether the month mentioned is one paid again ("3月入职新公司", "上个月开始又交上了")."""
    return _RESUMED_AFTER.match(text, mention.end) is not None


def ended_at(since: date, resumed: list[MonthMention], today: date) -> tuple[date, date] | None:
    """A gap from `since` closed by the first month paid again after it: (first unpaid month, month
    paid again), the gap being the months between; None when no month paid again follows `since`.
    A bare month ("5月入职") is the first such month from `since` on; one not yet come means the
    gap began a year earlier ("10月离职，3月入职" in November: last October to this March)."""
    for mention in resumed:
        start, upto = since, mention.month
        if mention.bare:
            upto = date(since.year + (upto.month < since.month), upto.month, 1)
            if upto > today:
                start, upto = _shift(since, -12), _shift(upto, -12)
        if start <= upto <= today:
            return start, upto
    return None
