"""Command line: ``python -m policies answer|explain|check``.

Exit codes: 0 ok; 1 rule/case check failed (or the rule files do not load); 2 bad input (unknown
region, bad date, bad option) with a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

from policies.cases import CASES_DIR, case_paths, load_cases, run_all
from policies.dates import parse_day, parse_month
from policies.engine import RuleBook, UnknownRegion
from policies.errors import RuleError
from policies.loader import RULES_DIR, load_rule_files
from policies.model import Cause, Gender, InsuranceType, Query
from policies.render import render_text, render_trace


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``answer``, ``explain``, ``check``)."""
    parser = _Parser(prog="python -m policies", description="医保断缴/补缴 rules engine")
    parser.add_argument("--rules", type=Path, default=None, help="rules directory (default: packaged)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, help_text in (("answer", "answer one question"), ("explain", "show the rule trace of one answer")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--region", required=True, help="地区名称、地址或6位行政区划代码")
        p.add_argument("--type", required=True, choices=[t.value for t in InsuranceType], dest="insurance_type")
        gap = p.add_mutually_exclusive_group()
        gap.add_argument("--gap-months", type=int, default=None)
        gap.add_argument("--gap-since", default=None, help="first unpaid month, YYYY-MM")
        gap.add_argument("--gap-days", type=int, default=None, help="gap in days up to --on (e.g. 90)")
        p.add_argument("--cause", choices=["employer", "personal", "job_change"], default=None)
        p.add_argument("--on", "--today", dest="on", default=None, help="date of the question, YYYY-MM-DD (default: today)")
        p.add_argument("--base", type=float, default=None, help="monthly contribution base, yuan")
        p.add_argument("--years-paid", type=float, default=None)
        p.add_argument("--gender", choices=["male", "female"], default=None)
        p.add_argument("--json", action="store_true", help="print Answer.to_json()")
    check = sub.add_parser("check", help="validate every rule file and run every case file")
    check.add_argument("--cases", type=Path, default=None, help="cases directory (default: packaged)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        status = _check(args.rules, args.cases) if args.command == "check" else _answer(args)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at interpreter exit
        return status
    except BrokenPipeError:
        # `… | head` closed the pipe: the reader has what it wanted; exit quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 0
    except UsageError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except RuleError as exc:
        print(f"规则文件错误：{exc}", file=sys.stderr)
        return 1


def _load(rules: Path | None) -> RuleBook:
    from policies.regions import RegionIndex

    return RuleBook(load_rule_files(rules or RULES_DIR), RegionIndex.load())


def _answer(args: argparse.Namespace) -> int:
    try:
        on = parse_day(args.on) if args.on else datetime.now(ZoneInfo("Asia/Shanghai")).date()  # China's today
        gap_since = parse_month(args.gap_since) if args.gap_since else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.gap_months is not None and args.gap_months < 0:
        raise UsageError("--gap-months 不能为负数")
    if args.gap_days is not None and args.gap_days < 0:
        raise UsageError("--gap-days 不能为负数")
    if args.base is not None and args.base <= 0:
        raise UsageError("--base 必须大于0")
    if args.years_paid is not None and not 0 <= args.years_paid <= 60:
        raise UsageError("--years-paid 应在0到60之间")
    book = _load(args.rules)
    code = _region_code(book, args.region)
    query = Query(
        region_code=code,
        insurance_type=InsuranceType(args.insurance_type),
        on=on,
        gap_months=args.gap_months,
        gap_since=gap_since,
        gap_days=args.gap_days,
        cause=Cause(args.cause) if args.cause else Cause.UNKNOWN,
        monthly_base=args.base,
        years_paid=args.years_paid,
        gender=Gender(args.gender) if args.gender else None,
    )
    try:
        answer = book.answer(query)
    except (UnknownRegion, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.command == "explain":
        print(render_trace(answer))
    elif args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render_text(answer))
    return 0


def _region_code(book: RuleBook, text: str) -> str:
    text = text.strip()
    if text == "000000":
        return text
    resolve = getattr(book.regions, "resolve", None)
    if resolve is None:
        if book.regions.get(text) is None:
            raise UsageError(f"未找到地区：{text}")
        return text
    found = resolve(text)
    if found.region is not None:
        if getattr(found, "also", ()):
            names = "、".join(f"{r.full_name or r.name}({r.code})" for r in found.also)
            print(f"按{found.region.full_name or found.region.name}回答；另有同名地区：{names}，如指这些地方请写全称",
                  file=sys.stderr)
        return str(found.region.code)
    if found.candidates:
        names = "、".join(f"{r.full_name or r.name}({r.code})" for r in found.candidates[:6])
        raise UsageError(f"地区“{text}”不明确，可能是：{names}；请写得更具体")
    raise UsageError(f"未找到地区：{text}（请输入省/市/区县名称或6位行政区划代码）")


def _check(rules: Path | None, cases: Path | None) -> int:
    rules_dir = rules or RULES_DIR
    try:
        files = load_rule_files(rules_dir)
    except RuleError as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(f"rules: FAILED ({len(exc.errors)} problem(s))", file=sys.stderr)
        return 1
    from policies.regions import RegionIndex

    regions = RegionIndex.load()
    book = RuleBook(files, regions)
    problems: list[str] = []
    for rf in files:
        if rf.region_code != "000000":
            region = regions.get(rf.region_code)
            if region is None:
                problems.append(f"{rf.path}:1: region {rf.region_code} is not in GB/T 2260; fix the code")
            elif region.name != rf.name:
                problems.append(f"{rf.path}:1: name {rf.name} differs from GB/T 2260 {region.name}; fix the name")
    cases_dir = cases or CASES_DIR
    try:
        results = run_all(book, cases_dir)
        covered = {load_cases(p, str(p), regions)[0] for p in case_paths(cases_dir)}
    except RuleError as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        return 1
    for rf in files:
        if rf.region_code not in covered:
            problems.append(f"{rf.path}:1: no case file covers region {rf.region_code}; add one under policies/cases/")
    failed = [r for r in results if not r.ok]
    for r in failed:
        for f in r.failures:
            print(f, file=sys.stderr)
    for p in problems:
        print(p, file=sys.stderr)
    sys.stderr.flush()
    print(f"rule files: {len(files)} ok; cases: {len(results) - len(failed)} passed, {len(failed)} failed"
          + (f"; {len(problems)} other problem(s)" if problems else ""))
    return 1 if failed or problems else 0
