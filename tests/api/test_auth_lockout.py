"""Login throttling over HTTP: 429 with Retry-After, and the right password waits too."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, app_client, running_services
from tests.auth.fakes import FakeClock

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("kind", BACKENDS)
def test_twenty_wrong_passwords_lock_the_account_until_the_lockout_passes(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    clock = FakeClock()
    with (
        running_services(kind, tmp_path, face_pipeline, clock=clock) as services,
        app_client(services, role=None) as client,
    ):
        services.auth.accounts.create_user(system_principal("t"), "ada", PASSWORD, Role.VIEWER)

        def login(password: str) -> tuple[int, str | None]:
            response = client.post(
                "/api/v1/auth/login", data={"username": "ada", "password": password}
            )
            return response.status_code, response.headers.get("retry-after")

        answers = [login(f"wrong password {i}") for i in range(20)]
        assert [status for status, _ in answers] == [401] * 5 + [429] * 15
        assert {retry for _, retry in answers[5:]} == {"30"}  # the clock stood still

        assert login(PASSWORD) == (429, "30")  # right password, still locked
        clock.advance(29)
        assert login(PASSWORD) == (429, "1")
        clock.advance(1)
        assert login(PASSWORD)[0] == 200
