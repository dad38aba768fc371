"""JSON and text log formats, with the request id of the request that logged."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from facebank.observability.context import request_id, sane_request_id
from facebank.observability.logging import JsonFormatter, RequestIdFilter, TextFormatter

Captured = tuple[logging.Logger, io.StringIO, logging.Handler]


@pytest.fixture
def captured() -> Iterator[Captured]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("facebank.test.logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)


def test_json_lines_carry_request_id_and_extras(captured: Captured) -> None:
    logger, stream, handler = captured
    handler.setFormatter(JsonFormatter())
    token = request_id.set("abc123")
    try:
        logger.info("enrolled %s", "ada", extra={"person_id": 7})
    finally:
        request_id.reset(token)
    logger.warning("no request here")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "enrolled ada" and first["request_id"] == "abc123"
    assert first["person_id"] == 7 and first["level"] == "info" and first["ts"].endswith("+00:00")
    assert "request_id" not in second


def test_text_lines_for_a_terminal(captured: Captured) -> None:
    logger, stream, handler = captured
    handler.setFormatter(TextFormatter())
    token = request_id.set("rid-9")
    try:
        logger.info("request", extra={"status": 200})
    finally:
        request_id.reset(token)
    line = stream.getvalue().strip()
    assert line.startswith("[rid-9] ") and "INFO facebank.test.logging request" in line
    assert line.endswith("status=200")


def test_sane_request_ids() -> None:
    assert sane_request_id("trace-1.2:3_x") == "trace-1.2:3_x"
    for bad in (None, "", "a b", "x" * 129, "\u00e9t\u00e9", "-lead", "a\nb"):
        assert sane_request_id(bad) is None
