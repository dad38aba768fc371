"""The load generator's HTTP client: aiohttp, keep-alive, one connection per client.

The load generator shares the machine with the server it measures, so its own CPU per
request is charged to the server. Measured on the 2-core development machine, alternating
with a bare asyncio socket on the same requests: httpx added 2.3 ms per request (4.6 ms on
the people photos' larger uploads), aiohttp 0.5 ms (1.0 ms); docs/bench.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp

from facebank.bench.multipart import FormBody

# Exceptions a request can end in; the load generator counts them by name.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError, TimeoutError)


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


class BenchClient:
    def __init__(
        self, base_url: str, headers: Mapping[str, str], connections: int, timeout_s: float
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._connections = connections
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> BenchClient:
        connector = aiohttp.TCPConnector(limit=self._connections, force_close=False)
        self._session = aiohttp.ClientSession(
            headers=self._headers, connector=connector, timeout=self._timeout
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        body: FormBody | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send and read the whole answer; transport failures raise TRANSPORT_ERRORS."""
        if self._session is None:
            raise RuntimeError("BenchClient is used outside `async with`")
        async with self._session.request(
            method,
            f"{self._base_url}{path}",
            data=body.content if body else None,
            headers=body.headers if body else None,
            params=dict(params) if params else None,
        ) as response:
            content = await response.read()
            return Reply(response.status, response.headers.get("content-type", ""), content)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Reply:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: FormBody) -> Reply:
        return await self.request("POST", path, body=body)

    async def delete(self, path: str) -> Reply:
        return await self.request("DELETE", path)
