"""Loose gaps at an edge: "三个多月" where the answer changes between 3 and 4 months.

The dialog asks one short question (`asking.ask_gap_edge`); a follow-up asked meanwhile is answered
for both outcomes (or once, where both are the same), never for one value picked silently.
"""

from __future__ import annotations

from typing import Any

from flows import texts
from flows.dialog.context import Ctx
from flows.messages import OutMessage
from flows.render import render_topic_both
from policies.model import Answer


def outcome(answer: Answer | None) -> tuple[Any, ...] | None:
    """What a person would act on: the verdict, the wait, claims for the gap, continuity, who pays."""
    if answer is None:
        return None
    return (
        answer.can_backpay, answer.waiting_months, answer.waiting_days, answer.retroactive,
        answer.continuity_reset, answer.late_fee.payer, answer.employer_duty is not None,
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
    alone as if it were the fact."""
    loose = slots.get("gap_range")
    if not (isinstance(loose, list) and len(loose) == 2) or "gap_months" not in slots:
        return None
    return f"约{loose[0]}–{loose[1]}个月（按{slots['gap_months']}个月计算）"


def edge_labels(edge: int) -> tuple[str, str]:
    """The two sides of the edge, as the question and its buttons name them."""
    return f"刚好{edge - 1}个月或更短", f"超过{edge - 1}个月"


def answer_both(ctx: Ctx, topics: set[str], low: int, edge: int) -> OutMessage | None:
    """The follow-up answered for both sides of the edge, then the short pending question."""
    slots = ctx.state.slots
    first = ctx.dialog.advisor.answer({**slots, "gap_months": low}, ctx.today)
    second = ctx.dialog.advisor.answer({**slots, "gap_months": edge}, ctx.today)
    if first is None or second is None:
        return None
    loose = slots.get("gap_range") or [low, edge]
    gap = f"约{loose[0]}–{loose[1]}个月"
    same = texts.EDGE_SAME.format(months=edge - 1)
    message = render_topic_both(first, second, ctx.today, topics, edge_labels(edge), gap, same)
    if ctx.group:  # a group is not asked personal details
        return message
    return OutMessage(message.text + "\n\n" + texts.GAP_EDGE_SHORT.format(months=edge - 1))
