"""Microseconds per message of `flows.understand.understand`, beside a whole dialog step.

    .venv/bin/python -m benchmarks.understand_bench [--rounds 7]

Reading a message is one part of a turn; this prints both figures from the same process so the
share is visible (a Telegram round trip adds milliseconds more). Per message the fastest of
`--rounds` rounds counts: on a shared 2-core machine a noisy moment only slows a round.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from benchmarks.turns import SCRIPT, TODAY
from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent
from flows.state import ConversationState
from flows.understand import understand

MESSAGES = tuple(dict.fromkeys([*SCRIPT, "在哪办", "是的", "公司上个月没给我交医保", "乌鲁木齐灵活就业断了4个月还能补吗"]))


def _best_us(fn: Callable[[], object], rounds: int, repeat: int = 50) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    dialog = GapDialog.create()
    regions = dialog.regions
    state = ConversationState.loads(b'{"s":1,"t":"answered","v":{"region":"650100","insurance_type":"flexible",'
                                    b'"gap_months":4},"a":1}')
    read, step = [], []
    for text in MESSAGES:
        event = InEvent("bench", "b", "c", "u", ChatKind.PRIVATE, "1", text=text)
        read.append(_best_us(lambda t=text: understand(t, TODAY, regions), args.rounds))
        step.append(_best_us(lambda e=event: dialog.step(ConversationState.loads(state.dumps()), e, TODAY),
                             args.rounds, repeat=10))
    print(f"messages: {len(MESSAGES)}; fastest of {args.rounds} rounds each; machine: 2 cores, shared")
    print(f"understand(): median {statistics.median(read):.1f} µs/message, max {max(read):.1f}")
    print(f"dialog step (understand + engine + render): median {statistics.median(step):.1f} µs, "
          f"max {max(step):.1f}")
    print(f"understand share of a step: {statistics.median(read) / statistics.median(step):.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
