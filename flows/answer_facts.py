"""What the chat renderer needs to know about an answer beyond its fields, worked out in one place.

Which notes are local facts (they rank first and are never cut), which are national generic notes,
which report a disagreement between sources, whether the verdict came from a local rule, how sure
it is, which parts are only national defaults, and the dates of its timeline.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from flows import texts
from policies import wording
from policies.model import Answer, Confidence, LateFeePayer, Level, TraceEntry

_DISAGREE = ("另有来源称", "来源说法不一")
_TIMING = ("申报缴费", "申报时间", "缴费时间", "日至", "号至", "截止", "期限", "窗口期")
# (a local verdict's note that its claims or continuity are national practice belongs with the wait)
_WAITING = ("等待期", "待遇", "恢复", "减少", "缩短", "少等", "全国通行做法")
_REENROL = ("重新参保", "新参保", "首次参保", "参保登记")
_COST = ("费用约", "大病保险费")
_VERDICT_FIELDS = ("gap_band", "can_backpay", "retiree.", "enrollment_deadline", "no_gap")
_ORDER = (Confidence.OFFICIAL, Confidence.OFFICIAL_REPLY, Confidence.CONTENT_SITE)


@dataclass(frozen=True, slots=True)
class National:
    """Which parts of an answer are only national defaults: the region has no rule of its own for
    them. Each is a tag to show beside the part ("全国通行做法，以当地为准", or "全国统一规定" for a
    national official rule such as 国办发〔2024〕38号's wait), or None when the part is local."""

    said_first: bool  # the answer opens by saying all of it is national practice (NATIONAL_FIRST)
    channels: frozenset[str]  # names of back-pay channels that are national
    materials: str | None  # every material is national
    wait: str | None
    cost: str | None  # the estimate uses a national rate or base
    re_enrol: str | None  # what to do after a "no"
    keep_paying: str | None = None  # how to keep paying after leaving a job (no gap yet)
    keep_channels: frozenset[str] = frozenset()  # names of its channels that are national

    def card(self, tag: str | None) -> str | None:
        """A tag as the card shows it: not when its first line already says it is all national."""
        return None if self.said_first else tag


@dataclass(frozen=True, slots=True)
class Facts:
    local_rule: bool
    confidence: Confidence
    local_notes: tuple[str, ...]
    generic_notes: tuple[str, ...]
    disagreements: tuple[str, ...]
    timing_notes: tuple[str, ...]  # payment and declaration windows (local first)
    waiting_notes: tuple[str, ...]  # waiting period and its reductions
    reenrol_notes: tuple[str, ...]  # what a new enrolment involves
    cost_notes: tuple[str, ...]  # published example costs, what a contribution may include
    late_fee_uncertain: bool  # an individual's late fee that is only local practice (never in a total)
    uncertain_late_fee: float | None  # its possible amount, when known
    gap_start: str | None
    paid_on: str
    waiting_ends: str | None
    benefits_resume: str | None  # after paying back, or after enrolling again (a "no")
    national: National


def _short_names(answer: Answer) -> tuple[str, ...]:
    """The region's name as people write it ("天津市" -> "天津")."""
    name = answer.region.name
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市", "区", "县"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return (name, name[: -len(suffix)])
    return (name,)


def _local_texts(answer: Answer) -> set[str]:
    return {t.value for t in answer.trace if t.level is not Level.NATIONAL}


def _is_local(note: str, local_values: set[str], names: tuple[str, ...]) -> bool:
    return note in local_values or any(n in note for n in names)


def _confidence(answer: Answer) -> Confidence:
    """The confidence of the sources behind the verdict (the weakest of them), else of all sources."""
    by_id = {s.id: s.confidence for s in answer.sources}
    used = [by_id[ref] for t in answer.trace if t.field.startswith(_VERDICT_FIELDS) for ref in t.sources
            if ref in by_id]
    pool = used or [s.confidence for s in answer.sources] or [Confidence.CONTENT_SITE]
    return max(pool, key=_ORDER.index)


def _late_fee_uncertain(answer: Answer) -> bool:
    """A late fee on the insured person that no local rule states is only "some regions charge it"."""
    fee = answer.late_fee
    return fee.payer is LateFeePayer.INSURED and bool(fee.daily_rate) and not fee.certain


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _tag(answer: Answer, entries: list[TraceEntry]) -> str | None:
    """The tag for a part read from `entries`: None when any of them is local (or there are none)."""
    if not entries or any(t.level is not Level.NATIONAL for t in entries):
        return None
    by_id = {s.id: s.confidence for s in answer.sources}
    refs = [by_id.get(ref) for t in entries for ref in t.sources]
    official = bool(refs) and all(c is Confidence.OFFICIAL for c in refs)
    return texts.NATIONAL_RULE_TAG if official else texts.NATIONAL_TAG


def _fields(answer: Answer, *names: str) -> list[TraceEntry]:
    return [t for t in answer.trace if t.field in names or t.field.startswith(tuple(n + "." for n in names))]


def _cost_tag(answer: Answer) -> str | None:
    """An estimate at a national rate, or on a base that is a national share of the local average
    (read only when the person gave no base), is national practice; a national 60–300% range that
    only bounds the person's own base is not the estimate's figure."""
    national = {t.field for t in answer.trace if t.level is Level.NATIONAL}
    if answer.cost is None:  # a retiree's lump sum at the national rate
        lump = answer.retiree is not None and answer.retiree.lump_sum is not None
        return texts.NATIONAL_COST_TAG if lump and "retiree.rate" in national else None
    if "cost.rate" in national:
        return texts.NATIONAL_COST_TAG
    return texts.NATIONAL_BASE_TAG if "cost.flexible_base_ratio" in national else None


def national_of(answer: Answer) -> National:
    """Which parts of `answer` are national defaults, from the levels its trace records."""
    channels = _fields(answer, "channels")
    national_channels = frozenset(
        c.name for c in answer.channels
        if (found := [t for t in channels if c.name == t.value or c.name.startswith(t.value + "（")])
        and _tag(answer, found)
    )
    return National(
        said_first=wording.headline(answer) in wording.NATIONAL_FIRST,
        channels=national_channels,
        materials=_tag(answer, _fields(answer, "materials")) if answer.materials else None,
        wait=_tag(answer, _fields(answer, "waiting_months")),
        cost=_cost_tag(answer),
        re_enrol=_tag(answer, _fields(answer, "re_enrol")) if answer.re_enrol else None,
        # the ways alone (their channels may be local when the ways are national)
        keep_paying=_tag(answer, [t for t in answer.trace if t.field == "keep_paying"])
        if answer.keep_paying else None,
        keep_channels=frozenset(t.value for t in answer.trace
                                if t.field == "keep_paying.channels" and _tag(answer, [t])),
    )


def facts_of(answer: Answer, on: date) -> Facts:
    """Everything the renderer derives from one answer to a question asked on `on`."""
    local_values, names = _local_texts(answer), _short_names(answer)
    notes = [n for n in answer.notes if not n.startswith("咨询电话")]
    disagreements = tuple(dict.fromkeys([*answer.disagreements, *(n for n in notes if n.startswith(_DISAGREE))]))
    rest = [n for n in notes if n not in disagreements and not n.startswith(_DISAGREE)]
    local = tuple(dict.fromkeys(n for n in rest if _is_local(n, local_values, names)))
    generic = tuple(n for n in rest if n not in local)
    ordered = local + generic
    gap_start = None
    if answer.gap_months:
        gap_start = _add_months(on.replace(day=1), -answer.gap_months).isoformat()
    resume = answer.benefits_resume or (answer.re_enrol.benefits_resume if answer.re_enrol else None)
    waiting_ends = None
    if resume and (answer.waiting_months or answer.waiting_days or (answer.re_enrol and answer.re_enrol.waiting_months)):
        waiting_ends = date.fromordinal(resume.toordinal() - 1).isoformat()
    return Facts(
        local_rule=answer.local_rule,
        confidence=_confidence(answer),
        local_notes=local,
        generic_notes=generic,
        disagreements=disagreements,
        timing_notes=tuple(n for n in ordered if any(w in n for w in _TIMING)),
        waiting_notes=tuple(n for n in ordered if any(w in n for w in _WAITING)),
        reenrol_notes=tuple(n for n in ordered if any(w in n for w in _REENROL)),
        cost_notes=tuple(n for n in ordered if any(w in n for w in _COST)),
        late_fee_uncertain=(uncertain := _late_fee_uncertain(answer)),
        uncertain_late_fee=answer.late_fee.amount if uncertain else None,
        gap_start=gap_start,
        paid_on=on.isoformat(),
        waiting_ends=waiting_ends,
        benefits_resume=resume.isoformat() if resume else None,
        national=national_of(answer),
    )

