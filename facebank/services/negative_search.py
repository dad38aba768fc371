"""Searching the gallery with "not this person" labels applied, on every worker.

`NegativeCache` holds the running model's labels grouped by person. It checks the store's
cheap version (count, highest id, newest time) at most once per `refresh_s` and rereads
the labels only when it moved: a label added on another worker takes effect here within
`refresh_s`; one added through this process applies at once (`refresh`).
`NegativeAwareSearcher` is the FaceSearcher that recognise, verify and live sessions use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from facebank.index.negative_filter import NegativeSet, filter_hits, widened_k
from facebank.index.people import PersonHit
from facebank.services.index_sync import IndexManager
from facebank.store.negatives import NegativeRepository, NegativesVersion

log = logging.getLogger(__name__)


class NegativeCache:
    def __init__(
        self,
        repo: NegativeRepository,
        model_id: str,
        refresh_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repo = repo
        self._model_id = model_id
        self._refresh_s = refresh_s
        self._now = monotonic
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._version: NegativesVersion | None = None
        self._negatives = NegativeSet.empty()
        self.generation = 0  # bumped on every reread: lets callers tell the labels changed

    def current(self) -> NegativeSet:
        with self._lock:
            now = self._now()
            if self._checked_at is None or now - self._checked_at >= self._refresh_s:
                self._check(now)
            return self._negatives

    def refresh(self) -> None:
        """Reread now: after this process changed a label."""
        with self._lock:
            self._version = None
            self._check(self._now())

    def _check(self, now: float) -> None:
        try:
            # The version is read before the labels: a change committed in between moves
            # the version again, so the next check rereads.
            version = self._repo.version(self._model_id)
            if version != self._version:
                stored = self._repo.vectors(self._model_id)
                self._negatives = NegativeSet.build(stored.person_ids, stored.vectors)
                self._version = version
                self.generation += 1
        except Exception as exc:  # database away: keep filtering with what was read last
            log.warning("reading the negative labels failed: %s", exc)
        self._checked_at = now


class NegativeAwareSearcher:
    """IndexManager.search with each query's "not this person" people left out."""

    def __init__(self, index: IndexManager, cache: NegativeCache, negative_match: float) -> None:
        self._index = index
        self._cache = cache
        self.negative_match = negative_match

    @property
    def model_id(self) -> str:
        return self._index.model_id

    def search(
        self, queries: NDArray[np.float32], top_k: int, allowed_people: set[int] | None = None
    ) -> list[list[PersonHit]]:
        negatives = self._cache.current()
        if not negatives.by_person:
            return self._index.search(queries, top_k, allowed_people)
        rows = self._index.search(
            queries, widened_k(negatives, top_k, allowed_people), allowed_people
        )
        return filter_hits(queries, rows, negatives, self.negative_match, top_k)

    def labels_generation(self) -> int:
        """Changes whenever the labels in force change (after they are next read)."""
        self._cache.current()
        return self._cache.generation

    def rejects(self, person_id: int, query: NDArray[np.float32]) -> bool:
        """Whether `query` is a near-duplicate of a face marked "not `person_id`"."""
        return self._cache.current().rejects(person_id, query, self.negative_match)
