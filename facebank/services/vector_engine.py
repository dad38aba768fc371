"""The gallery index the settings ask for when it lives in a vector engine (pgvector)."""

from __future__ import annotations

from facebank.config import Settings
from facebank.services.index_sync import PersistentIndex


def vector_engine_index(settings: Settings, model_id: str, dim: int) -> PersistentIndex | None:
    """None for the in-process FAISS index; else the engine's table for this model pack."""
    if settings.index_backend == "faiss":
        return None
    # Imported only when chosen: the pgvector client comes with the optional `vector` extra.
    from facebank.index.pgvector_index import PgVectorIndex

    return PgVectorIndex(
        settings.vector_url, dim, model_id,
        ann_threshold=settings.vector_ann_threshold, ef_search=settings.vector_ef_search,
        pool_size=settings.vector_pool_size, timeout_s=settings.vector_timeout_s,
    )  # fmt: skip
