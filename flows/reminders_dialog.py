"""The reminder part of the conversation: pure handlers the dialog's routes call.

Each handler takes a `ReminderContext` (the event, today, the engine's answer for the
conversation so far) and returns a `ReminderReply`: messages the dialog can send now
and `ReminderOp` effects the service carries out against Redis before replying (the
confirmation is worded from what was really stored). Nothing is set unless the person
asked ("提醒我…") or pressed a button. The `route_*` functions at the end adapt them to the
dialog's route table (flows/dialog/routes.py):

    command  /reminders, /stop                       -> route_list, route_stop (on_command)
    payload  rp: rc: rz: rd: (flows.reminders_text)  -> route_button (on_button)
    action   a:remind ("⏰ 设个提醒")                  -> route_offer (offer)
    text     "…提醒我…" naming a day, before all else -> route_own_day (own_day, set_own)
    intent   "提醒我" without a day                    -> route_intent (on_intent)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flows import reminders_text as say
from flows.dialog import asking
from flows.dialog.context import Ctx
from flows.messages import ChatKind, InEvent, OutMessage
from flows.reminder_plan import Plan, plan_reminders
from flows.reminders import Kind, clean_arg
from flows.reminders_ops import (
    CancelReminder,
    ListReminders,
    ReminderOp,
    ReminderSpec,
    SetReminders,
    SnoozeReminder,
    StopReminders,
)
from flows.reminders_time import morning_of
from flows.reminders_when import OwnRequest, own_reminder
from flows.turn import Turn
from policies.model import Answer

COMMANDS = ("reminders", "stop")
PAYLOAD_KINDS = ("rp", "rc", "rz", "rd")


@dataclass(frozen=True, slots=True)
class ReminderContext:
    event: InEvent
    today: date
    answer: Answer | None  # the engine's answer for the slots so far (None: not enough known)
    slots: dict[str, Any]
    handoff: str | None = None  # start payload continuing this conversation privately (groups)


@dataclass(slots=True)
class ReminderReply:
    messages: list[OutMessage] = field(default_factory=list)
    effects: list[ReminderOp] = field(default_factory=list)


def is_reminder_payload(payload: str) -> bool:
    kind, sep, _ = payload.partition(":")
    return bool(sep) and kind in PAYLOAD_KINDS


def on_command(ctx: ReminderContext, command: str) -> ReminderReply:
    """/reminders lists, /stop ends all of them."""
    if _group(ctx):
        return _private_only(ctx)
    if command == "stop":
        return ReminderReply(effects=[StopReminders(command=True)])
    return ReminderReply(effects=[ListReminders()])


def offer(ctx: ReminderContext) -> ReminderReply:
    """"⏰ 设个提醒": list what the answer supports, each with its date and reason, to press."""
    if _group(ctx):
        return _private_only(ctx)
    if ctx.answer is None:
        return ReminderReply([OutMessage(say.NEEDS_ANSWER)])
    plans = plan_reminders(ctx.answer, ctx.slots, ctx.today)
    if not plans:
        return ReminderReply([OutMessage(say.NOTHING_TO_OFFER)])
    if not ctx.event.can_push:
        return _note_down([f"• {p.due.isoformat()}：{p.reason}" for p in plans])
    return ReminderReply([say.offer([(p.kind, p.reason, p.due) for p in plans])])


def own_day(text: str, today: date) -> OwnRequest | None:
    """A "提醒我" sentence that names a day (or a wrong one); None otherwise (cheap; no context)."""
    request = own_reminder(text, today)
    if request is None or (request.day is None and request.error is None):
        return None
    return request


def set_own(ctx: ReminderContext, request: OwnRequest) -> ReminderReply:
    """Set a reminder on a day of the person's own ("下个月10号提醒我交医保")."""
    if _group(ctx):
        return _private_only(ctx)
    if request.error or request.day is None:
        return ReminderReply([OutMessage(say.BAD_DAY.get(request.error or "", say.ASK_DAY))])
    topic = clean_arg(request.topic)
    if not ctx.event.can_push:
        return _note_down([f"• {request.day.isoformat()}：{topic or '您设的提醒'}"])
    spec = ReminderSpec(Kind.OWN.value, morning_of(request.day), topic, topic or "您设的提醒")
    return ReminderReply(effects=[SetReminders((spec,))])


def on_intent(ctx: ReminderContext) -> ReminderReply:
    """"提醒我" without a day: offer what the answer supports, else ask for a day."""
    if ctx.answer is not None and not _group(ctx):
        return offer(ctx)
    if _group(ctx):
        return _private_only(ctx)
    return ReminderReply([OutMessage(say.ASK_DAY)])


def on_button(ctx: ReminderContext, payload: str) -> ReminderReply:
    """rp: set an offered reminder; rc: cancel; rz: snooze a week; rd: done."""
    kind, _, value = payload.partition(":")
    if _group(ctx):
        return _private_only(ctx)
    if kind == "rp":
        return offer(ctx) if not ctx.event.can_push else _set_planned(ctx, value)
    if kind == "rc":
        return ReminderReply(effects=[StopReminders(command=False) if value == "*" else CancelReminder(value)])
    reminder_kind, _, arg = value.partition("|")
    try:
        parsed = Kind(reminder_kind)
    except ValueError:
        return ReminderReply([OutMessage(say.GONE)])
    if kind == "rz":
        return ReminderReply(effects=[SnoozeReminder(parsed.value, clean_arg(arg))])
    if parsed.repeats and arg.isdigit():
        return ReminderReply([OutMessage(say.DONE_REPEATING.format(day=int(arg)))])
    return ReminderReply([OutMessage(say.DONE)])


def _set_planned(ctx: ReminderContext, which: str) -> ReminderReply:
    plans: Sequence[Plan] = plan_reminders(ctx.answer, ctx.slots, ctx.today) if ctx.answer else []
    chosen = [p for p in plans if which == "*" or p.kind.value == which]
    if not chosen:
        return ReminderReply([OutMessage(say.NOTHING_TO_OFFER)])
    specs = tuple(ReminderSpec(p.kind.value, p.due, p.arg, p.reason) for p in chosen)
    return ReminderReply(effects=[SetReminders(specs)])


def _group(ctx: ReminderContext) -> bool:
    return ctx.event.chat_kind is ChatKind.GROUP


def _note_down(lines: list[str]) -> ReminderReply:
    """Where nothing can deliver a reminder later (a web page): the dates to note down, nothing set."""
    return ReminderReply([OutMessage("\n".join([say.CANNOT_SEND, *lines]))])


def _private_only(ctx: ReminderContext) -> ReminderReply:
    """In a group: the reminder is set in the private chat; offer the deep link there."""
    return ReminderReply([OutMessage(say.PRIVATE_ONLY, private_payload=ctx.handoff, link_label="私聊设置提醒")])


# ------------------------------------------------------------- routes (flows.dialog.routes)
def _ctx(ctx: Ctx) -> ReminderContext:
    answer = ctx.dialog.advisor.answer(ctx.state.slots, ctx.today)
    handoff = ctx.dialog.handoff_payload(ctx.state) if ctx.group else None
    return ReminderContext(ctx.event, ctx.today, answer, ctx.state.slots, handoff)


def _turn(ctx: Ctx, reply: ReminderReply) -> Turn:
    return ctx.turn(*reply.messages, effects=list(reply.effects))


def route_list(ctx: Ctx) -> Turn:
    """/reminders"""
    return _turn(ctx, on_command(_ctx(ctx), "reminders"))


def route_stop(ctx: Ctx) -> Turn:
    """/stop"""
    return _turn(ctx, on_command(_ctx(ctx), "stop"))


def route_offer(ctx: Ctx) -> Turn:
    """"⏰ 设个提醒" (a:remind). Before an answer: ask what is still missing, saying why."""
    rctx = _ctx(ctx)
    if rctx.answer is None and not ctx.group:
        return asking.ask(ctx, asking.next_core_slot(ctx.state.slots) or "region", say.NEEDS_ANSWER)
    return _turn(ctx, offer(rctx))


def route_button(ctx: Ctx) -> Turn:
    """rp: / rc: / rz: / rd: buttons."""
    return _turn(ctx, on_button(_ctx(ctx), ctx.event.payload or ""))


def route_own_day(ctx: Ctx) -> Turn | None:
    """Text naming a day to be reminded on; None lets the other routes read the message."""
    request = own_day(ctx.text, ctx.today)
    return None if request is None else _turn(ctx, set_own(_ctx(ctx), request))


def route_intent(ctx: Ctx) -> Turn:
    """"提醒我" without a day."""
    return _turn(ctx, on_intent(_ctx(ctx)))
