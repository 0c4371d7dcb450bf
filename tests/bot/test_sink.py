"""TelegramSink: replies in order at their slots; long waits finish in the background."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from bot.outbound import OutboundLimiter, OutboundLimits
from bot.telegram.aiogram_adapter import AiogramAdapter
from bot.telegram.ptb_adapter import PtbAdapter
from bot.telegram.sink import TelegramSink
from bot.telegram.translate import Outgoing
from flows.dialog import PRESS_ACCEPTED, PRESS_META, PRESS_STALE
from flows.messages import ChatKind, InEvent, OutMessage
from tests.bot.fake_bot_api import FakeBotApi


def adapter_for(framework: str, api: FakeBotApi) -> AiogramAdapter | PtbAdapter:
    if framework == "aiogram":
        return AiogramAdapter(api.token, api.base)
    return PtbAdapter(api.token, api.base, webhook=True)


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_long_waits_are_sent_in_the_background_in_order(framework: str, bot_api: FakeBotApi,
                                                              redis: Redis, key_prefix: str) -> None:
    adapter = adapter_for(framework, bot_api)
    await adapter.start()
    try:
        limiter = OutboundLimiter(redis, OutboundLimits(chat_per_second=4, chat_burst=1), "1", prefix=key_prefix)
        sink = TelegramSink(adapter.api, limiter, inline_wait=0.3)
        event = InEvent("telegram", "1", "-1009", "5", ChatKind.GROUP, "1", text="hi", bot_username="b")
        started = time.monotonic()
        await sink.deliver(event, [OutMessage(f"第{i}段") for i in range(4)])
        returned = time.monotonic() - started
        await sink.drain()
        sends = bot_api.calls_of("sendMessage")
    finally:
        await adapter.close()
    assert returned < 0.3  # the service's lease is not held while waiting
    assert [c.params["text"] for c in sends] == [f"第{i}段" for i in range(4)]
    assert sends[-1].at - sends[0].at >= 0.7  # 4 per second in one chat


async def test_other_platforms_are_not_delivered(bot_api: FakeBotApi, redis: Redis, key_prefix: str) -> None:
    adapter = adapter_for("aiogram", bot_api)
    try:
        sink = TelegramSink(adapter.api, OutboundLimiter(redis, OutboundLimits(), "1", prefix=key_prefix))
        event = InEvent("web", "1", "5", "5", ChatKind.PRIVATE, "1", text="hi")
        await sink.deliver(event, [OutMessage("x")])
    finally:
        await adapter.close()
    assert bot_api.calls == []


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
@pytest.mark.parametrize("press", [PRESS_ACCEPTED, PRESS_STALE])
async def test_the_pressed_keyboard_is_closed_after_the_reply_only_when_accepted(
        framework: str, press: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str) -> None:
    adapter = adapter_for(framework, bot_api)
    await adapter.start()
    try:
        limiter = OutboundLimiter(redis, OutboundLimits(chat_per_second=4, chat_burst=1), "1", prefix=key_prefix)
        sink = TelegramSink(adapter.api, limiter, inline_wait=0.3)  # the reply goes out in the background
        shown = {"inline_keyboard": [[{"text": "职工", "callback_data": "t:employee"}]]}
        await adapter.api.send_message(Outgoing(-1009, "参保类型？", reply_markup=shown))
        [asked] = bot_api.sent(-1009)
        event = InEvent("telegram", "1", "-1009", "5", ChatKind.GROUP, "2", payload="t:employee",
                        bot_username="b", pressed_message_id=str(asked["message_id"]))
        replies = [OutMessage("已记下", meta={PRESS_META: press}), OutMessage("断缴几个月？"), OutMessage("可以说“4个月”")]
        await sink.deliver(event, replies)
        assert len(bot_api.sent(-1009)) < 4  # still sending (in the background) when deliver returns
        await sink.drain()
    finally:
        await adapter.close()
    methods = [c.method for c in bot_api.calls if c.method in ("sendMessage", "editMessageReplyMarkup")]
    if press == PRESS_ACCEPTED:
        assert methods == ["sendMessage"] * 4 + ["editMessageReplyMarkup"]
        assert "reply_markup" not in bot_api.sent(-1009)[0]
    else:
        assert methods == ["sendMessage"] * 4 and bot_api.sent(-1009)[0] == asked
