"""Keeps a drain lease alive while its holder works, and gives it back even while cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

from flows.pii import redact
from flows.store import ConversationStore, Lease

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Renews a lease every eighth of its period while its drain runs.

    A timer rather than a task per drain: most turns end before the first renewal."""

    def __init__(self, store: ConversationStore, lease: Lease):
        self._store = store
        self._lease = lease
        self._every = store.renew_every
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = self._loop.call_later(self._every, self._fire)
        self._renewing: asyncio.Task[None] | None = None

    def _fire(self) -> None:
        self._renewing = self._loop.create_task(self._renew())

    async def _renew(self) -> None:
        try:
            held = await self._store.renew(self._lease)
        except Exception as exc:  # Redis away: the commit will tell; keep trying meanwhile
            log.warning("lease renewal of %s failed: %s", self._lease.conversation_id, redact(repr(exc)))
            held = True
        if held and self._timer is not None:
            self._timer = self._loop.call_later(self._every, self._fire)

    def stop(self) -> None:
        """Stop renewing (the drain ended)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._renewing is not None:
            self._renewing.cancel()


async def release_shielded(release: Awaitable[bool]) -> None:
    """Give a lease back even while being cancelled; a failure only delays the next drainer."""
    with contextlib.suppress(Exception):
        await asyncio.shield(release)
