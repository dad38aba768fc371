"""The recognise and verify pages in a browser, on real photos: faces boxed and named, a
face's candidates, an unknown face enrolled from the result, and 1:1 verdicts.

two_people.jpg shows Barack Obama and Joe Biden (fr_obama, fr_biden: the API's group-photo
test names them too); obama_and_biden.jpg shows them with a third, smaller face nobody enrolls."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.services.photos import Photo
from facebank.store.people import PersonFields, PersonFilter
from tests.conftest import GROUPS, PEOPLE
from tests.web.live import LiveUi, sign_in

Shoot = Callable[[Page, str], Path]

OBAMA = PEOPLE / "fr_obama"
BIDEN = PEOPLE / "fr_biden"
TWO_PEOPLE = GROUPS / "two_people.jpg"
THREE_MEN = GROUPS / "obama_and_biden.jpg"  # Obama, Biden and a face nobody enrolls
COUPLE = GROUPS / "kit_with_rose.jpg"  # two frontal faces nobody enrolls


def enroll(ui: LiveUi, name: str, *photos: Path) -> int:
    person, _ = ui.services.gallery.create_person(
        system_principal("tests"),
        PersonFields(name=name),
        [Photo(p.read_bytes(), p.name) for p in photos],
    )
    return person.id


def enroll_both(ui: LiveUi) -> None:
    enroll(ui, "Barack Obama", OBAMA / "obama.jpg")
    enroll(ui, "Joe Biden", BIDEN / "biden.jpg")


def open_page(page: Page, ui: LiveUi, path: str, role: Role = Role.ADMIN) -> None:
    name = {Role.ADMIN: "ada", Role.OPERATOR: "otto", Role.VIEWER: "vera"}[role]
    if role is not Role.ADMIN:
        ui.user("ada", Role.ADMIN)  # with no admin yet, every page leads to first-run setup
    ui.user(name, role)
    sign_in(page, ui.url, name)
    page.goto(ui.url + path)


def snap(shoot: Shoot, page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar then sits at the top
    shoot(page, name)


def recognise(page: Page, photo: Path) -> None:
    page.get_by_label("Photo to recognise").set_input_files(str(photo))
    expect(page.locator("#summary")).to_contain_text(re.compile(r"named|no face"))


def boxes(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#boxes .face-box")


def face_named(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("button", name=f": {name}")


# --- recognise ---------------------------------------------------------------------------------


def test_group_photo_shows_both_names_and_candidates(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    enroll_both(ui)
    open_page(page, ui, "/ui/recognise")
    recognise(page, TWO_PEOPLE)
    expect(boxes(page)).to_have_count(2)
    expect(page.locator("#boxes .face-box.unknown")).to_have_count(0)
    expect(face_named(page, "Barack Obama")).to_be_visible()
    expect(face_named(page, "Joe Biden")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text("2 faces: 2 named, 0 unknown")

    face_named(page, "Joe Biden").click()
    expect(face_named(page, "Joe Biden")).to_have_attribute("aria-pressed", "true")
    rows = page.locator("table.candidates tbody tr")
    expect(rows).to_have_count(2)  # top-k 5, but only two people are enrolled
    expect(rows.first).to_contain_text("Joe Biden")
    expect(rows.first.get_by_role("link", name="Joe Biden")).to_have_attribute(
        "href", "/ui/people/2"
    )
    snap(shoot, page, "recognise")

    page.get_by_label("Top-k").fill("1")
    page.get_by_label("Top-k").dispatch_event("change")
    expect(rows).to_have_count(1)  # re-run with the new top-k, the selection kept
    # A threshold above any score makes everyone unknown.
    page.get_by_label("Threshold", exact=True).fill("0.99")
    page.get_by_label("Threshold", exact=True).dispatch_event("change")
    expect(page.locator("#boxes .face-box.unknown")).to_have_count(2)


def drop(page: Page, target: str, photo: Path) -> None:
    """Drops `photo` on `target` as a file dragged from the desktop would arrive."""
    files = page.evaluate_handle(
        """([name, b64]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
          return transfer;
        }""",
        [photo.name, base64.b64encode(photo.read_bytes()).decode()],
    )
    page.locator(target).dispatch_event("drop", {"dataTransfer": files})


def test_a_dropped_photo_is_recognised_and_its_boxes_follow_resizes(ui: LiveUi, page: Page) -> None:
    enroll_both(ui)
    open_page(page, ui, "/ui/recognise")
    drop(page, "#dropzone", TWO_PEOPLE)
    expect(face_named(page, "Barack Obama")).to_be_visible()
    expect(boxes(page)).to_have_count(2)

    def where() -> tuple[float, float, float]:
        image = page.locator("#photo-view").bounding_box()
        box = boxes(page).first.bounding_box()
        assert image and box
        return (
            (box["x"] - image["x"]) / image["width"],
            box["width"] / image["width"],
            image["width"],
        )

    left, width, shown = where()
    page.set_viewport_size({"width": 700, "height": 800})
    left_after, width_after, shown_after = where()
    assert shown_after < shown  # the photo is displayed smaller ...
    assert abs(left_after - left) < 0.01 and abs(width_after - width) < 0.01  # ... boxes too


def test_unknown_face_is_enrolled_as_a_new_person(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    enroll_both(ui)
    open_page(page, ui, "/ui/recognise")
    recognise(page, COUPLE)  # THREE_MEN's stranger is turned too far to enroll (the gate)
    expect(boxes(page)).to_have_count(2)
    strangers = page.locator("#boxes .face-box.unknown")
    expect(strangers).to_have_count(2)
    unknown = strangers.first
    expect(unknown).to_have_css("border-top-style", "dashed")  # visibly different
    expect(unknown).to_contain_text("unknown")

    unknown.focus()
    page.keyboard.press("Enter")  # keyboard reaches a face as well as a click
    expect(page.get_by_role("heading", name="unknown")).to_be_visible()
    expect(page.locator("table.candidates tbody tr")).to_have_count(2)
    page.get_by_label("Name", exact=True).fill("New Face")
    page.get_by_label("Age (optional)").fill("61")
    snap(shoot, page, "recognise-enroll")
    page.get_by_role("button", name="Create person with this face").click()

    expect(face_named(page, "New Face")).to_be_visible()  # recognised again, now known
    expect(page.locator("#boxes .face-box.unknown")).to_have_count(1)  # the other one
    found = ui.services.gallery.search_people(PersonFilter(name="New Face"), 0, 5)
    (person,) = found.items
    assert person.age == 61
    assert len(ui.services.gallery.list_faces(person.id)) == 1


def test_unknown_face_is_added_to_an_existing_person(ui: LiveUi, page: Page) -> None:
    enroll(ui, "Barack Obama", OBAMA / "obama.jpg")
    biden = enroll(ui, "Joe Biden")  # no photo yet
    open_page(page, ui, "/ui/recognise", Role.OPERATOR)
    recognise(page, TWO_PEOPLE)
    expect(face_named(page, "Barack Obama")).to_be_visible()
    page.locator("#boxes .face-box.unknown").click()

    page.get_by_label("Find the person by name").fill("bid")
    page.get_by_role("button", name="Add to Joe Biden").click()
    expect(face_named(page, "Joe Biden")).to_be_visible()
    expect(page.locator("#boxes .face-box.unknown")).to_have_count(0)
    assert len(ui.services.gallery.list_faces(biden)) == 1


def test_a_viewer_sees_candidates_but_no_enroll_controls(ui: LiveUi, page: Page) -> None:
    enroll_both(ui)
    open_page(page, ui, "/ui/recognise", Role.VIEWER)
    recognise(page, THREE_MEN)
    page.locator("#boxes .face-box.unknown").click()
    expect(page.locator("table.candidates tbody tr")).to_have_count(2)
    expect(page.get_by_role("heading", name="Enroll this face")).to_have_count(0)
    expect(page.get_by_role("button", name="Create person with this face")).to_have_count(0)
    expect(page.get_by_label("Find the person by name")).to_have_count(0)
    # Forced anyway, with the session's own CSRF token: the server refuses it.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    forced = page.request.post(
        ui.url + "/api/v1/people",
        headers={"X-CSRF-Token": token or ""},
        multipart={
            "name": "Nobody",
            "photos": {
                "name": THREE_MEN.name,
                "mimeType": "image/jpeg",
                "buffer": THREE_MEN.read_bytes(),
            },
        },
    )
    assert forced.status == 403, forced.text()


def test_recognise_at_phone_width(ui: LiveUi, phone: Page, shoot: Shoot) -> None:
    enroll_both(ui)
    open_page(phone, ui, "/ui/recognise")
    recognise(phone, THREE_MEN)
    expect(face_named(phone, "Barack Obama")).to_be_visible()
    expect(face_named(phone, "Joe Biden")).to_be_visible()
    phone.locator("#boxes .face-box.unknown").click()
    expect(phone.get_by_role("button", name="Create person with this face")).to_be_in_viewport()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    snap(shoot, phone, "recognise")


# --- verify ------------------------------------------------------------------------------------


def verify_photos(page: Page, a: Path, b: Path) -> None:
    page.get_by_label("First photo").set_input_files(str(a))
    page.get_by_label("Second photo").set_input_files(str(b))
    page.get_by_role("button", name="Verify").click()


def test_verify_two_photos_same_and_different(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    open_page(page, ui, "/ui/verify")
    verify_photos(page, OBAMA / "obama.jpg", OBAMA / "obama2.jpg")
    verdict = page.locator("#verdict")
    expect(verdict.locator(".verdict")).to_have_text("✓ Same person")
    expect(verdict).to_contain_text("threshold")
    snap(shoot, page, "verify")

    page.get_by_role("button", name="Remove obama2.jpg").click()
    expect(verdict).to_contain_text("Verify again")  # no stale verdict about other photos
    page.get_by_label("Second photo").set_input_files(str(BIDEN / "biden.jpg"))
    page.get_by_role("button", name="Verify").click()
    expect(verdict.locator(".verdict")).to_have_text("✗ Not the same person")
    # The same pair against a threshold below its score: now it passes, and the page says so.
    score = float(verdict.locator(".stat").first.inner_text())
    page.get_by_label("Threshold", exact=True).fill(f"{score - 0.05:.2f}")
    page.get_by_label("Threshold", exact=True).dispatch_event("change")
    expect(verdict.locator(".verdict")).to_have_text("✓ Same person")


def test_verify_a_photo_against_a_person(ui: LiveUi, page: Page) -> None:
    enroll_both(ui)
    open_page(page, ui, "/ui/verify")
    page.get_by_label("an enrolled person").check()
    expect(page.get_by_label("Second photo")).to_be_hidden()
    page.get_by_label("First photo").set_input_files(str(OBAMA / "obama3.jpg"))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verdict")).to_contain_text("Find and choose the person")

    page.get_by_label("Person", exact=True).fill("obama")
    page.get_by_role("button", name="Choose Barack Obama").click()
    expect(page.locator("#picked")).to_contain_text("Comparing with Barack Obama")
    page.get_by_role("button", name="Verify").click()
    verdict = page.locator("#verdict")
    expect(verdict.locator(".verdict")).to_have_text("✓ Same person")
    expect(verdict.get_by_role("link", name="Barack Obama")).to_be_visible()

    page.get_by_label("Person", exact=True).fill("biden")
    page.get_by_role("button", name="Choose Joe Biden").click()
    page.get_by_role("button", name="Verify").click()
    expect(verdict.locator(".verdict")).to_have_text("✗ Not the same person")


def test_verify_at_phone_width(ui: LiveUi, phone: Page, shoot: Shoot) -> None:
    open_page(phone, ui, "/ui/verify")
    verify_photos(phone, BIDEN / "biden.jpg", BIDEN / "biden2.jpg")
    expect(phone.locator("#verdict .verdict")).to_have_text("✓ Same person")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    snap(shoot, phone, "verify")


def test_a_name_with_markup_is_shown_as_text(ui: LiveUi, page: Page) -> None:
    xss = "<img src=x onerror=alert(1)>"
    enroll(ui, xss, OBAMA / "obama.jpg")
    open_page(page, ui, "/ui/recognise")
    recognise(page, OBAMA / "obama2.jpg")
    face_named(page, xss).click()
    expect(page.locator("#boxes .label")).to_have_text(re.compile(re.escape(xss)))
    expect(page.locator("table.candidates").get_by_role("link", name=xss)).to_be_visible()
    expect(page.locator('img[src="x"]')).to_have_count(0)
