"""The admin pages (users, API keys, audit log, system) and My account, driven in the
browser: what an admin does there takes effect on the server (a disabled user cannot sign
in, a created key works until revoked), the audit page shows it, and a non-admin is
neither offered the pages nor let in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from facebank.api.security import API_KEY_HEADER
from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.services.audit import Action, Target
from facebank.store.audit import AuditFilter
from tests.web.live import PASSWORD, PHONE, LiveUi, sign_in
from tests.web.test_dashboard import enroll

Shoot = Callable[[Page, str], Path]
NEW_PASSWORD = "a brand new secret"


def confirm(page: Page, label: str) -> None:
    page.get_by_role("dialog").get_by_role("button", name=label).click()


def notice(page: Page, text: str) -> Locator:
    return page.locator("#notices .notice").filter(has_text=text)


def user_row(page: Page, username: str) -> Locator:
    return page.locator(f'tr[data-username="{username}"]')


def sign_in_refused(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/ui/sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(f"{url}/ui/sign-in")


def test_admin_creates_changes_and_disables_a_user(
    ui: LiveUi, page: Page, browser: Browser, shoot: Shoot
) -> None:
    ui.user("ada", Role.ADMIN)
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/admin/users")
    expect(user_row(page, "ada")).to_contain_text("active")
    expect(user_row(page, "ada")).to_contain_text("(you)")

    page.get_by_label("User name").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Role", exact=True).select_option("operator")
    page.get_by_role("button", name="Create user").click()
    carol = user_row(page, "carol")
    expect(carol.get_by_label("Role of carol", exact=True)).to_have_value("operator")
    assert ui.services.auth.accounts.login("carol", PASSWORD, None).user.role == "operator"

    save = carol.get_by_role("button", name="Save role of carol")
    expect(save).to_be_disabled()  # nothing to save yet
    carol.get_by_label("Role of carol", exact=True).select_option("viewer")
    save.click()
    expect(notice(page, "carol is now viewer")).to_be_visible()
    page.reload()
    carol_role = user_row(page, "carol").get_by_label("Role of carol", exact=True)
    expect(carol_role).to_have_value("viewer")

    user_row(page, "carol").get_by_role("button", name="Disable carol").click()
    confirm(page, "Disable")
    expect(user_row(page, "carol")).to_contain_text("disabled")
    expect(user_row(page, "carol").get_by_role("button", name="Enable carol")).to_be_visible()
    shoot(page, "users")

    other = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[arg-type]
    try:
        sign_in_refused(other.new_page(), ui.url, "carol")
    finally:
        other.close()


def test_api_key_is_shown_once_works_and_is_revoked(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    ui.user("ada", Role.ADMIN)
    enroll(ui, "fr_obama", 1)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui.url)
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/admin/keys")
    page.get_by_label("Name").fill("kiosk")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Create key").click()

    shown = page.get_by_role("region", name="Copy the key now")
    expect(shown).to_contain_text("will not be shown again")
    field = page.get_by_label("The new API key")
    expect(field).not_to_have_value("")
    key = field.input_value()
    expect(page.locator('tr[data-key-name="kiosk"]')).to_contain_text("never")  # not used yet
    shoot(page, "api-keys")
    shown.get_by_role("button", name="Copy").click()
    expect(notice(page, "Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key

    people = httpx.get(f"{ui.url}/api/v1/people", headers={API_KEY_HEADER: key})
    assert people.status_code == 200 and people.json()["total"] == 1

    page.reload()  # shown once: the page has no way to show it again
    expect(page.get_by_role("region", name="Copy the key now")).to_be_hidden()
    assert key not in page.content()
    row = page.locator('tr[data-key-name="kiosk"]')
    expect(row.locator('td[data-label="Last used"]')).not_to_have_text("never")
    row.get_by_role("button", name="Revoke kiosk").click()
    confirm(page, "Revoke")
    expect(row).to_have_count(0)  # revoked keys are listed only on request
    page.get_by_label("Show revoked keys").check()
    expect(page.locator('tr[data-key-name="kiosk"]')).to_contain_text("revoked")

    refused = httpx.get(f"{ui.url}/api/v1/people", headers={API_KEY_HEADER: key})
    assert refused.status_code == 401


def test_audit_page_shows_the_actions_and_filters_by_actor(
    ui: LiveUi, page: Page, shoot: Shoot
) -> None:
    ui.user("ada", Role.ADMIN)
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/admin/users")
    page.get_by_label("User name").fill("dave")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create user").click()
    user_row(page, "dave").get_by_role("button", name="Disable dave").click()
    confirm(page, "Disable")
    expect(user_row(page, "dave")).to_contain_text("disabled")
    page.goto(ui.url + "/ui/admin/keys")
    page.get_by_label("Name").fill("scanner")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_label("The new API key")).not_to_have_value("")

    page.goto(ui.url + "/ui/admin/audit")
    # The filters offer exactly the actions and targets the service records.
    options = "els => els.map(e => e.value).filter(Boolean)"
    assert page.locator("#f-action option").evaluate_all(options) == [a.value for a in Action]
    assert page.locator("#f-target option").evaluate_all(options) == [t.value for t in Target]
    rows = page.locator("#audit-rows tr")
    for action in ("create", "update", "sign in"):
        expect(rows.filter(has_text="ada").filter(has_text=action).first).to_be_visible()
    expect(rows.filter(has_text="api key").filter(has_text="create")).to_have_count(1)
    expect(rows.filter(has_text="tests")).not_to_have_count(0)  # the system made the users
    shoot(page, "audit")

    rows.get_by_role("button", name="ada").first.click()  # an actor's name filters by them
    expect(page.get_by_label("Actor")).to_have_value("ada")
    expect(rows.filter(has_text="tests")).to_have_count(0)
    page.get_by_label("Actor").fill("ada")
    page.get_by_role("button", name="Filter").click()
    expect(rows.filter(has_text="tests")).to_have_count(0)
    expect(rows.filter(has_text="is_active")).to_have_count(1)  # the disabling, by ada
    assert "actor_name=ada" in page.url  # the filtered view can be bookmarked

    page.get_by_label("Action").select_option("revoke")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-rows")).to_contain_text("No entries match")
    page.get_by_role("button", name="Clear").click()
    expect(rows.filter(has_text="tests")).not_to_have_count(0)

    page.get_by_label("From").fill("2099-01-01T00:00")  # a window with nothing in it yet
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-rows")).to_contain_text("No entries match")
    page.get_by_label("From").fill("")
    page.get_by_label("Until").fill("2099-01-01T00:00")
    page.get_by_role("button", name="Filter").click()
    expect(rows.filter(has_text="tests")).not_to_have_count(0)


def test_system_page_rebuilds_and_shows_detailed_health(
    ui: LiveUi, page: Page, shoot: Shoot
) -> None:
    ui.user("ada", Role.ADMIN)
    enroll(ui, "fr_biden", 2)
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/admin/system")
    index = page.locator("#index-status")
    expect(index).to_contain_text("consistent with the database")
    expect(index).to_contain_text(ui.services.pipeline.model_id)
    for section in ("models", "database", "index", "system", "requests", "sessions"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    expect(page.locator("#health-summary")).to_contain_text("database")

    page.get_by_role("button", name="Rebuild the index").click()
    confirm(page, "Rebuild")
    expect(notice(page, "Index rebuilt: 2 faces")).to_be_visible()
    rebuilds = ui.services.auth.audit.page(AuditFilter(action="rebuild"), 0, 10)
    assert rebuilds.total == 1 and rebuilds.items[0].actor_name == "ada"
    shoot(page, "system")


def test_password_change_ends_the_session_and_the_new_one_signs_in(
    ui: LiveUi, page: Page, shoot: Shoot
) -> None:
    ui.user("ada", Role.ADMIN)
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/account")
    me = page.locator("#me")
    expect(me).to_contain_text("ada")
    expect(me).to_contain_text("manage users")
    shoot(page, "account")

    # A wrong current password is shown on the page; the session goes on.
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert").filter(has_text="current password is wrong")).to_be_visible()
    expect(page).to_have_url(ui.url + "/ui/account")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert").filter(has_text="password is changed")).to_be_visible()
    shoot(page, "account-changed")
    page.goto(ui.url + "/ui/")  # this browser's session ended with the old password
    expect(page).to_have_url(ui.url + "/ui/sign-in?next=/ui/")
    sign_in_refused(page, ui.url, "ada", PASSWORD)
    sign_in(page, ui.url, "ada", NEW_PASSWORD)
    expect(page.get_by_role("link", name="ada")).to_be_visible()


def test_an_operator_sees_no_admin_menu_and_gets_the_403_page(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    ui.user("otto", Role.OPERATOR)
    sign_in(page, ui.url, "otto")
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Admin")
    for name in ("Users", "API keys", "Audit log", "System"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    response = page.goto(ui.url + "/ui/admin/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("manage_users")
    # The API behind the page refuses too.
    assert page.request.get(ui.url + "/api/v1/users").status == 403


SHOT_NAMES = {  # the names the desktop tests above give their screenshots
    "/ui/admin/users": "users",
    "/ui/admin/keys": "api-keys",
    "/ui/admin/audit": "audit",
    "/ui/admin/system": "system",
    "/ui/account": "account",
}


@pytest.mark.parametrize("path", list(SHOT_NAMES))
def test_pages_at_phone_width(ui: LiveUi, phone: Page, shoot: Shoot, path: str) -> None:
    ui.user("ada", Role.ADMIN)
    ui.user("vera", Role.VIEWER)
    enroll(ui, "fr_rose_leslie", 1)
    ui.services.auth.api_keys.create(system_principal("tests"), "door", Role.VIEWER)
    sign_in(phone, ui.url, "ada")
    phone.goto(ui.url + path)
    expect(phone.locator("main [aria-busy='true']")).to_have_count(0)  # everything arrived
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} scrolls sideways at phone width ({width} px)"
    shoot(phone, SHOT_NAMES[path])



XSS = "<img src=x onerror=alert(1)>"


def test_key_names_render_as_text_and_copy_falls_back_to_selecting(
    ui: LiveUi, page: Page
) -> None:
    ui.user("ada", Role.ADMIN)
    ui.services.auth.api_keys.create(system_principal("tests"), XSS, Role.VIEWER)
    soon = datetime.now(UTC) + timedelta(days=1)
    ui.services.auth.api_keys.create(system_principal("tests"), "door", Role.VIEWER, soon)
    # Without the clipboard API (plain http away from localhost), the key gets selected.
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/admin/keys")
    rows = page.locator("#key-rows")
    expect(rows.get_by_text(XSS, exact=True)).to_be_visible()
    expect(rows.locator("img")).to_have_count(0)
    door = page.locator('tr[data-key-name="door"]').locator('td[data-label="Expires"]')
    expect(door).not_to_have_text("never")
    expect(door).not_to_contain_text("expired")

    page.get_by_label("Name").fill("backup")
    page.get_by_role("button", name="Create key").click()
    field = page.get_by_label("The new API key")
    expect(field).not_to_have_value("")
    page.get_by_role("button", name="Done, hide it").click()  # focus away, selection gone
    expect(field).to_be_hidden()
    page.get_by_label("Name").fill("spare")
    page.get_by_role("button", name="Create key").click()
    expect(field).not_to_have_value("")
    page.get_by_role("button", name="Copy").click()
    expect(notice(page, "press Ctrl+C")).to_be_visible()
    selected = page.evaluate(
        "(() => { const f = document.activeElement;"
        " return f.value.slice(f.selectionStart, f.selectionEnd); })()"
    )
    assert selected == field.input_value()


def test_audit_log_is_paged_and_the_page_is_kept_in_the_address(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    for n in range(30):  # with ada's creation and sign-in: 32 entries, 25 a page
        ui.user(f"user{n:02d}", Role.VIEWER)
    sign_in(page, ui.url, "ada")
    page.goto(ui.url + "/ui/admin/audit")
    rows = page.locator("#audit-rows tr")
    expect(rows).to_have_count(25)
    pager = page.locator("#audit-pager")
    expect(pager).to_contain_text("32 in all · page 1 of 2")
    expect(pager.get_by_role("button", name="Previous")).to_be_disabled()
    pager.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(7)
    expect(pager).to_contain_text("page 2 of 2")
    assert page.url.endswith("?page=2")
    page.reload()
    expect(rows).to_have_count(7)
    expect(rows.last).to_contain_text("user #1")  # the oldest entry: ada's own creation
