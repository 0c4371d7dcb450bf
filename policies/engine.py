"""The rules engine: a loaded rule set answers a Query with an Answer.

Pure and synchronous: everything is read at load time; `RuleBook.answer` does no I/O.

Work that does not depend on the person's own numbers is done once and kept in the RuleBook instance
(answers are the same with or without it; tests compare against `tables=False`):

* a region's rule chain (county -> city -> province -> national files), per region code;
* the rules in force (`InForce`), per chain, scheme and period between two `since` days;
* the rules that can apply to one insurance type and cause (`PersonView`), per `InForce`;
* an answer's `Tail` (channels, materials, notes, hotlines, with their trace and sources), per
  `PersonView` and gap in months, up to `MAX_TAILS` of them; and the gap band outcome per
  `PersonView` and gap.

What stays per answer: dates, deadlines, the cost and late-fee formulas, the trace of those.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from policies.dates import add_months, first_of_month, months_between
from policies.model import (
    Answer,
    BackpayVerdict,
    Cause,
    Channel,
    Confidence,
    CostEstimate,
    Gender,
    InsuranceType,
    LateFee,
    LateFeePayer,
    Level,
    Query,
    Region,
    RetireeShortfall,
    Scheme,
    SourceRef,
    TraceEntry,
    scheme_of,
)
from policies.schema import (
    BAND_FIELDS,
    INHERIT,
    NOTE_PREFIX,
    NOTHING,
    Band,
    CostReference,
    DayWindow,
    EmployeeRate,
    Entry,
    ItemList,
    ListItem,
    Range,
    RequiredYears,
    ResidentWaiting,
    RetireeBackpay,
    RuleFile,
)
from policies.wording import CONFIDENCE_LABEL, VERDICT_TEXT, money, pct

NATIONAL_CODE = "000000"
NATIONAL_REGION = Region(NATIONAL_CODE, "全国", Level.NATIONAL, None, "全国")
LEVEL_RANK = {Level.NATIONAL: 0, Level.PROVINCE: 1, Level.CITY: 2, Level.COUNTY: 3}
NOTE_NATIONAL_ONLY = "未找到本地规定：按全国通行做法回答，请拨打12393核实"
NOTE_CONTENT_SITE = "部分内容来自非官方网站（见来源），仅供参考，具体以当地医保经办机构的规定为准"
NOTE_ESTIMATE = "费用为按公式的估算，实际金额以当地医保/税务部门核定为准"


class UnknownRegion(LookupError):
    """The query's region code is not a known administrative division."""


class RegionLookup(Protocol):
    """What the engine needs of `policies.regions.RegionIndex`."""

    def get(self, code: str) -> Region | None: ...

    def chain(self, code: str) -> list[Region]: ...


@dataclass(frozen=True, slots=True)
class InForce:
    """What one chain says on one day for one scheme, resolved once and shared by that day's answers.

    ``entries`` maps each key to the entries in force, most specific first, with ``inherit`` levels
    skipped and the walk stopped at ``none``; ``notes`` holds the in-force entry of each note key
    (chain order); ``hotlines`` the in-force hotline entry of each file up to a ``none``.
    `for_person` narrows list rules, notes and gap bands to one insurance type and cause; those
    views are built on first use (at most 5 types x 3 causes of them).
    """

    entries: dict[str, tuple[Entry, ...]]
    notes: tuple[Entry, ...]
    hotlines: tuple[Entry, ...]
    _people: dict[tuple[InsuranceType, Cause], PersonView] = field(default_factory=dict, compare=False,
                                                                    repr=False)

    def for_person(self, itype: InsuranceType, cause: Cause) -> PersonView:
        """The rules of this day that can apply to a person of this type and cause."""
        view = self._people.get((itype, cause))
        if view is None:
            view = PersonView.build(self, itype, cause)
            self._people[(itype, cause)] = view
        return view


@dataclass(frozen=True, slots=True)
class PersonView:
    """In-force rules filtered by insurance type and cause; only the gap filter is left per answer.

    ``lists`` maps a list key (channels, materials) to (entry, its items for this person) pairs, up
    to and including the first entry that does not extend its parent's list.
    """

    lists: dict[str, tuple[tuple[Entry, tuple[ListItem, ...]], ...]]
    notes: tuple[Entry, ...]
    bands: list[tuple[Entry, Band]]
    tails: dict[int | None, Tail] = field(default_factory=dict, compare=False, repr=False)  # by gap
    outcomes: dict[int, _Outcome | None] = field(default_factory=dict, compare=False, repr=False)  # by gap

    @classmethod
    def build(cls, now: InForce, itype: InsuranceType, cause: Cause) -> PersonView:
        lists: dict[str, tuple[tuple[Entry, tuple[ListItem, ...]], ...]] = {}
        for key in LIST_KEYS:
            levels: list[tuple[Entry, tuple[ListItem, ...]]] = []
            for e in now.entries.get(key, ()):
                value: ItemList = e.value
                levels.append((e, tuple(i for i in value.items if i.when.matches_person(itype, cause))))
                if not value.extend:
                    break
            lists[key] = tuple(levels)
        notes = tuple(e for e in now.notes if e.value.when.matches_person(itype, cause))
        bands = [(e, band) for e in now.entries.get("gap_bands", ()) for band in e.value
                 if band.when.matches_person(itype, cause)]
        return cls(lists, notes, bands)


@dataclass(frozen=True, slots=True)
class Tail:
    """The end of an answer that depends only on the rules in force, the person and the gap: the
    channels, materials, notes and hotlines, with the trace, sources and notes their rules add.

    It is worked out with the same code (on a scratch `_Build`) and then merged in: trace entries
    append, sources and notes are insertion-ordered sets, so merging gives what running it in place
    would (its rules are list, note and hotline entries, which no earlier part of an answer uses).
    """

    channels: tuple[Channel, ...]
    materials: tuple[str, ...]
    hotlines: tuple[str, ...]
    trace: tuple[TraceEntry, ...]
    sources: tuple[SourceRef, ...]
    notes: tuple[str, ...]
    rank: int
    content_site: bool


LIST_KEYS = ("channels", "materials")
MAX_TABLED_GAP = 600  # months; longer gaps (never read from a chat) are worked out each time
MAX_TAILS = 50_000


def _current(entries: tuple[Entry, ...], on: date) -> Entry | None:
    """The entry of one file in force on `on` (entries are sorted by `since`)."""
    current = None
    for e in entries:
        if e.since > on:
            break
        current = e
    return current


@dataclass(frozen=True, slots=True)
class Chain:
    """The rule files that apply to one region, most specific first (national last).

    ``by_key`` holds, per (scheme, key), the entry lists of the files that have the key (in chain
    order); ``note_keys`` the note keys per scheme. Both are built once per region. ``in_force``
    resolves them for a day. What is in force changes only on the ``since`` days in ``changes``, so
    it is resolved once per period between two of them (a handful per region) and kept.
    """

    region: Region
    files: tuple[RuleFile, ...]
    by_key: dict[tuple[Scheme, str], tuple[tuple[Entry, ...], ...]]
    note_keys: dict[Scheme, tuple[str, ...]]
    changes: tuple[date, ...]
    _periods: dict[tuple[Scheme, int], InForce] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, region: Region, files: tuple[RuleFile, ...]) -> Chain:
        """Index the files' rules by key (chain order kept)."""
        by_key: dict[tuple[Scheme, str], list[tuple[Entry, ...]]] = {}
        notes: dict[Scheme, list[str]] = {s: [] for s in Scheme}
        changes: set[date] = set()
        for rf in files:
            changes.update(e.since for e in rf.hotlines)
            for (scheme, key), entries in rf.rules.items():
                by_key.setdefault((scheme, key), []).append(entries)
                changes.update(e.since for e in entries)
                if key.startswith(NOTE_PREFIX) and key not in notes[scheme]:
                    notes[scheme].append(key)
        return cls(region, files, {k: tuple(v) for k, v in by_key.items()},
                   {s: tuple(v) for s, v in notes.items()}, tuple(sorted(changes)))

    def in_force(self, scheme: Scheme, on: date) -> InForce:
        """The rules in force on `on` for `scheme` (resolved once per period and scheme)."""
        period = bisect_right(self.changes, on)  # how many change days are on or before `on`
        found = self._periods.get((scheme, period))
        if found is not None:
            return found
        entries: dict[str, tuple[Entry, ...]] = {}
        for (sch, key), levels in self.by_key.items():
            if sch is not scheme:
                continue
            picked: list[Entry] = []
            for level_entries in levels:
                current = _current(level_entries, on)
                if current is None or current.value is INHERIT:
                    continue
                if current.value is NOTHING:
                    break
                picked.append(current)
            if picked:
                entries[key] = tuple(picked)
        notes = tuple(entries[k][0] for k in self.note_keys[scheme] if k in entries)
        hotlines: list[Entry] = []
        for rf in self.files:
            current = _current(rf.hotlines, on)
            if current is None or current.value is INHERIT:
                continue
            if current.value is NOTHING:
                break
            hotlines.append(current)
        found = InForce(entries, notes, tuple(hotlines))
        self._periods[(scheme, period)] = found
        return found


class _Build:
    """Collects what one answer used: trace, sources, notes, the levels that supplied rules."""

    def __init__(self, chain: Chain, query: Query, cause: Cause, gap: int | None,
                 trace_cache: dict[tuple[str, int, int, str], TraceEntry], shown_cache: dict[int, str],
                 tables: bool = True) -> None:
        self.chain = chain
        self.query = query
        self.tables = tables  # False: no per-gap tables (the reference answers are tested against)
        self.trace_cache = trace_cache
        self.shown_cache = shown_cache
        self.scheme = scheme_of(query.insurance_type)
        self.on = query.on
        self.itype = query.insurance_type
        self.cause = cause
        self.gap = gap
        self.trace: list[TraceEntry] = []
        self.sources: dict[str, SourceRef] = {}
        self.notes: dict[str, None] = {}  # insertion-ordered set
        self.rank = 0
        self.content_site = False
        self.seen_entries: set[int] = set()
        self.now = chain.in_force(self.scheme, self.on)
        self.person = self.now.for_person(self.itype, cause)

    # -- lookups ---------------------------------------------------------------------------------
    def entry(self, key: str) -> Entry | None:
        found = self.now.entries.get(key)
        return found[0] if found else None

    def value(self, key: str, field: str | None = None, shown: str | None = None) -> Any:
        """The value in force for `key` (None if none), recorded in the trace as `field`."""
        found = self.now.entries.get(key)
        if not found:
            return None
        e = found[0]
        self.use(field or key, e, shown if shown is not None else self.short(e), e.line)
        return e.value

    def short(self, e: Entry) -> str:
        """How the trace shows `e`'s value (computed once per entry: values are immutable)."""
        shown = self.shown_cache.get(id(e))
        if shown is None:
            shown = self.shown_cache[id(e)] = _short(e.value)
        return shown

    # -- bookkeeping -----------------------------------------------------------------------------
    def use(self, field: str, e: Entry, shown: str, line: int) -> None:
        """Record that `field` of the answer came from entry `e` (line `line` of its file)."""
        eid = id(e)
        key = (field, eid, line, shown)
        entry = self.trace_cache.get(key)
        if entry is None:
            entry = TraceEntry(field, shown, e.region_code, e.level, e.file, line, tuple(r.id for r in e.refs))
            self.trace_cache[key] = entry
        self.trace.append(entry)
        # Rank, sources, notes and disputes depend on the entry alone: do them once per entry.
        if eid in self.seen_entries:
            return
        self.seen_entries.add(eid)
        rank = LEVEL_RANK[e.level]
        if rank > self.rank:
            self.rank = rank
        sources = self.sources
        for ref in e.refs:
            if ref.id not in sources:
                sources[ref.id] = ref
                if ref.confidence is Confidence.CONTENT_SITE:
                    self.content_site = True
        if e.note:
            self.note(e.note)
        if e.disputes:
            self._disputes(e)

    def _disputes(self, e: Entry) -> None:
        for d in e.disputes:
            if not (d.when.matches_person(self.itype, self.cause) and d.when.matches_gap(self.gap)):
                continue
            titles = "；".join(f"《{s.title}》，{CONFIDENCE_LABEL[s.confidence]}" for s in d.sources)
            self.note(f"另有来源称：{d.says}（{titles}）；以上答复采用更权威或更具体的来源")
            for s in d.sources:
                if s.id not in self.sources:
                    self.sources[s.id] = SourceRef(s.id, s.title, s.confidence)
                    self.content_site |= s.confidence is Confidence.CONTENT_SITE

    def note(self, text: str) -> None:
        self.notes[text] = None

    def scratch(self) -> _Build:
        """A fresh build for the same chain, day, person and gap (to work out a `Tail`)."""
        return _Build(self.chain, self.query, self.cause, self.gap, self.trace_cache, self.shown_cache,
                      self.tables)

    def absorb(self, tail: Tail) -> None:
        """Merge what working out `tail` recorded, as if it had been recorded here."""
        self.trace.extend(tail.trace)
        for ref in tail.sources:
            self.sources.setdefault(ref.id, ref)
        for text in tail.notes:
            self.notes[text] = None
        if tail.rank > self.rank:
            self.rank = tail.rank
        self.content_site = self.content_site or tail.content_site


def _short(value: Any) -> str:
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
    return str(value)


@dataclass(slots=True)
class _Outcome:
    """The gap-band fields of an answer, each with the band (and entry) it came from."""

    backpay: BackpayVerdict
    condition: str | None
    waiting_months: int
    waiting_days: int | None
    resume: str
    retroactive: bool
    continuity_reset: bool
    used: tuple[tuple[str, Entry, Band], ...]


class RuleBook:
    """A validated, immutable rule set plus the region index it answers for.

    Build it with `policies.load_rulebook()`; keep the instance (loading reads files, answering does
    not). ``RuleBook.answer(query)`` is pure and synchronous.
    """

    def __init__(self, files: list[RuleFile], regions: RegionLookup, *, tables: bool = True) -> None:
        self.files: dict[str, RuleFile] = {rf.region_code: rf for rf in files}
        self.regions = regions
        # False works every answer's tail and gap outcome out in place: the reference the tables are
        # tested against.
        self.tables = tables
        # ~0.8 kB a tail: the tables stop growing at ~40 MB (a worker asked about every region and gap).
        self.max_tails = MAX_TAILS
        self._tails_kept = 0
        self._chains: dict[str, Chain] = {}
        # Trace entries are immutable and repeat across answers: built once per (field, rule, line, text).
        self._trace_cache: dict[tuple[str, int, int, str], TraceEntry] = {}
        self._shown_cache: dict[int, str] = {}  # id(entry or band) -> how the trace shows it

    # -- region chain --------------------------------------------------------------------------------
    def chain(self, region_code: str, regions: RegionLookup | None = None) -> Chain:
        """The rule files for a region, most specific first; UnknownRegion if the code is unknown."""
        cached = self._chains.get(region_code)
        if cached is not None and regions is None:
            return cached
        lookup = regions or self.regions
        if region_code == NATIONAL_CODE:
            region, ancestry = NATIONAL_REGION, []
        else:
            found = lookup.get(region_code)
            if found is None:
                raise UnknownRegion(f"未知的地区代码：{region_code}")
            region, ancestry = found, lookup.chain(found.code)
        codes = [r.code for r in ancestry]
        files = [self.files[c] for c in codes if c in self.files]
        files.append(self.files[NATIONAL_CODE])
        chain = Chain.build(region, tuple(files))
        if regions is None:
            self._chains[region_code] = chain
        return chain

    # -- the answer ------------------------------------------------------------------------------------
    def _tail(self, b: _Build) -> Tail:
        """The answer's tail: from the person view's table, worked out into it, or (tables off, full,
        or an unusual gap) worked out in place."""
        gap = b.gap
        if not self.tables or (gap is not None and not 0 <= gap <= MAX_TABLED_GAP):
            return _work_out_tail(b)
        tail = b.person.tails.get(gap)
        if tail is None:
            tail = _work_out_tail(b.scratch())
            if self._tails_kept < self.max_tails:
                b.person.tails[gap] = tail
                self._tails_kept += 1
        b.absorb(tail)
        return tail

    def answer(self, query: Query, regions: RegionLookup | None = None) -> Answer:
        """Answer one query (pure, no I/O). ``regions`` overrides the index given at load time.

        Raises UnknownRegion for an unknown region code and ValueError for inconsistent input
        (e.g. a gap that starts after the date of the question).
        """
        chain = self.chain(query.region_code, regions)
        scheme = scheme_of(query.insurance_type)
        gap, gap_since = _gap(query)
        b = _Build(chain, query, _effective_cause(query), gap, self._trace_cache, self._shown_cache, self.tables)
        missing: list[str] = []
        if scheme is Scheme.RESIDENT:
            core = _resident(b, query, gap)
        elif query.insurance_type is InsuranceType.RETIREE:
            core = _retiree(b, query, missing)
        else:
            core = _employee(b, query, gap, gap_since, missing)
        if gap is None and query.insurance_type is not InsuranceType.RETIREE:
            missing.insert(0, "gap_months")
        tail = self._tail(b)
        hotlines = tail.hotlines
        rule_level = next(lv for lv, r in LEVEL_RANK.items() if r == b.rank)
        notes = list(b.notes)
        if rule_level is Level.NATIONAL and chain.region.code != NATIONAL_CODE:
            notes.insert(0, NOTE_NATIONAL_ONLY)
        if core.cost is not None or (core.retiree is not None and core.retiree.lump_sum is not None):
            notes.append(NOTE_ESTIMATE)
        if b.content_site:
            notes.append(NOTE_CONTENT_SITE)
        notes.append("咨询电话：" + "、".join(hotlines))
        return Answer(
            region=chain.region,
            rule_level=rule_level,
            scheme=scheme,
            insurance_type=query.insurance_type,
            can_backpay=core.verdict,
            condition=core.condition,
            channels=tail.channels,
            materials=tail.materials,
            waiting_months=core.waiting_months,
            benefits_resume=core.resume,
            retroactive=core.retroactive,
            continuity_reset=core.continuity_reset,
            late_fee=core.late_fee,
            cost=core.cost,
            retiree=core.retiree,
            gap_months=gap,
            hotlines=hotlines,
            sources=tuple(b.sources.values()),
            notes=tuple(notes),
            trace=tuple(b.trace),
            missing_inputs=tuple(dict.fromkeys(missing)),
            local_rule=rule_level is not Level.NATIONAL,
            steps_apply_if=None,
            waiting_days=None,
            gap_days=None,
            backpay_deadline=core.deadline,
            re_enrol=None,
            employer_duty=None,
            disagreements=(),
            as_of=None,
        )


@dataclass(slots=True)
class _Core:
    verdict: BackpayVerdict
    condition: str | None
    waiting_months: int
    resume: date | None
    retroactive: bool
    continuity_reset: bool
    late_fee: LateFee
    cost: CostEstimate | None = None
    retiree: RetireeShortfall | None = None
    deadline: date | None = None  # last day paying keeps today's terms (for reminders)


# ------------------------------------------------------------------------------------------ helpers


def _gap(query: Query) -> tuple[int | None, date | None]:
    """Gap length in months and the first unpaid month (derived from each other when one is given)."""
    if query.gap_since is not None:
        since = query.gap_since.replace(day=1)
        if since > query.on:
            raise ValueError("断缴开始月份晚于提问日期")
        months = query.gap_months if query.gap_months is not None else months_between(since, query.on)
        return months, since
    if query.gap_months is not None:
        if query.gap_months < 0:
            raise ValueError("断缴月数不能为负数")
        return query.gap_months, first_of_month(query.on, -query.gap_months)
    return None, None


def _effective_cause(query: Query) -> Cause:
    """The cause rules are matched with: an unknown cause is answered as the person's own gap.

    Flexible workers pay themselves, so that is what they nearly always mean; for employees the
    answer also says what changes if the employer caused it, and asks for the cause.
    """
    return Cause.PERSONAL if query.cause is Cause.UNKNOWN else query.cause


def _with_when(item: ListItem, gap: int | None) -> str:
    # With the gap unknown, say when an item applies (e.g. "（断缴3个月及以上）").
    if gap is None and item.when.gap_bound:
        return f"{item.text}（{item.when.gap_text()}）"
    return item.text


def _work_out_tail(b: _Build) -> Tail:
    """Channels, materials, notes and hotlines for `b` (a fresh build), with what they recorded."""
    gap = b.gap
    channels = _items(b, "channels")
    materials = _items(b, "materials")
    _notes(b)
    hotlines = _hotlines(b)
    return Tail(
        channels=tuple(Channel(i.kind, _with_when(i, gap)) for i in channels),
        materials=tuple(_with_when(i, gap) for i in materials),
        hotlines=hotlines,
        trace=tuple(b.trace),
        sources=tuple(b.sources.values()),
        notes=tuple(b.notes),
        rank=b.rank,
        content_site=b.content_site,
    )


def _items(b: _Build, key: str) -> list[ListItem]:
    gap = b.gap
    out: list[ListItem] = []
    for e, items in b.person.lists[key]:
        for i in items:
            if i.when.matches_gap(gap):
                b.use(key, e, i.text, i.line)
                out.append(i)
    return out


def _notes(b: _Build) -> None:
    gap = b.gap
    for e in b.person.notes:
        item: ListItem = e.value
        if item.when.matches_gap(gap) if gap is not None else not item.when.gap_bound:
            b.use(e.key, e, item.text, item.line)
            b.note(item.text)


def _hotlines(b: _Build) -> tuple[str, ...]:
    out: list[str] = []
    for e in b.now.hotlines:
        b.use("hotlines", e, "、".join(e.value), e.line)
        out.extend(h for h in e.value if h not in out)
    return tuple(out)


def _bands(b: _Build) -> list[tuple[Entry, Band]]:
    """The gap bands in force for this person (type and cause), local bands before parents'."""
    return b.person.bands


def _outcome(pairs: list[tuple[Entry, Band]], itype: InsuranceType, cause: Cause, gap: int) -> _Outcome | None:
    """Each band field from the first matching band that sets it (local bands before parents')."""
    got: dict[str, Any] = {}
    used: list[tuple[str, Entry, Band]] = []
    for e, band in pairs:
        if not band.when.matches_person(itype, cause) or not band.when.matches_gap(gap):
            continue
        took = False
        for name in BAND_FIELDS:
            value = getattr(band, name)
            if value is not None and name not in got:
                got[name] = value
                took = True
                if name == "backpay":
                    got["condition"] = band.condition
                if name == "resume":
                    got["waiting_days"] = band.waiting_days
        if took or band.note:
            used.append(("band", e, band))
        if len(got) >= len(BAND_FIELDS) + 2:
            break
    if "backpay" not in got:
        return None
    return _Outcome(
        got["backpay"], got.get("condition"), got.get("waiting_months", 0), got.get("waiting_days"),
        got.get("resume", "next_month"), got.get("retroactive", False), got.get("continuity_reset", False),
        tuple(used),
    )


def _band_text(b: _Build, band: Band) -> str:
    """How the trace shows a gap band (once per band: bands are immutable)."""
    shown = b.shown_cache.get(id(band))
    if shown is None:
        shown = b.shown_cache[id(band)] = f"{band.when.gap_text() or '任何断缴时长'}：{band.backpay or '-'}"
    return shown


def _outcome_of(b: _Build, gap: int) -> _Outcome | None:
    """`_outcome` for `b`'s person and `gap`, kept in the person view's table (outcomes are immutable
    in use and depend on nothing else)."""
    if not b.tables or not 0 <= gap <= MAX_TABLED_GAP:
        return _outcome(b.person.bands, b.itype, b.cause, gap)
    table = b.person.outcomes
    if gap in table:
        return table[gap]
    found = table[gap] = _outcome(b.person.bands, b.itype, b.cause, gap)
    return found


def _resume_date(on: date, outcome: _Outcome) -> date:
    if outcome.resume == "after_waiting_days" and outcome.waiting_days:
        return on + timedelta(days=outcome.waiting_days)
    if outcome.resume == "after_waiting_months":
        return first_of_month(on, max(outcome.waiting_months, 1))
    return first_of_month(on, 1)


def _general(pairs: list[tuple[Entry, Band]], itype: InsuranceType, cause: Cause) -> str:
    """With the gap unknown: the outcome for each gap range, e.g. "断缴3个月及以内：可以补缴，…"."""
    points = {1}
    for _, band in pairs:
        if band.when.matches_person(itype, cause):
            for p in (band.when.min_months, band.when.max_months):
                if p is not None:
                    points.update({max(p, 1), p + 1})
    parts: list[tuple[int, int, str]] = []
    for g in sorted(points):
        o = _outcome(pairs, itype, cause, g)
        if o is None:
            continue
        desc = VERDICT_TEXT[o.backpay]
        if o.waiting_days:
            desc += f"，缴费后{o.waiting_days}天恢复待遇"
        elif o.waiting_months:
            desc += f"，等待期{o.waiting_months}个月"
        else:
            desc += "，缴费次月恢复待遇"
        if o.continuity_reset:
            desc += "，连续参保年限重新计算"
        if parts and parts[-1][2] == desc:
            parts[-1] = (parts[-1][0], g, desc)
        else:
            parts.append((g, g, desc))
    texts = []
    for i, (lo, _hi, desc) in enumerate(parts):
        hi = parts[i + 1][0] - 1 if i + 1 < len(parts) else None
        if hi is None:
            rng = f"断缴{lo}个月及以上" if lo > 1 else "任何断缴时长"
        elif lo <= 1:
            rng = f"断缴{hi}个月及以内"
        else:
            rng = f"断缴{lo}–{hi}个月" if lo != hi else f"断缴{lo}个月"
        texts.append(f"{rng}：{desc}")
    return "取决于断缴时长——" + "；".join(texts)


# ------------------------------------------------------------------------------------------ schemes


def _employee(b: _Build, q: Query, gap: int | None, gap_since: date | None, missing: list[str]) -> _Core:
    itype = q.insurance_type
    cause = _effective_cause(q)
    if itype is InsuranceType.FLEXIBLE and q.cause is Cause.UNKNOWN:
        b.note("灵活就业人员自行缴费，按个人原因断缴处理；如系单位原因，请说明")
    if itype is InsuranceType.UNEMPLOYED:
        fund = b.entry("unemployed_fund_pays")
        if fund is not None and fund.value:
            return _unemployed(b, q, gap, fund)
    pairs = _bands(b)
    probe = gap if gap is not None else 1
    outcome = _outcome_of(b, probe)
    if outcome is None:
        outcome = _Outcome(BackpayVerdict.CONDITIONAL, "未找到适用的补缴规定，请咨询当地医保经办机构",
                           0, None, "next_month", False, False, ())
    for _, e, band in outcome.used:
        b.use("gap_band", e, _band_text(b, band), band.line)
        if band.note:
            b.note(band.note)
    verdict, condition = outcome.backpay, outcome.condition
    if gap is None:
        general = _general(pairs, itype, cause)
        if len(general.split("；")) > 1 or verdict is not BackpayVerdict.YES:
            verdict = BackpayVerdict.CONDITIONAL if verdict is BackpayVerdict.YES else verdict
            condition = f"{condition}；{general}" if condition else general
    if q.cause is Cause.UNKNOWN and itype is InsuranceType.EMPLOYEE:
        missing.append("cause")
    late_fee = _late_fee_rule(b, q.cause if itype is InsuranceType.EMPLOYEE else cause)
    cost = _cost(b, q, itype, cause, gap, gap_since, late_fee, missing)
    if late_fee.daily_rate is not None and gap_since is not None:
        amount = cost.late_fee if cost is not None else None
        late_fee = LateFee(late_fee.daily_rate, late_fee.payer, _late_days(gap_since, q.on), amount,
                           late_fee.certain)
    if itype is InsuranceType.FLEXIBLE:
        window = b.value("declaration_window")
        if isinstance(window, DayWindow):
            _window_note(b, window, q.on)
    deadline = None
    if gap is not None and gap_since is not None and verdict is BackpayVerdict.YES:
        deadline = _terms_deadline(pairs, itype, cause, gap, gap_since, outcome)
    return _Core(
        verdict, condition, outcome.waiting_months, _resume_date(q.on, outcome), outcome.retroactive,
        outcome.continuity_reset, late_fee, cost, deadline=deadline,
    )


def _terms_deadline(pairs: list[tuple[Entry, Band]], itype: InsuranceType, cause: Cause, gap: int,
                    gap_since: date, outcome: _Outcome) -> date | None:
    """The last day on which paying back still gets today's terms (verdict, waiting period,
    retroactive claims, continuity): the day before the gap grows into a band with other terms.
    None when the terms never change within three years."""
    terms = (outcome.backpay, outcome.waiting_months, outcome.retroactive, outcome.continuity_reset)
    # Terms can only change where some band starts or ends, so only those gap lengths are tried.
    edges: set[int] = set()
    for _, band in pairs:
        if band.when.min_months is not None and band.when.min_months > gap:
            edges.add(band.when.min_months)
        if band.when.max_months is not None and band.when.max_months >= gap:
            edges.add(band.when.max_months + 1)
    for longer in sorted(e for e in edges if gap < e <= gap + 36):
        other = _outcome(pairs, itype, cause, longer)
        if other is None or (other.backpay, other.waiting_months, other.retroactive,
                             other.continuity_reset) != terms:
            return first_of_month(gap_since, longer) - timedelta(days=1)
    return None


def _late_fee_rule(b: _Build, cause: Cause) -> LateFee:
    rate = b.value("late_fee_daily_rate", "late_fee.daily_rate", None)
    payers = b.entry("late_fee_payer")
    payer = LateFeePayer.NONE
    if payers is not None:
        mapping: dict[Cause, LateFeePayer] = payers.value
        if cause is Cause.UNKNOWN:
            payer = mapping.get(Cause.PERSONAL, LateFeePayer.INSURED)
            b.note("若断缴是单位原因造成的，欠费和滞纳金由单位承担，个人无需缴纳滞纳金")
        else:
            payer = mapping.get(cause, LateFeePayer.NONE)
        b.use("late_fee.payer", payers, str(payer), payers.line)
        # Certain: the law binds employers; an individual's fee only where a local rule says so.
        certain = payer is LateFeePayer.EMPLOYER or payers.level is not Level.NATIONAL
        return LateFee(rate, payer, certain=certain)
    return LateFee(rate, payer)


def _late_days(gap_since: date | None, on: date) -> int | None:
    if gap_since is None:
        return None
    # The first unpaid month's contribution is overdue from the first day of the following month.
    return max(0, (on - first_of_month(gap_since, 1)).days)


def _base(b: _Build, q: Query, itype: InsuranceType) -> tuple[float | None, str]:
    """The monthly base to estimate with, and where it came from (Chinese)."""
    reference = b.value("base_reference", "cost.base_reference")
    limits: Range | None = b.value("base_limits", "cost.base_limits")
    if limits is None and reference is not None:
        ratio: Range | None = b.value("base_ratio_range", "cost.base_ratio_range")
        if ratio is not None:
            limits = Range(round(reference * ratio.low, 2), round(reference * ratio.high, 2))
    if q.monthly_base is not None:
        base, note = q.monthly_base, "按您提供的缴费基数"
        if limits is not None and not limits.low <= base <= limits.high:
            base = min(max(base, limits.low), limits.high)
            note = f"您提供的基数超出当地范围（{money(limits.low)}–{money(limits.high)}元），按{money(base)}元计算"
        return base, note
    if itype is InsuranceType.FLEXIBLE:
        share = b.value("flexible_base_ratio", "cost.flexible_base_ratio")
        if reference is not None and share is not None:
            return round(reference * share, 2), f"按当地缴费基准值{money(reference)}元的{pct(share)}"
        if limits is not None:
            return limits.low, f"按当地缴费基数下限{money(limits.low)}元"
        return None, ""
    if reference is not None:
        return reference, f"按当地缴费基准值（社平工资）{money(reference)}元"
    return None, ""


def _cost(b: _Build, q: Query, itype: InsuranceType, cause: Cause, gap: int | None, gap_since: date | None,
          late_fee: LateFee, missing: list[str]) -> CostEstimate | None:
    base, base_note = _base(b, q, itype)
    if base is None:
        missing.append("monthly_base")
    if gap is None or base is None:
        return None
    rate_text = ""
    if itype is InsuranceType.FLEXIBLE:
        rate = b.value("rate_flexible", "cost.rate")
        if rate is None:
            return None
        rate_text = pct(rate)
    else:
        er: EmployeeRate | None = b.value("rate_employee", "cost.rate")
        if er is None:
            return None
        rate = er.total
        if er.employer is not None and er.personal is not None:
            rate_text = f"{pct(rate)}（单位{pct(er.employer)}+个人{pct(er.personal)}）"
        elif er.total_max is not None:
            rate_text = f"{pct(rate)}（通常{pct(rate)}–{pct(er.total_max)}，按低值估算）"
        else:
            rate_text = pct(rate)
    monthly = base * rate
    principal = round(monthly * gap, 2)
    formula = f"{money(base)} × {rate_text} × {gap}个月 = {money(principal)}元"
    serious = 0.0
    serious_entry = b.entry("serious_illness")
    if serious_entry is not None:
        b.use("cost.serious_illness", serious_entry, b.short(serious_entry), serious_entry.line)
        if serious_entry.value is None:
            b.note("另需缴纳大病保险费，金额以当地规定为准（未计入估算）")
        else:
            serious = round(serious_entry.value * gap, 2)
            formula += f"；大病保险费 {money(serious_entry.value)} × {gap} = {money(serious)}元"
    late_amount = 0.0
    if late_fee.daily_rate is not None and gap_since is not None and gap > 0:
        # Each unpaid month is overdue from the first day of the month after it.
        total_days = 0
        on_ordinal = q.on.toordinal()
        next_month = gap_since.year * 12 + gap_since.month  # month index (0-based) of the month after
        for k in range(gap):
            year, month0 = divmod(next_month + k, 12)
            days = on_ordinal - date(year, month0 + 1, 1).toordinal()
            if days > 0:
                total_days += days
        late_amount = round((monthly + (serious / gap if gap else 0)) * late_fee.daily_rate * total_days, 2)
        formula += (f"；滞纳金 = 每月应缴 {money(monthly)} × {pct(late_fee.daily_rate)}/天 × 各月逾期天数合计"
                     f"{total_days}天 = {money(late_amount)}元")
    total = round(principal + serious + late_amount, 2)
    payer = "employer" if cause is Cause.EMPLOYER else "insured"
    person = 0.0 if payer == "employer" else total
    if late_fee.payer in (LateFeePayer.EMPLOYER, LateFeePayer.FUND, LateFeePayer.NONE) and payer == "insured":
        person = round(principal + serious, 2)
    formula += f"；合计 {money(total)}元"
    if payer == "employer":
        formula += "（由用人单位缴纳，个人无需承担滞纳金）"
    return CostEstimate(gap, base, rate, principal, serious, late_amount, total, formula, base_note, payer, person)


def _window_note(b: _Build, window: DayWindow, on: date) -> None:
    inside = on.day >= window.from_day or on.day <= window.to_day
    text = f"个人缴费人员每月{window.from_day}日至次月{window.to_day}日办理申报缴费"
    if not inside:
        text += f"；今天不在申报期内，下一申报期从本月{window.from_day}日开始"
    b.note(text)


def _unemployed(b: _Build, q: Query, gap: int | None, fund: Entry) -> _Core:
    b.use("can_backpay", fund, "失业保险基金代缴", fund.line)
    condition = "领取失业保险金期间的职工医保费由失业保险基金缴纳，个人不缴费；已不再领取失业金的，请按灵活就业人员参保缴费"
    ratio: float | None = b.value("unemployed_base_ratio", "cost.unemployed_base_ratio")
    reference: float | None = b.value("base_reference", "cost.base_reference") if ratio is not None else None
    months = gap or 0
    base = round(reference * ratio, 2) if reference is not None and ratio is not None else 0.0
    if base and reference is not None and ratio is not None:
        formula = f"失业保险基金按 {money(reference)} × {pct(ratio)} = {money(base)}元/月 为基数代缴；个人缴费 0元"
        base_note = f"当地上年职工平均工资的{pct(ratio)}"
    elif ratio is not None:
        formula = f"失业保险基金按当地上年职工平均工资的{pct(ratio)}为基数代缴；个人缴费 0元"
        base_note = f"当地上年职工平均工资的{pct(ratio)}"
    else:
        formula, base_note = "由失业保险基金代缴；个人缴费 0元", "由失业保险基金确定"
    cost = CostEstimate(months, base, 0.0, 0.0, 0.0, 0.0, 0.0, formula, base_note, "fund", 0.0)
    return _Core(BackpayVerdict.YES, condition, 0, first_of_month(q.on, 1), True, False,
                 LateFee(None, LateFeePayer.FUND, None, 0.0), cost)


def _retiree(b: _Build, q: Query, missing: list[str]) -> _Core:
    req_entry = b.entry("retiree_required_years")
    required: float | None = None
    if req_entry is not None:
        years: RequiredYears = req_entry.value
        shown = f"男{years.male:g}年/女{years.female:g}年"
        if years.local_min is not None:
            shown += f"（本地至少{years.local_min:g}年）"
        b.use("retiree.required_years", req_entry, shown, req_entry.line)
        if q.gender is not None:
            required = years.male if q.gender is Gender.MALE else years.female
        elif years.male == years.female:
            required = years.male
    else:
        b.note("职工医保退休享受待遇所需的最低缴费年限由各地规定，请向参保地医保经办机构确认")
    if q.years_paid is None:
        missing.append("years_paid")
    if q.gender is None and (req_entry is None or required is None):
        missing.append("gender")
    allowed: RetireeBackpay | None = b.value("retiree_backpay", "can_backpay")
    shortfall = None if required is None or q.years_paid is None else max(0.0, required - q.years_paid)
    lump, formula = None, ""
    if shortfall:
        lump, formula = _lump_sum(b, q, shortfall, missing)
    elif shortfall is None:
        # No shortfall to price yet: a published example cost is still worth showing (its note).
        b.value("retiree_cost_reference", "retiree.cost_reference")
    if shortfall == 0:
        verdict, condition = BackpayVerdict.NO, "缴费年限已达到当地规定，退休后不再缴费即可享受职工医保待遇，无需补缴"
    elif allowed is not None and not allowed.allowed:
        verdict, condition = BackpayVerdict.NO, "当地不允许退休人员补缴医保年限"
    elif shortfall is None:
        verdict = BackpayVerdict.CONDITIONAL
        condition = "缴费年限不足当地规定的，可以缴费至规定年限；需先确认当地规定年限和您已缴年限"
    else:
        verdict, condition = BackpayVerdict.YES, f"可一次性补缴差额{shortfall:g}年至规定年限"
        if allowed is not None and allowed.immediate:
            condition += "（资料齐全当场办结）"
    info = RetireeShortfall(required, q.years_paid, shortfall, lump, formula)
    return _Core(verdict, condition, 0, None, False, False, LateFee(None, LateFeePayer.NONE), None, info)


def _lump_sum(b: _Build, q: Query, shortfall: float, missing: list[str]) -> tuple[float | None, str]:
    base, base_note = _base(b, q, InsuranceType.EMPLOYEE)
    er: EmployeeRate | None = b.value("rate_employee", "retiree.rate") if base is not None else None
    if base is not None and er is not None:
        lump = round(base * er.total * 12 * shortfall, 2)
        return lump, f"{money(base)} × {pct(er.total)} × 12个月 × {shortfall:g}年 = {money(lump)}元（{base_note}）"
    ref: CostReference | None = b.value("retiree_cost_reference", "retiree.cost_reference")
    if ref is not None:
        lump = round(ref.per_year * shortfall, 2)
        return lump, (f"参考：补缴{ref.years:g}年约{money(ref.amount)}元，即每年约{money(ref.per_year)}元；"
                      f"{money(ref.per_year)} × {shortfall:g}年 = {money(lump)}元")
    missing.append("monthly_base")
    return None, ""


def _resident(b: _Build, q: Query, gap: int | None) -> _Core:
    rw_entry = b.entry("resident_waiting")
    deadline = b.entry("enrollment_deadline")
    if deadline is not None and deadline.value.year == q.on.year:
        b.use("enrollment_deadline", deadline, deadline.value.isoformat(), deadline.line)
        state = "尚未截止" if q.on <= deadline.value else "已截止"
        b.note(f"本年度居民医保集中参保缴费期延长至{deadline.value.isoformat()}（{state}）")
    condition = "城乡居民医保按年度缴费：断保期间的医疗费用不能报销；在集中参保期外参保或断保后再参保，需经过待遇等待期"
    if rw_entry is None:
        b.note("居民医保待遇等待期由当地规定，请咨询当地医保经办机构")
        return _Core(BackpayVerdict.CONDITIONAL, condition, 0, None, False, bool(gap),
                     LateFee(None, LateFeePayer.NONE))
    rw: ResidentWaiting = rw_entry.value
    if gap is None:
        waiting = rw.fixed_months
        years = None
    else:
        years = math.ceil(gap / 12) if gap > 0 else 0
        waiting = 0 if years == 0 else rw.fixed_months + rw.extra_per_break_year * max(0, years - 1)
    b.use("waiting_months", rw_entry, f"{waiting}个月", rw_entry.line)
    if years:
        floor = rw.long_break_min_months if years >= rw.long_break_years else rw.fixed_months
        best = max(floor, waiting - rw.repair_per_year * max(0, years - 1))
        if waiting > rw.fixed_months:
            b.note(f"断保约{years}年：等待期{waiting}个月；每补缴1年可减少{rw.repair_per_year}个月变动等待期，"
                   f"补缴后最短{best}个月")
    elif years is None:
        b.note(f"固定等待期{rw.fixed_months}个月；断保每多1年增加{rw.extra_per_break_year}个月，"
               f"断保{rw.long_break_years}年及以上修复后不少于{rw.long_break_min_months}个月")
    resume = add_months(q.on, waiting) if waiting else first_of_month(q.on, 1)
    return _Core(BackpayVerdict.CONDITIONAL, condition, waiting, resume, False, bool(years) or years is None,
                 LateFee(None, LateFeePayer.NONE))
