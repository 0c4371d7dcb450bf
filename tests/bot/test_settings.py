"""Settings: every problem reported on its own line, exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_polling_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = load_settings(_env_file=None, telegram_bot_token=TOKEN)
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert not settings.webhook_mode and settings.redis_url is None and settings.token == TOKEN


def test_webhook_mode_from_listen() -> None:
    settings = load_settings(_env_file=None, telegram_bot_token=TOKEN, webhook_listen="0.0.0.0:8443",
                             webhook_secret="s3cret", webhook_url="https://bot.example.cn/tg")
    assert settings.webhook_mode and settings.listen == ("0.0.0.0", 8443) and settings.secret == "s3cret"


def test_every_problem_gets_a_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, telegram_bot_token="12:short", telegram_api_base="ftp://x",
                      webhook_listen="0.0.0.0:8443", webhook_url="not a url")
    lines = caught.value.lines
    assert any(line.startswith("TELEGRAM_BOT_TOKEN 格式不对") for line in lines)
    assert any(line.startswith("TELEGRAM_API_BASE") for line in lines)
    assert any(line.startswith("WEBHOOK_SECRET 未设置") for line in lines)
    assert any(line.startswith("WEBHOOK_URL") for line in lines)
    assert len(lines) == 4


def test_missing_token_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    code = "from bot.settings import load_settings_or_exit; load_settings_or_exit()"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "TELEGRAM_BOT_TOKEN 未设置：请在环境变量或 .env 中提供 BotFather 给的令牌"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_API_BASE=http://127.0.0.1:8081\n")
    settings = load_settings(_env_file=tmp_path / ".env")
    assert settings.token == TOKEN and settings.telegram_api_base == "http://127.0.0.1:8081"
