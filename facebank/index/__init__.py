"""FAISS gallery index: add/remove/search per person, snapshot, checksum for verification.

Derived data only; never imports store/services/api/pipeline.
"""

from facebank.index.checksum import IdsHasher, ids_checksum
from facebank.index.gallery_index import GalleryIndex
from facebank.index.people import PersonHit
from facebank.index.rwlock import RWLock
from facebank.index.snapshot import load_snapshot, save_snapshot

__all__ = [
    "GalleryIndex",
    "IdsHasher",
    "PersonHit",
    "RWLock",
    "ids_checksum",
    "load_snapshot",
    "save_snapshot",
]
