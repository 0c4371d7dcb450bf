"""Six answers as a person sees them on a phone (360×740) and in a WeChat-like 320 px view.

The real `python -m bot web --today 2025-06-10` (a process, as users start it) and Debian's
headless Chromium. For every answer: nothing sticks out sideways, no button or header phrase
breaks inside its words, the timeline's words are readable and do not overlap, and the drawing
agrees with the card's text (the verdict strip says what 结论 says, a "no" is never drawn as
payable, an employer-caused cost is never drawn as the person's, no wait is drawn where the card
says 不设等待期). Screenshots go to .data/screenshots/web-<case>.png (the 360×740 phone as it
shows the answer) and web-<case>-320.png (the whole answer, 320 wide).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from flows.redis_embed import connect
from tests.bot.conftest import PROCESS_START_S
from tests.bot.web.conftest import SCREENSHOTS
from tests.bot.web.test_browser import MOBILE, Watched, no_horizontal_scroll, opened
from tests.conftest import delete_prefixed

ROOT = Path(__file__).resolve().parents[3]
TODAY = "2025-06-10"  # the residents' enrolment period of 2025 (ended 2025-02-28) is over
WECHAT = {"width": 320, "height": 740}


@dataclass(frozen=True)
class Served:
    """The web command's process, as far as the page helpers need it."""

    url: str


@dataclass(frozen=True)
class Case:
    name: str  # the screenshot's name: web-<name>.png
    said: str


CASES = [
    Case("employer-caused", "东莞 公司没给交 3个月"),
    Case("employer-caused-cost", "东莞 公司没给交 3个月 基数5000"),
    Case("cannot-backpay", "北京 灵活就业 断了5个月"),
    Case("enrolment-ended", "聊城 居民医保 断了一年"),
    Case("hedged-years", "珠海 快退休了 交了快20年"),
    Case("cost-timeline", "乌鲁木齐 灵活就业 断了4个月 基数4000"),
    Case("outside-mainland", "台北"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def served(single_redis_url: str) -> AsyncIterator[Served]:
    """`python -m bot web --today 2025-06-10` on a free port, with keys of its own (deleted after)."""
    prefix = f"ybt:{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "REDIS_URL": single_redis_url, "REDIS_KEY_PREFIX": prefix}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", "--listen", "127.0.0.1:0", "--today", TODAY, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), PROCESS_START_S)).decode()
        assert "请在浏览器打开：http://127.0.0.1:" in first, first
        yield Served(first.rsplit("：", 1)[1].strip())
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        client = await connect(single_redis_url)
        try:
            await delete_prefixed(client, prefix)
        finally:
            await client.aclose()


# Everything in the answer that reads badly, as sentences (empty: nothing). Lines are counted by the
# distinct tops of a text's line boxes, so a label broken inside its words shows as two lines.
LAYOUT_PROBLEMS = r"""answer => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  const lines = node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top))).size;
  };
  answer.querySelectorAll('*').forEach(node => {
    const box = node.getBoundingClientRect();
    if (box.width && (box.left < -0.5 || box.right > width + 0.5))
      problems.push(`${node.tagName} ${node.className.baseVal ?? node.className} sticks out: ${box.left}..${box.right}`);
  });
  answer.querySelectorAll('.table-wrap').forEach(wrap => {
    if (wrap.scrollWidth > wrap.clientWidth) problems.push('the cost table needs sideways scrolling');
  });
  answer.querySelectorAll('.choice, .chip').forEach(button => {
    if (lines(button) > 1) problems.push(`button broken over lines: ${button.textContent}`);
  });
  const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const date of node.data.matchAll(/\d{4}-\d{2}-\d{2}/g)) {
      const range = document.createRange();
      range.setStart(node, date.index);
      range.setEnd(node, date.index + date[0].length);
      const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) problems.push(`date broken over lines: ${date[0]}`);
    }
  }
  document.querySelectorAll('.tagline span').forEach(phrase => {
    if (lines(phrase) > 1) problems.push(`header phrase broken: ${phrase.textContent}`);
  });
  answer.querySelectorAll('svg.timeline').forEach(svg => {
    const outer = svg.getBoundingClientRect();
    const scale = outer.width / svg.viewBox.baseVal.width;
    const texts = Array.from(svg.querySelectorAll('text'));
    texts.forEach(text => {
      const size = parseFloat(getComputedStyle(text).fontSize) * scale;
      if (size < 10.5) problems.push(`timeline text too small (${size.toFixed(1)} px): ${text.textContent}`);
      const box = text.getBoundingClientRect();
      if (box.left < outer.left - 0.5 || box.right > outer.right + 0.5)
        problems.push(`timeline text cut off: ${text.textContent}`);
    });
    texts.forEach((a, i) => texts.slice(i + 1).forEach(b => {
      const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
      if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1)
        problems.push(`timeline words overlap: ${a.textContent} / ${b.textContent}`);
    }));
  });
  return problems;
}"""


def latest_answer(chat: Watched) -> Any:
    return chat.page.locator(".msg.bot:not(.pending)").last


async def reads_well(chat: Watched) -> None:
    """Nothing sideways, nothing broken or cut off, at the page's current width."""
    await no_horizontal_scroll(chat.page)
    answer = latest_answer(chat)
    assert await answer.evaluate(LAYOUT_PROBLEMS) == []


async def drawing_agrees_with_text(chat: Watched) -> None:
    """The card's drawn parts say what its text says (checked on whatever the answer contains)."""
    answer = latest_answer(chat)
    card = answer.locator(".card")
    if await card.count() == 0:
        return
    text = await card.locator(".text").inner_text()
    verdict = re.search(r"结论：(.+?)(?:——|\n|$)", text)
    assert verdict is not None, text
    assert await card.locator(".verdict").inner_text() == verdict.group(1).strip()
    timeline = card.locator("svg.timeline")
    labels = await timeline.locator("text.label").all_text_contents() if await timeline.count() else []
    phases = await timeline.locator("text.phase").all_text_contents() if await timeline.count() else []
    dates = await timeline.locator("text.date").all_text_contents() if await timeline.count() else []
    table = card.locator("table.cost")
    if "不能补缴" in verdict.group(1):  # a "no" carries no cost and no day of paying
        assert await table.count() == 0 and "补缴/续缴" not in labels
    if "集中参保缴费期已于" in text:  # joining now is up to the local office: no paying day drawn
        assert "补缴/续缴" not in labels
    if "不设等待期" in text and labels:
        assert "等待期" not in phases and "不设等待期" in phases
    waiting = re.search(r"等待期\d+个月", text)
    if waiting and labels:
        assert "等待期" in phases
    resume = re.search(r"约(\d{4}-\d{2}-\d{2})起可报销", text)
    if resume and dates:
        assert dates[-1] == resume.group(1) and labels[-1] == "恢复报销"
    if await table.count():
        rows = [r.split("\t")[0] for r in await table.locator("tr").all_inner_texts()]
        owed = await table.locator("tr.total th").all_inner_texts()
        if "由单位补缴" in text:  # the person's share is what is drawn as owed, never the employer's total
            assert owed == ["个人需交"], rows
        else:
            assert owed == ["合计"], rows
        if "有条件补缴" in verdict.group(1):
            assert "如可补缴" in await table.locator("caption").inner_text()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_an_answer_reads_well_on_a_phone_and_in_a_narrow_view(browser: Any, served: Served,
                                                                    case: Case) -> None:
    async with opened(browser, served, viewport=MOBILE) as chat:
        await chat.send(case.said)
        answer = latest_answer(chat)
        assert (await answer.locator(".bubble").inner_text()).strip()
        await reads_well(chat)
        await drawing_agrees_with_text(chat)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await answer.evaluate("node => node.scrollIntoView({block: 'start'})")
        await chat.page.screenshot(path=str(SCREENSHOTS / f"web-{case.name}.png"))
        await chat.page.set_viewport_size(WECHAT)
        await reads_well(chat)
        await chat.page.set_viewport_size({"width": WECHAT["width"], "height": 2400})
        await answer.screenshot(path=str(SCREENSHOTS / f"web-{case.name}-320.png"))
        await chat.page.set_viewport_size(WECHAT)
        if case.name == "hedged-years":  # asked again, with a way out for someone who cannot say
            await chat.tap("记不清准确年数")
            assert await latest_answer(chat).locator(".card").count() == 1
            await reads_well(chat)
            await drawing_agrees_with_text(chat)
        if case.name == "outside-mainland":
            assert "台湾" in await answer.inner_text()
    assert (SCREENSHOTS / f"web-{case.name}.png").stat().st_size > 10_000
