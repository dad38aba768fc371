"""An export streamed to an HTTP client, never held whole in memory or on disk.

Exporter.write runs in a thread of its own, writing into a bounded queue of chunks that the
response drains: a slow reader makes the writer wait (back-pressure), and at most
QUEUE_CHUNKS * CHUNK_BYTES is held per download. Closing the stream (the client went away)
makes the writer's next write fail, so the thread ends instead of waiting forever; so does
a reader that takes nothing for STALL_S. Every download leaves an audit row, complete or not.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import threading
from typing import IO, cast

from facebank.auth.principal import Principal
from facebank.services.audit import Action, AuditService, Target
from facebank.services.exporter import Exporter

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
QUEUE_CHUNKS = 16  # ~1 MiB in flight per download
POLL_S = 0.1  # how soon either side notices the other is gone
STALL_S = 300.0  # a reader that takes nothing for this long is treated as gone
THREAD_PREFIX = "export-writer"

_END = object()  # the writer's last item after the whole archive
_numbers = itertools.count(1)


class ExportAborted(Exception):
    """The reader went away: the writer stops here."""


class _ChunkPipe:
    """A write-only, non-seekable file (zipfile then writes data descriptors) whose bytes
    go into the queue CHUNK_BYTES at a time, so zipfile's many tiny writes cost one put."""

    def __init__(self, stream: ExportStream) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._aborted = False

    def write(self, data: bytes) -> int:
        if self._aborted:
            return len(data)  # zipfile tidying up after the abort: nobody reads it
        try:
            self._buffer += data
            while len(self._buffer) >= CHUNK_BYTES:
                self._stream.offer(bytes(self._buffer[:CHUNK_BYTES]))
                del self._buffer[:CHUNK_BYTES]
        except ExportAborted:
            self._aborted = True
            raise
        return len(data)

    def flush(self) -> None:
        """Nothing to do: the rest goes out in `finish`, once the archive is complete."""

    def finish(self) -> None:
        if self._buffer:
            self._stream.offer(bytes(self._buffer))
            self._buffer.clear()


class ExportStream:
    """One download: `read` the archive's chunks until b"", `close` when done or gone."""

    def __init__(self, exporter: Exporter, audit: AuditService, actor: Principal) -> None:
        self._exporter = exporter
        self._audit = audit
        self._actor = actor
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._gone = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"{THREAD_PREFIX}-{next(_numbers)}", daemon=True
        )

    def start(self) -> ExportStream:
        self._thread.start()
        return self

    @property
    def writing(self) -> bool:
        return self._thread.is_alive()

    def read(self) -> bytes:
        """The next chunk; b"" at the end (or once closed); raises what stopped the writer."""
        while not self._gone.is_set():
            try:
                item = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if item is _END:
                return b""
            if isinstance(item, Exception):
                raise item
            return cast(bytes, item)
        return b""

    def close(self) -> None:
        self._gone.set()

    def offer(self, item: object) -> None:
        """Queue one item for the reader, waiting while the queue is full (writer side)."""
        waited = 0.0
        while not self._gone.is_set():
            try:
                self._queue.put(item, timeout=POLL_S)
                return
            except queue.Full:
                waited += POLL_S
                if waited >= STALL_S:
                    log.warning("export reader took nothing for %.0f s: stopping", STALL_S)
                    self._gone.set()
        raise ExportAborted

    def _run(self) -> None:
        pipe = _ChunkPipe(self)
        try:
            # zipfile only needs write/flush of the stream it is given.
            counts = self._exporter.write(cast(IO[bytes], pipe))
            pipe.finish()
        except ExportAborted:
            self._record({"completed": False})
            return
        except Exception as exc:
            log.exception("export failed")
            self._record({"completed": False, "error": type(exc).__name__})
            self._offer_quietly(exc)
            return
        # Recorded before the end is sent: a client holding the whole archive finds its row.
        self._record({"completed": True, **counts})
        self._offer_quietly(_END)

    def _offer_quietly(self, item: object) -> None:
        with contextlib.suppress(ExportAborted):  # the reader is gone: nobody waits for it
            self.offer(item)

    def _record(self, details: dict[str, object]) -> None:
        self._audit.record(self._actor, Action.EXPORT, Target.GALLERY, None, details)


def stream_export(exporter: Exporter, audit: AuditService, actor: Principal) -> ExportStream:
    """Start writing the archive for `actor`; the caller reads it and must close it."""
    return ExportStream(exporter, audit, actor).start()
