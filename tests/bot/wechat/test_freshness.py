"""Freshness of signed requests (bot.wechat.freshness), end to end: the fake WeChat side signs
(and in safe mode encrypts) like WeChat, real workers on real Redis answer over HTTP."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot.wechat.freshness import MAX_SKEW_SECONDS, fresh
from bot.wechat.runner import wechat_worker
from flows.store import ConversationStore
from flows.store.keys import KeySpace
from tests.bot.wechat.conftest import Start, url_of, wechat_settings
from tests.bot.wechat.fake_wechat import FakeWeChat, message_xml, sign
from tests.bot.wechat.test_adapter import ALICE, BOB, Gated, state_of
from tests.conftest import ListDialog, RedisDump
from tests.redis_servers import free_port

FAR = (MAX_SKEW_SECONDS + 60, 3600, 86400 * 365)  # seconds away from now: refused either way
NEAR = (0, 15, 60, MAX_SKEW_SECONDS - 30)  # WeChat's retries, clock skew: accepted either way


def verification(fake: FakeWeChat, at: float | None = None, echostr: str = "5837397720577") -> dict[str, str]:
    return {**fake.signed_query(at=at), "echostr": echostr}


async def metrics_of(http: aiohttp.ClientSession, port: int) -> str:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        return await resp.text()


def test_fresh_is_symmetric_and_reads_plain_decimals_only() -> None:
    now = 1_767_000_000.0
    for offset in (*NEAR, MAX_SKEW_SECONDS):
        assert fresh(str(int(now - offset)), now) and fresh(str(int(now + offset)), now)
    for offset in (MAX_SKEW_SECONDS + 1, *FAR):
        assert not fresh(str(int(now - offset)), now) and not fresh(str(int(now + offset)), now)
    stamp = str(int(now))
    for odd in ("", " " + stamp, "+" + stamp, stamp[:4] + "_" + stamp[4:], "１７６７００００００", "9" * 5000, "nan"):
        assert not fresh(odd, now), odd


async def test_stale_requests_are_refused_and_fresh_ones_accepted(
        wechat: FakeWeChat, wechat_safe: FakeWeChat, start_worker: Start, redis_dump: RedisDump) -> None:
    """Correctly signed, stamped too far from now (either way): 403 and nothing stored, GET and POST,
    in both modes. Stamped within the window (a retry, a skewed clock): answered."""
    now = time.time()
    for fake in (wechat, wechat_safe):
        async with start_worker(fake) as w, aiohttp.ClientSession() as http:
            for at in (t for far in FAR for t in (now - far, now + far)):
                async with http.get(url_of(w), params=verification(fake, at)) as resp:
                    assert (resp.status, await resp.text()) == (403, "stale timestamp")
                body, query = fake.sealed_body(fake.text(BOB, "北京"), at=at)
                async with http.post(url_of(w), params=query, data=body) as resp:
                    assert (resp.status, await resp.text()) == (403, "stale timestamp")
            assert 'yibao_dropped_updates_total{reason="wechat_stale"}' in await metrics_of(http, w.port)
    assert await redis_dump() == {}
    async with start_worker(wechat) as w, aiohttp.ClientSession() as http:
        for at in (t for near in NEAR for t in (now - near, now + near)):
            async with http.get(url_of(w), params=verification(wechat, at, f"echo{at}")) as resp:
                assert (resp.status, await resp.text()) == (200, f"echo{at}")
        for at in (now - MAX_SKEW_SECONDS + 30, now - 60, now + 60):  # one turn each: 北京, then two answers
            body, query = wechat.sealed_body(wechat.text(ALICE, "北京"), at=at)
            async with http.post(url_of(w), params=query, data=body) as resp:
                assert resp.status == 200 and "<Content>" in await resp.text()


async def test_a_replayed_verification_is_refused(wechat: FakeWeChat, start_worker: Start) -> None:
    async with start_worker(wechat) as w, aiohttp.ClientSession() as http:
        query = verification(wechat)
        async with http.get(url_of(w), params=query) as resp:
            assert (resp.status, await resp.text()) == (200, query["echostr"])
        for echostr in (query["echostr"], "anything else"):  # the same query again, or with other text
            async with http.get(url_of(w), params={**query, "echostr": echostr}) as resp:
                assert (resp.status, await resp.text()) == (403, "signed query already used")
        # A push's signed query does not verify anything afterwards either.
        body, pushed = wechat.sealed_body(wechat.text(ALICE, "北京"))
        async with http.post(url_of(w), params=pushed, data=body) as resp:
            assert resp.status == 200
        async with http.get(url_of(w), params={**pushed, "echostr": "1"}) as resp:
            assert resp.status == 403
        assert 'yibao_dropped_updates_total{reason="wechat_replay"}' in await metrics_of(http, w.port)


async def test_a_used_query_carries_no_other_message(wechat: FakeWeChat, start_worker: Start, redis: Redis,
                                                     keyspace: KeySpace, redis_dump: RedisDump) -> None:
    """Plain mode signs only the query, not the body: a recorded query with another message (another
    sender, another MsgId, or the same MsgId from someone else) is refused, nothing of it stored."""
    async with start_worker(wechat, dialog=ListDialog()) as w, aiohttp.ClientSession() as http:
        original = wechat.text(ALICE, "hello")
        body, query = wechat.sealed_body(original)
        async with http.post(url_of(w), params=query, data=body) as resp:
            assert resp.status == 200 and "got hello" in await resp.text()
        forged = [wechat.text(BOB, "北京"), wechat.text(ALICE, "other"),
                  {**original, "FromUserName": BOB}, wechat.event(BOB, "subscribe")]
        for fields in forged:
            async with http.post(url_of(w), params=query, data=message_xml(fields).encode()) as resp:
                assert (resp.status, await resp.text()) == (403, "signed query already used")
        # Replayed exactly, it is a retry: the same answer, and the dialog still saw it once.
        async with http.post(url_of(w), params=query, data=body) as resp:
            assert resp.status == 200 and "got hello" in await resp.text()
    assert (await state_of(redis, keyspace, ALICE)).slots["seen"] == ["hello"]
    assert not any(BOB in key for key in await redis_dump())


async def test_a_retry_on_the_same_query_is_answered_once(wechat_safe: FakeWeChat, start_worker: Start,
                                                          redis: Redis, keyspace: KeySpace) -> None:
    """Should WeChat retry on the very same query (safe mode here), the retry is not refused: it gets
    "success" while the first is being answered, and the reply goes out once, as a customer-service message."""
    fake = wechat_safe
    async with start_worker(fake, dialog=ListDialog(), wechat_reply_seconds=2.0) as w:
        gated = Gated(w.service)
        w.receiver.service = gated
        body, query = fake.sealed_body(fake.text(ALICE, "hello"))
        async with aiohttp.ClientSession() as http:
            first = asyncio.create_task(http.post(url_of(w), params=query, data=body))
            await asyncio.sleep(0.3)  # the first is being answered (WeChat would have dropped it by now)
            async with http.post(url_of(w), params=query, data=body) as resp:
                assert (resp.status, await resp.text()) == (200, "success")
            gated.gate.set()
            async with await first as resp:
                assert resp.status == 200
        [sent] = await fake.wait_sent(1)
        assert sent.text == "got hello"
        await w.receiver.drain()
    assert (await state_of(redis, keyspace, ALICE)).slots["seen"] == ["hello"]


async def test_odd_signed_queries_never_fail_the_worker(wechat: FakeWeChat, wechat_safe: FakeWeChat,
                                                        start_worker: Start) -> None:
    """Correctly signed odd timestamps and nonces, missing parameters, repeated ones: 200/400/403, never 5xx."""
    rng = random.Random(29)
    stamp = str(int(time.time()))
    odd = ["", " ", "abc", "-1", "+" + stamp, " " + stamp, stamp + "\n", stamp[:4] + "_" + stamp[4:], "1e9", "nan",
           "１７６７００００００", "\u0661" * 10, "9" * 5000, "0", stamp + "0" * 30, "'; DROP", stamp]
    statuses: set[int] = set()
    for fake in (wechat, wechat_safe):
        async with start_worker(fake) as w, aiohttp.ClientSession() as http:
            for n, timestamp in enumerate(odd * 2):
                nonce = rng.choice(["", "1", "x" * 300, "\u4e2d", str(rng.randrange(10**9))])
                query: dict[str, Any] = {"timestamp": timestamp, "nonce": nonce,
                                         "signature": sign(fake.token, timestamp, nonce), "echostr": "e"}
                if n % 3 == 0:
                    del query[rng.choice(["timestamp", "nonce", "signature"])]
                body = message_xml(fake.text(ALICE, "北京")).encode()
                for method in ("GET", "POST"):
                    async with http.request(method, url_of(w), params=query, data=body) as resp:
                        statuses.add(resp.status)
                        assert resp.status in (200, 400, 403), (method, query, await resp.text())
    assert statuses == {200, 400, 403}  # accepted, malformed (plain body in safe mode), refused


async def test_with_redis_away_a_verification_still_answers_and_no_push_gets_a_5xx(wechat: FakeWeChat) -> None:
    """Redis unreachable: a fresh signed verification is still answered (it only echoes); a push is
    answered "success" (logged), never a 5xx; a stale one is still refused."""
    dead = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    store = ConversationStore(dead, KeySpace("ybt:dead"))
    settings = wechat_settings(wechat, reminders="off")
    try:
        async with wechat_worker(settings, store, ListDialog()) as w, aiohttp.ClientSession() as http:
            async with http.get(url_of(w), params=verification(wechat)) as resp:
                assert (resp.status, await resp.text()) == (200, "5837397720577")
            async with http.get(url_of(w), params=verification(wechat, time.time() - 3600)) as resp:
                assert resp.status == 403
            body, query = wechat.sealed_body(wechat.text(ALICE, "北京"))
            async with http.post(url_of(w), params=query, data=body) as resp:
                assert (resp.status, await resp.text()) == (200, "success")
    finally:
        await dead.aclose()
