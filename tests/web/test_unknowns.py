"""The unknown faces review page (issue 12), driven in chromium: unknowns are kept by
recognising real photos of never-enrolled people with keep_unknown=true, then reviewed."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.services.photos import Photo
from facebank.services.sessions import CameraIn, SessionStart
from facebank.store.people import PersonFields
from tests.conftest import identity_photos
from tests.e2e.server import free_port
from tests.poor_photos import blurred
from tests.web.live import LiveUi, sign_in

Shoot = Callable[[Page, str], Path]
PHOTOS = identity_photos()
# Never enrolled in these tests: three faces of one stranger, two of another.
THREE = PHOTOS["deepface_id05"][:3]
TWO = PHOTOS["deepface_id06"][:2]


def signed_in(ui: LiveUi, page: Page, role: Role) -> None:
    ui.user("root", Role.ADMIN)  # an admin exists, or the UI asks for one first
    name = ui.user(f"some-{role.value}", role) if role is not Role.ADMIN else "root"
    sign_in(page, ui.url, name)


def csrf(page: Page) -> str:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    return token


def keep_unknowns(ui: LiveUi, page: Page, photos: list[Path] | list[tuple[str, bytes]]) -> None:
    """Recognise each photo over HTTP as the signed-in user, asking to keep its unknown."""
    token = csrf(page)
    for photo in photos:
        name, data = photo if isinstance(photo, tuple) else (photo.name, photo.read_bytes())
        answer = page.request.post(
            f"{ui.url}/api/v1/recognize",
            headers={"X-CSRF-Token": token},
            multipart={
                "file": {
                    "name": name,
                    "mimeType": mimetypes.guess_type(name)[0] or "image/jpeg",
                    "buffer": data,
                },
                "keep_unknown": "true",
            },
        )
        assert answer.ok, answer.text()
        faces = answer.json()["faces"]
        assert faces and all(f["unknown_face_id"] for f in faces), answer.text()


def cards(page: Page) -> Locator:
    return page.locator("#clusters .cluster-card")


def images_loaded(page: Page, selector: str) -> None:
    """Waits until every crop under `selector` has arrived (a screenshot shows them)."""
    page.wait_for_function(
        "(s) => [...document.querySelectorAll(s + ' img')]"
        ".every((i) => i.complete && i.naturalWidth > 0)",
        arg=selector,
    )


def shot(shoot: Shoot, page: Page, name: str) -> None:
    page.evaluate("document.querySelectorAll('#notices .notice').forEach((n) => n.remove())")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, name)


def open_cluster(page: Page, faces: int) -> None:
    count = f"{faces} face" if faces == 1 else f"{faces} faces"
    cards(page).filter(has_text=count).get_by_role("link").click()
    expect(page.locator("#faces .face-card")).to_have_count(faces)


def confirm(page: Page, text: str) -> None:
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(text)
    page.locator("#confirm-ok").click()


def test_review_name_one_cluster_and_dismiss_the_other(
    ui: LiveUi, page: Page, shoot: Shoot
) -> None:
    signed_in(ui, page, Role.OPERATOR)
    keep_unknowns(ui, page, THREE + TWO)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Unknown faces").click()
    expect(cards(page)).to_have_count(2)
    expect(page.locator("#summary")).to_have_text("2 clusters")
    expect(cards(page).nth(0)).to_contain_text("3 faces")  # largest first
    expect(cards(page).nth(1)).to_contain_text("2 faces")
    # Where each was seen, from the listing alone: uploads, no session or camera.
    expect(cards(page).nth(0).locator(".where")).to_have_text("3 uploaded photos")
    expect(cards(page).nth(1).locator(".where")).to_have_text("2 uploaded photos")
    images_loaded(page, "#clusters")
    shot(shoot, page, "unknowns")

    page.get_by_label("Newest first").check()
    expect(cards(page).nth(0)).to_contain_text("2 faces")  # seen last
    expect(page).to_have_url(f"{ui.url}/ui/unknowns?order=newest")

    open_cluster(page, 3)
    # The open cluster is in the address: Back returns to the list, Forward to the cluster.
    assert "cluster=" in page.url
    page.go_back()
    expect(page.locator("#list-view")).to_be_visible()
    expect(page.locator("#detail-view")).to_be_hidden()
    page.go_forward()
    expect(page.locator("#faces .face-card")).to_have_count(3)
    images_loaded(page, "#faces")
    shot(shoot, page, "unknown-cluster")
    # One face is not worth keeping: deleted on its own, the rest stay in the cluster.
    page.locator("#faces .face-card").last.get_by_role("button", name="Delete").click()
    confirm(page, "Delete this face")
    expect(page.locator("#faces .face-card")).to_have_count(2)
    expect(page.locator("#detail-facts")).to_contain_text("2 faces")
    page.locator("#n-name").fill("Stranger Five")
    page.locator("#n-age").fill("41")
    page.get_by_role("button", name="Create person").click()
    result = page.locator("#detail-result")
    expect(result).to_contain_text("as Stranger Five")
    expect(result).to_contain_text("Enrolled")
    expect(page.locator("#actions")).to_be_hidden()  # it left the queue

    page.get_by_role("button", name="All clusters").click()
    expect(cards(page)).to_have_count(1)
    cards(page).get_by_role("link").click()
    expect(page.locator("#faces .face-card")).to_have_count(2)
    page.get_by_role("button", name="Dismiss cluster").click()
    confirm(page, "Its 2 faces are deleted for good")
    expect(page.locator("#detail-result")).to_contain_text("Dismissed cluster")
    page.get_by_role("button", name="All clusters").click()
    expect(page.locator("#summary")).to_have_text("No unknown faces to review.")
    expect(cards(page)).to_have_count(0)

    # The named one is history now, under its status; the person is in the people list.
    page.get_by_label("Status").select_option("named")
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("named")
    expect(cards(page).first.get_by_role("link", name="Stranger Five")).to_be_visible()
    expect(cards(page).first.locator(".where")).to_have_count(0)  # its faces are gone
    # Every status at once, kept in the address.
    page.get_by_label("Status").select_option("All")
    expect(cards(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"[?&]status=any(&|$)"))
    expect(cards(page).filter(has_text="dismissed")).to_have_count(1)
    page.reload()
    expect(page.get_by_label("Status")).to_have_value("any")
    expect(cards(page)).to_have_count(2)
    page.goto(f"{ui.url}/ui/people")
    expect(page.locator("#rows tr").filter(has_text="Stranger Five")).to_have_count(1)
    row = page.locator("#rows tr").filter(has_text="Stranger Five")
    expect(row.locator('td[data-label="Age"]')).to_have_text("41")
    expect(row.locator('td[data-label="Photos"]')).to_have_text("2")  # the faces kept


def test_a_cluster_changed_meanwhile_and_filters_that_match_nothing(ui: LiveUi, page: Page) -> None:
    signed_in(ui, page, Role.OPERATOR)
    keep_unknowns(ui, page, TWO)
    page.goto(f"{ui.url}/ui/unknowns")
    open_cluster(page, 2)
    cluster_id = page.locator("#detail-title").inner_text().split()[-1]
    # Someone else dismisses it while this page shows it: naming it is refused, in words.
    gone = page.request.post(
        f"{ui.url}/api/v1/unknowns/clusters/{cluster_id}/dismiss",
        headers={"X-CSRF-Token": csrf(page)},
    )
    assert gone.ok, gone.text()
    page.locator("#n-name").fill("Too Late")
    page.get_by_role("button", name="Create person").click()
    expect(page.locator("#detail-result")).to_contain_text("Not done")
    expect(page.get_by_role("alert").filter(has_text="Not done")).to_be_visible()

    page.get_by_role("button", name="All clusters").click()
    keep_unknowns(ui, page, TWO)
    page.reload()
    expect(cards(page)).to_have_count(1)

    # Faces kept from uploads were seen in no session: filtering by one leaves nothing.
    dead = f"http://127.0.0.1:{free_port()}/stream.mjpg"  # a session needs no live camera here
    start = SessionStart(key="gate-2", cameras=[CameraIn(url=dead, name="gate")])
    sid = ui.services.sessions.start(system_principal("tests"), start).record.id
    page.reload()
    page.get_by_label("Session").select_option(label=f"gate-2 (#{sid})")
    expect(page.get_by_label("Camera")).to_be_enabled()
    page.get_by_label("Camera").select_option(label="gate")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#summary")).to_have_text("No cluster matches these filters.")
    assert f"session_id={sid}" in page.url and "camera_id=" in page.url
    page.reload()  # the filters live in the address
    expect(page.get_by_label("Session")).to_have_value(str(sid))
    expect(page.locator("#summary")).to_have_text("No cluster matches these filters.")
    page.get_by_role("button", name="Clear").click()
    expect(cards(page)).to_have_count(1)

    page.get_by_label("Seen until").fill("2000-01-01T00:00")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#summary")).to_have_text("No cluster matches these filters.")
    page.get_by_label("Seen until").fill("")
    page.get_by_label("Seen from").fill("2000-01-01T00:00")
    page.get_by_role("button", name="Filter").click()
    expect(cards(page)).to_have_count(1)

    # Added to someone found by name: the person search of the other pages.
    ada = enrolled(ui, "Ada Stranger", PHOTOS["fr_biden"][0])
    open_cluster(page, 2)
    page.get_by_label("Find the person by name").fill("Ada")
    page.get_by_role("button", name="Add to Ada Stranger").click()
    expect(page.locator("#detail-result")).to_contain_text("Added 2 faces to Ada Stranger")
    page.goto(f"{ui.url}/ui/people/{ada}")
    expect(page.locator(".photo-card")).to_have_count(3)


def test_a_cluster_the_quality_gate_refuses_stays_in_the_queue(ui: LiveUi, page: Page) -> None:
    signed_in(ui, page, Role.OPERATOR)
    keep_unknowns(ui, page, [("blurred.jpg", blurred())])  # recognised anyway, kept
    page.goto(f"{ui.url}/ui/unknowns")
    open_cluster(page, 1)
    page.locator("#n-name").fill("Blurry")
    page.get_by_role("button", name="Create person").click()
    problem = page.locator("#detail-result")
    expect(problem).to_contain_text("The enrollment quality checks refused these faces")
    expect(problem).to_contain_text("blur")
    expect(page.locator("#n-name")).to_have_value("Blurry")  # kept for another try
    page.get_by_role("button", name="All clusters").click()
    expect(cards(page)).to_have_count(1)  # still to review


def test_a_viewer_sees_the_queue_read_only(ui: LiveUi, phone: Page, shoot: Shoot) -> None:
    page = phone  # and at phone width
    signed_in(ui, page, Role.OPERATOR)
    keep_unknowns(ui, page, TWO)
    page.context.clear_cookies()
    sign_in(page, ui.url, ui.user("just-looking", Role.VIEWER))
    page.goto(f"{ui.url}/ui/unknowns")
    expect(page.locator(".read-only")).to_contain_text("need the operator role")
    images_loaded(page, "#clusters")
    shot(shoot, page, "unknowns")
    cluster_id = cards(page).first.get_attribute("data-cluster-id")
    open_cluster(page, 2)
    for name in ("Create person", "Dismiss cluster", "Delete"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_label("Find the person by name")).to_have_count(0)
    images_loaded(page, "#faces")
    shot(shoot, page, "unknown-cluster-viewer")
    # Forced with the session's own CSRF token: the server refuses the role.
    forced = page.request.post(
        f"{ui.url}/api/v1/unknowns/clusters/{cluster_id}/dismiss",
        headers={"X-CSRF-Token": csrf(page)},
    )
    assert forced.status == 403, forced.text()


def enrolled(ui: LiveUi, name: str, photo: Path) -> int:
    """A person enrolled through the services (test setup, not the thing under test)."""
    created, _ = ui.services.gallery.create_person(
        system_principal("tests"), PersonFields(name=name), [Photo(photo.read_bytes(), photo.name)]
    )
    return created.id


def test_a_flagged_cluster_is_confirmed_or_marked_not_that_person(
    ui: LiveUi, page: Page, shoot: Shoot
) -> None:
    signed_in(ui, page, Role.OPERATOR)
    keep_unknowns(ui, page, THREE + TWO)
    # Both strangers get enrolled afterwards from other photos; the periodic flagging (every
    # unknown_flag_interval_s in a server) runs once here.
    mira = enrolled(ui, "Mira", PHOTOS["deepface_id05"][3])
    noor = enrolled(ui, "Noor", PHOTOS["deepface_id06"][2])
    assert ui.services.unknowns.upkeep.flag() == 2

    page.goto(f"{ui.url}/ui/unknowns")
    expect(cards(page).nth(0)).to_contain_text("looks like Mira")
    expect(cards(page).nth(1)).to_contain_text("looks like Noor")
    open_cluster(page, 2)
    expect(page.locator("#flag")).to_contain_text("These faces look like Noor")
    expect(page.get_by_role("button", name="Face").filter(has_text="Not Noor")).to_have_count(2)
    images_loaded(page, "#faces")
    shot(shoot, page, "unknown-cluster-flagged")
    # One face by its own button, then the rest by the flag's.
    page.locator("#faces .face-card").first.get_by_role("button", name="not Noor").click()
    confirm(page, "Mark this face as not Noor?")
    expect(page.locator("#detail-result")).to_contain_text("Marked 1 face as not Noor.")
    expect(page.locator("#faces .face-card").first.locator(".badge.marked")).to_have_text(
        "not Noor"
    )
    page.locator("#flag-no").click()
    confirm(page, "Mark this face as not Noor?")
    expect(page.locator("#flag")).to_contain_text("Every face here is marked as not Noor")
    expect(page.locator("#faces .badge.marked")).to_have_count(2)
    expect(page.get_by_role("button", name="Yes, it is Noor")).to_have_count(0)
    shot(shoot, page, "unknown-cluster-marked")
    labels = page.request.get(f"{ui.url}/api/v1/people/{noor}/negatives")
    assert labels.ok, labels.text()
    assert len(labels.json()) == 2

    page.get_by_role("button", name="All clusters").click()
    open_cluster(page, 3)
    page.get_by_role("button", name="Yes, it is Mira").click()
    expect(page.locator("#detail-result")).to_contain_text("to Mira")
    page.locator("#detail-result").get_by_role("link", name="Mira").click()
    expect(page).to_have_url(f"{ui.url}/ui/people/{mira}")
    expect(page.locator(".photo-card")).not_to_have_count(1)  # the cluster's faces joined
