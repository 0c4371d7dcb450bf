"""Fixtures for the WeChat adapter: the fake WeChat side, real Redis, the real dialog, real HTTP."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.wechat.runner import RunningWeChat, wechat_worker
from bot.wechat.settings import WeChatSettings
from flows.dialog import GapDialog
from flows.reminders_time import Clock, real_clock
from flows.store import ConversationStore, StoreConfig
from flows.store.keys import KeySpace
from flows.turn import Dialog
from tests.bot.wechat.fake_wechat import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChat

TODAY = date(2026, 11, 30)
LINK_KEY = "wechat-test-deeplink-key-0123456789"  # a worker refuses the public default


@pytest.fixture(scope="session")
def gap_dialog() -> GapDialog:
    return dataclasses.replace(GapDialog.create(), deeplink_key=LINK_KEY)


@pytest.fixture
async def wechat() -> AsyncIterator[FakeWeChat]:
    async with FakeWeChat() as fake:
        yield fake


@pytest.fixture
async def wechat_safe() -> AsyncIterator[FakeWeChat]:
    async with FakeWeChat(aes_key=AES_KEY) as fake:
        yield fake


def wechat_settings(fake: FakeWeChat, **overrides: Any) -> WeChatSettings:
    values: dict[str, Any] = {"wechat_token": TOKEN, "wechat_appid": APP_ID, "wechat_appsecret": APP_SECRET,
                              "wechat_api_base": fake.base, "deeplink_key": LINK_KEY}
    if fake.aes_key:
        values["wechat_aes_key"] = fake.aes_key
    values.update(overrides)
    return WeChatSettings(_env_file=None, **values)  # type: ignore[call-arg]


Start = Callable[..., contextlib.AbstractAsyncContextManager[RunningWeChat]]


@pytest.fixture
def start_worker(redis: Redis, keyspace: KeySpace, gap_dialog: GapDialog) -> Start:
    """`async with start_worker(fake, **settings) as w:` runs one worker on a free port."""

    @contextlib.asynccontextmanager
    async def start(fake: FakeWeChat, *, dialog: Dialog | None = None, reminder_clock: Clock = real_clock,
                    store_config: StoreConfig | None = None, **overrides: Any) -> AsyncIterator[RunningWeChat]:
        store = ConversationStore(redis, keyspace, store_config)
        async with wechat_worker(wechat_settings(fake, **overrides), store, dialog or gap_dialog,
                                 clock=lambda: TODAY, reminder_clock=reminder_clock) as running:
            yield running

    return start


def url_of(running: RunningWeChat, path: str = "/wechat") -> str:
    return f"http://127.0.0.1:{running.port}{path}"
