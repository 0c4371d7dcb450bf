"""Terminal chat: each stdin line is a message, replies go to stdout, numbers pick buttons.

Runs the same core and store as every other adapter (real Redis: REDIS_URL or the
embedded server). Works interactively and with piped input; exits 0 at end of input.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

from bot.runtime import open_runtime
from flows.messages import Button, ChatKind, InEvent, OutMessage
from flows.reminders_time import china_today


@dataclass
class TerminalSink:
    """Prints replies and remembers the latest buttons so a number can pick one."""

    out: TextIO
    buttons: list[Button] = field(default_factory=list)

    async def deliver(self, event: InEvent, messages: Sequence[OutMessage]) -> None:
        numbered: list[Button] = []
        for message in messages:
            self.out.write(message.text + "\n")
            for button in message.all_buttons():
                numbered.append(button)
                self.out.write(f"  [{len(numbered)}] {button.label}\n")
            if message.private_payload:
                self.out.write(f"  （{message.link_label}：/start {message.private_payload}）\n")
            self.out.write("\n")
        if numbered:
            self.out.write("（输入编号选择，或直接打字）\n")
        self.buttons = numbered
        self.out.flush()


def event_for_line(line: str, user: str, update_id: str, buttons: Sequence[Button]) -> InEvent:
    """Translate one typed line: a number in range presses that button, else it is text."""
    text = line.strip()
    payload = None
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        payload, text = buttons[int(text) - 1].payload, ""
    start_payload = None
    if text.startswith("/start "):
        start_payload = text.split(maxsplit=1)[1]
    return InEvent(
        platform="cli",
        bot_id="cli",
        chat_id=user,
        user_id=user,
        chat_kind=ChatKind.PRIVATE,
        update_id=update_id,
        text=text or None,
        payload=payload,
        start_payload=start_payload,
    )


async def run_chat(user: str, today: date | None, stdin: TextIO, stdout: TextIO) -> int:
    """Chat until end of input. Returns the exit status."""
    sink = TerminalSink(stdout)
    clock = (lambda: today) if today else china_today
    async with open_runtime() as runtime:
        service = runtime.make_service(sink, clock=clock)
        if stdin.isatty():
            stdout.write("医保断缴助手（终端版）。输入您的问题，Ctrl-D 退出。\n\n")
            stdout.flush()
        loop = asyncio.get_running_loop()
        # Update ids must be unique across runs of the same user: a nanosecond stamp plus a counter.
        base = time.time_ns()
        count = 0
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if not line.strip():
                continue
            count += 1
            event = event_for_line(line, user, f"{base}-{count:06d}", sink.buttons)
            await service.submit(event)
    return 0


def main_chat(user: str, today: date | None) -> int:
    """Entry point for `python -m bot chat`."""
    return asyncio.run(run_chat(user, today, sys.stdin, sys.stdout))
