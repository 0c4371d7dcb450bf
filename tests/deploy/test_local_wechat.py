"""deploy/local.py and the WeChat worker: started when WECHAT_* are given (real processes, the fake
WeChat side pushing to it), stopped by `down`; skipped with the reason otherwise; refused when malformed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from deploy.local import ROOT, LocalStack
from tests.bot.fake_bot_api import FakeBotApi
from tests.bot.wechat.fake_wechat import APP_ID, APP_SECRET, TOKEN, FakeWeChat
from tests.redis_servers import free_port

OPENID = "oia2TjjewbmiOUlr6X-deploy00000"
UNSET = {"WECHAT_TOKEN": "", "WECHAT_APPID": "", "WECHAT_APPSECRET": ""}  # whatever the machine's env or .env say


def local(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m deploy.local ARGS` as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "deploy.local", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def ports(stack_dir: Path) -> list[str]:
    return ["--dir", str(stack_dir), "--workers", "1", "--redis-port", str(free_port()),
            "--base-port", str(free_port()), "--web-port", str(free_port()), "--wechat-port", str(free_port())]


async def test_wechat_worker_starts_with_its_settings_answers_and_stops_on_down(tmp_path: Path) -> None:
    async with FakeBotApi() as api, FakeWeChat() as wechat:
        stack = LocalStack(dir=tmp_path, workers=1, redis_port=free_port(), base_port=free_port(),
                           wechat_port=free_port(), web=False, dispatcher=False, wechat=True,
                           api_base=api.base, token=api.token,
                           env={"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APP_ID, "WECHAT_APPSECRET": APP_SECRET,
                                "WECHAT_API_BASE": wechat.base})
        await asyncio.to_thread(stack.start)
        procs = dict(stack.procs)
        try:
            assert set(procs) == {"redis", "webhook1", "wechat"} and stack.skipped == {}
            url = stack.wechat_url
            assert url == f"http://127.0.0.1:{stack.wechat_port}/wechat"
            assert json.loads((tmp_path / "local.json").read_text())["wechat"] == url
            assert b"REMINDERS=on" in _environ(procs["wechat"].pid)  # it sends its followers' reminders itself
            async with aiohttp.ClientSession() as http:
                query = {**wechat.signed_query(), "echostr": "20261130"}
                async with http.get(url, params=query) as resp:
                    assert (resp.status, await resp.text()) == (200, "20261130")
            reply = await wechat.push(url, wechat.text(OPENID, "北京灵活就业断缴3个月"))
            assert reply.status == 200 and "北京" in (reply.content or "")
            done = await asyncio.to_thread(local, "down", "--dir", str(tmp_path))
            assert done.returncode == 0, done.stderr
            codes = {name: await asyncio.to_thread(p.wait, 15) for name, p in procs.items()}
            stack.procs.clear()  # `down` stopped them all: nothing left for stop() to signal
        finally:
            await asyncio.to_thread(stack.stop)
    assert set(codes) == {"redis", "webhook1", "wechat"}
    assert not (tmp_path / "local.json").exists()
    assert "微信公众号消息接口已启动" in (tmp_path / "logs" / "wechat.log").read_text()


async def test_without_wechat_settings_up_says_it_skipped_wechat_and_why(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        started = await asyncio.to_thread(local, "up", *ports(tmp_path), "--api-base", api.base,
                                          "--token", api.token, env=UNSET)
        try:
            assert started.returncode == 0, started.stderr
            shown = json.loads(started.stdout)
            assert "wechat" not in shown["processes"] and shown["wechat"] is None
            assert "WECHAT_TOKEN" in shown["skipped"]["wechat"]
            assert "wechat skipped: WECHAT_TOKEN, WECHAT_APPID, WECHAT_APPSECRET not set" in started.stderr
        finally:
            stopped = await asyncio.to_thread(local, "down", "--dir", str(tmp_path))
    assert stopped.returncode == 0 and not (tmp_path / "local.json").exists()
    for pid in shown["processes"].values():
        assert _gone(pid)


def test_malformed_wechat_settings_stop_up_before_anything_starts(tmp_path: Path) -> None:
    settings = {**UNSET, "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": "wx-not-an-appid"}  # AppSecret empty
    refused = local("up", *ports(tmp_path), "--api-base", "http://127.0.0.1:9", "--token", "1:x", env=settings)
    assert refused.returncode == 2
    lines = refused.stderr.splitlines()
    assert any(line.startswith("WECHAT_APPID 格式不对") for line in lines)
    assert any(line.startswith("WECHAT_APPSECRET") for line in lines)  # empty: one line too
    assert "Traceback" not in refused.stderr and not (tmp_path / "logs").exists()


def _environ(pid: int) -> list[bytes]:
    """The environment a running process was started with."""
    return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")


def _gone(pid: int) -> bool:
    """The process has exited (a zombie awaiting its reaper counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status
