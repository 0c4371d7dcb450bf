"""Reload the rule files without a restart: SIGHUP, or `/reload_rules` from an admin.

`RuleReloader.reload()` loads every rule file again in a thread (strict,
all-or-nothing, as at start). On success each registered conversation service gets a
dialog answering from the new rules (turns already running finish on the old ones);
on failure nothing changes: the last good rules stay in use and the reason
("FILE:LINE: problem; fix") is logged and returned. Each worker process reloads its own
rules, so send SIGHUP to every worker (systemctl reload, `kill -HUP`, or the admin
command to each).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.metrics import RULE_RELOADS, RULES_LOADED_AT
from flows.advisor import Advisor
from flows.dialog import GapDialog
from policies import load_rulebook
from policies.regions import RegionIndex

log = logging.getLogger(__name__)

RELOAD_COMMAND = "/reload_rules"


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    message: str  # what an operator reads: the number of rule files, or why the reload failed


class RuleReloader:
    """Swaps the rules of registered services (anything with a `dialog` holding an `advisor`)."""

    def __init__(self, rules_dir: Path | None = None) -> None:
        self.rules_dir = rules_dir
        self._services: list[Any] = []
        self._lock = asyncio.Lock()

    def add(self, service: Any) -> None:
        """Reload this service's rules too; its current rules count as loaded now."""
        self._services.append(service)
        RULES_LOADED_AT.set(time.time())

    async def reload(self) -> ReloadResult:
        """Load the rule files again; keep the last good rules when that fails."""
        if not self._services:
            return ReloadResult(False, "no service to reload")
        async with self._lock:
            regions = self._services[0].dialog.advisor.regions
            try:
                rulebook = await asyncio.to_thread(load_rulebook, self.rules_dir, regions=regions)
            except Exception as exc:  # RuleError above all; anything else must not kill the worker either
                RULE_RELOADS.labels("failed").inc()
                log.error("rule reload failed; the last good rules stay in use: %s", exc)
                return ReloadResult(False, f"规则重新加载失败，继续使用上一版规则：{exc}")
            advisor = Advisor(rulebook, regions)
            for service in self._services:
                service.dialog = dataclasses.replace(service.dialog, advisor=advisor)
            RULE_RELOADS.labels("ok").inc()
            RULES_LOADED_AT.set(time.time())
            files = len(getattr(rulebook, "files", ()) or ())
            log.warning("rules reloaded (%s files)", files)
            return ReloadResult(True, f"规则已重新加载（{files} 个文件）")

    async def serve(self, requested: asyncio.Event) -> None:
        """Reload each time `requested` is set (a SIGHUP handler sets it); runs until cancelled."""
        while True:
            await requested.wait()
            requested.clear()
            await self.reload()


def load_dialog(rules_dir: Path | None, deeplink_key: str) -> GapDialog:
    """The dialog on the rule files in `rules_dir` (default: the packaged ones), signing with `deeplink_key`.

    Blocking (file I/O): run it in a thread. Raises RuleError for a broken rule file.
    """
    regions = RegionIndex.load()
    dialog = GapDialog.create(load_rulebook(rules_dir, regions=regions), regions)
    return dataclasses.replace(dialog, deeplink_key=deeplink_key)


def sighup_event() -> asyncio.Event:
    """An event the running loop sets on SIGHUP (install it before start-up, so none is lost)."""
    requested = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, requested.set)
    return requested


Handle = Callable[[dict[str, Any]], Awaitable[None]]
Reply = Callable[[int, str], Awaitable[None]]


def admin_commands(handle: Handle, reloader: RuleReloader, admin_ids: Collection[int], reply: Reply) -> Handle:
    """Wrap an update handler: `/reload_rules` in a private chat from an admin reloads; all else passes."""
    admins = frozenset(admin_ids)

    async def wrapped(update: dict[str, Any]) -> None:
        message = update.get("message") or {}
        text = (message.get("text") or "").split("@", 1)[0].strip()
        user = (message.get("from") or {}).get("id")
        chat = message.get("chat") or {}
        if text == RELOAD_COMMAND and user in admins and chat.get("type") == "private":
            result = await reloader.reload()
            await reply(int(chat["id"]), result.message)
            return
        await handle(update)

    return wrapped
