"""The adapters on both frameworks, polling and webhook, against the fake Bot API (toy core).

These check the adapter's side of the contract with a small stand-in dialog; the
same kinds of scripts run against the real core in test_end_to_end.py.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.telegram.runner import FRAMEWORKS
from flows.deeplink import StartContext, decode_start, encode_start
from flows.service import ConversationService
from flows.store import ConversationStore, KeySpace
from tests.bot.conftest import SECRET, WEBHOOK_PATH, start_bot
from tests.bot.fake_bot_api import Chat, FakeBotApi, User
from tests.bot.support import ToyDialog, settle

# PTB's own RetryAfter constructor warns about its int -> timedelta migration.
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
MODES = ("polling", "webhook")
Launch = Callable[..., Any]
ALICE = User(1001, "Alice", "alice")
BOB = User(1002, "Bob")


@pytest.fixture
def launch(bot_api: FakeBotApi, redis: Redis, key_prefix: str) -> Launch:
    """Start a bot worker with the real ConversationService (real Redis) around the toy dialog."""
    store = ConversationStore(redis, KeySpace(key_prefix))

    def start(framework: str, mode: str, **kwargs: Any) -> Any:
        def service(sink: Any) -> ConversationService:
            return ConversationService(store, ToyDialog(), sink)

        return start_bot(bot_api, framework, mode, redis, service, key_prefix=key_prefix, **kwargs)
    return start


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_private_conversation_with_buttons(
    framework: str, mode: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    chat = Chat(ALICE.id)
    async with launch(framework, mode):
        await bot_api.say(ALICE, chat, "/start")
        [welcome] = await bot_api.replies(chat.id, 1)
        labels = [b["text"] for row in welcome["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["职工", "居民"]

        await bot_api.press(ALICE, welcome, "t:employee")
        [question] = await bot_api.replies(chat.id, 1, after=1)
        assert question["text"] == "断缴几个月？"
        closed = await bot_api.wait_for(lambda: bot_api.calls_of("editMessageReplyMarkup"))
        assert "reply_markup" not in bot_api.sent(chat.id)[0]  # accepted: it cannot be pressed again
        assert bot_api.sent(chat.id)[0]["text"] == welcome["text"]
        replied_at, closed_at = _order(bot_api, "sendMessage", "editMessageReplyMarkup")
        assert replied_at < closed_at  # after the turn said the press was accepted
        assert len(closed) == 1 and closed[0].params["message_id"] == welcome["message_id"]

        await bot_api.press(ALICE, welcome, "t:resident")  # a second tap before the keyboard went away
        [stale] = await bot_api.replies(chat.id, 1, after=2)
        assert "失效" in stale["text"] and "resident" not in stale["text"]
        assert len(bot_api.calls_of("answerCallbackQuery")) == 2  # answered too, no spinner left
        assert len(bot_api.calls_of("editMessageReplyMarkup")) == 1  # the old message is left alone
        await bot_api.say(ALICE, chat, "4")
        answer, follow_up = await bot_api.replies(chat.id, 2, after=3)

        assert "employee" in answer["text"] and "4" in answer["text"]
        assert "怎么补缴" in follow_up["text"]
    commands = bot_api.calls_of("setMyCommands")[0].params["commands"]
    assert [c["command"] for c in commands] == ["start", "help", "cancel", "restart", "reminders", "stop"]
    assert all(c["description"] for c in commands)
    if mode == "webhook":
        hook = bot_api.calls_of("setWebhook")[0].params
        assert hook["secret_token"] == SECRET and hook["url"].endswith(WEBHOOK_PATH)


def _order(api: FakeBotApi, *methods: str) -> list[int]:
    """Where in the call log the last successful call of each method stands."""
    return [max(i for i, c in enumerate(api.calls) if c.method == m and c.status == 200) for m in methods]


class _SlowService(ConversationService):
    """The real service, with button presses held until the test lets them through (a slow turn)."""

    def __init__(self, gate: asyncio.Event, *args: Any) -> None:
        super().__init__(*args)
        self._gate = gate

    async def submit(self, event: Any) -> Any:
        if event.payload is not None:
            await self._gate.wait()
        return await super().submit(event)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_press_is_acknowledged_while_its_turn_is_slow(
    framework: str, mode: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str
) -> None:
    gate = asyncio.Event()
    store = ConversationStore(redis, KeySpace(key_prefix))
    chat = Chat(ALICE.id)
    async with start_bot(bot_api, framework, mode, redis, lambda sink: _SlowService(gate, store, ToyDialog(), sink),
                         key_prefix=key_prefix):
        await bot_api.say(ALICE, chat, "/start")
        [welcome] = await bot_api.replies(chat.id, 1)
        await bot_api.press(ALICE, welcome, "t:employee")
        try:
            await bot_api.wait_for(lambda: bot_api.calls_of("answerCallbackQuery"))
            assert len(bot_api.sent(chat.id)) == 1 and "reply_markup" in bot_api.sent(chat.id)[0]
        finally:
            gate.set()
        [question] = await bot_api.replies(chat.id, 1, after=1)
        assert question["text"] == "断缴几个月？"
        await bot_api.wait_for(lambda: "reply_markup" not in bot_api.sent(chat.id)[0])


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_group_speaks_only_when_addressed(
    framework: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    group = Chat(-100777, "supergroup", "社区群")
    async with launch(framework, "polling"):
        await bot_api.say(ALICE, group, "大家好，今天开会吗")
        await bot_api.say(BOB, group, "@someone_else 你好")
        await settle()
        assert bot_api.sent(group.id) == []

        await bot_api.say(ALICE, group, f"@{bot_api.bot_username} 医保断缴怎么办")
        [reply] = await bot_api.replies(group.id, 1)
        assert reply["text"] == "收到：医保断缴怎么办"  # the @botname is stripped before the core sees it

        await bot_api.say(BOB, group, f"/start@{bot_api.bot_username}")
        [to_bob] = await bot_api.replies(group.id, 1, after=1)
        assert to_bob["reply_markup"]["inline_keyboard"]

        reply_to_bot = {**reply, "from": bot_api.bot_user}
        await bot_api.say(ALICE, group, "我断缴4个月了", reply_to=reply_to_bot)
        [handoff] = await bot_api.replies(group.id, 1, after=2)
        [[button]] = handoff["reply_markup"]["inline_keyboard"]
        prefix = f"https://t.me/{bot_api.bot_username}?start="
        assert button["text"] == "私聊继续" and button["url"].startswith(prefix)
        ctx = decode_start(button["url"].removeprefix(prefix))
        assert ctx is not None and ctx.slots == {"gap_months": 4}

        # the hand-off link opens a private chat that starts pre-filled
        await bot_api.say(ALICE, Chat(ALICE.id), f"/start {button['url'].removeprefix(prefix)}")
        [private] = await bot_api.replies(ALICE.id, 1)
        assert "650100" in private["text"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_forum_topics_keep_their_own_conversations(
    framework: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    forum = Chat(-100888, "supergroup", "论坛", is_forum=True)
    async with launch(framework, "webhook"):
        await bot_api.say(ALICE, forum, f"/start@{bot_api.bot_username}", thread_id=11)
        [in_topic] = await bot_api.replies(forum.id, 1, thread_id=11)
        await bot_api.say(ALICE, forum, f"@{bot_api.bot_username} 3", thread_id=12)
        [other_topic] = await bot_api.replies(forum.id, 1, thread_id=12)
        assert in_topic["message_thread_id"] == 11 and other_topic["text"] == "收到：3"
        await bot_api.press(ALICE, in_topic, "t:resident")
        await bot_api.replies(forum.id, 2, thread_id=11)
        await bot_api.say(ALICE, forum, f"@{bot_api.bot_username} 3", thread_id=11)
        [answer] = await bot_api.replies(forum.id, 1, after=2, thread_id=11)
        assert answer["text"].startswith("resident 断缴 3 个月")


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_deep_link_prefills_region_and_counts_referral(
    framework: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    payload = encode_start(StartContext(region_code="650100", source="jiedao12"))
    async with launch(framework, "polling"):
        await bot_api.say(ALICE, Chat(ALICE.id), f"/start {payload}")
        [welcome] = await bot_api.replies(ALICE.id, 1)
        tampered = payload.replace("650100", "110105")
        await bot_api.say(BOB, Chat(BOB.id), f"/start {tampered}")
        [plain] = await bot_api.replies(BOB.id, 1)
    assert "650100" in welcome["text"] and "110105" not in plain["text"]
    assert await redis.hget(KeySpace(key_prefix).referrals, "jiedao12") == b"1"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_429_in_the_middle_delays_that_chat_and_still_delivers(
    framework: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    async with launch(framework, "polling") as bot:
        await bot_api.say(ALICE, Chat(ALICE.id), "/start")
        await bot_api.replies(ALICE.id, 1)
        bot_api.fail_next("sendMessage", retry_after=1, chat_id=ALICE.id)
        await bot_api.say(ALICE, Chat(ALICE.id), "你好")
        await bot_api.say(BOB, Chat(BOB.id), "你好")
        [to_bob] = await bot_api.replies(BOB.id, 1)
        [to_alice] = await bot_api.replies(ALICE.id, 1, after=1)
        limited = [c for c in bot_api.calls if c.status == 429]
        sends = [c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == ALICE.id]
        assert len(limited) == 1 and sends[-1].at - limited[0].at >= 0.95
        bob_send = next(c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == BOB.id)
        assert bob_send.at - limited[0].at < 0.9  # other chats are not held back
        rate_key = f"{key_prefix}:ob:{{tg:{bot.me.id}:{ALICE.id}}}:rate"
        assert await redis.hget(rate_key, "nb") is not None
    assert to_alice["text"] == "收到：你好" and to_bob["text"] == "收到：你好"


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_webhook_refuses_wrong_secret_and_oversized_bodies(
    framework: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    update = {"update_id": 99, **bot_api.message_update(ALICE, Chat(ALICE.id), "/start")}
    async with launch(framework, "webhook",
                         register_webhook=False) as bot, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
        async with http.post(url, json=update) as resp:
            assert resp.status == 401
        async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as resp:
            assert resp.status == 403
        big = {**update, "padding": "x" * 2_000_000}
        async with http.post(url, json=big, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
            assert resp.status == 413
        await settle(0.2)
        assert bot_api.calls_of("sendMessage") == []
        assert await redis.keys(f"{key_prefix}:*") == []
        async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
            assert resp.status == 200
        assert len(bot_api.calls_of("sendMessage")) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_same_update_twice_gets_one_reply(
    framework: str, mode: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    update = bot_api.message_update(ALICE, Chat(ALICE.id), "你好")
    async with launch(framework, mode):
        first = await bot_api.push(update)
        await bot_api.replies(ALICE.id, 1)
        await bot_api.push_raw(first)
        await settle()
        await bot_api.wait_for(lambda: not bot_api.pending)
    assert len(bot_api.sent(ALICE.id)) == 1


async def post_burst(urls: list[str], updates: list[dict[str, Any]]) -> list[int]:
    """POST all updates at once, spread over the workers."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        async def post(url: str, update: dict[str, Any]) -> int:
            async with http.post(url, json=update, headers=headers) as resp:
                return resp.status

        return list(await asyncio.gather(*(post(urls[i % len(urls)], u) for i, u in enumerate(updates))))


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_two_webhook_workers_apply_a_burst_in_order(
    framework: str, bot_api: FakeBotApi, redis: Redis, key_prefix: str, launch: Launch
) -> None:
    """While one worker is busy answering the first update, the rest of the burst arrives at both
    workers in scrambled order; every update is still applied once and in update-id order."""
    chat = Chat(ALICE.id)
    updates = [{"update_id": 500 + i, **bot_api.message_update(ALICE, chat, f"第{i}条")} for i in range(12)]
    rest = updates[1:]
    random.Random(4).shuffle(rest)
    async with launch(framework, "webhook", register_webhook=False) as one, \
            launch(framework, "webhook", register_webhook=False) as two:
        urls = [f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}" for bot in (one, two)]
        bot_api.hold_next("sendMessage", 0.5)
        first = asyncio.create_task(post_burst(urls[:1], updates[:1]))
        await bot_api.wait_for(lambda: bot_api.calls_of("sendMessage"))
        statuses = await post_burst(urls, rest) + await first
        replies = await bot_api.replies(chat.id, 12)
    assert statuses == [200] * 12
    assert [r["text"] for r in replies] == [f"收到：第{i}条" for i in range(12)]
