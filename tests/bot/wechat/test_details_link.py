"""A WeChat answer too long for one reply links to the web chat page, which continues the conversation."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

from aiohttp import ClientSession, CookieJar

from bot.runtime import open_runtime
from bot.web.app import WebConfig
from bot.web.limits import RateLimit
from bot.web.server import running_web
from flows import texts
from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent
from flows.service import CollectingSink, ConversationService
from tests.bot.wechat.conftest import TODAY, Start, url_of
from tests.bot.wechat.fake_wechat import FakeWeChat

ALICE = "oia2TjjewbmiOUlr6X-1crbLOvLw"


async def web_start(http: ClientSession, base: str, link: dict[str, str]) -> str:
    async with http.post(base + "api/start", data=json.dumps(link),
                         headers={"Content-Type": "application/json"}) as resp:
        data: dict[str, Any] = await resp.json()
        assert resp.status == 200, data
    return "\n".join(e["text"] for e in data["entries"] if e["role"] == "bot")


async def test_details_link_opens_the_conversation_on_the_web_page(
        wechat: FakeWeChat, start_worker: Start, redis_url: str, key_prefix: str, gap_dialog: GapDialog) -> None:
    config = WebConfig(session_key="test-session-key", rate=RateLimit(limit=30, window_ms=10_000))
    async with open_runtime(redis_url, key_prefix=key_prefix, dialog=gap_dialog) as rt, running_web(
            "127.0.0.1", 0, config, runtime=rt, clock=lambda: TODAY) as page:
        async with start_worker(wechat, wechat_web_base=page.url) as w:
            card = (await wechat.push(url_of(w), wechat.text(ALICE, "乌鲁木齐灵活就业断了4个月还能补吗"))).content or ""
            why = next(line for line in card.splitlines() if texts.BTN_WHY in line)
            reply = await wechat.push(url_of(w), wechat.text(ALICE, why.split(".")[0]))
        content = reply.content or ""
        link = content.split("请点：")[1].split()[0]  # the details do not fit one reply
        assert link.startswith(page.url) and ALICE not in link
        start = parse_qs(urlparse(link).query)["start"][0]
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
            shown = await web_start(http, page.url, {"start": start})
        # The page answers at once with the same conversation's card; the details sit behind its buttons.
        twin = ConversationService(rt.store, gap_dialog, CollectingSink(), clock=lambda: TODAY)
        said = await twin.handle(InEvent("cli", "twin", "twin", "twin", ChatKind.PRIVATE, "t1",
                                         text="乌鲁木齐灵活就业断了4个月还能补吗"))
        headline = next(line for m in said for line in m.text.splitlines() if line.startswith("📍"))
        assert headline.startswith("📍") and headline in shown
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
            forged = await web_start(http, page.url, {"start": start[:-8] + "AAAAAAAA"})
        assert headline not in forged and texts.WELCOME in forged  # an edited link starts afresh
