"""Rule files reload without a restart (admin command, SIGHUP); a failed reload keeps the last good rules."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.metrics import RULE_RELOADS
from bot.reload import RuleReloader
from bot.runtime import Runtime, open_runtime
from bot.telegram.runner import _load_dialog
from flows.advisor import query_from_slots
from flows.dialog import GapDialog
from policies import RULES_DIR
from tests.bot.conftest import SECRET, WEBHOOK_PATH, free_port, start_bot
from tests.bot.fake_bot_api import Chat, FakeBotApi, User

pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
ROOT = Path(__file__).resolve().parents[2]
URUMQI = Path("65-xinjiang/650100-urumqi.yaml")
OLD, NEW = "原则上不得补缴；", "原则上不得补缴（已更新）；"
ADMIN, STRANGER = User(5001, "管理员"), User(5002, "路人")
SLOTS = {"region": "650100", "insurance_type": "flexible", "cause": "personal", "gap_months": 2}


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(RULES_DIR, folder)
    return folder


@pytest.fixture(scope="module")
def dialog(rules: Path) -> GapDialog:
    return _load_dialog(rules)


@pytest.fixture
async def runtime(redis_url: str, key_prefix: str, dialog: GapDialog, redis: Redis) -> AsyncIterator[Runtime]:
    async with open_runtime(redis_url, key_prefix=key_prefix, dialog=dialog) as rt:
        yield rt


def _condition(dialog: GapDialog) -> str:
    query = query_from_slots(SLOTS, date(2026, 11, 30))
    assert query is not None
    return str(dialog.advisor.rulebook.answer(query))


def _edit(rules: Path, old: str, new: str) -> None:
    path = rules / URUMQI
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


async def test_reload_swaps_rules_and_a_broken_file_keeps_the_last_good(rules: Path, dialog: GapDialog) -> None:
    class Holder:  # a service's rules live in its `dialog`
        def __init__(self) -> None:
            self.dialog = dialog

    service = Holder()
    reloader = RuleReloader(rules)
    reloader.add(service)
    assert OLD in _condition(service.dialog)  # type: ignore[arg-type]
    _edit(rules, OLD, NEW)
    try:
        result = await reloader.reload()
        assert result.ok and "规则已重新加载" in result.message
        assert NEW in _condition(service.dialog)  # type: ignore[arg-type]
        good = service.dialog
        (rules / URUMQI).write_text((rules / URUMQI).read_text().replace("level: city", "level: [city"))
        failed = await reloader.reload()
        assert not failed.ok and "650100-urumqi.yaml:" in failed.message and "上一版规则" in failed.message
        assert service.dialog is good  # the last good rules stay
    finally:
        (rules / URUMQI).write_text((RULES_DIR / URUMQI).read_text())


async def test_admin_command_reloads_and_others_cannot(bot_api: FakeBotApi, runtime: Runtime, rules: Path) -> None:
    ok_before = RULE_RELOADS.labels("ok")._value.get()
    async with start_bot(bot_api, "aiogram", "webhook", runtime.redis, runtime.make_service,
                         key_prefix=runtime.store.keys.prefix, admin_ids=str(ADMIN.id), rules_dir=rules) as bot:
        await bot_api.say(STRANGER, Chat(STRANGER.id), "/reload_rules")
        [answer] = await bot_api.replies(STRANGER.id, 1)
        assert "规则已重新加载" not in answer["text"]  # an ordinary user's command goes to the dialog
        assert RULE_RELOADS.labels("ok")._value.get() == ok_before
        await bot_api.say(ADMIN, Chat(ADMIN.id), "/reload_rules")
        [reply] = await bot_api.replies(ADMIN.id, 1)
        assert reply["text"].startswith("规则已重新加载")
        assert RULE_RELOADS.labels("ok")._value.get() == ok_before + 1
        assert bot.reloader is not None


async def test_sighup_reloads_a_running_worker(bot_api: FakeBotApi, redis_url: str, key_prefix: str, rules: Path,
                                               redis: Redis) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(TELEGRAM_BOT_TOKEN=bot_api.token, TELEGRAM_API_BASE=bot_api.base, REDIS_URL=redis_url,
               REDIS_KEY_PREFIX=key_prefix, PYTHONPATH=str(ROOT), DEEPLINK_KEY="sighup-test-key-0123456789",
               WEBHOOK_LISTEN=f"127.0.0.1:{port}", WEBHOOK_PATH=WEBHOOK_PATH, WEBHOOK_SECRET=SECRET,
               RULES_DIR=str(rules), LOG_FORMAT="json")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "telegram", env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await bot_api.wait_for(lambda: bot_api.calls_of("setMyCommands"), within=30)
        proc.send_signal(signal.SIGHUP)
        assert proc.stderr is not None
        async with asyncio.timeout(30):
            while b"rules reloaded" not in (line := await proc.stderr.readline()):
                assert line, "the worker exited"
    finally:
        proc.terminate()
        await proc.wait()
    assert proc.returncode == 0
