"""Builds the unknown faces' services (issue 12) from the settings, once, for the container."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from facebank.auth.clock import Clock
from facebank.config import Settings
from facebank.index.unknown_vectors import UnknownVectors
from facebank.services.audit import AuditService
from facebank.services.gallery import GalleryService
from facebank.services.index_sync import IndexManager
from facebank.services.negative_search import NegativeAwareSearcher
from facebank.services.unknown_actions import UnknownActions
from facebank.services.unknown_upkeep import UnknownUpkeep
from facebank.services.unknowns import UnknownService, link_rule
from facebank.store.media import MediaStore
from facebank.store.tx import SessionFactory
from facebank.store.unknowns import UnknownRepository


@dataclass(frozen=True)
class UnknownServices:
    keeper: UnknownService  # keep (the UnknownSink), read the queue
    actions: UnknownActions  # name, add, dismiss, delete a face
    upkeep: UnknownUpkeep  # retention and flagging, run by the container's loop


def build_unknowns(
    settings: Settings,
    sessions: SessionFactory,
    media: MediaStore,
    index: IndexManager,
    searcher: NegativeAwareSearcher,
    gallery: GalleryService,
    audit: AuditService,
    threshold: Callable[[], float],
    model_id: str,
    dim: int,
    clock: Clock,
) -> UnknownServices:
    repo = UnknownRepository(sessions)
    keeper = UnknownService(
        repo, media, UnknownVectors(dim), link_rule(settings), model_id,
        settings.unknown_jpeg_quality,
    )  # fmt: skip
    return UnknownServices(
        keeper=keeper,
        actions=UnknownActions(repo, keeper, gallery, audit),
        upkeep=UnknownUpkeep(
            repo, keeper, index, searcher, threshold, settings.unknown_retention_days, clock
        ),
    )
