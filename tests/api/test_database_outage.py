"""The database cut away (through a TCP proxy the test controls; the real servers keep
running) during a burst of enrolls over HTTP, then restored: every acknowledged enroll is
there afterwards, the only 5xx is 503 with Retry-After, and the service recovers by itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import admin_behind, make_settings, photo_file
from tests.conftest import identity_photos
from tests.dbservers import fresh_database
from tests.observability.tcp_proxy import TcpProxy
from tests.waiting import wait_until

CLIENTS = 2
# Enough answers of each phase (before, during, after the cut) to show the behaviour.
EACH_PHASE = 3


@dataclass
class Burst:
    """What the enrolling clients saw; shared between their threads and the test."""

    photo: Path
    acknowledged: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)  # anything but 201 or a proper 503
    unavailable: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enroll_until_stopped(self, client: TestClient, worker: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            data = {"name": f"burst {worker}-{n}", "allow_duplicate": "true"}
            response = client.post(
                "/api/v1/people", data=data, files=[photo_file(self.photo, "photos")]
            )
            with self.lock:
                self.statuses.append(response.status_code)
                if response.status_code == 201:
                    self.acknowledged.append(int(response.json()["id"]))
                elif _proper_503(response.status_code, response.headers, response.text):
                    self.unavailable += 1
                else:
                    self.bad.append(f"{response.status_code} {response.text[:300]}")

    def acked(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def _proper_503(status: int, headers: object, text: str) -> bool:
    retry_after = getattr(headers, "get", lambda _: None)("Retry-After")
    return status == 503 and retry_after is not None and "database_unavailable" in text


@contextmanager
def proxied_admin(kind: str, data_dir: Path, pipeline: FacePipeline
                  ) -> Iterator[tuple[TestClient, TcpProxy]]:  # fmt: skip
    with fresh_database(kind) as url:
        real = make_url(url)
        proxy = TcpProxy(real.host or "127.0.0.1", real.port or 0)
        try:
            proxied = real.set(host="127.0.0.1", port=proxy.port)
            settings = make_settings(
                data_dir, proxied.render_as_string(hide_password=False),
                index_follow_interval_s=0.2,
            )  # fmt: skip
            with admin_behind(proxy, settings, pipeline) as client:
                yield client, proxy
        finally:
            proxy.close()


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ],
)
def test_enroll_burst_across_a_database_cut(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    photo = next(iter(identity_photos().values()))[0]
    burst = Burst(photo)
    with proxied_admin(kind, tmp_path, face_pipeline) as (client, proxy):
        workers = [
            threading.Thread(target=burst.enroll_until_stopped, args=(client, i), daemon=True)
            for i in range(CLIENTS)
        ]
        for worker in workers:
            worker.start()
        try:
            wait_until(lambda: burst.acked() >= EACH_PHASE, timeout=120, what="enrolls")
            proxy.cut()
            wait_until(lambda: burst.unavailable >= EACH_PHASE, timeout=60, what="503s")
            proxy.restore()
            recovered_from = burst.acked()
            wait_until(lambda: burst.acked() >= recovered_from + EACH_PHASE, timeout=120,
                       what="enrolls acknowledged again after the database returned")  # fmt: skip
        finally:
            burst.stop.set()
            for worker in workers:
                worker.join(timeout=60)

        assert burst.bad == [], burst.bad
        assert all(status in (201, 503) for status in burst.statuses)
        for person_id in burst.acknowledged:
            response = client.get(f"/api/v1/people/{person_id}/faces")
            assert response.status_code == 200 and len(response.json()) == 1, response.text

        def consistent() -> bool:
            status = client.get("/api/v1/index").json()
            return bool(status["consistent"] and status["applied_version"] == status["db_version"])

        wait_until(consistent, timeout=30, what="the index in step with the database")
        status = client.get("/api/v1/index").json()
        # An enroll that committed but whose answer was lost (503) may be there too.
        assert status["index_size"] >= len(burst.acknowledged)
