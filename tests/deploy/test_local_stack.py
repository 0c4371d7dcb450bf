"""deploy/local.py really starts the layout: Redis with AOF and two webhook workers that answer."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import aiohttp

from deploy.local import LocalStack
from tests.bot.fake_bot_api import Chat, FakeBotApi, User


def _free_ports(count: int) -> int:
    """A first port p such that p .. p+count-1 are free right now (ephemeral range)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count >= 65536:
            continue
        try:
            held = []
            for port in range(first, first + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()


async def test_local_stack_starts_answers_on_both_workers_and_stops(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        first = _free_ports(3)
        stack = LocalStack(dir=tmp_path, workers=2, redis_port=first, base_port=first + 1, web=False,
                           dispatcher=False, wechat=False, api_base=api.base, token=api.token)
        await asyncio.to_thread(stack.start)
        try:
            procs = list(stack.procs.values())
            headers = {"X-Telegram-Bot-Api-Secret-Token": stack.secret}
            async with aiohttp.ClientSession() as http:
                for number, url in enumerate(stack.webhook_urls):
                    user = User(3100 + number, "张三")
                    update = {"update_id": 70 + number, **api.message_update(user, Chat(user.id), "/start")}
                    async with http.post(url, json=update, headers=headers) as resp:
                        assert resp.status == 200
                    replies = await api.replies(user.id, 1)
                    assert replies[0]["text"]
                # PROMETHEUS_MULTIPROC_DIR: either worker's /metrics counts both workers' turns.
                for port in stack.worker_ports:
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                        assert resp.status == 200
                        assert 'yibao_turns_total{adapter="telegram-aiogram"} 2.0' in await resp.text()
        finally:
            await asyncio.to_thread(stack.stop)
    assert len(procs) == 3 and all(p.returncode is not None for p in procs)  # redis + 2 workers, reaped
    assert list((tmp_path / "redis").rglob("*.aof")), "redis ran with appendonly yes"
    assert not (tmp_path / "local.json").exists()
    lines = (tmp_path / "logs" / "webhook1.log").read_text().splitlines()
    docs = [json.loads(line) for line in lines]  # LOG_FORMAT=json: every line one object
    assert any("webhook on" in doc["msg"] for doc in docs)
