"""Case files: a query in, expected answer fields out (in the spirit of OpenFisca's YAML tests).

Layout: ``policies/cases/`` mirrors ``policies/rules/`` (one case file per rule file, same path)::

    region: "650100"                 # the rule file this case file covers
    cases:
      - name: 灵活就业 断缴2个月
        query: {region: "650100", type: flexible, on: 2025-06-10, gap_months: 2}
        expect:
          can_backpay: conditional   # a dotted path into Answer.to_json() ...
          late_fee.payer: insured
          notes_include: ["原则上不得补缴"]   # ... or a *_include check (substrings / members)
          notes_exclude: ["下一申报期"]      # ... or text that must not appear in any note
          cost: null                       # a field that must be null (unknown / not given)
          text_exclude: ["如今天缴费"]       # text that must not appear in the Chinese answer
          first_line_include: 未找到本地规定  # what the answer's first line says

Case files are read with the same strict YAML reader as rule files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from policies.dates import parse_month
from policies.engine import RegionLookup, RuleBook
from policies.errors import RuleError
from policies.limits import MAX_GAP_MONTHS
from policies.model import Cause, Gender, InsuranceType, Query
from policies.readers import Ctx, a_date, choice, fields, integer, number, seq, text
from policies.render import render_text
from policies.yamlstrict import YNode, parse_text

CASES_DIR = Path(__file__).resolve().parent / "cases"
QUERY_KEYS = ("region", "type", "on", "gap_months", "gap_since", "gap_days", "cause", "base", "years_paid", "gender")
# *_include checks: expected items must each be found in the answer's list (as substrings of its texts).
INCLUDE_KEYS = {
    "notes_include": "notes",
    "sources_include": "sources",
    "channel_names_include": "channel_details",
    "materials_include": "materials",
    "hotlines_include": "hotlines",
    "condition_include": "condition",
    "trace_files_include": "trace",
    "formula_include": "cost.formula",
    "disagreements_include": "disagreements",
    "text_include": "text",  # the Chinese text answer (policies.render.render_text)
    "first_line_include": "first_line",
}
# *_exclude checks: none of the items may appear in the answer's list / text.
EXCLUDE_KEYS = {"notes_exclude": "notes", "text_exclude": "text", "disagreements_exclude": "disagreements",
                "sources_exclude": "source_ids"}


@dataclass(frozen=True, slots=True)
class Case:
    file: str
    line: int
    name: str
    query: Query
    expect: dict[str, tuple[Any, int]]  # path -> (expected value, line)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def case_paths(root: Path = CASES_DIR) -> list[Path]:
    """Every case file under ``root`` in a stable order."""
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


def load_cases(path: Path, shown: str, regions: RegionLookup) -> tuple[str, list[Case]]:
    """Parse one case file; returns the region code it covers and its cases. RuleError on problems."""
    ctx = Ctx(shown)
    root = parse_text(path.read_text(encoding="utf-8"), shown)
    top = fields(ctx, root, "the case file", ("region", "cases"))
    region = text(ctx, top["region"], "region")
    cases = []
    for node in seq(ctx, top["cases"], "cases"):
        f = fields(ctx, node, "a case", ("name", "query", "expect"))
        q = fields(ctx, f["query"], "query", ("region", "type", "on"), QUERY_KEYS[3:])
        expect = fields(ctx, f["expect"], "expect", (), tuple(f["expect"].value) if f["expect"].kind == "map" else ())
        if not expect:
            raise ctx.fail(f["expect"].line, "the case expects nothing", "add at least one expected field")
        assert f["expect"].key_lines is not None
        cases.append(Case(
            shown, node.line, text(ctx, f["name"], "name"), _query(ctx, q, regions),
            {k: (_plain(v), f["expect"].key_lines[k]) for k, v in expect.items()},
        ))
    return region, cases


def _query(ctx: Ctx, q: dict[str, YNode], regions: RegionLookup) -> Query:
    region_text = str(q["region"].value)
    code = region_text
    if regions.get(region_text) is None and region_text != "000000":
        resolve = getattr(regions, "resolve", None)
        found = resolve(region_text).region if resolve else None
        if found is None:
            raise ctx.fail(q["region"].line, f"unknown region {region_text!r}", "write a code or a unique name")
        code = found.code
    gap_since = None
    if "gap_since" in q:
        try:
            gap_since = parse_month(str(q["gap_since"].value))
        except ValueError as exc:
            raise ctx.fail(q["gap_since"].line, str(exc), "write gap_since as \"YYYY-MM\"") from None
    return Query(
        region_code=code,
        insurance_type=InsuranceType(choice(ctx, q["type"], "type", tuple(t.value for t in InsuranceType))),
        on=a_date(ctx, q["on"], "on"),
        gap_months=integer(ctx, q["gap_months"], "gap_months", 0, MAX_GAP_MONTHS) if "gap_months" in q else None,
        gap_since=gap_since,
        gap_days=integer(ctx, q["gap_days"], "gap_days", 0, 18300) if "gap_days" in q else None,
        cause=Cause(choice(ctx, q["cause"], "cause", ("employer", "personal", "job_change", "unknown"))) if "cause" in q
        else Cause.UNKNOWN,
        monthly_base=number(ctx, q["base"], "base", 1, 10_000_000, "5000") if "base" in q else None,
        years_paid=number(ctx, q["years_paid"], "years_paid", 0, 60, "12") if "years_paid" in q else None,
        gender=Gender(choice(ctx, q["gender"], "gender", ("male", "female"))) if "gender" in q else None,
    )


def _plain(node: YNode) -> Any:
    if node.kind == "map":
        return {k: _plain(v) for k, v in node.value.items()}
    if node.kind == "seq":
        return [_plain(v) for v in node.value]
    return node.value.isoformat() if isinstance(node.value, date) else node.value


def _lookup(data: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return False, None
    return True, data


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(float(expected) - float(actual)) <= 0.01
    return bool(expected == actual)


def check_case(book: RuleBook, case: Case) -> CaseResult:
    """Run one case against the rule book and list what did not match."""
    try:
        answer = book.answer(case.query)
    except (LookupError, ValueError) as exc:
        return CaseResult(case, (f"{case.file}:{case.line}: {case.name}: answer failed: {exc}",))
    data = answer.to_json()
    data["trace"] = [f"{t.file}:{t.line}" for t in answer.trace]
    data["text"] = render_text(answer)
    data["first_line"] = data["text"].split("\n", 1)[0]
    data["source_ids"] = [s.id for s in answer.sources]
    failures = []
    for path, (expected, line) in case.expect.items():
        where = f"{case.file}:{line}: {case.name}: {path}"
        if path in EXCLUDE_KEYS:
            found_in = data[EXCLUDE_KEYS[path]]
            found_in = found_in if isinstance(found_in, list) else [found_in]
            for item in expected if isinstance(expected, list) else [expected]:
                hits = [n for n in found_in if str(item) in n]
                if hits:
                    failures.append(f"{where}: {item!r} should not be in {EXCLUDE_KEYS[path]}, found {hits!r}")
            continue
        if path in INCLUDE_KEYS:
            found, actual = _lookup(data, INCLUDE_KEYS[path])
            if path == "sources_include":
                actual = [s["id"] for s in actual]
            elif path == "channel_names_include":
                actual = [c["name"] for c in actual]
            haystack = actual if isinstance(actual, list) else [actual or ""]
            wanted = expected if isinstance(expected, list) else [expected]
            for item in wanted:
                if not any(str(item) in str(h) for h in haystack):
                    failures.append(f"{where}: {item!r} not found in {haystack!r}")
            continue
        found, actual = _lookup(data, path)
        if not found:
            failures.append(f"{where}: the answer has no field {path!r}")
        elif not _same(expected, actual):
            failures.append(f"{where}: expected {expected!r}, got {actual!r}")
    return CaseResult(case, tuple(failures))


def run_all(book: RuleBook, root: Path = CASES_DIR, display_base: Path | None = None) -> list[CaseResult]:
    """Load and run every case file under ``root``; RuleError if a case file is malformed."""
    results: list[CaseResult] = []
    base = display_base or root.parent.parent
    for path in case_paths(root):
        try:
            shown = path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            shown = str(path)
        _, cases = load_cases(path, shown, book.regions)
        results.extend(check_case(book, c) for c in cases)
    if not results:
        raise RuleError(str(root), 1, "no case files found", "add case files under policies/cases/")
    return results
