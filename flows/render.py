"""Render the engine's structured answer as chat messages: short first, details after."""

from __future__ import annotations

from flows import texts
from flows.messages import OutMessage
from policies import wording
from policies.model import Answer, BackpayVerdict, Confidence

MAX_MESSAGE_CHARS = 3500  # under Telegram's 4096 with room for adapters' additions
MAX_SOURCES = 8
MAX_NOTES = 6

TYPE_LABELS = texts.TYPE_LABELS
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


def _money(value: float) -> str:
    return wording.money(value)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _heading(answer: Answer) -> str:
    region = answer.region.full_name or answer.region.name
    kind = TYPE_LABELS.get(str(answer.insurance_type), str(answer.insurance_type))
    gap = f"，断缴 {answer.gap_months} 个月" if answer.gap_months else ""
    first = wording.headline(answer)
    return (f"{first}\n" if first else "") + f"📍 {region} · {kind}{gap}"


def _verdict_line(answer: Answer) -> str:
    verdict = VERDICT_LABELS[answer.can_backpay]
    return f"结论：{verdict}" + (f"——{answer.condition}" if answer.condition else "")


def _channel_lines(answer: Answer) -> list[str]:
    online = [c.name for c in answer.channels if c.kind == "online"]
    offline = [c.name for c in answer.channels if c.kind == "offline"]
    lines = []
    if (online or offline) and answer.steps_apply_if:
        lines.append(f"以下办理方式和费用仅适用于：{answer.steps_apply_if}")
    if online:
        lines.append("线上办理：" + "；".join(online))
    if offline:
        lines.append("线下办理：" + "；".join(offline))
    return lines


def _when_lines(answer: Answer) -> list[str]:
    instead: list[str] = []
    if answer.re_enrol is not None:
        r = answer.re_enrol
        lead = "现在可以做的：" if answer.can_backpay is BackpayVerdict.NO else "如不符合上述条件："
        instead = [lead + r.how, "待遇：" + r.benefits_from, *(["影响：" + "；".join(r.loses)] if r.loses else [])]
    if answer.can_backpay is BackpayVerdict.NO:
        return instead
    when = "等待期 " + wording.wait_text(answer)
    if answer.benefits_resume:
        when += f"；如今天办完补缴，预计 {answer.benefits_resume.isoformat()} 起恢复报销"
    return [
        "什么时候能用：" + when,
        "断缴期间的医药费：" + wording.retroactive_text(answer.retroactive),
        "连续缴费年限：" + wording.continuity_text(answer.continuity_reset),
        *instead,
    ]


def _summary(answer: Answer) -> str:
    lines = [_heading(answer), _verdict_line(answer), *_channel_lines(answer), *_when_lines(answer)]
    return "\n".join(lines)


def _cost_block(answer: Answer) -> str | None:
    cost = answer.cost
    if cost is None:
        return None
    lines = [
        "💰 费用估算",
        f"计算：{cost.formula}",
        f"本金 {_money(cost.principal)} 元"
        + (f"（含大病保险 {_money(cost.serious_illness)} 元）" if cost.serious_illness else ""),
    ]
    if cost.late_fee:
        lines.append(f"滞纳金 {_money(cost.late_fee)} 元")
    lines.append(f"合计约 {_money(cost.total)} 元")
    if cost.base_note:
        lines.append(cost.base_note)
    return "\n".join(lines)


def _late_fee_line(answer: Answer) -> str | None:
    text = wording.late_fee_text(answer.late_fee)
    return f"⏱ 滞纳金：{text}" if text else None


def _retiree_line(answer: Answer) -> str | None:
    r = answer.retiree
    if r is None or r.shortfall_years is None:
        return None
    line = f"🧓 退休年限：当地要求 {r.required_years:g} 年，已缴 {r.years_paid:g} 年，还差 {r.shortfall_years:g} 年"
    if r.lump_sum is not None:
        line += f"；一次性补足约 {_money(r.lump_sum)} 元"
    if r.formula:
        line += f"（{r.formula}）"
    return line


def _sources_block(answer: Answer, fields: tuple[str, ...] | None = None) -> str | None:
    """The answer's sources; with `fields`, only those behind trace fields starting with one of them."""
    sources = answer.sources
    if fields is not None:
        used = {ref for t in answer.trace if t.field.startswith(fields) for ref in t.sources}
        sources = tuple(s for s in answer.sources if s.id in used) or answer.sources
    if not sources:
        return None
    src = [f"• {s.title}（{CONFIDENCE_LABELS[s.confidence]}）" for s in sources[:MAX_SOURCES]]
    return "📚 依据：\n" + "\n".join(src)


def _materials_line(answer: Answer) -> str | None:
    return "📄 材料：" + "；".join(answer.materials) if answer.materials else None


def _hotlines_line(answer: Answer) -> str | None:
    return "☎️ 咨询：" + "，".join(answer.hotlines) if answer.hotlines else None


def _details(answer: Answer) -> str:
    parts: list[str | None] = [
        _cost_block(answer), _late_fee_line(answer), _retiree_line(answer),
        _materials_line(answer), _hotlines_line(answer),
    ]
    if answer.disagreements:
        parts.append("\n".join(answer.disagreements))
    if answer.as_of is not None:
        parts.append(f"以上为{wording.as_of_text(answer.as_of)}")
    if answer.notes:
        parts.append("ℹ️ 说明：\n" + "\n".join(f"• {n}" for n in answer.notes[:MAX_NOTES]))
    parts.append(_sources_block(answer))
    parts.append(texts.DISCLAIMER)
    return "\n\n".join(p for p in parts if p)


# The parts of an answer a follow-up question can ask for, and the engine trace fields (prefixes)
# whose sources back each part.
TOPIC_FIELDS: dict[str, tuple[str, ...]] = {
    "backpay": ("gap_band", "can_backpay", "retiree.", "enrollment_deadline", "channels"),
    "cost": ("cost.", "late_fee.", "retiree."),
    "when": ("gap_band", "waiting_months", "enrollment_deadline"),
    "where": ("channels", "materials", "hotlines", "declaration_window"),
}


def render_follow_up(answer: Answer, topics: frozenset[str] | set[str]) -> OutMessage:
    """One message answering a follow-up question ("要交多少钱", "什么时候能报销") about an answer
    already given: only the asked parts, with the sources and the disclaimer."""
    parts: list[str | None] = [_heading(answer)]
    if "backpay" in topics:
        parts.append("\n".join([_verdict_line(answer), *_channel_lines(answer)]))
    if "cost" in topics:
        cost = _cost_block(answer)
        if cost is None:
            cost = texts.COST_NEEDS_BASE if "monthly_base" in answer.missing_inputs else texts.COST_UNKNOWN
        parts.extend([cost, _late_fee_line(answer), _retiree_line(answer)])
    if "when" in topics:
        parts.append("\n".join(_when_lines(answer)))
    if "where" in topics:
        where = [*_channel_lines(answer), _materials_line(answer), _hotlines_line(answer)]
        parts.append("\n".join(line for line in where if line))
    fields = tuple(f for topic in sorted(topics) for f in TOPIC_FIELDS.get(topic, ()))
    parts.append(_sources_block(answer, fields))
    parts.append(texts.DISCLAIMER)
    return OutMessage(_clip("\n\n".join(p for p in parts if p)))


def render_answer(answer: Answer) -> list[OutMessage]:
    """Two messages: the short answer (can I, how, when), then cost, materials, sources."""
    return [OutMessage(_clip(_summary(answer))), OutMessage(_clip(_details(answer)))]
