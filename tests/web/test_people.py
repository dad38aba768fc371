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
    """A screenshot from the top (the sticky top bar then sits where it belongs), without
    the notices, which would float over the middle of a full-page picture."""
    page.evaluate("document.querySelectorAll('#notices .notice').forEach((n) => n.remove())")
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
    page.get_by_label("Age").fill("200")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#p-age-problem")).to_contain_text("150")  # the API's own message
    assert ui.services.gallery.get_person(pid).address == "Wilmington"  # nothing saved
    page.get_by_label("Age").fill("80")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#save-state")).to_have_text("Saved address, metadata.")
    expect(page.locator("#p-age-problem")).to_have_text("")
    stored = ui.services.gallery.get_person(pid)
    assert stored.address == "1600 Pennsylvania Ave" and stored.metadata == {"term": 46}

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
    confirm(page, "Delete Joe Biden and their 1 face photo?")
    expect(page).to_have_url(ui.url + "/ui/people")
    expect(page.locator("#summary")).to_have_text("No people enrolled yet.")
    assert people_named(ui, "Joe Biden") == 0
    page.goto(f"{ui.url}/ui/people/{pid}")  # a stale link says so, not a blank page
    expect(page.get_by_role("alert")).to_have_text("This person does not exist (any more).")


# --- several at once, escaping, roles, phone ------------------------------------------------


def test_delete_several_from_the_list(ui: LiveUi, page: Page) -> None:
    for name in ("Ann", "Bob", "Cid", "Dee"):
        person(ui, name)
    admin(ui, page)
    page.goto(ui.url + "/ui/people")
    expect(rows(page)).to_have_count(4)
    delete = page.get_by_role("button", name="Delete selected")
    expect(delete).to_be_disabled()
    page.get_by_label("Select Ann").check()
    page.get_by_label("Select Cid").check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    delete.click()
    page.get_by_role("button", name="Cancel").click()  # changing one's mind deletes nothing
    expect(rows(page)).to_have_count(4)
    delete.click()
    confirm(page, "Delete 2 people (Ann, Cid)")
    expect(page.locator(".notice.ok").filter(has_text="Deleted 2 people.")).to_be_visible()
    expect(rows(page)).to_have_count(2)
    assert people_named(ui, "Ann") == people_named(ui, "Cid") == 0
    assert people_named(ui, "Bob") == people_named(ui, "Dee") == 1

    page.get_by_label("Select every person on this page").check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    delete.click()
    confirm(page, "Delete 2 people (Bob, Dee)")
    expect(page.locator("#summary")).to_have_text("No people enrolled yet.")


def test_a_name_with_markup_is_shown_as_text(ui: LiveUi, page: Page) -> None:
    dialogs = no_dialogs(page)
    person(ui, XSS, [identity_photos()["fr_biden"][0]], address=XSS)
    admin(ui, page)
    page.goto(ui.url + "/ui/people")
    expect(page.get_by_role("link", name=XSS)).to_be_visible()
    expect(rows(page).first).to_contain_text(XSS)  # the address too
    assert page.locator('img[src="x"]').count() == 0

    page.get_by_role("link", name=XSS).click()
    expect(page.locator("#person-name")).to_have_text(XSS)
    expect(page.get_by_label("Name")).to_have_value(XSS)
    expect(page.locator(".photo-card")).to_have_count(1)
    assert page.locator('img[src="x"]').count() == 0
    assert page.title() == f"{XSS} · facebank"
    assert dialogs == []


def test_a_viewer_sees_no_changes_and_is_refused_when_forcing_one(
    ui: LiveUi, page: Page
) -> None:
    pid = person(ui, "Joe Biden", [identity_photos()["fr_biden"][0]])
    ui.user("ada", Role.ADMIN)  # with no admin yet, every page leads to first-admin setup
    ui.user("vera", Role.VIEWER)
    sign_in(page, ui.url, "vera")
    page.goto(ui.url + "/ui/people")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#rows input[type=checkbox], #select-all:visible")).to_have_count(0)
    expect(page.get_by_role("link", name="Add a person")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete selected")).to_be_hidden()

    page.get_by_role("link", name="Joe Biden").click()
    expect(page.locator(".photo-card")).to_have_count(1)
    expect(page.get_by_label("Name")).to_be_disabled()
    for name in ("Delete person", "Delete photo 1", "Save changes", "Add photos"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_label("choose files")).to_have_count(0)

    # Forced with the session's own CSRF token: the server refuses the role.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    forced = page.request.delete(f"{ui.url}/api/v1/people/{pid}", headers={"X-CSRF-Token": token})
    assert forced.status == 403 and forced.json()["error"]["code"] == "forbidden"
    # The page's own client turns the same refusal into a message.
    page.evaluate(
        """async (id) => {
            const { api } = await import("/ui/static/js/api.js");
            const { showError } = await import("/ui/static/js/ui.js");
            await api.delete(`/api/v1/people/${id}`).catch(showError);
        }""",
        pid,
    )
    expect(page.get_by_role("alert").filter(has_text="Not allowed")).to_be_visible()
    expect(page.locator("#person-name")).to_have_text("Joe Biden")  # nothing broken
    expect(page.locator(".photo-card")).to_have_count(1)
    assert people_named(ui, "Joe Biden") == 1

    response = page.goto(ui.url + "/ui/people/new")  # not offered, and refused when opened
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("enroll")


def fits_the_width(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at a 390 px viewport"


def test_phone_width(ui: LiveUi, phone: Page, faceless: Path, shoot: Shoot) -> None:
    page = phone
    biden = identity_photos()["fr_biden"]
    pid = person(ui, "Joe Biden", biden, age=80, address="1600 Pennsylvania Ave, Washington DC",
                 external_id="potus-46", gender="male")
    for i in range(6):
        person(ui, f"Student {i}", age=20 + i, address="Hanoi")
    admin(ui, page)
    page.goto(ui.url + "/ui/people")
    expect(rows(page)).to_have_count(7)
    page.get_by_label("Name").fill("bid")
    expect(rows(page)).to_have_count(1)
    page.get_by_label("Name").fill("")
    expect(rows(page)).to_have_count(7)
    fits_the_width(page)
    shot(shoot, page, "people")

    page.get_by_role("link", name="Joe Biden").click()
    expect(page.locator(".photo-card")).to_have_count(2)
    page.get_by_label("Gender").fill("m")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#save-state")).to_have_text("Saved gender.")
    page.get_by_label("choose files").set_input_files([faceless])
    page.get_by_role("button", name="Add 1 photo").click()
    expect(page.locator("#verdicts li")).to_have_text("photo 1 (beach.jpg): no face found")
    fits_the_width(page)
    shot(shoot, page, "person")
    assert ui.services.gallery.get_person(pid).gender == "m"

    page.goto(ui.url + "/ui/people/new")
    page.get_by_label("Name").fill("Kit Harington")
    page.get_by_label("choose files").set_input_files(
        [identity_photos()["fr_kit_harington"][0], faceless]
    )
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_role("alert")).to_contain_text("photo 2 (beach.jpg): no face found")
    fits_the_width(page)
    shot(shoot, page, "add_person")
