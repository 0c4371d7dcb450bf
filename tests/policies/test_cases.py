"""Every case file under policies/cases runs as one pytest case per YAML case."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies import RuleBook
from policies.cases import CASES_DIR, Case, case_paths, check_case, load_cases
from policies.loader import RULES_DIR, load_rule_files
from policies.regions import RegionIndex

_REGIONS = RegionIndex.load()
_ROOT = CASES_DIR.parent.parent


def _all_cases() -> list[Case]:
    out: list[Case] = []
    for path in case_paths():
        out.extend(load_cases(path, path.relative_to(_ROOT).as_posix(), _REGIONS)[1])
    return out


CASES = _all_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{Path(c.file).stem}:{c.line}" for c in CASES])
def test_case(book: RuleBook, case: Case) -> None:
    result = check_case(book, case)
    assert result.ok, "\n".join(result.failures)


def test_every_rule_file_has_a_case_file() -> None:
    covered = {load_cases(p, str(p), _REGIONS)[0] for p in case_paths()}
    for rf in load_rule_files(RULES_DIR):
        assert rf.region_code in covered, f"{rf.path} has no case file"


def test_case_files_mirror_rule_files() -> None:
    rules = {p.relative_to(RULES_DIR).as_posix() for p in RULES_DIR.rglob("*.yaml")}
    cases = {p.relative_to(CASES_DIR).as_posix() for p in case_paths()}
    assert rules == cases


def test_a_wrong_expectation_is_reported_with_file_and_line(book: RuleBook, tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml"
    bad.write_text(
        'region: "650100"\ncases:\n  - name: wrong on purpose\n'
        "    query: {region: \"650100\", type: flexible, on: 2025-06-10, gap_months: 2}\n"
        "    expect:\n      can_backpay: \"no\"\n      nonsense_field: 1\n",
        encoding="utf-8",
    )
    _, cases = load_cases(bad, "x.yaml", _REGIONS)
    result = check_case(book, cases[0])
    assert not result.ok
    assert result.failures[0].startswith("x.yaml:6: wrong on purpose: can_backpay: expected 'no', got 'conditional'")
    assert "x.yaml:7" in result.failures[1] and "no field" in result.failures[1]
