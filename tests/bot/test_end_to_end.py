"""End to end on the real core: real aiogram / python-telegram-bot over HTTP against the fake
Bot API, the lead's runtime (real GapDialog, ConversationService, Redis), polling and webhook.

Replies are not hard-coded: each scenario's transcript must be the same on every framework
and mode (the first run records it, the others compare), plus structural checks.
"""

from __future__ import annotations

import asyncio
import copy
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.runtime import Runtime, open_runtime
from bot.telegram.runner import FRAMEWORKS
from flows.deeplink import StartContext, decode_start, encode_start
from flows.dialog import GapDialog
from flows.messages import InEvent, OutMessage
from tests.bot.conftest import PROCESS_START_S, SECRET, WEBHOOK_PATH, free_port, start_bot
from tests.bot.fake_bot_api import Chat, FakeBotApi, User
from tests.bot.test_adapters import post_burst

# PTB's own RetryAfter constructor warns about its int -> timedelta migration.
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
MODES = ("polling", "webhook")
ALICE = User(2001, "王芳", "wangfang")
BOB = User(2002, "李强")
GROUP = Chat(-100200, "supergroup", "幸福里社区群")
ROOT = Path(__file__).resolve().parents[2]
TRANSCRIPTS: dict[str, Any] = {}


class DoneSink:
    """Observes the real sink: remembers which updates have been answered."""

    def __init__(self, inner: Any, done: set[str], changed: asyncio.Event) -> None:
        self._inner, self._done, self._changed = inner, done, changed

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        await self._inner.deliver(event, messages)
        self._done.add(event.update_id)
        self._changed.set()


class Harness:
    """A bot worker on the real runtime plus helpers to act as users and wait for answers."""

    def __init__(self, api: FakeBotApi, rt: Runtime) -> None:
        self.api, self.rt = api, rt
        self.done: set[str] = set()
        self.changed = asyncio.Event()

    def make_service(self, sink: Any) -> Any:
        return self.rt.make_service(DoneSink(sink, self.done, self.changed))

    async def answered(self, update: dict[str, Any], within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while str(update["update_id"]) not in self.done:
                self.changed.clear()
                await self.changed.wait()

    async def say(self, user: User, chat: Chat, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        before = len(self.api.sent(chat.id))
        await self.answered(await self.api.say(user, chat, text, **kwargs))
        return self.api.sent(chat.id)[before:]

    async def press(self, user: User, chat: Chat, payload: str) -> list[dict[str, Any]]:
        """Press `payload` on the latest message that shows it."""
        shown = next(m for m in reversed(self.api.sent(chat.id)) if payload in _payloads(m))
        return await self.press_on(user, shown, payload)

    async def press_on(self, user: User, shown: dict[str, Any], payload: str) -> list[dict[str, Any]]:
        """Press `payload` under `shown` (as the user's screen shows it, perhaps out of date)."""
        chat_id = shown["chat"]["id"]
        before = len(self.api.sent(chat_id))
        await self.answered(await self.api.press(user, copy.deepcopy(shown), payload))
        return self.api.sent(chat_id)[before:]


def _payloads(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b.get("callback_data") for row in rows for b in row]


def transcript(api: FakeBotApi, chat_id: int) -> list[tuple[str, Any]]:
    return [(m["text"], m.get("reply_markup")) for m in api.sent(chat_id)]


def same_everywhere(name: str, value: Any) -> None:
    """The first framework/mode to run a scenario records it; every other must match."""
    recorded = TRANSCRIPTS.setdefault(name, value)
    assert value == recorded, f"{name}: replies differ between frameworks/modes"


@pytest.fixture(scope="session")
def dialog() -> GapDialog:
    return GapDialog.create()


@pytest.fixture
async def runtime(redis_url: str, key_prefix: str, dialog: GapDialog, redis: Redis) -> AsyncIterator[Runtime]:
    async with open_runtime(redis_url, key_prefix=key_prefix, dialog=dialog) as rt:
        yield rt


@pytest.fixture
def harness(bot_api: FakeBotApi, runtime: Runtime) -> Harness:
    return Harness(bot_api, runtime)


def launch(h: Harness, framework: str, mode: str, **kwargs: Any) -> Any:
    return start_bot(h.api, framework, mode, h.rt.redis, h.make_service, key_prefix=h.rt.store.keys.prefix,
                     **kwargs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_private_conversation_by_buttons(framework: str, mode: str, harness: Harness) -> None:
    chat = Chat(ALICE.id)
    async with launch(harness, framework, mode):
        assert await harness.say(ALICE, chat, "/start")
        pressed = []
        for payload in ("r:650100", "t:flexible", "g:5"):
            pressed.append(next(m for m in reversed(harness.api.sent(chat.id)) if payload in _payloads(m)))
            assert await harness.press(ALICE, chat, payload)
    sent = harness.api.sent(chat.id)
    closed = [c.params["message_id"] for c in harness.api.calls_of("editMessageReplyMarkup")]
    assert closed == [m["message_id"] for m in pressed]  # accepted presses: cannot be pressed twice
    assert all("reply_markup" not in m for m in sent if m["message_id"] in closed)
    assert len(harness.api.calls_of("answerCallbackQuery")) == 3
    assert "乌鲁木齐" in sent[-1]["text"] or "乌鲁木齐" in sent[-2]["text"]  # the answer names the region
    same_everywhere("buttons", transcript(harness.api, chat.id))


EDGE_QUESTION = "我在乌鲁木齐，灵活就业，断了三个多月"  # 3 or 4 months: the answer changes there


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_button_pressed_twice_is_stale_the_second_time(framework: str, mode: str,
                                                               harness: Harness) -> None:
    chat = Chat(ALICE.id)
    async with launch(harness, framework, mode):
        question = (await harness.say(ALICE, chat, EDGE_QUESTION))[-1]
        assert "a:both" in _payloads(question)
        card = await harness.press_on(ALICE, question, "a:both")  # accepted: both outcomes
        assert "a:cost" in _payloads(card[0])
        assert "reply_markup" not in harness.api.sent(chat.id)[-2]  # the question's keyboard went
        [stale] = await harness.press_on(ALICE, question, "a:both")  # a second tap on the old screen
    assert "失效" in stale["text"]
    assert len(harness.api.calls_of("answerCallbackQuery")) == 2  # both presses answered
    assert len(harness.api.calls_of("editMessageReplyMarkup")) == 1  # the stale one touched nothing
    same_everywhere("pressed twice", transcript(harness.api, chat.id))


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_an_old_question_button_after_a_typed_correction_is_stale(framework: str,
                                                                        harness: Harness) -> None:
    chat = Chat(ALICE.id)
    async with launch(harness, framework, "webhook"):
        question = (await harness.say(ALICE, chat, EDGE_QUESTION))[-1]
        assert "结论" in (await harness.say(ALICE, chat, "超过3个月了"))[-1]["text"]
        [stale] = await harness.press_on(ALICE, question, "a:both")
    assert "失效" in stale["text"]
    old = next(m for m in harness.api.sent(chat.id) if m["message_id"] == question["message_id"])
    assert old == question  # left as it was: text and buttons
    assert harness.api.calls_of("answerCallbackQuery") and not harness.api.calls_of("editMessageReplyMarkup")
    same_everywhere("old question after a correction", transcript(harness.api, chat.id))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_private_conversation_by_text_and_commands(framework: str, mode: str, harness: Harness) -> None:
    chat = Chat(BOB.id)
    async with launch(harness, framework, mode):
        for text in ("/start", "乌鲁木齐", "灵活就业", "断了4个月", "/help", "/restart", "/cancel"):
            assert await harness.say(BOB, chat, text), f"no reply to {text!r}"
    same_everywhere("text", transcript(harness.api, chat.id))


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_group_two_members_mentions_and_handoff(framework: str, harness: Harness) -> None:
    api, handle = harness.api, f"@{harness.api.bot_username}"
    async with launch(harness, framework, "polling"):
        await api.say(BOB, GROUP, "大家好，周末活动几点开始？")
        await api.say(ALICE, GROUP, "@somebody 医保的事问谁")
        await asyncio.sleep(0.5)
        assert api.sent(GROUP.id) == []  # the group's own talk gets no reaction

        to_alice = await harness.say(ALICE, GROUP, f"{handle} 乌鲁木齐")
        to_bob = await harness.say(BOB, GROUP, f"/start@{api.bot_username}")
        alice_next = await harness.press(ALICE, GROUP, "t:flexible")
        bob_next = await harness.say(BOB, GROUP, f"{handle} 北京")
        reply_to_bot = {**alice_next[-1], "from": api.bot_user}
        answer = await harness.say(ALICE, GROUP, "断了4个月", reply_to=reply_to_bot)
        assert to_alice and to_bob and alice_next and bob_next and answer
        assert "北京" in bob_next[0]["text"] and "乌鲁木齐" not in bob_next[0]["text"]  # separate conversations

        links = [b["url"] for m in alice_next + answer
                 for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row if "url" in b]
        assert links, "personal details in a group are offered a private chat"
        link = links[-1]
        prefix = f"https://t.me/{api.bot_username}?start="
        assert link.startswith(prefix)
        ctx = decode_start(link.removeprefix(prefix))
        assert ctx is not None and ctx.region_code == "650100" and ctx.slots.get("insurance_type") == "flexible"

        private = await harness.say(ALICE, Chat(ALICE.id), f"/start {link.removeprefix(prefix)}")
        assert "乌鲁木齐" in private[0]["text"]  # the private chat continues with what the group heard
        assert not {"r:650100", "t:flexible"} & set(_payloads(private[-1]))
    same_everywhere("group", transcript(api, GROUP.id) + transcript(api, ALICE.id))


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_deep_link_prefill_and_referral_count(framework: str, harness: Harness) -> None:
    payload = encode_start(StartContext(region_code="650100", source="jiedao12"))
    async with launch(harness, framework, "webhook"):
        [welcome, *_] = await harness.say(ALICE, Chat(ALICE.id), f"/start {payload}")
        [plain, *_] = await harness.say(BOB, Chat(BOB.id), f"/start {payload[:-3]}xyz")
    assert "乌鲁木齐市" in welcome["text"] and "r:650100" not in _payloads(welcome)  # region pre-filled
    assert "r:650100" in _payloads(plain)  # a tampered payload starts a normal conversation
    assert await harness.rt.redis.hget(harness.rt.store.keys.referrals, "jiedao12") == b"1"
    same_everywhere("deeplink", [welcome["text"], plain["text"]])


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_429_in_the_middle_of_a_conversation(framework: str, harness: Harness) -> None:
    chat = Chat(ALICE.id)
    async with launch(harness, framework, "polling", fast=False):  # Telegram's own limits
        await harness.say(ALICE, chat, "/start")
        harness.api.fail_next("sendMessage", retry_after=1, chat_id=chat.id)
        replies = await harness.say(ALICE, chat, "乌鲁木齐")
    [limited] = [c for c in harness.api.calls if c.status == 429]
    retried = [c for c in harness.api.calls_of("sendMessage") if c.at > limited.at]
    assert replies and retried[0].at - limited.at >= 0.95
    assert retried[0].params["text"] == limited.params["text"]  # the same message, delivered


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_two_webhook_workers_apply_a_burst_in_order(framework: str, harness: Harness) -> None:
    api = harness.api
    script = ["/start", "乌鲁木齐", "灵活就业", "断了4个月", "自己没交"]
    async with launch(harness, framework, "webhook") as one, \
            launch(harness, framework, "webhook", register_webhook=False) as two:
        for text in script:  # the reference: one message at a time, pushed by the fake Telegram
            await harness.say(BOB, Chat(BOB.id), text)
        urls = [f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}" for bot in (one, two)]
        updates = [{"update_id": 900 + i, **api.message_update(ALICE, Chat(ALICE.id), t)}
                   for i, t in enumerate(script)]
        rest = updates[1:]
        random.Random(7).shuffle(rest)
        api.hold_next("sendMessage", 0.5)
        first = asyncio.create_task(post_burst(urls[:1], updates[:1]))
        await api.wait_for(lambda: len(api.calls_of("sendMessage")) > len(api.sent(BOB.id)))
        statuses = await post_burst(urls, rest) + await first
        await harness.answered(updates[-1])
    assert statuses == [200] * len(script)
    assert [m["text"] for m in api.sent(ALICE.id)] == [m["text"] for m in api.sent(BOB.id)]


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_same_update_twice_one_reply_and_wrong_secret_changes_nothing(framework: str,
                                                                            harness: Harness) -> None:
    api = harness.api
    update = {"update_id": 77, **api.message_update(ALICE, Chat(ALICE.id), "/start")}
    async with launch(harness, framework, "webhook", register_webhook=False) as bot, \
            aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
        async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}) as resp:
            assert resp.status == 403
        assert api.calls_of("sendMessage") == [] and await harness.rt.redis.keys(
            f"{harness.rt.store.keys.prefix}:*") == []
        for _ in range(2):
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
                assert resp.status == 200
    assert len(api.calls_of("sendMessage")) == len(TRANSCRIPTS.get("welcome", api.sent(ALICE.id)))
    same_everywhere("welcome", [m["text"] for m in api.sent(ALICE.id)])


@pytest.mark.parametrize(("framework", "mode"), [("aiogram", "polling"), ("ptb", "webhook")])
async def test_python_m_bot_telegram(framework: str, mode: str, bot_api: FakeBotApi, redis_url: str,
                                     key_prefix: str, redis: Redis) -> None:
    """The real entry point as a process, configured by environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(TELEGRAM_BOT_TOKEN=bot_api.token, TELEGRAM_API_BASE=bot_api.base, REDIS_URL=redis_url,
               REDIS_KEY_PREFIX=key_prefix, POLLING_TIMEOUT="1", PYTHONPATH=str(ROOT),
               DEEPLINK_KEY="e2e-deeplink-key-0123456789")
    if mode == "webhook":
        port = free_port()
        env.update(WEBHOOK_LISTEN=f"127.0.0.1:{port}", WEBHOOK_PATH=WEBHOOK_PATH, WEBHOOK_SECRET=SECRET,
                   WEBHOOK_URL=f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "--framework", framework, env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        await bot_api.wait_for(lambda: bot_api.calls_of("setMyCommands"), within=PROCESS_START_S)
        await bot_api.say(ALICE, Chat(ALICE.id), "/start")
        [welcome] = await bot_api.replies(ALICE.id, 1, within=15)
        assert "r:650100" in _payloads(welcome)
        assert bool(bot_api.calls_of("setWebhook")) == (mode == "webhook")
    finally:
        proc.terminate()
        _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
