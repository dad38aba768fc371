"""Before measuring: one enrolled person per identity, so recognitions find matches; after:
delete the people the enroll scenarios created."""

from __future__ import annotations

from facebank.bench.client import BenchClient
from facebank.bench.multipart import form_body
from facebank.bench.photos import PhotoSet
from facebank.bench.scenarios import ENROLL_NAME

SEED_PREFIX = "bench:"  # external_id of the seeded people, so reruns reuse them


async def seed_identities(client: BenchClient, photos: PhotoSet) -> dict[str, int]:
    """identity -> person id, enrolling the identity's first photo when not there yet."""
    ids: dict[str, int] = {}
    for identity, members in sorted(photos.identities.items()):
        external_id = f"{SEED_PREFIX}{identity}"[:128]
        found = await client.get("/api/v1/people", {"external_id": external_id})
        found.raise_for_status("looking up the seeded people")
        items = found.json()["items"]
        if items:
            ids[identity] = int(items[0]["id"])
            continue
        first = members[0]
        body = form_body(
            [("photos", first.name, first.data)],
            {"name": identity, "external_id": external_id, "face_choice": "largest"},
        )
        created = await client.post("/api/v1/people", body)
        if created.status == 201:
            ids[identity] = int(created.json()["id"])
        elif created.status in (401, 403):
            created.raise_for_status("seeding people")  # no point going on without access
    return ids


async def delete_people(client: BenchClient, person_ids: list[int]) -> int:
    deleted = 0
    for person_id in person_ids:
        response = await client.delete(f"/api/v1/people/{person_id}")
        deleted += response.status == 200
    person_ids.clear()
    return deleted


async def sweep_enrolled(client: BenchClient) -> int:
    """Delete every person an enroll scenario left behind (also from interrupted runs)."""
    deleted = 0
    while True:
        page = await client.get("/api/v1/people", {"name": ENROLL_NAME, "page_size": "200"})
        page.raise_for_status("listing the people the enroll scenario made")
        ids = [int(item["id"]) for item in page.json()["items"]]
        if not ids:
            return deleted
        deleted += await delete_people(client, ids)
