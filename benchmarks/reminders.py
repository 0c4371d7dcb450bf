"""Reminders: scheduling rate, Redis bytes per reminder at 1,000,000, and the dispatch rate.

Runs its own redis-server (no persistence, default encodings) on 127.0.0.1:18500, so the
memory figures are this data alone and nothing else on the machine's shared Redis.

1. Scheduling: `ReminderStore.add` (the script + hint write the dialog uses), 64 at a time.
2. Bytes per reminder: used_memory after minus before, divided by the count, for
   * ours: the per-slot shards + the slot hint (flows.reminders_store), members in the exact
     format `add` writes, loaded by pipelined ZADDs (a million `add` calls would take minutes;
     the resulting keys and values are the same);
   * per-conversation: the earlier layout (a STRING record under the conversation's hash tag,
     "<kind>\\t<date>\\t<text>", plus the per-slot due index "<kind> <cid>" -> day), same people;
   One reminder per person (the worst case: nothing shared), Telegram-sized ids (10 digits), a
   mix of kinds and arguments as the dialog sets them. Also: a dispatcher pass's cost (hint
   read) and the hourly sweep's cost at that size.
3. Dispatch: `python -m bot reminders send-due --framework aiogram` as a child process
   against the local fake Bot API, Telegram's limits on (30/s overall, 1/s per chat),
   over --due reminders for distinct people. The fake server does not rate-limit, so the
   benchmark counts what Telegram would answer 429 to: any 1-second window with more than 30
   sends, or a chat sent to twice within a second. Rate = sends in the first 60 s / 60.

The machine: 2 cores shared with other work; CPU per process is printed.
Usage: .venv/bin/python benchmarks/reminders.py [--count 1000000] [--schedule 20000] [--due 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis
from redis.crc import key_slot

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.reminders import Kind, Reminder  # noqa: E402
from flows.reminders_store import ReminderStore  # noqa: E402
from flows.reminders_time import CHINA, epoch_seconds  # noqa: E402
from flows.store import KeySpace  # noqa: E402
from tests.bot.fake_bot_api import Call, FakeBotApi  # noqa: E402

PORT = 18500
CHANNEL = "telegram:123456789"
START = datetime(2027, 1, 5, 9, 0, tzinfo=CHINA)
KINDS = ((Kind.WINDOW, "2027-03-08"), (Kind.WAITING, "2027-05-01"), (Kind.DECLARATION, "26"), (Kind.OWN, "交医保"))


def person(i: int) -> str:
    return str(5_000_000_000 + i * 7919)  # 10-digit Telegram user ids


def reminder(i: int) -> Reminder:
    kind, arg = KINDS[i % len(KINDS)]
    return Reminder(CHANNEL, person(i), kind, START + timedelta(minutes=i % 100_000), arg)


async def redis_server(folder: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        "redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--dir", folder, "--save", "",
        "--appendonly", "no", stdout=asyncio.subprocess.DEVNULL)
    client = Redis(port=PORT)
    for _ in range(100):
        try:
            await client.ping()
            break
        except Exception:
            await asyncio.sleep(0.05)
    await client.aclose()
    return proc


async def used(client: Redis) -> int:
    return int((await client.info("memory"))["used_memory"])


async def scheduling_rate(client: Redis, n: int) -> float:
    store = ReminderStore(client, KeySpace("sched"))
    started = time.perf_counter()
    for i in range(0, n, 64):
        await asyncio.gather(*(store.add(reminder(j)) for j in range(i, min(n, i + 64))))
    return n / (time.perf_counter() - started)


async def load_ours(client: Redis, n: int, keys: KeySpace) -> None:
    store = ReminderStore(client, keys)
    hint: dict[str, int] = {}
    for i in range(0, n, 5000):
        pipe = client.pipeline(transaction=False)
        for j in range(i, min(n, i + 5000)):
            r = reminder(j)
            slot = key_slot(r.conversation_id.encode())
            score = epoch_seconds(r.release)
            pipe.zadd(store.shard(CHANNEL, slot)[0], {r.member: score})
            hint[str(slot)] = min(hint.get(str(slot), score), score)
        await pipe.execute()
    await client.zadd(store.hint_key(CHANNEL), hint)  # type: ignore[arg-type]
    await client.sadd(store.channels_key, CHANNEL)  # type: ignore[misc]


async def load_per_conversation(client: Redis, n: int, keys: KeySpace) -> None:
    """The earlier layout: a record per conversation (with TTL) + a per-slot due index."""
    store = ReminderStore(client, keys)
    for i in range(0, n, 5000):
        pipe = client.pipeline(transaction=False)
        for j in range(i, min(n, i + 5000)):
            r = reminder(j)
            cid = r.conversation_id
            line = f"{r.kind.name.lower()}\t{r.due.date().isoformat()}\t{r.arg}\n"
            pipe.set(keys.conversation(cid, "rm"), line, ex=120 * 86400)
            slot = key_slot(cid.encode())
            pipe.zadd(store.shard(CHANNEL, slot)[0] + ":idx", {f"{r.kind.name.lower()} {cid}": r.due.toordinal()})
        await pipe.execute()


async def memory(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = await redis_server(folder)
        client = Redis(port=PORT)
        try:
            for name, loader in (("ours (slot shards + hint)", load_ours),
                                 ("per-conversation record + slot index", load_per_conversation)):
                keys = KeySpace(f"m{len(name)}")
                before = await used(client)
                started = time.perf_counter()
                await loader(client, n, keys)
                after = await used(client)
                print(f"  {name}: {(after - before) / n:.1f} B/reminder at {n:,} "
                      f"({(after - before) / 2**20:.1f} MiB, loaded in {time.perf_counter() - started:.0f} s)")
                if loader is load_ours:
                    await pass_costs(client, keys)
                await client.flushall()  # our own server: nothing else lives here
        finally:
            await client.aclose()
            server.terminate()
            await server.wait()


async def pass_costs(client: Redis, keys: KeySpace) -> None:
    store = ReminderStore(client, keys)
    encodings = Counter()
    for slot in range(0, 16384, 512):
        encodings[(await client.object("encoding", store.shard(CHANNEL, slot)[0]) or b"-").decode()] += 1
    cpu, wall = time.process_time(), time.perf_counter()
    slots = await store.due_slots(CHANNEL, START + timedelta(minutes=5))
    print(f"    a pass finds its slots in {1000 * (time.perf_counter() - wall):.1f} ms "
          f"({1000 * (time.process_time() - cpu):.1f} ms CPU; {len(slots)} slots due); shard encodings "
          f"(sampled): {dict(encodings)}")
    cpu, wall = time.process_time(), time.perf_counter()
    await store.sweep(CHANNEL)
    print(f"    the hourly sweep: {time.perf_counter() - wall:.2f} s ({time.process_time() - cpu:.2f} s CPU)")


async def dispatch(due: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = await redis_server(folder)
        client = Redis(port=PORT)
        calls: list[Call] = []
        try:
            async with FakeBotApi() as api:
                api.on_call = lambda call: calls.append(call) if call.method == "sendMessage" else None
                store = ReminderStore(client, KeySpace("d"))
                people = [Reminder(f"telegram:{api.bot_id}", person(i), Kind.OWN, START, "交医保")
                          for i in range(due)]
                for i in range(0, due, 64):
                    await asyncio.gather(*(store.add(r) for r in people[i:i + 64]))
                env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE": api.base,
                       "REDIS_URL": f"redis://127.0.0.1:{PORT}", "REDIS_KEY_PREFIX": "d"}
                env = {k: v for k, v in env.items() if not k.startswith("OUTBOUND_")}  # Telegram's limits
                started = time.monotonic()
                before_children, before_self = _children_cpu(), time.process_time()
                child = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "reminders", "send-due", "--framework", "aiogram",
                    "--now", (START + timedelta(minutes=1)).isoformat(), env=env, cwd=folder,
                    stdout=asyncio.subprocess.PIPE)
                out, _ = await child.communicate()
                wall = time.monotonic() - started
                child_cpu, own_cpu = _children_cpu() - before_children, time.process_time() - before_self
        finally:
            await client.aclose()
            server.terminate()
            await server.wait()
    times = sorted(c.at for c in calls)
    first = times[0] if times else 0.0
    in_60 = sum(1 for t in times if t - first < 60)
    span = (times[-1] - first) if len(times) > 1 else 1.0
    worst = max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)
    per_chat = Counter(c.params["chat_id"] for c in calls)
    print(f"  send-due: {out.decode().strip()}; {len(times)} sends in {span:.1f} s "
          f"(child ran {wall:.1f} s incl. start-up)")
    print(f"  sustained: {in_60 / min(60.0, span):.1f} msg/s over the first {min(60.0, span):.0f} s "
          f"(goal >= 28); busiest 1-s window {worst} sends (Telegram answers 429 above 30); "
          f"chats sent to twice: {sum(1 for n in per_chat.values() if n > 1)}")
    print(f"  CPU during dispatch: send-due process {child_cpu:.1f} s, this process (fake Bot API) {own_cpu:.1f} s, "
          f"redis-server not counted (still running)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--schedule", type=int, default=20_000)
    parser.add_argument("--due", type=int, default=2_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        server = await redis_server(folder)
        client = Redis(port=PORT)
        try:
            rate = await scheduling_rate(client, args.schedule)
            print(f"scheduling: {rate:,.0f} reminders/s through ReminderStore.add ({args.schedule:,}, 64 at a time)")
        finally:
            await client.aclose()
            server.terminate()
            await server.wait()
    print("memory:")
    await memory(args.count)
    print("dispatch:")
    await dispatch(args.due)


if __name__ == "__main__":
    asyncio.run(main())
