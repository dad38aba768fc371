"""Alembic environment.

`facebank.store.db.migrate` passes an open connection in `config.attributes["connection"]`.
The Alembic CLI also works from anywhere, with the bundled ini:
    alembic -c <site-packages>/facebank/store/migrations/alembic.ini -x url=<db url> upgrade head
(without `-x url`, FACEBANK_DATABASE_URL / the default SQLite file is used).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from facebank.store.db import VERSION_TABLE, make_engine, normalize_url
from facebank.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from facebank.config import Settings

    # Built like the service builds it (env, .env); Any because the fields all have defaults.
    settings: Any = Settings
    return str(settings().effective_database_url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_database_url(), pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(
        url=normalize_url(_database_url()),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
