"""`python -m bot wechat` as a process: serves pushes, reloads the rule files on SIGHUP, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from signal import SIGHUP, SIGTERM

import aiohttp

from policies import RULES_DIR
from tests.bot.conftest import PROCESS_START_S
from tests.bot.wechat.conftest import LINK_KEY
from tests.bot.wechat.fake_wechat import APP_ID, APP_SECRET, TOKEN, FakeWeChat

ROOT = Path(__file__).resolve().parents[3]
URUMQI = Path("65-xinjiang/650100-urumqi.yaml")
ALICE = "oia2TjjewbmiOUlr6X-1crbLOvLw"


async def _logged(stream: asyncio.StreamReader, words: bytes) -> None:
    """Read the worker's log until a line holds `words`."""
    async with asyncio.timeout(60):
        while words not in (line := await stream.readline()):
            assert line, "the worker exited"


async def test_sighup_reloads_the_rules_of_a_running_wechat_worker(
        wechat: FakeWeChat, redis_url: str, key_prefix: str, redis: object, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "PROMETHEUS_"))}
    env.update(WECHAT_TOKEN=TOKEN, WECHAT_APPID=APP_ID, WECHAT_APPSECRET=APP_SECRET, WECHAT_API_BASE=wechat.base,
               DEEPLINK_KEY=LINK_KEY, REDIS_URL=redis_url, REDIS_KEY_PREFIX=key_prefix, RULES_DIR=str(rules),
               REMINDERS="off", PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "wechat", "--listen", "127.0.0.1:0", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), PROCESS_START_S)).decode()
        assert first, (await proc.stderr.read()).decode()
        assert "微信公众号消息接口已启动（明文模式）：http://127.0.0.1:" in first
        url = first.rsplit("：", 1)[1].strip()
        asked = await wechat.push(url, wechat.text(ALICE, "乌鲁木齐"))
        assert asked.status == 200 and "乌鲁木齐" in (asked.content or "")

        proc.send_signal(SIGHUP)  # the same rules again: reloaded, the conversation goes on
        await _logged(proc.stderr, b"rules reloaded")
        answered = await wechat.push(url, wechat.text(ALICE, "灵活就业，断了4个月"))
        assert "结论" in (answered.content or "")

        (rules / URUMQI).write_text((rules / URUMQI).read_text() + "broken: [unclosed\n")
        proc.send_signal(SIGHUP)  # a broken file: the last good rules stay in use
        await _logged(proc.stderr, b"rule reload failed")
        again = await wechat.push(url, wechat.text(ALICE, "灵活就业，断了4个月"))
        assert "结论" in (again.content or "")
        async with aiohttp.ClientSession() as http, http.get(url.replace("/wechat", "/metrics")) as resp:
            metrics = await resp.text()
        assert 'yibao_rule_reloads_total{result="ok"} 1.0' in metrics
        assert 'yibao_rule_reloads_total{result="failed"} 1.0' in metrics
        proc.send_signal(SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
