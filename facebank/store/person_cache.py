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

from facebank.auth.ttl_cache import TTLCache

if TYPE_CHECKING:  # people.py holds the record and uses this cache
    from facebank.store.people import PersonRecord

# With no follower (FACEBANK_INDEX_FOLLOW_INTERVAL_S=0): the follower's default interval.
DEFAULT_TTL_S = 2.0
# The people being recognised now; past this many the oldest read go first.
MAX_ENTRIES = 10_000


class PersonCache:
    """TTLCache of people by id, plus the generation that keeps a read from before a
    commit out of it."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._records: TTLCache[int, PersonRecord] = TTLCache(ttl_s, max_entries, clock)
        self._lock = threading.Lock()  # a generation check and its put are one step
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read it before reading the database; hand it to `put` with what was read."""
        return self._generation

    def get(self, person_ids: Iterable[int]) -> dict[int, PersonRecord]:
        """The cached people among `person_ids` read less than ttl_s ago."""
        found = ((i, self._records.get(i)) for i in person_ids)
        return {i: record for i, record in found if record is not None}

    def put(self, records: Iterable[PersonRecord], generation: int) -> None:
        """Keep `records`, read from the database after `generation` was taken, unless
        something was committed since (they may be older than that commit then)."""
        with self._lock:
            if generation != self._generation:
                return
            for record in records:
                self._records.put(record.id, record)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._records.clear()

    def clear_on_commit(self, engine: Engine) -> None:
        """Empty the cache whenever a transaction commits on `engine` (reads roll back)."""

        def committed(_connection: Any) -> None:
            self.clear()

        event.listen(engine, "commit", committed)
