"""Plain-text renderings of an Answer: for a person (Chinese) and the rule trace (for `explain`)."""

from __future__ import annotations

from policies import wording as w
from policies.model import Answer, BackpayVerdict


def render_text(answer: Answer) -> str:
    """The answer as Chinese text for the person who asked (the verdict governs what follows)."""
    a = answer
    lines = [line for line in (w.headline(a),) if line]
    lines.append(f"【{a.region.full_name or a.region.name}｜{w.SCHEME_TEXT[a.scheme]}｜{w.TYPE_TEXT[a.insurance_type]}】")
    lines.append("能否补缴：" + w.verdict_text(a))
    gap = w.gap_text(a)
    if gap:
        lines.append(f"断缴时长：{gap}")
    if a.steps_apply_if and (a.channels or a.materials or a.cost):  # never above nothing
        lines.append(f"以下办理方式和费用仅适用于：{a.steps_apply_if}")
    if a.channels:
        lines.append("办理渠道：")
        lines += [f"  · {'线上' if c.kind == 'online' else '线下'}：{c.name}" for c in a.channels]
    if a.materials:
        lines.append("所需材料：" + "；".join(a.materials))
    if a.retiree is None and a.can_backpay is not BackpayVerdict.NO:
        lines.append(f"待遇等待期：{w.wait_text(a)}")
        if a.benefits_resume:
            # an employer-caused gap is paid by the employer: its "today", not the person's
            who = "如单位今天补缴" if a.employer_duty is not None else f"如{w.pay_day(a)}缴费"
            lines.append(f"{who}，预计 {a.benefits_resume.isoformat()} 起恢复医保待遇")
        lines.append("断缴期间的医疗费：" + w.retroactive_text(a.retroactive))
        lines.append("连续参保年限：" + w.continuity_text(a.continuity_reset))
    if a.re_enrol is not None:
        lines += _re_enrol_lines(a)
    if a.keep_paying is not None:
        lines.append("接续参保，以免断缴：")
        lines += [f"  · {way}" for way in a.keep_paying.ways]
        if a.keep_paying.channels:
            lines.append("  个人参保缴费渠道：" + "；".join(c.name for c in a.keep_paying.channels))
    if a.employer_duty is not None:
        d = a.employer_duty
        lines.append(f"单位责任：由用人单位补缴{d.employer_pays}" + ("" if d.insured_pays_late_fee else "，个人无需缴纳滞纳金"))
        lines += [f"  · {step}" for step in d.steps]
    fee = w.late_fee_text(a.late_fee)
    if fee:
        lines.append(f"滞纳金：{fee}")
    if a.cost is not None:
        lines.append(f"费用估算：{a.cost.formula}")
        if a.cost.base_note:
            lines.append(f"  （基数：{a.cost.base_note}）")
        if a.cost.person_pays is not None and a.cost.person_pays != a.cost.total:
            lines.append(f"  个人需缴：{w.money(a.cost.person_pays)}元")
    if a.retiree is not None:
        r = a.retiree
        if r.required_years is not None:
            lines.append(f"所需缴费年限：{r.required_years:g}年")
        if r.shortfall_years is not None:
            lines.append(f"还差：{r.shortfall_years:g}年")
        if r.lump_sum is not None:
            lines.append(f"一次性补缴估算：{r.formula}")
    lines += list(a.disagreements)
    if a.as_of is not None:
        lines.append(f"以上为{w.as_of_text(a.as_of)}")
    if a.notes:
        lines.append("说明：")
        lines += [f"  · {n}" for n in a.notes]
    if a.missing_inputs:
        lines.append("补充以下信息可以得到更准确的答复："
                     + "；".join(w.MISSING_TEXT.get(m, m) for m in a.missing_inputs))
    lines.append("依据：")
    lines += [f"  · {w.source_line(s)}" for s in a.sources]
    # nothing to pay back rests on the law (第六十条, 第四十八条), not on what is usual in most places
    practice = "" if a.local_rule or a.no_gap else "（全国通行做法）"
    lines.append(f"规则层级：{w.LEVEL_TEXT[a.rule_level]}{practice}")
    return "\n".join(lines)


def _re_enrol_lines(a: Answer) -> list[str]:
    r = a.re_enrol
    assert r is not None
    lead = "如不符合上述条件" if a.can_backpay is BackpayVerdict.CONDITIONAL else "现在可以做的"
    lines = [f"{lead}：{r.how}"]
    if r.channels:
        lines.append("  参保渠道：" + "；".join(c.name for c in r.channels))
    if r.materials:
        lines.append("  所需材料：" + "；".join(r.materials))
    lines.append(f"  待遇：{r.benefits_from}")
    if r.benefits_resume:
        lines.append(f"  如今天参保缴费，预计 {r.benefits_resume.isoformat()} 起享受待遇")
    if r.loses:
        lines.append("  影响：" + "；".join(r.loses))
    return lines


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
