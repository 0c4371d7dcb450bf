"""The web's per-session message rate (WEB_RATE_LIMIT per WEB_RATE_WINDOW_S), kept by the core.

A session is one conversation, and the store's submit script already counts every
conversation's updates in a fixed window (its flood limit): the web process gives its own
store that limit with these settings, so a message is counted and refused (HTTP 429, with
the time left in the window) in the same Redis call that queues it, and every worker sees
the same count. /cancel and /stop are never limited, as on every platform.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from flows.store import StoreConfig


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `limit` messages per `window_ms` per session."""

    limit: int = 12
    window_ms: int = 10_000

    def store_config(self, base: StoreConfig) -> StoreConfig:
        """`base` (the process's store settings) with this rate as the conversation flood limit."""
        return replace(base, flood_limit=self.limit, flood_window=timedelta(milliseconds=self.window_ms))
