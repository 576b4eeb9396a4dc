"""Views that read (issue 18, item 6), measured in real headless Chromium (Debian's, via
Playwright) against a real ``cdkg serve``, offline.

What a reader sees is measured in the page, not trusted: every label's box (the DOM's
``getBoundingClientRect`` for SVG text; cytoscape's rendered label boxes for the network, which it
paints on a canvas) must be inside its view, overlap no other label, and, for SVG, be the topmost
thing painted where it stands (a band drawn over a label hides it as surely as the frame's edge).
The counts the timeline prints are the graph's (the canned ``table3``), and the network's Iranian
cities are the cities whose country is Iran in the graph (rdflib), whatever edges they have. The
entity map's land is where the land is. Screenshots go to ``VIEWS_SCREENSHOTS`` (a temporary
directory unless set; ``reports/screenshots/`` holds the committed ones).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from rdflib import Dataset

from cdkg.kg.graph import load_dataset
from endpoint_fixtures import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ID = "https://w3id.org/cdkg/id/"
#: The smallest font a label may be drawn in, in CSS pixels as rendered.
SMALLEST = 11
CITIES_OF_THE_VIEW = """PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
SELECT DISTINCT ?c ?country WHERE {
  { ?t a ?k ; cdkg:iranianCity ?c . FILTER (?k IN (cdkg:SisterCityTie, cdkg:CooperationMoU)) }
  UNION { ?t a ?k ; cdkg:partnerCity ?c . FILTER (?k IN (cdkg:SisterCityTie, cdkg:CooperationMoU)) }
  UNION { ?m a cdkg:Membership ; cdkg:memberCity ?c }
  ?c cdkg:country ?country .
}"""


@pytest.fixture
def server(shipped_server: LiveServer) -> LiveServer:
    return shipped_server


@pytest.fixture(scope="module")
def graph() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("VIEWS_SCREENSHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("legible-screenshots")


def open_view(page: Any, url: str) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_function("() => window.cdkgView && window.cdkgView.ready", timeout=120_000)
    state: dict[str, Any] = page.evaluate(
        "() => Object.fromEntries(Object.entries(window.cdkgView).filter(([k]) => k !== 'export'))"
    )
    return state


Box = dict[str, Any]


def overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share any area (touching edges do not)."""
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def inside(box: Box, frame: Box) -> bool:
    return (
        frame["x"] <= box["x"]
        and box["x"] + box["w"] <= frame["x"] + frame["w"]
        and frame["y"] <= box["y"]
        and box["y"] + box["h"] <= frame["y"] + frame["h"]
    )


def overlapping(boxes: list[Box]) -> list[tuple[str, str]]:
    return [(a["text"], b["text"]) for a, b in itertools.combinations(boxes, 2) if overlap(a, b)]


# What the page draws, read in the page: each text element of an SVG with its box, rendered font
# size, and whether it is the topmost element at five points along its middle line.
SVG_TEXTS = """(selector) => [...document.querySelectorAll(selector + " text")].map((t) => {
  const r = t.getBoundingClientRect();
  const middle = r.top + r.height / 2;
  const seen = [0.05, 0.25, 0.5, 0.75, 0.95].map((f) => {
    const hit = document.elementFromPoint(r.left + f * r.width, middle);
    return hit !== null && (hit === t || t.contains(hit));
  });
  // the font size as drawn: the CSS size times the SVG's scale on the screen
  const size = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
  return {text: t.textContent, x: r.left, y: r.top, w: r.width, h: r.height, size, seen};
})"""
#: The visible area of an element: its client box (inside borders and scroll bars), in the page.
CLIENT_BOX = """(selector) => {
  const e = document.querySelector(selector), r = e.getBoundingClientRect();
  return {x: r.left + e.clientLeft, y: r.top + e.clientTop, w: e.clientWidth, h: e.clientHeight};
}"""
#: cytoscape's rendered boxes, in the page: each node's label alone, and each node's body.
NETWORK_BOXES = """() => {
  const cy = window.cdkgNetwork, r = cy.container().getBoundingClientRect();
  const page = (b) => ({x: r.left + b.x1, y: r.top + b.y1, w: b.w, h: b.h});
  const only = (body, label) => ({includeNodes: body, includeEdges: false, includeLabels: label});
  return cy.nodes().map((n) => ({
    id: n.id(), text: n.data("label"), group: n.isParent(),
    label: page(n.renderedBoundingBox(only(false, true))),
    body: page(n.renderedBoundingBox(only(true, false))),
    size: parseFloat(n.style("font-size")) * cy.zoom(),
    iranian: n.hasClass("iranian"),
  }));
}"""


# --- the timeline -------------------------------------------------------------------------------


def test_timeline_labels_never_overlap_nor_hide_and_give_the_counts(local_page, server, shots):
    page = local_page
    open_view(page, server.url + "/views/timeline")
    page.locator("#view").scroll_into_view_if_needed()
    page.screenshot(path=shots / "timeline.png", full_page=True)
    texts = page.evaluate(SVG_TEXTS, "#view svg")
    frame = page.evaluate(CLIENT_BOX, "#view")
    assert len(texts) > 20  # the six periods, the axes, the legend
    assert [t["text"] for t in texts if not inside(t, frame)] == [], "cut off at the view's edge"
    assert [t["text"] for t in texts if t["size"] < SMALLEST] == [], "too small to read"
    assert overlapping(texts) == []
    assert [t["text"] for t in texts if not all(t["seen"])] == [], "painted over"
    # each period's label prints the count of dated ties Table 3's rule gives it
    table3 = page.request.get(server.url + "/queries/table3?format=json").json()
    for row in table3["results"]["bindings"]:
        label = page.locator(f'g.cdkg-period[data-period="{row["discourse_label"]["value"]}"]')
        count = row["computed_count_table3_rule"]["value"]
        assert f": {count} dated" in (label.text_content() or ""), row["discourse_label"]["value"]


def test_timeline_labels_stay_apart_when_filtered(local_page, server):
    page = local_page
    open_view(page, server.url + "/views/timeline")
    page.select_option("#filters select[name=kind]", "cooperation_mou")
    texts = page.evaluate(SVG_TEXTS, "#view svg")
    assert overlapping(texts) == []
    assert [t["text"] for t in texts if not inside(t, page.evaluate(CLIENT_BOX, "#view"))] == []
    assert [t["text"] for t in texts if not all(t["seen"])] == [], "painted over"


# --- the network --------------------------------------------------------------------------------


def check_network(page: Any, graph: Dataset) -> None:
    nodes = page.evaluate(NETWORK_BOXES)
    frame = page.evaluate(CLIENT_BOX, "#view")
    labels = [{**n["label"], "text": n["text"]} for n in nodes]
    assert [n["text"] for n in nodes if n["size"] < SMALLEST] == [], "too small to read"
    assert [n["text"] for n in nodes if not inside(n["label"], frame)] == [], "cut off"
    assert overlapping(labels) == []
    # no label lies over another city's or network's dot (a group's box holds its labels)
    covered = [
        (n["text"], m["text"])
        for n in nodes
        for m in nodes
        if n is not m and not m["group"] and overlap(n["label"], m["body"])
    ]
    assert covered == []
    # Iranian is what the graph says of the city's country, whatever edges it has
    countries = {str(row[0]): str(row[1]) for row in graph.query(CITIES_OF_THE_VIEW)}  # type: ignore[index]
    drawn = {n["id"] for n in nodes if n["id"] in countries}
    assert drawn, "no city drawn"
    iranian = {n["id"] for n in nodes if n["iranian"]}
    assert iranian == {c for c in drawn if countries[c] == ID + "country/iran"}


def test_network_labels_read_and_iranian_cities_are_iranian(local_page, server, graph, shots):
    page = local_page
    state = open_view(page, server.url + "/views/network")
    check_network(page, graph)
    assert set(state["iranian"]) == {
        str(row[0])  # type: ignore[index]
        for row in graph.query(CITIES_OF_THE_VIEW)
        if str(row[1]) == ID + "country/iran"  # type: ignore[index]
    }, "every Iranian city of a tie or a membership"
    page.locator("#view").scroll_into_view_if_needed()
    page.screenshot(path=shots / "network.png", full_page=True)
    page.select_option("#filters select[name=group]", "civilisation")
    check_network(page, graph)
    page.screenshot(path=shots / "network-civilisation.png", full_page=True)
    page.select_option("#filters select[name=region]", "East Asia")
    check_network(page, graph)


def test_in_a_narrow_window_the_network_scrolls_and_its_labels_keep_their_size(
    open_local_page, server, graph, shots
):
    """Shrunk to fit a window narrower than its three columns, the labels fell under 11 px; the
    view now keeps zoom 1 and its frame scrolls sideways."""
    page = open_local_page(viewport={"width": 600, "height": 800})
    open_view(page, server.url + "/views/network")
    check_network(page, graph)  # sizes, overlaps, and every label inside the (wider) view
    assert page.evaluate("() => window.cdkgNetwork.zoom()") == 1
    frame = page.evaluate(
        "() => { const f = document.querySelector('.view-frame');"
        " return {scroll: f.scrollWidth, client: f.clientWidth, page: document.body.scrollWidth,"
        " window: window.innerWidth}; }"
    )
    assert frame["scroll"] > frame["client"], "the drawing fits: the test needs a narrower window"
    assert frame["page"] <= frame["window"], "the page itself scrolls, not the view's frame"
    page.locator("#view").scroll_into_view_if_needed()
    page.screenshot(path=shots / "network-narrow.png", full_page=True)


# --- the entity page's map ----------------------------------------------------------------------

#: Where (latitude, longitude) is land or sea, on Tehran's map: its own place, the Sahara, the
#: Atlantic between Africa and Brazil, the Arabian Sea.
PLACES = [
    ((35.69, 51.42), True),
    ((23.0, 10.0), True),
    ((0.0, -25.0), False),
    ((15.0, 62.0), False),
]
# The land under a (latitude, longitude), read through the map's own projection (from two of its
# drawn points: the plate carrée is linear in both).
LAND_AT = """([lat, long]) => {
  const svg = document.querySelector("#map svg"), land = svg.querySelector("path.land");
  const dots = [...svg.querySelectorAll("circle")].map((c) => ({x: +c.getAttribute("cx"),
    y: +c.getAttribute("cy"), lat: +c.dataset.lat, long: +c.dataset.long}));
  const least = (key) => dots.reduce((p, q) => (q[key] < p[key] ? q : p));
  const most = (key) => dots.reduce((p, q) => (q[key] > p[key] ? q : p));
  const a = least("long"), b = most("long"), c = least("lat"), d = most("lat");
  const x = a.x + (long - a.long) * (b.x - a.x) / (b.long - a.long);
  const y = c.y + (lat - c.lat) * (d.y - c.y) / (d.lat - c.lat);
  const point = svg.createSVGPoint(); point.x = x; point.y = y;
  return land.isPointInFill(point);
}"""


def test_entity_map_has_land_where_the_land_is(local_page, server, shots):
    page = local_page
    page.goto(server.url + "/id/city/tehran")
    assert page.locator("#map svg path.land").count() == 1
    assert [(where, page.evaluate(LAND_AT, list(where))) for where, _ in PLACES] == PLACES
    page.locator("#map").screenshot(path=shots / "entity-map-tehran.png")


# --- the audit page -----------------------------------------------------------------------------


def test_audit_page_leads_with_disagreements_linked_to_the_paper(local_page, server, shots):
    page = local_page
    page.goto(server.url + "/audit")
    assert page.locator("section").first.get_attribute("id") == "disagreements"
    page.screenshot(path=shots / "audit.png")
    link = page.locator("#disagreements a.line-link").first
    href = link.get_attribute("href")
    assert href is not None
    assert href.startswith("/source/paper#L")
    link.click()
    page.wait_for_url("**/source/paper#L*")
    first = href.split("#L", 1)[1].split("-", 1)[0]
    assert page.locator(f"#L{first}").is_visible()
