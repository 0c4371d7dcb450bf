"""Render the engine's answer for chat: a short card first, each part behind its own button.

The card (at most `CARD_MAX_CHARS` characters) says the verdict with its reason, how to do it (or,
after a "no", what to do now), when insurance works again, the cost when known, and whether a
local rule or national practice decided it. The parts behind the buttons are `flows.render_parts`
(`render_topic`, `topic_parts`: re-exported here); the lines both say are `flows.answer_lines`.
Labels and sentences shared with the command line come from `policies.wording`.
"""

from __future__ import annotations

from datetime import date

from flows import texts
from flows.answer_facts import Facts, facts_of
from flows.answer_lines import (
    CONFIDENCE_LABELS,
    VERDICT_LABELS,
    basis_line,
    cost_line,
    cost_rows,
    heading,
    how_line,
    is_no,
    keep_line,
    verdict_line,
    when_line,
)
from flows.messages import OutMessage
from flows.render_parts import TOPICS, Topics, render_topic, topic_parts
from flows.views import AnswerView, Timeline
from policies import wording
from policies.model import Answer

__all__ = ["CARD_MAX_CHARS", "TOPICS", "VERDICT_LABELS", "Topics", "heading", "render_card", "render_topic",
           "topic_parts"]

CARD_MAX_CHARS = 350


def render_card(
    answer: Answer, on: date, prefix: str | None = None, changed: tuple[str, ...] = (), gap: str | None = None
) -> OutMessage:
    """The first answer: at most CARD_MAX_CHARS characters, with the structured view attached.
    `gap` replaces the heading's gap (a loose "约3–4个月" answered for one of its values)."""
    facts = facts_of(answer, on)
    tail = basis_line(answer, facts)
    lines = _card_lines(answer, facts, prefix, None, gap)
    overflow = _length([*lines, tail]) - CARD_MAX_CHARS
    if overflow > 0:  # a long reason (宁波 lists its cases) is cut first, then the echo shortened
        room = len(verdict_line(answer)) - overflow
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
    if answer.no_gap:  # nothing to pay back: no how, when or cost (after leaving a job: how to keep paying)
        return [line for line in (prefix, heading(answer), verdict_line(answer), keep_line(answer, facts)) if line]
    return [line for line in (
        prefix, wording.headline(answer), heading(answer, gap), verdict_line(answer, room),
        how_line(answer, facts), when_line(answer, facts), cost_line(answer, facts),
    ) if line]


def _length(lines: list[str]) -> int:
    return sum(len(line) for line in lines) + max(len(lines) - 1, 0)


def _view(answer: Answer, facts: Facts, changed: tuple[str, ...]) -> AnswerView:
    return AnswerView(
        verdict="nothing_due" if answer.no_gap else answer.can_backpay.value,  # type: ignore[arg-type]
        headline=verdict_line(answer),
        local_rule=facts.local_rule,
        confidence=CONFIDENCE_LABELS[facts.confidence],
        cost_rows=cost_rows(answer, facts),
        timeline=Timeline(
            gap_start=facts.gap_start,
            # no day of paying is assumed when the enrolment period has ended (joining now is local)
            paid_on=None if is_no(answer) or answer.enrolment_closed else facts.paid_on,
            waiting_ends=facts.waiting_ends,
            benefits_resume=facts.benefits_resume,
        ),
        sources=tuple((wording.source_name(s), CONFIDENCE_LABELS[s.confidence]) for s in answer.sources),
        changed=changed,
    )


