"""JSON bodies of merging and splitting people; answers are the people routes' own."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from facebank.api.schemas import PersonCreate
from facebank.store.limits import SPLIT_FACES_MAX
from facebank.store.validation import MAX_ID

StoredId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_person_id: StoredId = Field(
        description="the person folded into this one: their faces, sessions' history, "
        "unknown clusters and negative labels move here, then they are deleted",
        examples=[42],
    )


class SplitRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    face_ids: list[StoredId] = Field(
        min_length=1,
        max_length=SPLIT_FACES_MAX,
        description="faces of this person to move to the new person; at least one of "
        "their faces must stay",
        examples=[[7, 8]],
    )
    person: PersonCreate = Field(description="the new person's fields")
