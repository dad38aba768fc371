"""The dashboard: counts of people and faces after enrolling real people, the index state,
health at a glance, sessions and recognitions; at desktop and phone width."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.photos import FaceChoice, Photo
from facebank.services.sessions import CameraIn, SessionStart
from facebank.store.people import PersonFields
from tests.conftest import identity_photos
from tests.sessions.scene import Scene, build_scene
from tests.waiting import wait_until
from tests.web.live import LiveUi, sign_in

Shoot = Callable[[Page, str], Path]


TESTS = system_principal("tests")


@pytest.fixture(scope="module")
def footage(
    face_pipeline: FacePipeline, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Scene, Path]:
    """The session tests' footage (people walking by, made from the real photos)."""
    scene = build_scene(face_pipeline)
    return scene, scene.write(tmp_path_factory.mktemp("footage") / "walkers.avi")


def enroll(ui: LiveUi, identity: str, photos: int) -> None:
    """Enrolls `identity` with its first `photos` photos, through the services."""
    files = identity_photos()[identity][:photos]
    ui.services.gallery.create_person(
        TESTS,
        PersonFields(name=identity),
        [Photo(path.read_bytes(), path.name) for path in files],
        FaceChoice.LARGEST,
    )


def test_dashboard_counts_what_was_enrolled(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    ui.user("ada", Role.ADMIN)
    enroll(ui, "fr_obama", 2)
    enroll(ui, "fr_biden", 1)
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/")
    expect(page.locator("#people-count")).to_have_text("2")
    expect(page.locator("#face-count")).to_have_text("3")
    index = page.locator("#card-index").locator("xpath=ancestor::section")
    expect(index).to_contain_text("consistent")
    expect(index).not_to_contain_text("not consistent")
    expect(index).to_contain_text(ui.services.pipeline.model_id)
    expect(index).to_contain_text("3 of 3 faces")
    health = page.locator("#card-health").locator("xpath=ancestor::section")
    expect(health).to_contain_text("Version")
    expect(health.get_by_role("link", name="Detailed health")).to_be_visible()  # an admin
    expect(health).to_contain_text("sqlite")  # from the detailed report, for admins only
    expect(page.locator("#active-sessions")).to_contain_text("No session is running")
    expect(page.locator("#recent-rows")).to_contain_text("No recognitions yet")
    shoot(page, "dashboard")


def test_dashboard_cards_keep_their_size_when_the_data_arrives(ui: LiveUi, page: Page) -> None:
    cards_keep_their_size(ui, page)


def test_dashboard_cards_keep_their_size_at_phone_width(ui: LiveUi, phone: Page) -> None:
    cards_keep_their_size(ui, phone)


def cards_keep_their_size(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    enroll(ui, "fr_obama", 2)
    sign_in(page, ui.url, "ada")
    # The answers are held back (at the network, the one boundary) until the empty cards
    # are measured, then let through.
    held: list[Route] = []
    released: list[bool] = []

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r".*/(api/v1/|health).*"), hold)
    page.goto(ui.url + "/ui/")
    wait_until(lambda: page.evaluate("1") and len(held) >= 4, 30, "the dashboard's requests")
    cards = page.locator("main section.panel")
    expect(cards).to_have_count(6)
    before = [cards.nth(i).bounding_box() for i in range(6)]
    expect(page.locator("#face-count")).to_have_text("—")
    released.append(True)
    for route in held:
        route.continue_()
    expect(page.locator("#face-count")).to_have_text("2")
    expect(page.locator("#health-state")).to_contain_text("sqlite")
    expect(page.locator("#recent-rows")).to_contain_text("No recognitions yet")
    assert [cards.nth(i).bounding_box() for i in range(6)] == before


def test_dashboard_at_phone_width_for_an_operator(ui: LiveUi, phone: Page, shoot: Shoot) -> None:
    ui.user("ada", Role.ADMIN)  # with no admin yet, the UI leads to creating one
    ui.user("otto", Role.OPERATOR)
    enroll(ui, "fr_kit_harington", 2)
    sign_in(phone, ui.url, "otto")
    phone.goto(ui.url + "/ui/")
    expect(phone.locator("#people-count")).to_have_text("1")
    expect(phone.locator("#face-count")).to_have_text("2")
    expect(phone.locator("#health-state")).to_contain_text("Version")
    # Detailed health is for admins: not linked for an operator.
    expect(phone.locator("#health-state").get_by_role("link")).to_have_count(0)
    expect(phone.locator("#health-state")).not_to_contain_text("Database")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width} px)"
    shoot(phone, "dashboard")


def test_dashboard_shows_a_running_session_and_its_recognitions(
    ui: LiveUi, page: Page, footage: tuple[Scene, Path], shoot: Shoot
) -> None:
    scene, video = footage
    ui.user("ada", Role.ADMIN)
    for label, photo in scene.enrol_photos.items():
        ui.services.gallery.create_person(
            TESTS, PersonFields(name=label), [Photo(photo.read_bytes(), photo.name)]
        )
    cameras = [CameraIn(url=str(video), name="hall", loop=True)]
    session = ui.services.sessions.start(TESTS, SessionStart(key="lecture-1", cameras=cameras))
    sid = session.record.id
    try:
        wait_until(
            lambda: ui.services.sessions.get(sid).people != [], 180, "a first recognition"
        )
        sign_in(page, ui.url, "ada")
        page.goto(ui.url + "/ui/")
        active = page.locator("#active-sessions")
        expect(active.get_by_role("link", name="lecture-1")).to_be_visible()
        expect(active.get_by_role("list", name="Cameras of lecture-1")).to_contain_text("hall")
        expect(active).to_contain_text("running")
        seen = ui.services.sessions.get(sid).people[0].person
        assert seen is not None
        recent = page.locator("#recent-rows")
        expect(recent.get_by_role("link", name=seen.name)).to_be_visible()
        expect(recent.get_by_role("link", name="lecture-1").first).to_be_visible()
        shoot(page, "dashboard-live")
    finally:
        ui.services.sessions.stop(TESTS, sid)
