"""Load time, answers per second and latency of the policy engine, and of the region lookup.

    .venv/bin/python -m benchmarks.policy_bench [--rounds 20]

Prints numbers only. Goals (issue 8): rules load including the region index ≤ 300 ms; an answer
p50 ≤ 200 µs on unique queries over all regions (every query asked once: nothing is kept between
answers, so a repeated query costs the same). A baseline measured in the same process (building one
small dict and reading it back) is printed with each latency as a ratio, so runs on different
machines can be compared. Wall and CPU time are both printed: this machine has two cores shared
with other work, so wall time is the noisier of the two.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from policies import Cause, Gender, InsuranceType, Query, RuleBook
from policies.loader import RULES_DIR, load_rule_files
from policies.regions import RegionIndex

REGION_TEXTS = [
    "乌鲁木齐", "乌市", "新疆乌鲁木齐市天山区", "北京市朝阳区", "朝阳区", "上海", "浙江省宁波市海曙区", "宁波",
    "湖南邵阳", "邵阳市大祥区人大路20号", "广东省珠海市香洲区", "珠海", "山东聊城东昌府区", "烟台芝罘区",
    "湖北宜昌", "武汉市江汉区", "江西景德镇", "辽宁抚顺", "天津", "徐州", "厦门思明区", "广西南宁", "430500",
    "650102", "火星", "長沙市", "长沙县", "Chaoyang",
]


def _queries(count: int, codes: Sequence[str], seed: int = 7) -> list[Query]:
    """``count`` distinct queries over ``codes`` (types, causes, gaps, bases and dates mixed)."""
    rng = random.Random(seed)
    seen: set[Query] = set()
    out = []
    while len(out) < count:
        itype = rng.choice(list(InsuranceType))
        gap = rng.choice([None, *range(0, 61)])
        q = Query(
            region_code=rng.choice(codes),
            insurance_type=itype,
            on=date(rng.randint(2012, 2026), rng.randint(1, 12), rng.randint(1, 28)),
            gap_months=gap,
            cause=rng.choice(list(Cause)),
            monthly_base=rng.choice([None, 4000.0, 6711.0, 12000.0]),
            years_paid=rng.choice([None, 8.0, 15.0, 22.0]) if itype is InsuranceType.RETIREE else None,
            gender=rng.choice([None, Gender.MALE, Gender.FEMALE]) if itype is InsuranceType.RETIREE else None,
        )
        if q not in seen:
            seen.add(q)
            out.append(q)
    return out


def _latencies(fn: Callable[[Any], object], items: Sequence[Any], rounds: int) -> list[float]:
    """Per-call seconds, each call timed on its own."""
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for item in items:
            start = clock()
            fn(item)
            samples.append((clock() - start) / 1e9)
    return samples


def _throughput(fn: Callable[[Any], object], items: Sequence[Any], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for item in items:
            fn(item)
    return rounds * len(items) / (time.perf_counter() - start)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _baseline(item: int) -> object:
    data = {"code": item, "level": "city", "rate": 0.0005}
    return data["code"], data["rate"]


def _report(name: str, samples: list[float], per_sec: float, base_p50: float, goal_us: float | None) -> None:
    p50, p99 = _pct(samples, 0.5) * 1e6, _pct(samples, 0.99) * 1e6
    goal = f"  (goal p50 ≤ {goal_us:g} µs: {'ok' if p50 <= goal_us else 'MISSED'})" if goal_us else ""
    print(f"{name:<22} {per_sec:>11,.0f}/s   p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   "
          f"mean {statistics.fmean(samples) * 1e6:8.1f} µs   p50/baseline {p50 / (base_p50 * 1e6):6.0f}x{goal}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--queries", type=int, default=20000)
    args = parser.parse_args(argv)

    loads, cpus = [], []
    for _ in range(5):
        start, cpu = time.perf_counter(), time.process_time()
        regions = RegionIndex.load()
        files = load_rule_files(RULES_DIR)
        book = RuleBook(files, regions)
        loads.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    load_ms = statistics.median(loads) * 1000
    print(f"rule files: {len(files)}; load region index + all rules: median {load_ms:.1f} ms wall, "
          f"{statistics.median(cpus) * 1000:.1f} ms CPU over 5 loads (min {min(loads) * 1000:.1f} ms)  "
          f"(goal ≤ 300 ms: {'ok' if load_ms <= 300 else 'MISSED'})")

    base_items = list(range(1000))
    base_samples = _latencies(_baseline, base_items, args.rounds)
    base_p50 = max(_pct(base_samples, 0.5), 1e-9)
    print(f"baseline (small dict build + read): p50 {base_p50 * 1e6:.2f} µs")

    codes = ["000000", *(r.code for r in regions)]
    queries = _queries(args.queries, codes)
    kinds = {t: sum(q.insurance_type is t for q in queries) for t in InsuranceType}
    print(f"answer mix: {len(queries)} unique queries over {len(codes)} regions, dates 2012–2026; "
          + ", ".join(f"{k.value} {v}" for k, v in kinds.items()))
    cpu = time.process_time()
    samples = _latencies(book.answer, queries, 1)
    cpu_us = (time.process_time() - cpu) / len(queries) * 1e6
    _report("answer (unique)", samples, len(samples) / sum(samples), base_p50, 200)
    print(f"{'':<22} CPU per answer (process time): {cpu_us:.1f} µs")
    hot = queries[: max(1, len(queries) // 10)]
    _report("answer (repeated)", _latencies(book.answer, hot, args.rounds),
            _throughput(book.answer, hot, args.rounds), base_p50, None)

    texts = REGION_TEXTS * 10
    _report("region resolve", _latencies(regions.resolve, texts, args.rounds),
            _throughput(regions.resolve, texts, args.rounds), base_p50, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
