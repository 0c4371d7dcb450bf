"""Small typed readers of YAML nodes, shared by rule files and case files: each refuses a wrong
value with a RuleError naming the file, the line, what is wrong and how to fix it."""

from __future__ import annotations

from datetime import date

from policies.errors import RuleError
from policies.yamlstrict import YNode


class Ctx:
    """Parsing context: the file being read (for error messages)."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, line: int, problem: str, fix: str) -> RuleError:
        return RuleError(self.file, line, problem, fix)


def fields(ctx: Ctx, node: YNode, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
           ) -> dict[str, YNode]:
    """The keys of a mapping node, refusing unknown and missing ones."""
    if node.kind != "map":
        raise ctx.fail(node.line, f"{what} must be a mapping (key: value), got {_shown(node)}",
                       f"write {what} as 'key: value' lines with keys {', '.join(required + optional)}")
    allowed = required + optional
    assert node.key_lines is not None
    for key in node.value:
        if key not in allowed:
            raise ctx.fail(node.key_lines[key], f"unknown key {key!r} in {what}",
                           f"use one of: {', '.join(allowed)} (check the spelling)")
    for key in required:
        if key not in node.value:
            raise ctx.fail(node.line, f"{what} lacks the key {key!r}", f"add '{key}: ...'")
    return dict(node.value)


def _shown(node: YNode) -> str:
    if node.kind == "scalar":
        return f"{type(node.value).__name__} {node.value!r}"
    return "a list" if node.kind == "seq" else "a mapping"


def text(ctx: Ctx, node: YNode, what: str) -> str:
    if node.kind != "scalar" or not isinstance(node.value, str) or not node.value.strip():
        raise ctx.fail(node.line, f"{what} must be non-empty text, got {_shown(node)}", "write it as text")
    return node.value.strip()


def integer(ctx: Ctx, node: YNode, what: str, lo: int = 0, hi: int = 10_000) -> int:
    value = node.value
    if node.kind != "scalar" or isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ctx.fail(node.line, f"{what} must be a whole number from {lo} to {hi}, got {_shown(node)}",
                       f"write a whole number, e.g. {max(lo, min(hi, 3))}")
    return value


def number(ctx: Ctx, node: YNode, what: str, lo: float, hi: float, example: str) -> float:
    value = node.value
    ok = node.kind == "scalar" and not isinstance(value, bool) and isinstance(value, int | float)
    if not ok or not lo <= float(value) <= hi:
        raise ctx.fail(node.line, f"{what} must be a number from {lo:g} to {hi:g}, got {_shown(node)}",
                       f"write a plain number, e.g. {example}")
    return float(value)


def boolean(ctx: Ctx, node: YNode, what: str) -> bool:
    if node.kind != "scalar" or not isinstance(node.value, bool):
        raise ctx.fail(node.line, f"{what} must be true or false, got {_shown(node)}", "write true or false")
    return bool(node.value)


def a_date(ctx: Ctx, node: YNode, what: str) -> date:
    if node.kind != "scalar" or not isinstance(node.value, date):
        raise ctx.fail(node.line, f"{what} must be a date, got {_shown(node)}",
                       "write a real calendar date as YYYY-MM-DD (unquoted)")
    return node.value


def choice(ctx: Ctx, node: YNode, what: str, options: tuple[str, ...]) -> str:
    if node.kind != "scalar" or node.value not in options:
        raise ctx.fail(node.line, f"{what} must be one of {', '.join(options)}, got {_shown(node)}",
                       f"write one of: {', '.join(options)}")
    return str(node.value)


def seq(ctx: Ctx, node: YNode, what: str) -> list[YNode]:
    if node.kind != "seq" or not node.value:
        raise ctx.fail(node.line, f"{what} must be a non-empty list, got {_shown(node)}",
                       "write it as a YAML list ('- item' lines or [a, b])")
    return list(node.value)
