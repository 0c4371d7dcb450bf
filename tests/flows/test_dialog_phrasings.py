"""Conversations with people's own phrasings: a former place name, traditional script, a shortfall of
years said where the years paid are asked (each once misread or ignored)."""

from __future__ import annotations

import pytest

from flows.dialog import GapDialog
from flows.state import Step
from tests.flows.test_dialog import TODAY, Chat


@pytest.fixture(scope="module")
def dialog() -> GapDialog:
    return GapDialog.create()


def test_former_name_in_a_first_message_and_as_a_reply(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("襄樊 灵活就业 过完年就没交了")
    slots = chat.state.slots
    assert slots["region"] == "420600" and slots["insurance_type"] == "flexible"
    february = f"{TODAY.year if TODAY.month >= 2 else TODAY.year - 1}-02"
    assert slots["gap_since"] == february
    assert "襄阳" in chat.text()  # the echo names the region by today's name

    chat = Chat(dialog)
    chat.send("灵活就业断了3个月")
    assert chat.state.step == Step.ask("region")
    chat.send("襄樊")
    assert chat.state.slots["region"] == "420600"


def test_traditional_reply_gets_the_same_reply_as_simplified(dialog: GapDialog) -> None:
    for traditional, simplified in [("臺北", "台北"), ("廣州", "广州")]:
        replies = []
        for text in (traditional, simplified):
            chat = Chat(dialog)
            chat.send("灵活就业断了3个月")
            chat.send(text)
            replies.append((chat.text(), chat.state.slots, chat.state.step))
        assert replies[0] == replies[1]


@pytest.mark.parametrize("shortfall", ["再交3年就够了", "还差三年", "还得交3年才满15年"])
def test_a_shortfall_does_not_answer_the_years_paid(dialog: GapDialog, shortfall: str) -> None:
    """"再交3年就够了" answering "一共交了多少年" was taken as 3 years paid."""
    chat = Chat(dialog)
    chat.send("武汉 快退休了")
    assert chat.state.step == Step.ask("years_paid")
    chat.send(shortfall)
    assert "years_paid" not in chat.state.slots and "gap_months" not in chat.state.slots
    assert chat.state.step == Step.ask("years_paid")  # asked again


def test_years_paid_said_with_a_shortfall(dialog: GapDialog) -> None:
    chat = Chat(dialog)
    chat.send("武汉 快退休了，交了12年，还差3年")
    assert chat.state.slots["years_paid"] == 12
    assert "gap_months" not in chat.state.slots


def test_years_paid_corrected_in_one_reply(dialog: GapDialog) -> None:
    """Was echoed as "断缴156个月，已缴12年"."""
    chat = Chat(dialog)
    chat.send("武汉 快退休了")
    chat.send("交了十二年，不对，是十三年")
    assert chat.state.slots["years_paid"] == 13
    assert "gap_months" not in chat.state.slots
