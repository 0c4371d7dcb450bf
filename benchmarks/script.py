"""The conversation the benchmarks play: what a user writes, in order, to reach an answer and follow-ups."""

from __future__ import annotations

from datetime import date

TODAY = date(2026, 11, 22)
# Typed messages: region, insurance type, gap, base (re-estimates the cost), two follow-ups, thanks.
SCRIPT = ("/start", "我在乌鲁木齐", "灵活就业", "断了4个月", "每月基数4000", "要交多少钱", "什么时候能报销", "谢谢")
REMIND = "a:remind"  # the answer's "remind me" button


def e2e_script(deeplink_key: str) -> list[str]:
    """SCRIPT as a user arriving from a community account's link (region and source pre-filled),
    pressing "remind me" after the follow-ups. REMIND stands for the button press."""
    from flows.deeplink import StartContext, encode_start

    link = encode_start(StartContext(region_code="650100", source="sq12"), deeplink_key)
    return [f"/start {link}", *SCRIPT[2:7], REMIND, SCRIPT[7]]
