"""What /health/detailed and /metrics ask the live camera sessions (facebank.sessions).

Until that part exists, NoSessions answers "nothing running". The sessions manager fills
this in by implementing SessionsProbe and assigning itself to `Services.sessions_probe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CameraStatus:
    session: str  # the session's external key
    camera: str  # camera id or URL with credentials removed
    state: str  # e.g. "running", "retrying", "failed"
    fps: float = 0.0
    dropped_frames: int = 0


@dataclass(frozen=True)
class SessionsSnapshot:
    active_sessions: int = 0
    cameras: tuple[CameraStatus, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "active_sessions": self.active_sessions,
            "active_cameras": len(self.cameras),
            "cameras": [dict(c.__dict__) for c in self.cameras],
        }


class SessionsProbe(Protocol):
    def snapshot(self) -> SessionsSnapshot: ...


class NoSessions:
    def snapshot(self) -> SessionsSnapshot:
        return SessionsSnapshot()
