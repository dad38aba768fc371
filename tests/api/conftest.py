"""Apps over fresh databases of each kind, sharing the session's loaded models.

Every client these helpers hand out is authenticated: `running_app`, `client` and
`sqlite_client` send an admin API key (X-API-Key) by default; `app_client(services, role)`
wraps an app over already running services the same way; `api_key_for(services, role)`
mints more keys. Pass `role=None` for an anonymous client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facebank.api.app import create_app
from facebank.api.security import API_KEY_HEADER
from facebank.auth.clock import Clock, system_clock
from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from tests.dbservers import fresh_database
from tests.observability.tcp_proxy import TcpProxy

BACKENDS = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


def make_settings(data_dir: Path, database_url: str = "", **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, database_url=database_url, **overrides)


@contextmanager
def running_services(
    kind: str,
    data_dir: Path,
    pipeline: FacePipeline,
    *,
    clock: Clock = system_clock,
    **overrides: Any,
) -> Iterator[Services]:
    with ExitStack() as stack:
        url = "" if kind == "sqlite" else stack.enter_context(fresh_database(kind))
        settings = make_settings(data_dir, url, **overrides)
        services = build_services(settings, pipeline=pipeline, clock=clock)
        stack.callback(services.close)
        services.start()
        yield services


def api_key_for(services: Services, role: Role = Role.ADMIN, name: str = "tests") -> str:
    """A fresh API key with `role`, minted the way the CLI bootstraps (as the system)."""
    return services.auth.api_keys.create(system_principal("tests"), name, role).key


@contextmanager
def app_client(services: Services, role: Role | None = Role.ADMIN) -> Iterator[TestClient]:
    """A client of an app over `services`, sending a key of `role` (None: anonymous)."""
    with TestClient(create_app(services=services)) as client:
        if role is not None:
            client.headers[API_KEY_HEADER] = api_key_for(services, role, f"tests-{role.value}")
        yield client


@contextmanager
def admin_behind(
    proxy: TcpProxy, settings: Settings, pipeline: FacePipeline
) -> Iterator[TestClient]:
    """An admin client of services whose database or engine is reached through `proxy`;
    the proxy is restored before they close, so closing never waits on a cut link."""
    services = build_services(settings, pipeline=pipeline)
    try:
        services.start()
        with app_client(services) as client:
            yield client
    finally:
        proxy.restore()
        services.close()


@contextmanager
def running_app(
    kind: str,
    data_dir: Path,
    pipeline: FacePipeline,
    role: Role | None = Role.ADMIN,
    **overrides: Any,
) -> Iterator[TestClient]:
    with (
        running_services(kind, data_dir, pipeline, **overrides) as services,
        app_client(services, role) as client,
    ):
        yield client


@pytest.fixture(params=BACKENDS)
def client(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[TestClient]:
    with running_app(request.param, tmp_path, face_pipeline) as app_client:
        yield app_client


@pytest.fixture
def sqlite_client(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[TestClient]:
    with running_app("sqlite", tmp_path, face_pipeline) as app_client:
        yield app_client


def photo_file(path: Path, field: str = "file") -> tuple[str, tuple[str, bytes, str]]:
    return (field, (path.name, path.read_bytes(), "application/octet-stream"))
