"""Loose gaps at an edge: "三个多月" where the answer changes between 3 and 4 months.

The dialog asks one short question (`asking.ask_gap_edge`); a follow-up asked meanwhile is answered
for both outcomes (or once, where both are the same), never for one value picked silently.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flows import texts
from flows.dialog import keyboards
from flows.dialog.context import Ctx
from flows.messages import OutMessage
from flows.render import heading, topic_parts
from flows.slots import days_label
from flows.state import ANSWERED, Step
from flows.turn import Turn
from policies.model import Answer

# Replies to "是刚好3个月，还是已经超过3个月？" that name no number. "没超过" says under, so the
# under-words are tried first.
_UNDER = re.compile(r"没超|不超过|没有超过|刚好|正好|刚满|不到|没到|以内|之内")
_OVER = re.compile(r"超过|超了|不止|多于|多一点|多几天|过了")
# Kept in the slots' "skipped" list once the user cannot tell the side of an edge.
UNSURE = "gap_edge"
_UNSURE = re.compile(r"不清楚|不知道|不确定|记不清|说不准|不好说|忘了|都有可能")


def outcome(answer: Answer | None) -> tuple[Any, ...] | None:
    """What a person would act on: the verdict and its condition, the wait, claims for the gap,
    continuity, who pays."""
    if answer is None:
        return None
    return (
        answer.can_backpay, answer.condition, answer.waiting_months, answer.waiting_days, answer.waiting_range,
        answer.retroactive, answer.continuity_reset, answer.late_fee.payer, answer.employer_duty is not None,
    )


def gap_edge(ctx: Ctx) -> tuple[int, int] | None:
    """(low, edge) when the gap was given loosely ("三个多月") and the answer changes inside its range."""
    slots = ctx.state.slots
    loose = slots.get("gap_range")
    if not (isinstance(loose, list) and len(loose) == 2) or "gap_months" not in slots:
        return None
    low, high = int(loose[0]), int(loose[1])
    first = outcome(ctx.dialog.advisor.answer({**slots, "gap_months": low}, ctx.today))
    for months in range(low + 1, high + 1):
        if outcome(ctx.dialog.advisor.answer({**slots, "gap_months": months}, ctx.today)) != first:
            return low, months
    return None  # the same answer across the range: no need to ask (the range stays for labels)


def loose_label(slots: dict[str, Any]) -> str | None:
    """The heading's gap when the user gave a range: "约3–4个月（按3个月计算）", never the low value
    alone as if it were the fact; a gap said in days, as the days ("90天"); one that ended, so."""
    if slots.get("gap_days") is not None:
        return days_label(slots)
    loose = slots.get("gap_range")
    if not (isinstance(loose, list) and len(loose) == 2) or "gap_months" not in slots:
        return f"{slots['gap_months']}个月（已恢复缴费）" if slots.get("gap_ended") and "gap_months" in slots else None
    ended = "，已恢复缴费" if slots.get("gap_ended") else ""
    return f"约{loose[0]}–{loose[1]}个月（按{slots['gap_months']}个月计算{ended}）"


def edge_labels(edge: int) -> tuple[str, str]:
    """The two sides of the edge, as the question and its buttons name them."""
    return f"刚好{edge - 1}个月或更短", f"超过{edge - 1}个月"


def answer_both(ctx: Ctx, topics: set[str], low: int, edge: int, ask: bool = True) -> OutMessage | None:
    """The follow-up answered for both sides of the edge, then the short pending question."""
    slots = ctx.state.slots
    first = ctx.dialog.advisor.answer({**slots, "gap_months": low}, ctx.today)
    second = ctx.dialog.advisor.answer({**slots, "gap_months": edge}, ctx.today)
    if first is None or second is None:
        return None
    loose = slots.get("gap_range") or [low, edge]
    gap = f"约{loose[0]}–{loose[1]}个月"
    same = texts.EDGE_SAME.format(months=edge - 1)
    message = _render_both(first, second, ctx.today, topics, edge_labels(edge), gap, same)
    if ctx.group or not ask:  # a group is not asked personal details
        return message
    return OutMessage(message.text + "\n\n" + texts.GAP_EDGE_SHORT.format(months=edge - 1))


def unsure(ctx: Ctx) -> bool:
    """The user said they cannot tell which side of the edge they are on."""
    return UNSURE in ctx.state.slots.get("skipped", [])


def pending_edge(ctx: Ctx) -> tuple[int, int] | None:
    """The edge whose short question is open (the gap is being asked and still straddles it)."""
    return gap_edge(ctx) if ctx.state.step == Step.ask("gap_months") else None


def read_edge_reply(ctx: Ctx) -> int | None:
    """"超过了" / "刚好" answering the edge question: the months on that side; None otherwise."""
    edge = pending_edge(ctx)
    if edge is None:
        return None
    said = ctx.updates.get("gap_months")
    if said is not None and not edge[0] <= said <= edge[1]:
        return None  # "超过5个月": a number of its own, not a side of this edge
    if _UNDER.search(ctx.text):
        return edge[0]
    if _OVER.search(ctx.text):
        return edge[1]
    return None


def unsure_or_reask(ctx: Ctx) -> Turn | None:
    """At an open edge question: "不清楚" gets both outcomes (and follow-ups keep answering both);
    anything else unread gets the same short question again, not the generic gap question."""
    edge = pending_edge(ctx)
    if edge is None:
        return None
    if not _UNSURE.search(ctx.text):
        return ctx.turn(OutMessage(texts.GAP_EDGE.format(months=edge[1] - 1), buttons=keyboards.gap_edge_rows(*edge)))
    return both_outcomes(ctx, edge)


def both_outcomes(ctx: Ctx, edge: tuple[int, int]) -> Turn | None:
    """The answer for both sides of the edge (verdict, how and when), with the card's buttons."""
    both = answer_both(ctx, {"backpay", "when"}, *edge, ask=False)
    skipped = ctx.state.slots.setdefault("skipped", [])
    if UNSURE not in skipped:
        skipped.append(UNSURE)  # not asked again; a new gap clears it (`asking.merge`)
    answer = ctx.dialog.advisor.answer(ctx.state.slots, ctx.today)
    if both is None or answer is None:
        return None
    ctx.state.step = ANSWERED
    ctx.state.answered = True
    rows = keyboards.card_rows(answer, ctx.today, ctx.group, False, ctx.can_remind)
    return ctx.turn(keyboards.with_rows(both, rows))


def both_button(ctx: Ctx) -> Turn | None:
    """"说不准，两种都看看" under the edge question; None (stale) when no edge question is open."""
    edge = pending_edge(ctx)
    return both_outcomes(ctx, edge) if edge is not None else None


def _render_both(low: Answer, high: Answer, on: date, topics: set[str], labels: tuple[str, str],
                 gap: str, same_note: str) -> OutMessage:
    """Follow-ups while a loose gap ("三个多月") straddles an edge: what is the same for both
    outcomes once, what differs under each label; never one of them passed off as the fact."""
    (first, cited_low), (second, cited_high) = _apart(topic_parts(low, on, topics)), _apart(topic_parts(high, on, topics))
    cited = [_CITED + "；".join(dict.fromkeys(cited_low + cited_high))] if cited_low or cited_high else []
    same = [p for p in first if p in second] + cited  # the sources of both sides, once
    if [p for p in same if p not in cited] == first == second:
        return OutMessage("\n\n".join([heading(low, gap), same_note, *same, texts.DISCLAIMER]))
    lead = 0  # what both share before they part (the verdict, usually) stays first
    while lead < min(len(first), len(second)) and first[lead] == second[lead]:
        lead += 1
    rest = [p for p in same if p not in first[:lead]]
    parts = [
        heading(low, gap), *first[:lead],
        f"【{labels[0]}】\n" + "\n".join(p for p in first if p not in same),
        f"【{labels[1]}】\n" + "\n".join(p for p in second if p not in same),
    ]
    return OutMessage("\n\n".join([*parts, *rest, texts.DISCLAIMER]))


_CITED = "📚 依据："


def _apart(parts: list[str]) -> tuple[list[str], list[str]]:
    """The parts without their "📚 依据" line, and the sources that line names."""
    cited = [item for p in parts if p.startswith(_CITED) for item in p[len(_CITED):].split("；")]
    return [p for p in parts if not p.startswith(_CITED)], cited
