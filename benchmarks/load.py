"""Load: N simulated users through the webhook for a bounded time, 1 and then 2 workers.

    .venv/bin/python -m benchmarks.load [--users 50] [--seconds 20] [--framework aiogram|ptb]

It runs the local layout (deploy/local.py `LocalStack`, what deploy/local.sh starts):
Redis with AOF, the webhook workers (`python -m bot telegram`, each on its own port),
the web chat and the reminder dispatcher, against the local Bot API server
(tests/bot/fake_bot_api.py). Only the outbound limits are raised far above Telegram's
(a user writing 8 messages in a few seconds would otherwise measure the 1-per-second
chat limit). Every user plays the benchmark script (benchmarks/script.py) as a fresh
conversation, again and again, and waits for every reply before the next message
(`--think` adds a pause); user i talks to worker i mod n. Printed per worker count:
throughput, latency p50/p99 (POST -> last reply), errors (non-200 answers, replies
missing after 15 s), and each process's CPU time, so the bound two cores set is
visible: the load generator and the Bot API server run on the same two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redis.asyncio import Redis  # noqa: E402

from benchmarks.bots import worker_env  # noqa: E402
from benchmarks.harness import Pass, TimedBotApi, Users, cpu_seconds, pct  # noqa: E402
from benchmarks.script import e2e_script  # noqa: E402
from deploy.local import LocalStack  # noqa: E402

# The outbound limits of benchmarks/bots.py: far above Telegram's, every send still reserves its slots.
OUTBOUND = {k: v for k, v in worker_env("", "", 0, "", "", "", "").items() if k.startswith("OUTBOUND_")}


class StackProcesses:
    """CPU of a LocalStack's webhook workers (the harness's `Processes`), and of its other processes."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.workers = sorted(n for n in stack.procs if n.startswith("webhook"))
        self.others = sorted(n for n in stack.procs if n not in self.workers and n != "redis")

    def cpu(self) -> list[float]:
        return [cpu_seconds(self.stack.procs[n].pid) for n in self.workers]

    def other_cpu(self) -> dict[str, float]:
        return {n: cpu_seconds(self.stack.procs[n].pid) for n in self.others}

    def log_lines(self) -> int:
        return 0


async def run(args: argparse.Namespace) -> list[tuple[Pass, dict[str, float]]]:
    results: list[tuple[Pass, dict[str, float]]] = []
    async with TimedBotApi() as api:
        for count in args.workers:
            stack = LocalStack(dir=Path(tempfile.mkdtemp(prefix="yb-load-")), workers=count,
                               framework=args.framework, redis_port=args.port_base,
                               base_port=args.port_base + 10, web_port=args.port_base + 30, api_base=api.base,
                               token=api.token, env=dict(OUTBOUND),
                               wechat=False)  # the same stack whatever WECHAT_* this machine has
            await asyncio.to_thread(stack.start, 120.0)
            client = Redis.from_url(stack.redis_url)
            try:
                processes = StackProcesses(stack)
                users = Users(api, e2e_script(stack.deeplink_key), presses=True, think=args.think,
                              secret=stack.secret)
                await users.calibrate(stack.webhook_urls[0])
                result = Pass(f"ours-{args.framework}", count, args.users)
                others = processes.other_cpu()
                await users.run(stack.webhook_urls, result, args.seconds, workers=processes, redis=client)
                results.append((result, {n: cpu - others[n] for n, cpu in processes.other_cpu().items()}))
            finally:
                await client.aclose()
                await asyncio.to_thread(stack.stop)
                shutil.rmtree(stack.dir, ignore_errors=True)
    return results


def report(results: list[tuple[Pass, dict[str, float]]], args: argparse.Namespace) -> None:
    load = os.getloadavg()
    print(f"\nLoad: {args.users} users, {args.seconds:g} s per worker count, bot on {args.framework}, "
          f"think {args.think:g} s; Redis with AOF; {os.cpu_count()} CPUs shared "
          f"(load average {load[0]:.1f} {load[1]:.1f})")
    print("CPU: seconds during the pass, and % of the pass's wall time (100% = one core)\n")
    for r, others in results:
        print(f"{r.workers} worker(s): {r.rate:.0f} updates/s, p50 {pct(r.latencies, .5):.1f} ms, "
              f"p99 {pct(r.latencies, .99):.1f} ms, {r.updates} updates, {r.errors} errors")
        rows = [(f"worker {n + 1}", cpu) for n, cpu in enumerate(r.worker_cpu)]
        rows += [("redis-server (AOF)", r.redis.cpu), *others.items(),
                 ("load generator + Bot API server", r.driver_cpu)]
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
    parser.add_argument("--port-base", type=int, default=18420,
                        help="Redis on this port, workers from +10, the web chat on +30 (loopback)")
    args = parser.parse_args(argv)
    args.workers = [int(n) for n in args.workers.split(",")]
    report(await run(args), args)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
