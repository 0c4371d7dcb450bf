"""The lean EVALSHA path against real Redis: encoding, error replies, fallbacks."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from flows.store import ConversationStore, KeySpace
from flows.store.lua import LuaScript
from flows.store.wire import evalsha, pack_command


def test_pack_command_is_resp() -> None:
    assert pack_command(("EVALSHA", b"\x01\n", 2, "键")) == (
        b"*4\r\n$7\r\nEVALSHA\r\n$2\r\n\x01\n\r\n$1\r\n2\r\n$3\r\n\xe9\x94\xae\r\n"
    )
    with pytest.raises(TypeError):
        pack_command((True,))


async def test_arguments_arrive_intact_and_errors_leave_the_connection_usable(
    redis: Redis, key_prefix: str
) -> None:
    echo = LuaScript(f"-- {key_prefix}\nreturn {{KEYS[1], ARGV[1], ARGV[2], ARGV[3]}}")
    binary = bytes(range(256))
    reply = await echo(redis, (f"{key_prefix}:k",), (binary, 12345678901234, "中文 \r\n"))
    assert reply == [f"{key_prefix}:k".encode(), binary, b"12345678901234", "中文 \r\n".encode()]
    with pytest.raises(NoScriptError):
        await evalsha(redis, "0" * 40, (), ())
    failing = LuaScript(f"-- {key_prefix}\nreturn redis.error_reply('boom')")
    for _ in range(3):  # more calls than the pool needs connections: each stays in step
        with pytest.raises(ResponseError, match="boom"):
            await failing(redis, (), ())
        assert await echo(redis, ("k",), ("a", "b", "c")) == [b"k", b"a", b"b", b"c"]


async def test_single_connection_client_takes_the_ordinary_path(redis_url: str, key_prefix: str) -> None:
    client = Redis.from_url(redis_url, single_connection_client=True)
    try:
        script = LuaScript(f"-- {key_prefix}\nreturn ARGV[1]")
        assert await script(client, (), ("x",)) == b"x"
    finally:
        await client.aclose()


async def test_store_refuses_a_decoding_client(redis_url: str, keyspace: KeySpace) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(ValueError, match="decode_responses"):
            ConversationStore(client, keyspace)
    finally:
        await client.aclose()
