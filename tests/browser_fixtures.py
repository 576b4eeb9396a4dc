"""The one way the tests start a browser: Debian's chromium, driven by Playwright, never downloaded.

``browser`` is module-scoped, so each test module has the browser to itself and closes it before
the next module starts one (Playwright's sync API allows one running instance at a time, and
while it runs, no other code of the process may run an asyncio event loop).

``open_local_page(**options)`` opens a page in a fresh context (``options`` go to
``browser.new_context``) that may reach only 127.0.0.1 and localhost: anything else is aborted and
recorded in ``page.outside``, and the test fails at teardown if the page tried. Errors its scripts
raise are recorded in ``page.errors``. ``local_page`` is one such page, 1200 x 800.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
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
#: The only hosts a test page may reach.
LOCAL = ("127.0.0.1", "localhost")


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
def open_local_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open pages that may reach only 127.0.0.1 and localhost, each in a fresh context."""
    pages: list[Any] = []

    def open_page(**options: Any) -> Any:
        page = browser.new_context(**options).new_page()
        page.outside = []
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))

        def route(route: Any) -> None:
            if urlsplit(route.request.url).hostname in LOCAL:
                route.continue_()
            else:
                page.outside.append(route.request.url)
                route.abort()

        page.route("**/*", route)
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.context.close()
    reached = [url for page in pages for url in page.outside]
    assert reached == [], f"the page reached for the network: {reached}"


@pytest.fixture
def local_page(open_local_page: Callable[..., Any]) -> Any:
    """A page that may reach only 127.0.0.1 and localhost, 1200 x 800."""
    return open_local_page(viewport={"width": 1200, "height": 800})
