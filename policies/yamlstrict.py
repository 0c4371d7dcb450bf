"""Strict YAML reading that keeps line numbers.

PyYAML's node API (``compose``) is used instead of ``safe_load`` so every value keeps the line it was
written on and duplicate keys can be refused (``safe_load`` silently keeps the last one). Only
``true``/``false`` are booleans: ``yes``/``no``/``on``/``off`` stay text, so a verdict written as
``yes`` is not turned into ``True`` behind the author's back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from policies.errors import RuleError

# libyaml's C parser when PyYAML was built with it (about 4x faster to compose); same nodes and marks.
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader (C parser where available) with YAML 1.2-style booleans (only true/false)."""


# Copy the resolver table, then drop the YAML 1.1 bool resolver and add a 1.2-style one.
StrictLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class YNode:
    """One YAML value with the (1-based) line it starts on.

    ``value`` is ``dict[str, YNode]`` for a mapping, ``list[YNode]`` for a sequence, else a plain
    scalar (str, int, float, bool, date or None).
    """

    value: Any
    line: int
    kind: str  # "map" | "seq" | "scalar"
    key_lines: dict[str, int] | None = None  # for maps: line of each key


def parse_text(text: str, file: str) -> YNode:
    """Parse one YAML document strictly; raise RuleError naming the file and line on any problem."""
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw:
            raise RuleError(file, number, "tab character in the file", "indent with spaces only, never tabs")
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RuleError(file, 1, "the file is empty", "write the rule file's mapping (region, level, ...)")
        return _convert(node, loader, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise RuleError(file, line, f"broken YAML: {problem}", "fix the YAML syntax at this line") from None
    except yaml.YAMLError as exc:
        raise RuleError(file, 1, f"broken YAML: {exc}", "fix the YAML syntax") from None
    finally:
        loader.dispose()


def _convert(node: yaml.Node, loader: StrictLoader, file: str) -> YNode:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, YNode] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise RuleError(file, key_line, "unsupported key (merge key or complex key)",
                                "write each key out as plain text")
            key = _scalar(key_node, loader, file)
            if not isinstance(key, str):
                raise RuleError(file, key_line, f"key {key!r} is not text",
                                "quote the key, e.g. \"2025\": ...")
            if key in out:
                raise RuleError(file, key_line, f"duplicate key {key!r} (first on line {key_lines[key]})",
                                "remove one of the two or merge them")
            key_lines[key] = key_line
            out[key] = _convert(value_node, loader, file)
        return YNode(out, line, "map", key_lines)
    if isinstance(node, yaml.SequenceNode):
        return YNode([_convert(item, loader, file) for item in node.value], line, "seq")
    assert isinstance(node, yaml.ScalarNode)
    return YNode(_scalar(node, loader, file), line, "scalar")


def _scalar(node: yaml.ScalarNode, loader: StrictLoader, file: str) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, yaml.constructor.ConstructorError) as exc:
        line = node.start_mark.line + 1
        if node.tag == "tag:yaml.org,2002:timestamp":
            raise RuleError(file, line, f"bad date {node.value!r} ({exc})",
                            "write a real calendar date as YYYY-MM-DD") from None
        raise RuleError(file, line, f"bad value {node.value!r} ({exc})", "fix or quote the value") from None
