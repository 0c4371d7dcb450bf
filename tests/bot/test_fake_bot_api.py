"""The fake Bot API server itself: long polling with offset/timeout, recording, 429 on demand."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.bot.fake_bot_api import Chat, FakeBotApi, User

ALICE = User(1, "Alice")


async def call(api: FakeBotApi, method: str, **params: object) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.post(f"{api.base}/bot{api.token}/{method}",
                                                          json=params) as resp:
        return resp.status, await resp.json()


async def test_get_updates_waits_for_timeout_and_confirms_by_offset(bot_api: FakeBotApi) -> None:
    started = time.monotonic()
    status, body = await call(bot_api, "getUpdates", timeout=1)
    assert status == 200 and body["result"] == [] and time.monotonic() - started >= 0.95

    waiting = asyncio.create_task(call(bot_api, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    pushed = await bot_api.say(ALICE, Chat(ALICE.id), "你好")
    _, body = await waiting
    assert [u["update_id"] for u in body["result"]] == [pushed["update_id"]]  # returned as soon as it came

    _, again = await call(bot_api, "getUpdates", timeout=0)
    assert again["result"] == body["result"]  # not confirmed yet
    _, after = await call(bot_api, "getUpdates", offset=pushed["update_id"] + 1, timeout=0)
    assert after["result"] == [] and bot_api.pending == 0


async def test_429_on_demand_and_every_call_recorded(bot_api: FakeBotApi) -> None:
    bot_api.fail_next("sendMessage", retry_after=3, chat_id=5)
    status, body = await call(bot_api, "sendMessage", chat_id=5, text="a")
    assert status == 429 and body["parameters"] == {"retry_after": 3}
    assert body["description"] == "Too Many Requests: retry after 3"
    status, body = await call(bot_api, "sendMessage", chat_id=5, text="a")
    assert status == 200 and body["result"]["text"] == "a"
    assert [(c.method, c.status) for c in bot_api.calls] == [("sendMessage", 429), ("sendMessage", 200)]
    status, _ = await call(bot_api, "editMessageText", chat_id=5, message_id=body["result"]["message_id"],
                           text="a")
    assert status == 400  # "message is not modified", as Telegram says


async def test_wrong_token_is_unauthorized(bot_api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{bot_api.base}/bot1:wrong/getMe") as resp:
        assert resp.status == 401
