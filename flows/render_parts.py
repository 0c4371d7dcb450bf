"""The parts behind the answer card's buttons: each answers one follow-up (the cost, where to go
and what to bring, the payment window, when insurance works again, what to do now, the basis),
local facts first and never cut, with the sources behind it.
"""

from __future__ import annotations

import re
from datetime import date

from flows import texts
from flows.answer_facts import Facts, facts_of
from flows.answer_lines import (
    basis_line,
    cost_rows,
    heading,
    hotlines,
    how_line,
    if_paid_today,
    is_no,
    money,
    tagged,
    verdict_line,
    wait_phrase,
)
from flows.messages import OutMessage
from policies import wording
from policies.model import Answer, Channel, KeepPaying, ReEnrolment, Scheme

MAX_GENERIC_NOTES = 6  # national generic notes behind 依据和说明; local facts are never capped
MAX_SOURCES = 8
TOPICS = ("backpay", "window", "cost", "where", "when", "now", "why")
KEEP_PAYING_TOPICS = ("backpay", "where", "now")  # the parts that say how to keep paying (no gap, left a job)


def _cost_part(answer: Answer, facts: Facts) -> list[str | None]:
    if is_no(answer):
        return [texts.NO_COST_AFTER_NO]
    duty = answer.employer_duty
    if duty is not None:
        lines = [f"💰 单位原因断缴：{duty.employer_pays}由单位补缴，个人不用交。",
                 *(f"• {step}" for step in duty.steps)]
        return ["\n".join(lines), _late_fee_line(answer)]
    cost = answer.cost
    if answer.retiree is not None and cost is None:  # topping up years: the lump sum is the cost
        return _retiree_cost(answer, facts)
    if cost is None:
        unknown = texts.COST_NEEDS_BASE if "monthly_base" in answer.missing_inputs else texts.COST_UNKNOWN
        return [unknown, _late_fee_line(answer), _retiree_line(answer)]
    scope = f"（仅适用于：{answer.steps_apply_if}）" if answer.steps_apply_if else ""
    lines = ["💰 费用估算" + scope + (f" · {facts.national.cost}" if facts.national.cost else ""),
             f"计算：{cost.formula}"]
    lines.extend(f"{label} {amount}" for label, amount in cost_rows(answer, facts))
    if cost.base_note:
        lines.append(cost.base_note)
    return ["\n".join(lines), _late_fee_line(answer), _retiree_line(answer)]


def _retiree_cost(answer: Answer, facts: Facts) -> list[str | None]:
    """The lump sum when it is known (its rate said national when it is), else what it needs first;
    a published example (江西's 10 years) either way."""
    r = answer.retiree
    examples = [f"📌 {n}" for n in facts.cost_notes]
    if r is not None and r.lump_sum is not None:
        tag = f" · {facts.national.cost}" if facts.national.cost else ""
        return [f"💰 费用估算{tag}", _retiree_line(answer), *examples]
    if r is None or r.shortfall_years is None:
        return [texts.RETIREE_COST_NEEDS_YEARS, *examples]
    unknown = texts.COST_NEEDS_BASE if "monthly_base" in answer.missing_inputs else texts.COST_UNKNOWN
    return [unknown, _retiree_line(answer), *examples]


def _late_fee_line(answer: Answer) -> str | None:
    text = wording.late_fee_text(answer.late_fee)
    return f"⏱ 滞纳金：{text}" if text else None


def _retiree_line(answer: Answer) -> str | None:
    r = answer.retiree
    if r is None or r.shortfall_years is None:
        return None
    line = f"🧓 退休年限：当地要求{r.required_years:g}年，已缴{r.years_paid:g}年，还差{r.shortfall_years:g}年"
    if r.lump_sum is not None:
        line += f"；一次性补足约{money(r.lump_sum)}"
    return line + (f"（{r.formula}）" if r.formula else "")


_DETAIL = re.compile(r"^(.*?)\s*[（(]([^（）()]*)[）)]$")


def _split(name: str) -> tuple[str, str]:
    """"…App（填写补缴信息…）" -> ("…App", "填写补缴信息…")."""
    found = _DETAIL.match(name.strip())
    return (found.group(1), found.group(2)) if found else (name.strip(), "")


def _kind_line(label: str, channels: list[Channel], national: frozenset[str], every: bool) -> str:
    """All channels of one kind on one line ("线上：A，或B（全国通行做法），均可…"): a detail they
    share is said once; a national channel among local ones is said to be national."""
    split = [_split(c.name) for c in channels]
    details = {d for _, d in split}
    shared = details.pop() if len(details) == 1 and len(split) > 1 else None
    names = []
    for c, (name, detail) in zip(channels, split, strict=True):
        said = [None if shared is not None else detail,
                texts.NATIONAL_PRACTICE_SHORT if c.name in national and not every else None]
        names.append(name + tagged("；".join(x for x in said if x)))
    line = f"{label}：" + "，或".join(names)
    if shared:
        line += f"，均可{shared.removeprefix('也可')}" if not shared.startswith("也可") else f"；{shared}"
    return line


def channel_lines(channels: tuple[Channel, ...], national: frozenset[str] = frozenset()) -> list[str]:
    """One line per kind (never two "线上：" lines), national channels said so beside a local one."""
    every = bool(channels) and all(c.name in national for c in channels)
    by_kind = ((label, [c for c in channels if c.kind == kind]) for kind, label in (("online", "线上"), ("offline", "线下")))
    return [_kind_line(label, same, national, every) for label, same in by_kind if same]


def _where_part(answer: Answer, facts: Facts) -> list[str | None]:
    if is_no(answer):
        return _now_part(answer, facts)
    scope = f"（仅适用于：{answer.steps_apply_if}）" if answer.steps_apply_if else ""
    national = facts.national.channels
    every = bool(answer.channels) and all(c.name in national for c in answer.channels)
    head = f"🏢 去哪办{scope}" + (f" · {texts.NATIONAL_TAG}" if every else "")
    lines = channel_lines(answer.channels, national)
    parts: list[str | None] = [head + "\n" + "\n".join(lines) if lines else None]
    if answer.materials:
        parts.append(f"📄 带什么{tagged(facts.national.materials)}：\n" + "\n".join(f"• {m}" for m in answer.materials))
    parts.extend(f"📌 {n}" for n in facts.timing_notes)
    parts.append(hotlines(answer))
    return parts


def _window_part(answer: Answer, facts: Facts) -> list[str | None]:
    """"几号申报": the local payment and declaration windows, or plainly that none is known (a
    resident's enrolment period that has ended is known: said, with whom to ask about joining now)."""
    if answer.enrolment_closed is not None:
        closed = texts.ENROLMENT_CLOSED.format(day=answer.enrolment_closed.isoformat())
        return [f"📌 {closed}", *(f"📌 {n}" for n in facts.timing_notes), how_line(answer, facts, card=False)]
    if not facts.timing_notes:
        region = answer.region.full_name or answer.region.name
        unknown = texts.NO_ENROLMENT_WINDOW_KNOWN if answer.scheme is Scheme.RESIDENT else texts.NO_WINDOW_KNOWN
        return [unknown.format(region=region), how_line(answer, facts, card=False)]
    return [*(f"📌 {n}" for n in facts.timing_notes), how_line(answer, facts, card=False)]


def _when_part(answer: Answer, facts: Facts) -> list[str | None]:
    if answer.retiree is not None:  # topping up years: no wait, no gap-period claims (the card says none)
        return ["🗓 什么时候能用：" + texts.RETIREE_WHEN, *(f"📌 {n}" for n in facts.waiting_notes)]
    if is_no(answer):
        r = answer.re_enrol
        benefits = r.benefits_from if r else "按新参保人员享受待遇"
        lines = ["🗓 这段断缴一般补不上，重新参保后：" + benefits + tagged(facts.national.re_enrol, benefits)]
        if r is not None and r.benefits_resume:
            lines.append(f"如今天重新参保，预计{r.benefits_resume.isoformat()}起可报销")
        lines.extend(r.loses if r is not None else ())
        return ["\n".join(lines), *(f"📌 {n}" for n in facts.waiting_notes)]
    known = answer.waiting_months is not None or answer.waiting_days is not None
    when = wait_phrase(answer, facts, card=False) if known else "等待期" + wording.wait_text(answer)
    if answer.enrolment_closed is not None:  # no date: whether the region takes enrolment now is local
        when += "；" + texts.ENROLMENT_CLOSED.format(day=answer.enrolment_closed.isoformat())
    if answer.benefits_resume:
        when += f"；{if_paid_today(answer)}，预计{answer.benefits_resume.isoformat()}起恢复报销（住院、门诊都从这天起）"
    claim = answer.retroactive
    if answer.employer_duty is not None and answer.employer_duty.claimable_after_payment is not None:
        claim = answer.employer_duty.claimable_after_payment
    lines = [
        "🗓 什么时候能用：" + when,
        "断缴期间的医药费：" + wording.retroactive_text(claim),
        "连续缴费年限：" + wording.continuity_text(answer.continuity_reset),
    ]
    return ["\n".join(lines), *(f"📌 {n}" for n in facts.waiting_notes)]


def _now_part(answer: Answer, facts: Facts) -> list[str | None]:
    if not is_no(answer):  # "那怎么办" after a yes: how to back-pay (an employer's gap: its steps)
        if answer.employer_duty is not None:
            return [verdict_line(answer), *_cost_part(answer, facts)[:1], *_where_part(answer, facts)]
        # A conditional answer that may come to a "no" also says what to do then.
        r = answer.re_enrol
        otherwise = [texts.IF_NOT_ALLOWED + "\n" + "\n".join(_re_enrol_lines(r, facts))] if r is not None else []
        return [verdict_line(answer), *_where_part(answer, facts), *otherwise]
    r = answer.re_enrol
    lines = [f"原因：{answer.condition}"] if answer.condition else []
    if r is None:
        lines += [] if answer.no_gap else [texts.NOW_AFTER_NO]
        return ["\n".join(lines), hotlines(answer)]
    lines.extend(_re_enrol_lines(r, facts))
    sources = "；".join(wording.source_line(s) for s in r.sources)
    return ["\n".join(lines), *(f"📌 {n}" for n in facts.reenrol_notes),
            f"📚 依据：{sources}" if sources else None, hotlines(answer)]


def _keep_paying_part(answer: Answer, keep: KeepPaying, facts: Facts) -> list[str | None]:
    """Left a job, no gap yet: the verdict (the old employer no longer pays), the ways to keep paying,
    where to pay as a flexible worker (national channels said so), and the sources of all of it."""
    lines = [f"➡️ 现在怎么办{tagged(facts.national.keep_paying)}：", *(f"• {way}" for way in keep.ways)]
    national = facts.national.keep_channels
    every = bool(keep.channels) and all(c.name in national for c in keep.channels)
    where = channel_lines(keep.channels, national)
    if where:
        lines += [texts.KEEP_PAYING_WHERE + tagged(texts.NATIONAL_TAG if every else None) + "：", *where]
    sources = "；".join(wording.source_line(s) for s in keep.sources)
    return [verdict_line(answer), "\n".join(lines), f"📚 依据：{sources}" if sources else None, hotlines(answer)]


def _re_enrol_lines(r: ReEnrolment, facts: Facts) -> list[str]:
    lines = [f"➡️ 现在怎么办：{r.how}{tagged(facts.national.re_enrol)}", *channel_lines(r.channels)]
    if r.materials:
        lines.append("带：" + "、".join(r.materials))
    lines.append("待遇：" + r.benefits_from)
    if r.loses:
        lines.append("影响：" + "；".join(r.loses))
    return lines


def _why_part(answer: Answer, facts: Facts) -> list[str | None]:
    parts: list[str | None] = [verdict_line(answer), basis_line(answer, facts)]
    if facts.local_notes:
        parts.append("📌 本地规定：\n" + "\n".join(f"• {n}" for n in facts.local_notes))
    if facts.disagreements:
        said = [d.removeprefix(wording.DISAGREE_PREFIX) for d in facts.disagreements]
        parts.append("🔀 " + wording.DISAGREE_PREFIX + "\n" + "\n".join(f"• {d}" for d in said))
    if facts.generic_notes:
        parts.append("ℹ️ 一般说明：\n" + "\n".join(f"• {n}" for n in facts.generic_notes[:MAX_GENERIC_NOTES]))
    src = [f"• {wording.source_line(s)}" for s in answer.sources[:MAX_SOURCES]]
    parts.append("📚 来源：\n" + "\n".join(src) if src else None)
    return parts


def _backpay_part(answer: Answer, facts: Facts) -> list[str | None]:
    if is_no(answer):
        return [verdict_line(answer), *_now_part(answer, facts)]
    return [verdict_line(answer), how_line(answer, facts, card=False)]


# The trace fields (prefixes) whose sources back each part.
TOPIC_FIELDS: dict[str, tuple[str, ...]] = {
    "backpay": ("gap_band", "can_backpay", "retiree.", "enrollment_deadline", "channels"),
    "cost": ("cost.", "late_fee.", "retiree."),
    "when": ("gap_band", "waiting_months", "enrollment_deadline", "retiree.", "note:retiree_benefits"),
    "where": ("channels", "materials", "hotlines", "declaration_window"),
    "window": ("declaration_window", "enrollment_deadline", "channels"),
    "now": ("gap_band", "can_backpay", "channels", "re_enrol"),
}
# For an employer-caused gap the cost part states the employer's duty (no estimate for the person)
# and the claims line comes from that duty: its sources, not the estimate's base or rate.
EMPLOYER_TOPIC_FIELDS: dict[str, tuple[str, ...]] = {
    "cost": ("employer_duty", "late_fee."),
    "when": ("gap_band", "waiting_months", "enrollment_deadline", "employer_duty"),
}
_PARTS = {
    "backpay": _backpay_part, "window": _window_part, "cost": _cost_part, "where": _where_part,
    "when": _when_part, "now": _now_part, "why": _why_part,
}


def _sources_line(answer: Answer, topics: tuple[str, ...] | set[str] | frozenset[str]) -> str | None:
    """The sources behind the asked parts (all of them when the trace names none)."""
    table = {**TOPIC_FIELDS, **EMPLOYER_TOPIC_FIELDS} if answer.employer_duty is not None else TOPIC_FIELDS
    fields = tuple(f for t in sorted(topics) for f in table.get(t, ()))
    used = {ref for t in answer.trace if t.field.startswith(fields) for ref in t.sources}
    sources = [s for s in answer.sources if s.id in used] or list(answer.sources)
    if not sources:
        return None
    return "📚 依据：" + "；".join(wording.source_line(s) for s in sources[:MAX_SOURCES])


Topics = tuple[str, ...] | set[str] | frozenset[str]


def topic_parts(answer: Answer, on: date, topics: Topics) -> list[str]:
    """The paragraphs answering `topics` (with their sources), without heading or disclaimer."""
    facts = facts_of(answer, on)
    parts: list[str | None] = []
    for topic in TOPICS:
        if topic in topics:  # nothing to pay back: no when, cost or where of a back-payment
            nothing_due = answer.no_gap and topic != "why"
            keep = answer.keep_paying if topic in KEEP_PAYING_TOPICS else None
            if nothing_due and keep is not None:  # left a job: how to keep paying, and where
                parts.extend(_keep_paying_part(answer, keep, facts))
            else:
                parts.extend([verdict_line(answer), hotlines(answer)] if nothing_due else _PARTS[topic](answer, facts))
    if not any(p and p.startswith("📚") for p in parts):  # a part may cite its own (after a "no")
        parts.append(_sources_line(answer, topics))
    return list(dict.fromkeys(p for p in parts if p))


def render_topic(answer: Answer, on: date, topics: Topics, gap: str | None = None) -> OutMessage:
    """One message answering follow-ups ("要交多少钱", "带什么材料") about an answer already given."""
    parts = [heading(answer, gap), *topic_parts(answer, on, topics), texts.DISCLAIMER]
    return OutMessage("\n\n".join(dict.fromkeys(parts)))


def says_more(answer: Answer, on: date, topic: str) -> bool:
    """Whether the part behind `topic` says more than the card's verdict, a hotline, its sources or
    that the figure is unknown: a card offers a part's button only then (聊城's closed enrolment has
    no cost to show, so no 费用明细)."""
    said = {verdict_line(answer), hotlines(answer), texts.COST_UNKNOWN}
    return any(p not in said and not p.startswith("📚") for p in topic_parts(answer, on, {topic}))
