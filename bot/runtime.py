"""Wiring shared by every process: Redis (configured or embedded), the store and the dialog.

Adapters get a `Runtime` and ask it for a `ConversationService` bound to their sink.
Loading the rules and the region dataset is blocking file I/O, so it runs in a thread
at start-up, never on the event loop while messages flow.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flows.dialog import GapDialog
from flows.redis_embed import open_redis
from flows.reminders_time import china_today
from flows.service import ConversationService, Sink
from flows.store import ConversationStore, KeySpace, RedisClient, StoreConfig
from policies import RuleBook
from policies.regions import RegionIndex


@dataclass(frozen=True, slots=True)
class Runtime:
    redis: RedisClient  # one server, or a Redis Cluster (detected, or REDIS_CLUSTER=1)
    redis_url: str
    store: ConversationStore
    dialog: GapDialog

    @property
    def regions(self) -> RegionIndex:
        return self.dialog.regions

    @property
    def rulebook(self) -> RuleBook:
        return self.dialog.advisor.rulebook

    def make_service(self, sink: Sink, clock: Callable[[], date] = china_today) -> ConversationService:
        """A conversation service that sends its replies through `sink`."""
        return ConversationService(self.store, self.dialog, sink, clock=clock)


def store_config_from_env() -> StoreConfig:
    """Store tunables an operator may set: FLOOD_LIMIT (updates per conversation and
    window, 0 = off) and FLOOD_WINDOW (seconds)."""
    default = StoreConfig()
    limit = os.environ.get("FLOOD_LIMIT", "").strip()
    window = os.environ.get("FLOOD_WINDOW", "").strip()
    return StoreConfig(
        flood_limit=int(limit) if limit else default.flood_limit,
        flood_window=timedelta(seconds=float(window)) if window else default.flood_window,
    )


@asynccontextmanager
async def open_runtime(
    redis_url: str | None = None,
    *,
    data_dir: Path | None = None,
    key_prefix: str | None = None,
    store_config: StoreConfig | None = None,
    dialog: GapDialog | None = None,
) -> AsyncIterator[Runtime]:
    """Open Redis (REDIS_URL, else an embedded server), load the dialog, yield a Runtime.

    `key_prefix` (or REDIS_KEY_PREFIX) namespaces every key, e.g. for several bots on one server.
    """
    url = redis_url if redis_url is not None else (os.environ.get("REDIS_URL") or None)
    handle = await open_redis(url, data_dir)
    try:
        loaded = dialog or await asyncio.to_thread(GapDialog.create)
        # The rules and regions live as long as the process: keep them out of the cyclic
        # collector's full passes, which otherwise stall the event loop for tenths of a
        # second - long enough, on a busy machine, to risk a 1.6 s drain lease.
        gc.collect()
        gc.freeze()
        prefix = key_prefix or os.environ.get("REDIS_KEY_PREFIX") or None
        keys = KeySpace(prefix) if prefix else KeySpace()
        store = ConversationStore(handle.client, keys, store_config or store_config_from_env())
        yield Runtime(redis=handle.client, redis_url=handle.url, store=store, dialog=loaded)
    finally:
        await handle.close()
