"""A camera on loopback: JPEG frames served as an HTTP MJPEG stream (multipart/x-mixed-replace)
on a live clock, like an IP camera: every client sees the current frame, a client that
reconnects continues at the present. It can stall (stop answering without closing)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from facebank.bench.simulate.loopback import LoopbackServer

BOUNDARY = "facebankframe"


class MjpegCamera:
    def __init__(self, jpegs: list[bytes], fps: float, loop: bool = True) -> None:
        if not jpegs:
            raise ValueError("a camera needs at least one frame")
        self.jpegs = jpegs
        self.fps = fps
        self.loop = loop
        self.started = time.monotonic()
        self._stalled = threading.Event()
        self._closed = threading.Event()
        self._server = LoopbackServer(_handler(self), "/stream.mjpg")

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> MjpegCamera:
        self.started = time.monotonic()
        self._server.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._server.close()

    def stall(self) -> None:
        """Keep connections open but send nothing (a hung camera)."""
        self._stalled.set()

    def resume(self) -> None:
        self._stalled.clear()

    def live_frame(self, now: float | None = None) -> int:
        """Frames shown since start (not wrapped): frame n shows jpegs[n % len]."""
        return int(((time.monotonic() if now is None else now) - self.started) * self.fps)

    def shown_at(self, frame: int) -> float:
        """Monotonic time at which absolute frame `frame` went live."""
        return self.started + frame / self.fps

    def serve(self, write: Any) -> None:
        """Stream to one client until it goes away, the camera closes or (no loop) ends."""
        sent = -1
        while not self._closed.is_set():
            if self._stalled.is_set():
                time.sleep(0.05)
                continue
            frame = self.live_frame()
            if not self.loop and frame >= len(self.jpegs):
                return
            if frame != sent:
                data = self.jpegs[frame % len(self.jpegs)]
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                ).encode()
                write(head + data + b"\r\n")
                sent = frame
            time.sleep(max(0.0, self.shown_at(frame + 1) - time.monotonic()))


def _handler(camera: MjpegCamera) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            while camera._stalled.is_set() and not camera._closed.is_set():
                time.sleep(0.05)  # a hung camera does not even answer the request
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()

            def write(chunk: bytes) -> None:
                self.wfile.write(chunk)
                self.wfile.flush()

            try:
                camera.serve(write)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client went away

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
