"""Read what a user's Chinese message says about their insurance gap.

`understand` is pure and fast (it runs on every message): it normalises the text once (NFKC,
traditional -> simplified, typos), then reads each slot with precompiled patterns, skipping the
patterns the message lacks the characters for (`flows.nlu.prefilter`). It never
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
from flows.nlu.numbers import DURATION_GATE, Duration, durations, to_number
from flows.nlu.prefilter import gate
from flows.nlu.when import MONTH_GATE, MonthMention, month_mentions, months_between
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
    norm = normalise(text)
    if "[" in norm:  # every PII label starts with "["; most messages need no search for one
        norm = _PII_LABEL.sub(",", norm)
    if not norm:
        return Understanding()
    # The characters of the message, once: each reader first asks whether its patterns can match
    # at all (see flows.nlu.prefilter), and most cannot on a short message.
    chars = frozenset(norm)

    region: Region | None = None
    candidates: tuple[Region, ...] = ()
    # find_in_text converts to simplified again. That is not redundant: t2s is not idempotent
    # ("折 戟沈河" normalises to "折戟沈河", a second pass gives "折戟沉河"); scanning `norm` as it is
    # would find 沈河区 there, where this reader finds no region.
    found = regions.find_in_text(norm)
    if found is not None:
        region, candidates = found.region, found.candidates

    cause = _read_cause(norm, chars)
    gap_months, gap_since, approx, years_paid = _read_gap_and_years(norm, chars, today)
    return Understanding(
        region=region,
        region_candidates=candidates,
        insurance_type=_read_type(norm, chars, cause),
        gap_months=gap_months,
        gap_since=gap_since,
        cause=cause,
        years_paid=years_paid,
        gender=None if lx.GENDER_GATE.isdisjoint(chars) else lx.read_gender(norm),
        monthly_base=_read_base(norm, chars),
        intents=_read_intents(norm, chars),
        gap_approximate=approx,
    )


# --------------------------------------------------------------------------- prefilters
# `_X.isdisjoint(chars)` is True when the message cannot match pattern X (flows.nlu.prefilter);
# derived from the patterns, so the gates follow every edit of the keyword tables.
_RETIREE = gate(lx.RETIREE)
_TYPE_WORDS = tuple((pattern, kind, gate(pattern)) for pattern, kind in lx.TYPE_WORDS)
_EMPLOYEE_HINT = gate(lx.EMPLOYEE_HINT)
_UNKNOWN_CAUSE = gate(lx.UNKNOWN_CAUSE)
_EMPLOYER_CAUSE = gate(lx.EMPLOYER_CAUSE)
_PERSONAL_CAUSE = gate(lx.PERSONAL_CAUSE)
_BASE = gate(*lx.BASE)
_INTENTS = tuple((name, pattern, gate(pattern)) for name, pattern in lx.INTENT_PATTERNS)
_YES_NO = gate(lx.YES, lx.NO)


# --------------------------------------------------------------------------- slots
def _not_negated(text: str, start: int) -> bool:
    return lx.NEGATED.search(text[max(0, start - 4) : start]) is None


def _read_type(text: str, chars: frozenset[str], cause: Cause | None) -> InsuranceType | None:
    if not _RETIREE.isdisjoint(chars) and lx.RETIREE.search(text):
        return InsuranceType.RETIREE
    # The mention ending last wins; at the same end the longer one ("自己交职工医保" over "职工医保").
    best: tuple[int, int, InsuranceType] | None = None
    for pattern, kind, needed in _TYPE_WORDS:
        if needed.isdisjoint(chars):
            continue
        for m in pattern.finditer(text):
            if not _not_negated(text, m.start()):
                continue
            key = (m.end(), m.end() - m.start(), kind)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is not None:
        return best[2]
    if cause is Cause.EMPLOYER or (not _EMPLOYEE_HINT.isdisjoint(chars) and lx.EMPLOYEE_HINT.search(text)):
        return InsuranceType.EMPLOYEE
    return None


def _read_cause(text: str, chars: frozenset[str]) -> Cause | None:
    if not _UNKNOWN_CAUSE.isdisjoint(chars) and lx.UNKNOWN_CAUSE.search(text):
        return Cause.UNKNOWN
    employer = not _EMPLOYER_CAUSE.isdisjoint(chars) and any(
        _not_negated(text, m.start()) for m in lx.EMPLOYER_CAUSE.finditer(text)
    )
    personal = not _PERSONAL_CAUSE.isdisjoint(chars) and any(
        _not_negated(text, m.start()) for m in lx.PERSONAL_CAUSE.finditer(text)
    )
    if employer and not personal:
        return Cause.EMPLOYER
    if personal and not employer:
        return Cause.PERSONAL
    return None  # neither, or both: not guessed


def _classify(clause: str, d: Duration, gap_verb: bool) -> str:
    """"years", "gap" or "" for a duration found in a clause (gap_verb: the clause has a gap verb)."""
    before = clause[: d.start]
    after = clause[d.end :]
    if after.startswith(("前", "以前", "之前")):
        return ""  # "3个月前": a month, read by the month reader
    if d.unit == "year" and lx.YEARS_PAID_BEFORE.search(before[-8:]):
        return "years"
    if lx.PAID_BEFORE.search(before[-4:]) and not lx.GAP_VERB.search(before[-4:]):
        return ""
    if gap_verb:
        return "gap"
    if lx.NOT_GAP.search(clause):
        return ""
    return "gap"


def _read_gap_and_years(
    text: str, chars: frozenset[str], today: date
) -> tuple[int | None, date | None, bool, float | None]:
    if DURATION_GATE.isdisjoint(chars) and MONTH_GATE.isdisjoint(chars):
        return None, None, False, None  # the common case: no duration and no month in the message
    gap: Duration | None = None
    vague_gap = False
    years: float | None = None
    since: date | None = None
    for _, clause in clauses(text):
        may_have_duration = not DURATION_GATE.isdisjoint(clause)
        may_have_month = since is None and not MONTH_GATE.isdisjoint(clause)
        if not (may_have_duration or may_have_month):
            continue
        # Both readers below ask whether the clause has a gap verb: search once.
        gap_verb = lx.GAP_VERB.search(clause) is not None
        for d in durations(clause) if may_have_duration else ():
            kind = _classify(clause, d, gap_verb)
            if kind == "years" and d.months is not None and 0 <= d.months / 12 <= _MAX_YEARS_PAID:
                years = round(d.months / 12, 2)
            elif kind == "gap" and _not_negated(clause, d.start):
                if d.months is None:
                    vague_gap = True
                    gap = None
                else:
                    gap, vague_gap = d, False  # only its months and approximate are used below
        if may_have_month:
            since = _read_since(clause, today, gap_verb)
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


def _read_since(clause: str, today: date, has_gap_verb: bool) -> date | None:
    """The first month in the clause that says when the gap began."""
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


def _read_base(text: str, chars: frozenset[str]) -> float | None:
    if _BASE.isdisjoint(chars):
        return None
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


def _read_intents(text: str, chars: frozenset[str]) -> frozenset[str]:
    intents = {name for name, pattern, needed in _INTENTS if not needed.isdisjoint(chars) and pattern.search(text)}
    if _YES_NO.isdisjoint(chars):
        return frozenset(intents)
    head = _FIRST_CLAUSE_PUNCT.split(text, maxsplit=1)[0].strip()
    if lx.YES.match(head):
        intents.add("yes")
    elif lx.NO.match(head):
        intents.add("no")
        if head.startswith("不是") and len(text) <= len(head) + 1:
            intents.discard("correction")  # a bare "不是" answers a question; it corrects nothing
    return frozenset(intents)
