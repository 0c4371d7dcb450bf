"""Redis memory per conversation with one reminder, at scale.

One conversation is taken through the real service (deep link, answers, the "remind
me" button; extra reminders beyond the first are removed), then its keys are copied
to `count` conversations with DUMP/RESTORE, and its entries in the shared indexes
(reminders due, pending hints, anything naming the conversation) are added for every
copy. The figure is the growth of `used_memory` divided by `count`: what each
conversation really costs the server, allocator overhead and index entries included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from redis.asyncio import Redis

from benchmarks.script import REMIND, e2e_script
from bot.runtime import open_runtime
from flows.deeplink import DEFAULT_KEY
from flows.messages import ChatKind, InEvent
from flows.reminders_dialog import is_reminder_payload
from flows.service import CollectingSink

PREFIX = "mem"
CHAT = "7770001"


@dataclass(frozen=True, slots=True)
class Memory:
    per_conversation: float
    keys: dict[str, int]  # key suffix -> MEMORY USAGE of the model conversation's key


def _event(n: int, step: str) -> InEvent:
    text, payload, start = step, None, None
    if step == REMIND or is_reminder_payload(step):
        text, payload = None, step
    elif step.startswith("/start "):
        text, start = "/start", step.split()[1]
    return InEvent(platform="telegram", bot_id="1", chat_id=CHAT, user_id=CHAT, chat_kind=ChatKind.PRIVATE,
                   update_id=str(n + 1), text=text, payload=payload, start_payload=start)


async def _model_conversation(url: str) -> str:
    """Run the script through the real service; returns the conversation id (one reminder kept)."""
    async with open_runtime(url, key_prefix=PREFIX) as rt:
        sink = CollectingSink()
        service = rt.make_service(sink, clock=lambda: date(2026, 11, 22))
        steps = e2e_script(DEFAULT_KEY)
        for n, step in enumerate(steps):
            await service.submit(_event(n, step))
        # "remind me" offers reminders (flows.reminders_dialog): press the first one offered
        offered = [b.payload for _, messages in sink.delivered for m in messages for b in m.all_buttons()
                   if is_reminder_payload(b.payload) and b.payload.startswith("rp:")]
        if offered:
            await service.submit(_event(len(steps), offered[0]))
        cid = _event(0, "").conversation_id
        for extra in (await service.reminders.of(cid))[1:]:
            await service.reminders.remove(extra)
        if len(await service.reminders.of(cid)) != 1:
            raise RuntimeError("the script did not leave a reminder")
        return cid


async def memory_per_conversation(url: str, count: int) -> Memory:
    cid = await _model_conversation(url)
    client = Redis.from_url(url)
    try:
        own = [k async for k in client.scan_iter(match=f"{PREFIX}:{{{cid}}}:*")]
        shared = [k async for k in client.scan_iter(match=f"{PREFIX}:*") if k not in own]
        keys = {k.decode().rsplit(":", 1)[1]: int(await client.memory_usage(k, samples=0) or 0) for k in own}
        dumps = [(k.decode(), await client.dump(k), max(0, await client.pttl(k))) for k in own]
        entries = await _shared_entries(client, shared, cid)
        before = int((await client.info("memory"))["used_memory"])
        for start in range(0, count, 1000):
            pipe = client.pipeline(transaction=False)
            for n in range(start, min(count, start + 1000)):
                other = f"{cid}#{n}"
                for key, payload, ttl in dumps:
                    pipe.restore(key.replace(cid, other), ttl, payload)
                for kind, key, member, score in entries:
                    copy = member.replace(cid, other)
                    if kind == "zset":
                        pipe.zadd(key, {copy: score})
                    elif kind == "set":
                        pipe.sadd(key, copy)
                    else:
                        pipe.hset(key, copy, score)
            await pipe.execute()
        after = int((await client.info("memory"))["used_memory"])
        return Memory((after - before) / count, keys)
    finally:
        await client.aclose()


async def _shared_entries(client: Redis, keys: list[bytes], cid: str) -> list[tuple[str, str, str, float | str]]:
    """Entries of shared keys (indexes) that name the conversation: (type, key, member, score/value)."""
    found: list[tuple[str, str, str, float | str]] = []
    for raw in keys:
        key, kind = raw.decode(), (await client.type(raw)).decode()
        if kind == "zset":
            found += [("zset", key, m.decode(), s) for m, s in await client.zrange(raw, 0, -1, withscores=True)
                      if cid in m.decode()]
        elif kind == "set":
            found += [("set", key, m.decode(), 0.0) for m in await client.smembers(raw) if cid in m.decode()]
        elif kind == "hash":
            found += [("hash", key, f.decode(), v.decode()) for f, v in (await client.hgetall(raw)).items()
                      if cid in f.decode()]
    return found
