"""`python -m bot web [--listen HOST:PORT]`: serve the web chat until SIGINT/SIGTERM.

Uses REDIS_URL, else the embedded Redis (like the terminal chat), and prints the URL to open.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from aiohttp import web

from bot.reload import RuleReloader, sighup_event
from bot.runtime import Runtime, open_runtime
from bot.settings import SettingsError, deeplink_key_for
from bot.web.app import SERVICE, WebConfig, make_web_app
from bot.web.limits import RateLimit
from flows.dialog import GapDialog
from flows.service import ConversationService
from policies import load_rulebook
from policies.regions import RegionIndex

DEFAULT_LISTEN = "127.0.0.1:8080"
LISTEN_ENV = "WEB_LISTEN"  # the default for --listen (deploy/local.py and the compose file set it)


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 as [::1]:8080); ValueError with a readable message otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen 应为 HOST:PORT，例如 127.0.0.1:8080，收到：{value!r}")
    return host.strip("[]"), int(port)


def config_from_env(env: dict[str, str] | None = None) -> WebConfig:
    """WEB_SESSION_KEY (cookie signing key), WEB_RATE_LIMIT messages per WEB_RATE_WINDOW_S seconds,
    RULES_DIR (rule files; default the packaged ones)."""
    env = dict(os.environ) if env is None else env
    rate = RateLimit()
    try:
        limit = int(env.get("WEB_RATE_LIMIT", rate.limit))
        window_ms = int(float(env.get("WEB_RATE_WINDOW_S", rate.window_ms / 1000)) * 1000)
    except ValueError as exc:
        raise ValueError(f"WEB_RATE_LIMIT / WEB_RATE_WINDOW_S 应为数字：{exc}") from None
    if limit < 1 or window_ms < 100:
        raise ValueError("WEB_RATE_LIMIT 至少为 1，WEB_RATE_WINDOW_S 至少为 0.1")
    rules = env.get("RULES_DIR")
    return WebConfig(session_key=env.get("WEB_SESSION_KEY") or None, rate=RateLimit(limit, window_ms),
                     rules_dir=Path(rules) if rules else None)


@dataclass(frozen=True, slots=True)
class RunningWeb:
    runtime: Runtime
    url: str
    port: int
    service: ConversationService  # answers this server's turns (the rule reloader swaps its dialog)


@contextlib.asynccontextmanager
async def running_web(host: str, port: int, config: WebConfig | None = None, *,
                      runtime: Runtime | None = None,
                      clock: Callable[[], date] = date.today) -> AsyncIterator[RunningWeb]:
    """Serve the web chat on host:port (0: any free port) until the block ends."""
    async with contextlib.AsyncExitStack() as stack:
        if runtime is None:
            runtime = await stack.enter_async_context(open_runtime())
        app = await make_web_app(runtime, config, clock)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        shown = f"[{host}]" if ":" in host else host
        yield RunningWeb(runtime, f"http://{shown}:{bound}/", bound, app[SERVICE])


def _load_dialog(rules_dir: Path | None, deeplink_key: str) -> GapDialog:
    """The dialog on the rule files in `rules_dir` (default: the packaged ones). Blocking."""
    regions = RegionIndex.load()
    dialog = GapDialog.create(load_rulebook(rules_dir, regions=regions), regions)
    return dataclasses.replace(dialog, deeplink_key=deeplink_key)


async def serve(listen: str, today: date | None, out: TextIO) -> int:
    """Run until SIGINT or SIGTERM; SIGHUP reloads the rule files. Returns the exit status."""
    try:
        host, port = parse_listen(listen)
        config = config_from_env()
        # Web links carry no signature; the key only has to match between this adapter and the dialog.
        key = deeplink_key_for("web", os.environ.get("DEEPLINK_KEY"))
    except (ValueError, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reload_requested = sighup_event()
    clock = (lambda: today) if today else date.today
    try:
        dialog = await asyncio.to_thread(_load_dialog, config.rules_dir, key)
    except Exception as exc:  # a broken rule file: say where, do not start
        print(f"规则文件有误，未启动：{exc}", file=sys.stderr)
        return 2
    try:
        async with open_runtime(dialog=dialog) as runtime, \
                running_web(host, port, config, runtime=runtime, clock=clock) as running:
            reloader = RuleReloader(config.rules_dir)
            reloader.add(running.service)
            reloading = asyncio.create_task(reloader.serve(reload_requested))
            out.write(f"医保断缴助手网页版已启动，请在浏览器打开：{running.url}\n")
            out.write(f"社区服务号链接示例（预填地区与来源）：{running.url}?region=650100&src=jiedao12\n")
            out.flush()
            await stop.wait()
            reloading.cancel()
    except OSError as exc:
        print(f"无法监听 {listen}：{exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def main_web(listen: str | None, today: date | None) -> int:
    """Entry point for `python -m bot web` (`listen` None: WEB_LISTEN, else 127.0.0.1:8080)."""
    return asyncio.run(serve(listen or os.environ.get(LISTEN_ENV) or DEFAULT_LISTEN, today, sys.stdout))
