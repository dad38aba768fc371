"""The id of the request being served, carried by contextvars into every log line of it.

Context variables follow the request into worker threads because the inference executor
(and anyio's thread pool) copy the caller's context.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"

# A context variable is per request by construction, not shared state: each request's
# task sets its own value.
request_id: ContextVar[str | None] = ContextVar("facebank_request_id", default=None)

# Incoming ids are echoed into headers and logs: accept only short, printable tokens.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The caller's id when it is safe to reuse, else None (the server makes its own)."""
    if value and _SANE.fullmatch(value):
        return value
    return None
