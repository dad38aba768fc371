"""The bench's HTTP client against real sockets: framing, keep-alive, reconnects, errors.

The servers here are asyncio servers that answer with fixed bytes, so each framing case
is exact; the client's run against facebank itself is tests/bench/test_bench_run.py.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager

import pytest

from facebank.bench.client import TRANSPORT_ERRORS, BenchClient
from facebank.bench.http_wire import HttpProtocolError
from facebank.bench.multipart import form_body

Answer = Callable[[bytes], bytes]


def on_loop(test: Callable[[], Coroutine[None, None, None]]) -> Callable[[], None]:
    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


@asynccontextmanager
async def wire_server(answer: Answer, close_after: bool = False) -> AsyncIterator[list[bytes]]:
    """A server answering each request (head and body read by Content-Length) with
    answer(request); yields the list of requests it received."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                request = head + await reader.readexactly(length)
                seen.append(request)
                writer.write(answer(request))
                await writer.drain()
                if close_after:
                    break
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen.append(str(port).encode())  # the first entry is the port, for the test's client
    async with server:
        yield seen


def _client(seen: list[bytes], timeout_s: float = 10.0) -> BenchClient:
    port = int(seen.pop(0))
    return BenchClient(f"http://127.0.0.1:{port}", {"X-API-Key": "k"}, 2, timeout_s)


def fixed(response: bytes) -> Answer:
    return lambda _request: response


@on_loop
async def test_content_length_answer_and_request_on_the_wire() -> None:
    body = b'{"ok": true}'
    answer = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
    answer += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    async with wire_server(fixed(answer)) as seen, _client(seen) as client:
        reply = await client.post("/api/v1/x", form_body([("file", "a.jpg", b"\xff\xd8")]))
        got = await client.get("/api/v1/y", {"name": "a b", "n": "1"})
    assert reply.status == 201 and reply.json() == {"ok": True}
    assert reply.content_type == "application/json" and got.ok
    post, get = seen
    assert post.startswith(b"POST /api/v1/x HTTP/1.1\r\n") and b"X-API-Key: k\r\n" in post
    assert b"multipart/form-data; boundary=" in post and post.endswith(b"--\r\n")
    assert get.startswith(b"GET /api/v1/y?name=a+b&n=1 HTTP/1.1\r\n")
    assert b"Content-Length" not in get


@on_loop
async def test_chunked_answer_with_extension_and_trailer() -> None:
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer += b"5;name=x\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    async with wire_server(fixed(answer)) as seen, _client(seen) as client:
        first = await client.get("/a")
        second = await client.get("/b")  # same connection: the framing ended exactly
    assert first.body == b"hello world" and second.body == b"hello world"


@on_loop
async def test_no_body_statuses_and_connection_close_framing() -> None:
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"
    async with wire_server(fixed(no_content)) as seen, _client(seen) as client:
        assert (await client.delete("/p/1")).status == 204
        assert (await client.delete("/p/2")).status == 204
    eof_framed = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    async with wire_server(fixed(eof_framed), close_after=True) as seen, _client(seen) as client:
        assert (await client.get("/a")).body == b"until the end"
        assert (await client.get("/b")).body == b"until the end"  # a new connection


@on_loop
async def test_a_closed_keep_alive_connection_is_redialled_once() -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    # The server closes after each answer without saying so, as an idle timeout does.
    async with wire_server(fixed(answer), close_after=True) as seen, _client(seen) as client:
        replies = [await client.get(f"/n/{i}") for i in range(3)]
    assert [r.body for r in replies] == [b"ok"] * 3
    assert [r.split(b" ")[1] for r in seen] == [b"/n/0", b"/n/1", b"/n/2"]


@on_loop
async def test_garbage_and_refused_connections_are_transport_errors() -> None:
    async with wire_server(fixed(b"SSH-2.0-OpenSSH\r\n\r\n")) as seen, _client(seen) as client:
        with pytest.raises(HttpProtocolError):
            await client.get("/")
    assert HttpProtocolError in TRANSPORT_ERRORS
    async with wire_server(fixed(b"")) as seen:
        port = int(seen[0])
    # The server is gone: nothing listens on its port any more.
    async with BenchClient(f"http://127.0.0.1:{port}", {}, 1, 5.0) as client:
        with pytest.raises(TRANSPORT_ERRORS):
            await client.get("/")


@on_loop
async def test_a_server_that_never_answers_times_out() -> None:
    silent = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await silent.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, BenchClient(f"http://127.0.0.1:{port}", {}, 1, 0.2) as client:
        with pytest.raises(TimeoutError):
            await client.get("/")
        silent.set()


def test_only_http_urls() -> None:
    with pytest.raises(ValueError, match="http"):
        BenchClient("ftp://example.org", {}, 1, 1.0)
