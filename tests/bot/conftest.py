"""Fixtures for the Telegram adapter tests: a real Redis and the fake Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.bot.fake_bot_api import FakeBotApi

# How long a bot process may take to come up. Importing aiogram alone costs ~7 s of CPU on these
# 2-core machines (pydantic builds its models), and the rest of the suite shares the cores. A bound
# on waiting, not a timing: a healthy start takes 3-12 s here.
PROCESS_START_S = 120.0


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


# --- starting bots against the fake server -------------------------------------------------

import contextlib  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from bot.settings import TelegramSettings  # noqa: E402
from bot.telegram.runner import RunningBot, running_bot  # noqa: E402

SECRET = "test-secret_0123456789"
WEBHOOK_PATH = "/tg/hook"


from tests.redis_servers import free_port  # noqa: E402


def bot_settings(api: FakeBotApi, mode: str, *, register_webhook: bool = True, fast: bool = True,
                 **overrides: Any) -> TelegramSettings:
    """Settings for a bot talking to the fake server; `mode` is "polling" or "webhook"."""
    values: dict[str, Any] = {"telegram_bot_token": api.token, "telegram_api_base": api.base,
                              "polling_timeout": 1}
    if fast:  # the limiter itself is tested with Telegram's numbers in test_outbound.py
        values.update(outbound_chat_per_second=200, outbound_chat_burst=50, outbound_group_per_minute=1000,
                      outbound_global_per_second=1000)
    if mode == "webhook":
        port = free_port()
        values.update(webhook_listen=f"127.0.0.1:{port}", webhook_path=WEBHOOK_PATH, webhook_secret=SECRET)
        if register_webhook:
            values["webhook_url"] = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    values.update(overrides)
    return TelegramSettings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def start_bot(api: FakeBotApi, framework: str, mode: str, redis: Redis,
                    make_service: Callable[[Any], Any], *, key_prefix: str,
                    **kwargs: Any) -> AsyncIterator[RunningBot]:
    """Run one bot worker until the block ends (its limiter keys under `key_prefix`)."""
    settings = bot_settings(api, mode, **kwargs)
    async with running_bot(framework, settings, redis=redis, make_service=make_service,
                           key_prefix=f"{key_prefix}:ob") as bot:
        try:
            yield bot
        finally:
            await api.release_polls()  # so stopping does not wait out a long poll
