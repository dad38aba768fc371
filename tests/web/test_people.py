"""The people, person and add-person pages, driven in chromium with real photos."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Dialog, Locator, Page, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.services.photos import Photo
from facebank.store.people import PersonFields, PersonFilter
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
    shoot(page, "people")
