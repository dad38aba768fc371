"""The vector engine (pgvector) cut away under a running service, through a TCP proxy the
test controls: recognize and enroll answer 503 vector_engine_unavailable with Retry-After,
an enroll whose vectors could not be written leaves no person behind, and once the engine
is back the service answers again by itself with its index in step with the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import admin_behind, make_settings, photo_file
from tests.conftest import identity_photos
from tests.observability.tcp_proxy import TcpProxy
from tests.vectorpg import fresh_vector_database
from tests.waiting import wait_until

pytestmark = pytest.mark.vector
# Short, so the outage answers come fast; the default is 5 s (settings.vector_timeout_s).
TIMEOUT_S = 1.0


def _through_proxy(url: str) -> tuple[str, TcpProxy]:
    """The engine's unix-socket URL as a TCP one through a fresh proxy."""
    parts = urlsplit(url)
    socket_dir = parse_qs(parts.query)["host"][0]
    proxy = TcpProxy("", 0, unix_path=f"{socket_dir}/.s.PGSQL.5432")
    return f"postgresql://postgres@127.0.0.1:{proxy.port}{parts.path}", proxy


@contextmanager
def engine_behind_proxy(
    vector_url: str, data_dir: Path, pipeline: FacePipeline
) -> Iterator[tuple[TestClient, TcpProxy]]:
    with fresh_vector_database(vector_url) as engine_url:
        proxied, proxy = _through_proxy(engine_url)
        try:
            settings = make_settings(
                data_dir, f"sqlite:///{data_dir / 'facebank.db'}",
                index_backend="pgvector", vector_url=proxied, vector_timeout_s=TIMEOUT_S,
                index_follow_interval_s=0.2,
            )  # fmt: skip
            with admin_behind(proxy, settings, pipeline) as client:
                yield client, proxy
        finally:
            proxy.close()


def _enroll(client: TestClient, name: str, photo: Path, allow_duplicate: bool) -> Response:
    data = {"name": name, "allow_duplicate": "true" if allow_duplicate else "false"}
    return client.post("/api/v1/people", data=data, files=[photo_file(photo, "photos")])


def _recognize(client: TestClient, photo: Path) -> Response:
    return client.post("/api/v1/recognize", files=[photo_file(photo)])


def _unavailable(response: Response) -> bool:
    return (
        response.status_code == 503
        and response.json()["error"]["code"] == "vector_engine_unavailable"
        and int(response.headers["Retry-After"]) > 0
    )


def test_engine_cut_away_and_back(
    vector_url: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    (first, first_photos), (second, second_photos) = list(identity_photos().items())[:2]
    with engine_behind_proxy(vector_url, tmp_path, face_pipeline) as (client, proxy):
        enrolled = _enroll(client, first, first_photos[0], allow_duplicate=False)
        assert enrolled.status_code == 201, enrolled.text
        person_id = enrolled.json()["id"]

        proxy.cut()
        assert _unavailable(_recognize(client, first_photos[1]))
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["failing"] == ["index"], ready.text
        # The duplicate check searches first: refused before anything is written.
        assert _unavailable(_enroll(client, second, second_photos[0], allow_duplicate=False))
        # Without it the rows commit, the vector write fails, and the enroll is undone.
        assert _unavailable(_enroll(client, second, second_photos[0], allow_duplicate=True))
        people = client.get("/api/v1/people").json()
        assert [p["id"] for p in people["items"]] == [person_id]
        # Everything else that needs no vectors keeps working.
        assert client.get(f"/api/v1/people/{person_id}").status_code == 200

        proxy.restore()
        wait_until(
            lambda: _recognize(client, first_photos[1]).status_code == 200,
            timeout=10, what="recognize answering again after the engine returned",
        )  # fmt: skip
        wait_until(lambda: client.get("/health/ready").status_code == 200, timeout=10,
                   what="ready again")  # fmt: skip
        match = _recognize(client, first_photos[1]).json()["faces"][0]["match"]
        assert match is not None and match["person_id"] == person_id
        assert _enroll(client, second, second_photos[0], allow_duplicate=False).status_code == 201

        def reconciled() -> bool:
            status = client.get("/api/v1/index").json()
            return bool(
                status["consistent"]
                and status["index_checksum"] == status["db_checksum"]
                and status["applied_version"] == status["db_version"]
            )

        wait_until(reconciled, timeout=10, what="the engine's table in step with the database")
        assert client.get("/api/v1/index").json()["index_size"] == 2
