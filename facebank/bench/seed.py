"""Before measuring: one enrolled person per identity, so recognitions find matches; after:
delete the people the enroll scenarios created."""

from __future__ import annotations

import httpx

from facebank.bench.multipart import form_body
from facebank.bench.photos import PhotoSet
from facebank.bench.scenarios import ENROLL_NAME

SEED_PREFIX = "bench:"  # external_id of the seeded people, so reruns reuse them


async def seed_identities(client: httpx.AsyncClient, photos: PhotoSet) -> dict[str, int]:
    """identity -> person id, enrolling the identity's first photo when not there yet."""
    ids: dict[str, int] = {}
    for identity, members in sorted(photos.identities.items()):
        external_id = f"{SEED_PREFIX}{identity}"[:128]
        found = await client.get("/api/v1/people", params={"external_id": external_id})
        found.raise_for_status()
        items = found.json()["items"]
        if items:
            ids[identity] = int(items[0]["id"])
            continue
        first = members[0]
        body = form_body(
            [("photos", first.name, first.data)],
            {"name": identity, "external_id": external_id, "face_choice": "largest"},
        )
        created = await client.post("/api/v1/people", content=body.content, headers=body.headers)
        if created.status_code == 201:
            ids[identity] = int(created.json()["id"])
        elif created.status_code in (401, 403):
            created.raise_for_status()  # no point going on without access
    return ids


async def delete_people(client: httpx.AsyncClient, person_ids: list[int]) -> int:
    deleted = 0
    for person_id in person_ids:
        response = await client.delete(f"/api/v1/people/{person_id}")
        deleted += response.status_code == 200
    person_ids.clear()
    return deleted


async def sweep_enrolled(client: httpx.AsyncClient) -> int:
    """Delete every person an enroll scenario left behind (also from interrupted runs)."""
    deleted = 0
    while True:
        page = await client.get("/api/v1/people", params={"name": ENROLL_NAME, "page_size": 200})
        page.raise_for_status()
        ids = [int(item["id"]) for item in page.json()["items"]]
        if not ids:
            return deleted
        deleted += await delete_people(client, ids)
