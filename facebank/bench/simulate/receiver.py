"""A webhook endpoint on loopback that checks signatures and remembers what arrived. It can
be "down" (answers 503) to exercise retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from facebank.bench.simulate.loopback import LoopbackServer
from facebank.sessions import signing


@dataclass(frozen=True)
class Received:
    at: float  # monotonic
    event_id: str
    event_type: str
    attempt: int
    payload: dict[str, Any]
    signature_ok: bool
    accepted: bool  # answered 2xx


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._up = threading.Event()
        self._up.set()
        self._server = LoopbackServer(_handler(self), "/hook")

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> WebhookReceiver:
        self._server.start()
        return self

    def close(self) -> None:
        self._server.close()

    def set_up(self, up: bool) -> None:
        (self._up.set if up else self._up.clear)()

    @property
    def all(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.all if r.accepted]

    def wait_for(self, condition: Callable[[list[Received]], bool], timeout: float) -> bool:
        """Poll until `condition(accepted)` holds; False when the deadline passes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.accepted):
                return True
            time.sleep(0.05)
        return condition(self.accepted)

    def handle(self, headers: Any, body: bytes) -> int:
        accepted = self._up.is_set()
        signature = headers.get(signing.SIGNATURE_HEADER, "")
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
        entry = Received(
            at=time.monotonic(),
            event_id=headers.get(signing.EVENT_ID_HEADER, ""),
            event_type=headers.get(signing.EVENT_TYPE_HEADER, ""),
            attempt=int(headers.get(signing.ATTEMPT_HEADER, "0") or 0),
            payload=payload,
            signature_ok=signing.verify(self.secret, body, signature, time.time()),
            accepted=accepted,
        )
        with self._lock:
            self._received.append(entry)
        return 204 if accepted else 503


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            self.send_response(receiver.handle(self.headers, body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
