"""DEEPLINK_KEY: public processes refuse the public default; the terminal and local web chat need none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, deeplink_key_for
from flows.deeplink import DEFAULT_KEY

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize("process", ["telegram", "wechat", "webhook"])
@pytest.mark.parametrize("key", [None, DEFAULT_KEY, "short-key"])
def test_public_processes_refuse_the_default_or_a_short_key(process: str, key: str | None) -> None:
    with pytest.raises(SettingsError) as caught:
        deeplink_key_for(process, key)
    assert caught.value.lines[0].startswith("DEEPLINK_KEY")


def test_own_key_is_used_and_local_chats_need_none() -> None:
    own = "a-long-private-key-0123456789"
    assert deeplink_key_for("telegram", own) == own
    assert deeplink_key_for("chat", None) == DEFAULT_KEY
    web = deeplink_key_for("web", None)
    assert web != DEFAULT_KEY and len(web) >= 32 and web != deeplink_key_for("web", None)
    assert deeplink_key_for("web", own) == own


def test_python_m_bot_telegram_exits_2_with_the_default_key(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TELEGRAM_BOT_TOKEN": TOKEN}
    done = subprocess.run([sys.executable, "-m", "bot", "telegram"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("DEEPLINK_KEY 未设置（或仍是公开的默认值）")
