"""open_redis: a given URL, or an embedded redis-server that other processes can reach."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from flows.redis_embed import open_redis


async def test_given_url_is_used_as_is(redis_url: str) -> None:
    handle = await open_redis(redis_url)
    try:
        assert handle.url == redis_url
        assert await handle.client.ping()
    finally:
        await handle.close()


async def test_embedded_server_is_shared_with_other_processes_and_keeps_its_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "redis"
    key = f"ybt:{uuid.uuid4().hex[:8]}:embed"
    handle = await open_redis(None, data_dir)
    try:
        assert handle.embedded and handle.url.startswith("unix://")
        await handle.client.set(key, "来自主进程")
        script = (
            "import sys, redis; r = redis.Redis.from_url(sys.argv[1]); "
            "print(r.get(sys.argv[2]).decode()); r.set(sys.argv[2] + ':child', 'ok')"
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, handle.url, key, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await child.communicate()
        assert child.returncode == 0 and out.decode().strip() == "来自主进程"
        assert await handle.client.get(f"{key}:child") == b"ok"
    finally:
        await handle.close()
    assert (data_dir / "redis.db").exists()  # saved on shutdown

    again = await open_redis(None, data_dir)
    try:
        assert await again.client.get(key) == "来自主进程".encode()
    finally:
        await again.close()
