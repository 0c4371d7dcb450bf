"""Every Prometheus metric of the bot, defined once (prometheus-client).

Adapters, the outbound limiter, the reminder dispatcher and the service shell import
the objects below and increment them; `render()` is what `GET /metrics` serves.

Several worker processes (N webhook workers sharing one port): set
`PROMETHEUS_MULTIPROC_DIR` to an empty directory, the same for every worker of one
host and wiped before they start (deploy/local.py, the compose file and the systemd
units do that). Each process then writes its values to files there and any worker's
`/metrics` reports the sum over all of them, so a scrape through the shared port or
the reverse proxy sees the whole host. Unset (one process per pod, the terminal chat,
tests): values live in this process and `/metrics` reports them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Turn latency from the update's arrival to its replies being handed to the sink: mostly
# milliseconds, seconds when the outbound limiter makes a reply wait its turn.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

TURNS = Counter("yibao_turns_total", "Updates taken through the conversation core", ["adapter"])
TURN_SECONDS = Histogram("yibao_turn_seconds", "Seconds from an update's arrival to its handling",
                         ["adapter"], buckets=_LATENCY_BUCKETS)
REPLIES = Counter("yibao_replies_total", "Messages sent to users, by kind", ["kind"])
OUTBOUND_WAITS = Counter("yibao_outbound_waits_total", "Sends that waited for a rate-limit slot")
OUTBOUND_WAIT_SECONDS = Histogram("yibao_outbound_wait_seconds", "Seconds a send waited for its slot",
                                  buckets=_LATENCY_BUCKETS)
OUTBOUND_429 = Counter("yibao_outbound_429_total", "429 Too Many Requests answers from the platform")
REMINDERS_DUE = Counter("yibao_reminders_due_total", "Reminders found due by the dispatcher")
REMINDERS_SENT = Counter("yibao_reminders_sent_total", "Reminders delivered")
REMINDERS_LATE = Counter("yibao_reminders_late_total", "Reminders delivered after their due day")
LEASE_RECOVERIES = Counter("yibao_lease_recoveries_total",
                           "Conversations taken over from a drainer that died or stalled")
ERRORS = Counter("yibao_errors_total", "Failures, by where they happened", ["where"])
DROPPED_UPDATES = Counter("yibao_dropped_updates_total", "Incoming updates refused and dropped, by reason",
                          ["reason"])
RULE_RELOADS = Counter("yibao_rule_reloads_total", "Rule file reloads, by result", ["result"])
RULES_LOADED_AT = Gauge("yibao_rules_loaded_timestamp_seconds", "When the rules in use were loaded",
                        multiprocess_mode="max")


def render() -> tuple[bytes, str]:
    """The exposition text for `GET /metrics` and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

