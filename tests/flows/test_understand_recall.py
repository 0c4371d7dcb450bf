"""Slot recall and false fills on real user questions collected from public Q&A pages.

The questions and what each one states are in `data/real_questions*.yaml` (with their addresses),
annotated by reading them. Recall: of the slots a question states, the share read with the right
value. False fills: of every annotated slot (stated or marked as not stated), the share the reader
filled with a value the question does not state. Goals from the conversation issue: recall >= 90%,
false fills <= 3%.

Measured (2026-11-30): the 60 questions the reader was improved on went from 90.5% recall / 2.6%
false fills to 100% / 0.9%; the 18 held-out questions, collected afterwards and measured before any
change for them, read 94.1% / 3.2% (one price period "一年多少" read as a gap, one "城乡医保" missed;
both fixed in general form afterwards). The remaining false fill is the region index reading
"比如" as 西藏比如县 (policies/regions.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.understand import Understanding, understand
from policies.regions import RegionIndex

DATA = Path(__file__).parent / "data" / "real_questions.yaml"
HELD_OUT = Path(__file__).parent / "data" / "real_questions_heldout.yaml"
TODAY = date(2025, 6, 10)


def _value(u: Understanding, slot: str) -> Any:
    if slot == "region":
        return u.region.name if u.region is not None else None
    if slot == "type":
        return u.insurance_type.value if u.insurance_type is not None else None
    if slot == "gap":
        return u.gap_months
    if slot == "cause":
        return u.cause if u.cause != "unknown" else None
    raise KeyError(slot)


def score(regions: RegionIndex, *paths: Path) -> tuple[float, float, list[str]]:
    """(recall, false-fill rate, misses) over the collected questions."""
    cases = [c for p in paths or (DATA, HELD_OUT) for c in yaml.safe_load(p.read_text(encoding="utf-8"))]
    stated = hits = annotated = false = 0
    misses: list[str] = []
    for case in cases:
        u = understand(case["text"], TODAY, regions)
        for slot, expected in case["expect"].items():
            got = _value(u, slot)
            annotated += 1
            if expected is not None:
                stated += 1
                hits += got == expected
            if got is not None and got != expected:
                false += 1
            if got != expected:
                misses.append(f"{case['text']} {slot}: expected {expected!r}, read {got!r}")
    return hits / stated, false / annotated, misses


@pytest.fixture(scope="module")
def regions() -> RegionIndex:
    return RegionIndex.load()


def test_every_question_keeps_its_source_address() -> None:
    cases = [c for p in (DATA, HELD_OUT) for c in yaml.safe_load(p.read_text(encoding="utf-8"))]
    assert len(cases) >= 70
    assert all(str(c["url"]).startswith("http") and c["expect"] for c in cases)


def test_slot_recall_and_false_fills_on_real_questions(regions: RegionIndex) -> None:
    recall, false_fills, misses = score(regions)
    assert recall >= 0.90, "\n".join(misses)
    assert false_fills <= 0.03, "\n".join(misses)


if __name__ == "__main__":  # python -m tests.flows.test_understand_recall prints the figures
    index = RegionIndex.load()
    for name, paths in (("tuned", (DATA,)), ("held out", (HELD_OUT,)), ("all", (DATA, HELD_OUT))):
        r, f, m = score(index, *paths)
        print(f"{name}: recall {r:.1%}, false fills {f:.1%}")
    print("\n".join(score(index)[2]))
