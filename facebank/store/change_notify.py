"""PostgreSQL LISTEN/NOTIFY as the fast path for followers of the change log.

`record_change` sends a NOTIFY in the writing transaction (PostgreSQL delivers it at the
commit, and only then); a `ChangeListener` thread per process holds one connection of its
own that LISTENs, and wakes the follow loop on each one. Polling stays: it is the fallback
when the listener's connection is down (a notification sent meanwhile is lost, the next
poll finds the change) and the only path on SQLite and MariaDB, which have no NOTIFY.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

CHANNEL = "facebank_gallery"
# How often the listener looks at its stop flag while no notification comes.
LISTEN_POLL_S = 1.0
RECONNECT_S = 2.0
CONNECT_TIMEOUT_S = 5  # a database that does not answer must not hold the thread for minutes

log = logging.getLogger(__name__)


def notify_change(session: Session) -> None:
    """Tell listeners a change is coming, at the commit (nothing if it rolls back)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def listens(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class ChangeListener:
    """LISTENs on its own connection and calls `wake` for each committed change (and once
    after each reconnect, in case one was missed). Run `run` in a thread; set `stop`."""

    def __init__(self, engine: Engine, wake: Callable[[], None], stop: threading.Event) -> None:
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wake = wake
        self._stop = stop

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # database away: polling covers it; try again
                log.warning("gallery change listener: %s", exc)
                self._stop.wait(RECONNECT_S)

    def _listen(self) -> None:
        with psycopg.connect(
            self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
        ) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self._wake()
            while not self._stop.is_set():
                for _ in connection.notifies(timeout=LISTEN_POLL_S):
                    self._wake()
