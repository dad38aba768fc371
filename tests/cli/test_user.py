"""`facebank user`: bootstrap the first admin and a machine key from the shell."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from facebank.auth.clock import system_clock
from facebank.auth.roles import Role
from facebank.cli.main import main
from facebank.config import Settings
from facebank.services.auth_setup import build_auth
from facebank.store.db import make_engine, make_session_factory


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACEBANK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FACEBANK_DATABASE_URL", raising=False)
    monkeypatch.delenv("FACEBANK_SECRET_KEY", raising=False)
    return tmp_path


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_create_admin_then_key_then_reset_password(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "correct horse battery\n")
    assert main(["user", "create", "--admin", "Root", "--password-stdin"]) == 0
    assert "created root (admin)" in capsys.readouterr().out
    assert main(["user", "api-key", "prometheus", "--role", "viewer"]) == 0
    key = capsys.readouterr().out.strip()
    _stdin(monkeypatch, "a brand new password\n")
    assert main(["user", "set-password", "root", "--password-stdin"]) == 0
    assert main(["user", "list"]) == 0
    assert "root" in capsys.readouterr().out

    settings = Settings(_env_file=None, data_dir=data_dir)
    engine = make_engine(settings.effective_database_url)
    try:
        auth = build_auth(settings, make_session_factory(engine), system_clock)
        assert not auth.accounts.registration_open()  # the shell created the admin
        assert auth.authenticator.authenticate_key(key).role is Role.VIEWER
        auth.accounts.login("root", "a brand new password", None)
    finally:
        engine.dispose()


def test_errors_are_reported_not_raised(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "short\n")
    assert main(["user", "create", "root", "--password-stdin"]) == 1
    assert "password must be" in capsys.readouterr().err
    _stdin(monkeypatch, "whatever long enough\n")
    assert main(["user", "set-password", "nobody", "--password-stdin"]) == 1
