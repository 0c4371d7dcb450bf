"""Commands and conversation control: start (with a deep link), help, cancel, restart, back."""

from __future__ import annotations

from typing import Any

from flows import texts
from flows.deeplink import StartContext, decode_start
from flows.dialog import asking, filling
from flows.dialog.context import Ctx
from flows.dialog.keyboards import card_rows
from flows.messages import OutMessage
from flows.slots import SLOT_SPECS
from flows.state import ConversationState
from flows.turn import CancelReminders, CountReferral, Turn


def start(ctx: Ctx) -> Turn:
    """/start, maybe with a deep-link payload that fills the region and counts the referral."""
    ctx.state = ConversationState()
    effects: list[Any] = []
    intro = texts.WELCOME
    payload = ctx.event.start_payload or ctx.arg or None
    link = decode_start(payload, ctx.dialog.deeplink_key) if payload else None
    if link is not None:
        _apply_link(ctx, link)
        if link.source:
            effects.append(CountReferral(link.source))
        region = ctx.dialog.regions.get(link.region_code) if link.region_code else None
        if region is not None:
            intro = texts.WELCOME_WITH_REGION.format(region=region.full_name or region.name)
    turn = filling.advance(ctx, prefix=intro)
    turn.effects[:0] = effects
    return turn


def _apply_link(ctx: Ctx, link: StartContext) -> None:
    slots = ctx.state.slots
    if link.region_code and ctx.dialog.regions.get(link.region_code) is not None:
        slots["region"] = link.region_code
    if link.source:
        slots["source"] = link.source
    for key, value in link.slots.items():
        spec = SLOT_SPECS.get(key)
        checked = spec.validate(value) if spec is not None and spec.kind != "region" else None
        if checked is not None:
            slots[key] = checked


def show_help(ctx: Ctx) -> Turn:
    return ctx.turn(OutMessage(texts.HELP))


def cancel(ctx: Ctx) -> Turn:
    return Turn(state=None, messages=[OutMessage(texts.CANCELLED)], effects=[CancelReminders()])


def restart(ctx: Ctx) -> Turn:
    ctx.state = ConversationState()
    return filling.advance(ctx, prefix=texts.RESTARTED)


def back(ctx: Ctx) -> Turn:
    state = ctx.state
    if not state.history:
        return asking.reask(ctx, texts.NOTHING_TO_UNDO) or filling.advance(ctx, prefix=texts.NOTHING_TO_UNDO)
    state.slots = state.history.pop()
    state.answered = False
    state.pending = {}
    return filling.advance(ctx, prefix=texts.WENT_BACK)


def unknown_command(ctx: Ctx) -> Turn:
    return reask_or_card(ctx, texts.UNKNOWN_COMMAND)


def stale_button(ctx: Ctx) -> Turn:
    return reask_or_card(ctx, texts.STALE_BUTTON)


def reask_or_card(ctx: Ctx, note: str) -> Turn:
    """Say what went wrong and repeat the pending question, or show the answer's buttons again."""
    asked = asking.reask(ctx, note)
    if asked is not None:
        return asked
    if ctx.state.answered:
        answer = ctx.dialog.advisor.answer(ctx.state.slots, ctx.today)
        if answer is not None:
            rows = card_rows(answer, ctx.today, ctx.group, False, ctx.can_remind)
            return ctx.turn(OutMessage(note, buttons=rows))
    return filling.advance(ctx, prefix=note)
