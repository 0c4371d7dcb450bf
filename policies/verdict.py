"""The verdict part of an employee-scheme answer: can the gap be paid back, the wait, when
benefits resume, gap-period claims, continuity — from the gap bands in force.

Bands of all levels are searched most specific first and each field comes from the first
matching band that sets it (``unknown`` counts as set: the field stays None). An employer-caused
gap takes only bands that name the employer cause: the waits of personal gaps never apply to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from policies.dates import first_of_month, months_between
from policies.model import BackpayVerdict, Cause, InsuranceType, Level
from policies.reader import Reader, shown
from policies.schema import BAND_FIELDS, UNKNOWN, Band, Entry
from policies.wording import VERDICT_TEXT

DEADLINE_HORIZON_DAYS = 3 * 366  # terms that do not change within three years have no deadline


@dataclass(frozen=True, slots=True)
class Outcome:
    """The band fields of an answer and the bands (with their entries) they came from."""

    backpay: BackpayVerdict
    condition: str | None
    applies_if: str | None
    waiting_months: int | None
    waiting_days: int | None
    resume: str | None
    retroactive: bool | None
    continuity_reset: bool | None
    verdict_level: Level
    wait_level: Level
    counts_days: bool  # the band that gave the verdict counts the gap in days
    used: tuple[tuple[Entry, Band], ...]
    # bands that gave the verdict or the wait: only their notes and disputes are shown (a band that
    # only fills in, say, continuity would otherwise add a note contradicting the local verdict)
    deciding: tuple[tuple[Entry, Band], ...] = ()
    waiting_range: tuple[int, int] | None = None  # the wait is unknown; a source gives this range
    # the levels the details came from, e.g. (("continuity_reset", NATIONAL),): a local verdict whose
    # claims or continuity are national practice says so
    field_levels: tuple[tuple[str, Level], ...] = ()
    wait_after: str = "backpay"  # what the wait counts from: paying the gap back, or paying again
    wait_from: tuple[Entry, Band] | None = None  # the band that gave the wait (traced as its own field)

    @property
    def terms(self) -> tuple[object, ...]:
        """What paying back gets (a change of these is a deadline)."""
        return (self.backpay, self.waiting_months, self.waiting_range, self.waiting_days, self.retroactive,
                self.continuity_reset)


def fits(band: Band, itype: InsuranceType, cause: Cause, gap: int | None, days: int | None) -> bool:
    """Whether ``band`` applies; an employer cause needs a band that names it."""
    if cause is Cause.EMPLOYER and (band.when.causes is None or Cause.EMPLOYER not in band.when.causes):
        return False
    return band.when.matches_person(itype, cause) and band.when.matches_gap(gap, days)


def outcome(pairs: list[tuple[Entry, Band]], itype: InsuranceType, cause: Cause, gap: int | None,
            days: int | None) -> Outcome | None:
    """Each band field from the first fitting band that sets it; None without a verdict."""
    got: dict[str, object] = {}
    levels: dict[str, Level] = {}
    used: list[tuple[Entry, Band]] = []
    deciding: list[tuple[Entry, Band]] = []
    wait_from: tuple[Entry, Band] | None = None
    counts_days = False
    for e, band in pairs:
        if not fits(band, itype, cause, gap, days):
            continue
        took: set[str] = set()
        if band.waiting_days is not None and "waiting_months" not in got:
            # a wait in days is this band's wait: no parent's wait in months may stand in for it
            got["waiting_months"], levels["waiting_months"] = None, e.level
            got["wait_after"], wait_from = band.wait_after, (e, band)
            took.add("waiting_months")
        for name in BAND_FIELDS:
            value = getattr(band, name)
            if value is not None and name not in got:
                got[name] = None if value is UNKNOWN else value
                levels[name] = e.level
                took.add(name)
                if name == "backpay":
                    got["condition"], got["applies_if"] = band.condition, band.applies_if
                    counts_days = band.when.counts_days
                if name == "resume":
                    got["waiting_days"] = band.waiting_days
                if name == "waiting_months":
                    got["waiting_range"], got["wait_after"] = band.waiting_range, band.wait_after
                    wait_from = (e, band)
        if took or band.note:
            used.append((e, band))
        if took & {"backpay", "waiting_months", "resume"}:
            deciding.append((e, band))
        if len(levels) == len(BAND_FIELDS):
            break
    verdict = got.get("backpay")
    if not isinstance(verdict, BackpayVerdict):
        return None
    if verdict is BackpayVerdict.NO:
        # A "no" has no wait, resume or claims: only the band that says no (and what it sets) counts.
        band_e, band = next((e, b) for e, b in used if b.backpay is BackpayVerdict.NO)
        reset = None if band.continuity_reset is UNKNOWN else band.continuity_reset
        return Outcome(verdict, band.condition, None, None, None, None, None, _bool(reset), band_e.level,
                       band_e.level, band.when.counts_days, ((band_e, band),), ((band_e, band),))
    waiting_days = got.get("waiting_days")
    waiting = got.get("waiting_months")
    return Outcome(
        verdict, _text(got.get("condition")), _text(got.get("applies_if")),
        None if waiting_days is not None else _int(waiting), _int(waiting_days), _text(got.get("resume")),
        _bool(got.get("retroactive")), _bool(got.get("continuity_reset")),
        levels["backpay"], levels.get("waiting_months", levels["backpay"]), counts_days, tuple(used),
        tuple(deciding), got.get("waiting_range") if waiting_days is None else None,  # type: ignore[arg-type]
        tuple(levels.items()), _text(got.get("wait_after")) or "backpay", wait_from,
    )


# The details of a band answer whose level is worth naming when the verdict is local.
DETAILS = {"waiting_months": "等待期", "retroactive": "断缴期间的医疗费能否报销", "continuity_reset": "连续参保年限是否重新计算"}


def national_details(o: Outcome) -> list[str]:
    """The details (in words) a local verdict takes from national practice, when they say something
    (an unknown says 未知 by itself)."""
    levels = dict(o.field_levels)
    said = {"waiting_months": o.waiting_months is not None or o.waiting_range is not None,
            "retroactive": o.retroactive is not None, "continuity_reset": o.continuity_reset is not None}
    return [words for name, words in DETAILS.items() if levels.get(name) is Level.NATIONAL and said[name]]


def _text(v: object) -> str | None:
    return v if isinstance(v, str) else None


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _bool(v: object) -> bool | None:
    return v if isinstance(v, bool) else None


def decide(r: Reader) -> Outcome | None:
    """The outcome for the reader's person and gap, with the bands it used traced."""
    found = outcome(r.bands(), r.itype, r.cause, r.gap, r.gap_days)
    if found is not None:
        for e, band in found.used:
            r.took_band(e, band, shown=(e, band) in found.deciding)
        if found.wait_from is not None and found.backpay is not BackpayVerdict.NO:
            # the wait's own level: a local verdict may take its wait from national practice (北京)
            e, band = found.wait_from
            wait = f"{band.waiting_days}天" if band.waiting_days is not None else shown(band.waiting_months)
            r.record("waiting_months", e, wait, band.line, quiet=True)
    return found


def resume_date(on: date, o: Outcome) -> date | None:
    """When benefits resume if paid on ``on``; None when the source does not say."""
    if o.backpay is BackpayVerdict.NO or o.resume is None:
        return None
    if o.waiting_months is None and o.waiting_days is None:
        return None  # the wait is unknown, so is the day benefits resume
    if o.resume == "after_waiting_days":
        return on + timedelta(days=o.waiting_days) if o.waiting_days else None
    if o.resume == "after_waiting_months":
        return first_of_month(on, max(o.waiting_months, 1)) if o.waiting_months is not None else None
    return first_of_month(on, 1)


def deadline(r: Reader, o: Outcome, gap_since: date, on: date) -> date | None:
    """The last day on which paying back still gets today's terms: the day before the gap grows
    into a band with other terms (months or days, as the bands count). None within three years."""
    pairs = r.bands()
    changes: set[date] = set()
    for _, band in pairs:
        w = band.when
        for edge in (w.min_days, None if w.max_days is None else w.max_days + 1):
            if edge is not None:
                changes.add(gap_since + timedelta(days=edge))
        for edge in (w.min_months, None if w.max_months is None else w.max_months + 1):
            if edge is not None:
                changes.add(first_of_month(gap_since, edge))
    for day in sorted(d for d in changes if on < d <= on + timedelta(days=DEADLINE_HORIZON_DAYS)):
        other = outcome(pairs, r.itype, r.cause, months_between(gap_since, day), (day - gap_since).days)
        if other is None or other.terms != o.terms:
            return day - timedelta(days=1)
    return None


def general(r: Reader) -> str:
    """With the gap unknown: the outcome for each gap range, e.g. "断缴3个月及以内：可以补缴，…"."""
    pairs = r.bands()
    in_days = any(b.when.counts_days for _, b in pairs if b.backpay is not None)
    unit = "天" if in_days else "个月"
    points = {1}
    for _, band in pairs:
        w = band.when
        for p in ((w.min_days, w.max_days) if in_days else (w.min_months, w.max_months)):
            if p is not None:
                points.update({max(p, 1), p + 1})
    parts: list[tuple[int, str]] = []
    for p in sorted(points):
        gap, days = (math.ceil(p / 30), p) if in_days else (p, None)
        o = outcome(pairs, r.itype, r.cause, gap, days)
        if o is None:
            continue
        desc = _describe(o)
        if not parts or parts[-1][1] != desc:
            parts.append((p, desc))
    texts = []
    for i, (lo, desc) in enumerate(parts):
        hi = parts[i + 1][0] - 1 if i + 1 < len(parts) else None
        if hi is None:
            span = f"断缴{lo}{unit}及以上" if lo > 1 else "任何断缴时长"
        elif lo <= 1:
            span = f"断缴{hi}{unit}及以内"
        else:
            span = f"断缴{lo}–{hi}{unit}" if lo != hi else f"断缴{lo}{unit}"
        texts.append(f"{span}：{desc}")
    return "取决于断缴时长——" + "；".join(texts)


def _describe(o: Outcome) -> str:
    desc = VERDICT_TEXT[o.backpay]
    if o.backpay is BackpayVerdict.NO:
        return desc
    if o.waiting_days:
        desc += f"，缴费后{o.waiting_days}天恢复待遇"
    elif o.waiting_months:
        desc += f"，等待期{o.waiting_months}个月"
    elif o.waiting_months == 0:
        desc += "，缴费次月恢复待遇"
    elif o.waiting_range:
        desc += f"，等待期{o.waiting_range[0]}–{o.waiting_range[1]}个月（各地不同）"
    if o.continuity_reset:
        desc += "，连续参保年限重新计算"
    return desc
