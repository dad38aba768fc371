"""The Alembic migrations: idempotent, concurrent-safe, and the schema equals the models."""

from __future__ import annotations

import subprocess
import sys
import threading

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from facebank.store.db import (
    MIGRATIONS_DIR,
    VERSION_TABLE,
    current_revision,
    head_revision,
    make_engine,
    migrate,
)
from facebank.store.tables import Base


def test_migrate_creates_exactly_the_models_schema(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        migrate(engine)  # idempotent: a second start changes nothing
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, VERSION_TABLE}
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            assert compare_metadata(context, Base.metadata) == []
        fks = inspect(engine).get_foreign_keys("faces")
        assert [(fk["referred_table"], fk["options"].get("ondelete")) for fk in fks] == [
            ("people", "CASCADE")
        ]
    finally:
        engine.dispose()


def test_migrate_concurrently_from_threads_and_processes(empty_db_url: str) -> None:
    # Several workers starting together must not trip over each other.
    script = "import sys; from facebank.store.db import migrate; migrate(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, empty_db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate(empty_db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outputs = [(p.wait(timeout=60), p.communicate()[0]) for p in processes]
    assert errors == []
    assert [code for code, _ in outputs] == [0, 0], outputs
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    assert MIGRATIONS_DIR.parent.name == "store"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert list((MIGRATIONS_DIR / "versions").glob("v0001_*.py"))
