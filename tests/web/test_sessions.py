"""The sessions pages in a browser, on the footage the session tests build from the real
photos (tests/sessions/scene.py): start a session from the form, watch the recognitions
arrive over Server-Sent Events without a reload, see and replay webhook deliveries, stop
it, find it among the past sessions; a viewer watches without controls; the phone width."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.photos import FaceChoice, Photo
from facebank.services.sessions import CameraIn, SessionStart, WebhookIn
from facebank.store.people import PersonFields
from tests.api.conftest import running_services
from tests.e2e.server import free_port
from tests.sessions.conftest import FAST, SECRET
from tests.sessions.scene import ABSENT, ENROLLED, STRANGER, Scene, build_scene
from tests.waiting import wait_until
from tests.web.live import LiveUi, serving, sign_in

Shoot = Callable[[Page, str], Path]
TESTS = system_principal("tests")
# Deliveries to a receiver that is down give up after this, so "replay all failed" has
# something to replay within the test.
RETRY_FOR_S = 2.0
# Only a hang reaches this: the footage loops until everybody in it was recognised, which
# on a loaded 2-core machine takes a few loops.
SEEN_MS = 150_000
XSS_KEY = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def scene(face_pipeline: FacePipeline) -> Scene:
    return build_scene(face_pipeline)


@pytest.fixture(scope="module")
def scene_video(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene.write(tmp_path_factory.mktemp("footage") / "walkers.avi")


@pytest.fixture
def ui(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[LiveUi]:
    settings = {**FAST, "webhook_retry_for_s": RETRY_FOR_S}
    with running_services("sqlite", tmp_path / "data", face_pipeline, **settings) as services, \
            serving(services) as live:
        yield live


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver(SECRET).start()
    yield hook
    hook.close()


def enroll(ui: LiveUi, scene: Scene) -> dict[str, int]:
    """An admin (so the UI is past its first run), then everybody the scene enrolls (the
    three walkers and two who never appear), each from a photo the footage does not show."""
    ui.user("ada", Role.ADMIN)
    ids = {}
    for label, photo in scene.enrol_photos.items():
        person, _ = ui.services.gallery.create_person(
            TESTS, PersonFields(name=label), [Photo(photo.read_bytes(), photo.name)],
            FaceChoice.LARGEST,
        )
        ids[label] = person.id
    return ids


def start_session(ui: LiveUi, video: Path, key: str, hook: WebhookReceiver) -> int:
    """A session started as a client of the API would (the setup of tests that watch one)."""
    request = SessionStart(
        key=key, cameras=[CameraIn(url=str(video), name="hall", loop=True)],
        webhook=WebhookIn(url=hook.url, secret=SECRET),
    )
    return ui.services.sessions.start(TESTS, request).record.id


def fits_the_width(page: Page) -> None:
    """Nothing sticks out sideways (the wide tables stack at phone width); then back to the
    top, so a full-page shot does not draw the sticky top bar mid-page."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px wider than the viewport"
    page.evaluate("window.scrollTo(0, 0)")


def image_loaded(page: Page, image: Locator) -> None:
    """The evidence route answered a picture (a broken one has no natural width)."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())


def expect_everybody_seen(page: Page) -> None:
    people = page.locator("#people")
    for label in ENROLLED:
        expect(people).to_contain_text(label, timeout=SEEN_MS)
    for label in (*ABSENT, STRANGER):
        expect(people).not_to_contain_text(label)


def test_start_watch_and_stop_a_session_from_the_browser(
    ui: LiveUi, page: Page, shoot: Shoot, scene: Scene, scene_video: Path,
    receiver: WebhookReceiver,
) -> None:
    ui.user("olga", Role.OPERATOR)
    enroll(ui, scene)
    sign_in(page, ui.url, "olga")
    page.goto(ui.url + "/ui/sessions")
    expect(page.locator("#active")).to_have_text("No session is running.")
    expect(page.locator("#past-empty")).to_be_visible()
    page.get_by_role("link", name="Start a session").click()
    expect(page).to_have_url(ui.url + "/ui/sessions/new")

    page.get_by_label("Key").fill("room-101")
    page.get_by_label("Camera 1 URL or path").fill(str(scene_video.with_name("missing.avi")))
    page.get_by_label("Camera 1 name").fill("door")
    page.get_by_label("Loop (video files)").check()
    page.get_by_role("button", name="Add camera").click()
    expect(page.get_by_label("Camera 2 URL or path")).to_be_focused()
    page.get_by_role("button", name="Remove camera 2").click()
    expect(page.get_by_label("Camera 2 URL or path")).to_have_count(0)
    for query, label in (("deepface", "deepface_id01"), ("deepface", "deepface_id03"),
                         ("obama", "fr_obama")):
        page.get_by_label("Find people").fill(query)
        page.get_by_role("button", name=f"Add {label} to the roster").click()
    chips = page.locator("#roster-chips")
    for label in ENROLLED:
        expect(chips).to_contain_text(label)
    page.get_by_label("Threshold").fill("0.3")
    ends = (datetime.now().astimezone() + timedelta(hours=2)).replace(second=0, microsecond=0)
    page.get_by_label("End time").fill(ends.strftime("%Y-%m-%dT%H:%M"))  # the browser's local time
    page.get_by_label("Webhook URL").fill(receiver.url)
    page.get_by_label("Webhook secret").fill("short")
    page.get_by_label("Send webhooks when an unknown face starts or grows a cluster").check()

    # The API's refusals land next to the fields they name: first the request's shape...
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#webhook-secret-error")).to_contain_text("at least 16")
    expect(page.get_by_role("alert").filter(has_text="not started")).to_be_visible()
    page.get_by_label("Webhook secret").fill(SECRET)
    # ...then the service's checks (the video file must exist).
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#cameras-error")).to_contain_text("does not exist")
    expect(page.locator("#webhook-secret-error")).to_be_hidden()
    fits_the_width(page)
    shoot(page, "new-session")
    page.get_by_label("Camera 1 URL or path").fill(str(scene_video))
    page.get_by_role("button", name="Start session").click()
    expect(page).to_have_url(re.compile(re.escape(ui.url) + r"/ui/sessions/\d+$"))

    # Everything below arrives over the stream: the page is never reloaded (the marker set
    # on this document survives to the end).
    page.evaluate("window.sameDocument = true")
    expect(page.locator("#live")).to_have_text("Live")
    expect(page.locator("#session-key")).to_have_text("room-101")
    expect(page.locator('[data-stat="threshold"]')).to_contain_text("0.300")
    expect(page.locator('[data-stat="roster"]')).to_contain_text(f"{len(ENROLLED)} people")
    sid = int(page.url.rsplit("/", 1)[1])
    assert ui.services.sessions.get(sid).record.ends_at == ends
    assert ui.services.sessions.get(sid).record.unknown_events is True
    expect(page.locator('[data-stat="unknown_events"]')).to_contain_text("sent")
    expect(page.locator("#cameras")).to_contain_text("running")
    expect_everybody_seen(page)
    face = page.locator("#people img").first
    expect(face).to_be_visible()
    image_loaded(page, face)
    expect(page.locator("#evidence .evidence-card").first).to_be_visible()
    expect(page.locator("#cameras td.num").first).not_to_have_text(re.compile(r"^—"))

    deliveries = page.locator("#deliveries")
    expect(deliveries.locator('tr[data-status="delivered"]').first).to_be_visible()
    fits_the_width(page)
    shoot(page, "session")

    # A recognition's full frame, kept as evidence.
    page.get_by_role("button", name=re.compile("^Full frame: ")).first.click()
    frame = page.locator("#frame-img")
    expect(frame).to_be_visible()
    image_loaded(page, frame)
    page.locator("#frame-dialog").get_by_role("button", name="Close").click()
    expect(frame).to_be_hidden()

    # One delivery's attempts, then a replay of it.
    started = deliveries.locator("tr", has_text="session.started")
    started.get_by_role("button", name=re.compile("attempts")).click()
    expect(deliveries.locator(".attempt-log")).to_contain_text("HTTP 204")
    started.get_by_role("button", name=re.compile("^Replay session.started")).click()
    expect(deliveries.get_by_text("replay", exact=True)).to_be_visible()
    wait_until(lambda: sum(r.event_type == "session.started" for r in receiver.accepted) == 2,
               30, "the replayed delivery to arrive")

    page.get_by_role("button", name="Stop session").click()
    page.locator("#confirm").get_by_role("button", name="Stop").click()
    expect(page.locator("#session-status")).to_have_text("ended")
    expect(page.locator("#live")).to_contain_text("over")
    expect(page.get_by_role("button", name="Stop session")).to_be_hidden()
    expect(page.locator("#reason")).to_contain_text("stopped by request")
    assert page.evaluate("window.sameDocument") is True

    page.get_by_role("link", name="All sessions").click()
    expect(page.locator("#active")).to_have_text("No session is running.")
    row = page.locator("#past tr", has_text="room-101")
    expect(row).to_contain_text("ended")
    expect(row.locator(".people-seen")).to_contain_text("3")
    for label in ENROLLED:
        expect(row).to_contain_text(label)
    fits_the_width(page)
    shoot(page, "sessions")

    # A past session's page: its summary, replayed from the stored events.
    row.get_by_role("link", name="room-101").click()
    expect(page.locator("#live")).to_contain_text("over")
    expect(page.locator('[data-stat="people"]')).to_contain_text("3")
    expect(page.locator("#evidence .evidence-card")).to_have_count(len(ENROLLED))
    expect_everybody_seen(page)

    # The stranger in the footage was kept as an unknown: the session links to the review
    # page filtered by it, whose card says where the face was seen.
    page.get_by_role("link", name="Unknown faces seen in this session").click()
    expect(page).to_have_url(f"{ui.url}/ui/unknowns?session_id={sid}")
    expect(page.locator("#f-session")).to_have_value(str(sid))
    card = page.locator("#clusters .cluster-card").first
    expect(card.locator(".where")).to_have_text(f"door · session {sid}")
    page.wait_for_function("[...document.querySelectorAll('#clusters img')].every(i => i.complete)")
    shoot(page, "unknowns-session")


def test_phone_watch_and_replay_all_failed(
    ui: LiveUi, phone: Page, shoot: Shoot, scene: Scene, scene_video: Path,
    receiver: WebhookReceiver,
) -> None:
    ui.user("olga", Role.OPERATOR)
    enroll(ui, scene)
    receiver.set_up(False)  # every delivery gives up after RETRY_FOR_S
    sid = start_session(ui, scene_video, "lab-7", receiver)
    sign_in(phone, ui.url, "olga")

    phone.goto(ui.url + "/ui/sessions/new")
    phone.get_by_label("Camera 1 URL or path").fill(str(scene_video))
    phone.get_by_role("button", name="Add camera").click()
    phone.get_by_label("Find people").fill("deepface")
    phone.get_by_role("button", name="Add deepface_id01 to the roster").click()
    expect(phone.get_by_label("Cooldown per person (s)")).to_be_hidden()
    phone.get_by_label("Mode").select_option("every")
    phone.get_by_label("Cooldown per person (s)").fill("30")
    phone.get_by_label("Key").fill("lab-7")
    # The empty second camera is refused on its own row...
    phone.get_by_role("button", name="Start session").click()
    expect(phone.locator("#camera-1-url-error")).to_contain_text("at least 1 character")
    expect(phone.get_by_label("Camera 2 URL or path")).to_have_attribute("aria-invalid", "true")
    fits_the_width(phone)
    shoot(phone, "new-session")
    # ...and, without it, the key still taken by the running session.
    phone.get_by_role("button", name="Remove camera 2").click()
    phone.get_by_role("button", name="Start session").click()
    expect(phone.locator("#key-error")).to_contain_text("lab-7")
    expect(phone.locator("#camera-1-url-error")).to_have_count(0)

    phone.goto(ui.url + "/ui/sessions")
    card = phone.locator(f'#active [data-session-id="{sid}"]')
    expect(card).to_contain_text("hall")
    expect(card).to_contain_text("running")
    fits_the_width(phone)
    shoot(phone, "sessions")
    card.get_by_role("link", name="lab-7").click()
    expect(phone).to_have_url(f"{ui.url}/ui/sessions/{sid}")

    expect_everybody_seen(phone)
    # The start and one recognition per walker ("once" mode), each given up on.
    deliveries = 1 + len(ENROLLED)
    failed = phone.locator('#deliveries tr[data-status="failed"]')
    expect(failed).to_have_count(deliveries, timeout=30_000)
    receiver.set_up(True)
    phone.get_by_role("button", name="Replay all failed").click()
    expect(phone.locator("#notices")).to_contain_text(f"{deliveries} failed deliveries queued")
    delivered = phone.locator('#deliveries tr[data-status="delivered"]')
    expect(delivered).to_have_count(deliveries)
    expect(phone.get_by_role("button", name="Replay all failed")).to_be_disabled()
    phone.locator("#notices").get_by_role("button", name="Dismiss").click()  # off the shot
    fits_the_width(phone)
    shoot(phone, "session")

    phone.get_by_role("button", name="Stop session").click()
    phone.locator("#confirm").get_by_role("button", name="Stop").click()
    expect(phone.locator("#session-status")).to_have_text("ended")
    expect(delivered).to_have_count(deliveries + 1)  # and the end, delivered at once
    assert len({r.event_id for r in receiver.accepted}) == deliveries + 1


def test_a_viewer_watches_without_controls(
    ui: LiveUi, page: Page, scene: Scene, scene_video: Path, receiver: WebhookReceiver,
) -> None:
    ui.user("vera", Role.VIEWER)
    enroll(ui, scene)
    sid = start_session(ui, scene_video, XSS_KEY, receiver)
    sign_in(page, ui.url, "vera")

    page.goto(ui.url + "/ui/sessions")
    card = page.locator(f'#active [data-session-id="{sid}"]')
    expect(card.get_by_role("link", name=XSS_KEY)).to_be_visible()  # shown as the text it is
    expect(card.locator("img")).to_have_count(0)
    expect(page.get_by_role("link", name="Start a session")).to_have_count(0)

    page.goto(f"{ui.url}/ui/sessions/{sid}")
    expect(page.locator("#live")).to_have_text("Live")
    expect(page.locator("#session-key")).to_have_text(XSS_KEY)
    expect(page.locator('#deliveries tr[data-status="delivered"]').first).to_be_visible()
    expect(page.locator("#people")).to_contain_text(ENROLLED[0], timeout=SEEN_MS)
    for name in ("Stop session", "Replay all failed", re.compile("^Replay ")):
        expect(page.get_by_role("button", name=name)).to_have_count(0)

    # Stopped elsewhere: the viewer's page follows.
    ui.services.sessions.stop(TESTS, sid)
    expect(page.locator("#session-status")).to_have_text("ended")

    page.goto(f"{ui.url}/ui/sessions/{sid + 1000}")
    expect(page.locator("#live")).to_have_text("There is no such session.")
    expect(page.locator("#notices")).to_contain_text("not found")

    forced = page.goto(ui.url + "/ui/sessions/new")
    assert forced is not None and forced.status == 403
    expect(page.get_by_role("alert")).to_contain_text("run_sessions")


def test_a_camera_that_cannot_be_reached_fails_the_session_on_the_page(
    ui: LiveUi, page: Page,
) -> None:
    ui.user("ada", Role.ADMIN)
    ui.user("olga", Role.OPERATOR)
    dead = f"http://127.0.0.1:{free_port()}/stream.mjpg"  # nothing listens there
    request = SessionStart(key="gate-2", cameras=[CameraIn(url=dead, name="gate")])
    sid = ui.services.sessions.start(TESTS, request).record.id
    sign_in(page, ui.url, "olga")

    page.goto(f"{ui.url}/ui/sessions/{sid}")
    # Retried with backoff (FAST: twice), then failed; with every camera gone, the session.
    expect(page.locator("#session-status")).to_have_text("failed", timeout=30_000)
    camera = page.locator('#cameras tr[data-camera-id]', has_text="gate")
    # Its cameras are stopped with the session; the error stays on the row and in the reason.
    expect(camera.locator('[data-status="stopped"]')).to_be_visible()
    expect(camera).to_contain_text("cannot open the camera")
    expect(page.locator("#reason")).to_contain_text("every camera failed")
    expect(page.locator("#reason")).to_have_class(re.compile("error"))
    expect(page.get_by_role("button", name="Stop session")).to_be_hidden()
    timeline = page.locator("#timeline")
    for text in ("started", "gate failed: cannot open the camera", "failed: every camera"):
        expect(timeline).to_contain_text(text)

    page.goto(ui.url + "/ui/sessions")
    row = page.locator("#past tr", has_text="gate-2")
    expect(row.locator('[data-status="failed"]')).to_be_visible()
    expect(row).to_contain_text("every camera failed")
    expect(row).to_contain_text("nobody")
