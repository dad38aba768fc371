"""What sessions report to metrics, without knowing who listens (facebank.observability's
SessionMetrics fits this protocol; nobody listening is the default)."""

from __future__ import annotations

from typing import Protocol


class SessionObserver(Protocol):
    def frame_processed(self, session: str, camera: str) -> None: ...

    def frames_dropped(self, session: str, camera: str, count: int = 1) -> None: ...

    def set_fps(self, session: str, camera: str, fps: float) -> None: ...

    def camera_stopped(self, session: str, camera: str) -> None: ...

    def webhook_delivery(self, outcome: str) -> None:
        """outcome: "delivered", "retrying" (failed, will retry) or "failed" (gave up)."""


class NoObserver:
    def frame_processed(self, session: str, camera: str) -> None:
        pass

    def frames_dropped(self, session: str, camera: str, count: int = 1) -> None:
        pass

    def set_fps(self, session: str, camera: str, fps: float) -> None:
        pass

    def camera_stopped(self, session: str, camera: str) -> None:
        pass

    def webhook_delivery(self, outcome: str) -> None:
        pass
