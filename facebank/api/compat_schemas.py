"""The replaced system's names and shapes, declared once: which seed field is which
facebank field, the form fields it took (limits from store.limits), and its JSON answers.

A seed "class" is a person (`class_id` is the person's external id), an "image" is an
enrolled face (`image_id` is the face id). Routes: facebank.api.routes.compat.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Form, Query
from pydantic import BaseModel, Field

from facebank.api.auth_schemas import Password
from facebank.api.convert import face_image_url
from facebank.services.index_sync import IndexStatus
from facebank.store.accounts import Username
from facebank.store.limits import ADDRESS_MAX, AGE_MAX, EXTERNAL_ID_MAX, GENDER_MAX, NAME_MAX
from facebank.store.people import FaceRecord, PersonFields, PersonRecord

# seed field -> facebank person field
PERSON_FIELDS: dict[str, str] = {
    "class_id": "external_id",
    "ten": "name",
    "tuoi": "age",
    "gioitinh": "gender",
    "noio": "address",
}
# The seed's add form sent gioitinh as a boolean and stored "Nam"/"Nữ"; other text is kept.
GENDER_WORDS: dict[str, str] = {"true": "Nam", "1": "Nam", "false": "Nữ", "0": "Nữ"}
SEED_PAGE_SIZE = 15  # the seed's default and its frontend's page size
SEED_MAX_PAGE_SIZE = 100
TOP_K = 5  # query_top5

# Form and query parameters: the store's limits, so nothing here can accept more.
ClassIdForm = Annotated[str, Form(min_length=1, max_length=EXTERNAL_ID_MAX)]
TenForm = Annotated[str | None, Form(max_length=NAME_MAX)]
TuoiForm = Annotated[int | None, Form(ge=0, le=AGE_MAX)]
GioitinhForm = Annotated[str | None, Form(max_length=GENDER_MAX)]
NoioForm = Annotated[str | None, Form(max_length=ADDRESS_MAX)]
ClassIdPath = Annotated[str, Field(min_length=1, max_length=EXTERNAL_ID_MAX)]
ClassIdQuery = Annotated[str | None, Query(min_length=1, max_length=EXTERNAL_ID_MAX)]
NameQuery = Annotated[str | None, Query(max_length=NAME_MAX, description="name contains")]
AgeQuery = Annotated[int | None, Query(ge=0, le=AGE_MAX, description="exact age")]
AddressQuery = Annotated[str | None, Query(max_length=ADDRESS_MAX, description="address contains")]
SeedPage = Annotated[int, Query(ge=1, le=1_000_000)]
SeedPageSize = Annotated[int, Query(ge=1, le=SEED_MAX_PAGE_SIZE)]


@dataclass(frozen=True)
class PersonForm:
    """The person fields of the seed's add and edit forms (None: not sent)."""

    class_id: str
    ten: str | None
    tuoi: int | None
    gioitinh: str | None
    noio: str | None

    def changes(self) -> dict[str, Any]:
        """The fields sent besides class_id, under facebank's names."""
        fields = {PERSON_FIELDS[k]: v for k, v in asdict(self).items() if v is not None}
        del fields["external_id"]
        if "gender" in fields:
            fields["gender"] = GENDER_WORDS.get(fields["gender"].strip().lower(), fields["gender"])
        return fields

    def person(self) -> PersonFields:
        """A new person from the form (bad or missing fields: ValidationFailedError)."""
        return PersonFields.model_validate({**self.changes(), "external_id": self.class_id})


def person_form(
    class_id: ClassIdForm,
    ten: TenForm = None,
    tuoi: TuoiForm = None,
    gioitinh: GioitinhForm = None,
    noio: NoioForm = None,
) -> PersonForm:
    return PersonForm(class_id, ten, tuoi, gioitinh, noio)


SeedPersonForm = Annotated[PersonForm, Depends(person_form)]


class Nguoi(BaseModel):
    """A person as the seed answered (`Nguoi.to_dict`)."""

    class_id: str | None = Field(description="the person's external id")
    ten: str
    tuoi: int | None
    gioitinh: str | None
    noio: str | None


def nguoi(person: PersonRecord) -> Nguoi:
    return Nguoi(
        class_id=person.external_id,
        ten=person.name,
        tuoi=person.age,
        gioitinh=person.gender,
        noio=person.address,
    )


class Image(BaseModel):
    image_id: int = Field(description="the face id")
    image_path: str = Field(description="where to download the enrolled photo")
    class_id: str | None


def image(face: FaceRecord, person: PersonRecord) -> Image:
    # The seed answered a file path; facebank answers the v1 route that serves the photo.
    return Image(image_id=face.id, image_path=face_image_url(face.id), class_id=person.external_id)


class Hit(BaseModel):
    image_id: int
    image_path: str
    class_id: str | None
    score: float
    nguoi: Nguoi


class QueryAnswer(BaseModel):
    """The best match, or no fields at all when nobody matched (as the seed's `{}`)."""

    image_id: int | None = None
    image_path: str | None = None
    class_id: str | None = None
    score: float | None = None
    nguoi: Nguoi | None = None


class Top5Answer(BaseModel):
    results: list[Hit]
    total_time: float = Field(description="seconds")


class Written(BaseModel):
    success: bool = True
    message: str


class Enrolled(Written):
    image_id: int
    image_path: str
    class_id: str
    nguoi: Nguoi


class Edited(Written):
    class_id: str | None
    updated_fields: list[str]
    nguoi: Nguoi


class ImageDeleted(Written):
    image_id: int
    class_id: str | None
    status: str = "deleted"


class ClassDeleted(Written):
    class_id: str
    images_deleted: int
    status: str = "deleted"


class NguoiPage(BaseModel):
    nguoi_list: list[Nguoi]
    total: int


class NguoiList(BaseModel):
    results: NguoiPage


class EmbeddingsPage(BaseModel):
    total: int
    total_pages: int
    page: int
    page_size: int
    results: list[Image]


class ClassImages(BaseModel):
    class_id: str
    image_ids: list[str]
    count: int
    nguoi: Nguoi


class IndexNumbers(BaseModel):
    """The seed's index counters, from facebank's index status (kept whole in `index`)."""

    num_vectors: int = Field(description="faces in the search index")
    num_embeddings: int = Field(description="faces in the database, current model")
    num_unique_class_ids: int = Field(description="people with faces in the index")
    nguoi_total: int = Field(description="people in the database")
    index: IndexStatus


def index_numbers(status: IndexStatus, people: int) -> IndexNumbers:
    return IndexNumbers(
        num_vectors=status.index_size,
        num_embeddings=status.db_count,
        num_unique_class_ids=status.person_count,
        nguoi_total=people,
        index=status,
    )


class IndexReset(Written, IndexNumbers):
    pass


class VectorInfo(BaseModel):
    total: int = Field(description="vectors in the index")
    dim: int
    model_id: str
    other_model_faces: dict[str, int]


class Credentials(BaseModel):
    """The seed's login and register body (its password field is `passwrd`)."""

    username: Username
    passwrd: Password


class Registered(Written):
    id: int
    username: str
    role: str


class LoggedIn(Written):
    token: str = Field(description="the bearer token, as the seed named it")
    username: str
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    expires_at: datetime
