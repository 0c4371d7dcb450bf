"""The one way an answer reads rules: every value read is traced here, not by hand.

A `Reader` wraps the rules in force for one question and one person. Each read records the
trace entry (field, file, line, level, sources), adds the entry's sources, note and as-of date to
the answer, and turns the entry's disputes that fit the question into "来源说法不一" lines.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from policies.in_force import InForce
from policies.model import Cause, Confidence, InsuranceType, Level, SourceRef, TraceEntry
from policies.schema import (
    CONFIDENCE_RANK,
    Band,
    EmployeeRate,
    Entry,
    ItemList,
    ListItem,
    Range,
    strength,
)
from policies.wording import CONFIDENCE_LABEL, DISAGREE_PREFIX, pct, source_name


class Reader:
    """Reads the rules in force for one person and gap, recording what the answer used."""

    def __init__(self, now: InForce, itype: InsuranceType, cause: Cause, gap: int | None,
                 gap_days: int | None) -> None:
        self.now = now
        self.itype = itype
        self.cause = cause  # the cause rules are matched with (unknown is read as personal)
        self.gap = gap
        self.gap_days = gap_days
        self.trace: list[TraceEntry] = []
        self.sources: dict[str, SourceRef] = {}
        self.notes: dict[str, None] = {}  # insertion-ordered sets
        self.disagreements: dict[str, None] = {}
        self.as_of: date | None = None
        self._seen: set[tuple[str, int]] = set()  # entries (file, line) already counted

    # -- reading -----------------------------------------------------------------------------------
    def value(self, key: str, field: str | None = None) -> Any:
        """The value in force for ``key`` (None if none), traced as ``field``."""
        e = self.now.first(key)
        if e is None:
            return None
        self.record(field or key, e, shown(e.value), e.line)
        return e.value

    def entry(self, key: str, field: str | None = None) -> Entry | None:
        """The entry in force for ``key`` (None if none), traced as ``field``."""
        e = self.now.first(key)
        if e is not None:
            self.record(field or key, e, shown(e.value), e.line)
        return e

    def has(self, key: str) -> bool:
        """Whether a rule for ``key`` is in force (not a read: nothing is traced)."""
        return self.now.first(key) is not None

    def bands(self) -> list[tuple[Entry, Band]]:
        """Every gap band in force for this person's type, local bands before parents' (not traced:
        `verdict` traces the bands it takes with `took_band`)."""
        return [(e, band) for e in self.now.entries.get("gap_bands", ()) for band in e.value
                if band.when.matches_person(self.itype, self.cause)]

    def took_band(self, e: Entry, band: Band, shown: bool = True) -> None:
        """Trace a gap band the answer took a field from; ``shown`` false (the band only filled in a
        detail, not the verdict or the wait): its sources count, its note and disputes are not shown."""
        text = f"{band.when.gap_text() or '任何断缴时长'}：{band.backpay or '-'}"
        # a detail-only band is traced apart: what decided the verdict (and its confidence) is "gap_band"
        self.record("gap_band" if shown else "gap_detail", e, text, band.line, quiet=not shown)
        if band.note and shown:
            self.note(band.note)

    def items(self, key: str) -> list[ListItem]:
        """The list items (channels, materials) for this person and gap, local first, up to the
        first list that does not extend its parent's and names items for this person."""
        out: list[ListItem] = []
        for e in self.now.entries.get(key, ()):
            value: ItemList = e.value
            mine = [i for i in value.items if i.when.matches_person(self.itype, self.cause)]
            for i in mine:
                if i.when.matches_gap(self.gap, self.gap_days):
                    self.record(key, e, i.text, i.line)
                    out.append(i)
            if not value.extend and mine:  # a list replaces its parent's only for the people it names
                break
        return out

    def free_notes(self, backpay_possible: bool) -> None:
        """The free-text notes that fit this person and gap (back-pay notes only when it is possible)."""
        for e in self.now.notes:
            item: ListItem = e.value
            if not item.when.matches_person(self.itype, self.cause):
                continue
            if item.kind == "backpay" and not backpay_possible:
                continue
            fits = item.when.matches_gap(self.gap, self.gap_days) if self.gap is not None else not item.when.gap_bound
            if fits:
                self.record(e.key, e, item.text, item.line)
                self.note(item.text)

    def hotlines(self) -> tuple[str, ...]:
        out: list[str] = []
        for e in self.now.hotlines:
            self.record("hotlines", e, "、".join(e.value), e.line)
            out.extend(h for h in e.value if h not in out)
        return tuple(out)

    # -- recording ---------------------------------------------------------------------------------
    def record(self, field: str, e: Entry, value: str, line: int, quiet: bool = False) -> None:
        """Trace that ``field`` came from entry ``e`` (line ``line`` of its file); ``quiet``: count
        its sources and date but not its note and disputes."""
        self.trace.append(TraceEntry(field, value, e.region_code, e.level, e.file, line, tuple(r.id for r in e.refs)))
        if (e.file, e.line) in self._seen:  # sources, note and disputes depend on the entry alone
            return
        for ref in e.refs:
            self.sources.setdefault(ref.id, ref)
        if e.as_of is not None and (self.as_of is None or e.as_of > self.as_of):
            self.as_of = e.as_of
        if quiet:
            return
        self._seen.add((e.file, e.line))
        if e.note:
            self.note(e.note)
        for d in e.disputes:
            if d.when.matches_person(self.itype, self.cause) and d.when.matches_gap(self.gap, self.gap_days):
                titles = "；".join(f"{_named(s.ref)}，{'综述，' if s.general else ''}{CONFIDENCE_LABEL[s.confidence]}" for s in d.sources)
                if strength(e.sources) > strength(d.sources):
                    ours = max(e.sources, key=lambda s: CONFIDENCE_RANK[s.confidence])
                    tail = f"本答复依据更权威的来源（{CONFIDENCE_LABEL[ours.confidence]}）"
                else:
                    tail = "各说法可信度相同，请以当地医保经办机构的答复为准"
                self.disagreements[f"{DISAGREE_PREFIX}另有资料称{d.says}（{titles}）；{tail}"] = None
                for s in d.sources:
                    self.sources.setdefault(s.id, s.ref)

    def note(self, text: str) -> None:
        self.notes[text] = None

    @property
    def content_site(self) -> bool:
        return any(s.confidence is Confidence.CONTENT_SITE for s in self.sources.values())


def _named(ref: SourceRef) -> str:
    return source_name(ref) if ref.site else f"《{ref.title}》"


def shown(value: Any) -> str:
    """How the trace shows a value."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Range):
        return f"{value.low:g}–{value.high:g}"
    if isinstance(value, EmployeeRate):
        top = f"–{pct(value.total_max)}" if value.total_max else ""
        return f"{pct(value.total)}{top}"
    if isinstance(value, ItemList):
        return "；".join(i.text for i in value.items)
    if isinstance(value, ListItem):
        return value.text
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def most_specific(levels: list[Level]) -> Level:
    order = (Level.NATIONAL, Level.PROVINCE, Level.CITY, Level.COUNTY)
    return max(levels, key=order.index) if levels else Level.NATIONAL


def least_specific(levels: list[Level]) -> Level:
    order = (Level.NATIONAL, Level.PROVINCE, Level.CITY, Level.COUNTY)
    return min(levels, key=order.index) if levels else Level.NATIONAL
