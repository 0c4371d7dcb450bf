"""Outbound limits in Redis: reserved slots follow Telegram's limits; 429 moves a chat back."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis, RedisCluster
from redis.crc import key_slot

from bot.outbound import OutboundLimiter, OutboundLimits, RetryLater
from flows.redis_embed import connect
from tests.conftest import delete_prefixed
from tests.redis_servers import RedisClusterServers


async def test_private_chat_bursts_then_one_per_second(redis: Redis, key_prefix: str) -> None:
    limiter = OutboundLimiter(redis, OutboundLimits(), bot_id="1", prefix=key_prefix)
    delays = [(await limiter.reserve_chat("42", group=False)).delay for _ in range(6)]
    assert delays[:3] == pytest.approx([0, 0, 0], abs=0.05)
    assert delays[3:] == pytest.approx([1, 2, 3], abs=0.05)


async def test_group_keeps_twenty_per_minute(redis: Redis, key_prefix: str) -> None:
    limits = OutboundLimits(chat_per_second=1000, chat_burst=1000)
    limiter = OutboundLimiter(redis, limits, bot_id="1", prefix=key_prefix)
    slots = [await limiter.reserve_chat("-100500", group=True) for _ in range(25)]
    assert all(s.delay < 0.5 for s in slots[:20])
    assert all(59.5 < s.delay < 61 for s in slots[20:])
    times = sorted(s.at_ms for s in slots)
    # any 60-second window holds at most 20 reserved sends
    assert max(sum(1 for u in times if t <= u < t + 60000) for t in times) == 20


async def test_global_bucket_spreads_sends_across_chats(redis: Redis, key_prefix: str) -> None:
    limiter = OutboundLimiter(redis, OutboundLimits(), bot_id="1", prefix=key_prefix)
    delays = [await limiter.reserve_global() for _ in range(60)]
    assert max(delays[:30]) < 0.1
    assert delays[-1] == pytest.approx(30 / 30, abs=0.1)


async def test_limits_are_shared_between_limiters_on_one_redis(redis: Redis, redis_url: str,
                                                               key_prefix: str) -> None:
    other_client = Redis.from_url(redis_url)
    try:
        a = OutboundLimiter(redis, OutboundLimits(chat_burst=1), bot_id="1", prefix=key_prefix)
        b = OutboundLimiter(other_client, OutboundLimits(chat_burst=1), bot_id="1", prefix=key_prefix)
        first = await a.reserve_chat("7", group=False)
        second = await b.reserve_chat("7", group=False)
        assert first.delay < 0.05 and second.delay == pytest.approx(1.0, abs=0.05)
    finally:
        await other_client.aclose()


async def test_keys_of_one_chat_share_a_hash_tag(redis: Redis, key_prefix: str) -> None:
    limiter = OutboundLimiter(redis, OutboundLimits(), bot_id="9", prefix=key_prefix)
    rate, window = limiter.chat_keys("-1001")
    tag = rate[rate.index("{") : rate.index("}") + 1]
    assert tag in window and tag == "{tg:9:-1001}"
    assert rate.startswith(key_prefix + ":")


async def test_429_delays_that_chat_only_and_the_message_is_sent(redis: Redis, key_prefix: str) -> None:
    limits = OutboundLimits(chat_per_second=100, chat_burst=10)
    limiter = OutboundLimiter(redis, limits, bot_id="1", prefix=key_prefix)
    attempts: list[float] = []

    async def flaky() -> str:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryLater(1)
        return "sent"

    async def plain() -> str:
        return "other"

    started = time.monotonic()
    result, other = await asyncio.gather(limiter.send("5", False, flaky), limiter.send("6", False, plain))
    assert result == "sent" and other == "other"
    assert attempts[1] - started >= 0.95
    # another chat is not held back, and the stored "not before" also holds edits back
    nb = await redis.hget(limiter.chat_keys("5")[0], "nb")
    assert nb is not None
    assert (await limiter.reserve_chat("6", group=False)).delay < 0.05


async def test_gives_up_after_max_attempts(redis: Redis, key_prefix: str) -> None:
    limiter = OutboundLimiter(redis, OutboundLimits(max_attempts=2), bot_id="1", prefix=key_prefix)

    async def always_limited() -> None:
        raise RetryLater(0.05)

    with pytest.raises(RetryLater):
        await limiter.send("8", False, always_limited)


async def test_reserve_keeps_both_limits(redis: Redis, key_prefix: str) -> None:
    # A chat held back by its own limit gets a global slot no earlier than its chat slot,
    # and the global bucket binds across chats.
    limits = OutboundLimits(chat_per_second=1, chat_burst=2, global_per_second=1000, global_burst=1000)
    limiter = OutboundLimiter(redis, limits, bot_id="1", prefix=key_prefix)
    delays = [await limiter.reserve("11", group=False) for _ in range(4)]
    assert delays[:2] == pytest.approx([0, 0], abs=0.05)
    assert delays[2:] == pytest.approx([1, 2], abs=0.05)
    # the global bucket across chats
    tight = OutboundLimiter(redis, OutboundLimits(global_per_second=2, global_burst=1), bot_id="2",
                            prefix=key_prefix)
    spread = [await tight.reserve(str(100 + n), group=False) for n in range(3)]
    assert spread == pytest.approx([0, 0.5, 1.0], abs=0.05)


async def test_keyboard_edits_respect_a_chats_429_but_not_its_rate(redis: Redis, key_prefix: str) -> None:
    limiter = OutboundLimiter(redis, OutboundLimits(chat_burst=1), bot_id="1", prefix=key_prefix)
    await limiter.reserve("12", group=False)
    assert await limiter.reserve("12", group=False, per_chat=False) < 0.05  # the chat's rate is not used
    await limiter.penalize("12", 2)
    assert await limiter.reserve("12", group=False, per_chat=False) == pytest.approx(2, abs=0.05)
    assert await limiter.reserve("13", group=False, per_chat=False) < 0.05


_TIGHT = OutboundLimits(chat_per_second=1, chat_burst=1, global_per_second=2, global_burst=1)


async def _check_both_limits(limiter: OutboundLimiter) -> None:
    own = [await limiter.reserve("21", group=False) for _ in range(2)]
    other = await limiter.reserve("22", group=False)
    assert own == pytest.approx([0, 1.0], abs=0.05)  # the chat's rate
    assert other == pytest.approx(1.5, abs=0.05)  # the global bucket, after the chat's slot


async def test_reserve_in_one_script_on_one_server(redis: Redis, key_prefix: str) -> None:
    await _check_both_limits(OutboundLimiter(redis, _TIGHT, bot_id="3", prefix=key_prefix))


async def test_reserve_keeps_both_limits_on_a_cluster(redis_cluster: RedisClusterServers, key_prefix: str) -> None:
    # The chat and global buckets lie in different slots: a Cluster reserves them one by one.
    client = await connect(redis_cluster.url)
    assert isinstance(client, RedisCluster)
    try:
        limiter = OutboundLimiter(client, _TIGHT, bot_id="3", prefix=key_prefix)
        assert key_slot(limiter.chat_keys("21")[0].encode()) != key_slot(limiter.global_key.encode())
        await _check_both_limits(limiter)
    finally:
        await delete_prefixed(client, key_prefix)
        await client.aclose()
