"""The source viewer in real headless Chromium (Debian's, via Playwright) against a real
``cdkg serve``, offline: a provenance link on an entity page and a canned query's source link lead
to ``/source/paper#L...``, the line or range named is highlighted and scrolled into view, and a
change of fragment moves the highlight."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from endpoint_fixtures import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(local_page: Any) -> Any:
    return local_page


def highlighted(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(".line.hl", "lines => lines.map(l => l.id)")
    return ids


def in_viewport(page: Any, line_id: str) -> bool:
    inside: bool = page.evaluate(
        """id => { const box = document.getElementById(id).getBoundingClientRect();
                   return box.top >= 0 && box.bottom <= window.innerHeight; }""",
        line_id,
    )
    return inside


def test_an_entity_pages_provenance_link_shows_its_line(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/id/tie/yazd--urumqi")
    link = page.locator("#provenance a.line-link").first
    href = link.get_attribute("href")
    assert href is not None
    assert href.startswith("/source/paper#L")
    first = href.split("#", 1)[1].split("-", 1)[0]  # "L1058" of "#L1058" or "#L1058-L1060"
    link.click()
    page.wait_for_url(f"**{href}")
    assert urlsplit(page.url).path == "/source/paper"
    marked = highlighted(page)
    assert marked
    assert marked[0] == first
    assert in_viewport(page, first)
    assert page.locator(f"#{first} span[dir=rtl][lang=fa]").count() == 1


def test_a_range_is_highlighted_and_follows_the_fragment(
    page: Any, live_server: LiveServer
) -> None:
    page.goto(live_server.url + "/source/paper#L1751-L1757")
    assert highlighted(page) == [f"L{n}" for n in range(1751, 1758)]
    assert in_viewport(page, "L1751")
    # a new fragment (as a click on a line number gives) moves the highlight: hashchange
    page.click("#L20 > a")
    page.wait_for_function("location.hash === '#L20'")
    page.wait_for_function("document.getElementById('L20').classList.contains('hl')")
    assert highlighted(page) == ["L20"]
    assert in_viewport(page, "L20")
    page.evaluate("location.hash = '#L2100-L2090'")  # reversed: the same range
    page.wait_for_function("document.getElementById('L2090').classList.contains('hl')")
    assert highlighted(page) == [f"L{n}" for n in range(2090, 2101)]
    assert in_viewport(page, "L2090")


def test_a_canned_querys_source_link_shows_its_lines(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/queries/table1?format=html")
    link = page.locator("#source a.line-link").first
    href = link.get_attribute("href")
    assert href is not None
    start, end = (int(part) for part in href.split("#L", 1)[1].split("-L"))
    link.click()
    page.wait_for_url(f"**{href}")
    assert highlighted(page) == [f"L{n}" for n in range(start, end + 1)]
    assert in_viewport(page, f"L{start}")
