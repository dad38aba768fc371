"""Malformed requests each get a 4xx JSON error, and the server keeps serving."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import app_client, running_app, running_services
from tests.conftest import identity_photos

OBAMA = identity_photos()["fr_obama"][0]


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height: a decompression bomb in a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)
    idat_chunk = b"IDAT" + idat
    body += struct.pack(">I", len(idat)) + idat_chunk + struct.pack(">I", zlib.crc32(idat_chunk))
    return b"\x89PNG\r\n\x1a\n" + body


def _blank_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _file(data: bytes, name: str = "photo.jpg", field: str = "file") -> list:
    return [(field, (name, data, "image/jpeg"))]


JPEG = OBAMA.read_bytes()
TRUNCATED = JPEG[: len(JPEG) // 3]
HUGE_PNG = _png_header(30000, 30000)
FIFTY_MB = b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024)

# (method, path, request kwargs, expected status, expected error code)
CASES: list[tuple[str, str, dict, int, str]] = [
    ("post", "/api/v1/recognize", {"files": _file(TRUNCATED)}, 400, "image_invalid"),
    ("post", "/api/v1/recognize", {"files": _file(b"")}, 400, "image_invalid"),
    (
        "post",
        "/api/v1/recognize",
        {"files": _file(b"hello, I am text\n" * 10)},
        400,
        "image_invalid",
    ),
    ("post", "/api/v1/recognize", {"files": _file(HUGE_PNG, "huge.png")}, 413, "image_too_large"),
    ("post", "/api/v1/recognize", {"files": _file(FIFTY_MB)}, 413, "image_too_large"),
    ("post", "/api/v1/recognize", {}, 422, "validation_error"),
    ("post", "/api/v1/recognize", {"data": {"file": "not a file"}}, 422, "validation_error"),
    ("post", "/api/v1/recognize?top_k=abc", {"files": _file(JPEG)}, 422, "validation_error"),
    ("post", "/api/v1/recognize?top_k=0", {"files": _file(JPEG)}, 422, "validation_error"),
    ("post", "/api/v1/recognize?threshold=7", {"files": _file(JPEG)}, 422, "validation_error"),
    ("post", "/api/v1/recognize?max_faces=-1", {"files": _file(JPEG)}, 422, "validation_error"),
    ("post", "/api/v1/detect", {"files": _file(TRUNCATED)}, 400, "image_invalid"),
    ("post", "/api/v1/embeddings", {"files": _file(b"GIF89a")}, 400, "image_invalid"),
    ("post", "/api/v1/verify", {"files": _file(JPEG, field="file_a")}, 422, "validation_error"),
    (
        "post",
        "/api/v1/verify",
        {"files": _file(_blank_jpeg(), field="file_a") + _file(JPEG, field="file_b")},
        422,
        "no_face",
    ),
    (
        "post",
        "/api/v1/verify",
        {"files": _file(JPEG, field="file_a"), "data": {"person_id": "999999"}},
        404,
        "not_found",
    ),
    (
        "post",
        "/api/v1/verify",
        {"files": _file(JPEG, field="file_a"), "data": {"person_id": "xyz"}},
        422,
        "validation_error",
    ),
    ("post", "/api/v1/people", {"json": {}}, 422, "validation_error"),
    ("post", "/api/v1/people", {"json": {"name": "x", "age": "old"}}, 422, "validation_error"),
    ("post", "/api/v1/people", {"json": {"name": "x", "age": -4}}, 422, "validation_error"),
    (
        "post",
        "/api/v1/people",
        {"json": {"name": "x", "unknown_field": 1}},
        422,
        "validation_error",
    ),
    (
        "post",
        "/api/v1/people",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
        "validation_error",
    ),
    (
        "post",
        "/api/v1/people",
        {"content": b"name=x", "headers": {"content-type": "text/plain"}},
        422,
        "validation_error",
    ),
    (
        "post",
        "/api/v1/people",
        {"data": {"name": "x", "metadata": "[1,2]"}, "files": _file(JPEG, field="photos")},
        422,
        "validation_error",
    ),
    (
        "post",
        "/api/v1/people",
        {"data": {"name": "x"}, "files": _file(_blank_jpeg(), field="photos")},
        422,
        "no_face",
    ),
    ("get", "/api/v1/people?page=-1", {}, 422, "validation_error"),
    ("get", "/api/v1/people?page_size=100000", {}, 422, "validation_error"),
    ("get", "/api/v1/people/123456789", {}, 404, "not_found"),
    ("get", "/api/v1/people/not-a-number", {}, 422, "validation_error"),
    ("patch", "/api/v1/people/123456789", {"json": {"name": "y"}}, 404, "not_found"),
    ("delete", "/api/v1/people/123456789", {}, 404, "not_found"),
    (
        "post",
        "/api/v1/people/123456789/faces",
        {"files": _file(JPEG, field="photos")},
        404,
        "not_found",
    ),
    ("get", "/api/v1/faces/123456789/image", {}, 404, "not_found"),
    ("delete", "/api/v1/faces/123456789", {}, 404, "not_found"),
    ("get", "/api/v1/no-such-route", {}, 404, "not_found"),
    ("put", "/api/v1/index", {}, 405, "method_not_allowed"),
]


@pytest.fixture(scope="module")
def shared_client(
    tmp_path_factory: pytest.TempPathFactory, face_pipeline: FacePipeline
) -> TestClient:
    with running_app("sqlite", tmp_path_factory.mktemp("bad"), face_pipeline) as client:
        yield client  # type: ignore[misc]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    CASES,
    ids=[f"{i:02d}-{c[0]}-{c[4]}" for i, c in enumerate(CASES)],
)
def test_bad_request_gets_json_4xx(
    shared_client: TestClient, method: str, path: str, kwargs: dict, status: int, code: str
) -> None:
    response = getattr(shared_client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert shared_client.get("/health/live").status_code == 200


def test_nothing_was_stored_by_bad_requests(shared_client: TestClient, tmp_path: Path) -> None:
    assert shared_client.get("/api/v1/people").json()["total"] == 0
    assert shared_client.get("/api/v1/index").json()["index_size"] == 0


def test_request_over_the_body_limit_is_refused_before_parsing(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with (
        running_services("sqlite", tmp_path, face_pipeline, max_request_bytes=8192) as services,
        app_client(services) as client,
    ):
        declared = client.post("/api/v1/recognize", files=_file(JPEG))
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "request_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: cut off while streaming
            for _ in range(64):
                yield b"x" * 1024

        streamed = client.post(
            "/api/v1/people", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"]["code"] == "request_too_large"
        assert client.get("/health/live").status_code == 200
