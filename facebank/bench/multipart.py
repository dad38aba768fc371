"""Multipart bodies encoded once, before the clock starts.

The load generator runs on the machine it measures; encoding a photo into a form on every
request would spend the server's CPU on the client's bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

BOUNDARY = "facebank-bench-7c1f0e2a9b"


@dataclass(frozen=True)
class FormBody:
    content: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def form_body(
    files: list[tuple[str, str, bytes]], fields: dict[str, str] | None = None
) -> FormBody:
    """files: (field, filename, bytes); fields: plain text form fields."""
    parts: list[bytes] = []
    for name, value in (fields or {}).items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for field, filename, data in files:
        safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        head = (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return FormBody(b"".join(parts))
