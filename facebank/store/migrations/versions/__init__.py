"""Alembic revisions. Never edit a released revision; add a new one."""
