"""A day of one's own in everyday Chinese: "下个月10号提醒我交医保", "3月1号提醒我", "明天提醒我".

`own_reminder(text, today)` reads a reminder request: the day (relative to `today`,
which the caller passes; nothing reads the clock) and what to be reminded of, the words
after 提醒我. No maintained library reads these relative forms (dateparser reads
"3月1日" but not "下个月10号" or "下周三"), so this is a small table of patterns.
A day that is impossible (2月30号) gives `error="impossible"`; a day already past in the
same sentence's terms moves to the next year only for a bare "M月D号".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flows.nlu.numbers import NUM, to_number
from flows.reminders_time import add_months

_ASK = re.compile(r"提醒(?:我|一下|下)?")
_RELATIVE_DAYS = {"今天": 0, "明天": 1, "明儿": 1, "后天": 2, "大后天": 3}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "1": 0, "2": 1,
             "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_MONTH_WORD = r"(?P<mw>下下个?月|下个?月|这个月|本月)"
_DAY = rf"(?P<d>{NUM})\s*[号日]"
_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*[月\-/.]\s*(?P<d>\d{1,2})\s*[号日]?"),
    re.compile(rf"{_MONTH_WORD}(?:的)?\s*(?:{_DAY}|(?P<end>底|末))"),
    re.compile(rf"(?P<m>{NUM})\s*月\s*(?:份)?\s*(?:{_DAY}|(?P<end>底|末))"),
    re.compile(r"(?P<rel>大后天|后天|明天|明儿|今天)"),
    re.compile(rf"(?P<n>{NUM})\s*(?P<unit>天|周|个星期|星期|个礼拜|礼拜|个月)\s*(?:以后|之后|后)"),
    re.compile(r"(?P<wk>下下|下|这|本)(?:个)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])"),
    re.compile(rf"(?<![月\d]){_DAY}"),
)
MAX_AHEAD = timedelta(days=3 * 366)


@dataclass(frozen=True, slots=True)
class OwnRequest:
    """What a "提醒我" sentence asked for. `day` is None when no day was said (or it was wrong)."""

    day: date | None
    topic: str
    error: str | None = None  # "impossible" | "past" | "too_far"


def asks_for_reminder(text: str) -> bool:
    """Whether the text asks to be reminded (提醒我 / 提醒一下 / 设个提醒)."""
    return bool(_ASK.search(text))


def own_reminder(text: str, today: date) -> OwnRequest | None:
    """The request in `text`, or None when it does not ask for a reminder."""
    ask = _ASK.search(text)
    if ask is None:
        return None
    for pattern in _PATTERNS:
        m = pattern.search(text)
        if m is None:
            continue
        # The words after 提醒我, without the day itself ("提醒我下个月10号交医保").
        rest = text[ask.end():] if m.start() < ask.end() else text[ask.end():m.start()] + text[m.end():]
        topic = _topic(rest)
        try:
            day = _resolve(m, today)
        except ValueError:
            return OwnRequest(None, topic, "impossible")
        if day is None:
            continue
        if day <= today:
            return OwnRequest(None, topic, "past")
        if day - today > MAX_AHEAD:
            return OwnRequest(None, topic, "too_far")
        return OwnRequest(day, topic)
    return OwnRequest(None, _topic(text[ask.end():]))


def _resolve(m: re.Match[str], today: date) -> date | None:
    groups = m.groupdict()
    if groups.get("y"):
        return date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
    if groups.get("rel"):
        return today + timedelta(days=_RELATIVE_DAYS[groups["rel"]])
    if groups.get("unit"):
        n = to_number(groups["n"])
        if n is None or n != int(n):
            return None
        unit = groups["unit"]
        if unit == "个月":
            return add_months(today, int(n))
        return today + timedelta(days=int(n) * (1 if unit == "天" else 7))
    if groups.get("wk"):
        offset = {"这": 0, "本": 0, "下": 7, "下下": 14}[groups["wk"]]
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=offset + _WEEKDAYS[groups["wd"]])
    if groups.get("mw"):
        shift = {"下下个月": 2, "下下月": 2, "下个月": 1, "下月": 1}.get(groups["mw"], 0)
        return _day_in(add_months(today, shift, 1), groups, today, roll=False)
    if groups.get("m"):
        month = to_number(groups["m"])
        if month is None or not 1 <= month <= 12 or month != int(month):
            raise ValueError("no such month")
        first = date(today.year, int(month), 1)
        found = _day_in(first, groups, today, roll=False)
        if found is not None and found <= today:  # "3月1号" said in November: next March
            found = _day_in(date(today.year + 1, int(month), 1), groups, today, roll=False)
        return found
    if groups.get("d"):  # a bare "10号": the next 10th
        return _day_in(date(today.year, today.month, 1), groups, today, roll=True)
    return None


def _day_in(first: date, groups: dict[str, str | None], today: date, *, roll: bool) -> date | None:
    """Day `d` (or the month's end) of the month starting `first`; `roll` moves a past day a month on."""
    if groups.get("end"):
        return add_months(first, 0, 31)
    raw = groups.get("d")
    n = to_number(raw or "")
    if n is None or n != int(n) or not 1 <= n <= 31:
        raise ValueError("no such day")
    if not roll:
        return date(first.year, first.month, int(n))  # ValueError for 2月30号
    for ahead in range(3):  # a bare "31号": the next month that has a 31st, after today
        month = add_months(first, ahead, 1)
        try:
            day = date(month.year, month.month, int(n))
        except ValueError:
            continue
        if day > today:
            return day
    return None


def _topic(rest: str) -> str:
    """What to be reminded of, without filler around it."""
    text = re.sub(r"^[一下吧，,。：:\s]+", "", rest)
    text = re.sub(r"[。！!？?～~，,\s]+$", "", text)
    return text.strip()
