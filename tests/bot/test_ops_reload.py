"""Rule files reload without a restart (admin command, SIGHUP); a failed reload keeps the last good rules."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.metrics import RULE_RELOADS
from bot.reload import RuleReloader
from bot.runtime import Runtime, open_runtime
from bot.telegram.runner import _load_dialog
from flows.dialog import GapDialog
from policies import RULES_DIR
from tests.bot.conftest import PROCESS_START_S, SECRET, WEBHOOK_PATH, free_port, start_bot
from tests.bot.fake_bot_api import Chat, FakeBotApi, User

pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
ROOT = Path(__file__).resolve().parents[2]
URUMQI = Path("65-xinjiang/650100-urumqi.yaml")
MARK = "（规则已更新）"
ADMIN, STRANGER = User(5001, "管理员"), User(5002, "路人")


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


def _urumqi(dialog: GapDialog) -> str:
    """What the loaded rules hold for 乌鲁木齐 (every value of its rule file)."""
    return repr(dialog.advisor.rulebook.files["650100"])


def _mark_first_note(rules: Path) -> None:
    """Append MARK to the first note or condition of the 乌鲁木齐 file (whatever its wording)."""
    path = rules / URUMQI
    text, count = re.subn(r"^(\s+(?:note|condition): .+)$", rf"\g<1>{MARK}", path.read_text(), count=1, flags=re.M)
    assert count == 1
    path.write_text(text)


async def test_reload_swaps_rules_and_a_broken_file_keeps_the_last_good(rules: Path, dialog: GapDialog) -> None:
    class Holder:  # a service's rules live in its `dialog`
        def __init__(self) -> None:
            self.dialog = dialog

    service = Holder()
    reloader = RuleReloader(rules)
    reloader.add(service)
    assert MARK not in _urumqi(service.dialog)  # type: ignore[arg-type]
    _mark_first_note(rules)
    try:
        result = await reloader.reload()
        assert result.ok and "规则已重新加载" in result.message
        assert MARK in _urumqi(service.dialog)  # type: ignore[arg-type]
        good = service.dialog
        (rules / URUMQI).write_text((rules / URUMQI).read_text() + "broken: [unclosed\n")
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
        await bot_api.wait_for(lambda: bot_api.calls_of("setMyCommands"), within=PROCESS_START_S)
        proc.send_signal(signal.SIGHUP)
        assert proc.stderr is not None
        async with asyncio.timeout(30):
            while b"rules reloaded" not in (line := await proc.stderr.readline()):
                assert line, "the worker exited"
    finally:
        proc.terminate()
        await proc.wait()
    assert proc.returncode == 0
