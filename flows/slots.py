"""Slot definitions: what the conversation may ask, how it asks, and how a direct reply fills it.

A slot is asked one at a time with a short question, buttons for closed choices,
and free text always accepted. Button payloads are short ("t:flexible") so they
fit Telegram's 64-byte callback limit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flows.messages import Button

# Slots that describe the person rather than the place or scheme: in a group chat
# the bot does not ask for these; it offers to continue in private instead.
PERSONAL_SLOTS = frozenset({"gap_months", "cause", "years_paid", "gender", "monthly_base"})

# Slots a user may decline ("不清楚，跳过"); the answer is then less precise.
SKIPPABLE_SLOTS = frozenset({"monthly_base", "cause", "gap_months"})


@dataclass(frozen=True, slots=True)
class SlotSpec:
    name: str
    question: str
    hint: str  # shown when a reply could not be read
    buttons: tuple[tuple[Button, ...], ...] = ()


def _b(label: str, payload: str) -> Button:
    return Button(label=label, payload=payload)


SLOT_SPECS: dict[str, SlotSpec] = {
    "region": SlotSpec(
        "region",
        "请问您在哪个城市（或区县）参保？可以直接输入，比如“乌鲁木齐”“北京朝阳区”。",
        "没能识别这个地区。请输入城市或区县名称，例如“乌鲁木齐”“宁波”“北京朝阳区”。",
        ((_b("北京", "r:110000"), _b("上海", "r:310000"), _b("乌鲁木齐", "r:650100")),),
    ),
    "insurance_type": SlotSpec(
        "insurance_type",
        "您参加的是哪种医保？",
        "请选择医保类型，或直接说“单位交的职工医保”“灵活就业”“居民医保/新农合”“领失业金”“快退休了”。",
        (
            (_b("单位职工医保", "t:employee"), _b("灵活就业（自己交）", "t:flexible")),
            (_b("城乡居民医保/新农合", "t:resident"), _b("领失业金期间", "t:unemployed")),
            (_b("退休/临近退休，年限不够", "t:retiree"),),
        ),
    ),
    "gap_months": SlotSpec(
        "gap_months",
        "断缴多久了？可以说“3个月”“半年”，或者“去年10月开始没交”。",
        "没能读出断缴时长。请说“几个月”或“从哪个月开始没交”，例如“4个月”“2025年10月开始”。",
        (
            (_b("1个月", "g:1"), _b("2个月", "g:2"), _b("3个月", "g:3")),
            (_b("4–6个月", "g:5"), _b("半年到一年", "g:9"), _b("一年以上", "g:18")),
            (_b("不清楚，跳过", "skip:gap_months"),),
        ),
    ),
    "cause": SlotSpec(
        "cause",
        "断缴是什么原因？",
        "请选择：单位没交（漏缴、欠缴、停缴），还是个人原因（换工作、自己没交）。",
        (
            (_b("单位没交", "c:employer"), _b("个人原因/换工作", "c:personal")),
            (_b("不清楚", "skip:cause"),),
        ),
    ),
    "years_paid": SlotSpec(
        "years_paid",
        "到目前为止，职工医保一共交了多少年？（例如“18年”）",
        "请输入已缴职工医保的年数，例如“18年”或“18”。",
    ),
    "gender": SlotSpec(
        "gender",
        "您的性别是？（不少地方男女要求的缴费年限不同）",
        "请选择“男”或“女”。",
        ((_b("男", "x:male"), _b("女", "x:female")),),
    ),
    "monthly_base": SlotSpec(
        "monthly_base",
        "知道自己的月缴费基数吗？知道的话可以算得更准（例如“5000”）；不清楚就按当地标准估算。",
        "请输入月缴费基数（元），例如“5000”，或点“不清楚，跳过”。",
        ((_b("不清楚，跳过", "skip:monthly_base"),),),
    ),
}

# Order in which core slots are asked; extra slots follow as the engine requests them.
CORE_ORDER = ("region", "insurance_type", "gap_months", "cause")

_BARE_NUMBER = re.compile(r"^\s*(\d{1,7}(?:\.\d{1,2})?)\s*(元|块|年|个月|月)?\s*$")


def parse_bare_reply(slot: str, text: str) -> Any | None:
    """Read a reply that is only a number, in the context of the slot being asked.

    "4" answering "断缴多久了" means 4 months; "18" answering the years question
    means 18 years. Anything else returns None and is left to the text understander.
    """
    match = _BARE_NUMBER.match(unicodedata.normalize("NFKC", text))
    if not match:
        return None
    number = float(match.group(1))
    unit = match.group(2) or ""
    if slot == "gap_months" and unit in ("", "个月", "月") and 0 < number <= 600:
        return int(number)
    if slot == "gap_months" and unit == "年" and 0 < number <= 50:
        return int(number * 12)
    if slot == "years_paid" and unit in ("", "年") and 0 <= number <= 60:
        return number
    if slot == "monthly_base" and unit in ("", "元", "块") and 100 <= number <= 1_000_000:
        return number
    return None


BUTTON_SLOTS = {"t": "insurance_type", "c": "cause", "x": "gender", "r": "region", "g": "gap_months"}


def parse_button(payload: str) -> tuple[str, str] | None:
    """Split a button payload "t:flexible" into (kind, value); None when malformed."""
    kind, sep, value = payload.partition(":")
    if not sep or not kind or not value or len(payload) > 64:
        return None
    return kind, value
