"""Plain-text renderings of an Answer: for a person (Chinese) and the rule trace (for `explain`)."""

from __future__ import annotations

from policies.engine import CONFIDENCE_LABEL, VERDICT_TEXT, money, pct
from policies.model import Answer, LateFeePayer, Scheme

LEVEL_TEXT = {"national": "全国", "province": "省级", "city": "市级", "county": "区县级"}
SCHEME_TEXT = {Scheme.EMPLOYEE: "职工基本医疗保险", Scheme.RESIDENT: "城乡居民基本医疗保险"}
TYPE_TEXT = {
    "employee": "单位职工",
    "flexible": "灵活就业人员",
    "resident": "城乡居民",
    "unemployed": "领取失业金人员",
    "retiree": "退休（临近退休）人员",
}
PAYER_TEXT = {
    LateFeePayer.EMPLOYER: "用人单位",
    LateFeePayer.INSURED: "个人",
    LateFeePayer.FUND: "失业保险基金",
    LateFeePayer.NONE: "无",
}
MISSING_TEXT = {
    "gap_months": "断缴了几个月（或从哪个月开始断缴）",
    "cause": "断缴是单位原因还是个人原因",
    "monthly_base": "您的月缴费基数（工资）",
    "years_paid": "您已缴纳职工医保的年数",
    "gender": "您的性别（各地男女所需年限可能不同）",
}


def render_text(answer: Answer) -> str:
    """The answer as Chinese text for the person who asked."""
    a = answer
    lines = [
        f"【{a.region.full_name or a.region.name}｜{SCHEME_TEXT[a.scheme]}｜{TYPE_TEXT[str(a.insurance_type)]}】",
        f"能否补缴：{VERDICT_TEXT[a.can_backpay]}" + (f"（{a.condition}）" if a.condition else ""),
    ]
    if a.gap_months is not None:
        lines.append(f"断缴时长：{a.gap_months}个月")
    if a.channels:
        lines.append("办理渠道：")
        lines += [f"  · {'线上' if c.kind == 'online' else '线下'}：{c.name}" for c in a.channels]
    if a.materials:
        lines.append("所需材料：" + "；".join(a.materials))
    if a.retiree is None:
        wait = f"{a.waiting_months}个月" if a.waiting_months else "无等待期"
        lines.append(f"待遇等待期：{wait}")
        if a.benefits_resume:
            lines.append(f"如今天缴费，预计 {a.benefits_resume.isoformat()} 起恢复医保待遇")
        lines.append("断缴期间的医疗费：" + ("补缴后可按规定报销" if a.retroactive else "不能报销"))
        lines.append("连续参保年限：" + ("将重新计算" if a.continuity_reset else "不受影响"))
    if a.late_fee.daily_rate is not None:
        fee = f"滞纳金：按日{pct(a.late_fee.daily_rate)}，由{PAYER_TEXT[a.late_fee.payer]}承担"
        if a.late_fee.amount:
            fee += f"，约{money(a.late_fee.amount)}元"
        lines.append(fee)
    if a.cost is not None:
        lines.append(f"费用估算：{a.cost.formula}")
        if a.cost.base_note:
            lines.append(f"  （基数：{a.cost.base_note}）")
        if a.cost.person_pays is not None and a.cost.person_pays != a.cost.total:
            lines.append(f"  个人需缴：{money(a.cost.person_pays)}元")
    if a.retiree is not None:
        r = a.retiree
        if r.required_years is not None:
            lines.append(f"所需缴费年限：{r.required_years:g}年")
        if r.shortfall_years is not None:
            lines.append(f"还差：{r.shortfall_years:g}年")
        if r.lump_sum is not None:
            lines.append(f"一次性补缴估算：{r.formula}")
    if a.notes:
        lines.append("说明：")
        lines += [f"  · {n}" for n in a.notes]
    if a.missing_inputs:
        lines.append("补充以下信息可以得到更准确的答复：" + "；".join(MISSING_TEXT.get(m, m) for m in a.missing_inputs))
    lines.append("依据：")
    lines += [f"  · {s.title}（{CONFIDENCE_LABEL[s.confidence]}）" for s in a.sources]
    lines.append(f"规则层级：{LEVEL_TEXT[str(a.rule_level)]}")
    return "\n".join(lines)


def render_trace(answer: Answer) -> str:
    """Which rule gave which field: file:line, level, region and sources (for `explain`)."""
    a = answer
    out = [
        f"region {a.region.code} {a.region.name} ({a.region.level}); scheme {a.scheme}; "
        f"type {a.insurance_type}; rule_level {a.rule_level}",
    ]
    for t in a.trace:
        out.append(f"{t.field:<28} {t.file}:{t.line} [{t.level} {t.region_code}] = {t.value}")
        if t.sources:
            out.append(f"{'':<28}   sources: {', '.join(t.sources)}")
    out.append("sources:")
    out += [f"  {s.id}  {s.title}  ({s.confidence})" for s in a.sources]
    if a.missing_inputs:
        out.append("missing_inputs: " + ", ".join(a.missing_inputs))
    return "\n".join(out)
