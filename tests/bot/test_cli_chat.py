"""The terminal chat, run as a real process: piped input, replies on stdout, exit 0 at EOF."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from tests.conftest import dump_prefixed

ROOT = Path(__file__).resolve().parents[2]


def run_chat(lines: list[str], redis_url: str, prefix: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix}
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--today", "2026-11-22", *extra],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


async def test_piped_conversation_with_numbered_buttons(redis: Redis, redis_url: str, key_prefix: str) -> None:
    result = run_chat(["/start", "宁波", "1", "4个月", "2"], redis_url, key_prefix, "--user", "alice")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "请问您在哪个城市" in out
    assert "您参加的是哪种医保" in out  # asked after the region
    assert "[1] 单位职工医保" in out
    assert "断缴是什么原因" in out  # "1" picked the employee button, so the cause is asked
    assert "浙江省宁波市" in out and "结论" in out  # "2" picked 换工作/离职 and the answer came
    stored = await dump_prefixed(redis, key_prefix)
    assert any("cli:cli:alice" in key for key in stored)


async def test_conversation_survives_between_runs(redis: Redis, redis_url: str, key_prefix: str) -> None:
    first = run_chat(["乌鲁木齐"], redis_url, key_prefix, "--user", "bob")
    assert first.returncode == 0, first.stderr
    second = run_chat(["灵活就业，断了2个月"], redis_url, key_prefix, "--user", "bob")
    assert second.returncode == 0, second.stderr
    assert "乌鲁木齐" in second.stdout and "结论" in second.stdout


async def test_bad_and_empty_input_never_crashes(redis: Redis, redis_url: str, key_prefix: str) -> None:
    result = run_chat(["", "\x00\x1b[31m", "🙂" * 500, "99", "/nonsense"], redis_url, key_prefix)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "不认识这个命令" in result.stdout
