"""The slots of the conversation, declared once (as Rasa declares them in its domain).

Each slot says its kind, its range or choices with their Chinese labels, the question that asks
for it, its buttons, its button/deep-link letter and whether it is personal. Parsing a bare reply,
validating a value from a button or a link, and echoing what was understood are generic over this
table: adding a slot is one `SlotSpec` here (and, if the engine takes it, one line in
`flows.advisor.query_from_slots`).

Button payloads are "<letter>:<value>" ("t:flexible") so they fit Telegram's 64-byte limit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flows.messages import Button
from flows.texts import CAUSE_LABELS, GENDER_LABELS, TYPE_LABELS
from policies.limits import MAX_BASE, MAX_GAP_MONTHS, MAX_YEARS_PAID, MIN_BASE

Kind = Literal["choice", "months", "years", "money", "region"]
Rows = tuple[tuple[Button, ...], ...]


def _b(label: str, payload: str) -> Button:
    return Button(label=label, payload=payload)


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """One slot: what it holds, how it is asked, and how a short reply fills it."""

    name: str
    kind: Kind
    question: str
    hint: str  # shown when a reply could not be read
    letter: str | None = None  # button payload prefix ("t:flexible"); the deep-link key letter
    labels: Mapping[str, str] = field(default_factory=dict)  # choices: value -> Chinese label
    low: float = 0
    high: float = 0
    echo: str = "{label}"  # how the value is echoed back ("断缴{value}个月")
    buttons: Rows = ()
    personal: bool = False  # not asked in a group chat (offered in private instead)
    skippable: bool = False  # "不清楚，跳过" is accepted; the answer is then less precise

    def validate(self, value: Any) -> Any | None:
        """The value in its stored form when it is valid for this slot (buttons and links can be
        forged), else None."""
        if self.kind == "choice":
            return value if isinstance(value, str) and value in self.labels else None
        if self.kind == "region":
            return value if isinstance(value, str) and value.isdigit() and len(value) == 6 else None
        number = _number(value)
        if number is None or not self.low <= number <= self.high:
            return None
        if self.kind == "months":  # whole months only
            return int(number) if number == int(number) else None
        return number

    def label(self, value: Any) -> str:
        """The Chinese echo of a value ("断缴5个月", "单位原因")."""
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return self.echo.format(value=shown, label=self.labels.get(str(value), shown))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\d{1,9}(?:\.\d{1,2})?", value):
        return float(value)
    return None


SKIP = "不清楚，跳过"

SLOTS: tuple[SlotSpec, ...] = (
    SlotSpec(
        "region", "region",
        "请问您在哪个城市（或区县）参保？可以直接输入，比如“乌鲁木齐”“北京朝阳区”。",
        "没能识别这个地区。请输入城市或区县名称，例如“乌鲁木齐”“宁波”“北京朝阳区”。",
        letter="r",
        buttons=((_b("北京", "r:110000"), _b("上海", "r:310000"), _b("乌鲁木齐", "r:650100")),),
    ),
    SlotSpec(
        "insurance_type", "choice",
        "您参加的是哪种医保？",
        "请选择医保类型，或直接说“单位交的职工医保”“灵活就业（自己交）”“居民医保/新农合”“领失业金”“快退休了”。",
        letter="t", labels=TYPE_LABELS,
        buttons=(
            (_b("单位职工医保", "t:employee"), _b("灵活就业（自己交）", "t:flexible")),
            (_b("城乡居民医保/新农合", "t:resident"), _b("领失业金期间", "t:unemployed")),
            (_b("退休/临近退休，年限不够", "t:retiree"),),
        ),
    ),
    SlotSpec(
        "gap_months", "months",
        "断缴多久了？可以说“3个月”“半年”，或者“去年10月开始没交”。",
        "没能读出断缴时长。请说“几个月”或“从哪个月开始没交”，例如“4个月”“2025年10月开始”。",
        letter="g", low=1, high=MAX_GAP_MONTHS, echo="断缴{value}个月", personal=True, skippable=True,
        buttons=(
            (_b("1个月", "g:1"), _b("2个月", "g:2"), _b("3个月", "g:3")),
            (_b("4–6个月", "g:5"), _b("半年到一年", "g:9"), _b("一年以上", "g:18")),
            (_b(SKIP, "skip:gap_months"),),
        ),
    ),
    SlotSpec(
        "cause", "choice",
        "断缴是什么原因？",
        "请选择：单位没给交（漏缴、欠缴、停缴），换工作/离职的空档，还是自己没交。",
        letter="c", labels=CAUSE_LABELS, personal=True, skippable=True,
        buttons=(
            (_b("单位没给交", "c:employer"), _b("换工作/离职", "c:job_change")),
            (_b("自己没交", "c:personal"), _b("不清楚", "skip:cause")),
        ),
    ),
    SlotSpec(
        "years_paid", "years",
        "到目前为止，职工医保一共交了多少年？（例如“18年”）",
        "请输入已缴职工医保的年数，例如“18年”或“18”。",
        letter="y", high=MAX_YEARS_PAID, echo="已缴{value}年", personal=True,
    ),
    SlotSpec(
        "gender", "choice",
        "您的性别是？（不少地方男女要求的缴费年限不同）",
        "请选择“男”或“女”。",
        letter="x", labels=GENDER_LABELS, personal=True,
        buttons=((_b("男", "x:male"), _b("女", "x:female")),),
    ),
    SlotSpec(
        "monthly_base", "money",
        "知道自己的月缴费基数吗？知道的话可以算得更准（例如“5000”）；不清楚就按当地标准估算。",
        "请输入月缴费基数（元），例如“5000”，或点“不清楚，跳过”。",
        letter="b", low=MIN_BASE, high=MAX_BASE, echo="缴费基数{value}元", personal=True, skippable=True,
        buttons=((_b(SKIP, "skip:monthly_base"),),),
    ),
)

# What travels with gap_months, as the message said it: the first unpaid month ("YYYY-MM"), the
# months a loose gap can mean ([low, high]), and the days when it was said in days (the engine takes
# them as days: 宜昌 counts 60/61 and 180/181 days; "N多天" is N+1, the least it means, with a range
# of months), and gap_ended (true: paying resumed - a new job, "又交上了" - so the gap is its months,
# never counted up to today; echoed "已恢复缴费"). A new gap that does not bring one clears it.
GAP_DETAILS = ("gap_since", "gap_range", "gap_days", "gap_ended")
# What travels with years_paid: the years a loosely said figure can mean ("交了快20年": [19, 20]).
# It may stay without years_paid: near the local requirement the figure is not used and the exact
# years are asked (`flows.dialog.years`).
YEARS_DETAILS = ("years_range",)

SLOT_SPECS: dict[str, SlotSpec] = {spec.name: spec for spec in SLOTS}
BY_LETTER: dict[str, SlotSpec] = {spec.letter: spec for spec in SLOTS if spec.letter}
PERSONAL_SLOTS = frozenset(spec.name for spec in SLOTS if spec.personal)
SKIPPABLE_SLOTS = frozenset(spec.name for spec in SLOTS if spec.skippable)

# Order in which core slots are asked; extra slots follow as the engine requests them.
CORE_ORDER = ("region", "insurance_type", "gap_months", "cause")
# Extra inputs worth a question before answering; a monthly base is not (the answer comes first,
# with a button to refine the cost).
ASKABLE_EXTRAS = ("years_paid", "gender")

# The unit a bare number may carry, per slot kind, and the factor to the slot's unit.
_BARE_NUMBER = re.compile(r"^\s*(\d{1,7}(?:\.\d{1,2})?)\s*(元|块|年|个月|月)?\s*$")
_UNITS: dict[str, dict[str, float]] = {
    "months": {"": 1, "个月": 1, "月": 1, "年": 12},
    "years": {"": 1, "年": 1},
    "money": {"": 1, "元": 1, "块": 1},
}


def parse_bare_reply(slot: str, text: str) -> Any | None:
    """Read a reply that is only a number, in the context of the slot being asked.

    "4" answering "断缴多久了" means 4 months; "18" answering the years question
    means 18 years. Anything else returns None and is left to the text understander.
    """
    spec = SLOT_SPECS.get(slot)
    match = _BARE_NUMBER.match(unicodedata.normalize("NFKC", text))
    if spec is None or match is None:
        return None
    factor = _UNITS.get(spec.kind, {}).get(match.group(2) or "")
    if factor is None:
        return None
    value = float(match.group(1)) * factor
    if spec.kind == "months":
        value = float(round(value)) if value >= 1 else value
    return spec.validate(value)


def new_gap(slots: dict[str, Any], updates: Mapping[str, Any]) -> None:
    """A new gap in months (or new years paid): drop the details of the old one that the new one
    does not bring."""
    for slot, details in (("gap_months", GAP_DETAILS), ("years_paid", YEARS_DETAILS)):
        if slot in updates:
            for name in details:
                if name not in updates:
                    slots.pop(name, None)


def loose_years(values: Mapping[str, Any]) -> tuple[float, float] | None:
    """The years a loosely said figure can mean ("交了快20年": (19, 20)), when the slots hold them."""
    loose = values.get("years_range")
    if isinstance(loose, list) and len(loose) == 2 and all(isinstance(v, int | float) for v in loose):
        return float(loose[0]), float(loose[1])
    return None


def days_label(values: Mapping[str, Any]) -> str:
    """A gap said in days, as said: "90天", or "180多天" (stored as 181 with a range of months)."""
    days = int(values["gap_days"])
    return f"{days - 1}多天" if values.get("gap_range") else f"{days}天"


def describe(values: Mapping[str, Any], region_name: str | None = None) -> str:
    """A short Chinese echo of slot values, in table order, so a misreading is easy to spot."""
    parts: list[str] = []
    for spec in SLOTS:
        value = values.get(spec.name)
        if value is None or value == "":
            continue
        if spec.name == "region":
            if region_name:
                parts.append(region_name)
        elif spec.name == "gap_months" and values.get("gap_days"):
            parts.append("断缴" + days_label(values))
        elif spec.name == "gap_months" and values.get("gap_since"):
            year, month = str(values["gap_since"]).split("-")[:2]
            parts.append(f"{year}年{int(month)}月起断缴")
        elif spec.name == "gap_months" and isinstance(loose := values.get("gap_range"), list) and len(loose) == 2:
            parts.append(f"断缴约{loose[0]}–{loose[1]}个月")
        elif spec.name == "years_paid" and (years := loose_years(values)) is not None:
            parts.append(f"已缴约{years[0]:g}–{years[1]:g}年")
        else:
            parts.append(spec.label(value))
        if spec.name == "gap_months" and values.get("gap_ended"):
            parts[-1] += "（已恢复缴费）"
    return "，".join(parts)


def parse_button(payload: str) -> tuple[str, str] | None:
    """Split a button payload "t:flexible" into (kind, value); None when malformed."""
    kind, sep, value = payload.partition(":")
    if not sep or not kind or not value or len(payload) > 64:
        return None
    return kind, value
