"""Stand-ins used while developing against the contracts, and helpers for scripted conversations.

`ToyDialog` + `ToyService` follow the contracts of flows.dialog / flows.service
(a pure `step`, `submit(event)`, replies through a `Sink`) with real Redis, so the
adapter tests exercise the adapters alone; the end-to-end tests run the real core.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from flows.deeplink import StartContext, decode_start, encode_start
from flows.dialog import PRESS_ACCEPTED, PRESS_META, PRESS_STALE
from flows.messages import Button, ChatKind, InEvent, OutMessage
from flows.state import ConversationState, Step
from flows.turn import CountReferral, Turn


class Sink(Protocol):
    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None: ...


class ToyDialog:
    """A tiny conversation: type (buttons) -> months (text) -> answer; group hand-off for details."""

    def step(self, state: ConversationState, event: InEvent, today: date) -> Turn:
        if event.chat_kind is ChatKind.GROUP and not event.addressed:
            return Turn(state)
        text = (event.text or "").strip()
        if text == "/start":
            state = ConversationState(step=Step.ask("insurance_type"))
            ctx = decode_start(event.start_payload) if event.start_payload else None
            effects: list[Any] = []
            if ctx:
                state.slots.update(ctx.slots)
                if ctx.region_code:
                    state.slots["region"] = ctx.region_code
                if ctx.source:
                    effects.append(CountReferral(ctx.source))
            region = state.slots.get("region", "?")
            return Turn(state, [OutMessage(f"你好，地区 {region}。参保类型？", buttons=(
                (Button("职工", "t:employee"), Button("居民", "t:resident")),))], effects)
        if event.chat_kind is ChatKind.GROUP and "我" in text:
            payload = encode_start(StartContext(region_code="650100", slots={"gap_months": 4}))
            return Turn(state, [OutMessage(f"{event.user_name}，个人情况请私聊", private_payload=payload)])
        if event.payload and event.payload.startswith("t:") and state.step == Step.ask("insurance_type"):
            state.slots["insurance_type"] = event.payload[2:]
            state.step = Step.ask("gap_months")
            return Turn(state, [OutMessage("断缴几个月？", meta={PRESS_META: PRESS_ACCEPTED})])
        if event.payload:  # like the real dialog: a press it cannot use is stale, and it says so
            return Turn(state, [OutMessage("这个按钮已经失效了", meta={PRESS_META: PRESS_STALE})])
        if state.step == Step.ask("gap_months") and text.isdigit():
            state.slots["gap_months"] = int(text)
            return Turn(state, [OutMessage(f"{state.slots['insurance_type']} 断缴 {text} 个月：答复"),
                                OutMessage("还有问题吗？", suggestions=("怎么补缴",))])
        return Turn(state, [OutMessage(f"收到：{text}")])


async def settle(seconds: float = 0.3) -> None:
    """Give the bot a moment in which it should stay silent."""
    await asyncio.sleep(seconds)
