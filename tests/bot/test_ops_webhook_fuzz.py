"""Malformed updates with the right secret: never a 500, dropped before any key is built, logged sparingly.

Fuzzed bodies (a seeded generator: valid updates with fields replaced, removed or
added, ids past Telegram's ranges, deep nesting, bodies that are not objects) are
POSTed to a real webhook worker on each framework, running the real core on real
Redis against the local Bot API server.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
from typing import Any

import aiohttp
import pytest

from bot.runtime import Runtime
from bot.telegram.runner import FRAMEWORKS
from bot.telegram.update_check import problem
from tests.bot import test_end_to_end
from tests.bot.conftest import SECRET, WEBHOOK_PATH, start_bot
from tests.bot.fake_bot_api import Chat, FakeBotApi, User

pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
dialog, runtime = test_end_to_end.dialog, test_end_to_end.runtime  # the real core's fixtures
BODIES = 2000
USER = User(4242, "赵六", "zhaoliu")
GROUP = Chat(-1001234567, "supergroup", "社区群")
# Ids no Telegram user, chat or message can have; none may appear in a Redis key.
OUT_OF_RANGE = (2**52, 2**53 + 7, 2**63, -(2**63), 10**30, -(2**52) - 5)
VALUES: tuple[Any, ...] = (
    *OUT_OF_RANGE, 2**31, -1, 0, 1.5, 1e308, "", "x" * 5000, "\u0000", "🙂" * 3000, None, True, False, [], {},
    [1, 2], {"id": 1}, "123", "/start", [[[[[[]]]]]],
)


def _seeds(api: FakeBotApi) -> list[dict[str, Any]]:
    private = Chat(USER.id)
    said = api.message_update(USER, private, "/start")
    group = api.message_update(USER, GROUP, "@yibao_test_bot 断缴3个月怎么办", reply_to=said["message"])
    bot_message = {"message_id": 77, "date": 1_700_000_000, "chat": private.as_dict(), "from": api.bot_user,
                   "text": "参保类型？", "reply_markup": {"inline_keyboard": [[
                       {"text": "职工", "callback_data": "t:employee"}]]}}
    press = api.press_update(USER, bot_message, "t:employee")
    text = api.message_update(USER, private, "北京灵活就业断了4个月")
    return [{"update_id": 9000 + i, **u} for i, u in enumerate((said, group, press, text))]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `doc` (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*prefix, index))
    return found


def _nest(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def _mutate(seed: dict[str, Any], rng: random.Random) -> bytes:
    """One fuzzed body: mostly a seed with 1-3 fields changed, sometimes no update at all."""
    roll = rng.random()
    if roll < 0.04:
        return json.dumps(rng.choice([[], "update", 42, None, [seed], {"update_id": 5}])).encode()
    if roll < 0.07:
        depth = rng.choice([30, 500, 900, 5000, 200_000])
        return b'{"update_id": 5, "message": ' + b"[" * depth + b"]" * depth + b"}"
    doc = copy.deepcopy(seed)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(doc)
        if not paths:
            break
        path = rng.choice(paths)
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.55:
            parent[path[-1]] = copy.deepcopy(rng.choice(VALUES)) if rng.random() < 0.9 else _nest(rng.choice([40, 300]))
        elif action < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["edited_message", "channel_post", "poll", "is_bot", "id", "via_bot"])] = copy.deepcopy(rng.choice(VALUES))
    return json.dumps(doc).encode()


async def _post_all(url: str, bodies: list[bytes], concurrency: int = 8) -> list[int]:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    statuses: list[int] = [0] * len(bodies)
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:
        async def post(index: int) -> None:
            async with gate, http.post(url, data=bodies[index], headers=headers) as resp:
                statuses[index] = resp.status

        await asyncio.gather(*(post(i) for i in range(len(bodies))))
    return statuses


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_fuzzed_updates_never_get_500_and_leave_no_key(
    framework: str, bot_api: FakeBotApi, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(f"fuzz-{framework}")
    seeds = _seeds(bot_api)
    bodies = [_mutate(rng.choice(seeds), rng) for _ in range(BODIES)]
    async with start_bot(bot_api, framework, "webhook", runtime.redis, runtime.make_service,
                         key_prefix=runtime.store.keys.prefix, register_webhook=False) as bot:
        url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
        with caplog.at_level(logging.WARNING, logger="bot.telegram.webhook"):
            statuses = await _post_all(url, bodies)
        # The worker still answers a real user afterwards.
        fresh = User(4343, "钱七")
        before = len(bot_api.sent(fresh.id))
        ok = await _post_all(url, [json.dumps({"update_id": 99_999, **bot_api.message_update(
            fresh, Chat(fresh.id), "/start")}).encode()])
        assert ok == [200]
        assert await bot_api.replies(fresh.id, 1, after=before)
    assert 500 not in statuses
    assert set(statuses) <= {200, 400}, sorted(set(statuses))
    assert statuses.count(400) >= 1  # nesting past 1024 is not JSON to us
    keys = [k.decode() async for k in runtime.redis.scan_iter(match=f"{runtime.store.keys.prefix}:*")]
    assert keys, "the valid updates among the bodies reached the store"
    for number in OUT_OF_RANGE:
        assert not any(str(number) in key for key in keys), number
    dropped = sum(1 for body in bodies if _is_json(body) and problem(json.loads(body)) is not None)
    lines = [r for r in caplog.records if r.name == "bot.telegram.webhook"]
    assert dropped > BODIES // 3
    assert len(lines) < dropped // 4  # at most one line a minute per reason


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_ids_out_of_range_are_refused_before_any_key(
    framework: str, bot_api: FakeBotApi, runtime: Runtime
) -> None:
    huge = User(2**53, "巨大")
    update = {"update_id": 31, **bot_api.message_update(huge, Chat(2**53), "/start")}
    async with start_bot(bot_api, framework, "webhook", runtime.redis, runtime.make_service,
                         key_prefix=runtime.store.keys.prefix, register_webhook=False) as bot:
        url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
        assert await _post_all(url, [json.dumps(update).encode()]) == [200]
        metrics = await _get(f"http://127.0.0.1:{bot.webhook_port}/metrics")
    assert not [k async for k in runtime.redis.scan_iter(match=f"{runtime.store.keys.prefix}:*")]
    assert bot_api.sent(2**53) == []
    assert 'yibao_dropped_updates_total{reason="message.from.id"}' in metrics


async def _get(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return await resp.text()
