"""A real `facebank serve` writes one JSON object per log line, and every line written
while serving a request carries the id returned in that request's X-Request-ID header."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import PEOPLE
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("logs"),
        env={"FACEBANK_LOG_FORMAT": "json", "FACEBANK_LOG_LEVEL": "INFO"},
    ).start()
    try:
        yield process
    finally:
        process.stop()


def log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = server.log_path.read_text(errors="replace").splitlines()
    # Only the key-minting CLI (a separate process) prints non-log text to this file.
    return [json.loads(line) for line in lines if line.startswith("{")]


def lines_for(server: ServerProcess, rid: str, expect: int) -> list[dict[str, Any]]:
    """The log lines of request `rid`, once at least `expect` of them were flushed."""
    deadline = time.monotonic() + 5
    while True:
        found = [line for line in log_lines(server) if line.get("request_id") == rid]
        if len(found) >= expect or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_every_line_is_json(server: ServerProcess) -> None:
    httpx.get(f"{server.url}/health/live")
    text = server.log_path.read_text(errors="replace").splitlines()
    server_lines = [line for line in text if not line.startswith("API key ")]
    assert server_lines
    for line in server_lines:
        entry = json.loads(line)
        assert {"ts", "level", "logger", "message"} <= set(entry)


def test_request_id_is_returned_and_logged(server: ServerProcess) -> None:
    photo = PEOPLE / "fr_obama" / "obama.jpg"
    response = httpx.post(
        f"{server.url}/api/v1/recognize",
        headers=server.headers,
        files={"file": (photo.name, photo.read_bytes(), "image/jpeg")},
        timeout=60,
    )
    assert response.status_code == 200
    rid = response.headers["X-Request-ID"]
    assert len(rid) == 32  # made by the server: a uuid4 in hex
    [access] = lines_for(server, rid, 1)
    assert access["logger"] == "facebank.access"
    assert access["route"] == "/api/v1/recognize" and access["status"] == 200
    assert access["duration_ms"] > 0


def test_incoming_id_is_honoured_in_every_line(server: ServerProcess) -> None:
    """A failed login writes two lines (the failure, then the access line): both carry
    the caller's id, the failure's from the thread pool the route runs in."""
    rid = "client-trace.42:abc"
    response = httpx.post(
        f"{server.url}/api/v1/auth/login",
        data={"username": "nobody", "password": "wrong-password"},
        headers={"X-Request-ID": rid},
    )
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == rid
    lines = lines_for(server, rid, 2)
    assert {line["logger"] for line in lines} >= {"facebank.access", "facebank.services.accounts"}
    assert all(line["request_id"] == rid for line in lines)


@pytest.mark.parametrize("bad", ["has spaces", "x" * 200, "-starts-with-dash", "semi;colon"])
def test_unsafe_incoming_ids_are_replaced(server: ServerProcess, bad: str) -> None:
    response = httpx.get(f"{server.url}/health/live", headers={"X-Request-ID": bad})
    returned = response.headers["X-Request-ID"]
    assert returned != bad and len(returned) == 32


def test_other_requests_do_not_share_ids(server: ServerProcess) -> None:
    ids = {httpx.get(f"{server.url}/health/live").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5
