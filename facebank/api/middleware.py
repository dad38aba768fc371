"""Request id, timing, metrics and the access log line of every HTTP request.

Pure ASGI (no BaseHTTPMiddleware) because it runs on every request: it only wraps `send`
to read the status and add the X-Request-ID header.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facebank.api.errors import error_body
from facebank.observability.context import (
    REQUEST_ID_HEADER,
    new_request_id,
    request_id,
    sane_request_id,
)

log = logging.getLogger("facebank.access")

_HEADER_KEY = REQUEST_ID_HEADER.lower().encode()
# Probes and scrapes arrive every few seconds; they would drown the access log at INFO.
_QUIET_PREFIXES = ("/health", "/metrics")
UNMATCHED = "unmatched"  # route label of 404s: raw paths would explode the label set


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = sane_request_id(_header(scope, _HEADER_KEY)) or new_request_id()
        # Not reset afterwards: Starlette's outermost error handler runs after this returns
        # and its log line must still carry the id (each request is its own task anyway).
        request_id.set(rid)
        state = getattr(scope.get("app"), "state", None)
        services = getattr(state, "services", None)  # None before the lifespan started
        if services is not None:
            services.metrics.http.in_progress.inc()
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not response_started:
                # Starlette's handler would answer without our header; answer first (it
                # then only logs) so even a 500 names the request to quote in a report.
                await _internal_error(send_with_id)
            raise
        finally:
            elapsed = time.perf_counter() - started
            if services is not None:
                services.metrics.http.in_progress.dec()
            _record(scope, state, status, elapsed)


async def _internal_error(send: Send) -> None:
    body = json.dumps(error_body("internal_error", "internal server error")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _record(scope: Scope, state: Any, status: int, seconds: float) -> None:
    route = getattr(scope.get("route"), "path", None) or UNMATCHED
    method = scope.get("method", "")
    services = getattr(state, "services", None)
    if services is not None:
        services.metrics.http.observe(route, method, status, seconds)
    path = scope.get("path", "")
    level = logging.DEBUG if path.startswith(_QUIET_PREFIXES) else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "request", extra=_access_fields(scope, route, status, seconds))


def _access_fields(scope: Scope, route: str, status: int, seconds: float) -> dict[str, Any]:
    client = scope.get("client")
    return {
        "method": scope.get("method"),
        "path": scope.get("path"),
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "client": client[0] if client else None,
    }


def _header(scope: Scope, key: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == key:
            return bytes(value).decode("latin-1")
    return None
