"""Structured logs: one JSON object per line, personal numbers and ids hidden, errors counted."""

from __future__ import annotations

import io
import logging

import orjson

from bot.logs import ErrorCounter, IdentifierMask, JsonFormatter, TextFormatter
from bot.metrics import ERRORS

CID = "telegram:123456789:-1001234567890:-:987654321"


def _log(formatter: logging.Formatter, level: int, message: str, *args: object,
         exc: bool = False) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("yibao.test.logs")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        if exc:
            try:
                raise ValueError(f"bad input from {CID}: 13812345678")
            except ValueError:
                logger.exception(message, *args)
        else:
            logger.log(level, message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_lines_hide_ids_and_personal_numbers() -> None:
    mask = IdentifierMask("k" * 32)
    line = _log(JsonFormatter(mask), logging.WARNING, "drain of %s stopped; chat %s said %s", CID, 987654321,
                "手机138.1234.5678")
    doc = orjson.loads(line)
    assert doc["level"] == "WARNING" and doc["logger"] == "yibao.test.logs" and doc["ts"].endswith("+00:00")
    for raw in ("987654321", "1001234567890", "138.1234.5678", "13812345678"):
        assert raw not in line
    assert mask.tag(CID) in doc["msg"] and mask.tag("987654321") in doc["msg"]
    assert "［已隐去的手机号］" in doc["msg"]


def test_same_id_same_tag_other_key_other_tag() -> None:
    one, two = IdentifierMask("a" * 32), IdentifierMask("b" * 32)
    assert one(f"user {CID}") == one(f"user {CID}") != two(f"user {CID}")
    assert one("a 2024 year, 12393 hotline, update 42") == "a 2024 year, 12393 hotline, update 42"


def test_tracebacks_are_masked_too() -> None:
    line = _log(JsonFormatter(IdentifierMask("k" * 32)), logging.ERROR, "failed", exc=True)
    doc = orjson.loads(line)
    assert "ValueError" in doc["exc"] and "987654321" not in line and "13812345678" not in line


def test_text_format_and_error_counter() -> None:
    text = _log(TextFormatter(IdentifierMask("k" * 32)), logging.INFO, "chat %s ok", 555666777)
    assert " INFO yibao.test.logs: chat #" in text and "555666777" not in text
    counter = ErrorCounter()
    before = ERRORS.labels("yibao.test.logs")._value.get()
    logger = logging.getLogger("yibao.test.logs")
    logger.addHandler(counter)
    try:
        logger.warning("only a warning")
        logger.error("an error")
    finally:
        logger.removeHandler(counter)
    assert ERRORS.labels("yibao.test.logs")._value.get() == before + 1
