"""The production layout on one machine's loopback: start it, wait until it is ready, stop it.

    python -m deploy.local run --api-base http://127.0.0.1:8081 --token 123:ABC...  # Ctrl-C stops
    python -m deploy.local run --fake-api        # with the local fake Bot API (tests/bot/fake_bot_api.py)
    python -m deploy.local up ... ; python -m deploy.local down    # or in two steps

It starts, each a process of its own, exactly what deploy/compose.yaml runs:

* redis-server with AOF (`appendonly yes`, `appendfsync everysec`), data in <dir>/redis;
* N Telegram webhook workers (`python -m bot telegram`), worker i on port base+i, all
  sharing Redis and one Prometheus multiprocess directory;
* the web chat (`python -m bot web`) and the reminder dispatcher (`python -m bot
  reminders send-due`, run every --dispatch-every seconds) when this checkout has those
  commands (they are skipped with a note otherwise);
* the WeChat worker (`python -m bot wechat`, on --wechat-port, path WECHAT_PATH) when the
  WeChat settings are given (WECHAT_TOKEN, WECHAT_APPID, WECHAT_APPSECRET in the environment
  or `.env`; deploy/wechat.py): it sends its followers' reminders itself, as in compose.
  Otherwise it is skipped with the reason (`skipped`, printed by `up`/`run`).

It returns once every worker's /readyz answers 200, and stops everything with SIGTERM
(SIGKILL after a grace period). benchmarks/load.py and fault tests use `LocalStack`.
Ports default to 18300-18331 (loopback only).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
WEBHOOK_PATH = "/telegram/webhook"
DEFAULT_WECHAT_PATH = "/wechat"
STATE_FILE = "local.json"
GRACE = 10.0  # seconds a process gets to finish after SIGTERM


def has_command(*words: str) -> bool:
    """True when `python -m bot <words...>` exists in this checkout (argparse subcommands)."""
    from deploy.commands import command_exists

    return command_exists(["bot", *words])


@dataclass(slots=True)
class LocalStack:
    """One loopback deployment. `start()` returns when everything is ready; `stop()` ends it."""

    dir: Path = ROOT / ".data" / "local"
    workers: int = 2
    framework: str = "aiogram"
    redis_port: int = 18300
    base_port: int = 18310
    web_port: int = 18330
    wechat_port: int = 18331
    api_base: str = ""
    token: str = ""
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    deeplink_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    web: bool | None = None  # None: start it when `python -m bot web` exists
    dispatcher: bool | None = None  # None: start it when `python -m bot reminders send-due` exists
    wechat: bool | None = None  # None: start it when WECHAT_* are given (deploy/wechat.py); False: never
    dispatch_every: float = 30.0
    shared_port: bool = False  # True: every worker on base_port (SO_REUSEPORT, the kernel spreads POSTs)
    env: dict[str, str] = field(default_factory=dict)  # extra settings for every bot process
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # process name -> why it was not started

    @property
    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}/0"

    @property
    def worker_ports(self) -> list[int]:
        return [self.base_port + (0 if self.shared_port else i) for i in range(self.workers)]

    @property
    def webhook_urls(self) -> list[str]:
        """One URL per worker (the same URL for all of them with `shared_port`)."""
        return [f"http://{HOST}:{port}{WEBHOOK_PATH}" for port in self.worker_ports]

    @property
    def wechat_url(self) -> str | None:
        """The WeChat push endpoint, when the WeChat worker runs."""
        if "wechat" not in self.procs:
            return None
        path = self._bot_env().get("WECHAT_PATH") or DEFAULT_WECHAT_PATH
        return f"http://{HOST}:{self.wechat_port}{path}"

    def _bot_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "WEB_"))}
        env.update(
            REDIS_URL=self.redis_url, TELEGRAM_BOT_TOKEN=self.token, TELEGRAM_API_BASE=self.api_base,
            WEBHOOK_PATH=WEBHOOK_PATH, WEBHOOK_SECRET=self.secret, DEEPLINK_KEY=self.deeplink_key,
            PROMETHEUS_MULTIPROC_DIR=str(self.dir / "metrics"), LOG_FORMAT="json", PYTHONUNBUFFERED="1",
            REMINDERS="off",  # the dispatcher process sends reminders, as in deploy/compose.yaml
        )
        env.update(self.env)
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        logs = self.dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as out:
            self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self, timeout: float = 60.0) -> None:
        """Start Redis, the workers, the web chat and the dispatcher; wait until they are ready."""
        if not self.token or not self.api_base:
            raise ValueError("LocalStack needs token and api_base (a Bot API server the workers can reach)")
        from deploy.wechat import skip_reason

        self.skipped.clear()
        wechat_skipped = "turned off (wechat=False)" if self.wechat is False else skip_reason(self._bot_env(), ROOT / ".env")
        if self.wechat and wechat_skipped:  # malformed settings raised already
            raise ValueError(f"LocalStack(wechat=True) cannot start WeChat: {wechat_skipped}")
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.dir / "metrics", ignore_errors=True)  # multiprocess files of an earlier run
        (self.dir / "metrics").mkdir()
        (self.dir / "redis").mkdir(exist_ok=True)
        try:
            self._spawn("redis", [shutil.which("redis-server") or "redis-server", "--bind", HOST,
                                  "--port", str(self.redis_port), "--dir", str(self.dir / "redis"),
                                  "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""])
            _wait(lambda: _redis_ping(self.redis_port), timeout, "redis-server")
            env = self._bot_env()
            bot = [sys.executable, "-m", "bot"]
            for i, port in enumerate(self.worker_ports):
                self._spawn(f"webhook{i + 1}", [*bot, "telegram", "--framework", self.framework],
                            {**env, "WEBHOOK_LISTEN": f"{HOST}:{port}"})
            if self.web if self.web is not None else has_command("web"):
                self._spawn("web", [*bot, "web"], {**env, "WEB_LISTEN": f"{HOST}:{self.web_port}"})
            if self.dispatcher if self.dispatcher is not None else has_command("reminders", "send-due"):
                self._spawn("dispatcher", [sys.executable, "-m", "deploy.every", str(self.dispatch_every),
                                           "--", *bot, "reminders", "send-due"], env)
            if wechat_skipped is None:  # followers' reminders go out from the WeChat worker (REMINDERS on)
                self._spawn("wechat", [*bot, "wechat", "--listen", f"{HOST}:{self.wechat_port}"],
                            {**env, "REMINDERS": self.env.get("REMINDERS", "on")})
            else:
                self.skipped["wechat"] = wechat_skipped
            ports = sorted(set(self.worker_ports))
            if "web" in self.procs:
                ports.append(self.web_port)
            if "wechat" in self.procs:
                ports.append(self.wechat_port)
            for port in ports:
                _wait(lambda p=port: _ready(p), timeout, f"/readyz on port {port}", self.procs)
            self._save()
        except BaseException:
            self.stop()
            raise

    def _save(self) -> None:
        state = {"pids": {name: p.pid for name, p in self.procs.items()}, "webhooks": self.webhook_urls,
                 "wechat": self.wechat_url, "secret": self.secret, "redis": self.redis_url}
        (self.dir / STATE_FILE).write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        """SIGTERM every process (Redis last), SIGKILL what is still running after the grace period."""
        order = [n for n in self.procs if n != "redis"] + (["redis"] if "redis" in self.procs else [])
        for group in ([n for n in order if n != "redis"], ["redis"]):
            stop_pids([self.procs[n].pid for n in group if n in self.procs])
            for name in group:
                if name in self.procs:
                    self.procs[name].wait()
        self.procs.clear()
        (self.dir / STATE_FILE).unlink(missing_ok=True)


def stop_pids(pids: list[int], grace: float = GRACE) -> None:
    """SIGTERM these processes, SIGKILL whichever still runs after `grace` seconds."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child (`down` from another shell): ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Exited, waiting for its parent to reap it (`down` from another shell: the parent is not us,
    and a container's init may never reap): it is done, not worth waiting for."""
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone, or no /proc (not Linux): kill(pid, 0) has answered
        return False


def _redis_ping(port: int) -> bool:
    import socket

    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _ready(port: int) -> bool:
    """/readyz answers 200 (a listener without /readyz: its front page answers 200)."""
    for path in ("/readyz", "/"):
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                return False
        except OSError:
            return False
    return False


def _wait(ok: object, timeout: float, what: str, procs: dict[str, subprocess.Popen[bytes]] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if callable(ok) and ok():
            return
        dead = [n for n, p in (procs or {}).items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}; see the logs folder")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.1)


@contextmanager
def local_stack(**options: object) -> Iterator[LocalStack]:
    """`with local_stack(token=..., api_base=...) as stack:` - started, and stopped afterwards."""
    stack = LocalStack(**options)  # type: ignore[arg-type]
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.local", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("run", "up", "down"))
    parser.add_argument("--dir", type=Path, default=ROOT / ".data" / "local")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--framework", choices=("aiogram", "ptb"), default="aiogram")
    parser.add_argument("--redis-port", type=int, default=18300)
    parser.add_argument("--base-port", type=int, default=18310, help="worker i listens on base+i")
    parser.add_argument("--web-port", type=int, default=18330)
    parser.add_argument("--wechat-port", type=int, default=18331, help="the WeChat worker (when WECHAT_* are set)")
    parser.add_argument("--api-base", default=os.environ.get("TELEGRAM_API_BASE", ""))
    parser.add_argument("--token", default=os.environ.get("TELEGRAM_BOT_TOKEN", ""))
    parser.add_argument("--fake-api", action="store_true", help="run: serve the local fake Bot API")
    parser.add_argument("--dispatch-every", type=float, default=30.0)
    parser.add_argument("--shared-port", action="store_true", help="all workers on --base-port (SO_REUSEPORT)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.action == "down":
        state_path = args.dir / STATE_FILE
        if not state_path.exists():
            print(f"nothing running ({state_path} not found)")
            return 0
        pids = json.loads(state_path.read_text())["pids"]
        stop_pids([pid for name, pid in pids.items() if name != "redis"])
        stop_pids([pids["redis"]] if "redis" in pids else [])
        state_path.unlink()
        return 0
    from deploy.wechat import WeChatSettingsError

    if args.fake_api and args.action != "run":
        raise SystemExit("--fake-api needs `run` (the fake server lives in this process)")
    try:
        if args.fake_api:
            return _run_with_fake_api(args)
        stack = _stack(args)
        stack.start()
    except WeChatSettingsError as exc:  # given but unusable: say so, start nothing
        print("\n".join(exc.lines), file=sys.stderr)
        return 2
    _announce(stack)
    if args.action == "up":
        return 0
    return _hold(stack)


def _stack(args: argparse.Namespace, **overrides: str) -> LocalStack:
    values = dict(dir=args.dir, workers=args.workers, framework=args.framework, redis_port=args.redis_port,
                  base_port=args.base_port, web_port=args.web_port, wechat_port=args.wechat_port,
                  api_base=args.api_base, token=args.token,
                  dispatch_every=args.dispatch_every, shared_port=args.shared_port)
    values.update(overrides)
    return LocalStack(**values)  # type: ignore[arg-type]


def _announce(stack: LocalStack) -> None:
    print(json.dumps({"redis": stack.redis_url, "webhooks": stack.webhook_urls, "wechat": stack.wechat_url,
                      "secret": stack.secret, "processes": {n: p.pid for n, p in stack.procs.items()},
                      "skipped": stack.skipped}, indent=2), flush=True)
    for name, why in stack.skipped.items():
        print(f"{name} skipped: {why}", file=sys.stderr, flush=True)


def _hold(stack: LocalStack) -> int:
    try:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(p.poll() is None for p in stack.procs.values()):
            time.sleep(0.5)
        print("a process exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def _run_with_fake_api(args: argparse.Namespace) -> int:
    import asyncio
    import threading

    sys.path.insert(0, str(ROOT))
    from tests.bot.fake_bot_api import FakeBotApi

    ready: dict[str, str] = {}
    started, finish = threading.Event(), threading.Event()

    async def serve() -> None:
        async with FakeBotApi() as api:
            ready.update(base=api.base, token=api.token)
            started.set()
            await asyncio.to_thread(finish.wait)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    started.wait(10)
    try:
        stack = _stack(args, api_base=ready["base"], token=ready["token"])
        stack.start()
        _announce(stack)
        return _hold(stack)
    finally:
        finish.set()
        thread.join(5)


if __name__ == "__main__":
    sys.exit(main())
