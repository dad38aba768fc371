"""What authenticating one request costs, with a key and with a token (printed, not asserted:
timings depend on the machine; run with -s to see them). A cached answer must come without
leaving the event loop; a cache miss goes to a worker thread for the database."""

from __future__ import annotations

import asyncio
import timeit
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from facebank.api.security import API_KEY_HEADER, authenticate
from facebank.auth.principal import Principal, system_principal
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from tests.api.conftest import BACKENDS, running_services

RUNS = 2000


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


def _without_suspending(call: Coroutine[Any, Any, Principal]) -> Principal:
    """Run a coroutine that must finish without awaiting anything (no thread, no I/O)."""
    try:
        call.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    call.close()
    raise AssertionError("a cached authentication left the event loop")


def _per_call_us(fn: object, runs: int = RUNS) -> float:
    return min(timeit.repeat(fn, number=runs, repeat=3)) / runs * 1e6  # type: ignore[arg-type]


def _measure(services: Services, label: str) -> dict[str, float]:
    root = system_principal("bench")
    services.auth.accounts.create_user(root, "ada", "correct horse battery", Role.ADMIN)
    token = services.auth.accounts.login("ada", "correct horse battery", None).token.token
    key = services.auth.api_keys.create(root, "bench", Role.VIEWER).key
    key_request = _request({API_KEY_HEADER: key})
    token_request = _request({"Authorization": f"Bearer {token}"})
    authenticator = services.auth.authenticator
    web_sessions = services.auth.web_sessions
    loop = asyncio.new_event_loop()
    # First use: a database read (and the key's last-used write), in a worker thread.
    loop.run_until_complete(authenticate(key_request, authenticator, web_sessions, None, key))
    loop.run_until_complete(authenticate(token_request, authenticator, web_sessions, token, None))

    def with_key() -> None:
        caller = _without_suspending(
            authenticate(key_request, authenticator, web_sessions, None, key)
        )
        assert caller.name == "bench"

    def with_token() -> None:
        caller = _without_suspending(
            authenticate(token_request, authenticator, web_sessions, token, None)
        )
        assert caller.name == "ada"

    def key_uncached() -> None:
        authenticator.forget()
        loop.run_until_complete(authenticate(key_request, authenticator, web_sessions, None, key))

    def token_uncached() -> None:
        authenticator.forget()
        loop.run_until_complete(
            authenticate(token_request, authenticator, web_sessions, token, None)
        )

    results = {
        "key (cached)": _per_call_us(with_key),
        "token (cached)": _per_call_us(with_token),
        "key (cache miss: DB read)": _per_call_us(key_uncached, 200),
        "token (cache miss: DB read)": _per_call_us(token_uncached, 200),
    }
    loop.close()
    for name, micros in results.items():
        print(f"[auth cost, {label}] {name}: {micros:.1f} us per request")
    return results


@pytest.mark.parametrize("kind", BACKENDS)
def test_authentication_cost(kind: str, tmp_path: Path, face_pipeline: FacePipeline) -> None:
    with running_services(kind, tmp_path, face_pipeline) as services:
        results = _measure(services, kind)
    assert all(value > 0 for value in results.values())
