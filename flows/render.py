"""Render the engine's structured answer as chat messages: short first, details after."""

from __future__ import annotations

from typing import Any

import cn2an

from flows import texts
from flows.messages import OutMessage
from policies.model import Answer, BackpayVerdict, Confidence, LateFeePayer
from policies.regions import RegionIndex

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
PAYER_LABELS = {
    LateFeePayer.EMPLOYER: "由单位承担，个人不交",
    LateFeePayer.INSURED: "由个人承担",
    LateFeePayer.FUND: "由失业保险基金代缴，个人不交",
    LateFeePayer.NONE: "无",
}


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _summary(answer: Answer, slots: dict[str, Any], regions: RegionIndex) -> str:
    region = answer.region.full_name or answer.region.name
    kind = TYPE_LABELS.get(str(answer.insurance_type), str(answer.insurance_type))
    gap = f"，断缴 {answer.gap_months} 个月" if answer.gap_months else ""
    lines = [f"📍 {region} · {kind}{gap}"]
    verdict = VERDICT_LABELS[answer.can_backpay]
    lines.append(f"结论：{verdict}" + (f"——{answer.condition}" if answer.condition else ""))
    online = [c.name for c in answer.channels if c.kind == "online"]
    offline = [c.name for c in answer.channels if c.kind == "offline"]
    if online:
        lines.append("线上办理：" + "；".join(online))
    if offline:
        lines.append("线下办理：" + "；".join(offline))
    if answer.waiting_months > 0:
        when = f"等待期 {answer.waiting_months} 个月"
    else:
        when = "无等待期"
    if answer.benefits_resume:
        when += f"；如今天办完补缴，预计 {answer.benefits_resume.isoformat()} 起恢复报销"
    lines.append("什么时候能用：" + when)
    lines.append("断缴期间的医药费：" + ("补缴后可以申请报销（零星报销）" if answer.retroactive else "一般不能报销"))
    lines.append("连续缴费年限：" + ("会重新计算（清零）" if answer.continuity_reset else "不受影响"))
    return "\n".join(lines)


def _details(answer: Answer) -> str:
    parts: list[str] = []
    cost = answer.cost
    fee = answer.late_fee
    if cost is not None:
        cost_lines = [
            "💰 费用估算",
            f"计算：{cost.formula}",
            f"本金 {_money(cost.principal)} 元"
            + (f"（含大病保险 {_money(cost.serious_illness)} 元）" if cost.serious_illness else ""),
        ]
        if cost.late_fee:
            cost_lines.append(f"滞纳金 {_money(cost.late_fee)} 元")
        cost_lines.append(f"合计约 {_money(cost.total)} 元")
        if cost.base_note:
            cost_lines.append(cost.base_note)
        parts.append("\n".join(cost_lines))
    if fee.daily_rate:
        per_10k = fee.daily_rate * 10000
        spoken = cn2an.an2cn(f"{per_10k:g}") if float(per_10k).is_integer() else f"{per_10k:g}"
        fee_line = f"⏱ 滞纳金：按日万分之{spoken}（{fee.daily_rate * 100:g}%）"
        if fee.days:
            fee_line += f"，约 {fee.days} 天"
        if fee.amount:
            fee_line += f"，约 {_money(fee.amount)} 元"
        fee_line += f"；{PAYER_LABELS[fee.payer]}"
        parts.append(fee_line)
    if answer.retiree is not None and answer.retiree.shortfall_years is not None:
        r = answer.retiree
        line = f"🧓 退休年限：当地要求 {r.required_years:g} 年，已缴 {r.years_paid:g} 年，还差 {r.shortfall_years:g} 年"
        if r.lump_sum is not None:
            line += f"；一次性补足约 {_money(r.lump_sum)} 元"
        if r.formula:
            line += f"（{r.formula}）"
        parts.append(line)
    if answer.materials:
        parts.append("📄 材料：" + "；".join(answer.materials))
    if answer.hotlines:
        parts.append("☎️ 咨询：" + "，".join(answer.hotlines))
    if answer.notes:
        parts.append("ℹ️ 说明：\n" + "\n".join(f"• {n}" for n in answer.notes[:MAX_NOTES]))
    if answer.sources:
        src = [f"• {s.title}（{CONFIDENCE_LABELS[s.confidence]}）" for s in answer.sources[:MAX_SOURCES]]
        parts.append("📚 依据：\n" + "\n".join(src))
    parts.append(texts.DISCLAIMER)
    return "\n\n".join(parts)


def render_answer(
    answer: Answer, slots: dict[str, Any], regions: RegionIndex, *, group: bool = False
) -> list[OutMessage]:
    """Two messages: the short answer (can I, how, when), then cost, materials, sources."""
    return [OutMessage(_clip(_summary(answer, slots, regions))), OutMessage(_clip(_details(answer)))]
