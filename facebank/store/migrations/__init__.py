"""Alembic migrations, shipped inside the package; run them with `facebank.store.db.migrate`."""
