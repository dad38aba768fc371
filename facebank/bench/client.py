"""The load generator's HTTP client: HTTP/1.1 keep-alive over bare asyncio streams.

The load generator shares the machine with the server it measures, so its own CPU per
request is charged to the server. Measured on the 2-core development machine, CPU of the
client process per recognise request at 8 clients on the people photos, alternating on
the same requests: aiohttp 0.78 and 0.80 ms, this client 0.41 and 0.32 ms (httpx, before
aiohttp, added 2.3 ms more than a bare socket; docs/bench.md). It speaks only what the
bench needs: requests whose body is in memory, answers sized by Content-Length or chunked.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

from facebank.bench.http_wire import (
    HttpProtocolError,
    Response,
    encode_request,
    read_response,
)
from facebank.bench.multipart import FormBody

# Exceptions a request can end in; the load generator counts them by name.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, broken pipe (ConnectionError and its kin)
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    HttpProtocolError,
    TimeoutError,
)


class BenchHTTPError(RuntimeError):
    """A set-up or clean-up call (not a measured one) was refused by the server."""


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)

    def raise_for_status(self, what: str) -> None:
        if not self.ok:
            raise BenchHTTPError(f"{what}: HTTP {self.status}: {self.body[:300]!r}")


# What ends a bench run early: the server unreachable, or a set-up call refused.
FAILURES: tuple[type[BaseException], ...] = (BenchHTTPError, *TRANSPORT_ERRORS)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


def _answered(exc: BaseException) -> bool:
    """Whether the server had begun to answer (then the request may have taken effect)."""
    return isinstance(exc, asyncio.IncompleteReadError) and bool(exc.partial)


class BenchClient:
    """Up to `connections` keep-alive connections, each carrying one request at a time."""

    def __init__(
        self, base_url: str, headers: Mapping[str, str], connections: int, timeout_s: float
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the bench needs an http:// or https:// URL, not {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._prefix = parts.path
        self._headers = {"Host": parts.netloc, **headers}
        self._timeout_s = timeout_s
        self._slots = asyncio.Semaphore(max(1, connections))
        self._idle: list[_Connection] = []
        self._open = False

    async def __aenter__(self) -> BenchClient:
        self._open = True
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._open = False
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def request(
        self,
        method: str,
        path: str,
        body: FormBody | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send and read the whole answer; transport failures raise TRANSPORT_ERRORS."""
        if not self._open:
            raise RuntimeError("BenchClient is used outside `async with`")
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        headers = {**self._headers, **(body.headers if body else {})}
        wire = encode_request(method, target, headers, body.content if body else b"")
        async with self._slots:
            response = await self._exchange(wire, method == "HEAD")
        return Reply(response.status, response.headers.get("content-type", ""), response.body)

    async def _exchange(self, wire: bytes, head_only: bool) -> Response:
        connection = self._idle.pop() if self._idle else None
        reused = connection is not None
        try:
            async with asyncio.timeout(self._timeout_s):
                if connection is None:
                    connection = await self._connect()
                try:
                    response = await self._send(connection, wire, head_only)
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    if not reused or _answered(exc):
                        raise
                    # The server closed an idle keep-alive connection: one fresh try.
                    connection.close()
                    connection = await self._connect()
                    response = await self._send(connection, wire, head_only)
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        if response.keep_alive and self._open:
            self._idle.append(connection)
        else:
            connection.close()
        return response

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self._host, self._port, ssl=self._tls)
        return _Connection(reader, writer)

    @staticmethod
    async def _send(connection: _Connection, wire: bytes, head_only: bool) -> Response:
        connection.writer.write(wire)
        await connection.writer.drain()
        return await read_response(connection.reader, head_only)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Reply:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: FormBody) -> Reply:
        return await self.request("POST", path, body=body)

    async def delete(self, path: str) -> Reply:
        return await self.request("DELETE", path)
