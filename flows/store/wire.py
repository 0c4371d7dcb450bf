"""EVALSHA on the hot path with half the client-side cost of `Redis.evalsha`.

Profiling the conversation core showed redis-py's generic command path (argument
encoding in `pack_command`, retry wrapper, observability hooks) taking most of the
CPU of a turn. A turn is two script calls, so they are packed here directly as RESP (by
hiredis, in C) and sent on a connection borrowed from the client's own pool; reading and parsing the
reply is still redis-py's. Anything that is not a plain `redis.asyncio.Redis` with a
pool (a cluster client, a single-connection client) takes the ordinary path.

Unlike `execute_command` this does not retry on a connection error: the error reaches
the caller, who (like after any failed submit) may submit again - the update id makes
that safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.exceptions import ResponseError


def pack_command(parts: Sequence[str | bytes | int | float]) -> bytes:
    """One command in RESP: an array of bulk strings (hiredis's C packer; bool is refused)."""
    return hiredis.pack_command(tuple(parts))  # type: ignore[arg-type]  # its stub types a 1-tuple


async def evalsha(
    client: Redis, sha: str, keys: Sequence[str], args: Sequence[str | bytes | int | float]
) -> Any:
    """EVALSHA sha len(keys) *keys *args; error replies raise (NoScriptError included)."""
    if not isinstance(client, Redis) or client.connection is not None:
        return await client.evalsha(sha, len(keys), *keys, *args)  # type: ignore[misc]
    pool = client.connection_pool
    conn = await pool.get_connection()
    try:
        await conn.send_packed_command(
            pack_command(("EVALSHA", sha, len(keys), *keys, *args)), check_health=False
        )
        return await conn.read_response()
    except ResponseError:
        raise  # a whole error reply was read: the connection is still in step
    except BaseException:
        await conn.disconnect()  # a half-read reply would poison the next command
        raise
    finally:
        await pool.release(conn)
