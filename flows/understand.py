"""Read what a user's Chinese message says about their insurance gap.

`understand` is pure and fast (it runs on every message): it normalises the text once (NFKC,
traditional -> simplified, typos), then reads each slot with precompiled patterns. It never
guesses: an ambiguous region gives candidates instead of a region, a vague duration ("几个月")
gives no number, and numbers are read only next to their unit.

Conventions (the policy engine and the dialog rely on them):

* Gap months from a start month: ``gap_months = months_between(gap_since, today)``, i.e. the
  calendar months from the first unpaid month up to, not including, the current month
  (Oct 2025 -> Nov 2026 = 13; "上个月没交" = 1; "这个月没交" = 0). Same as `policies.dates`.
* When both a start month and a duration are said and disagree by more than a month, the duration
  wins and the start month is dropped (people say when they noticed, not when it began).
* Vague durations: 半年 6, 一年半 18, 大半年 8, 两年多 24; the "多"/"大半" forms set
  ``gap_approximate``. See `flows.nlu.numbers`.
* Changing jobs ("换工作断了一个月") sets the employee type but no cause: whether the gap between
  two jobs is the person's own doing depends on the case, so the dialog asks. "我自己换工作断的"
  (the user's own account, with 自己) is personal.
* "单位职工医保断了" is not the employer's doing: 单位 only names the insurance. The employer is the
  cause when it is the actor ("公司没给我交", "公司把我医保停了", "单位原因").
* Cause UNKNOWN only when the user says they do not know the reason ("不知道什么原因").
* Only the first `flows.nlu.normalise.MAX_CHARS` characters are read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from flows.nlu import lexicon as lx
from flows.nlu.normalise import clauses, normalise
from flows.nlu.numbers import Duration, durations, to_number
from flows.nlu.when import MonthMention, month_mentions, months_between
from policies.model import Cause, Gender, InsuranceType, Region
from policies.regions import RegionIndex

_MAX_GAP_MONTHS = 600
_MAX_YEARS_PAID = 60.0
# Labels flows/pii.py puts in place of phone and ID numbers ("［已隐去的电话号码］", NFKC'd to
# ASCII brackets): they must not read as words ("电话" would look like asking for a human).
_PII_LABEL = re.compile(r"\[已隐去的[^\]]{0,12}\]")
_FIRST_CLAUSE_PUNCT = re.compile(r"[,。!?;、~…]")


@dataclass(frozen=True, slots=True)
class Understanding:
    """What one message said. Unset fields were not said (or not said unambiguously)."""

    region: Region | None = None
    region_candidates: tuple[Region, ...] = ()
    insurance_type: InsuranceType | None = None
    gap_months: int | None = None
    gap_since: date | None = None  # first unpaid month, day 1
    cause: Cause | None = None  # EMPLOYER / PERSONAL; UNKNOWN only for "不知道什么原因"
    years_paid: float | None = None
    gender: Gender | None = None
    monthly_base: float | None = None
    intents: frozenset[str] = frozenset()
    gap_approximate: bool = False  # the gap was given loosely ("两年多", "大半年")

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


def understand(text: str, today: date, regions: RegionIndex) -> Understanding:
    """Read region, insurance type, gap, cause, years paid, gender, base and intents from a message."""
    if not isinstance(text, str):
        return Understanding()
    norm = _PII_LABEL.sub(",", normalise(text))
    if not norm:
        return Understanding()
    parts = clauses(norm)

    region: Region | None = None
    candidates: tuple[Region, ...] = ()
    found = regions.find_in_text(norm)
    if found is not None:
        region, candidates = found.region, found.candidates

    cause = _read_cause(norm)
    gap_months, gap_since, approx, years_paid = _read_gap_and_years(parts, today)
    return Understanding(
        region=region,
        region_candidates=candidates,
        insurance_type=_read_type(norm, cause),
        gap_months=gap_months,
        gap_since=gap_since,
        cause=cause,
        years_paid=years_paid,
        gender=lx.read_gender(norm),
        monthly_base=_read_base(norm),
        intents=_read_intents(norm),
        gap_approximate=approx,
    )


# --------------------------------------------------------------------------- slots
def _not_negated(text: str, start: int) -> bool:
    return lx.NEGATED.search(text[max(0, start - 4) : start]) is None


def _read_type(text: str, cause: Cause | None) -> InsuranceType | None:
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
    if cause is Cause.EMPLOYER or lx.EMPLOYEE_HINT.search(text):
        return InsuranceType.EMPLOYEE
    return None


def _read_cause(text: str) -> Cause | None:
    if lx.UNKNOWN_CAUSE.search(text):
        return Cause.UNKNOWN
    employer = any(_not_negated(text, m.start()) for m in lx.EMPLOYER_CAUSE.finditer(text))
    personal = any(_not_negated(text, m.start()) for m in lx.PERSONAL_CAUSE.finditer(text))
    if employer and not personal:
        return Cause.EMPLOYER
    if personal and not employer:
        return Cause.PERSONAL
    return None  # neither, or both: not guessed


def _classify(clause: str, d: Duration, offset: int) -> str:
    """"years", "gap" or "" for a duration inside a clause."""
    before = clause[: d.start - offset]
    after = clause[d.end - offset :]
    if after.startswith(("前", "以前", "之前")):
        return ""  # "3个月前": a month, read by the month reader
    if d.unit == "year" and lx.YEARS_PAID_BEFORE.search(before[-8:]):
        return "years"
    if lx.PAID_BEFORE.search(before[-4:]) and not lx.GAP_VERB.search(before[-4:]):
        return ""
    if lx.GAP_VERB.search(clause):
        return "gap"
    if lx.NOT_GAP.search(clause):
        return ""
    return "gap"


def _read_gap_and_years(
    parts: list[tuple[int, str]], today: date
) -> tuple[int | None, date | None, bool, float | None]:
    gap: Duration | None = None
    vague_gap = False
    years: float | None = None
    since: date | None = None
    for offset, clause in parts:
        local_durations = durations(clause)
        for d in local_durations:
            shifted = Duration(d.start + offset, d.end + offset, d.months, d.approximate, d.unit)
            kind = _classify(clause, shifted, offset)
            if kind == "years" and d.months is not None and 0 <= d.months / 12 <= _MAX_YEARS_PAID:
                years = round(d.months / 12, 2)
            elif kind == "gap" and _not_negated(clause, d.start):
                if d.months is None:
                    vague_gap = True
                    gap = None
                else:
                    gap, vague_gap = shifted, False
        if since is None:
            since = _read_since(clause, today)
    months: int | None = None
    approx = False
    if gap is not None and gap.months is not None:
        months = math.ceil(gap.months)
        approx = gap.approximate or months != gap.months
        if not 0 < months <= _MAX_GAP_MONTHS:
            months, approx = None, False
    if since is not None:
        from_since = months_between(since, today)
        if months is None and not vague_gap:
            return from_since, since, False, years
        if months is not None and abs(from_since - months) > 1:
            since = None  # the duration wins (see module docstring)
    return months, since, approx, years


def _read_since(clause: str, today: date) -> date | None:
    """The first month in the clause that says when the gap began."""
    has_gap_verb = lx.GAP_VERB.search(clause) is not None
    for mention in month_mentions(clause, today):
        if _is_start(clause, mention, has_gap_verb):
            return mention.month
    return None


def _is_start(clause: str, mention: MonthMention, has_gap_verb: bool) -> bool:
    if not _not_negated(clause, mention.start):
        return False
    before, after = clause[: mention.start], clause[mention.end :]
    if mention.bare:  # "10月份" needs "开始/起/从" right next to it
        return bool(lx.START_AFTER.search(after) or lx.START_BEFORE.search(before))
    return has_gap_verb or lx.START_IN_CLAUSE.search(clause) is not None


def _read_base(text: str) -> float | None:
    for pattern in lx.BASE:
        m = pattern.search(text)
        if m is None:
            continue
        value = to_number(m.group("n"))
        if value is None:
            continue
        value *= lx.BASE_UNIT_FACTOR.get(m.group("u") or "", 1.0)
        if 100 <= value <= 1_000_000:
            return value
    return None


def _read_intents(text: str) -> frozenset[str]:
    intents = {name for name, pattern in lx.INTENT_PATTERNS if pattern.search(text)}
    head = _FIRST_CLAUSE_PUNCT.split(text, maxsplit=1)[0].strip()
    if lx.YES.match(head):
        intents.add("yes")
    elif lx.NO.match(head):
        intents.add("no")
        if head.startswith("不是") and len(text) <= len(head) + 1:
            intents.discard("correction")  # a bare "不是" answers a question; it corrects nothing
    return frozenset(intents)
