"""Where our worker's CPU goes under benchmarks/e2e.py: a sampling profile of the measured cells.

    python -m benchmarks.e2e --kinds ours-aiogram,ours-ptb --memory 0 --profile DIR
    python -m benchmarks.e2e_profile DIR/ours-aiogram-*.txt

With `--profile` the harness attaches py-spy (a sampling profiler outside the process: the worker
runs its usual code, unpaused) to each of our workers once they are warm (after calibration), so
start-up and imports are left out, and stops it when the workers stop. py-spy leaves out samples
of an idle thread (waiting in epoll); system calls made without the GIL (asyncio's socket sends)
are counted, so the shares are comparable between asyncio's loop and uvloop.

The report sorts each sample by the innermost frame of ours (webhook front, processor, service,
store, dialog, sink, limiter, Bot API adapter, metrics, logs, ...) and, within that, by the
package the sampled code belongs to (redis, aiohttp, aiogram, pydantic, asyncio, ours...).
The figures are shares of the worker's sampled time, not the benchmark's CPU per update.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

RATE = 250  # samples per second

# Innermost frame of ours -> part of the update path. First match of the file path wins.
PARTS: tuple[tuple[str, str], ...] = (
    ("bot/telegram/webhook.py", "webhook front (auth, JSON, checks)"),
    ("bot/telegram/update_check.py", "webhook front (auth, JSON, checks)"),
    ("bot/telegram/processor.py", "processor + translate"),
    ("bot/telegram/translate.py", "processor + translate"),
    ("bot/telegram/sink.py", "sink (render, order)"),
    ("bot/telegram/aiogram_adapter.py", "Bot API call (framework client)"),
    ("bot/telegram/ptb_adapter.py", "Bot API call (framework client)"),
    ("bot/outbound.py", "outbound limiter (Redis script)"),
    ("bot/metered.py", "metrics"),
    ("bot/metrics.py", "metrics"),
    ("bot/logs.py", "logs"),
    ("bot/reminders/", "reminder dispatcher"),
    ("bot/reload.py", "processor + translate"),  # the admin-command wrapper around handle
    ("bot/ops_http.py", "ops endpoints"),
    ("bot/telegram/runner.py", "runner (recover loop)"),
    ("flows/store/", "store (Redis scripts)"),
    ("flows/reminders", "reminders store"),
    ("flows/service.py", "service shell"),
    ("flows/", "dialog step (flows, policies)"),
    ("policies/", "dialog step (flows, policies)"),
)


def _owner(path: str) -> str:
    """Who the sampled code belongs to: a package, the standard library's asyncio, or ours."""
    match = re.search(r"site-packages/([A-Za-z0-9_]+)", path)
    if match:
        return match.group(1)
    match = re.search(r"/(bot|flows|policies)/", path)
    if match:
        return "ours"
    match = re.search(r"python3\.\d+/(asyncio|logging|json|ssl|selectors)", path)
    if match:
        return match.group(1)
    return "stdlib/builtin" if "python3." in path or not path.startswith("/") else path


def _path(frame: str) -> str:
    """The file of a py-spy frame, `function (/path/file.py)`."""
    return frame[frame.rfind("(") + 1:-1] if frame.endswith(")") else frame


def _part(stack: Sequence[str]) -> str:
    """The part of the update path: the innermost frame of ours decides."""
    for frame in reversed(stack):
        path = _path(frame)
        if "site-packages" in path:
            continue
        for needle, part in PARTS:
            if f"/{needle}" in path:
                return part
    return "outside our frames"


def record(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """Start sampling process `pid` into `out` (py-spy's collapsed stacks); stop it with `stop`."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--output", str(out), "--format", "raw",
                             "--rate", str(RATE), "--full-filenames", "--nolineno", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def record_ours(groups: Iterable[Any], folder: Path) -> list[subprocess.Popen[bytes]]:
    """`record` every worker of our bot among `groups` (benchmarks.harness.Workers) into `folder`."""
    return [record(proc.pid, folder / f"{group.kind.replace('/', '_').replace('@', '-at-')}-x{group.count}-{n}.txt")
            for group in groups if group.kind.startswith("ours-") for n, proc in enumerate(group.procs)]


def stop(spies: Iterable[subprocess.Popen[bytes]]) -> None:
    """Stop the `record`s: py-spy writes its file on SIGINT."""
    for spy in spies:
        spy.send_signal(2)
    for spy in spies:
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()


def report(files: Sequence[Path]) -> str:
    """The shares of sampled time by part of the update path, with the top packages inside each."""
    parts: collections.Counter[str] = collections.Counter()
    owners: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for file in files:
        for line in file.read_text().splitlines():
            stacked, _, count = line.rpartition(" ")
            if not stacked or not count.isdigit():
                continue
            stack = stacked.split(";")
            part = _part(stack)
            parts[part] += int(count)
            owners[part][_owner(_path(stack[-1]))] += int(count)
    total = sum(parts.values()) or 1
    lines = [f"{len(files)} worker(s), {total} samples of a busy thread at {RATE}/s"]
    for part, samples in parts.most_common():
        inside = ", ".join(f"{name} {value / samples:.0%}" for name, value in owners[part].most_common(4))
        lines.append(f"  {samples / total:6.1%}  {part:<36} ({inside})")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report([Path(p) for p in sys.argv[1:]]))
