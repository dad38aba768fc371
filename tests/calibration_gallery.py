"""Galleries of real photos for the threshold calibration tests (issue 15)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from facebank.auth.principal import system_principal
from facebank.services.container import Services
from facebank.services.photos import FaceChoice, Photo
from facebank.store.people import PersonFields

ENROLLER = system_principal("tests")


def enroll_identities(
    services: Services, identities: dict[str, list[Path]], held_back: Collection[Path] = ()
) -> int:
    """Enroll each identity as one person with its photos (but `held_back`); faces enrolled."""
    enrolled = 0
    for name, photos in identities.items():
        chosen = [Photo(p.read_bytes(), p.name) for p in photos if p not in held_back]
        if chosen:
            _, faces = services.gallery.create_person(
                ENROLLER, PersonFields(name=name), chosen, FaceChoice.LARGEST
            )
            enrolled += len(faces)
    return enrolled
