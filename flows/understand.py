"""Read what a user's Chinese message says about their insurance gap.

`understand` is pure: it normalises the text once (NFKC, traditional -> simplified, typos), then
reads each slot with precompiled patterns. It never guesses: an ambiguous region gives candidates
instead of a region, a vague duration ("几个月") gives no number, and numbers are read only next to
their unit. The whole message is read, however long.

Conventions (the policy engine and the dialog rely on them):

* Gap months from a start month: ``gap_months = months_between(gap_since, today)``, i.e. the
  calendar months from the first unpaid month up to, not including, the current month
  (Oct 2025 -> Nov 2026 = 13; "上个月没交" = 1; "这个月没交" = 0). Same as `policies.dates`.
* When both a start month and a duration are said and disagree by more than a month, the duration
  wins and the start month is dropped (people say when they noticed, not when it began).
* Vague durations: 半年 6, 一年半 18, 大半年 8, 两年多 24; loose forms also give `gap_range`, the
  months they can mean ("三个多月" (3, 4), "快4个月" (3, 4)). See `flows.nlu.numbers`.
* A gap said in days also gives `gap_days` ("断了90天" 90, "180多天" 181; "快90天" none), which the
  engine takes as days where a rule counts days; a start month said with it is dropped.
* Cause, one of "employer", "personal", "job_change", "unknown":
  the employer when it is the actor ("公司没给我交", "老板忘记交医保", "公司把我医保停了");
  "单位职工医保断了" is not (单位 only names the insurance). A job change ("换工作", "离职",
  "新单位还没交") is a situation of its own. The person's own doing when said so ("自己忘了交",
  "我自己换工作断的"). "unknown" only when the user says they do not know the reason.
* A self-payer ("自己交的", "个人交社保") is a flexible worker (灵活就业) unless a scheme is named later.
* Months said as a closed range ("3月到5月没交") are those months (the current one not counted), with
  their start month only when they reach the current month (the engine counts up to now from it); the
  last month paid ("交到去年12月") starts the gap the month after; "今年没交" starts it in January
  (not in January itself), and so does a year said as the start of a resident gap ("从前年就没交了").
  One month said alone ("3月份忘记交了", "只有3月没交") is that month (1); "过完年就没交了" starts the gap
  in February (this year's, or last year's before February), "年初" / "年底" alone in the latest such
  January / December; a range's end without a year takes its start's ("2023年3月到8月": 6).
  A month a job ended in ("3月份离职的，之后一直没交") starts the gap the month after (the employer
  normally paid that month; see `flows.nlu.when.left_job`), when the message says something is unpaid.
  A month unpaid and since paid back ("3月份没交，4月又补上了") is that month alone, not ongoing.
  A gap that ended - a new job began ("去年10月离职，今年3月入职": Nov-Feb, 4) or paying resumed - is
  its months up to the month paid again, `gap_ended`, no start month (it does not run up to today).
* Years are years paid only with a word for paying or holding them ("交了18年", "15年的缴费记录");
  years required ("要求男的25年", "交够15年才能退休"), still missing ("还差3年", "再交3年就够了") or of
  work ("工龄20年") are neither; a value corrected in the message ("交了12年，不对，是13年") keeps the
  kind of the one it corrects. Parts ("单位交了8年，自己交了2年") without a total leave the years
  unread. Years said with a hedge ("交了快20年") keep the figure and give `years_range` (19–20; see
  `flows.nlu.numbers.years_span`). A stretch said with no word at all ("16年") is read as the gap, flagged `gap_unmarked` so
  the dialog can take it as the years paid when that is what it asked.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from datetime import date

from flows.nlu import lexicon as lx
from flows.nlu.intents import read_base, read_intents
from flows.nlu.normalise import clauses, normalise
from flows.nlu.numbers import Duration, durations, years_span
from flows.nlu.when import (
    MonthMention,
    ended_at,
    left_job,
    missed_month,
    month_mentions,
    month_range,
    months_between,
    paid_until,
    resumed_months,
    resumes,
    year_start,
)
from policies.limits import MAX_GAP_MONTHS, MAX_YEARS_PAID
from policies.model import Gender, InsuranceType, Region
from policies.regions import RegionIndex

# "快4个月", "将近半年", "小一年": just under the duration said.
_ALMOST = re.compile(r"(?:快|将近|接近|差不多|不到|快要|马上|眼看|小)(?:有|要|到)?$")  # 小: "小一年"
# Labels flows/pii.py puts in place of phone and ID numbers ("［已隐去的电话号码］", NFKC'd to
# ASCII brackets): they must not read as words ("电话" would look like asking for a human).
_PII_LABEL = re.compile(r"\[已隐去的[^\]]{0,12}\]")


@dataclass(frozen=True, slots=True)
class Understanding:
    """What one message said. Unset fields were not said (or not said unambiguously)."""

    region: Region | None = None
    region_candidates: tuple[Region, ...] = ()
    insurance_type: InsuranceType | None = None
    gap_months: int | None = None
    gap_since: date | None = None  # first unpaid month, day 1
    cause: str | None = None  # "employer" | "personal" | "job_change"; "unknown" for "不知道什么原因"
    years_paid: float | None = None
    gender: Gender | None = None
    monthly_base: float | None = None
    intents: frozenset[str] = frozenset()
    gap_approximate: bool = False  # the gap was given loosely ("两年多", "大半年")
    gap_range: tuple[int, int] | None = None  # loosely given: the months it can mean (low, high)
    gap_days: int | None = None  # the gap was said in days ("断了90天"): the engine takes them as days
    # The gap is a stretch of time said with no word for what it is ("16年", "不对，是16年", "大概半年"):
    # a reply to "断缴多久了", but also to "一共交了多少年" (the dialog knows which was asked).
    gap_unmarked: bool = False
    # Years said loosely ("交了快20年" 19–20, "差不多20年" 19–21, "20多年" 20–20.92): the years they can
    # mean; also for an unmarked stretch of years ("快20年"), which the dialog may take as years paid.
    years_range: tuple[float, float] | None = None
    gap_ended: bool = False  # paying resumed (a new job, "又交上了"): the gap does not run up to today

    def filled(self) -> dict[str, object]:
        """The slots this message filled (region candidates and intents are not slots)."""
        values: dict[str, object] = {
            "region": self.region,
            "insurance_type": self.insurance_type,
            "gap_months": self.gap_months,
            "gap_since": self.gap_since,
            "cause": self.cause,
            "years_paid": self.years_paid,
            "gender": self.gender,
            "monthly_base": self.monthly_base,
        }
        return {k: v for k, v in values.items() if v is not None}


def _read_gender(text: str, norm: str) -> Gender | None:
    """The gender; a lone 男/女 between spaces ("成都 女 交了12年") counts, though normalising joins
    the words around it."""
    said = lx.read_gender(norm)
    if said is None and (" " in text or "\u3000" in text):
        said = lx.read_gender(normalise(re.sub(r"\s+", ",", text)))
    return said


def understand(text: str, today: date, regions: RegionIndex, scheme: InsuranceType | None = None) -> Understanding:
    """Read region, insurance type, gap, cause, years paid, gender, base and intents from a message.
    `scheme`: the insurance type the conversation already knows (a year said as the start of a resident
    gap, "从前年就没交了", means its January); the message's own type wins."""
    if not isinstance(text, str):
        return Understanding()
    norm = normalise(text)
    if "[" in norm:  # PII labels are replaced by a comma: they must not read as words
        norm = _PII_LABEL.sub(",", norm)
    if not norm:
        return Understanding()

    region: Region | None = None
    candidates: tuple[Region, ...] = ()
    # find_in_text converts to simplified again. That is not redundant: t2s is not idempotent
    # ("折 戟沈河" normalises to "折戟沈河", a second pass gives "折戟沉河"); scanning `norm` as it is
    # would find 沈河区 there, where this reader finds no region.
    found = regions.find_in_text(norm)
    if found is not None:
        region, candidates = found.region, found.candidates

    cause = _read_cause(norm)
    kind = _read_type(norm, cause)
    gap = _read_gap_and_years(norm, today, yearly=(kind or scheme) is InsuranceType.RESIDENT)
    return Understanding(
        region=region,
        region_candidates=candidates,
        insurance_type=kind,
        gap_months=gap.months,
        gap_since=gap.since,
        cause=cause,
        years_paid=gap.years,
        gender=_read_gender(text, norm),
        monthly_base=read_base(norm),
        intents=read_intents(norm),
        gap_approximate=gap.approximate,
        gap_range=gap.range,
        gap_days=gap.days,
        gap_unmarked=gap.unmarked,
        years_range=gap.years_range,
        gap_ended=gap.resumed,
    )


# --------------------------------------------------------------------------- slots
def _not_negated(text: str, start: int) -> bool:
    return lx.NEGATED.search(text[max(0, start - 4) : start]) is None


def _read_type(text: str, cause: str | None) -> InsuranceType | None:
    if lx.RETIREE.search(text):
        return InsuranceType.RETIREE
    # The mention ending last wins; at the same end the longer one ("自己交职工医保" over "职工医保").
    best: tuple[int, int, InsuranceType] | None = None
    for pattern, kind in lx.TYPE_WORDS:
        for m in pattern.finditer(text):
            if not _not_negated(text, m.start()):
                continue
            key = (m.end(), m.end() - m.start(), kind)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is not None:
        return best[2]
    if cause in ("employer", "job_change") or lx.EMPLOYEE_HINT.search(text):
        return InsuranceType.EMPLOYEE
    return None


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in pattern.finditer(text) if _not_negated(text, m.start())]


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Whether `span` overlaps one of `spans` (sorted, not overlapping each other)."""
    i = bisect.bisect_left(spans, (span[1], -1))  # the spans starting before span's end...
    return i > 0 and spans[i - 1][1] > span[0]  # ...the last of which reaches into it


def _read_cause(text: str) -> str | None:
    if lx.UNKNOWN_CAUSE.search(text):
        return "unknown"
    employer = _spans(lx.EMPLOYER_CAUSE, text)
    # "老板忘记交": 忘记交 is the employer's forgetting there, not the person's.
    personal = [p for p in _spans(lx.PERSONAL_CAUSE, text) if not _overlaps(p, employer)]
    if employer and not personal:
        return "employer"
    if personal and not employer:
        return "personal"
    if not employer and not personal and _spans(lx.JOB_CHANGE, text):
        return "job_change"
    return None  # neither, or both: not guessed


def _classify(clause: str, d: Duration, gap_verb: bool, not_gap: bool) -> str:
    """"years", "gap" or "" for a duration found in a clause (gap_verb: the clause has a gap verb;
    not_gap: it has a word that makes a duration something else). Only a few characters either side
    are looked at, so a message with many durations is still read in linear time."""
    before = clause[max(0, d.start - 8) : d.start]
    after = clause[d.end : d.end + 2]
    if after.startswith(("前", "以前", "之前")):
        return ""  # "3个月前": a month, read by the month reader
    if d.unit == "year" and (lx.YEARS_REQUIRED_BEFORE.search(before) or lx.YEARS_TARGET_BEFORE.search(before)
                             or lx.YEARS_ASKED_AFTER.match(after)
                             or (lx.YEARS_FULL_BEFORE.search(before) and lx.YEARS_CONDITION_AFTER.match(after))):
        return ""  # the years required, not reached or asked about, not paid
    if lx.SHORT_BEFORE.search(before):
        return ""  # "还差3年": what is still missing
    if lx.UNPAID_BEFORE.search(before):
        return "gap"  # before the years paid: "没交了3年" is a gap
    if d.unit == "year" and lx.YEARS_PAID_BEFORE.search(before):
        return "years"
    if lx.PAID_BEFORE.search(before[-4:]) and not lx.GAP_VERB.search(before[-4:]):
        return ""
    if gap_verb:
        return "gap"
    if lx.PRICE_AFTER.match(clause, d.end):
        return ""  # "一个月400多": a price per period
    if d.unit == "year" and (lx.YEARS_HELD_AFTER.match(clause, d.end) or lx.YEARS_HELD_BEFORE.search(before)):
        return "years"  # "我有15年的缴费记录", "职工医保15年": held, not missed
    return "" if not_gap else "unmarked"


@dataclass(frozen=True, slots=True)
class _Gap:
    months: int | None = None
    since: date | None = None
    approximate: bool = False
    years: float | None = None
    range: tuple[int, int] | None = None
    days: int | None = None
    unmarked: bool = False
    years_range: tuple[float, float] | None = None
    resumed: bool = False


def _read_gap_and_years(text: str, today: date, yearly: bool = False) -> _Gap:
    """The gap (months, start month, looseness) and the years paid; `yearly`: the scheme is paid by
    the year (居民医保), so a year said as the start means its January."""
    gap: Duration | None = None
    almost = False
    vague_gap = False
    years: float | None = None
    since: date | None = None
    unmarked = False
    total: float | None = None
    medical: float | None = None
    parts = False
    spans: dict[float, tuple[float, float] | None] = {}  # years said -> the years they can mean
    gap_span: tuple[float, float] | None = None  # the same for the gap, were it years paid
    ended = False  # the gap is a closed range of months ("3月到5月没交", "3月份忘记交了")
    corrected = ""  # in a message that corrects itself, the kind of the last stretch said with a word
    correcting = lx.CORRECTION.search(text) is not None
    repaid = lx.BACKPAID_DONE.search(text) is not None  # "3月份没交，4月又补上了": that month alone
    any_gap_verb = lx.GAP_VERB.search(text) is not None  # "3月份离职的，之后一直没交": from April
    # "去年10月离职，今年3月入职新公司": the months paid again end the gap (not when the new job does not pay)
    back = [] if lx.NEW_JOB_UNPAID.search(text) else resumed_months(text, today)
    for _, clause in clauses(text):
        gap_verb = lx.GAP_VERB.search(clause) is not None
        not_gap = lx.NOT_GAP.search(clause) is not None
        stretches = durations(clause)
        for d in stretches:
            kind = _classify(clause, d, gap_verb, not_gap)
            if kind == "unmarked" and corrected and (corrected == "gap" or d.unit == "year"):
                kind = corrected  # "交了12年，不对，是13年": 13 years paid, not a gap of 13 years
            elif correcting and kind in ("years", "gap"):
                corrected = kind
            if kind == "years" and d.months is not None and 0 <= d.months / 12 <= MAX_YEARS_PAID:
                said = round(d.months / 12, 2)
                spans[said] = years_span(clause, d, MAX_YEARS_PAID)
                if lx.YEARS_TOTAL_BEFORE.search(clause, max(0, d.start - 8), d.start):
                    total = said
                elif lx.YEARS_MEDICAL_BEFORE.search(clause, max(0, d.start - 8), d.start):
                    medical = said  # "社保交了10年，医保只交了8年": the medical insurance's years
                elif years is not None and years != said:
                    parts = True  # "单位交了8年，自己交了2年": parts of the total, which is not said
                years = said
            elif kind in ("gap", "unmarked") and _not_negated(clause, d.start):
                unmarked = kind == "unmarked"
                if d.months is None:
                    vague_gap, gap = True, None
                elif gap is not None and (either := _one_or_other(clause, gap, d)) is not None:
                    gap = either  # "3个月还是4个月": either, so 3..4
                else:
                    gap, vague_gap, ended = d, False, False
                    almost = _ALMOST.search(clause[max(0, d.start - 4) : d.start]) is not None
                    gap_span = years_span(clause, d, MAX_YEARS_PAID)
        closed = month_range(clause, today) if gap_verb else None
        if closed is None and not stretches:
            closed = missed_month(clause, today, repaid)  # "3月份忘记交了": that month alone
        if closed is not None and closed[1] > 0:  # "3月到5月没交": those months, not "since 5月"
            gap, vague_gap, almost, unmarked = Duration(0, len(clause), closed[1], False, "month"), False, False, False
            since, ended = closed[0], True
        elif since is None:
            since = (paid_until(clause, today) or (left_job(clause, today) if any_gap_verb or back else None)
                     or _read_since(clause, today, gap_verb))
    until, closed_by = today, ended_at(since, back, today) if since is not None else None
    resumed = closed_by is not None or lx.RESUMED.search(text) is not None
    if closed_by is not None:
        since, until = closed_by
    elif resumed:
        since = None  # paying resumed in a month not said: the start gives no length
    if since is None and gap is None and not vague_gap and not resumed:
        since = year_start(text, today, yearly)  # "今年没交": since January
    if total is not None or medical is not None:
        years = total if total is not None else medical
    elif parts and not lx.CORRECTION.search(text):
        years = None  # several stretches paid: the total is asked, not the last part taken for it
    years_range = spans.get(years) if years is not None else None
    months: int | None = None
    approx = False
    loose: tuple[int, int] | None = None
    if gap is not None and gap.months is not None:
        months = math.ceil(gap.months)
        approx = gap.approximate or months != gap.months or almost
        if almost:
            loose = (max(months - 1, 1), months)
        elif gap.approximate and gap.high is not None and math.ceil(gap.high) > months:
            loose = (months, math.ceil(gap.high))
        if not 0 < months <= MAX_GAP_MONTHS:
            months, approx, loose = None, False, None
    days = gap.days if gap is not None and months is not None and not almost else None
    if days is not None:
        since = None  # the days say when it began, to the day
    if since is not None:
        from_since = months_between(since, until)
        if months is None and not vague_gap:  # a month: not unmarked
            if resumed:  # kept as months, like a month paid back: not counted up to today
                return _Gap(from_since or None, None, False, years, years_range=years_range, resumed=from_since > 0)
            return _Gap(from_since, since, False, years, years_range=years_range)
        if months is not None and (abs(from_since - months) > 1 or (ended and from_since != months)):
            since = None  # the duration wins (see module docstring); a closed range ends before now
    if loose is not None:
        loose = (loose[0], min(loose[1], MAX_GAP_MONTHS))
    unmarked = unmarked and months is not None
    if unmarked and years is None and gap is not None and gap.unit == "year":
        years_range = gap_span  # "快20年" answering "一共交了多少年": 19–20 years
    since = None if resumed else since
    return _Gap(months, since, approx, years, loose, days, unmarked, years_range, resumed and months is not None)


def _one_or_other(clause: str, first: Duration, second: Duration) -> Duration | None:
    """Two gaps said as alternatives in one clause ("3个月还是4个月", "4个月或者3个月") as one loose gap
    from the smaller to the larger; None when `second` is not such an alternative to `first`."""
    if first.months is None or second.months is None or first.months == second.months:
        return None
    if first.end > second.start or lx.EITHER.fullmatch(clause, first.end, second.start) is None:
        return None
    low, high = sorted((first.months, second.months))
    return Duration(first.start, second.end, low, True, first.unit, high)


def _read_since(clause: str, today: date, has_gap_verb: bool) -> date | None:
    """The first month in the clause that says when the gap began."""
    start_word = has_gap_verb or lx.START_IN_CLAUSE.search(clause) is not None
    for mention in month_mentions(clause, today):
        if _is_start(clause, mention, start_word):
            return mention.month
    return None


def _is_start(clause: str, mention: MonthMention, start_word: bool) -> bool:
    if not _not_negated(clause, mention.start) or resumes(clause, mention):
        return False  # "上个月开始又交上了": when paying resumed, not when the gap began
    if mention.half:
        return lx.START_OF_HALF.match(clause, mention.end) is not None
    if mention.bare:  # "10月份" needs "开始/起/从" right next to it
        before, after = clause[max(0, mention.start - 3) : mention.start], clause[mention.end : mention.end + 4]
        return bool(lx.START_AFTER.search(after) or lx.START_BEFORE.search(before))
    return start_word
