"""Whether a media file is still used, by anything that keeps one: gallery faces, kept
unknown faces (their crops) and negative labels. A file's ref is the sha256 of its bytes, so
a crop enrolled as a face's photo (naming an unknown cluster) is one file used twice; every
release asks here before deleting it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facebank.store.tables import Face, NegativeLabel, UnknownFace

_USERS = (Face.media_ref, UnknownFace.media_ref, NegativeLabel.media_ref)


def media_ref_used(session: Session, ref: str) -> bool:
    return any(
        session.scalar(select(column).where(column == ref).limit(1)) is not None
        for column in _USERS
    )
