"""The web chat's JSON API over HTTP: sessions, limits, refusals, the link prefill, health."""

from __future__ import annotations

import asyncio
import json
import random
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import ClientSession
from redis.asyncio import Redis

from bot.runtime import Runtime, open_runtime
from bot.web.api import TOO_FAST, TOO_LONG, Visitor
from bot.web.app import CSP, STATIC_FILES, WebConfig
from bot.web.limits import RateLimit
from bot.web.server import RunningWeb, parse_listen, running_web
from bot.web.session import COOKIE_NAME
from flows.dialog import GapDialog
from flows.store import StoreConfig, decode_event, encode_event
from tests.conftest import RedisDump

JSON = {"Content-Type": "application/json"}


async def post(http: ClientSession, web: RunningWeb, path: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
    async with http.post(web.url + path.lstrip("/"), data=json.dumps(body), headers=JSON, **kwargs) as resp:
        return resp.status, await resp.json()


async def start(http: ClientSession, web: RunningWeb, **link: str) -> list[dict[str, Any]]:
    status, data = await post(http, web, "/api/start", link)
    assert status == 200, data
    return list(data["entries"])


def bot_texts(entries: list[dict[str, Any]]) -> str:
    return "\n".join(e["text"] for e in entries if e["role"] == "bot")


async def test_a_conversation_through_the_api(http: ClientSession, web: RunningWeb) -> None:
    first = await start(http, web)
    assert "您好" in bot_texts(first)
    status, data = await post(http, web, "/api/message",
                              {"text": "乌鲁木齐灵活就业断了4个月还能补吗", "since": first[-1]["seq"]})
    assert status == 200
    user, *replies = data["entries"]
    assert user == {"role": "user", "text": "乌鲁木齐灵活就业断了4个月还能补吗", "uid": user["uid"], "seq": 2}
    assert "乌鲁木齐" in bot_texts(replies) and "结论" in bot_texts(replies)
    buttons = [b for e in replies for row in e.get("buttons", ()) for b in row]
    restart = next(b for b in buttons if b["label"] == "重新开始")
    status, data = await post(http, web, "/api/message", {"payload": restart["payload"], "since": data["seq"]})
    assert status == 200
    assert data["entries"][0] == {"role": "user", "text": "重新开始", "uid": data["entries"][0]["uid"],
                                  "seq": data["entries"][0]["seq"]}
    assert "重新开始" in bot_texts(data["entries"])


async def test_link_prefills_the_region_and_counts_the_source(
    http: ClientSession, web: RunningWeb, runtime: Runtime, redis: Redis
) -> None:
    entries = await start(http, web, region="650100", src="jiedao12")
    assert "已为您选好地区：新疆维吾尔自治区乌鲁木齐市" in bot_texts(entries)
    assert await redis.hget(runtime.store.keys.referrals, "jiedao12") == b"1"  # type: ignore[misc]
    # A reload of the link does not start (or count) again.
    assert await start(http, web, region="650100", src="jiedao12") == entries
    assert await redis.hget(runtime.store.keys.referrals, "jiedao12") == b"1"  # type: ignore[misc]


@pytest.mark.parametrize("link", [
    {"region": "999999", "src": "x<script>"},
    {"region": "65010", "src": "a" * 40},
    {"region": "<b>650100</b>"},
    {"src": "jie dao"},
])
async def test_unknown_or_malformed_link_starts_a_normal_conversation(
    link: dict[str, str], http: ClientSession, web: RunningWeb, runtime: Runtime, redis: Redis
) -> None:
    entries = await start(http, web, **link)
    assert "已为您选好地区" not in bot_texts(entries)
    assert "哪个城市" in bot_texts(entries) or "地区" in bot_texts(entries)
    assert await redis.hgetall(runtime.store.keys.referrals) == {}  # type: ignore[misc]


async def test_behind_a_proxy_the_public_origin_is_accepted(http: ClientSession, web: RunningWeb) -> None:
    headers = {**JSON, "Origin": "https://bot.example", "X-Forwarded-Host": "bot.example",
               "X-Forwarded-Proto": "https"}
    async with http.post(web.url + "api/start", data="{}", headers=headers) as resp:
        assert resp.status == 200
        assert resp.cookies[COOKIE_NAME]["secure"]
    # nginx's `proxy_set_header Host $host` drops the port the browser's Origin keeps.
    async with http.post(web.url + "api/start", data="{}",
                         headers={**JSON, "Origin": f"http://127.0.0.1:{web.port + 1}"}) as resp:
        assert resp.status == 200


async def test_the_session_cookie_is_signed_httponly_and_samesite(http: ClientSession, web: RunningWeb) -> None:
    async with http.get(web.url + "api/history") as resp:
        cookie = resp.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    await start(http, web)
    await post(http, web, "/api/message", {"text": "北京的职工医保断了两个月"})
    # Another visitor, or a tampered cookie, gets a fresh session and sees nothing of it.
    session_id, mac = cookie.value.split(".")
    for forged in (f"{session_id}.{mac[:-1]}A" if mac[-1] != "A" else f"{session_id}.{mac[:-1]}B",
                   session_id, "", "x" * 200):
        async with ClientSession(cookies={COOKIE_NAME: forged}) as other:
            async with other.get(web.url + "api/history") as resp:
                assert (await resp.json())["entries"] == []
                assert resp.cookies[COOKIE_NAME].value.split(".")[0] != session_id


async def test_refusals_are_polite_and_change_nothing(http: ClientSession, web: RunningWeb,
                                                      redis_dump: RedisDump) -> None:
    await start(http, web)
    before = await redis_dump()
    status, data = await post(http, web, "/api/message", {"text": "断" * 2001})
    assert (status, data) == (422, {"error": TOO_LONG})
    async with http.post(web.url + "api/message", data=b"{" + b" " * 17_000 + b"}", headers=JSON) as resp:
        assert resp.status == 413
    async with http.post(web.url + "api/message", data="text=hello",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}) as resp:
        assert resp.status == 400 and "请求格式不对" in (await resp.json())["error"]
    for body in ("not json", "[1, 2]", '{"text": 5}', '{"payload": ""}', '{"payload": "' + "p" * 65 + '"}',
                 '{"text": "   "}', "null"):
        async with http.post(web.url + "api/message", data=body, headers=JSON) as resp:
            assert resp.status == 400, body
            assert (await resp.json())["error"]
    async with http.post(web.url + "api/message", data=json.dumps({"text": "hi"}),
                         headers={**JSON, "Origin": "https://evil.example"}) as resp:
        assert resp.status == 403
    async with http.post(web.url + "api/message", data=json.dumps({"text": "hi"}),
                         headers={**JSON, "Origin": "https://evil.example", "X-Forwarded-Host": "bot.example"}) as resp:
        assert resp.status == 403
    after = await redis_dump()
    assert {k for k in after if after[k] != before.get(k)} == set()  # refused before the core: not even counted


async def test_a_burst_over_the_session_rate_gets_429(http: ClientSession, runtime: Runtime) -> None:
    config = WebConfig(session_key="k", rate=RateLimit(limit=3, window_ms=60_000))
    async with running_web("127.0.0.1", 0, config, runtime=runtime) as web:
        await start(http, web)  # counts as one
        statuses = []
        for n in range(4):
            async with http.post(web.url + "api/message", data=json.dumps({"text": f"第{n}条"}),
                                 headers=JSON) as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    assert (await resp.json())["error"] == TOO_FAST
                    assert int(resp.headers["Retry-After"]) >= 1
        assert statuses == [200, 200, 429, 429]
        status, data = await post(http, web, "/api/restart", {})
        assert (status, data) == (429, {"error": TOO_FAST})  # and a refused restart leaves the page as it was
        async with http.get(web.url + "api/history") as resp:  # refused messages left no trace
            assert [e["text"] for e in (await resp.json())["entries"] if e["role"] == "user"] == ["第0条", "第1条"]
        async with ClientSession() as other:  # another session is not limited by this one
            async with other.post(web.url + "api/start", data="{}", headers=JSON) as resp:
                assert resp.status == 200


async def test_a_repeated_message_id_is_answered_once(http: ClientSession, web: RunningWeb) -> None:
    await start(http, web)
    body = {"text": "北京", "id": "retry-0123456789"}
    _, first = await post(http, web, "/api/message", body)
    _, again = await post(http, web, "/api/message", body)  # e.g. the phone lost the first response
    assert again == first
    assert [e["text"] for e in again["entries"] if e["role"] == "user"] == ["北京"]


async def test_concurrent_messages_of_one_session_are_all_answered(http: ClientSession, web: RunningWeb) -> None:
    await start(http, web)
    texts = ["北京", "职工医保", "断了3个月", "单位原因"]
    results = await asyncio.gather(*(post(http, web, "/api/message", {"text": t}) for t in texts))
    for text, (status, data) in zip(texts, results, strict=True):
        assert status == 200
        entries = data["entries"]
        own = next(i for i, e in enumerate(entries) if e["role"] == "user" and e["text"] == text)
        assert entries[own + 1]["role"] == "bot" and entries[own + 1]["uid"] == entries[own]["uid"]
    async with http.get(web.url + "api/history") as resp:
        everything = (await resp.json())["entries"]
    assert sorted(e["text"] for e in everything if e["role"] == "user") == sorted(texts)
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))


async def test_personal_numbers_never_reach_redis(http: ClientSession, web: RunningWeb,
                                                  redis_dump: RedisDump) -> None:
    await start(http, web)
    status, data = await post(http, web, "/api/message", {"text": "我身份证110101199003071234，北京断了3个月"})
    assert status == 200
    assert "110101199003071234" not in data["entries"][0]["text"]
    assert "110101199003071234" not in repr(await redis_dump())


async def test_no_request_makes_it_fail(http: ClientSession, web: RunningWeb) -> None:
    rng = random.Random(12)
    alphabet = '{}[]":,0123456789abcdefnulltrue \\u00e9断<>&'
    bodies = [bytes(rng.randrange(256) for _ in range(rng.randrange(40))) for _ in range(40)]
    bodies += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(60))).encode() for _ in range(60)]
    bodies += [b'{"text": "\\ud800"}', b'{"text": "a", "text": 1}']
    bodies += [json.dumps(v).encode() for v in ({"text": None}, {"text": ["a"]}, {"payload": 1},
                                               {"text": "a", "since": "x"}, {"text": "a", "since": -5},
                                               {"text": "a", "id": "../../etc"}, {"payload": "a:nonsense"},
                                               {"payload": "r:000000"}, {"text": "\x00"},
                                               {"text": "[" * 5000})]
    for path in ("api/message", "api/start", "api/restart"):
        for body in bodies:
            async with http.post(web.url + path, data=body, headers=JSON) as resp:
                assert resp.status < 500, (path, body, resp.status)
    for path in ("api/history?since=abc", "api/history?since=99999999999999999999", "nothing", "static/x.js",
                 "static/../app.py"):
        async with http.get(web.url + path) as resp:
            assert resp.status < 500
    async with http.get(web.url + "healthz") as resp:
        assert resp.status == 200


async def test_page_headers_forbid_third_party_and_inline_code(http: ClientSession, web: RunningWeb) -> None:
    async with http.get(web.url + "?region=650100&src=jiedao12") as resp:
        page = await resp.text()
        assert resp.status == 200 and resp.headers["Content-Security-Policy"] == CSP
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in CSP and "unsafe" not in CSP
    assert "http://" not in page and "https://" not in page and "<script>" not in page
    for name in STATIC_FILES:  # no address elsewhere (the SVG namespace is a name, never fetched)
        async with http.get(web.url + "static/" + name) as resp:
            assert resp.status == 200
            assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", await resp.text()), name


async def test_ops_routes_report_liveness_readiness_and_metrics(http: ClientSession, web: RunningWeb) -> None:
    async with http.get(web.url + "healthz") as resp:
        assert resp.status == 200
    async with http.get(web.url + "readyz") as resp:
        assert resp.status == 200
        assert (await resp.json())["checks"] == {"redis": "ok", "rules": "ok"}
    await start(http, web)
    await post(http, web, "/api/message", {"text": "北京"})
    async with http.get(web.url + "metrics") as resp:
        assert 'yibao_turns_total{adapter="web"}' in await resp.text()


def test_listen_parsing() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:18000") == ("::1", 18000)
    for bad in ("8080", "host:", ":80", "h:99999", "h:x"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_listen(bad)


def _yuan(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.]", "", text))


@pytest.mark.parametrize("said", [
    ["北京职工医保，公司没给我交，基数6000", "3个月"],
    ["乌鲁木齐灵活就业断了4个月，基数4000"],
    ["天津职工医保，自己原因断了2个月，基数5000"],
])
async def test_the_cost_table_never_contradicts_itself(said: list[str], http: ClientSession,
                                                       web: RunningWeb) -> None:
    """A "合计" row is the sum of the rows above it; what the person pays is labelled as such."""
    await start(http, web)
    views = []
    for text in said:
        _, data = await post(http, web, "/api/message", {"text": text})
        views += [e["view"] for e in data["entries"] if e.get("view")]
    rows = [r for view in views for r in [view["cost_rows"]] if r]
    assert rows, "no answer with a cost table"
    for table in rows:
        labels = [label for label, _ in table]
        if "合计" in labels:
            above = table[: labels.index("合计")]
            assert _yuan(table[labels.index("合计")][1]) == sum(_yuan(a) for _, a in above), table


async def test_no_reminder_is_promised_on_a_page_that_cannot_be_sent_one(
    http: ClientSession, web: RunningWeb, redis_dump: RedisDump
) -> None:
    await start(http, web)
    _, data = await post(http, web, "/api/message", {"text": "乌鲁木齐灵活就业断了4个月，基数4000"})
    payloads = [b["payload"] for e in data["entries"] for row in e.get("buttons", ()) for b in row]
    assert payloads and "a:remind" not in payloads
    for asked in ({"payload": "a:remind"}, {"text": "到时候提醒我"}):
        _, data = await post(http, web, "/api/message", {**asked, "since": data["seq"]})
        said = bot_texts(data["entries"])
        assert "没法到时主动通知您" in said and "已为您设置提醒" not in said
        assert re.search(r"20[0-9]{2}-[0-9]{2}-[0-9]{2}", said)  # the dates are given all the same
    stored = await redis_dump()
    assert not [k for k in stored if k.endswith(":rm") or "remind" in k], stored


def test_a_queued_web_event_keeps_what_the_platform_cannot_do() -> None:
    event = Visitor("A" * 24, new=False).event("m-0123456789", text="提醒我")
    assert decode_event(encode_event(event)) == event and not event.can_push


async def test_the_web_rate_is_the_stores_flood_limit_refused_with_429_and_no_notice(
    http: ClientSession, redis_url: str, key_prefix: str, dialog: GapDialog
) -> None:
    """WEB_RATE_LIMIT, not the other platforms' flood limit, counts a session's messages in the core's
    submit; past it every request (the first included) is a polite 429, and the chat gets no notice."""
    store = StoreConfig(flood_limit=2, flood_window=timedelta(seconds=60))  # Telegram's, say: not the web's
    config = WebConfig(session_key="k", rate=RateLimit(limit=4, window_ms=60_000))
    async with open_runtime(redis_url, key_prefix=key_prefix, dialog=dialog, store_config=store) as rt, \
            running_web("127.0.0.1", 0, config, runtime=rt) as web:
        seq = (await start(http, web))[-1]["seq"]  # the first of four
        replies = []
        for n in range(5):
            async with http.post(web.url + "api/message", data=json.dumps({"text": f"第{n}条", "since": seq}),
                                 headers=JSON) as resp:
                data = await resp.json()
                replies.append((resp.status, data, resp.headers.get("Retry-After")))
            seq = data.get("seq", seq)
        assert [status for status, _, _ in replies] == [200, 200, 200, 429, 429], replies
        for _, data, retry in replies[3:]:
            assert data == {"error": TOO_FAST} and retry is not None and 1 <= int(retry) <= 60
        async with http.get(web.url + "api/history") as resp:
            shown = (await resp.json())["entries"]
        assert [e["text"] for e in shown if e["role"] == "user"] == ["第0条", "第1条", "第2条"]
        assert "太快" not in bot_texts(shown)
