"""Periodic work on the kept unknown faces: retention and flagging (issue 12).

Retention deletes faces seen longer ago than the retention period: rows, vectors and the
crops nothing else uses, for real. Flagging checks every open cluster's representative face
against the gallery: a cluster that now matches an enrolled person above the running match
threshold (calibrated or configured) is flagged with that person, never merged into them;
a reviewer decides. One batched index search per round, so a round costs one recognise of
as many faces as there are open clusters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from facebank.auth.clock import Clock
from facebank.services.index_sync import IndexManager
from facebank.services.negative_search import NegativeAwareSearcher
from facebank.services.unknowns import UnknownService
from facebank.store.unknowns import UnknownRepository

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
SEARCH_BATCH = 1000
SCORE_DIGITS = 5


class UnknownUpkeep:
    def __init__(
        self,
        repo: UnknownRepository,
        unknowns: UnknownService,
        index: IndexManager,
        searcher: NegativeAwareSearcher,
        threshold: Callable[[], float],
        retention_days: float,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._unknowns = unknowns
        self._index = index
        # Searches honour "not this person": a cluster marked not X is not flagged as X.
        self._searcher = searcher
        self._threshold = threshold
        self._retention = timedelta(days=retention_days)
        self._clock = clock
        # What the last flag round saw: gallery version, unknowns version, threshold,
        # negative labels.
        self._flagged_at: tuple[int, int, float, int] | None = None

    def run_once(self) -> None:
        """One round of both jobs; a failure of one does not stop the other."""
        for job in (self.sweep, self.flag):
            try:
                job()
            except Exception as exc:  # database away: the next round tries again
                log.warning("unknown faces upkeep (%s) failed: %s", job.__name__, exc)

    def sweep(self, now: datetime | None = None) -> int:
        """Delete faces seen before now - retention; returns how many went."""
        cutoff = (now or self._clock()) - self._retention
        removed = 0
        while expired := self._repo.expired_faces(cutoff, SWEEP_BATCH):
            gone = self._repo.delete_faces(f.id for f in expired)
            self._unknowns.forget(gone)
            removed += len(gone)
            if len(expired) < SWEEP_BATCH:
                break
        if removed:
            log.info("unknown faces retention: deleted %d faces", removed)
        return removed

    def flag(self) -> int:
        """Flag open clusters that match an enrolled person now (and unflag those that no
        longer do); returns how many clusters changed. A round where neither the gallery,
        the unknown faces, the threshold nor the labels changed is skipped (cheap reads)."""
        threshold = self._threshold()
        seen = (
            self._index.lag().applied_version,
            self._repo.version(),
            threshold,
            self._searcher.labels_generation(),
        )
        if seen == self._flagged_at:
            return 0
        clusters, vectors = self._repo.open_representatives(self._index.model_id)
        changed = 0
        for start in range(0, len(clusters), SEARCH_BATCH):
            hits = self._searcher.search(vectors[start : start + SEARCH_BATCH], 1)
            for cluster, row in zip(clusters[start : start + SEARCH_BATCH], hits, strict=True):
                best = row[0] if row and row[0].score >= threshold else None
                person = None if best is None else best.person_id
                score = None if best is None else round(best.score, SCORE_DIGITS)
                if person == cluster.match_person_id and (
                    person is None or score == cluster.match_score
                ):
                    continue
                changed += int(self._repo.set_match(cluster.id, person, score))
        # Read again: this round's own flags bumped the unknowns' version.
        self._flagged_at = (seen[0], self._repo.version(), threshold, seen[3])
        return changed
