"""The import page in a browser, on real photos: a zip of a folder per person uploaded
(with a corrupt photo and one with no face), followed to its end, its report listing the
skipped photos with their reasons, the people then in the gallery; a second upload while
an import is active refused with a link to it; a viewer offered no import."""

from __future__ import annotations

import base64
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.audit import Action, Target, audit_entry
from facebank.store.db import make_session_factory
from facebank.store.import_jobs import ImportCounts, ImportJobsRepository, NewImportJob
from facebank.store.people import PersonFilter
from tests.api.conftest import running_services
from tests.conftest import PEOPLE
from tests.services.import_sources import write_corrupt, write_faceless, zip_folder
from tests.web.live import LiveUi, serving, sign_in

Shoot = Callable[[Page, str], Path]

XSS = "<img src=x onerror=alert(1)>"
IMPORT_TIMEOUT_MS = 240_000  # worker processes load the models first on a busy 2-core machine
# Folder name -> identity in ../shared/faces/people (the folder name is the person's name).
GOOD = {
    "Joe_Biden": "fr_biden",
    "Rose_Leslie": "fr_rose_leslie",
    "Kit_Harington": "fr_kit_harington",
}


def people_zip(root: Path) -> Path:
    """Three people (7 photos), a corrupt photo for Joe Biden and a person whose only
    photo has no face: as tests/api/test_imports.py builds them."""
    source = root / "people"
    for folder, identity in GOOD.items():
        (source / folder).mkdir(parents=True)
        for photo in sorted((PEOPLE / identity).iterdir()):
            shutil.copy(photo, source / folder / photo.name)
    write_corrupt(source / "Joe_Biden" / "broken.jpg")
    write_faceless(source / "Nobody_Here" / "wall.png")
    return zip_folder(source, root / "staff photos.zip")


def open_import(page: Page, ui: LiveUi, role: Role = Role.OPERATOR) -> None:
    ui.user("ada", Role.ADMIN)  # with no admin yet, every page leads to first-run setup
    name = {Role.ADMIN: "ada", Role.OPERATOR: "otto", Role.VIEWER: "vera"}[role]
    if role is not Role.ADMIN:
        ui.user(name, role)
    sign_in(page, ui.url, name)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # signed in, a page up
    page.goto(ui.url + "/ui/import")
    expect(page.get_by_role("heading", name="Import", exact=True)).to_be_visible()
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():  # phone width: the menu is folded behind its button
        toggle.click()
    expect(page.get_by_role("link", name="Import", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    if toggle.is_visible():
        toggle.click()  # folded again


def snap(shoot: Shoot, page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar then sits at the top
    shoot(page, name)


def hold_a_running_job(ui: LiveUi) -> int:
    """A job row that holds the gallery's one import slot, at 8 of 20 photos, with nobody
    running it: the page shows it running for as long as the test needs."""
    jobs = ImportJobsRepository(make_session_factory(ui.services.engine))
    actor = system_principal("tests")
    new = NewImportJob(actor.kind.value, None, actor.name, "folder", "held.zip", {})
    job = jobs.create(new, lambda r: audit_entry(actor, Action.CREATE, Target.IMPORT, r.id, {}))
    jobs.start(job.id)
    counts = ImportCounts(people_total=5, photos_total=20, photos_done=8, people_created=2,
                          faces_added=7, skipped=1, elapsed_s=4.0)
    jobs.progress(job.id, counts)
    return job.id


def drop_zip(page: Page, archive: Path) -> None:
    """Drops `archive` on the drop zone as a file dragged from the desktop would arrive."""
    transfer = page.evaluate_handle(
        """([name, b64]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "application/zip" }));
          return transfer;
        }""",
        [archive.name, base64.b64encode(archive.read_bytes()).decode()],
    )
    page.locator("#zip-zone").dispatch_event("drop", {"dataTransfer": transfer})


def upload_and_follow(ui: LiveUi, page: Page, tmp_path: Path, shoot: Shoot) -> None:
    open_import(page, ui)
    expect(page.locator("#history-empty")).to_be_visible()
    archive = people_zip(tmp_path)
    page.get_by_label("Zip to import").set_input_files(str(archive))
    expect(page.locator("#zip-chosen")).to_contain_text(re.compile(r"staff photos\.zip \(\d"))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#upload-status")).to_contain_text("import #1 started")
    expect(page.locator("#upload-progress")).to_have_attribute("value", "100")
    expect(page).to_have_url(re.compile(r"/ui/import\?job=1$"))
    state = page.locator("#job-state")
    expect(state).to_have_text("done", timeout=IMPORT_TIMEOUT_MS)
    expect(page.locator("#job-line")).to_contain_text("9 of 9 photos (100%)")
    expect(page.locator(".count-people_created dd")).to_have_text("3")
    expect(page.locator(".count-faces_added dd")).to_have_text("7")
    expect(page.locator(".count-skipped dd")).to_have_text("2")

    rows = page.locator("#skipped-rows tr")
    expect(rows).to_have_count(2)
    broken = rows.filter(has_text="Joe_Biden/broken.jpg")
    expect(broken).to_contain_text("image_invalid")
    expect(rows.filter(has_text="Nobody_Here/wall.png")).to_contain_text("no_face")
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", "/api/v1/imports/1/report?format=csv"
    )
    csv = page.request.get(ui.url + "/api/v1/imports/1/report?format=csv")
    assert csv.text().splitlines()[0] == "person,photo,reason,detail"
    json_href = page.get_by_role("link", name="JSON").get_attribute("href")
    assert len(page.request.get(ui.url + str(json_href)).json()["skipped"]) == 2
    history = page.locator("#history-rows tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("done")
    expect(history.first).to_contain_text("3 new, 0 extended")
    expect(history.first).to_contain_text("otto")
    snap(shoot, page, "import")

    found = ui.services.gallery.search_people(PersonFilter(), 0, 10).items
    assert sorted(p.name for p in found) == ["Joe Biden", "Kit Harington", "Rose Leslie"]

    page.reload()  # the job is in the URL: the page comes back to it, report and all
    expect(state).to_have_text("done")
    expect(rows).to_have_count(2)


def test_a_zip_is_uploaded_followed_and_reported(
    ui: LiveUi, page: Page, tmp_path: Path, shoot: Shoot
) -> None:
    upload_and_follow(ui, page, tmp_path, shoot)


def test_the_same_at_phone_width(ui: LiveUi, phone: Page, tmp_path: Path, shoot: Shoot) -> None:
    upload_and_follow(ui, phone, tmp_path, shoot)


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_a_second_import_while_one_runs_is_refused_with_a_link_to_it(
    ui: LiveUi, request: pytest.FixtureRequest, tmp_path: Path, shoot: Shoot, viewport: str
) -> None:
    browser_page: Page = request.getfixturevalue(viewport)
    held = hold_a_running_job(ui)
    open_import(browser_page, ui)
    # Opening the page shows the latest import: the running one, its progress and ETA.
    expect(browser_page.locator("#job-state")).to_have_text("running")
    expect(browser_page.locator("#job-line")).to_contain_text("8 of 20 photos (40%)")
    expect(browser_page.locator("#job-line")).to_contain_text("left")
    expect(browser_page.locator("#job-progress")).to_have_attribute("value", "0.4")

    drop_zip(browser_page, people_zip(tmp_path))
    expect(browser_page.locator("#zip-chosen")).to_contain_text("staff photos.zip (")
    browser_page.get_by_role("button", name="Upload and import").click()
    refused = browser_page.locator("#upload-error")
    expect(refused).to_contain_text("Another import is running")
    expect(refused.get_by_role("link", name=f"Open import #{held}")).to_have_attribute(
        "href", f"?job={held}"
    )
    expect(browser_page.locator("#upload-status")).to_contain_text("nothing was imported")
    snap(shoot, browser_page, "import-running")
    assert ui.services.imports.get(held).state == "running"  # the held job untouched

    refused.get_by_role("link", name=f"Open import #{held}").click()
    expect(browser_page).to_have_url(re.compile(rf"\?job={held}$"))
    # The page keeps polling: the job's end shows without a reload (no report: files gone).
    jobs = ImportJobsRepository(make_session_factory(ui.services.engine))
    jobs.finish(held, "interrupted", error="the server stopped and its files are gone")
    expect(browser_page.locator("#job-state")).to_have_text("interrupted")
    expect(browser_page.locator("#job-error")).to_contain_text("its files are gone")
    expect(browser_page.locator("#history-rows tr").first).to_contain_text("interrupted")
    expect(browser_page.locator("#report")).to_be_hidden()
    past = browser_page.locator("#history-rows").get_by_role("link", name=f"#{held} held.zip")
    expect(past).to_have_attribute("aria-current", "true")  # the one shown


def test_a_table_with_its_own_column_names_is_mapped_on_the_form(
    ui: LiveUi, page: Page, tmp_path: Path, shoot: Shoot
) -> None:
    source = tmp_path / "table"
    (source / "pics").mkdir(parents=True)
    kit = sorted((PEOPLE / "fr_kit_harington").iterdir())
    for photo in kit:
        shutil.copy(photo, source / "pics" / photo.name)
    pics = ";".join(f"pics/{p.name}" for p in kit)
    table = f"badge,full_name,town,pics\nK-1,Kit Harington,London,{pics}\n"
    (source / "staff.csv").write_text(table, encoding="utf-8")
    open_import(page, ui)
    archive = zip_folder(source, tmp_path / f"{XSS}.zip")  # its name is shown: as text
    page.get_by_label("Zip to import").set_input_files(str(archive))
    page.get_by_text("Column mapping and face choice").click()
    for field, column in [("name", "full_name"), ("external_id", "badge"), ("address", "town"),
                          ("photos", "pics")]:
        page.get_by_label(f"Column for {field}").fill(column)
    page.get_by_label("Face choice").select_option("largest")
    shoot(page, "import-options")
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#job-state")).to_have_text("done", timeout=IMPORT_TIMEOUT_MS)
    expect(page.locator(".count-faces_added dd")).to_have_text(str(len(kit)))
    expect(page.locator("#report-summary")).to_contain_text("Nothing was skipped")
    expect(page.locator(".report .table-wrap")).to_be_hidden()
    expect(page.locator("#job-title")).to_have_text(f"Import #1: {XSS}.zip")
    expect(page.locator("#history-rows tr").first.get_by_role("link")).to_have_text(
        f"#1 {XSS}.zip"
    )
    expect(page.locator("main img")).to_have_count(0)
    kit_person = ui.services.gallery.search_people(PersonFilter(external_id="K-1"), 0, 1).items
    assert [(p.name, p.address) for p in kit_person] == [("Kit Harington", "London")]
    assert ui.services.imports.get(1).options["face_choice"] == "largest"


@pytest.fixture
def small_ui(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[LiveUi]:
    """The app with an import upload limit of 8 KiB."""
    limits = {"import_max_upload_bytes": 8 * 1024}
    with running_services("sqlite", tmp_path / "data", face_pipeline, **limits) as services, \
            serving(services) as live:
        yield live


def test_a_zip_over_the_limit_is_refused_with_the_limit(
    small_ui: LiveUi, page: Page, tmp_path: Path
) -> None:
    open_import(page, small_ui)
    page.get_by_label("Zip to import").set_input_files(str(people_zip(tmp_path)))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#upload-error")).to_contain_text(
        "The zip is too large. The limit is 8.0 KB."
    )
    expect(page.locator("#history-empty")).to_be_visible()


def test_unsafe_and_empty_zips_are_refused_in_words(
    ui: LiveUi, page: Page, tmp_path: Path
) -> None:
    open_import(page, ui)
    files = {"name": "evil.zip", "mimeType": "application/zip", "buffer": b"not a zip at all"}
    page.get_by_label("Zip to import").set_input_files(files)  # type: ignore[arg-type]
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#upload-error")).to_contain_text("The zip was refused.")
    expect(page.locator("#history-empty")).to_be_visible()
    expect(page.locator("#job-none")).to_contain_text("No import yet")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("no people here", encoding="utf-8")
    page.get_by_label("Zip to import").set_input_files(str(zip_folder(notes, tmp_path / "n.zip")))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#upload-error")).to_contain_text("Nothing could be imported")


def test_a_viewer_has_no_import(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    ui.user("vera", Role.VIEWER)
    sign_in(page, ui.url, "vera")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Import", exact=True)).to_have_count(0)
    response = page.goto(ui.url + "/ui/import")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("import")
