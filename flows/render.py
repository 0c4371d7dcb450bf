"""Render the engine's answer for chat: a short card first, each part behind its own button.

The card (at most `CARD_MAX_CHARS` characters) says the verdict with its reason, how to do it (or,
after a "no", what to do now), when insurance works again, the cost when known, and whether a
local rule or national practice decided it. The parts (`render_topic`) answer one follow-up each:
cost, where/what to bring, when it works, what to do now, and the basis (local facts first, never
cut). Labels and sentences shared with the command line come from `policies.wording`.
"""

from __future__ import annotations

import re
from datetime import date

from flows import texts
from flows.answer_facts import Facts, facts_of
from flows.messages import OutMessage
from flows.views import AnswerView, Timeline
from policies import wording
from policies.model import Answer, BackpayVerdict, Channel, ReEnrolment

CARD_MAX_CHARS = 350
MAX_GENERIC_NOTES = 6  # national generic notes behind 依据和说明; local facts are never capped
MAX_SOURCES = 8

VERDICT_LABELS = {
    BackpayVerdict.YES: "✅ " + wording.VERDICT_TEXT[BackpayVerdict.YES],
    BackpayVerdict.CONDITIONAL: "⚠️ " + wording.VERDICT_TEXT[BackpayVerdict.CONDITIONAL],
    BackpayVerdict.NO: "❌ " + wording.VERDICT_TEXT[BackpayVerdict.NO],
}
CONFIDENCE_LABELS = wording.CONFIDENCE_LABEL
TOPICS = ("backpay", "window", "cost", "where", "when", "now", "why")


def money(value: float) -> str:
    return wording.money(value) + "元"


def heading(answer: Answer, gap: str | None = None) -> str:
    """"📍 region · type · 断缴…"; `gap` replaces the answer's own gap (a loose "约3–4个月")."""
    region = answer.region.full_name or answer.region.name
    kind = texts.TYPE_LABELS.get(str(answer.insurance_type), str(answer.insurance_type))
    gap = gap or wording.gap_text(answer)
    return f"📍 {region} · {kind}" + (f" · 断缴{gap}" if gap else "")


def _verdict_line(answer: Answer, room: int | None = None) -> str:
    """The verdict with its reason; with `room`, a long reason is cut to fit (the full one is one tap
    away, under 依据和说明)."""
    if answer.no_gap:  # nothing to pay back: no verdict on back-pay at all
        return "结论：✅ " + wording.verdict_text(answer)
    verdict = "结论：" + VERDICT_LABELS[answer.can_backpay]
    condition = answer.condition or ""
    if room is not None and len(verdict) + 2 + len(condition) > room:
        keep = max(room - len(verdict) - 2 - len(texts.CUT_REASON), 12)
        condition = condition[:keep] + texts.CUT_REASON
    return verdict + (f"——{condition}" if condition else "")


def _is_no(answer: Answer) -> bool:
    return answer.can_backpay is BackpayVerdict.NO


def _short(name: str) -> str:
    """A channel's name without its parenthesised details ("…窗口（也可到税务…）" -> "…窗口")."""
    short = re.sub(r"\s*[（(][^（）()]*[）)]$", "", name.strip())
    return short or name.strip()


def _ways(channels: tuple[Channel, ...]) -> str | None:
    online = [_short(c.name) for c in channels if c.kind == "online"]
    offline = [_short(c.name) for c in channels if c.kind == "offline"]
    ways = [f"线上（{online[0]}）" if online else "", f"线下（{offline[0]}）" if offline else ""]
    return "或".join(w for w in ways if w) or None


def _how_line(answer: Answer) -> str | None:
    if _is_no(answer):
        r = answer.re_enrol
        return "现在：" + (r.how if r is not None else texts.NOW_SHORT)
    ways = _ways(answer.channels)
    if ways is None:
        return None
    scope = f"（仅适用于：{answer.steps_apply_if}）" if answer.steps_apply_if else ""
    return f"办理{scope}：{ways}"


def _when_short(answer: Answer) -> str:
    if _is_no(answer):
        r = answer.re_enrol
        if r is not None and r.waiting_months:
            return f"能用：重新参保后等待{r.waiting_months}个月"
        return "能用：重新参保后按新参保人员享受待遇"
    if answer.waiting_months is None and answer.waiting_days is None:
        return f"能用：等待期{wording.wait_text(answer)}"
    waited = bool(answer.waiting_months or answer.waiting_days)
    line = "能用：" + (f"补缴后等待期{wording.wait_text(answer)}" if waited else "补缴后不设等待期")
    if answer.benefits_resume:
        line += f"，{_if_paid_today(answer)}，约{answer.benefits_resume.isoformat()}起可报销"
    return line


def _if_paid_today(answer: Answer) -> str:
    """Who pays decides whose "today" it is: an employer-caused gap is paid by the employer."""
    return "如单位今天补缴" if answer.employer_duty is not None else "如今天补缴"


def _cost_short(answer: Answer, facts: Facts) -> str | None:
    if _is_no(answer):
        return None
    if answer.employer_duty is not None:
        return f"费用：{answer.employer_duty.employer_pays}由单位补缴，个人不用交"
    cost = answer.cost
    if cost is None:
        return None
    owed = cost.person_pays if cost.person_pays is not None else cost.total
    if cost.payer in ("employer", "fund") and not owed:
        return "费用：单位（或基金）承担，个人不用交"
    line = f"费用：约{money(owed)}"
    if facts.late_fee_uncertain:
        line += "（不含可能的滞纳金）"
    return line


def _basis_line(answer: Answer, facts: Facts) -> str:
    level = texts.LOCAL_RULE if facts.local_rule else texts.NATIONAL_PRACTICE
    as_of = f" · {wording.as_of_text(answer.as_of)}" if answer.as_of else ""
    disagree = f" · {texts.SOURCES_DISAGREE}" if facts.disagreements else ""
    return f"依据：{level} · {CONFIDENCE_LABELS[facts.confidence]}{as_of}{disagree} · 咨询12393"


def render_card(
    answer: Answer, on: date, prefix: str | None = None, changed: tuple[str, ...] = (), gap: str | None = None
) -> OutMessage:
    """The first answer: at most CARD_MAX_CHARS characters, with the structured view attached.
    `gap` replaces the heading's gap (a loose "约3–4个月" answered for one of its values)."""
    facts = facts_of(answer, on)
    tail = _basis_line(answer, facts)
    lines = _card_lines(answer, facts, prefix, None, gap)
    overflow = _length([*lines, tail]) - CARD_MAX_CHARS
    if overflow > 0:  # a long reason (宁波 lists its cases) is cut first, then the echo shortened
        room = len(_verdict_line(answer)) - overflow
        lines = _card_lines(answer, facts, prefix, room, gap)
        if _length([*lines, tail]) > CARD_MAX_CHARS and prefix:
            lines = _card_lines(answer, facts, texts.UPDATED if changed else None, room, gap)
    # Local facts as far as the card has room; all of them are behind 依据和说明 (and 去哪办).
    for fact in facts.local_notes:
        if _length([*lines, "📌 " + fact, tail]) <= CARD_MAX_CHARS:
            lines.append("📌 " + fact)
    body = "\n".join(lines)
    if len(body) + 1 + len(tail) > CARD_MAX_CHARS:  # last resort; the basis line is always kept
        body = body[: CARD_MAX_CHARS - len(tail) - 2] + "…"
    return OutMessage(body + "\n" + tail, view=_view(answer, facts, changed))


def _card_lines(answer: Answer, facts: Facts, prefix: str | None, room: int | None, gap: str | None) -> list[str]:
    if answer.no_gap:  # nothing to pay back: no how, when or cost
        return [line for line in (prefix, heading(answer), _verdict_line(answer)) if line]
    return [line for line in (
        prefix, wording.headline(answer), heading(answer, gap), _verdict_line(answer, room),
        _how_line(answer), _when_short(answer), _cost_short(answer, facts),
    ) if line]


def _length(lines: list[str]) -> int:
    return sum(len(line) for line in lines) + max(len(lines) - 1, 0)


def _cost_rows(answer: Answer, facts: Facts) -> tuple[tuple[str, str], ...]:
    cost = answer.cost
    if cost is None or _is_no(answer):
        return ()
    rows = [("本金", money(cost.principal))]
    if cost.serious_illness:
        rows.append(("大病保险", money(cost.serious_illness)))
    if cost.late_fee:
        rows.append(("滞纳金", money(cost.late_fee)))
    rows.append(("合计", money(cost.total)))
    if cost.person_pays is not None and cost.person_pays != cost.total:
        rows.append(("个人需交", money(cost.person_pays)))
    if facts.uncertain_late_fee is not None:
        rows.append(("可能的滞纳金（以当地为准，未计入）", money(facts.uncertain_late_fee)))
    return tuple(rows)


def _view(answer: Answer, facts: Facts, changed: tuple[str, ...]) -> AnswerView:
    return AnswerView(
        verdict="nothing_due" if answer.no_gap else answer.can_backpay.value,  # type: ignore[arg-type]
        headline=_verdict_line(answer),
        local_rule=facts.local_rule,
        confidence=CONFIDENCE_LABELS[facts.confidence],
        cost_rows=_cost_rows(answer, facts),
        timeline=Timeline(
            gap_start=facts.gap_start,
            paid_on=None if _is_no(answer) else facts.paid_on,
            waiting_ends=facts.waiting_ends,
            benefits_resume=facts.benefits_resume,
        ),
        sources=tuple((wording.source_name(s), CONFIDENCE_LABELS[s.confidence]) for s in answer.sources),
        changed=changed,
    )


# ------------------------------------------------------------------ the parts behind the buttons
def _cost_part(answer: Answer, facts: Facts) -> list[str | None]:
    if _is_no(answer):
        return [texts.NO_COST_AFTER_NO]
    duty = answer.employer_duty
    if duty is not None:
        lines = [f"💰 单位原因断缴：{duty.employer_pays}由单位补缴，个人不用交。",
                 *(f"• {step}" for step in duty.steps)]
        return ["\n".join(lines), _late_fee_line(answer)]
    cost = answer.cost
    if cost is None:
        unknown = texts.COST_NEEDS_BASE if "monthly_base" in answer.missing_inputs else texts.COST_UNKNOWN
        return [unknown, _late_fee_line(answer), _retiree_line(answer)]
    lines = ["💰 费用估算" + (f"（仅适用于：{answer.steps_apply_if}）" if answer.steps_apply_if else ""),
             f"计算：{cost.formula}"]
    lines.extend(f"{label} {amount}" for label, amount in _cost_rows(answer, facts))
    if cost.base_note:
        lines.append(cost.base_note)
    return ["\n".join(lines), _late_fee_line(answer), _retiree_line(answer)]


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


def _channel_lines(channels: tuple[Channel, ...]) -> list[str]:
    return [f"{'线上' if c.kind == 'online' else '线下'}：{c.name}" for c in channels]


def _where_part(answer: Answer, facts: Facts) -> list[str | None]:
    if _is_no(answer):
        return _now_part(answer, facts)
    scope = f"（仅适用于：{answer.steps_apply_if}）" if answer.steps_apply_if else ""
    lines = _channel_lines(answer.channels)
    parts: list[str | None] = [f"🏢 去哪办{scope}\n" + "\n".join(lines) if lines else None]
    if answer.materials:
        parts.append("📄 带什么：\n" + "\n".join(f"• {m}" for m in answer.materials))
    parts.extend(f"📌 {n}" for n in facts.timing_notes)
    parts.append(_hotlines(answer))
    return parts


def _window_part(answer: Answer, facts: Facts) -> list[str | None]:
    """"几号申报": the local payment and declaration windows, or plainly that none is known."""
    if not facts.timing_notes:
        region = answer.region.full_name or answer.region.name
        return [texts.NO_WINDOW_KNOWN.format(region=region), _how_line(answer)]
    return [*(f"📌 {n}" for n in facts.timing_notes), _how_line(answer)]


def _when_part(answer: Answer, facts: Facts) -> list[str | None]:
    if _is_no(answer):
        r = answer.re_enrol
        lines = ["🗓 这段断缴一般补不上，重新参保后：" + (r.benefits_from if r else "按新参保人员享受待遇")]
        if r is not None and r.benefits_resume:
            lines.append(f"如今天重新参保，预计{r.benefits_resume.isoformat()}起可报销")
        lines.extend(r.loses if r is not None else ())
        return ["\n".join(lines), *(f"📌 {n}" for n in facts.waiting_notes)]
    waits = bool(answer.waiting_months or answer.waiting_days) or answer.waiting_months is None
    when = "等待期" + wording.wait_text(answer) if waits else "补缴后不设等待期"
    if answer.benefits_resume:
        when += f"；{_if_paid_today(answer)}，预计{answer.benefits_resume.isoformat()}起恢复报销（住院、门诊都从这天起）"
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
    if not _is_no(answer):  # "那怎么办" after a yes: how to back-pay (an employer's gap: its steps)
        if answer.employer_duty is not None:
            return [_verdict_line(answer), *_cost_part(answer, facts)[:1], *_where_part(answer, facts)]
        # A conditional answer that may come to a "no" also says what to do then.
        r = answer.re_enrol
        otherwise = [texts.IF_NOT_ALLOWED + "\n" + "\n".join(_re_enrol_lines(r))] if r is not None else []
        return [_verdict_line(answer), *_where_part(answer, facts), *otherwise]
    r = answer.re_enrol
    lines = [f"原因：{answer.condition}"] if answer.condition else []
    if r is None:
        lines += [] if answer.no_gap else [texts.NOW_AFTER_NO]
        return ["\n".join(lines), _hotlines(answer)]
    lines.extend(_re_enrol_lines(r))
    sources = "；".join(wording.source_line(s) for s in r.sources)
    return ["\n".join(lines), *(f"📌 {n}" for n in facts.reenrol_notes),
            f"📚 依据：{sources}" if sources else None, _hotlines(answer)]


def _re_enrol_lines(r: ReEnrolment) -> list[str]:
    lines = [f"➡️ 现在怎么办：{r.how}", *_channel_lines(r.channels)]
    if r.materials:
        lines.append("带：" + "、".join(r.materials))
    lines.append("待遇：" + r.benefits_from)
    if r.loses:
        lines.append("影响：" + "；".join(r.loses))
    return lines


def _why_part(answer: Answer, facts: Facts) -> list[str | None]:
    parts: list[str | None] = [_verdict_line(answer), _basis_line(answer, facts)]
    if facts.local_notes:
        parts.append("📌 本地规定：\n" + "\n".join(f"• {n}" for n in facts.local_notes))
    if facts.disagreements:
        parts.append("🔀 " + "\n".join(facts.disagreements))
    if facts.generic_notes:
        parts.append("ℹ️ 一般说明：\n" + "\n".join(f"• {n}" for n in facts.generic_notes[:MAX_GENERIC_NOTES]))
    src = [f"• {wording.source_line(s)}" for s in answer.sources[:MAX_SOURCES]]
    parts.append("📚 来源：\n" + "\n".join(src) if src else None)
    return parts


def _backpay_part(answer: Answer, facts: Facts) -> list[str | None]:
    if _is_no(answer):
        return [_verdict_line(answer), *_now_part(answer, facts)]
    return [_verdict_line(answer), _how_line(answer)]


def _hotlines(answer: Answer) -> str | None:
    return "☎️ 咨询：" + "，".join(answer.hotlines) if answer.hotlines else None


# The trace fields (prefixes) whose sources back each part.
TOPIC_FIELDS: dict[str, tuple[str, ...]] = {
    "backpay": ("gap_band", "can_backpay", "retiree.", "enrollment_deadline", "channels"),
    "cost": ("cost.", "late_fee.", "retiree."),
    "when": ("gap_band", "waiting_months", "enrollment_deadline"),
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
            parts.extend([_verdict_line(answer), _hotlines(answer)] if nothing_due else _PARTS[topic](answer, facts))
    if not any(p and p.startswith("📚") for p in parts):  # a part may cite its own (after a "no")
        parts.append(_sources_line(answer, topics))
    return list(dict.fromkeys(p for p in parts if p))


def render_topic(answer: Answer, on: date, topics: Topics, gap: str | None = None) -> OutMessage:
    """One message answering follow-ups ("要交多少钱", "带什么材料") about an answer already given."""
    parts = [heading(answer, gap), *topic_parts(answer, on, topics), texts.DISCLAIMER]
    return OutMessage("\n\n".join(dict.fromkeys(parts)))
