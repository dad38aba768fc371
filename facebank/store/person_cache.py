"""People recently read by id, for the lookup every recognition makes of the people it
matched (PeopleRepository.get_many).

On that path the lookup cost ~0.7-1.3 ms a request in a lane, right after the pipeline
evicted the CPU caches (docs/bench.md), against microseconds for a dict. What keeps it
true:
- every commit on this process's engine empties it (`clear_on_commit`): any writer here,
  whichever repository, leaves no stale record behind, and a read that began before the
  commit cannot put its older rows back (the generation check in `put`);
- what another process commits (another server, `facebank import`) reaches it within
  `ttl_s`, the interval at which a follower takes in another process's faces anyway
  (FACEBANK_INDEX_FOLLOW_INTERVAL_S).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event

if TYPE_CHECKING:  # people.py holds the record and uses this cache
    from facebank.store.people import PersonRecord

# With no follower (FACEBANK_INDEX_FOLLOW_INTERVAL_S=0): the follower's default interval.
DEFAULT_TTL_S = 2.0
# Past this many people it starts again empty: it holds who is being recognised now.
MAX_ENTRIES = 10_000


class PersonCache:
    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[int, tuple[float, PersonRecord]] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read it before reading the database; hand it to `put` with what was read."""
        return self._generation

    def get(self, person_ids: Iterable[int]) -> dict[int, PersonRecord]:
        """The cached people among `person_ids` read less than ttl_s ago."""
        oldest = self._clock() - self._ttl_s
        with self._lock:
            found = {i: self._records.get(i) for i in person_ids}
        return {i: entry[1] for i, entry in found.items() if entry and entry[0] > oldest}

    def put(self, records: Iterable[PersonRecord], generation: int) -> None:
        """Keep `records`, read from the database after `generation` was taken, unless
        something was committed since (they may be older than that commit then)."""
        now = self._clock()
        with self._lock:
            if generation != self._generation:
                return
            if len(self._records) >= self._max_entries:
                self._records.clear()
            self._records.update((r.id, (now, r)) for r in records)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._records.clear()

    def clear_on_commit(self, engine: Engine) -> None:
        """Empty the cache whenever a transaction commits on `engine` (reads roll back)."""

        def committed(_connection: Any) -> None:
            self.clear()

        event.listen(engine, "commit", committed)
