"""A small TCP proxy for tests that put a network between the app and its database.

`cut()` is the database going away (every connection closed, new ones refused);
`freeze()` is a partition (connections stay open but no byte gets through);
`restore()` brings back normal forwarding on the same port.
The target is a TCP address, or a unix socket (`unix_path`: the embedded pgvector server
listens on one only, tests/vectorpg.py).
"""

from __future__ import annotations

import select
import socket
import threading
from contextlib import suppress

CHUNK = 65536


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, unix_path: str | None = None) -> None:
        self._target = (target_host, target_port)
        self._unix_path = unix_path
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._frozen = threading.Event()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    def cut(self) -> None:
        """Refuse new connections and close every open one (a stopped server)."""
        self._close_listener()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _close(sock)

    def freeze(self) -> None:
        """Accept and keep connections, forward nothing (a black-holed network)."""
        self._frozen.set()

    def restore(self) -> None:
        self._frozen.clear()
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._stop.set()
        self._frozen.clear()
        self.cut()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            _close(listener)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by cut()
                return
            try:
                upstream = self._connect_upstream()
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        if self._unix_path is None:
            return socket.create_connection(self._target, timeout=5)
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self._unix_path)
        except OSError:
            _close(upstream)
            raise
        return upstream

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([a, b], [], [], 0.1)
                if self._frozen.is_set():
                    # Bytes wait in the kernel buffers, as behind a partition.
                    self._stop.wait(0.05)
                    continue
                for sock in readable:
                    data = sock.recv(CHUNK)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):  # closed by cut() (fd gone), or the peer went away
            return
        finally:
            _close(a)
            _close(b)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.close()
