"""Load: N simulated users through the webhook for a bounded time, 1 and then 2 workers.

    .venv/bin/python -m benchmarks.load [--users 50] [--seconds 20] [--framework aiogram|ptb]

The local layout: a private Redis with AOF (appendfsync everysec, as deployed) and our
bot's webhook workers (`python -m bot telegram`, SO_REUSEPORT on one port) talking to
the local Bot API server (tests/bot/fake_bot_api.py). Every user plays the benchmark
script (benchmarks/script.py) as a fresh conversation, again and again, and waits for
every reply before the next message (`--think` adds a pause). Printed per worker count:
throughput, latency p50/p99 (POST -> last reply), errors (non-200 answers, replies
missing after 15 s), and each process's CPU time, so the bound two cores set is
visible: the load generator and the Bot API server run on the same two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redis.asyncio import Redis  # noqa: E402

from benchmarks.harness import Pass, PrivateRedis, TimedBotApi, Users, Workers, pct  # noqa: E402
from benchmarks.script import e2e_script  # noqa: E402


async def run(args: argparse.Namespace, redis: PrivateRedis) -> list[Pass]:
    client = Redis.from_url(redis.url)
    results: list[Pass] = []
    kind = f"ours-{args.framework}"
    try:
        async with TimedBotApi() as api:
            for count in args.workers:
                workers = Workers(kind, count, api, redis.url, f"load{count}")
                await workers.start()
                try:
                    users = Users(api, e2e_script(workers.deeplink_key), presses=True, think=args.think)
                    await users.calibrate(workers.url)
                    result = Pass(kind, count, args.users)
                    results.append(await users.run(workers.url, result, args.seconds, workers=workers,
                                                   redis=client))
                finally:
                    await workers.stop()
    finally:
        await client.aclose()
    return results


def report(results: list[Pass], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    print(f"\nLoad: {args.users} users, {args.seconds:g} s per worker count, bot on {args.framework}, "
          f"think {args.think:g} s; Redis with AOF; {os.cpu_count()} CPUs shared "
          f"(load average {load[0]:.1f} {load[1]:.1f})")
    print("CPU: seconds during the pass, and % of the pass's wall time (100% = one core)\n")
    for r in results:
        print(f"{r.workers} worker(s): {r.rate:.0f} updates/s, p50 {pct(r.latencies, .5):.1f} ms, "
              f"p99 {pct(r.latencies, .99):.1f} ms, {r.updates} updates, {r.errors} errors")
        rows = [(f"worker {n + 1}", cpu) for n, cpu in enumerate(r.worker_cpu)]
        rows += [("redis-server", r.redis.cpu), ("load generator + Bot API server", r.driver_cpu)]
        for name, cpu in rows:
            print(f"    {name:<32} {cpu:6.2f} s  {cpu / r.seconds * 100:5.0f}%  {r.cpu_ms(cpu):.2f} ms/update")
        total = sum(cpu for _, cpu in rows)
        bot = sum(r.worker_cpu) + r.redis.cpu
        print(f"    all processes {total / r.seconds * 100:.0f}% of one core; two cores allow about "
              f"{2 / (bot / r.updates):.0f} updates/s for workers + Redis at this CPU per update"
              if r.updates else "")


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    parser.add_argument("--think", type=float, default=0.0, help="pause between a reply and the next message")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, in order")
    args = parser.parse_args(argv)
    args.workers = [int(n) for n in args.workers.split(",")]
    with PrivateRedis(aof=True) as redis:
        report(await run(args, redis), args)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
