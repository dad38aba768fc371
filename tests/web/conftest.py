"""Browser tests: a live app over fresh SQLite services and a chromium page per test.

`ui` serves the app; `browser` is one chromium for the whole run; `page` and `phone` are
fresh contexts (no cookies) at 1280 px and 390 px wide; `shoot(page, name)` saves a
full-page screenshot (to $FACEBANK_UI_SHOTS, e.g. docs/ui, or to the test's tmp dir)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_services
from tests.web.live import DESKTOP, PHONE, LiveUi, chromium, serving, shots_dir

WEB_TESTS = Path(__file__).parent
# expect() waits for its condition up to this long (its own default is 5 s, which a
# recognition on a busy 2-core machine can pass); actions use the contexts' timeouts.
expect.set_options(timeout=30_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test here drives the browser (a conftest's `pytestmark` would mark nothing).
    for item in items:
        if WEB_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium() as (_, launched):
        yield launched


@pytest.fixture
def ui(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[LiveUi]:
    with running_services("sqlite", tmp_path / "data", face_pipeline) as services, serving(
        services
    ) as live:
        yield live


def _page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)  # a busy 2-core machine; waits end on conditions
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, PHONE)


@pytest.fixture
def shoot(tmp_path: Path) -> Callable[[Page, str], Path]:
    target = shots_dir(tmp_path)

    def take(page: Page, name: str) -> Path:
        width = page.viewport_size["width"] if page.viewport_size else 0
        path = target / f"{name}-{'phone' if width < 600 else 'desktop'}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
