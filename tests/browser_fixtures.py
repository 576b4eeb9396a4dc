"""The one way the tests start a browser: Debian's chromium, driven by Playwright, never downloaded.

``browser`` is module-scoped, so each test module has the browser to itself and closes it before
the next module starts one (Playwright's sync API allows one running instance at a time).
``local_page`` is a fresh page that may reach only 127.0.0.1: anything else is aborted, and the
test fails if the page tried.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags, chromium keeps dialling out on this closed network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is missing: apt-get install chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the browser tests

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def local_page(browser: Any) -> Iterator[Any]:
    """A page in a fresh context (1200 x 800) that may reach only 127.0.0.1 and localhost."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    outside: list[str] = []

    def route(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    yield page
    context.close()
    assert outside == [], f"the page reached for the network: {outside}"
