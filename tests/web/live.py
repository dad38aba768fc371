"""The whole app (API + UI) served by uvicorn in a thread on a free port, over services the
test owns; and Debian's chromium driven through Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.services.container import Services
from facebank.web.app import create_app
from tests.e2e.server import free_port
from tests.waiting import wait_until

CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
PASSWORD = "correct horse battery"
# Screenshots go here when set (docs/ui to refresh the committed ones), else to tmp.
SHOTS_ENV = "FACEBANK_UI_SHOTS"


@dataclass
class LiveUi:
    url: str
    services: Services

    def user(self, username: str, role: Role) -> str:
        """Creates a user with `role` (as the CLI would); returns the user name."""
        self.services.auth.accounts.create_user(system_principal("tests"), username, PASSWORD, role)
        return username


@contextmanager
def serving(services: Services) -> Iterator[LiveUi]:
    port = free_port()
    config = uvicorn.Config(
        create_app(services=services), host="127.0.0.1", port=port, log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ui-server", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=30, what="the UI server to start")
        yield LiveUi(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def chromium() -> Iterator[tuple[Playwright, Browser]]:
    if not CHROMIUM.exists():
        raise AssertionError(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
            "(apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield playwright, browser
        finally:
            browser.close()


def shots_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get(SHOTS_ENV) or tmp_path / "shots")
    target.mkdir(parents=True, exist_ok=True)
    return target


def sign_in(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/ui/sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/ui/**")
