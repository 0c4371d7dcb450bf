"""`python -m bot web` as a process: prints the URL, serves, reloads rules on SIGHUP, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from aiohttp import ClientSession, CookieJar

from tests.bot.conftest import PROCESS_START_S

ROOT = Path(__file__).resolve().parents[3]


async def test_the_web_command_serves_reloads_and_stops(redis_url: str, key_prefix: str, redis: object) -> None:
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": key_prefix}
    env.pop("DEEPLINK_KEY", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", "--listen", "127.0.0.1:0", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), PROCESS_START_S)).decode()
        assert "请在浏览器打开：http://127.0.0.1:" in first
        url = first.rsplit("：", 1)[1].strip()
        link = (await proc.stdout.readline()).decode()
        assert f"{url}?region=650100&src=jiedao12" in link
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:
            async with http.get(url + "readyz") as resp:
                assert resp.status == 200
            headers = {"Content-Type": "application/json"}
            async with http.post(url + "api/start", data=json.dumps({"region": "650100"}), headers=headers) as resp:
                assert "乌鲁木齐" in (await resp.json())["entries"][0]["text"]
            proc.send_signal(signal.SIGHUP)  # reload the rule files; the conversation goes on
            await asyncio.sleep(0.5)
            async with http.post(url + "api/message", data=json.dumps({"text": "灵活就业，断了4个月"}),
                                 headers=headers) as resp:
                assert resp.status == 200 and "结论" in json.dumps(await resp.json(), ensure_ascii=False)
            async with http.get(url + "metrics") as resp:
                assert 'yibao_rule_reloads_total{result="ok"} 1.0' in await resp.text()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_bad_listen_address_stops_with_one_line() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", "--listen", "8080", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), PROCESS_START_S)
    assert proc.returncode == 2 and out == b""
    assert err.decode().strip().splitlines() == ["--listen 应为 HOST:PORT，例如 127.0.0.1:8080，收到：'8080'"]
