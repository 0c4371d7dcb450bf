"""The Chinese wording of an answer, in one place: both renderers (`policies/render.py` for the
command line and `flows/render.py` for chats) take their labels, sentences and the money format
from here, so the two never say the same thing two ways.
"""

from __future__ import annotations

import re
from datetime import date

import cn2an

from policies.model import (
    Answer,
    BackpayVerdict,
    Confidence,
    InsuranceType,
    LateFee,
    LateFeePayer,
    Level,
    Scheme,
    SourceRef,
)

VERDICT_TEXT = {BackpayVerdict.YES: "可以补缴", BackpayVerdict.CONDITIONAL: "有条件补缴", BackpayVerdict.NO: "不能补缴"}
CONFIDENCE_LABEL = {
    Confidence.OFFICIAL: "官方文件",
    Confidence.OFFICIAL_REPLY: "官方答复（转载）",
    Confidence.CONTENT_SITE: "非官方网站",
}
LEVEL_TEXT = {Level.NATIONAL: "全国", Level.PROVINCE: "省级", Level.CITY: "市级", Level.COUNTY: "区县级"}
SCHEME_TEXT = {Scheme.EMPLOYEE: "职工基本医疗保险", Scheme.RESIDENT: "城乡居民基本医疗保险"}
TYPE_TEXT = {
    InsuranceType.EMPLOYEE: "单位职工",
    InsuranceType.FLEXIBLE: "灵活就业人员",
    InsuranceType.RESIDENT: "城乡居民",
    InsuranceType.UNEMPLOYED: "领取失业金人员",
    InsuranceType.RETIREE: "退休（临近退休）人员",
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
UNKNOWN = "资料未说明，请向当地医保经办机构确认"
NATIONAL_ONLY = "未找到本地规定，以下按全国通行做法回答（请拨打12393向当地核实）"
# The region has rules of its own, but none covers this case (宁波's and 武汉's are for a person's own
# gap; an employer-caused one takes the national employer duty): "未找到本地规定" would be untrue.
NATIONAL_NOT_COVERED = "当地规定未涉及这种情况，以下按全国通行做法回答（请拨打12393向当地核实）"
NATIONAL_FIRST = (NATIONAL_ONLY, NATIONAL_NOT_COVERED)  # first lines saying all of it is national practice
# The verdict is national practice but the answer also states local rules (天津's window, 聊城's
# enrolment period): "未找到本地规定" alone would contradict them.
NATIONAL_VERDICT = "未找到本地规定说明能否补缴，以下判断按全国通行做法，本地的其他规定见下文（请拨打12393向当地核实）"
DISAGREE_PREFIX = "来源说法不一："
LOCAL_LATE_FEE = "部分地区对个人按日万分之五加收滞纳金，以当地为准"
NOTE_CONTENT_SITE = "部分内容来自非官方网站（见来源），仅供参考，具体以当地医保经办机构的规定为准"
NO_GAP = "没有断缴，无需补缴"  # the rules add what to pay instead (key `no_gap`)
# Someone who chose "on unemployment benefit" but no longer draws it: the fund no longer pays.
NOT_ON_BENEFIT = "停领失业金后断缴的，请按灵活就业人员查询能否补缴"
NOTE_ESTIMATE = "费用为按公式的估算，实际金额以当地医保/税务部门核定为准"
# Today is outside a local monthly declaration window (天津 26日至次月15日): paying today is not possible.
OUTSIDE_WINDOW = "今天不在申报缴费时间内，下一次从本月{day}日起可申报缴费"
_OUTSIDE = re.compile(re.escape(OUTSIDE_WINDOW).replace(re.escape("{day}"), r"(\d+)"))


def money(amount: float) -> str:
    """Yuan: two decimals, or none for whole amounts ("6711", "2483.76"). The one money format."""
    return f"{amount:.0f}" if abs(amount - round(amount)) < 0.005 else f"{amount:.2f}"


def pct(rate: float) -> str:
    """0.107 -> "10.7%", 0.0005 -> "0.05%"."""
    return f"{rate * 100:.4f}".rstrip("0").rstrip(".") + "%"


def daily_rate_text(rate: float) -> str:
    """0.0005 -> "按日万分之五（0.05%）"."""
    per_10k = rate * 10000
    spoken = str(cn2an.an2cn(str(int(per_10k)))) if float(per_10k).is_integer() else f"{per_10k:g}"
    return f"按日万分之{spoken}（{pct(rate)}）"


def as_of_text(day: date) -> str:
    """How an answer says its figures are known only from a later source."""
    return f"截至{day.isoformat()}的口径"


def headline(answer: Answer) -> str | None:
    """The line an answer must start with, if any: no local rule found -> national practice (and,
    when the answer also uses local rules, that only the verdict is national practice)."""
    if not answer.local_rule and answer.region.level is not Level.NATIONAL and not answer.no_gap:
        local = any(t.level is not Level.NATIONAL and t.field != "hotlines" for t in answer.trace)
        if local:
            return NATIONAL_VERDICT
        return NATIONAL_NOT_COVERED if answer.regional_rules else NATIONAL_ONLY
    return None


def verdict_text(answer: Answer) -> str:
    """"能否补缴" in words, with the condition (conditional) or the reason (no); nothing to pay back
    (no gap, or a retiree with the years): the reason alone, "…无需补缴…", never "不能补缴"."""
    if answer.no_gap:
        return answer.condition or NO_GAP
    text = VERDICT_TEXT[answer.can_backpay]
    return text + (f"（{answer.condition}）" if answer.condition else "")


def pay_day(answer: Answer) -> str:
    """When the resume date assumes paying: "今天", or the window's next opening ("本月26日") when
    today is outside it (the next opening is in the same month, so the resume date is the same)."""
    said = next((t.value for t in answer.trace if t.field == "declaration_window.today"), "")
    found = _OUTSIDE.search(said)
    return f"本月{found.group(1)}日" if found else "今天"


def wait_text(answer: Answer) -> str:
    """The waiting period in words; unknown stays unknown, days stay days."""
    if answer.waiting_days is not None:
        return f"{answer.waiting_days}天"
    if answer.waiting_months is None:
        if answer.waiting_range:
            low, high = answer.waiting_range
            if high is None:  # a known floor, no known ceiling (居民医保 with the gap unknown)
                return f"至少{low}个月（断保越久等待期越长，见说明）"
            return f"{low}–{high}个月（各地不同，以当地规定为准）"
        return f"未知（{UNKNOWN}）"
    return f"{answer.waiting_months}个月" if answer.waiting_months else "无等待期"


def retroactive_text(value: bool | None) -> str:
    if value is None:
        return f"未知（{UNKNOWN}）"
    return "补缴后可按规定报销" if value else "不能报销"


def continuity_text(value: bool | None) -> str:
    if value is None:
        return f"未知（{UNKNOWN}）"
    return "将重新计算" if value else "不受影响"


def gap_text(answer: Answer) -> str | None:
    """"断缴5个月" (with days when the rule counts days), or None when the gap is unknown (or none)."""
    if answer.gap_months is None or answer.no_gap:
        return None
    text = f"{answer.gap_months}个月"
    if answer.gap_days is not None:
        text += f"（约{answer.gap_days}天，当地按天计算）"
    return text


def late_fee_text(fee: LateFee) -> str | None:
    """The late fee in one line. An uncertain fee on an individual reads as local practice, with its
    possible amount apart ("未计入合计")."""
    if fee.daily_rate is None or fee.payer in (LateFeePayer.NONE, LateFeePayer.FUND):
        return None
    if fee.payer is LateFeePayer.INSURED and not fee.certain:
        text = LOCAL_LATE_FEE
        if fee.amount:
            text += f"；如收取，约{money(fee.amount)}元（未计入合计）"
        return text
    text = f"{daily_rate_text(fee.daily_rate)}，由{PAYER_TEXT[fee.payer]}承担"
    if fee.amount:
        text += f"，约{money(fee.amount)}元"
    if fee.payer is LateFeePayer.EMPLOYER:
        text += "，个人无需缴纳"
    return text


def source_name(source: SourceRef) -> str:
    """A source's name: 社保网《…》 when its site is known, else its title."""
    return f"{source.site}《{source.title}》" if source.site else source.title


def source_line(source: SourceRef) -> str:
    """A source as the answer lists it: a general article says so (its title may name another city);
    an unchecked title is said to be a description."""
    checked = "" if source.verified else "；标题未经核实，为内容概述"
    general = "综述，" if source.general else ""
    return f"{source_name(source)}（{general}{CONFIDENCE_LABEL[source.confidence]}{checked}）"
