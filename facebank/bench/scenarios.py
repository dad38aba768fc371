"""What each benchmark scenario sends. Every request is prepared before the clock starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from facebank.bench.multipart import FormBody, form_body
from facebank.bench.photos import PhotoSet

ENROLL_NAME = "facebank-bench-enroll"  # people the enroll scenarios create, then delete
MIXED_PATTERN = (
    "recognize", "recognize", "recognize", "recognize", "recognize", "recognize",
    "verify", "search", "search", "enroll",
)  # fmt: skip


@dataclass(frozen=True)
class Call:
    kind: str  # recognize, verify, enroll, search
    method: str
    path: str
    body: FormBody | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    photo_set: str  # the set whose bare-pipeline ceiling this scenario is compared with
    calls: dict[str, tuple[Call, ...]]  # kind -> prepared calls, cycled
    pattern: tuple[str, ...]  # kinds in the order requests take them

    def call(self, n: int) -> Call:
        """The n-th request of a run (all workers share one counter)."""
        kind = self.pattern[n % len(self.pattern)]
        prepared = self.calls[kind]
        return prepared[(n // len(self.pattern)) % len(prepared)]


def recognize_calls(photos: PhotoSet) -> tuple[Call, ...]:
    return tuple(
        Call("recognize", "POST", "/api/v1/recognize", form_body([("file", p.name, p.data)]))
        for p in photos.photos
    )


def verify_calls(photos: PhotoSet, person_ids: dict[str, int]) -> tuple[Call, ...]:
    """Each photo against its own enrolled identity (1:1 with a person id)."""
    return tuple(
        Call(
            "verify",
            "POST",
            "/api/v1/verify",
            form_body([("file_a", p.name, p.data)], {"person_id": str(person_ids[p.identity])}),
        )
        for p in photos.photos
        if p.identity in person_ids
    )


def enroll_calls(photos: PhotoSet) -> tuple[Call, ...]:
    return tuple(
        Call(
            "enroll",
            "POST",
            "/api/v1/people",
            form_body(
                [("photos", p.name, p.data)],
                # The photos are of seeded people: enrolled again on purpose.
                {"name": ENROLL_NAME, "face_choice": "largest", "allow_duplicate": "true"},
            ),
        )
        for p in photos.photos
    )


def search_calls(photos: PhotoSet) -> tuple[Call, ...]:
    names = sorted(photos.identities) or ["a"]
    return tuple(
        Call("search", "GET", "/api/v1/people", params={"q": name[:6], "page_size": "20"})
        for name in names
    )


def build_scenarios(
    single: PhotoSet, groups: PhotoSet | None, person_ids: dict[str, int], wanted: list[str]
) -> list[Scenario]:
    recognize = recognize_calls(single)
    verify = verify_calls(single, person_ids)
    enroll = enroll_calls(single)
    search = search_calls(single)
    table = {
        "recognize": Scenario("recognize", single.name, {"recognize": recognize}, ("recognize",)),
        "enroll": Scenario("enroll", single.name, {"enroll": enroll}, ("enroll",)),
        "verify": Scenario("verify", single.name, {"verify": verify}, ("verify",)),
        "mixed": Scenario(
            "mixed",
            single.name,
            {"recognize": recognize, "verify": verify, "search": search, "enroll": enroll},
            MIXED_PATTERN,
        ),
    }
    if groups is not None:
        table["recognize-group"] = Scenario(
            "recognize-group", groups.name, {"recognize": recognize_calls(groups)}, ("recognize",)
        )
    unknown = [name for name in wanted if name not in table]
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; choose from {sorted(table)}")
    if not verify and any(name in ("verify", "mixed") for name in wanted):
        raise ValueError("verify needs enrolled identities (the seed step found none)")
    return [table[name] for name in wanted]
