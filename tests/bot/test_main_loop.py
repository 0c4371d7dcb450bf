"""The processes' event loop (bot/__main__.py run_loop): uvloop, with signals delivered as on asyncio's."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot.__main__ import run_loop


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_run_loop_runs_on_uvloop_and_delivers_signals(sig: signal.Signals) -> None:
    # SIGTERM stops a worker and SIGHUP reloads its rules, both through loop.add_signal_handler.
    async def main() -> str:
        loop = asyncio.get_running_loop()
        arrived = asyncio.Event()
        loop.add_signal_handler(sig, arrived.set)
        try:
            os.kill(os.getpid(), sig)
            await asyncio.wait_for(arrived.wait(), 5)
        finally:
            loop.remove_signal_handler(sig)
        return type(loop).__module__

    assert run_loop(main()).startswith("uvloop")
