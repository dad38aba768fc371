"""The person page's merge and split, driven in chromium with real photos: an operator
merges a duplicate into a person (picked by name, confirmed), then ticks two photos and
splits them off into a new person; a viewer sees neither."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.services.photos import Photo
from facebank.store.people import PersonFields
from tests.conftest import identity_photos
from tests.web.live import LiveUi, sign_in
from tests.web.test_people import Shoot, confirm, shot

SYSTEM = system_principal("tests")


def enrolled(ui: LiveUi, name: str, photos: list[Path]) -> tuple[int, list[int]]:
    """Test setup through the services; the second entry of one man needs allow_duplicate."""
    created, faces = ui.services.gallery.create_person(
        SYSTEM, PersonFields(name=name), [Photo(p.read_bytes(), p.name) for p in photos],
        allow_duplicate=True,
    )  # fmt: skip
    return created.id, [f.id for f in faces]


def test_merge_then_split_on_the_person_page(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    obama = identity_photos()["fr_obama"]
    a, _ = enrolled(ui, "Barack Obama", obama[:2])
    _, b_faces = enrolled(ui, "B. Obama", obama[2:4])
    ui.user("ada", Role.ADMIN)  # with no admin yet, every page leads to first-admin setup
    ui.user("olga", Role.OPERATOR)
    sign_in(page, ui.url, "olga")
    page.goto(f"{ui.url}/ui/people/{a}")
    expect(page.locator(".photo-card")).to_have_count(2)

    page.get_by_label("Person to merge into this one").fill("B. Ob")
    page.get_by_role("button", name="Merge B. Obama (2 faces) into this person").click()
    confirm(page, "Merge B. Obama (2 face photos) into Barack Obama?")
    expect(page.locator("#photo-count")).to_have_text("4")
    expect(page.locator(".photo-card")).to_have_count(4)
    assert ui.services.gallery.list_faces(a)[-1].id == b_faces[-1]
    status = ui.services.index.status()
    assert status.consistent and status.index_size == 4

    split = page.locator("#split")
    expect(split).to_be_disabled()
    for face_id in b_faces:
        page.locator(f"#split-{face_id}").check()
    expect(split).to_have_text("Split 2 faces off")
    shot(shoot, page, "person-fix")
    split.click()  # no name yet: the field says so, nothing is sent
    expect(page.locator("#split-name-problem")).to_have_text("The new person needs a name.")
    page.get_by_label("New person", exact=True).fill("Someone Else")
    split.click()
    expect(page.locator("#split-state")).to_contain_text("Moved 2 faces to Someone Else")
    expect(page.locator(".photo-card")).to_have_count(2)
    expect(split).to_be_disabled()
    page.get_by_role("link", name="Someone Else").click()
    expect(page.locator("#person-name")).to_have_text("Someone Else")
    expect(page.locator(".photo-card")).to_have_count(2)
    assert ui.services.index.status().consistent


def test_a_viewer_gets_no_fix_controls(ui: LiveUi, page: Page) -> None:
    a, _ = enrolled(ui, "Joe Biden", identity_photos()["fr_biden"][:2])
    ui.user("ada", Role.ADMIN)  # with no admin yet, every page leads to first-admin setup
    ui.user("vera", Role.VIEWER)
    sign_in(page, ui.url, "vera")
    page.goto(f"{ui.url}/ui/people/{a}")
    expect(page.locator(".photo-card")).to_have_count(2)
    expect(page.locator("#merge-search, #split-form, .split-pick")).to_have_count(0)
