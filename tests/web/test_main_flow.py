"""The operator's whole day in one browser, at desktop and at phone width: first admin,
sign in, add people (one photo refused), search, recognise a group photo, enroll the
unknown face from the result, verify, delete, sign out. Real photos throughout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.conftest import GROUPS, PEOPLE
from tests.web.live import PASSWORD, VIEWPORTS, LiveUi

OBAMA = PEOPLE / "fr_obama"
BIDEN = PEOPLE / "fr_biden"
TWO_PEOPLE = GROUPS / "two_people.jpg"  # Obama and Biden
THREE_MEN = GROUPS / "obama_and_biden.jpg"  # Obama, Biden and a turned face nobody enrolled
COUPLE = GROUPS / "kit_with_rose.jpg"  # two frontal faces nobody enrolled


@pytest.fixture
def faceless(tmp_path: Path) -> Path:
    """A wall: the bottom-left corner of a real photo, where the detector finds no face."""
    with Image.open(OBAMA / "obama.jpg") as image:
        width, height = image.size
        corner = image.crop((0, height * 3 // 4, width // 3, height)).convert("RGB")
    path = tmp_path / "wall.jpg"
    corner.save(path, "JPEG")
    return path


def go(page: Page, link: str) -> None:
    """Follow a menu link the way a user would: at phone width the menu opens first."""
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():
        toggle.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()


def add_person(page: Page, name: str, photos: list[Path]) -> None:
    go(page, "People")
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("choose files").set_input_files([str(p) for p in photos])
    page.get_by_role("button", name="Add person").click()


def recognise(page: Page, photo: Path) -> None:
    page.get_by_label("Photo to recognise").set_input_files(str(photo))
    expect(page.locator("#summary")).to_contain_text(re.compile(r"named|no face"))


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_main_flow(ui: LiveUi, browser: Browser, faceless: Path, width: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[width])  # type: ignore[arg-type]
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # First run: / leads to creating the admin, who is then signed in.
    page.goto(ui.url + "/")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create admin and sign in").click()
    expect(page).to_have_url(ui.url + "/ui/")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(ui.url + "/ui/")

    # Two photos, one of them a wall: refused by name, nothing stored; then without it.
    add_person(page, "Barack Obama", [OBAMA / "obama.jpg", faceless])
    expect(page.get_by_role("alert")).to_contain_text("photo 2 (wall.jpg): no face found")
    page.get_by_role("button", name="Remove wall.jpg").click()
    page.get_by_role("button", name="Add person").click()
    expect(page).to_have_url(re.compile(r"/ui/people/\d+$"))
    expect(page.locator(".photo-card")).to_have_count(1)
    add_person(page, "Joe Biden", [BIDEN / "biden.jpg"])
    expect(page).to_have_url(re.compile(r"/ui/people/\d+$"))

    go(page, "People")
    page.get_by_label("Name").fill("obam")
    found = page.locator("#rows tr")
    expect(found).to_have_count(1)
    expect(found.first).to_contain_text("Barack Obama")

    # Both enrolled people are named on the group photo's boxes.
    go(page, "Recognise")
    recognise(page, TWO_PEOPLE)
    expect(page.get_by_role("button", name=": Barack Obama")).to_be_visible()
    expect(page.get_by_role("button", name=": Joe Biden")).to_be_visible()

    # A stranger turned sideways is refused by the enrollment gate, with its reason.
    recognise(page, THREE_MEN)
    unknown = page.locator("#boxes .face-box.unknown")
    expect(unknown).to_have_count(1)
    unknown.click()
    page.get_by_label("Name", exact=True).fill("Third Man")
    page.get_by_role("button", name="Create person with this face").click()
    expect(page.get_by_role("alert")).to_contain_text("the face is turned sideways")
    expect(unknown).to_have_count(1)

    # A frontal stranger of another photo is enrolled from the result, then named there.
    recognise(page, COUPLE)
    expect(unknown).to_have_count(2)
    unknown.first.click()
    page.get_by_label("Name", exact=True).fill("Third Man")
    page.get_by_role("button", name="Create person with this face").click()
    expect(page.get_by_role("button", name=": Third Man")).to_be_visible()
    expect(unknown).to_have_count(1)

    go(page, "Verify")
    page.get_by_label("First photo").set_input_files(str(OBAMA / "obama.jpg"))
    page.get_by_label("Second photo").set_input_files(str(OBAMA / "obama2.jpg"))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verdict .verdict")).to_have_text("✓ Same person")

    # Delete the enrolled stranger, after the confirmation.
    go(page, "People")
    page.get_by_role("link", name="Third Man").click()
    page.get_by_role("button", name="Delete person").click()
    page.locator("#confirm-ok").click()
    expect(page).to_have_url(re.compile(r"/ui/people(\?.*)?$"))
    expect(page.get_by_role("link", name="Third Man")).to_have_count(0)
    expect(page.get_by_role("link", name="Joe Biden")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(ui.url + "/ui/sign-in")
    page.goto(ui.url + "/ui/people")
    expect(page).to_have_url(f"{ui.url}/ui/sign-in?next=/ui/people")
    context.close()
    assert not errors, f"script errors on the page: {errors}"
