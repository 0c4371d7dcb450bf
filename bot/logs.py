"""Logging for every process: one JSON object per line (LOG_FORMAT=json) or plain text, identifiers hidden.

Before a line is written, personal numbers are redacted (flows.pii) and user, chat
and conversation ids are replaced by a short keyed hash (`#3fa29c1e`): lines about
the same person still correlate, across workers too when they share the key
(LOG_ID_KEY, else DEEPLINK_KEY, else a random key per process), but the ids cannot
be read back or brute-forced without it. Every ERROR line also counts in
`yibao_errors_total{where=<logger>}`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import sys
import traceback
from datetime import UTC, datetime

import orjson

from bot.metrics import ERRORS
from flows.pii import redact

# A conversation id (platform:bot:chat:thread:user) or a bare id of 6+ digits (users, chats).
_IDS = re.compile(r"(?<![\w#])(?:[a-z]+:-?\d+:-?\d+:[^:\s]+:[\w-]+|-?\d{6,})(?![\w])")


class IdentifierMask:
    """Replaces ids in log text with a keyed hash and redacts personal numbers."""

    def __init__(self, key: str | None = None) -> None:
        raw = key or os.environ.get("LOG_ID_KEY") or os.environ.get("DEEPLINK_KEY") or secrets.token_hex(16)
        self._key = raw.encode()

    def tag(self, value: str) -> str:
        return "#" + hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:8]

    def __call__(self, text: str) -> str:
        return _IDS.sub(lambda m: self.tag(m.group()), redact(text))


class _MaskedFormatter(logging.Formatter):
    def __init__(self, mask: IdentifierMask, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.mask = mask

    def exception_text(self, record: logging.LogRecord) -> str | None:
        if not record.exc_info:
            return None
        return self.mask("".join(traceback.format_exception(*record.exc_info)).rstrip())


class TextFormatter(_MaskedFormatter):
    """`time level logger: message` with ids masked."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {record.name}: {self.mask(record.getMessage())}"
        exc = self.exception_text(record)
        return f"{line}\n{exc}" if exc else line


class JsonFormatter(_MaskedFormatter):
    """One JSON object per line: ts, level, logger, msg, pid (and exc when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": self.mask(record.getMessage()),
            "pid": record.process,
        }
        exc = self.exception_text(record)
        if exc:
            doc["exc"] = exc
        return orjson.dumps(doc).decode()


class ErrorCounter(logging.Handler):
    """Counts ERROR (and worse) records by logger in yibao_errors_total."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        ERRORS.labels(record.name).inc()


def configure_logging(level: int = logging.INFO, fmt: str | None = None) -> None:
    """Log to stderr as JSON (LOG_FORMAT=json, or `fmt`) or text, ids masked, errors counted."""
    chosen = (fmt or os.environ.get("LOG_FORMAT") or "text").lower()
    mask = IdentifierMask()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(mask) if chosen == "json" else TextFormatter(mask))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.addHandler(ErrorCounter())
    root.setLevel(level)
