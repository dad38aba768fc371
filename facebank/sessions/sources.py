"""What a camera URL means, and opening it with OpenCV (FFmpeg backend) under timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import cv2

from facebank.errors import ValidationFailedError

SourceKind = Literal["stream", "file", "device"]
STREAM_SCHEMES = {"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"}


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    target: str | int  # what OpenCV opens: URL, file path or device index

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


def parse_source(url: str) -> Source:
    """"0" -> device 0; rtsp://, http(s)://... -> stream; file:///x or a path -> file."""
    text = url.strip()
    if text.isdigit():
        return Source("device", int(text))
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in STREAM_SCHEMES:
        if not parts.hostname:
            raise ValidationFailedError(f"camera URL {redact(url)!r} has no host", field="url")
        return Source("stream", text)
    if scheme == "file":
        return Source("file", parts.path)
    if scheme and len(scheme) > 1:  # "c:" is a Windows drive, not a scheme
        raise ValidationFailedError(
            f"unsupported camera URL scheme {scheme!r}: use rtsp://, http(s)://, a file path "
            "or a device index",
            field="url",
        )
    return Source("file", text)


def check_file_exists(source: Source) -> None:
    if source.is_file and not Path(str(source.target)).is_file():
        raise ValidationFailedError(f"video file {source.target!s} does not exist", field="url")


def redact(url: str) -> str:
    """The URL without its password (RTSP URLs often carry credentials)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else f"***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def open_capture(source: Source, open_timeout_s: float, read_timeout_s: float) -> cv2.VideoCapture:
    """Open a source; the caller checks isOpened(). FFmpeg's interrupt callback enforces
    the timeouts, so a camera that stops answering makes read() fail instead of hanging."""
    if source.kind == "device":
        return cv2.VideoCapture(int(source.target))
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(read_timeout_s * 1000),
    ]
    return cv2.VideoCapture(str(source.target), cv2.CAP_FFMPEG, params)
