"""The lines of an answer that both the card and the parts behind its buttons say: the heading, the
verdict with its reason, how to do it, when insurance works again, the cost, the basis, hotlines.

Each is written once here so the card and a part never say one thing two ways.
"""

from __future__ import annotations

import re

from flows import texts
from flows.answer_facts import Facts
from policies import wording
from policies.model import Answer, BackpayVerdict, Channel, Scheme

VERDICT_LABELS = {
    BackpayVerdict.YES: "✅ " + wording.VERDICT_TEXT[BackpayVerdict.YES],
    BackpayVerdict.CONDITIONAL: "⚠️ " + wording.VERDICT_TEXT[BackpayVerdict.CONDITIONAL],
    BackpayVerdict.NO: "❌ " + wording.VERDICT_TEXT[BackpayVerdict.NO],
}
CONFIDENCE_LABELS = wording.CONFIDENCE_LABEL


def money(value: float) -> str:
    """Yuan as every line shows it ("800元", "9.80元")."""
    return wording.money(value) + "元"


def heading(answer: Answer, gap: str | None = None) -> str:
    """"📍 region · type · 断缴…"; `gap` replaces the answer's own gap (a loose "约3–4个月")."""
    region = answer.region.full_name or answer.region.name
    kind = texts.TYPE_LABELS.get(str(answer.insurance_type), str(answer.insurance_type))
    gap = gap or wording.gap_text(answer)
    return f"📍 {region} · {kind}" + (f" · 断缴{gap}" if gap else "")


def is_no(answer: Answer) -> bool:
    return answer.can_backpay is BackpayVerdict.NO


def verdict_line(answer: Answer, room: int | None = None) -> str:
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


def short_name(name: str) -> str:
    """A channel's name without its parenthesised details ("…窗口（也可到税务…）" -> "…窗口")."""
    short = re.sub(r"\s*[（(][^（）()]*[）)]$", "", name.strip())
    return short or name.strip()


def tagged(tag: str | None, beside: str = "") -> str:
    """"（全国通行做法，以当地为准）" beside a part that is only a national default, else nothing;
    "以当地为准" is not said twice when the text `beside` it says so already."""
    if tag == texts.NATIONAL_TAG and "以当地" in beside:
        tag = texts.NATIONAL_PRACTICE_SHORT
    return f"（{tag}）" if tag else ""


def _shown(facts: Facts, tag: str | None, card: bool) -> str | None:
    return facts.national.card(tag) if card else tag


def _ways(channels: tuple[Channel, ...], national: frozenset[str]) -> str | None:
    """"线上（…）或线下（…）": the first channel of each kind; national ones said so (all of them: once
    at the end; some: beside each)."""
    shown = list(dict.fromkeys([c for c in channels if c.kind == "online"][:1]
                               + [c for c in channels if c.kind == "offline"][:1]))
    if not shown:
        return None
    every = all(c.name in national for c in shown)
    ways = [f"{'线上' if c.kind == 'online' else '线下'}（{short_name(c.name)}"
            f"{'，' + texts.NATIONAL_PRACTICE_SHORT if c.name in national and not every else ''}）" for c in shown]
    return "或".join(ways) + (tagged(texts.NATIONAL_TAG) if every else "")


def how_line(answer: Answer, facts: Facts, card: bool = True) -> str | None:
    """"办理：线上（…）或线下（…）", or after a "no" what to do now; on the card, a national default is
    said so unless the card's first line says the whole answer is national practice."""
    if is_no(answer):
        r = answer.re_enrol
        if r is None:
            return texts.NOW_SHORT
        return "现在：" + r.how + tagged(_shown(facts, facts.national.re_enrol, card))
    national = frozenset() if card and facts.national.said_first else facts.national.channels
    ways = _ways(answer.channels, national)
    if ways is None:
        return None
    scope = f"（仅适用于：{answer.steps_apply_if}）" if answer.steps_apply_if else ""
    # An employer-caused gap is back-paid by the employer (seeds 000-002): the channels are its own.
    who = "由单位补缴，" if answer.employer_duty is not None else ""
    return f"办理{scope}：{who}{ways}"


def keep_line(answer: Answer, facts: Facts, card: bool = True) -> str | None:
    """"现在：…" after leaving a job with no gap yet: the ways to keep paying (national said so)."""
    keep = answer.keep_paying
    if keep is None:
        return None
    return "现在：" + keep.short + tagged(_shown(facts, facts.national.keep_paying, card))


def paid_verb(answer: Answer) -> str:
    """What starts the wait: paying the gap back, or paying again (the source says only that:
    杭州 "缴费满6个月"; a resident enrols again)."""
    if answer.wait_after != "payment":
        return "补缴"
    return "参保缴费" if answer.scheme is Scheme.RESIDENT else "恢复缴费"


def when_line(answer: Answer, facts: Facts, card: bool = True) -> str | None:
    """"能用：…": the wait (a national default said so) and the day insurance works again; none for
    a retiree topping up years (no wait applies to it: the command line says none either)."""
    if answer.retiree is not None:
        return None
    if is_no(answer):
        r = answer.re_enrol
        tag = tagged(_shown(facts, facts.national.re_enrol, card))
        if r is not None and r.waiting_months:
            return f"能用：重新参保后等待{r.waiting_months}个月{tag}"
        return f"能用：重新参保后按新参保人员享受待遇{tag}"
    if answer.waiting_months is None and answer.waiting_days is None:
        return f"能用：等待期{wording.wait_text(answer)}"  # unknown, or a range "各地不同" says it
    return "能用：" + wait_phrase(answer, facts, card) + (
        f"，{if_paid_today(answer)}，约{answer.benefits_resume.isoformat()}起可报销" if answer.benefits_resume else "")


def wait_phrase(answer: Answer, facts: Facts, card: bool = True) -> str:
    """"补缴后等待期6个月（…）" / "恢复缴费后不设等待期": a known wait, from what it counts."""
    waited = bool(answer.waiting_months or answer.waiting_days)
    verb = paid_verb(answer)
    phrase = f"{verb}后等待期{wording.wait_text(answer)}" if waited else f"{verb}后不设等待期"
    return phrase + tagged(_shown(facts, facts.national.wait, card))


def if_paid_today(answer: Answer) -> str:
    """Who pays decides whose "today" it is (an employer-caused gap is paid by the employer), and a
    local declaration window whether it is today at all."""
    if answer.employer_duty is not None:
        return "如单位今天补缴"
    # outside a local declaration window (天津) the day is its next opening, not today
    return f"如{wording.pay_day(answer)}{paid_verb(answer)}"


def cost_line(answer: Answer, facts: Facts, card: bool = True) -> str | None:
    """"费用：约…元" (who pays, when not the person), or None when unknown or after a "no"."""
    if is_no(answer):
        return None
    if answer.employer_duty is not None:
        return f"费用：{answer.employer_duty.employer_pays}由单位补缴，个人不用交"
    cost, retiree = answer.cost, answer.retiree
    if cost is None and retiree is not None and retiree.lump_sum is not None and retiree.shortfall_years:
        return (f"费用：一次性补足{retiree.shortfall_years:g}年约{money(retiree.lump_sum)}"
                + tagged(_shown(facts, facts.national.cost, card)))
    if cost is None:
        return None
    owed = cost.person_pays if cost.person_pays is not None else cost.total
    if cost.payer in ("employer", "fund") and not owed:
        return "费用：单位（或基金）承担，个人不用交"
    said = ["不含可能的滞纳金" if facts.late_fee_uncertain else None, _shown(facts, facts.national.cost, card)]
    # a conditional's cost holds only if the gap may be paid back (杭州: "资料未说明能否补缴断缴期间")
    scope = "如可补缴，" if answer.can_backpay is BackpayVerdict.CONDITIONAL else ""
    return f"费用：{scope}约{money(owed)}" + tagged("；".join(x for x in said if x))


def basis_line(answer: Answer, facts: Facts) -> str:
    """"依据：本地规定 · 非官方网站 · …": who decided, how sure, as of when."""
    # nothing to pay back rests on the law (第六十条, 第四十八条), not on what most places do
    level = texts.LOCAL_RULE if facts.local_rule else texts.NATIONAL_RULE_TAG if answer.no_gap else texts.NATIONAL_PRACTICE
    as_of = f" · {wording.as_of_text(answer.as_of)}" if answer.as_of else ""
    disagree = f" · {texts.SOURCES_DISAGREE}" if facts.disagreements else ""
    return f"依据：{level} · {CONFIDENCE_LABELS[facts.confidence]}{as_of}{disagree} · 咨询12393"


def cost_rows(answer: Answer, facts: Facts) -> tuple[tuple[str, str], ...]:
    """(label, amount) rows of the estimate; none after a "no"."""
    cost = answer.cost
    if cost is None or is_no(answer):
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


def hotlines(answer: Answer) -> str | None:
    return "☎️ 咨询：" + "，".join(answer.hotlines) if answer.hotlines else None
