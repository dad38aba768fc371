"""/health/ready follows a real database going away and coming back (through a TCP proxy)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import build_services
from tests.api.conftest import app_client, make_settings
from tests.dbservers import fresh_database
from tests.observability.tcp_proxy import TcpProxy

# The bound: 503 within 5 s of the database going away, 200 again after it returns.
DEADLINE_S = 5.0


@contextmanager
def proxied_app(
    kind: str, data_dir: Path, pipeline: FacePipeline
) -> Iterator[tuple[TestClient, TcpProxy]]:
    with fresh_database(kind) as url:
        real = make_url(url)
        proxy = TcpProxy(real.host or "127.0.0.1", real.port or 0)
        try:
            proxied = real.set(host="127.0.0.1", port=proxy.port)
            settings = make_settings(data_dir, proxied.render_as_string(hide_password=False))
            services = build_services(settings, pipeline=pipeline)
            try:
                services.start()
                with app_client(services, role=None) as client:
                    yield client, proxy
            finally:
                proxy.restore()  # let close() and the database drop finish cleanly
                services.close()
        finally:
            proxy.close()


def wait_for(client: TestClient, status: int, deadline_s: float) -> dict[str, object]:
    """The first /health/ready answer with `status`; fails after `deadline_s`."""
    started = time.monotonic()
    while True:
        response = client.get("/health/ready")
        elapsed = time.monotonic() - started
        if response.status_code == status:
            return dict(response.json())
        if elapsed > deadline_s:
            pytest.fail(
                f"/health/ready still {response.status_code} after {elapsed:.1f} s: {response.text}"
            )
        time.sleep(0.1)


def outage(client: TestClient, break_it: Callable[[], None], proxy: TcpProxy) -> str:
    """Break the database, see 503 within the deadline, heal it, see 200; return the
    database check's error."""
    assert client.get("/health/ready").status_code == 200
    break_it()
    body = wait_for(client, 503, DEADLINE_S)
    assert body["status"] == "not_ready"
    assert "database" in body["failing"]  # type: ignore[operator]
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["models"]["ok"] is True
    # /health says so too, and the process is still alive.
    assert client.get("/health").status_code == 503
    assert client.get("/health/live").status_code == 200
    proxy.restore()
    wait_for(client, 200, DEADLINE_S)
    return str(checks["database"]["error"])


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ],
)
def test_ready_follows_a_stopped_database(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with proxied_app(kind, tmp_path, face_pipeline) as (client, proxy):
        error = outage(client, proxy.cut, proxy)
        assert "Error" in error  # the driver's error class, e.g. OperationalError
        # Twice: the pool's dead connections from the first outage must not linger.
        outage(client, proxy.cut, proxy)


@pytest.mark.mysql
def test_ready_follows_a_partitioned_database(tmp_path: Path, face_pipeline: FacePipeline) -> None:
    """No byte gets through: checks hang, and the probe must answer 503 anyway, without
    piling up threads, and recover once the network heals."""
    with proxied_app("mysql", tmp_path, face_pipeline) as (client, proxy):
        assert "no answer within" in outage(client, proxy.freeze, proxy)
        readiness = client.app.state.readiness  # type: ignore[attr-defined]
        proxy.freeze()
        for _ in range(10):  # a burst of probes during a partition costs few threads
            assert client.get("/health/ready").status_code == 503
        assert readiness.stuck_checks <= 4
        proxy.restore()
        wait_for(client, 200, DEADLINE_S)
