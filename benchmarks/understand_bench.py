"""Microseconds per message of `flows.understand.understand` on typical short chat messages.

    .venv/bin/python -m benchmarks.understand_bench [--rounds 7] [--baseline REV] [--check]

Prints µs per message for a fixed list of messages a user sends in a conversation, and, like
`benchmarks.policy_bench`, the ratio to a trivial baseline (building one small dict) measured in the
same process, so runs on different machines compare.

`--baseline REV` also loads `flows/understand.py`, `flows/nlu/*.py` and `policies/regions.py` as they
were at git revision REV (into a private package, next to the current code) and times both
interleaved: each round times every message with one version, then the other, in alternating
order; per message the fastest round counts (a noisy moment on a shared machine only slows a
round). `--check` then also compares what both versions return on a large corpus (every string in
the understand, dialog and region tests, plus random slices and joins of them) and fails on any
difference: `understand` on three days, and the region index's `find_in_text` and `resolve`.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.script import SCRIPT, TODAY
from flows.understand import understand
from policies.regions import RegionIndex

ROOT = Path(__file__).resolve().parent.parent
# The conversation the benchmarks play (benchmarks/script.py) (so both time the same messages), then a few more
# short answers and two messages that say several things at once.
MESSAGES = tuple(dict.fromkeys([*SCRIPT, "在哪办", "是的", "公司上个月没给我交医保", "乌鲁木齐灵活就业断了4个月还能补吗"]))
# The code of `understand`, loaded from a git revision for the A/B comparison.
_BASELINE_PATHS = ("flows/understand.py", "flows/nlu/", "policies/regions.py")

Understand = Callable[[str, date, Any], Any]


def load_baseline(rev: str, into: Path) -> tuple[Understand, Any]:
    """`understand` and a loaded RegionIndex as they were at git revision `rev`."""
    package = "understand_at_" + "".join(ch if ch.isalnum() else "_" for ch in rev)
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, *_BASELINE_PATHS],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    for path in listed:
        if not path.endswith(".py"):
            continue
        source = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        # Same code under another package name; policies.model stays shared, so results compare.
        source = source.replace("flows.nlu", f"{package}.nlu").replace(
            "policies.regions", f"{package}.regions"
        )
        target = into / package / path.removeprefix("flows/").removeprefix("policies/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    (into / package / "__init__.py").touch()
    (into / package / "nlu" / "__init__.py").touch()
    sys.path.insert(0, str(into))
    module = importlib.import_module(f"{package}.understand")
    regions = importlib.import_module(f"{package}.regions").RegionIndex.load()
    return module.understand, regions


def corpus(count: int, seed: int = 1234) -> list[str]:
    """Every string in the understand, dialog and region tests, then random slices and joins of them."""
    literals: list[str] = []
    tests = ROOT / "tests"
    paths = [*tests.glob("flows/test_understand*.py"), *tests.glob("flows/test_dialog*.py")]
    for path in sorted([*paths, tests / "policies" / "test_regions.py"]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.append(node.value)
    literals = list(dict.fromkeys([*MESSAGES, *literals]))
    rng = random.Random(seed)
    out = list(literals)
    while len(out) < count:
        a, b = rng.choice(literals), rng.choice(literals)
        pick = rng.random()
        if pick < 0.3:
            i, j = sorted((rng.randrange(len(a) + 1), rng.randrange(len(a) + 1)))
            out.append(a[i:j])
        elif pick < 0.6:
            out.append(a + rng.choice(["", "，", "。", " ", "?", "\n"]) + b)
        elif pick < 0.8:
            out.append(a[: rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1) :])
        else:
            joined = "".join(rng.choice(literals) for _ in range(rng.randint(2, 4)))
            start = rng.randrange(len(joined) + 1)
            out.append(joined[start : start + rng.randint(1, 40)])
    return out


def check(new: Understand, new_regions: Any, old: Understand, old_regions: Any, texts: Sequence[str]) -> int:
    """Number of results on which the two versions disagree; prints the first few.

    Compared per text: `understand` on three days, and the region index's `find_in_text` and
    `resolve` (the region scan is shared with field lookup, whose answers must not move either).
    """
    days = (TODAY, date(2025, 1, 5), date(2024, 12, 31))
    differences = 0

    def same(what: str, a: Any, b: Any) -> None:
        nonlocal differences
        if a != b:
            differences += 1
            if differences <= 5:
                print(f"DIFFERENT {what}:\n  baseline {a}\n  current  {b}")

    for text in texts:
        for day in days:
            same(f"understand({text!r}, {day})", asdict(old(text, day, old_regions)), asdict(new(text, day, new_regions)))
        for method in ("find_in_text", "resolve"):
            a, b = getattr(old_regions, method)(text), getattr(new_regions, method)(text)
            same(f"{method}({text!r})", a and asdict(a), b and asdict(b))
    return differences


def _per_message(fn: Understand, regions: Any, text: str, calls: int) -> float:
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(calls):
        fn(text, TODAY, regions)
    return (clock() - start) / calls / 1000


def _dict_baseline(calls: int) -> float:
    clock = time.perf_counter_ns
    start = clock()
    for item in range(calls):
        data = {"code": item, "level": "city", "rate": 0.0005}
        _ = data["code"], data["rate"]
    return (clock() - start) / calls / 1000


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the fastest counts")
    parser.add_argument("--calls", type=int, default=2000, help="calls per message per round")
    parser.add_argument("--baseline", metavar="REV", help="git revision to compare against")
    parser.add_argument("--check", action="store_true", help="with --baseline: compare outputs")
    parser.add_argument("--corpus", type=int, default=20000, help="texts for --check")
    args = parser.parse_args(argv)

    regions = RegionIndex.load()
    versions: dict[str, tuple[Understand, Any]] = {"current": (understand, regions)}
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            versions = {"baseline": load_baseline(args.baseline, Path(tmp)), **versions}
        if args.check:
            if not args.baseline:
                parser.error("--check needs --baseline REV")
            texts = corpus(args.corpus)
            start = time.perf_counter()
            differences = check(understand, regions, *versions["baseline"], texts)
            print(f"check: {len(texts)} texts against {args.baseline}: {differences} differences "
                  f"({time.perf_counter() - start:.1f} s)")
            if differences:
                return 1

        for fn, index in versions.values():  # warm up (first calls fill caches, e.g. cn2an's)
            for text in MESSAGES * 50:
                fn(text, TODAY, index)
        best: dict[str, dict[str, float]] = {name: {} for name in versions}
        dict_base = min(_dict_baseline(args.calls * 10) for _ in range(args.rounds))
        names = list(versions)
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else reversed(names):
                fn, index = versions[name]
                for text in MESSAGES:
                    us = _per_message(fn, index, text, args.calls)
                    best[name][text] = min(best[name].get(text, float("inf")), us)

    print(f"dict baseline: {dict_base:.3f} µs; best of {args.rounds} rounds x {args.calls} calls per message")
    header = "".join(f"{name:>12}" for name in names)
    print(f"{'message':<34}{header}" + ("   current/baseline" if args.baseline else ""))
    for text in MESSAGES:
        row = "".join(f"{best[name][text]:10.1f}µs" for name in names)
        ratio = f"   {best['current'][text] / best['baseline'][text]:6.2f}" if args.baseline else ""
        print(f"{text:<{34 - _wide(text)}}{row}{ratio}")
    means = {name: statistics.fmean(best[name].values()) for name in names}
    row = "".join(f"{means[name]:10.1f}µs" for name in names)
    ratio = f"   {means['current'] / means['baseline']:6.2f}" if args.baseline else ""
    print(f"{'mean':<34}{row}{ratio}")
    for name in names:
        print(f"{name}: mean {means[name]:.1f} µs per message = {means[name] / dict_base:.0f}x the dict baseline")
    return 0


def _wide(text: str) -> int:
    """Columns beyond one per character that a terminal gives wide (CJK) characters."""
    return sum(1 for ch in text if ord(ch) > 0x2E80)


if __name__ == "__main__":
    raise SystemExit(main())
