"""Run a command every N seconds until SIGTERM: `python -m deploy.every 30 -- python -m bot reminders send-due`.

The reminder dispatcher is a one-shot command (it sends what is due and exits); this
tiny loop is its worker wherever no cron or Kubernetes CronJob runs it (deploy/local.py,
the compose file). A failed run is reported and the loop goes on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m deploy.every SECONDS -- COMMAND...", file=sys.stderr)
        return 2
    every, command = float(args[0]), args[2:]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        status = subprocess.call(command)
        if status:
            print(f"{' '.join(command)} exited with {status}", file=sys.stderr, flush=True)
        stop.wait(every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
