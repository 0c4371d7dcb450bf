"""What the end-to-end benchmarks share: a private Redis, worker processes, and simulated users.

A user POSTs Telegram updates to a bot's webhook (with the secret token) and waits for
every reply the bot sends to the local Bot API server (tests/bot/fake_bot_api.py) before
writing again (closed loop). A turn lasts from the start of its POST until both the POST
is answered and the turn's last reply has reached the Bot API server. The time the Bot
API server itself spends on the turn's calls is recorded per turn, so it can be left out.

CPU is read per process from /proc (workers, the private Redis) and with
`time.process_time` for this process (load generator + Bot API server).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from benchmarks.bots import worker_command, worker_env
from benchmarks.script import REMIND
from tests.bot.fake_bot_api import Call, Chat, FakeBotApi, User
from tests.redis_servers import free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789"
PATH = "/tg/hook"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


# --- Redis -------------------------------------------------------------------------------------
class PrivateRedis:
    """A redis-server of our own (no persistence, or AOF like a deployment), so INFO commandstats, CPU and memory are ours alone."""

    def __init__(self, *, aof: bool = False) -> None:
        self.aof = aof
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="yb-e2e-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrivateRedis:
        binary = shutil.which("redis-server") or str(Path(sys.executable).parent / "redis-server")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes" if self.aof else "no", "--appendfsync", "everysec", "--dir", self._dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def version(self) -> str:
        out = subprocess.run([shutil.which("redis-server") or "redis-server", "--version"],
                             capture_output=True, text=True, check=False).stdout
        return out.split("v=")[1].split()[0] if "v=" in out else "?"


@dataclass
class RedisCost:
    """Redis work during a pass: commands (INFO commandstats) and the server's CPU."""

    calls: dict[str, int] = field(default_factory=dict)
    usec: dict[str, int] = field(default_factory=dict)
    cpu: float = 0.0


async def redis_reset(client: Redis) -> float:
    await client.config_resetstat()
    return await _redis_cpu(client)


async def redis_cost(client: Redis, cpu_before: float) -> RedisCost:
    stats = await client.info("commandstats")
    cost = RedisCost(cpu=await _redis_cpu(client) - cpu_before)
    for name, entry in stats.items():
        command = name.removeprefix("cmdstat_")
        if command in ("config|resetstat", "info"):
            continue
        cost.calls[command] = int(entry["calls"])
        cost.usec[command] = int(entry["usec"])
    return cost


async def _redis_cpu(client: Redis) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


# --- the Bot API server, timed -------------------------------------------------------------------
class TimedBotApi(FakeBotApi):
    """The local Bot API server, also recording its own time per chat and each chat's last keyboard."""

    def __init__(self) -> None:
        super().__init__()
        self.server_time: dict[int, float] = {}
        self.sends: dict[int, int] = {}
        self.keyboards: dict[int, dict[str, Any]] = {}
        self.waiters: dict[int, tuple[int, asyncio.Future[float]]] = {}
        self.on_call = self._count

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params = await super()._params(request)
        request["chat"] = params.get("chat_id")
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            return await super()._handle(request)
        finally:
            chat = request.get("chat")
            if isinstance(chat, int):
                self.server_time[chat] = self.server_time.get(chat, 0.0) + time.perf_counter() - started

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        message = await super()._m_sendmessage(params)
        if message.get("reply_markup"):
            self.keyboards[int(params["chat_id"])] = message
        return message

    def _count(self, call: Call) -> None:
        self.calls.clear()  # nothing reads the call log here; keep the server's memory flat
        if call.method != "sendMessage":
            return
        chat = int(call.params["chat_id"])
        sent = self.sends[chat] = self.sends.get(chat, 0) + 1
        waiter = self.waiters.get(chat)
        if waiter is not None and sent >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(time.perf_counter())

    async def _notify(self) -> None:
        """Nobody waits on the condition here; skip the lock round."""


# --- workers -------------------------------------------------------------------------------------
class Processes(Protocol):
    """The bot's processes under load: their CPU seconds so far, and their log lines so far."""

    def cpu(self) -> list[float]: ...

    def log_lines(self) -> int: ...


def checkout(rev: str) -> Path:
    """The project's files at git revision `rev`, in a temporary folder (for A/B runs)."""
    folder = Path(tempfile.mkdtemp(prefix=f"yb-e2e-{rev[:12]}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


class Workers:
    """`count` worker processes of one bot, all listening on one port.

    A kind written `ours-aiogram@/some/folder` runs the bot's code from that folder
    (an older revision, see `checkout`) with this venv's packages."""

    def __init__(self, kind: str, count: int, api: FakeBotApi, redis_url: str, prefix: str) -> None:
        self.kind, self.count = kind, count
        self._base, _, root = kind.partition("@")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self._env = {**os.environ, "PYTHONPATH": root or str(ROOT),
                     **worker_env(api.base, api.token, self.port, redis_url, prefix, SECRET, PATH)}
        self._dir = Path(tempfile.mkdtemp(prefix=f"yb-e2e-{self._base}-"))
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def deeplink_key(self) -> str:
        return self._env["DEEPLINK_KEY"]

    def _spawn(self) -> None:
        for n in range(self.count):
            with open(self._dir / f"worker{n}.log", "wb") as log:
                self.procs.append(subprocess.Popen(worker_command(self._base, sys.executable), env=self._env,
                                                   cwd=self._dir, stdout=log, stderr=subprocess.STDOUT))

    async def start(self) -> None:
        """Start the processes and wait until each listens (its log says "webhook on")."""
        self._spawn()
        for n, proc in enumerate(self.procs):
            logfile = self._dir / f"worker{n}.log"
            for _ in range(2400):  # up to 2 minutes: twelve workers load their rules at once
                if "webhook on" in logfile.read_text(errors="replace"):
                    break
                if proc.poll() is not None:
                    raise RuntimeError(f"{self.kind} worker exited:\n{logfile.read_text()[-3000:]}")
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"{self.kind} worker did not start:\n{logfile.read_text()[-3000:]}")

    def cpu(self) -> list[float]:
        return [cpu_seconds(p.pid) for p in self.procs]

    def log_lines(self) -> int:
        return sum(len((self._dir / f"worker{n}.log").read_bytes().splitlines()) for n in range(self.count))

    async def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


# --- simulated users -------------------------------------------------------------------------------
@dataclass
class Pass:
    """One bounded pass of closed-loop users against one set of workers."""

    name: str
    workers: int
    users: int
    updates: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, POST start -> last reply
    own: list[float] = field(default_factory=list)  # the same minus the Bot API server's own time
    worker_cpu: list[float] = field(default_factory=list)
    driver_cpu: float = 0.0
    redis: RedisCost = field(default_factory=RedisCost)
    log_lines: int = 0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def cpu_ms(self, seconds: float) -> float:
        return seconds / self.updates * 1000 if self.updates else 0.0


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Users:
    """Drives closed-loop users through the script; each user is a fresh conversation."""

    def __init__(self, api: TimedBotApi, script: list[str], *, presses: bool, think: float = 0.0,
                 secret: str = SECRET) -> None:
        self.api = api
        self.secret = secret
        self.script = script
        self.presses = presses  # plain bots have no buttons: the press is sent as text
        self.think = think  # seconds between a turn's last reply and the next message
        self.expected = [1] * len(script)

    # Shared by every instance: chats and update ids never repeat within a run.
    _update_ids = itertools.count(1)
    _user_ids = itertools.count(10_000_000)

    def _update(self, user: User, chat: Chat, step: str) -> dict[str, Any]:
        if self.presses and step == REMIND:
            body = self.api.press_update(user, self.api.keyboards[chat.id], step)
        else:
            body = self.api.message_update(user, chat, "提醒我" if step == REMIND else step)
        return {"update_id": next(self._update_ids), **body}

    async def calibrate(self, url: str, attempts: int = 3) -> None:
        """Replies per step of the script, counted on one conversation (the dialog is deterministic).

        On a starved machine a pass can miss a reply (seen on main too): tried again with a fresh user."""
        for attempt in range(attempts):
            try:
                await self._calibrate(url)
                return
            except (KeyError, RuntimeError) as exc:
                if attempt == attempts - 1:
                    raise
                print(f"  calibration of {url} failed ({exc!r}); again with a fresh user", file=sys.stderr)

    async def _calibrate(self, url: str) -> None:
        user = User(next(self._user_ids), "校准")
        chat = Chat(user.id)
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        async with aiohttp.ClientSession() as http:
            for n, step in enumerate(self.script):
                before = self.api.sends.get(chat.id, 0)
                async with http.post(url, json=self._update(user, chat, step), headers=headers) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"calibration: webhook answered {resp.status}")
                for _ in range(150):  # a loaded machine may take a while for the first reply
                    if self.api.sends.get(chat.id, 0) > before:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(0.3)  # further replies of a press or a background handler
                self.expected[n] = self.api.sends.get(chat.id, 0) - before
                if self.expected[n] < 1:
                    raise RuntimeError(f"calibration: no reply to {step!r}")

    async def run(self, url: str | Sequence[str], result: Pass, duration: float, *, workers: Processes,
                  redis: Redis) -> Pass:
        """`result.users` users for `duration` seconds; turns in flight at the end are finished.

        With several webhook URLs (workers on ports of their own), user i uses URL i mod n."""
        urls = [url] if isinstance(url, str) else list(url)
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        loop = asyncio.get_running_loop()
        deadline = time.perf_counter() + duration

        async def one_user(http: aiohttp.ClientSession, url: str) -> None:
            while time.perf_counter() < deadline:
                user = User(next(self._user_ids), "用户")
                chat = Chat(user.id)
                for n, step in enumerate(self.script):
                    if time.perf_counter() >= deadline:
                        return
                    if not await self._turn(http, url, headers, user, chat, n, step, result, loop):
                        break  # a failed turn: start a fresh conversation
                    if self.think:
                        await asyncio.sleep(self.think)

        redis_cpu = await redis_reset(redis)
        cpu_before, driver_before = workers.cpu(), time.process_time()
        lines_before = workers.log_lines()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            started = time.perf_counter()
            await asyncio.gather(*(one_user(http, urls[n % len(urls)]) for n in range(result.users)))
            result.seconds = time.perf_counter() - started
        result.driver_cpu = time.process_time() - driver_before
        result.worker_cpu = [after - before for after, before in zip(workers.cpu(), cpu_before, strict=True)]
        result.redis = await redis_cost(redis, redis_cpu)
        result.log_lines = workers.log_lines() - lines_before
        return result

    async def _turn(self, http: aiohttp.ClientSession, url: str, headers: dict[str, str], user: User,
                    chat: Chat, n: int, step: str, result: Pass, loop: asyncio.AbstractEventLoop) -> bool:
        future: asyncio.Future[float] = loop.create_future()
        self.api.waiters[chat.id] = (self.api.sends.get(chat.id, 0) + self.expected[n], future)
        server_before = self.api.server_time.get(chat.id, 0.0)
        try:
            body = self._update(user, chat, step)
        except KeyError:  # no keyboard to press: an earlier reply of this chat never came
            result.errors += 1
            self.api.waiters.pop(chat.id, None)
            return False
        started = time.perf_counter()
        try:
            async with http.post(url, json=body, headers=headers) as resp:
                status = resp.status
            answered = time.perf_counter()
            if status != 200:
                result.errors += 1
                return False
            replied = await asyncio.wait_for(future, 15)
        except (TimeoutError, aiohttp.ClientError):
            result.errors += 1
            return False
        finally:
            self.api.waiters.pop(chat.id, None)
        latency = max(answered, replied) - started
        result.updates += 1
        result.latencies.append(latency)
        result.own.append(latency - (self.api.server_time.get(chat.id, 0.0) - server_before))
        return True
