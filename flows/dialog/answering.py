"""Answering: the first card, follow-ups on its parts, "what if" and off-topic questions (reminders: flows.reminders_dialog)."""

from __future__ import annotations

from typing import Any

from flows import texts
from flows.dialog import asking, edges, keyboards, suggestions, years
from flows.dialog.context import Ctx, Handler
from flows.messages import OutMessage
from flows.render import render_card, render_topic
from flows.slots import SLOT_SPECS
from flows.state import ANSWERED
from flows.turn import Turn
from policies.model import Answer, BackpayVerdict, InsuranceType

# Text intents asking about a part of an answer already given, and the part each one asks for.
QUESTION_TOPICS = {
    "question_backpay": "backpay",
    "question_cost": "cost",
    "question_when": "when",
    "question_where": "where",
    "question_materials": "where",
    "question_window": "window",
    "question_now": "now",
    "question_why": "why",
}


def card(ctx: Ctx, answer: Answer, prefix: str | None = None, changed: tuple[str, ...] = (),
         slots: dict[str, Any] | None = None) -> OutMessage:
    """The answer card with its buttons and suggestions; `slots` are those the answer was given for
    (a "what if" answers for others than the conversation's)."""
    gap = edges.loose_label(ctx.state.slots)
    ended = bool(ctx.state.slots.get("gap_ended")) and not answer.no_gap
    if ended:
        prefix = f"{prefix}\n{texts.GAP_ENDED}" if prefix else texts.GAP_ENDED
    message = render_card(answer, ctx.today, prefix=prefix, changed=changed, gap=gap)
    if ended and texts.GAP_ENDED not in message.text:  # no room for both: the note matters more than the echo
        message = render_card(answer, ctx.today, prefix=texts.GAP_ENDED, changed=changed, gap=gap)
    rows = keyboards.card_rows(answer, ctx.today, ctx.group, wants_base(answer, ctx), ctx.can_remind)
    said = ctx.state.slots if slots is None else slots
    chips = () if ctx.group else suggestions.suggest(ctx.dialog.advisor, said, answer, ctx.today)
    return keyboards.with_rows(message, rows, chips)


def show_answer(ctx: Ctx, answer: Answer, prefix: str | None = None, changed: tuple[str, ...] = ()) -> Turn:
    """Answer with the card; the state remembers that an answer was given."""
    ctx.state.step = ANSWERED
    ctx.state.answered = True
    return ctx.turn(card(ctx, answer, prefix, changed))


def follow_up(ctx: Ctx, topics: set[str], prefix: str | None = None) -> Turn:
    """Answer a question about the answer already given with just the part asked for."""
    answer = ctx.dialog.advisor.answer(ctx.state.slots, ctx.today)
    if answer is None:
        missing = asking.next_core_slot(ctx.state.slots) or "region"
        return asking.ask(ctx, missing, prefix or texts.REMIND_NEEDS_ANSWER)
    edge = edges.gap_edge(ctx)
    ask = not (ctx.group or edges.unsure(ctx))
    if edge is not None and (both := edges.answer_both(ctx, topics, *edge, ask=ask)) is not None:
        # The loose gap still straddles an edge: both outcomes, and the short question stays open
        # (not in a group, nor once the user said they cannot tell: the card's buttons stay).
        if not ask:
            rows = keyboards.card_rows(answer, ctx.today, ctx.group, wants_base(answer, ctx), ctx.can_remind)
            return ctx.turn(keyboards.with_rows(both, rows))
        return ctx.turn(OutMessage(both.text, buttons=keyboards.gap_edge_rows(*edge)))
    ctx.state.step = ANSWERED
    message = render_topic(answer, ctx.today, topics, gap=edges.loose_label(ctx.state.slots))
    if prefix:
        message = OutMessage(prefix + "\n\n" + message.text)
    rows = keyboards.card_rows(answer, ctx.today, ctx.group, wants_base(answer, ctx), ctx.can_remind)
    return ctx.turn(keyboards.with_rows(message, rows))


def topic(name: str) -> Handler:
    """A handler answering one part of the answer (a card button)."""

    def handler(ctx: Ctx) -> Turn:
        return follow_up(ctx, {name})

    handler.__name__ = f"topic_{name}"
    return handler


def questions(ctx: Ctx) -> Turn | None:
    """Typed follow-ups ("需要带什么材料", "住院能报吗", "那怎么办") once an answer was given."""
    topics = {QUESTION_TOPICS[i] for i in ctx.heard.intents if i in QUESTION_TOPICS}
    if not topics:
        return None
    if ctx.state.answered:
        return follow_up(ctx, topics)
    return _provisional(ctx, topics)


def _provisional(ctx: Ctx, topics: set[str]) -> Turn | None:
    """A question asked while a slot is still pending: answer it from what is known, say what could
    change it, and keep the pending question's buttons (instead of asking the same thing again)."""
    asked = ctx.state.step.asking
    answer = ctx.dialog.advisor.answer(ctx.state.slots, ctx.today)
    if asked is None:
        return None
    if answer is None:  # "能补吗" before the region is known: say why we ask, not "没能识别这个地区"
        return asking.ask(ctx, asked, texts.NEED_FIRST)
    edge = edges.gap_edge(ctx) if asked == "gap_months" else None
    if edge is not None and (both := edges.answer_both(ctx, topics, *edge)) is not None:
        return ctx.turn(OutMessage(both.text, buttons=keyboards.gap_edge_rows(*edge)))
    spec = SLOT_SPECS[asked]
    note = texts.PROVISIONAL.format(question=spec.question.split("？", 1)[0] + "？")
    message = render_topic(answer, ctx.today, topics)
    extra = years.rows() if years.pending(ctx) else ()  # "记不清准确年数" stays under the question
    return ctx.turn(OutMessage(note + "\n\n" + message.text, buttons=spec.buttons + extra))


def what_if(ctx: Ctx) -> Turn | None:
    """"如果是单位原因呢": answer the hypothetical without changing what the user told us."""
    if not (ctx.state.answered and ctx.updates):
        return None
    resident = ctx.state.slots.get("insurance_type") == InsuranceType.RESIDENT.value
    if resident and "cause" in ctx.updates and set(ctx.updates) <= {"cause", "insurance_type"}:
        return ctx.turn(OutMessage(texts.NO_EMPLOYER_FOR_RESIDENT))  # "如果是单位原因呢" after 新农合
    hypothetical = dict(ctx.state.slots)
    asking.merge(hypothetical, ctx.updates)
    answer = ctx.dialog.advisor.answer(hypothetical, ctx.today)
    if answer is None:
        return None
    return ctx.turn(card(ctx, answer, prefix=texts.WHAT_IF_PREFIX.strip(), slots=hypothetical))


def off_topic(ctx: Ctx) -> Turn | None:
    """A question outside gaps (医保卡挂失, 异地就医备案…): one honest line, no slot questions."""
    if _about_a_gap(ctx):
        return None
    kind = next((k for k in texts.OFF_TOPIC_WHAT if f"off_topic_{k}" in ctx.heard.intents), "other")
    return ctx.turn(OutMessage(texts.OFF_TOPIC.format(what=texts.OFF_TOPIC_WHAT[kind])))


def _about_a_gap(ctx: Ctx) -> bool:
    heard = ctx.heard
    return bool(
        "gap_talk" in heard.intents
        or heard.gap_months is not None
        or heard.gap_since is not None
        or heard.cause is not None
    )


def outside_mainland(ctx: Ctx) -> Turn | None:
    """台北, 香港 or 澳门 and nothing else read: the note that only the mainland is covered is said (once,
    by the dialog); the reply asks for a mainland city, or after an answer offers another region,
    never "没能识别这个地区" or "答不上来" as if the place had not been understood."""
    if "outside_mainland" not in ctx.heard.intents or ctx.state.pending.get("region"):
        return None
    again = texts.MAINLAND_ONLY_AGAIN if ctx.state.pending.get(asking.TOLD_MAINLAND) else None
    if ctx.state.answered:
        text = f"{again}{texts.MAINLAND_OTHER_REGION}" if again else texts.MAINLAND_OTHER_REGION
        return ctx.turn(OutMessage(text, buttons=_current_card_rows(ctx)))
    if ctx.state.step.asking != "region":
        return None  # the first message gets the welcome; another open question is asked again as usual
    return asking.ask(ctx, "region", again, question=texts.MAINLAND_REGION)


def cannot_answer(ctx: Ctx) -> Turn:
    """Truly outside what the engine knows: say so, with the hotline, and keep the card's buttons."""
    return ctx.turn(OutMessage(texts.CANNOT_ANSWER, buttons=_current_card_rows(ctx)))


def thanks(ctx: Ctx) -> Turn:
    return ctx.turn(OutMessage(texts.YOU_ARE_WELCOME))


def acknowledged(ctx: Ctx) -> Turn | None:
    """"好的" after an answer: nothing to answer, the card's buttons stay; before one, the pending
    question is asked again as it was (not "没能识别…")."""
    if not ctx.state.answered:
        asked = ctx.state.step.asking
        if asked is None or edges.pending_edge(ctx) is not None:
            return None  # the edge question is repeated by its own route
        return asking.ask(ctx, asked)
    return ctx.turn(OutMessage(texts.ANYTHING_ELSE, buttons=_current_card_rows(ctx)))


def _current_card_rows(ctx: Ctx) -> keyboards.Rows:
    """The card's buttons for the answer the conversation's facts give now."""
    answer = ctx.dialog.advisor.answer(ctx.state.slots, ctx.today)
    return keyboards.card_rows(answer, ctx.today, ctx.group, False, ctx.can_remind)


def human(ctx: Ctx) -> Turn:
    return ctx.turn(OutMessage(texts.HOTLINES))


def wants_base(answer: Answer, ctx: Ctx) -> bool:
    """The estimate would improve with the user's monthly base, and it has not been given."""
    return (
        answer.can_backpay is not BackpayVerdict.NO
        and answer.employer_duty is None  # the employer pays: nothing for the person to estimate
        and "monthly_base" in answer.missing_inputs
        and "monthly_base" not in ctx.state.slots
    )
