"""End to end through the real adapters: webhook POST -> every reply at the local Bot API server.

    .venv/bin/python -m benchmarks.e2e [--users 16] [--seconds 4] [--rounds 3] [--baseline REV|DIR]
                                       [--plain-uvloop] [--profile DIR]

Four bots (see benchmarks/bots.py): ours on aiogram and on python-telegram-bot, started
with the real entry point (`python -m bot telegram`), and a plain bot on each framework
(aiogram + RedisStorage: one get_data/set_data and one sendMessage per update; PTB with
its in-memory chat_data doing the same). Each runs as 1 worker and as 2 workers sharing
one port (SO_REUSEPORT). Every user follows the same script - a community deep link,
the answers that reach a result, follow-up questions, the "remind me" button (plain
bots get it as text) - and waits for every reply before writing again.

Cells are interleaved: each round runs every bot once (the order rotates per round),
so a noisy moment on the shared machine hits all of them alike; ratios are taken within
a round and the median over rounds is printed with the spread. Each cell is a bounded
pass of `--seconds` (no warm-up between cells: an idle worker pays what a real one
would). Per process CPU is recorded; the 2-worker line shows what two cores would
allow at the measured CPU per update. Redis is a private redis-server started for the
run, so its commandstats, CPU and memory are this benchmark's alone.

Our processes run on uvloop (bot/__main__.py); the plain bots on asyncio's default loop, as
plain bots are written. `--plain-uvloop` adds each plain bot on uvloop, so both ratios print.
`--profile DIR` samples our workers during the measured cells (benchmarks/e2e_profile.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redis.asyncio import Redis  # noqa: E402

from benchmarks.bots import KINDS, UVLOOP  # noqa: E402
from benchmarks.e2e_memory import memory_per_conversation  # noqa: E402
from benchmarks.e2e_profile import record_ours, stop  # noqa: E402
from benchmarks.harness import Pass, PrivateRedis, TimedBotApi, Users, Workers, checkout, pct  # noqa: E402
from benchmarks.script import e2e_script  # noqa: E402

PAIRS = (("ours-aiogram", "plain-aiogram"), ("ours-ptb", "plain-ptb"))


async def measure(args: argparse.Namespace, redis: PrivateRedis) -> tuple[list[list[Pass]], dict[str, list[int]]]:
    """Start every bot (1 and 2 workers), calibrate, then run the interleaved rounds."""
    client = Redis.from_url(redis.url)
    rounds: list[list[Pass]] = []
    async with TimedBotApi() as served:
        api = cast(TimedBotApi, served)
        groups: dict[tuple[str, int], Workers] = {}
        users: dict[str, Users] = {}
        spies: list[subprocess.Popen[bytes]] = []
        try:
            for number, kind in enumerate(args.kinds):
                for count in (1, 2):
                    groups[kind, count] = Workers(kind, count, api, redis.url, f"e2e{count}k{number}")
            for group in groups.values():  # one group at a time: all at once starves a busy machine
                await group.start()
            for kind in args.kinds:
                key = groups[kind, 1].deeplink_key
                users[kind] = Users(api, e2e_script(key), presses=kind.startswith("ours-"))
                await users[kind].calibrate(groups[kind, 1].url)
                await users[kind].calibrate(groups[kind, 2].url)  # warms both workers' first turns
            if args.profile is not None:  # sample the measured cells only
                spies = record_ours(groups.values(), args.profile)
            for number in range(args.rounds):
                order = list(args.kinds[number % len(args.kinds):]) + list(args.kinds[:number % len(args.kinds)])
                cells: list[Pass] = []
                for kind in order:
                    for count, many in ((1, args.users), (2, args.users), (1, 1)):
                        cell = Pass(kind, count, many)
                        await users[kind].run(groups[kind, count].url, cell, args.seconds if many > 1
                                              else args.latency_seconds, workers=groups[kind, count],
                                              redis=client)
                        cells.append(cell)
                        print(f"  round {number + 1}: {args.names[kind]} x{count}, {many} users: {cell.rate:.0f} upd/s, "
                              f"{cell.errors} errors", file=sys.stderr)
                rounds.append(cells)
        finally:
            await asyncio.to_thread(stop, spies)
            await asyncio.gather(*(w.stop() for w in groups.values()))
            await client.aclose()
    return rounds, {kind: u.expected for kind, u in users.items()}


def _cells(rounds: list[list[Pass]], kind: str, workers: int, users: int) -> list[Pass]:
    return [c for cells in rounds for c in cells if (c.name, c.workers, c.users) == (kind, workers, users)]


def _med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _spread(values: Sequence[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def report(rounds: list[list[Pass]], expected: dict[str, list[int]], args: argparse.Namespace,
           redis_version: str) -> None:
    load = os.getloadavg()
    print(f"\nEnd-to-end: webhook POST -> every reply at the local Bot API server; Redis {redis_version} "
          f"(private server); {os.cpu_count()} CPUs shared; load average {load[0]:.1f} {load[1]:.1f}")
    print(f"{args.rounds} interleaved rounds; each cell {args.seconds:g} s with {args.users} closed-loop users "
          f"(latency cells: 1 user, {args.latency_seconds:g} s); medians over rounds")
    for kind, counts in expected.items():
        print(f"  replies per step, {args.names[kind]}: {counts}")
    width = max(14, *(len(n) + 1 for n in args.names.values()))
    head = (f"{'bot':<{width}}{'wk':>3}{'upd/s':>7}{'p50':>7}{'p99':>7}{'err':>5}{'worker':>8}{'redis':>7}"
            f"{'driver':>8}{'cmds':>6}{'scripts':>8}{'logs':>6}  2-core bound")
    print("\nlatency ms; CPU per update: worker and driver (load generator + Bot API server) ms, Redis µs;")
    print("cmds = Redis commands per update (commands inside scripts counted too); logs = log lines per update\n")
    print(head)
    print("-" * len(head))
    for kind in args.kinds:
        for workers in (1, 2):
            cells = _cells(rounds, kind, workers, args.users)
            if not cells:
                continue
            rate = _med([c.rate for c in cells])
            worker = _med([c.cpu_ms(sum(c.worker_cpu)) for c in cells])
            redis_us = _med([c.cpu_ms(c.redis.cpu) * 1000 for c in cells])
            driver = _med([c.cpu_ms(c.driver_cpu) for c in cells])
            cmds = _med([sum(c.redis.calls.values()) / max(c.updates, 1) for c in cells])
            scripts = _med([sum(v for k, v in c.redis.calls.items() if k.startswith(("eval", "fcall")))
                            / max(c.updates, 1) for c in cells])
            logs = _med([c.log_lines / max(c.updates, 1) for c in cells])
            bound = ""
            if workers == 2:
                own = (worker + redis_us / 1000) / 1000
                bound = f"{2 / own:.0f} upd/s for bot+Redis alone ({2 / (own + driver / 1000):.0f} with the driver)"
            print(f"{args.names[kind]:<{width}}{workers:>3}{rate:>7.0f}{_med([pct(c.latencies, .5) for c in cells]):>7.1f}"
                  f"{_med([pct(c.latencies, .99) for c in cells]):>7.1f}{sum(c.errors for c in cells):>5}"
                  f"{worker:>8.2f}{redis_us:>7.0f}{driver:>8.2f}{cmds:>6.1f}{scripts:>8.1f}{logs:>6.2f}  {bound}")
    print("\nratios, ours / plain on the same framework, per round (median, range):")
    pairs = [p for p in PAIRS if set(p) <= set(args.kinds)]
    pairs += [(ours, plain + UVLOOP) for ours, plain in PAIRS if {ours, plain + UVLOOP} <= set(args.kinds)]
    pairs += [(k.partition("@")[0], k) for k in args.kinds if "@" in k and k.partition("@")[0] in args.kinds]
    for ours, plain in pairs:
        for workers in (1, 2):
            per = [a.rate / b.rate for a, b in zip(_cells(rounds, ours, workers, args.users),
                                                    _cells(rounds, plain, workers, args.users), strict=True)]
            cpu = [(a.cpu_ms(sum(a.worker_cpu))) / max(b.cpu_ms(sum(b.worker_cpu)), 1e-9)
                   for a, b in zip(_cells(rounds, ours, workers, args.users),
                                   _cells(rounds, plain, workers, args.users), strict=True)]
            goal = "" if "@" in plain or UVLOOP in plain else "  (goal: throughput >= 1.0x)"
            print(f"  {args.names[ours]} / {args.names[plain]}, {workers} worker(s): throughput {_med(per):.2f}x "
                  f"({_spread(per)}), worker CPU per update {_med(cpu):.2f}x ({_spread(cpu)}){goal}")
    print("\nconcurrency 1 (one user): latency per turn, ms; 'own' leaves out the Bot API server's own time")
    for kind in args.kinds:
        cells = _cells(rounds, kind, 1, 1)
        if cells:
            mine = [x for c in cells for x in c.own]
            every = [x for c in cells for x in c.latencies]
            print(f"  {args.names[kind]:<{width}} p50 {pct(every, .5):5.1f}  p99 {pct(every, .99):5.1f}   own: p50 "
                  f"{pct(mine, .5):5.1f}  p99 {pct(mine, .99):5.1f}  ({len(every)} turns)"
                  + ("  (goal: own p99 <= 5 ms)" if kind.startswith("ours-") else ""))
    top: dict[str, float] = {}
    ours_cells = _cells(rounds, args.kinds[0], 1, args.users)
    for cell in ours_cells:
        for command, calls in cell.redis.calls.items():
            top[command] = top.get(command, 0.0) + calls / max(cell.updates, 1) / len(ours_cells)
    listed = ", ".join(f"{k} {v:.2f}" for k, v in sorted(top.items(), key=lambda kv: -kv[1])[:12])
    print(f"\nRedis commands per update, {args.names[args.kinds[0]]} x1: {listed}")
    scripts_us = _med([sum(v for k, v in c.redis.usec.items() if k.startswith(("eval", "fcall")))
                       / max(c.updates, 1) for c in ours_cells])
    print(f"Redis time in scripts (commandstats usec of EVALSHA, whole scripts): {scripts_us:.0f} µs per update; "
          "server CPU (INFO cpu) is in the table (goal: <= 60 µs per update)")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options, with the bots to run (`kinds`) and their printed names (`names`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=16, help="closed-loop users in a throughput cell")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of a throughput cell")
    parser.add_argument("--latency-seconds", type=float, default=2.0, help="length of a 1-user cell")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ",".join(KINDS))
    parser.add_argument("--baseline", action="append", default=[], metavar="REV|DIR",
                        help="also run our bot as of git revision REV (or from folder DIR, e.g. a copy with "
                             "one optimisation undone), interleaved: A/B of a change; may repeat")
    parser.add_argument("--plain-uvloop", action="store_true",
                        help="also run each plain bot on uvloop (plain bots are written for asyncio's default "
                             "loop; ours runs on uvloop): both ratios are printed")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="sample our workers' CPU (benchmarks/e2e_profile.py) into DIR; it slows them a little")
    parser.add_argument("--memory", type=int, default=100_000,
                        help="conversations (each with one reminder) for the memory figure; 0 skips it")
    args = parser.parse_args(argv)
    args.kinds = [k for k in args.kinds.split(",") if k]
    if args.plain_uvloop:
        args.kinds += [k + UVLOOP for k in args.kinds if k.startswith("plain-") and UVLOOP not in k]
    if args.profile is not None:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    args.names = {k: k for k in args.kinds}
    for baseline in args.baseline:
        folder = Path(baseline) if Path(baseline).is_dir() else checkout(baseline)
        label = Path(baseline).name if Path(baseline).is_dir() else baseline[:10]
        for kind in [k for k in args.kinds if k.startswith("ours-") and "@" not in k]:
            args.kinds.append(f"{kind}@{folder}")
            args.names[f"{kind}@{folder}"] = f"{kind}@{label}"
    return args


async def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    with PrivateRedis() as redis:
        rounds, expected = await measure(args, redis)
        report(rounds, expected, args, redis.version)
        if args.memory:
            memory = await memory_per_conversation(redis.url, args.memory)
            print(f"\nRedis memory per conversation with one reminder, {args.memory:,} conversations: "
                  f"{memory.per_conversation:.0f} B (used_memory delta / conversations; goal <= 300 B)")
            print(f"  keys of one conversation: {memory.keys}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
