"""An entity page in real headless Chromium (Debian's, via Playwright) against a real
``cdkg serve``, offline: Tehran's labels, its ties table, and the map, whose points and tie lines
are counted in the rendered SVG. A screenshot is saved for people to look at."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from cdkg.names import CDKG, ID
from test_entity_pages import partners_with_coordinates

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(open_local_page):
    """A page that may reach only 127.0.0.1; anything else is aborted and recorded."""
    return open_local_page(viewport={"width": 1200, "height": 900})


def test_tehran_page_and_its_map(page, live_server, kg_graph: Graph):
    tehran = URIRef(ID + "city/tehran")
    partners = partners_with_coordinates(kg_graph, tehran)
    ties = len(list(kg_graph.subjects(CDKG.iranianCity, tehran)))
    page.goto(live_server.url + "/id/city/tehran")
    assert page.locator("#label-en").inner_text() == "Tehran"
    assert page.locator("#label-fa").inner_text() == "تهران"
    assert page.locator("#ties tbody tr").count() == ties
    map_ = page.locator("#map svg")
    assert map_.is_visible()
    assert map_.locator("circle").count() == 1 + partners
    assert map_.locator("circle.city").count() == 1
    assert map_.locator("line.tie").count() == partners
    box = map_.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 100
    # every point is drawn inside the map
    for circle in map_.locator("circle").all():
        dot = circle.bounding_box()
        assert dot is not None
        assert box["x"] <= dot["x"] <= box["x"] + box["width"]
        assert box["y"] <= dot["y"] <= box["y"] + box["height"]
    shot = Path(tempfile.mkdtemp(prefix="cdkg-entity-")) / "tehran.png"
    page.screenshot(path=str(shot), full_page=False)
    print(f"screenshot: {shot}")  # for the person running the tests
    page.click("#ties tbody tr:first-child td:first-child a")
    page.wait_for_url("**/id/city/los-angeles")
    assert page.locator("#label-en").inner_text() == "Los Angeles"
    assert page.locator("#map svg circle.city").count() == 1
    assert page.outside == [], "the page reached for the network"  # type: ignore[attr-defined]
