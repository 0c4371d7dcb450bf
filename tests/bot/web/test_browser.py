"""The web chat in a real headless Chromium (Debian's), driven by Playwright.

Every page is watched: a script error, a CSP violation (a console error) or a request to
another origin fails the test. The answer's screenshots go to .data/screenshots/ (the
README names them) for a person to look at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.runtime import Runtime, open_runtime
from bot.web.api import Visitor
from bot.web.app import BUSY
from bot.web.server import RunningWeb, running_web
from bot.web.session import COOKIE_NAME, SessionSigner
from bot.web.transcript import Transcript
from flows.dialog import GapDialog
from flows.redis_embed import open_redis
from tests.bot.web.conftest import SCREENSHOTS

MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 860}
BOT = ".msg.bot:not(.pending)"


class Served(Protocol):
    """A running web chat (in this process or the `python -m bot web` command)."""

    @property
    def url(self) -> str: ...


@dataclass
class Watched:
    """A page plus what it did that it should not have."""

    page: Any
    problems: list[str] = field(default_factory=list)

    async def replies(self) -> int:
        return int(await self.page.locator(BOT).count())

    async def send(self, text: str) -> None:
        """Type into the message box and press Enter; wait for the answer."""
        await self.page.get_by_role("textbox", name="输入您的问题").fill(text)
        await self.page.keyboard.press("Enter")
        await self.settled()

    async def tap(self, label: str) -> None:
        """Tap the latest button with this label; wait for the answer."""
        await self.page.locator(".msg.bot .choice", has_text=label).last.click()
        await self.settled()

    async def settled(self) -> None:
        await self.page.locator(".typing").first.wait_for(state="detached")

    async def texts(self, who: str) -> list[str]:
        return [t.strip() for t in await self.page.locator(f".msg.{who}:not(.pending) .bubble").all_inner_texts()]


@asynccontextmanager
async def opened(browser: Any, web: Served, path: str = "", viewport: dict[str, int] | None = None,
                 context: Any = None) -> AsyncIterator[Watched]:
    own = context is None
    if own:
        context = await browser.new_context(viewport=viewport or MOBILE, locale="zh-CN")
    page = await context.new_page()
    watched = Watched(page)
    page.on("pageerror", lambda exc: watched.problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and watched.problems.append(f"console: {msg.text}"))
    page.on("dialog", lambda dialog: watched.problems.append(f"dialog opened: {dialog.message}"))
    page.on("request", lambda req: req.url.startswith(web.url) or req.url.startswith("data:")
            or watched.problems.append(f"request elsewhere: {req.url}"))
    await page.goto(web.url + path)
    await page.locator(BOT).first.wait_for()
    try:
        yield watched
    finally:
        await page.close()
        if own:
            await context.close()
    assert watched.problems == []


async def test_nothing_to_pay_back_is_drawn_as_such_not_as_a_refusal(browser: Any, web: RunningWeb) -> None:
    """Someone drawing unemployment benefit: the fund pays, so the strip says 无需补缴, never ❌."""
    async with opened(browser, web) as chat:
        await chat.send("景德镇，我在领失业金，医保还要自己交吗")
        card = chat.page.locator(".card").last
        await card.wait_for()
        assert await card.locator(".verdict").inner_text() == "✅ 无需补缴"
        assert "无需个人补缴" in await card.locator(".text").inner_text()
        assert await card.locator("table.cost").count() == 0


async def no_horizontal_scroll(page: Any) -> None:
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
                                 " document.querySelector('main').scrollWidth, document.querySelector('main').clientWidth]")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths


async def test_a_whole_conversation_by_typing_and_tapping(browser: Any, web: RunningWeb) -> None:
    async with opened(browser, web) as chat:
        assert "您好" in (await chat.texts("bot"))[0]
        await chat.send("乌鲁木齐")
        await chat.tap("灵活就业（自己交）")
        await chat.send("断了4个月，基数4000")
        # The answer: the short card, with the cost table, the timeline picture and the sources.
        card = chat.page.locator(".card").last
        await card.wait_for()
        assert "有条件补缴" in await card.locator(".verdict").inner_text()
        assert "乌鲁木齐" in await card.locator(".text").inner_text()
        assert (await card.locator("table.cost tr.total").inner_text()).startswith("合计")
        assert "恢复报销" in await card.locator("svg.timeline").get_attribute("aria-label")
        assert await card.locator(".sources li").count() >= 1
        assert await chat.texts("user") == ["乌鲁木齐", "灵活就业（自己交）", "断了4个月，基数4000"]
        await no_horizontal_scroll(chat.page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        answer = chat.page.locator(".msg.bot", has=card).last
        await answer.evaluate("node => node.scrollIntoView({block: 'start'})")
        await chat.page.screenshot(path=str(SCREENSHOTS / "web-answer.png"))  # what the phone shows
        await chat.page.set_viewport_size({"width": 360, "height": 2000})  # tall enough for the whole answer
        await answer.screenshot(path=str(SCREENSHOTS / "web-answer-card.png"))
        await chat.page.set_viewport_size(DESKTOP)
        await answer.evaluate("node => node.scrollIntoView({block: 'start'})")
        await chat.page.screenshot(path=str(SCREENSHOTS / "web-answer-desktop.png"))
        await chat.page.set_viewport_size(MOBILE)
        # Long content sits behind the card's buttons; free text is always accepted too.
        await chat.tap("费用明细")
        assert "本金" in (await chat.texts("bot"))[-1]
        textbox = chat.page.get_by_role("textbox", name="输入您的问题")
        assert await chat.page.locator("textarea").count() == 1 and await textbox.input_value() == ""
        await textbox.fill("什么时候能报销")
        await chat.page.get_by_role("button", name="发送").click()
        await chat.settled()
        assert (await chat.texts("user"))[-2:] == ["💰 费用明细", "什么时候能报销"]
        assert await chat.page.locator(".choice", has_text="提醒").count() == 0  # a page cannot be reminded
        await no_horizontal_scroll(chat.page)
    assert (SCREENSHOTS / "web-answer.png").stat().st_size > 10_000


async def test_a_community_link_prefills_the_region(browser: Any, web: RunningWeb, runtime: Runtime,
                                                    redis: Redis) -> None:
    async with opened(browser, web, "?region=650100&src=jiedao12") as chat:
        assert "已为您选好地区：新疆维吾尔自治区乌鲁木齐市" in (await chat.texts("bot"))[0]
        await chat.page.reload()
        await chat.page.locator(BOT).first.wait_for()
        assert await chat.replies() == 1
    assert await redis.hget(runtime.store.keys.referrals, "jiedao12") == b"1"  # type: ignore[misc]
    async with opened(browser, web, "?region=123456&src=<b>x</b>") as chat:
        assert "已为您选好地区" not in (await chat.texts("bot"))[0]


async def test_a_reload_keeps_the_conversation_and_restart_clears_it(browser: Any, web: RunningWeb) -> None:
    async with opened(browser, web) as chat:
        await chat.send("北京职工医保断了3个月")
        before = await chat.texts("bot"), await chat.texts("user")
        await chat.page.reload()
        await chat.page.locator(BOT).first.wait_for()
        assert (await chat.texts("bot"), await chat.texts("user")) == before
        restart = chat.page.locator("#restart")
        await restart.click()  # a stray tap only asks
        assert await restart.inner_text() == "确定重新开始？" and await chat.texts("user") != []
        await restart.click()
        await chat.page.locator(".msg.user").first.wait_for(state="detached")
        assert await chat.texts("user") == [] and await chat.replies() == 1
        assert "重新开始" in (await chat.texts("bot"))[0]
        await chat.page.reload()
        await chat.page.locator(BOT).first.wait_for()
        assert await chat.texts("user") == [] and await chat.replies() == 1


async def test_two_visitors_do_not_see_each_other(browser: Any, web: RunningWeb) -> None:
    async with opened(browser, web) as alice:
        await alice.send("北京职工医保，公司停了2个月")
        async with opened(browser, web) as bob:
            assert await bob.texts("user") == []
            await bob.send("上海")
            assert "北京职工医保，公司停了2个月" not in await bob.texts("user")
        await alice.page.reload()
        await alice.page.locator(BOT).first.wait_for()
        assert await alice.texts("user") == ["北京职工医保，公司停了2个月"]


async def test_markup_typed_as_a_message_is_shown_as_text(browser: Any, web: RunningWeb) -> None:
    typed = '<script>alert(1)</script><img src=x onerror="alert(2)"><b>粗体</b>'
    async with opened(browser, web) as chat:
        await chat.send(typed)
        assert (await chat.texts("user"))[-1] == typed
        log = chat.page.locator("#log")
        assert await log.locator("script, img, b").count() == 0
        await chat.page.reload()
        await chat.page.locator(BOT).first.wait_for()
        assert (await chat.texts("user"))[-1] == typed and await log.locator("script, img, b").count() == 0


async def test_an_overlong_message_is_refused_politely_and_kept(browser: Any, web: RunningWeb) -> None:
    long_text = "我在乌鲁木齐" * 400  # 2,400 characters
    async with opened(browser, web) as chat:
        textbox = chat.page.get_by_role("textbox", name="输入您的问题")
        await textbox.fill(long_text)
        await chat.page.keyboard.press("Enter")
        notice = chat.page.get_by_role("alert")
        await notice.wait_for()
        assert "最多 2000 字" in await notice.inner_text()
        assert await textbox.input_value() == long_text and await chat.texts("user") == []
        await no_horizontal_scroll(chat.page)


async def test_an_answer_view_is_drawn_as_card_table_timeline_and_sources(
    browser: Any, web: RunningWeb, runtime: Runtime
) -> None:
    """The drawing of a view, with hostile strings in every field (the view itself comes from flows)."""
    evil = '<img src=x onerror="alert(1)">'
    view = {"verdict": "conditional", "headline": "有条件补缴" + evil, "local_rule": True, "confidence": "中",
            "cost_rows": [["本金" + evil, "2,640.00元"], ["滞纳金", "约121.00元"], ["合计", "约2,761.00元"]],
            "timeline": {"gap_start": "2026-08-01", "paid_on": "2026-11-30", "waiting_ends": "2027-04-30",
                         "benefits_resume": "2027-05-01"},
            "sources": [["乌鲁木齐市医疗保障局" + evil, "官方"], ["网络文章", "网络资料，仅作线索"]], "changed": []}
    async with opened(browser, web) as chat:
        cookie = next(c["value"] for c in await chat.page.context.cookies() if c["name"] == COOKIE_NAME)
        session_id = SessionSigner(b"test-session-key").verify(cookie)
        assert session_id is not None
        transcript = Transcript(runtime.redis, runtime.store.keys, runtime.store.config.ttl)
        await transcript.append(Visitor(session_id, new=False).conversation_id,
                                [{"role": "bot", "text": "⚠️ 有条件补缴" + evil, "view": view}])
        await chat.page.reload()
        card = chat.page.locator(".card")
        await card.wait_for()
        assert await card.locator(".verdict").inner_text() == "⚠️ 有条件补缴"
        assert await card.locator(".strip").get_attribute("class") == "strip verdict-conditional"
        assert await card.locator(".tag.local").inner_text() == "本地规定"
        rows = await card.locator("table.cost tr").all_inner_texts()
        assert [r.split("\t") for r in rows] == [["本金" + evil, "2,640.00元"], ["滞纳金", "约121.00元"],
                                                ["合计", "约2,761.00元"]]
        timeline = card.locator("svg.timeline")
        assert await timeline.get_attribute("role") == "img"
        labels = await timeline.locator("text.label").all_text_contents()
        assert labels == ["断缴开始", "补缴/续缴", "恢复报销"]
        assert await timeline.locator("text.date").all_text_contents() == ["2026-08-01", "2026-11-30", "2027-05-01"]
        await card.locator(".sources summary").click()
        assert (await card.locator(".source-title").all_inner_texts())[0] == "乌鲁木齐市医疗保障局" + evil
        assert await chat.page.locator("#log img").count() == 0
        await no_horizontal_scroll(chat.page)


async def test_when_redis_stops_the_page_says_so_politely_and_keeps_the_text(
    browser: Any, dialog: GapDialog, tmp_path: Path
) -> None:
    handle = await open_redis(None, tmp_path)  # a server of this test's own, to stop
    try:
        async with open_runtime(handle.url, key_prefix="ybt-down", dialog=dialog) as rt, \
                running_web("127.0.0.1", 0, runtime=rt) as web, opened(browser, web) as chat:
            await handle.close()
            textbox = chat.page.get_by_role("textbox", name="输入您的问题")
            await textbox.fill("北京职工医保断了3个月")
            await chat.page.keyboard.press("Enter")
            notice = chat.page.get_by_role("alert")
            await notice.wait_for()
            assert await notice.inner_text() == BUSY
            assert await textbox.input_value() == "北京职工医保断了3个月"
            assert await chat.texts("user") == []
            chat.problems.clear()  # the browser logs the 503 itself as a console error
    finally:
        await handle.close()


async def test_a_lost_answer_then_send_again_is_answered_once(browser: Any, web: RunningWeb) -> None:
    """The server answered but the phone lost the response: sending again repeats nothing."""
    async with opened(browser, web) as chat:
        lost: list[str] = []

        async def lose_the_answer(route: Any) -> None:
            await route.fetch()  # the server gets it and answers...
            lost.append(route.request.post_data or "")
            await route.abort("connectionreset")  # ...and the answer never reaches the page

        await chat.page.route("**/api/message", lose_the_answer)
        await chat.send("北京职工医保断了3个月")
        notice = chat.page.get_by_role("alert")
        assert "网络不太稳定" in await notice.inner_text() and len(lost) == 1
        textbox = chat.page.get_by_role("textbox", name="输入您的问题")
        assert await textbox.input_value() == "北京职工医保断了3个月"  # kept for sending again
        await chat.page.unroute("**/api/message")
        await chat.page.get_by_role("button", name="发送").click()
        await chat.settled()
        assert await chat.texts("user") == ["北京职工医保断了3个月"]
        shown = await chat.texts("bot")
        await chat.page.reload()
        await chat.page.locator(BOT).first.wait_for()
        assert await chat.texts("user") == ["北京职工医保断了3个月"]
        assert await chat.texts("bot") == shown and len(shown) == len(set(shown)) == 2  # welcome, one reply
        chat.problems.clear()  # the browser logs the reset connection itself
