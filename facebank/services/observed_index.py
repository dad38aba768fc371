"""The index manager, with each search reported as the pipeline's "search" stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facebank.index.gallery_index import PersonHit
from facebank.pipeline.observer import ObserverHub
from facebank.services.index_sync import IndexManager
from facebank.store.people import FaceRepository


class ObservedIndexManager(IndexManager):
    def __init__(
        self,
        faces: FaceRepository,
        model_id: str,
        dim: int,
        snapshot_dir: Path,
        observers: ObserverHub,
    ) -> None:
        super().__init__(faces, model_id, dim, snapshot_dir)
        self._observers = observers

    def search(
        self, queries: NDArray[np.float32], top_k: int, allowed_people: set[int] | None = None
    ) -> list[list[PersonHit]]:
        with self._observers.timed("search"):
            return super().search(queries, top_k, allowed_people)
