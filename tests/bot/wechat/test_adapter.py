"""The WeChat adapter end to end: the fake WeChat side pushes over HTTP to real workers on real Redis."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.settings import SettingsError
from bot.wechat.outbox import conversation_id
from bot.wechat.render import render
from flows import texts
from flows.deeplink import DEFAULT_KEY, decode_start
from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent, OutMessage
from flows.service import CollectingSink, ConversationService
from flows.slots import SLOT_SPECS
from flows.state import ConversationState
from flows.store import ConversationStore, StoreConfig, encode_event
from flows.store.keys import KeySpace
from tests.bot.wechat.conftest import LINK_KEY, TODAY, Start, url_of
from tests.bot.wechat.fake_wechat import APP_ID, FakeWeChat, message_xml, sign
from tests.conftest import ListDialog, RedisDump

ALICE = "oia2TjjewbmiOUlr6X-1crbLOvLw"
BOB = "oia2TjjewbmiOUlr6X-bobbbbbbbb"


class Gated:
    """The real conversation service behind a gate: a turn that takes as long as the test wants."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.gate = asyncio.Event()

    async def handle(self, event: InEvent) -> list[OutMessage]:
        await self.gate.wait()
        return list(await self.service.handle(event))


async def state_of(redis: Redis, keyspace: KeySpace, openid: str) -> ConversationState:
    record = await ConversationStore(redis, keyspace).read(conversation_id(APP_ID, openid))
    return ConversationState.loads(record.state)


async def test_server_verification(wechat: FakeWeChat, start_worker: Start) -> None:
    async with start_worker(wechat) as w, aiohttp.ClientSession() as http:
        query = {**wechat.signed_query(), "echostr": "1616140317555161061"}
        async with http.get(url_of(w), params=query) as resp:
            assert (resp.status, await resp.text()) == (200, "1616140317555161061")
        query["signature"] = "0" * 40
        async with http.get(url_of(w), params=query) as resp:
            assert resp.status == 403
        async with http.get(url_of(w)) as resp:
            assert resp.status == 403


async def test_whole_conversation_by_text(wechat: FakeWeChat, start_worker: Start, redis: Redis,
                                          keyspace: KeySpace, gap_dialog: GapDialog) -> None:
    # The oracle: the same turns taken by the core directly, in a twin conversation, laid out by
    # bot.wechat.render. The adapter must add nothing and lose nothing.
    twin = ConversationService(ConversationStore(redis, keyspace), gap_dialog, CollectingSink(), clock=lambda: TODAY)
    turns = iter(range(1000))

    async def core_says(text: str | None = None, payload: str | None = None) -> list[OutMessage]:
        event = InEvent("cli", "twin", "twin", "twin", ChatKind.PRIVATE, f"t{next(turns)}", text=text,
                        payload=payload, start_payload=None)
        return await twin.handle(event)

    def expect(reply_content: str | None, messages: list[OutMessage]) -> str:
        content = reply_content or ""
        link = content.split("请点：")[1].split()[0] if "请点：" in content else None
        assert content == render(messages, link).text
        return content

    async with start_worker(wechat, wechat_web_base="https://bot.example.cn/chat") as w:
        url = url_of(w)
        greeting = await wechat.push(url, wechat.event(ALICE, "subscribe"))
        assert greeting.fields["ToUserName"] == ALICE and greeting.fields["MsgType"] == "text"
        content = expect(greeting.content, await core_says("/start"))
        assert texts.WELCOME in content and "1. 北京" in content

        picked = await wechat.push(url, wechat.text(ALICE, "3"))  # choice 3: 乌鲁木齐
        expect(picked.content, await core_says(payload="r:650100"))
        typed = await wechat.push(url, wechat.text(ALICE, "灵活就业（自己交）"))  # a label typed back
        content = expect(typed.content, await core_says(payload="t:flexible"))
        assert "可以直接回复：1个月" in content  # numbers answer this question: no numbering
        answer = await wechat.push(url, wechat.text(ALICE, "4"))  # 4 months, not choice 4
        content = expect(answer.content, await core_says("4"))
        assert len(content.encode()) <= 2000 and "请点：" not in content  # the short card fits one reply
        why = next(line for line in content.splitlines() if texts.BTN_WHY in line)
        details = await wechat.push(url, wechat.text(ALICE, why.split(".")[0]))
        content = expect(details.content, await core_says(payload="a:why"))
        assert len(content.encode()) <= 2000
        link = content.split("请点：")[1].split()[0]  # too long for one reply: the page carries the rest
        assert link.startswith("https://bot.example.cn/chat/?start=") and ALICE not in link
        carried = decode_start(parse_qs(urlparse(link).query)["start"][0], LINK_KEY)
        assert carried is not None and carried.region_code == "650100"
        assert carried.slots == {"insurance_type": "flexible", "gap_months": 4}
        remind = next(line for line in content.splitlines() if texts.BTN_REMIND in line)
        reminded = await wechat.push(url, wechat.text(ALICE, remind.split(".")[0]))
        expect(reminded.content, await core_says(payload="a:remind"))
    state = await state_of(redis, keyspace, ALICE)
    assert state.answered and state.slots["region"] == "650100" and state.slots["gap_months"] == 4
    assert wechat.sent == [] and wechat.token_calls == []  # everything went as passive replies


async def test_other_message_types_and_unsubscribe(wechat: FakeWeChat, start_worker: Start, redis: Redis,
                                                   keyspace: KeySpace) -> None:
    async with start_worker(wechat) as w:
        url = url_of(w)
        await wechat.push(url, wechat.text(ALICE, "北京"))
        image = await wechat.push(url, wechat.other(ALICE, "image", PicUrl="http://example.com/a.jpg"))
        assert texts.ONLY_TEXT in (image.content or "") and "1. 单位职工医保" in (image.content or "")
        spoken = await wechat.push(url, wechat.other(ALICE, "voice", MediaId="m1", Recognition="灵活就业"))
        assert SLOT_SPECS["gap_months"].question in (spoken.content or "")
        odd = await wechat.push(url, wechat.other(ALICE, "miniprogrampage", Title="x"))
        assert texts.ONLY_TEXT in (odd.content or "")
        view = await wechat.push(url, wechat.event(ALICE, "VIEW", "https://example.com"))
        assert (view.status, view.body) == (200, "success")
        gone = await wechat.push(url, wechat.event(ALICE, "unsubscribe"))
        assert (gone.status, gone.body) == (200, "success")
    assert (await state_of(redis, keyspace, ALICE)).slots == {}  # forgotten with the person's leaving
    assert wechat.sent == []


async def test_slow_turn_answers_success_then_a_customer_service_message(
        wechat: FakeWeChat, start_worker: Start, redis: Redis, keyspace: KeySpace) -> None:
    async with start_worker(wechat, wechat_reply_seconds=0.2) as w:
        gated = Gated(w.service)
        w.receiver.service = gated
        reply = await wechat.push(url_of(w), wechat.text(ALICE, "乌鲁木齐灵活就业断了4个月还能补吗"))
        assert (reply.status, reply.body, reply.attempts) == (200, "success", 1)
        assert wechat.sent == []
        gated.gate.set()
        [sent] = await wechat.wait_sent(1)
        assert sent.openid == ALICE and "乌鲁木齐" in sent.text and len(sent.text.encode()) <= 2000
        assert (await state_of(redis, keyspace, ALICE)).answered
        assert len(wechat.token_calls) == 1


async def test_retried_msgid_is_answered_once(wechat: FakeWeChat, start_worker: Start, redis: Redis,
                                              keyspace: KeySpace) -> None:
    async with start_worker(wechat, dialog=ListDialog(), wechat_reply_seconds=2.0) as w:
        gated = Gated(w.service)
        w.receiver.service = gated
        # WeChat gives up on the first request (no answer in time) and sends it again.
        message = wechat.text(ALICE, "hello")
        reply = await wechat.push(url_of(w), message, drop_after=0.3)
        assert reply.attempts == 2 and reply.body == "success"
        assert [status for _, status in wechat.pushes] == [None, 200]
        gated.gate.set()  # the first request's turn finishes, but WeChat is no longer listening on it
        [sent] = await wechat.wait_sent(1)
        assert sent.text == "got hello"
        # A retry of a message answered passively gets the same answer; the dialog still sees it once.
        w.receiver.service = w.service
        second = wechat.text(ALICE, "again")
        first_reply = await wechat.push(url_of(w), second)
        again = await wechat.push(url_of(w), second)
        assert first_reply.content == again.content == "got again"
        await w.receiver.drain()
    assert (await state_of(redis, keyspace, ALICE)).slots["seen"] == ["hello", "again"]
    assert len(wechat.sent) == 1


async def test_bad_requests_store_nothing(wechat: FakeWeChat, start_worker: Start,
                                          redis_dump: RedisDump) -> None:
    async with start_worker(wechat) as w, aiohttp.ClientSession() as http:
        url = url_of(w)
        body = message_xml(wechat.text(ALICE, "北京")).encode()
        bad_sig = {**wechat.signed_query(), "signature": sign("other", "1", "2")}
        entity = (b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]>'
                  b"<xml><ToUserName>&a;</ToUserName></xml>")
        cases = [
            (bad_sig, body, 403),
            ({}, body, 403),
            (wechat.signed_query(), b"<xml><ToUserName>", 400),
            (wechat.signed_query(), entity, 400),
            (wechat.signed_query(), b"<xml>" + b"<a>x</a>" * 9000 + b"</xml>", 400),
            (wechat.signed_query(), b"<notxml/>", 400),
            (wechat.signed_query(), b"<xml><MsgType>text</MsgType></xml>", 400),
            (wechat.signed_query(), "<xml>\udcff</xml>".encode("utf-8", "surrogatepass"), 400),
        ]
        for query, data, status in cases:
            async with http.post(url, params=query, data=data) as resp:
                assert resp.status == status, (data[:40], await resp.text())
        for probe in ("healthz", "readyz"):
            async with http.get(f"http://127.0.0.1:{w.port}/{probe}") as resp:
                assert resp.status == 200
        async with http.get(f"http://127.0.0.1:{w.port}/metrics") as resp:
            metrics = await resp.text()
        assert 'yibao_dropped_updates_total{reason="wechat_signature"}' in metrics
        assert 'yibao_dropped_updates_total{reason="wechat_malformed"}' in metrics
    assert await redis_dump() == {}


async def test_encrypted_conversation(wechat_safe: FakeWeChat, start_worker: Start,
                                      redis_dump: RedisDump) -> None:
    fake = wechat_safe
    async with start_worker(fake) as w, aiohttp.ClientSession() as http:
        url = url_of(w)
        hello = await fake.push(url, fake.event(ALICE, "subscribe"))
        assert texts.WELCOME in (hello.content or "") and "<Encrypt>" in hello.body and "您好" not in hello.body
        answer = await fake.push(url, fake.text(ALICE, "北京单位职工医保断了2个月，公司没交"))
        assert "北京" in (answer.content or "")
        # A wrong msg_signature, or a plain body in safe mode, is refused.
        body, query = fake.sealed_body(fake.text(BOB, "北京"))
        async with http.post(url, params={**query, "msg_signature": "0" * 40}, data=body) as resp:
            assert resp.status == 403
        plain = message_xml(fake.text(BOB, "北京")).encode()
        async with http.post(url, params=fake.signed_query(), data=plain) as resp:
            assert resp.status == 400
    assert not any(BOB in key for key in await redis_dump())


async def test_a_worker_refuses_the_public_default_deeplink_key(wechat: FakeWeChat, start_worker: Start) -> None:
    with pytest.raises(SettingsError) as caught:
        async with start_worker(wechat, deeplink_key=DEFAULT_KEY):
            pass
    assert caught.value.lines[0].startswith("DEEPLINK_KEY")


async def test_expired_token_refreshed_once_by_two_workers(wechat: FakeWeChat, start_worker: Start) -> None:
    async with start_worker(wechat) as one, start_worker(wechat) as two:
        assert await one.outbox.send_text(ALICE, "first")
        assert len(wechat.token_calls) == 1
        wechat.expire_tokens()
        sent = await asyncio.gather(*(w.outbox.send_text(BOB, f"from {n}")
                                      for n, w in enumerate([one, two, one, two])))
        assert sent == [True] * 4
    assert len(wechat.token_calls) == 2  # one refresh for all four rejected calls
    assert {s.token for s in wechat.sent[1:]} == {"TOKEN0002"}


async def test_custom_messages_only_inside_the_48_hour_window(wechat: FakeWeChat, start_worker: Start,
                                                              redis: Redis, keyspace: KeySpace) -> None:
    async with start_worker(wechat) as w:
        assert not await w.outbox.send_custom_message(APP_ID, ALICE, "提醒：补缴期限快到了")
        await wechat.push(url_of(w), wechat.text(ALICE, "你好"))
        assert await w.outbox.send_custom_message(APP_ID, ALICE, "提醒：补缴期限快到了")
        window = keyspace.conversation(conversation_id(APP_ID, ALICE), "wxw")
        now = int(await redis.get(window) or 0)
        await redis.set(window, now - 48 * 3600 - 1)
        assert not await w.outbox.send_custom_message(APP_ID, ALICE, "held")
    assert [s.text for s in wechat.sent] == ["提醒：补缴期限快到了"]


async def test_fuzzed_pushes_never_fail_the_worker(wechat_safe: FakeWeChat, start_worker: Start) -> None:
    """Mangled bodies and ciphertexts, correctly signed: always 200/400/403, never a 5xx."""
    fake, rng = wechat_safe, random.Random(13)
    plain = message_xml(fake.text(ALICE, "乌鲁木齐灵活就业断了4个月")).encode()
    sealed, _ = fake.sealed_body(fake.text(ALICE, "北京"))
    statuses: set[int] = set()
    async with start_worker(fake) as w, aiohttp.ClientSession() as http:
        for n in range(150):
            base = bytearray(rng.choice([plain, sealed]))
            for _ in range(rng.randint(1, 8)):
                base[rng.randrange(len(base))] = rng.randrange(256)
            body = bytes(base)
            encrypt = body.split(b"<Encrypt><![CDATA[")[-1].split(b"]]>")[0].decode(errors="replace")
            query = fake.signed_query(encrypt, ALICE) if n % 2 else fake.signed_query()
            async with http.post(url_of(w), params=query, data=body) as resp:
                statuses.add(resp.status)
                assert resp.status in (200, 400, 403), (body, await resp.text())
    assert {400, 403} <= statuses


async def test_a_conversation_another_worker_holds_is_answered_by_customer_service_messages(
        wechat: FakeWeChat, start_worker: Start, redis: Redis, keyspace: KeySpace) -> None:
    """A worker died holding the conversation's lease: the push is answered "success", and the
    worker that takes the conversation over sends both replies as customer-service messages."""
    config = StoreConfig(lease=timedelta(milliseconds=300))
    cid = conversation_id(APP_ID, ALICE)
    async with start_worker(wechat, store_config=config) as w:
        first = InEvent("wechat", APP_ID, ALICE, ALICE, ChatKind.PRIVATE, "m1", text="北京")
        taken = await ConversationStore(redis, keyspace, config).submit(cid, "m1", encode_event(first))
        assert taken.lease is not None  # the "dead" worker's lease: it never commits
        reply = await wechat.push(url_of(w), wechat.text(ALICE, "灵活就业"))
        assert (reply.status, reply.body) == (200, "success") and wechat.sent == []
        await asyncio.sleep(0.4)  # past the lease: this worker (which queued behind it) takes over
        await w.service.recover()  # or the periodic recovery does; either way each update applies once
        first_reply, second_reply = await wechat.wait_sent(2)
    assert {first_reply.openid, second_reply.openid} == {ALICE}
    assert "1. 单位职工医保" in first_reply.text  # 北京 noted: which insurance?
    assert SLOT_SPECS["gap_months"].question in second_reply.text  # flexible noted: how long?
    state = await state_of(redis, keyspace, ALICE)
    assert (state.slots["region"], state.slots["insurance_type"]) == ("110000", "flexible")
