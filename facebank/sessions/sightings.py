"""Per-person seen-statistics gathered on inference threads, written to the database in
batches (with the person's event, or by the periodic flush) rather than on every frame."""

from __future__ import annotations

import threading
from datetime import datetime

from facebank.store.sessions import Sighting


class SightingBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, Sighting] = {}

    def add(self, person_id: int, at: datetime, score: float, new_sighting: bool) -> None:
        self.merge([Sighting(person_id, at, at, int(new_sighting), score)])

    def merge(self, sightings: list[Sighting]) -> None:
        """Fold in (also used to put back a batch whose write failed)."""
        with self._lock:
            for seen in sightings:
                old = self._pending.get(seen.person_id)
                self._pending[seen.person_id] = seen if old is None else Sighting(
                    seen.person_id,
                    min(old.first_seen, seen.first_seen),
                    max(old.last_seen, seen.last_seen),
                    old.new_sightings + seen.new_sightings,
                    max(old.best_score, seen.best_score),
                )

    def take(self, person_id: int) -> list[Sighting]:
        with self._lock:
            seen = self._pending.pop(person_id, None)
            return [] if seen is None else [seen]

    def take_all(self) -> list[Sighting]:
        with self._lock:
            taken = list(self._pending.values())
            self._pending.clear()
            return taken
