"""First run, sign-in, sign-out and what guards a browser session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from facebank.auth.roles import Role
from facebank.services.web_sessions import SESSION_COOKIE
from facebank.web.templating import CONTENT_SECURITY_POLICY
from tests.web.live import PASSWORD, LiveUi, sign_in

Shoot = Callable[[Page, str], Path]


def create_first_admin(page: Page, ui: LiveUi, username: str = "ada") -> None:
    page.goto(ui.url + "/")
    expect(page).to_have_url(ui.url + "/ui/setup")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create admin and sign in").click()
    expect(page).to_have_url(ui.url + "/ui/")


def test_first_admin_then_sign_in_and_out(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    shoot_setup = page.goto(ui.url + "/ui/setup")
    assert shoot_setup is not None
    shoot(page, "setup")
    create_first_admin(page, ui)
    expect(page.get_by_role("link", name="ada")).to_be_visible()
    old_cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert old_cookie["httpOnly"] and old_cookie["sameSite"] == "Strict"

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(ui.url + "/ui/sign-in")
    shoot(page, "sign-in")
    # The session ended on the server: its cookie, replayed, no longer signs anyone in.
    page.context.add_cookies([old_cookie])  # type: ignore[list-item]
    page.goto(ui.url + "/ui/people")
    expect(page).to_have_url(f"{ui.url}/ui/sign-in?next=/ui/people")

    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(ui.url + "/ui/people")  # back where the user was going


def test_setup_closes_once_an_admin_exists(ui: LiveUi, page: Page) -> None:
    ui.user("root", Role.ADMIN)
    page.goto(ui.url + "/ui/setup")
    expect(page).to_have_url(ui.url + "/ui/sign-in")


def test_wrong_password_is_refused_on_the_page(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    sign_in_page = page.goto(ui.url + "/ui/sign-in")
    assert sign_in_page is not None
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    expect(page).to_have_url(ui.url + "/ui/sign-in")


def test_pages_carry_the_content_security_policy(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    sign_in(page, ui.url, "ada")
    response = page.goto(ui.url + "/ui/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY and "unsafe-inline" not in policy
    assert response.headers["cache-control"] == "no-store"


def test_state_change_without_csrf_token_is_refused(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    sign_in(page, ui.url, "ada")
    # The browser's cookie goes along, the session's CSRF header does not: refused.
    refused = page.request.post(ui.url + "/api/v1/index/rebuild")
    assert refused.status == 403 and refused.json()["error"]["code"] == "csrf_failed"
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    allowed = page.request.post(
        ui.url + "/api/v1/index/rebuild", headers={"X-CSRF-Token": token}
    )
    assert allowed.status == 200, allowed.text()


def test_sign_in_form_without_its_token_is_refused(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    forged = page.request.post(
        ui.url + "/ui/sign-in", form={"username": "ada", "password": PASSWORD}, max_redirects=0
    )
    assert forged.status == 403
    assert not any(c["name"] == SESSION_COOKIE for c in page.context.cookies())


def test_a_viewer_gets_a_message_not_a_blank_page(ui: LiveUi, page: Page, shoot: Shoot) -> None:
    ui.user("ada", Role.ADMIN)
    ui.user("vera", Role.VIEWER)
    sign_in(page, ui.url, "vera")
    expect(page.get_by_role("link", name="Users")).to_have_count(0)  # not offered
    response = page.goto(ui.url + "/ui/admin/users")  # forced
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("manage_users")
    shoot(page, "forbidden")


def test_unknown_page_is_a_page(ui: LiveUi, page: Page) -> None:
    ui.user("ada", Role.ADMIN)
    sign_in(page, ui.url, "ada")
    response = page.goto(ui.url + "/ui/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_the_bare_pages_at_phone_width(ui: LiveUi, phone: Page, shoot: Shoot) -> None:
    phone.goto(ui.url + "/")
    expect(phone.get_by_role("button", name="Create admin and sign in")).to_be_in_viewport()
    shoot(phone, "setup")
    ui.user("ada", Role.ADMIN)
    ui.user("vera", Role.VIEWER)
    phone.goto(ui.url + "/ui/sign-in")
    expect(phone.get_by_role("button", name="Sign in")).to_be_in_viewport()
    shoot(phone, "sign-in")
    sign_in(phone, ui.url, "vera")
    phone.goto(ui.url + "/ui/admin/users")
    expect(phone.get_by_role("alert")).to_contain_text("manage_users")
    shoot(phone, "forbidden")
