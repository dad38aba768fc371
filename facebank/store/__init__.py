"""Persistence: SQL tables and migrations, repositories returning plain records, media files.

The store imports nothing from the api, services, index or pipeline layers.
"""

from facebank.store.db import (
    check_connection,
    current_revision,
    database_kind,
    head_revision,
    make_engine,
    make_session_factory,
    migrate,
    pool_status,
)
from facebank.store.media import MediaStore
from facebank.store.paging import Page
from facebank.store.people import (
    FaceRecord,
    FaceRepository,
    NewFace,
    PeopleRepository,
    PersonFields,
    PersonFilter,
    PersonRecord,
)
from facebank.store.vectors import decode_embeddings, encode_embedding

__all__ = [
    "FaceRecord",
    "FaceRepository",
    "MediaStore",
    "NewFace",
    "Page",
    "PeopleRepository",
    "PersonFields",
    "PersonFilter",
    "PersonRecord",
    "check_connection",
    "current_revision",
    "database_kind",
    "decode_embeddings",
    "encode_embedding",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "migrate",
    "pool_status",
]
