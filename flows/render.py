"""Render the engine's answer for chat: a short card first, each part behind its own button.

The card (at most `CARD_MAX_CHARS` characters) says the verdict with its reason, how to do it,
when insurance works again, the cost when known, and whether a local rule or national practice
decided it. The parts (`render_topic`) answer one follow-up each: cost, where/what to bring,
when it works, what to do after a "no", and the basis (local facts first, never cut).
"""

from __future__ import annotations

import functools
from datetime import date

import cn2an

from flows import texts
from flows.answer_facts import Facts, facts_of
from flows.messages import OutMessage
from flows.views import AnswerView, Timeline
from policies.model import Answer, BackpayVerdict, Confidence, CostEstimate, LateFeePayer

CARD_MAX_CHARS = 350
MAX_GENERIC_NOTES = 6  # national generic notes behind 依据和说明; local facts are never capped
MAX_SOURCES = 8

VERDICT_LABELS = {
    BackpayVerdict.YES: "✅ 可以补缴",
    BackpayVerdict.CONDITIONAL: "⚠️ 有条件补缴",
    BackpayVerdict.NO: "❌ 一般不能补缴",
}
CONFIDENCE_LABELS = {
    Confidence.OFFICIAL: "法规/官方文件",
    Confidence.OFFICIAL_REPLY: "官方答复（转载）",
    Confidence.CONTENT_SITE: "网络资料，仅作线索",
}
PAYER_LABELS = {
    LateFeePayer.EMPLOYER: "由单位承担，个人不交",
    LateFeePayer.INSURED: "由个人承担",
    LateFeePayer.FUND: "由失业保险基金代缴，个人不交",
    LateFeePayer.NONE: "无",
}
TOPICS = ("backpay", "cost", "where", "when", "now", "why")


@functools.lru_cache(maxsize=64)
def _chinese_integer(value: int) -> str:
    """5 -> "五"."""
    return str(cn2an.an2cn(str(value)))


def money(value: float) -> str:
    return f"{value:,.2f}元"


def _heading(answer: Answer) -> str:
    region = answer.region.full_name or answer.region.name
    kind = texts.TYPE_LABELS.get(str(answer.insurance_type), str(answer.insurance_type))
    gap = f" · 断缴{answer.gap_months}个月" if answer.gap_months else ""
    return f"📍 {region} · {kind}{gap}"


def _verdict_line(answer: Answer) -> str:
    verdict = VERDICT_LABELS[answer.can_backpay]
    return "结论：" + verdict + (f"——{answer.condition}" if answer.condition else "")


def _short(name: str) -> str:
    """A channel's name without its parenthesised details ("…窗口（也可到税务…）" -> "…窗口")."""
    return name.split("（", 1)[0].split("(", 1)[0].strip()


def _how_line(answer: Answer) -> str | None:
    online = [_short(c.name) for c in answer.channels if c.kind == "online"]
    offline = [_short(c.name) for c in answer.channels if c.kind == "offline"]
    ways = [f"线上（{online[0]}）" if online else "", f"线下（{offline[0]}）" if offline else ""]
    ways = [w for w in ways if w]
    return "办理：" + "或".join(ways) if ways else None


def _when_short(answer: Answer) -> str:
    if answer.can_backpay is BackpayVerdict.NO:
        wait = f"，新参保一般等待{answer.waiting_months}个月" if answer.waiting_months else ""
        return "能用：只能重新参保" + wait
    line = "能用：" + (f"补缴后等待期{answer.waiting_months}个月" if answer.waiting_months else "补缴后不设等待期")
    if answer.benefits_resume:
        line += f"，如今天补缴，约{answer.benefits_resume.isoformat()}起可报销"
    return line


def _owed(cost: CostEstimate, facts: Facts) -> tuple[float, str]:
    """What the person pays, and its label: "合计" only when it is the sum of the amounts listed
    (principal, and the late fee unless it is only local practice: that one is listed apart,
    never in a total), else "个人需交" (e.g. the employer pays)."""
    owed = cost.person_pays if cost.person_pays is not None else cost.total
    if facts.late_fee_uncertain:
        owed = max(owed - cost.late_fee, 0.0)
    listed = cost.principal + (0.0 if facts.late_fee_uncertain else cost.late_fee)
    return owed, "合计" if abs(owed - listed) < 0.005 else "个人需交"


def _cost_short(answer: Answer, facts: Facts) -> str | None:
    cost = answer.cost
    if answer.can_backpay is BackpayVerdict.NO or cost is None:
        return None
    owed, _ = _owed(cost, facts)
    if cost.payer in ("employer", "fund") and not owed:
        return "费用：单位（或基金）承担，个人不用交"
    line = f"费用：约{money(owed)}"
    if facts.late_fee_uncertain:
        line += "（不含可能的滞纳金）"
    return line


def _basis_line(answer: Answer, facts: Facts) -> str:
    level = texts.LOCAL_RULE if facts.local_rule else texts.NATIONAL_PRACTICE
    return f"依据：{level} · {CONFIDENCE_LABELS[facts.confidence]} · 咨询12393"


def render_card(
    answer: Answer, on: date, prefix: str | None = None, changed: tuple[str, ...] = ()
) -> OutMessage:
    """The first answer: at most CARD_MAX_CHARS characters, with the structured view attached."""
    facts = facts_of(answer, on)
    head = [_heading(answer)]
    if not facts.local_rule:
        head.append(texts.NO_LOCAL_RULE)
    body = [
        _verdict_line(answer),
        _how_line(answer) if answer.can_backpay is not BackpayVerdict.NO else texts.NOW_SHORT,
        _when_short(answer),
        _cost_short(answer, facts),
    ]
    tail = _basis_line(answer, facts)
    lines = [line for line in [prefix, *head, *body] if line]
    # Local facts as far as the card has room; all of them are behind 依据和说明 and 去哪办.
    for fact in facts.local_notes:
        if _length([*lines, "📌 " + fact, tail]) <= CARD_MAX_CHARS:
            lines.append("📌 " + fact)
    lines.append(tail)
    while _length(lines) > CARD_MAX_CHARS and len(lines) > 3:
        lines.pop(-2)  # never happens with the rule files today; a guard against a very long reason
    text = "\n".join(lines)
    if len(text) > CARD_MAX_CHARS:
        text = text[: CARD_MAX_CHARS - 1] + "…"
    return OutMessage(text, view=_view(answer, facts, changed))


def _length(lines: list[str]) -> int:
    return sum(len(line) for line in lines) + max(len(lines) - 1, 0)


def _view(answer: Answer, facts: Facts, changed: tuple[str, ...]) -> AnswerView:
    rows: list[tuple[str, str]] = []
    cost = answer.cost
    if cost is not None and answer.can_backpay is not BackpayVerdict.NO:
        rows.append(("本金", money(cost.principal)))
        if cost.serious_illness:
            rows.append(("其中大病保险", money(cost.serious_illness)))
        if cost.late_fee and not facts.late_fee_uncertain:
            rows.append(("滞纳金", money(cost.late_fee)))
        owed, label = _owed(cost, facts)
        rows.append((label, money(owed)))
        if facts.uncertain_late_fee is not None:
            rows.append(("可能的滞纳金（以当地为准，未计入）", money(facts.uncertain_late_fee)))
    verdict = answer.can_backpay.value
    return AnswerView(
        verdict=verdict,  # type: ignore[arg-type]  # a BackpayVerdict value is one of the three
        headline=_verdict_line(answer),
        local_rule=facts.local_rule,
        confidence=CONFIDENCE_LABELS[facts.confidence],
        cost_rows=tuple(rows),
        timeline=Timeline(
            gap_start=facts.gap_start,
            paid_on=facts.paid_on if answer.can_backpay is not BackpayVerdict.NO else None,
            waiting_ends=facts.waiting_ends,
            benefits_resume=answer.benefits_resume.isoformat() if answer.benefits_resume else None,
        ),
        sources=tuple((s.title, CONFIDENCE_LABELS[s.confidence]) for s in answer.sources),
        changed=changed,
    )


# ------------------------------------------------------------------ the parts behind the buttons
def _cost_part(answer: Answer, facts: Facts) -> list[str | None]:
    if answer.can_backpay is BackpayVerdict.NO:
        return [texts.NO_COST_AFTER_NO]
    cost = answer.cost
    if cost is None:
        unknown = texts.COST_NEEDS_BASE if "monthly_base" in answer.missing_inputs else texts.COST_UNKNOWN
        return [unknown, _late_fee_line(answer, facts), _retiree_line(answer)]
    lines = ["💰 费用估算", f"计算：{cost.formula}", f"本金 {money(cost.principal)}"
             + (f"（含大病保险 {money(cost.serious_illness)}）" if cost.serious_illness else "")]
    if cost.late_fee and not facts.late_fee_uncertain:
        lines.append(f"滞纳金 {money(cost.late_fee)}")
    owed, label = _owed(cost, facts)
    lines.append(f"{label}约 {money(owed)}")
    if cost.base_note:
        lines.append(cost.base_note)
    return ["\n".join(lines), _late_fee_line(answer, facts), _retiree_line(answer)]


def _late_fee_line(answer: Answer, facts: Facts) -> str | None:
    fee = answer.late_fee
    if not fee.daily_rate:
        return None
    per_10k = fee.daily_rate * 10000
    spoken = _chinese_integer(int(per_10k)) if float(per_10k).is_integer() else f"{per_10k:g}"
    if facts.late_fee_uncertain:
        amount = f"，如收取约{money(fee.amount)}" if fee.amount else ""
        return texts.LATE_FEE_LOCAL_PRACTICE.format(rate=spoken, amount=amount)
    line = f"⏱ 滞纳金：按日万分之{spoken}"
    if fee.days:
        line += f"，约{fee.days}天"
    if fee.amount:
        line += f"，约{money(fee.amount)}"
    return line + f"；{PAYER_LABELS[fee.payer]}"


def _retiree_line(answer: Answer) -> str | None:
    r = answer.retiree
    if r is None or r.shortfall_years is None:
        return None
    line = f"🧓 退休年限：当地要求{r.required_years:g}年，已缴{r.years_paid:g}年，还差{r.shortfall_years:g}年"
    if r.lump_sum is not None:
        line += f"；一次性补足约{money(r.lump_sum)}"
    return line + (f"（{r.formula}）" if r.formula else "")


def _where_part(answer: Answer, facts: Facts) -> list[str | None]:
    if answer.can_backpay is BackpayVerdict.NO:
        return _now_part(answer, facts)
    lines = [f"{'线上' if c.kind == 'online' else '线下'}：{c.name}" for c in answer.channels]
    parts: list[str | None] = ["🏢 去哪办\n" + "\n".join(lines) if lines else None]
    if answer.materials:
        parts.append("📄 带什么：\n" + "\n".join(f"• {m}" for m in answer.materials))
    parts.extend(f"📌 {n}" for n in facts.timing_notes)
    parts.append(_hotlines(answer))
    return parts


def _when_part(answer: Answer, facts: Facts) -> list[str | None]:
    if answer.can_backpay is BackpayVerdict.NO:
        wait = f"新参保一般有{answer.waiting_months}个月等待期" if answer.waiting_months else "新参保按当地规定起算待遇"
        lines = [f"🗓 这段断缴一般补不上，重新参保后{wait}。", "断缴期间的医药费：一般不能报销"]
    else:
        when = f"补缴后等待期{answer.waiting_months}个月" if answer.waiting_months else "补缴后不设等待期"
        if answer.benefits_resume:
            when += f"；如今天补缴，预计{answer.benefits_resume.isoformat()}起恢复报销（住院、门诊都按这个日期）"
        lines = [
            "🗓 什么时候能用：" + when,
            "断缴期间的医药费：" + ("补缴后可以申请报销（零星报销）" if answer.retroactive else "一般不能报销"),
        ]
    lines.append("连续缴费年限：" + ("会重新计算（清零）" if answer.continuity_reset else "不受影响"))
    return ["\n".join(lines), *(f"📌 {n}" for n in facts.waiting_notes)]


def _now_part(answer: Answer, facts: Facts) -> list[str | None]:
    if answer.can_backpay is not BackpayVerdict.NO:  # "那怎么办" after a yes: how to back-pay
        return [_verdict_line(answer), *_where_part(answer, facts)]
    lines = [texts.NOW_AFTER_NO]
    if answer.condition:
        lines.insert(0, f"原因：{answer.condition}")
    steps = [f"{'线上' if c.kind == 'online' else '线下'}：{_short(c.name)}" for c in answer.channels]
    if steps:
        lines.append("参保/缴费渠道：" + "；".join(steps))
    if answer.waiting_months:
        lines.append(f"新参保一般等待{answer.waiting_months}个月后才能报销，断缴期间的费用一般不能报销。")
    return ["\n".join(lines), *(f"📌 {n}" for n in facts.reenrol_notes), _hotlines(answer)]


def _why_part(answer: Answer, facts: Facts) -> list[str | None]:
    parts: list[str | None] = [_basis_line(answer, facts)]
    if facts.local_notes:
        parts.append("📌 本地规定：\n" + "\n".join(f"• {n}" for n in facts.local_notes))
    if facts.disagreements:
        parts.append("🔀 来源说法不一：\n" + "\n".join(f"• {n}" for n in facts.disagreements))
    if facts.generic_notes:
        generic = facts.generic_notes[:MAX_GENERIC_NOTES]
        parts.append("ℹ️ 一般说明：\n" + "\n".join(f"• {n}" for n in generic))
    src = [f"• {s.title}（{CONFIDENCE_LABELS[s.confidence]}）" for s in answer.sources[:MAX_SOURCES]]
    parts.append("📚 来源：\n" + "\n".join(src) if src else None)
    return parts


# The parts of an answer a follow-up can ask for, and the trace fields (prefixes) whose sources back them.
TOPIC_FIELDS: dict[str, tuple[str, ...]] = {
    "backpay": ("gap_band", "can_backpay", "retiree.", "enrollment_deadline", "channels"),
    "cost": ("cost.", "late_fee.", "retiree."),
    "when": ("gap_band", "waiting_months", "enrollment_deadline"),
    "where": ("channels", "materials", "hotlines", "declaration_window"),
    "now": ("gap_band", "can_backpay", "channels"),
}


def _sources_line(answer: Answer, topics: tuple[str, ...] | set[str] | frozenset[str]) -> str | None:
    """The sources behind the asked parts (all of them when the trace names none)."""
    fields = tuple(f for t in sorted(topics) for f in TOPIC_FIELDS.get(t, ()))
    used = {ref for t in answer.trace if t.field.startswith(fields) for ref in t.sources}
    sources = [s for s in answer.sources if s.id in used] or list(answer.sources)
    if not sources:
        return None
    return "📚 依据：" + "；".join(f"{s.title}（{CONFIDENCE_LABELS[s.confidence]}）" for s in sources[:MAX_SOURCES])


def _backpay_part(answer: Answer, facts: Facts) -> list[str | None]:
    if answer.can_backpay is BackpayVerdict.NO:
        return [_verdict_line(answer), *_now_part(answer, facts)]
    return [_verdict_line(answer), _how_line(answer)]


def _hotlines(answer: Answer) -> str | None:
    return "☎️ 咨询：" + "，".join(answer.hotlines) if answer.hotlines else None


_PARTS = {
    "backpay": _backpay_part, "cost": _cost_part, "where": _where_part,
    "when": _when_part, "now": _now_part, "why": _why_part,
}


def render_topic(answer: Answer, on: date, topics: tuple[str, ...] | set[str] | frozenset[str]) -> OutMessage:
    """One message answering follow-ups ("要交多少钱", "带什么材料") about an answer already given."""
    facts = facts_of(answer, on)
    parts: list[str | None] = [_heading(answer)]
    for topic in TOPICS:
        if topic in topics:
            parts.extend(_PARTS[topic](answer, facts))
    if "why" not in topics:
        parts.append(_sources_line(answer, topics))
    parts.append(texts.DISCLAIMER)
    return OutMessage("\n\n".join(p for p in parts if p))
