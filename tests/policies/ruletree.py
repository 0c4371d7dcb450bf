"""Helpers to write small rule trees into a temporary directory (for loader/engine tests)."""

from __future__ import annotations

from pathlib import Path

NATIONAL = """\
region: "000000"
name: 全国
level: national
sources:
  law_86:
    id: "law:社会保险法#86"
    title: 《中华人民共和国社会保险法》第八十六条
    confidence: official
employee:
  late_fee_daily_rate:
    - since: 2011-07-01
      value: 0.0005
      sources: [law_86]
"""

# A valid city file; the line numbers below are used by the tests (keep them stable).
CITY = """\
region: "650100"
name: 乌鲁木齐市
level: city
sources:
  s004:
    id: "seed:004_278633159ec3df58"
    title: 2025新疆乌鲁木齐职工医保断缴怎么补交
    confidence: content_site
employee:
  late_fee_daily_rate:
    - since: 2025-03-18
      value: 0.0005
      sources: [s004]
"""
CITY_PATH = "65-xinjiang/650100-urumqi.yaml"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root/rules`` and return that directory."""
    rules = root / "rules"
    for rel, text in files.items():
        path = rules / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return rules


def replace_line(text: str, number: int, new: str) -> str:
    """``text`` with its 1-based line ``number`` replaced by ``new`` (which may hold several lines)."""
    lines = text.splitlines()
    lines[number - 1] = new
    return "\n".join(lines) + "\n"
