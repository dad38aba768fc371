"""The people, person and add-person pages, driven in chromium with real photos."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Dialog, Locator, Page, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.services.photos import Photo
from facebank.store.people import PersonFields, PersonFilter
from tests.conftest import identity_photos
from tests.web.live import LiveUi, sign_in

Shoot = Callable[[Page, str], Path]
DASH = "\u2013"  # en dash: the summary reads "1<dash>25 of 31 people"
XSS = "<img src=x onerror=alert(1)>"
SYSTEM = system_principal("tests")


def person(ui: LiveUi, name: str, photos: list[Path] = (), **fields: object) -> int:  # type: ignore[assignment]
    """A person enrolled through the services (test setup, not the thing under test)."""
    created, _ = ui.services.gallery.create_person(
        SYSTEM, PersonFields(name=name, **fields), [Photo(p.read_bytes(), p.name) for p in photos]
    )
    return created.id


def people_named(ui: LiveUi, name: str) -> int:
    return ui.services.gallery.search_people(PersonFilter(name=name), 0, 10).total


def no_dialogs(page: Page) -> list[str]:
    """Collects any alert/confirm the page opens: an injected script would show here."""
    seen: list[str] = []

    def record(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return seen


def admin(ui: LiveUi, page: Page, name: str = "ada") -> None:
    ui.user(name, Role.ADMIN)
    sign_in(page, ui.url, name)


def shot(shoot: Shoot, page: Page, name: str) -> None:
    """A screenshot from the top: the sticky top bar then sits where it belongs."""
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, name)


def rows(page: Page) -> Locator:
    return page.locator("#rows tr")


# --- people list ----------------------------------------------------------------------------


def test_search_sort_and_pages(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    for i in range(30):
        person(ui, f"Student {i:02d}", age=18 + i, address="Hanoi" if i % 2 else "Hue")
    person(ui, "Teacher Nguyen", age=45, address="Hanoi", external_id="T-1")
    admin(ui, page)
    page.goto(ui.url + "/ui/people?page_size=25")
    expect(page.locator("#summary")).to_have_text(f"1{DASH}25 of 31 people")
    expect(rows(page).first).to_contain_text("Student 00")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#summary")).to_have_text(f"26{DASH}31 of 31 people")
    expect(page.locator("#page-of")).to_have_text("Page 2 of 2")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(rows(page)).to_have_count(6)

    page.get_by_label("Name").fill("student")
    page.get_by_label("Age from").fill("20")
    page.get_by_label("Age to").fill("22")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#summary")).to_have_text(f"1{DASH}3 of 3 people matching")
    expect(page).to_have_url(re.compile(r"q=student.*age_min=20.*age_max=22"))
    page.get_by_role("button", name="Age").click()  # by name now; age sorts ascending
    expect(page.locator("th[data-sort=age]")).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("button", name="Age").click()
    expect(page.locator("th[data-sort=age]")).to_have_attribute("aria-sort", "descending")
    expect(rows(page).first).to_contain_text("Student 04")

    page.get_by_role("button", name="Clear").click()
    page.get_by_label("External id").fill("T-1")
    expect(page.locator("#summary")).to_have_text(f"1{DASH}1 of 1 person matching")  # as one types
    page.get_by_label("External id").fill("")
    page.get_by_label("Address").fill("hanoi")
    expect(page.locator("#summary")).to_have_text(f"1{DASH}16 of 16 people matching")

    page.goto(ui.url + "/ui/people?sort=-age")  # a bookmarked search
    expect(page.locator("th[data-sort=age]")).to_have_attribute("aria-sort", "descending")
    expect(rows(page).first).to_contain_text("Student 29")  # 47, above the teacher's 45
    page.goto(ui.url + "/ui/people")
    expect(page.locator("#summary")).to_have_text(f"1{DASH}31 of 31 people")
    shot(shoot, page, "people")


# --- photos for the tests -------------------------------------------------------------------


@pytest.fixture
def faceless(tmp_path: Path) -> Path:
    """A real photo's bottom-left corner: a wall, no face (checked: the detector finds none)."""
    source = identity_photos()["fr_obama"][0]  # obama.jpg, 910x1137
    with Image.open(source) as image:
        width, height = image.size
        corner = image.crop((0, height * 3 // 4, width // 3, height)).convert("RGB")
    path = tmp_path / "beach.jpg"
    corner.save(path, "JPEG")
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    return path


def confirm(page: Page, text: str) -> None:
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(text)
    page.locator("#confirm-ok").click()


# --- add a person ---------------------------------------------------------------------------


def test_add_person_names_the_refused_photo_and_stores_nothing(
    ui: LiveUi, page: Page, faceless: Path, shoot: Shoot
) -> None:
    obama = identity_photos()["fr_obama"][0]
    admin(ui, page)
    page.goto(ui.url + "/ui/people")
    page.get_by_role("link", name="Add a person").click()
    expect(page).to_have_url(ui.url + "/ui/people/new")
    page.get_by_label("Name").fill("Barack Obama")
    page.get_by_label("Age").fill("61")
    page.get_by_label("External id").fill("obama-44")
    metadata = page.get_by_label("Metadata (a JSON object)")
    metadata.fill('{"role": president}')
    expect(page.locator("#n-metadata-problem")).to_contain_text("not valid JSON")
    metadata.fill('{"role": "president"}')
    expect(page.locator("#n-metadata-problem")).to_have_text("")
    page.get_by_label("choose files").set_input_files([obama, faceless])
    expect(page.locator(".previews .preview")).to_have_count(2)

    page.get_by_role("button", name="Add person").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Nothing was stored: photo 2 (beach.jpg): no face found")
    expect(page.locator(".preview.refused")).to_contain_text("beach.jpg")
    assert people_named(ui, "Barack Obama") == 0  # the API's all-or-nothing rule
    expect(page.get_by_label("Name")).to_have_value("Barack Obama")  # the form stays filled
    shot(shoot, page, "add_person")

    page.get_by_role("button", name="Remove beach.jpg").click()
    expect(refusal).to_be_hidden()
    page.get_by_role("button", name="Add person").click()
    expect(page).to_have_url(re.compile(r"/ui/people/\d+$"))
    expect(page.locator("#person-name")).to_have_text("Barack Obama")
    expect(page.locator("#photo-count")).to_have_text("1")
    expect(page.locator(".photo-card")).to_have_count(1)
    expect(page.get_by_label("External id")).to_have_value("obama-44")
    assert people_named(ui, "Barack Obama") == 1

    # The list finds them by name and by age range, and not outside it.
    person(ui, "Joe Biden", age=80)
    page.goto(ui.url + "/ui/people")
    page.get_by_label("Name").fill("obam")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Barack Obama")
    page.get_by_role("button", name="Clear").click()
    expect(rows(page)).to_have_count(2)
    page.get_by_label("Age from").fill("60")
    page.get_by_label("Age to").fill("62")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Barack Obama")
    page.get_by_label("Age from").fill("63")
    page.get_by_label("Age to").fill("90")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Joe Biden")


# --- one person -----------------------------------------------------------------------------


def test_person_page_edits_adds_photos_with_verdicts_and_deletes(
    ui: LiveUi, page: Page, faceless: Path, broken: Path, shoot: Shoot
) -> None:
    biden = identity_photos()["fr_biden"]  # biden.jpg, biden2.jpg
    pid = person(ui, "Joe Biden", [biden[0]], age=80, address="Wilmington")
    admin(ui, page)
    page.goto(f"{ui.url}/ui/people/{pid}")
    expect(page.locator("#person-name")).to_have_text("Joe Biden")
    expect(page.locator(".photo-card")).to_have_count(1)
    card = page.locator(".photo-card").first
    expect(card).to_contain_text("Detection")
    expect(card).to_contain_text("yaw")

    page.get_by_label("Address").fill("1600 Pennsylvania Ave")
    page.get_by_label("Metadata (a JSON object)").fill("[1, 2]")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#p-metadata-problem")).to_contain_text("must be a JSON object")
    page.get_by_label("Metadata (a JSON object)").fill('{"term": 46}')
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#save-state")).to_have_text("Saved address, metadata.")
    stored = ui.services.gallery.get_person(pid)
    assert stored.address == "1600 Pennsylvania Ave" and stored.metadata == {"term": 46}
    page.get_by_label("Age").fill("200")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#p-age-problem")).not_to_have_text("")  # the API's own message
    assert ui.services.gallery.get_person(pid).age == 80

    # Several photos at once through the file picker: each one its own verdict.
    page.get_by_label("choose files").set_input_files([biden[1], faceless, broken])
    page.get_by_role("button", name="Add 3 photos").click()
    verdicts = page.locator("#verdicts li")
    expect(verdicts.nth(0)).to_have_text("photo 1 (biden2.jpg): added")
    expect(verdicts.nth(1)).to_have_text("photo 2 (beach.jpg): no face found")
    expect(verdicts.nth(2)).to_have_text("photo 3 (broken.jpg): not a readable image")
    expect(page.locator("#photo-count")).to_have_text("2")
    expect(page.locator(".photo-card")).to_have_count(2)
    shot(shoot, page, "person")

    page.get_by_role("button", name="Delete photo 1").click()
    confirm(page, "Delete photo 1 of Joe Biden?")
    expect(page.locator(".photo-card")).to_have_count(1)
    assert len(ui.services.gallery.list_faces(pid)) == 1

    page.get_by_role("button", name="Delete person").click()
    confirm(page, "Delete Joe Biden with all 1 face photos?")
    expect(page).to_have_url(ui.url + "/ui/people")
    expect(page.locator("#summary")).to_have_text("No people enrolled yet.")
    assert people_named(ui, "Joe Biden") == 0
