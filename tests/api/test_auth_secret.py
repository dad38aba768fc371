"""The signing key: generated on the first start, kept 0600, the same on every later start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.auth.secret import SECRET_FILE
from facebank.errors import AuthenticationError
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_services

PASSWORD = "correct horse battery"


def test_fresh_install_started_twice_keeps_one_signing_key(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    secret = tmp_path / SECRET_FILE
    assert not secret.exists()
    with running_services("sqlite", tmp_path, face_pipeline) as services:
        first = secret.read_bytes()
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        services.auth.accounts.create_user(system_principal("t"), "ada", PASSWORD, Role.ADMIN)
        token = services.auth.accounts.login("ada", PASSWORD, None).token.token
        key = services.auth.api_keys.create(system_principal("t"), "k", Role.VIEWER).key
    with running_services("sqlite", tmp_path, face_pipeline) as services:
        assert secret.read_bytes() == first
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        # Tokens and keys issued before the restart still work after it.
        assert services.auth.authenticator.authenticate_token(token).name == "ada"
        assert services.auth.authenticator.authenticate_key(key).role is Role.VIEWER


def test_configured_secret_key_is_used_and_nothing_is_written(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with running_services("sqlite", tmp_path, face_pipeline, secret_key="s" * 48) as services:
        services.auth.accounts.create_user(system_principal("t"), "ada", PASSWORD, Role.ADMIN)
        token = services.auth.accounts.login("ada", PASSWORD, None).token.token
    assert not (tmp_path / SECRET_FILE).exists()
    with (
        running_services("sqlite", tmp_path, face_pipeline, secret_key="t" * 48) as services,
        pytest.raises(AuthenticationError),  # another secret: the old token is worthless
    ):
        services.auth.authenticator.authenticate_token(token)
