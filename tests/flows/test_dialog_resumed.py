"""Through the dialog: a gap that ended is kept as ended (its months, "已恢复缴费") until a new gap is said."""

from __future__ import annotations

import pytest

from flows.dialog import GapDialog
from tests.flows.test_dialog import TODAY, Chat


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


def test_an_ended_gap_is_answered_for_its_months_and_echoed_as_resumed(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("我是广州的，去年10月离职，今年3月入职新公司，中间医保没交，能补吗")
    slots = chat.state.slots
    assert chat.state.answered, chat.text()
    assert (slots["gap_months"], slots.get("gap_since"), slots["gap_ended"]) == (4, None, True)
    assert "断缴4个月（已恢复缴费）" in chat.text()
    assert "您已恢复缴费" in chat.text()  # kept even where the card has no room for the echo as well
    answer = dialog.advisor.answer(slots, TODAY)
    assert answer is not None and answer.gap_months == 4


def test_a_new_gap_said_later_is_no_longer_ended(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("乌鲁木齐 个体户 去年断了8个月 后来又接着交了")
    assert chat.state.slots["gap_ended"] is True
    chat.send("不对，是去年11月开始一直没交")
    slots = chat.state.slots
    assert "gap_ended" not in slots and slots["gap_since"] == "2025-11"
    assert "已恢复缴费" not in chat.text()


def test_an_ended_gap_is_never_answered_as_if_still_running(dialog: GapDialog) -> None:
    # The heading says the gap ended, and the answer says its dates are for paying the gap back and
    # that whether benefits work now is for the local office (kept unknown).
    chat = Chat(dialog)
    chat.send("乌鲁木齐 个体户 去年断了8个月 后来又接着交了")
    card = chat.text()
    heading = next(line for line in card.splitlines() if line.startswith("📍"))
    assert heading.endswith("断缴8个月（已恢复缴费）"), card
    assert "您已恢复缴费" in card and "请向当地医保经办机构确认" in card
    assert card.index("您已恢复缴费") < card.index("能用："), card
    chat.send("不对，是去年11月开始一直没交")
    assert "您已恢复缴费" not in chat.text() and "（已恢复缴费）" not in chat.text()
