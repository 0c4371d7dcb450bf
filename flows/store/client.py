"""The Redis client type the store accepts: one server, or a Redis Cluster."""

from __future__ import annotations

from redis.asyncio import Redis, RedisCluster

RedisClient = Redis | RedisCluster


def is_cluster(client: object) -> bool:
    """True for a Redis Cluster client (scripts must then keep to one hash slot)."""
    return isinstance(client, RedisCluster)
