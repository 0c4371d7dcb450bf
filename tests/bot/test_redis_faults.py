"""Redis stopped (SIGKILL) and started again under a live webhook worker on the real core.

A Telegram-like client POSTs each update to the webhook and delivers it again after
any non-200 answer, as Telegram does. The Redis server is the test's own (ephemeral
port, AOF with fsync always, in a temporary folder), never the shared one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.runtime import Runtime, open_runtime
from bot.telegram.processor import BUSY_NOTICE
from bot.telegram.runner import RunningBot
from flows.dialog import GapDialog
from flows.state import ConversationState
from tests.bot.conftest import PROCESS_START_S, SECRET, WEBHOOK_PATH, free_port, start_bot
from tests.bot.fake_bot_api import Chat, FakeBotApi, User
from tests.redis_servers import RedisServer

pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
ROOT = Path(__file__).resolve().parents[2]
ALICE = User(3001, "王芳")
BOB = User(3002, "李强")


async def _deliver(url: str, update: dict[str, Any], statuses: list[int]) -> None:
    """POST until 200, pausing 0.2 s after a failure (Telegram's redelivery, compressed)."""
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
                statuses.append(resp.status)
                if resp.status == 200:
                    return
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _bot_on_own_redis(api: FakeBotApi, folder: Path, key_prefix: str, framework: str = "aiogram",
                            mode: str = "webhook") -> AsyncIterator[tuple[RedisServer, Runtime, RunningBot]]:
    """A Redis server of the test's own, the real runtime on it, and one bot worker."""
    server = RedisServer(folder).start()
    try:
        async with open_runtime(server.url, key_prefix=key_prefix, dialog=GapDialog.create()) as rt, \
                start_bot(api, framework, mode, rt.redis, rt.make_service, key_prefix=key_prefix,
                          register_webhook=False) as bot:
            yield server, rt, bot
    finally:
        server.stop()


def _busy(api: FakeBotApi, chat_id: int) -> int:
    return sum(1 for m in api.sent(chat_id) if m["text"] == BUSY_NOTICE)


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_redis_killed_users_told_once_nothing_lost_service_back_at_once(
    framework: str, bot_api: FakeBotApi, tmp_path: Path, key_prefix: str
) -> None:
    async with _bot_on_own_redis(bot_api, tmp_path / "redis", key_prefix, framework, "webhook") as (server, rt, bot):
        url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
        alice, bob = Chat(ALICE.id), Chat(BOB.id)
        statuses: list[int] = []
        await _deliver(url, {"update_id": 100, **bot_api.message_update(ALICE, alice, "/start")}, statuses)
        assert statuses == [200]  # warm: the pool holds live connections

        server.stop(signal.SIGKILL)
        died = time.monotonic()
        updates = [{"update_id": 101, **bot_api.message_update(ALICE, alice, "乌鲁木齐")},
                   {"update_id": 102, **bot_api.message_update(ALICE, alice, "灵活就业，断了4个月")},
                   {"update_id": 103, **bot_api.message_update(BOB, bob, "宁波")}]
        telegram = [asyncio.create_task(_deliver(url, u, statuses)) for u in updates]
        await bot_api.wait_for(lambda: _busy(bot_api, alice.id) and _busy(bot_api, bob.id), within=10)
        told = time.monotonic() - died
        await asyncio.sleep(1.0)  # redeliveries keep failing meanwhile
        assert 500 in statuses and all(not task.done() for task in telegram)
        assert (_busy(bot_api, alice.id), _busy(bot_api, bob.id)) == (1, 1)  # once per conversation

        server.start()  # same port and folder: the AOF brings everything back
        back = time.monotonic()
        async with asyncio.timeout(10):
            await asyncio.gather(*telegram)
        await bot_api.wait_for(lambda: len(bot_api.sent(bob.id)) >= 2, within=10)
        served = time.monotonic() - back
        print(f"{framework}: busy notice {told:.2f}s after Redis died; served {served:.2f}s after it returned")
        assert told < 5
        for chat, slots in ((alice, {"region": "650100", "insurance_type": "flexible", "gap_months": 4}),
                            (bob, {"region": "330200"})):
            cid = f"telegram:{bot.me.id}:{chat.id}:-:{chat.id}"
            record = await rt.store.read(cid)
            stored = ConversationState.loads(record.state).slots
            assert {k: stored.get(k) for k in slots} == slots, chat


async def test_redis_lost_mid_turn_the_update_is_applied_once_after_it_returns(
    bot_api: FakeBotApi, tmp_path: Path, key_prefix: str
) -> None:
    async with _bot_on_own_redis(bot_api, tmp_path / "redis", key_prefix) as (server, rt, bot):
        url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
        alice = Chat(ALICE.id)
        cid = f"telegram:{bot.me.id}:{alice.id}:-:{alice.id}"
        statuses: list[int] = []
        await _deliver(url, {"update_id": 400, **bot_api.message_update(ALICE, alice, "/start")}, statuses)
        bot_api.hold_next("sendMessage", 1.0)  # the next reply is on its way when Redis dies
        telegram = asyncio.create_task(
            _deliver(url, {"update_id": 401, **bot_api.message_update(ALICE, alice, "乌鲁木齐")}, statuses))
        await bot_api.wait_for(lambda: len(bot_api.calls_of("sendMessage")) >= 2, within=10)
        server.stop(signal.SIGKILL)  # mid-turn: queued and leased, reply in flight, not committed
        await asyncio.sleep(1.5)  # longer than the lease
        server.start()
        back = time.monotonic()
        async with asyncio.timeout(10):
            await telegram
            while (record := await rt.store.read(cid)).version < 2:  # noqa: ASYNC110 - polling Redis
                await asyncio.sleep(0.02)
        print(f"mid-turn loss: update applied {time.monotonic() - back:.2f}s after Redis returned")
        assert record.version == 2 and 500 in statuses
        assert ConversationState.loads(record.state).slots.get("region") == "650100"
        assert await rt.redis.exists(rt.store.keys.inbox(cid), rt.store.keys.lease(cid)) == 0


async def test_sigterm_during_a_long_turn_gives_the_turn_back_within_the_grace(
    bot_api: FakeBotApi, single_redis_url: str, key_prefix: str, redis: Any
) -> None:
    """`python -m bot telegram` (webhook) gets SIGTERM while its reply hangs at the Bot API:
    it stops, gives the lease back within its grace, and another worker answers at once."""
    root = ROOT
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(TELEGRAM_BOT_TOKEN=bot_api.token, TELEGRAM_API_BASE=bot_api.base, REDIS_URL=single_redis_url,
               REDIS_KEY_PREFIX=key_prefix, PYTHONPATH=str(root), WEBHOOK_LISTEN=f"127.0.0.1:{port}",
               WEBHOOK_PATH=WEBHOOK_PATH, WEBHOOK_SECRET=SECRET, WEBHOOK_URL=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
               DEEPLINK_KEY="faults-test-deeplink-key-0123")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "--framework", "aiogram", env=env, cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    alice = Chat(ALICE.id)
    try:
        await bot_api.wait_for(lambda: bot_api.calls_of("setWebhook"), within=PROCESS_START_S)
        bot_api.hold_next("sendMessage", 6)  # the reply hangs past the 3 s grace
        await bot_api.say(ALICE, alice, "/start")
        await bot_api.wait_for(lambda: bot_api.calls_of("sendMessage"), within=15)
        proc.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        _, err = await asyncio.wait_for(proc.communicate(), 15)
        stopped = time.monotonic() - asked
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    print(f"exited {stopped:.2f}s after SIGTERM; its log:\n" + err.decode()[-600:])
    assert stopped < 10  # grace 3 s, then cancelled; the process then closes its sessions
    cid = f"telegram:{bot_api.bot_user['id']}:{alice.id}:-:{alice.id}"
    async with open_runtime(single_redis_url, key_prefix=key_prefix, dialog=GapDialog.create()) as rt:
        assert not await rt.redis.exists(rt.store.keys.lease(cid))  # given back, not left to expire
        assert await rt.redis.zcard(rt.store.keys.inbox(cid)) == 1  # the turn is still to do
        async with start_bot(bot_api, "aiogram", "webhook", rt.redis, rt.make_service, key_prefix=key_prefix,
                             register_webhook=False):
            [welcome] = await bot_api.replies(alice.id, 1, within=10)
    assert "r:650100" in str(welcome.get("reply_markup"))


async def test_first_requests_after_a_quick_restart_do_not_fail_on_stale_connections(
    bot_api: FakeBotApi, tmp_path: Path, key_prefix: str
) -> None:
    async with _bot_on_own_redis(bot_api, tmp_path / "redis", key_prefix, "aiogram", "webhook") as (server, _rt, bot):
        url = f"http://127.0.0.1:{bot.webhook_port}{WEBHOOK_PATH}"
        users = [User(3100 + n, f"用户{n}") for n in range(4)]
        statuses: list[int] = []
        warm = [{"update_id": 200 + n, **bot_api.message_update(u, Chat(u.id), "/start")}
                for n, u in enumerate(users)]
        await asyncio.gather(*(_deliver(url, u, statuses) for u in warm))  # several pooled connections
        assert statuses == [200] * 4
        server.stop(signal.SIGKILL)
        server.start()  # nothing was sent meanwhile: every pooled connection is now stale
        statuses.clear()
        after = [{"update_id": 300 + n, **bot_api.message_update(u, Chat(u.id), "宁波")}
                 for n, u in enumerate(users)]
        await asyncio.gather(*(_deliver(url, u, statuses) for u in after))
        assert statuses == [200] * 4  # each at its first attempt
        for u in users:
            await bot_api.wait_for(lambda u=u: len(bot_api.sent(u.id)) >= 2, within=10)
        assert not any(m["text"] == BUSY_NOTICE for m in bot_api.sent())


async def test_polling_keeps_the_update_while_redis_is_away(
    bot_api: FakeBotApi, tmp_path: Path, key_prefix: str
) -> None:
    """Polling: Telegram will not deliver a confirmed update again, so the worker keeps it."""
    async with _bot_on_own_redis(bot_api, tmp_path / "redis", key_prefix, "aiogram", "polling") as (server, rt, _):
        alice = Chat(ALICE.id)
        cid = f"telegram:{bot_api.bot_user['id']}:{alice.id}:-:{alice.id}"

        async def committed(version: int) -> ConversationState:
            async with asyncio.timeout(15):
                while (record := await rt.store.read(cid)).version < version:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            return ConversationState.loads(record.state)

        await bot_api.say(ALICE, alice, "/start")
        await committed(1)  # replies go out before the commit: wait for the commit itself
        server.stop(signal.SIGKILL)
        await bot_api.say(ALICE, alice, "乌鲁木齐")
        await bot_api.say(ALICE, alice, "灵活就业，断了4个月")
        await bot_api.wait_for(lambda: _busy(bot_api, alice.id), within=10)
        await bot_api.wait_for(lambda: bot_api.pending == 0, within=10)  # confirmed to Telegram
        await asyncio.sleep(1.0)
        assert _busy(bot_api, alice.id) == 1
        server.start()
        stored = (await committed(3)).slots
        assert (stored.get("region"), stored.get("insurance_type"), stored.get("gap_months")) == \
            ("650100", "flexible", 4)
        texts = [m["text"] for m in bot_api.sent(alice.id)]
        assert len(texts) == len(set(texts)), texts  # nothing answered twice
