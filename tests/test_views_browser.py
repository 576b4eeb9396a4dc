"""The views (map, timeline, network) and the search page in real headless Chromium (Debian's,
driven by Playwright) against a real ``cdkg serve``, with every request off this origin aborted.

Each view must draw as many cities, ties, years or periods as the graph holds (counted here with
rdflib, not copied from the paper), its filters must change what it draws, and its export must
give a non-empty SVG and PNG citing the dataset version. Screenshots and exports go to a temporary
directory (``VIEWS_SCREENSHOTS`` to choose it), to look at.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from rdflib import Dataset

from cdkg.kg.graph import load_dataset
from endpoint_fixtures import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PREFIXES = """PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


@pytest.fixture(scope="module")
def graph() -> Dataset:
    return load_dataset()


def count(graph: Dataset, where: str, what: str = "*") -> int:
    rows = list(graph.query(f"{PREFIXES} SELECT (COUNT({what}) AS ?n) WHERE {{ {where} }}"))
    return int(rows[0][0])  # type: ignore[index]


def either_city(pattern: str, *more: str) -> str:
    """A subquery of the distinct ?c that are ?a or ?b of ``pattern`` (or bound in ``more``)."""
    union = " UNION ".join(
        [f"{{ {pattern} BIND (?a AS ?c) }}", f"{{ {pattern} BIND (?b AS ?c) }}", *more]
    )
    return f"{{ SELECT DISTINCT ?c WHERE {{ {union} }} }}"


ID = "https://w3id.org/cdkg/id/"
TIES = """?tie a ?tie_class ; cdkg:iranianCity ?a ; cdkg:partnerCity ?b .
FILTER (?tie_class IN (cdkg:SisterCityTie, cdkg:CooperationMoU))"""
PLACED = TIES + " ?a geo:lat ?alat ; geo:long ?along . ?b geo:lat ?blat ; geo:long ?blong ."


@pytest.fixture
def server(shipped_server: LiveServer) -> LiveServer:
    """The shipped graph, with a time limit that leaves room for a loaded machine."""
    return shipped_server


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("VIEWS_SCREENSHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("views-screenshots")


@pytest.fixture
def page(open_local_page: Callable[..., Any], server: LiveServer) -> Iterator[Any]:
    """A page that may reach only the server (anything else is aborted and recorded), whose
    scripts must raise no error."""
    page = open_local_page(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    yield page
    assert page.errors == [], "the page raised"


def open_view(page, server: LiveServer, path: str) -> dict:
    page.goto(server.url + path)
    page.wait_for_function("() => window.cdkgView && window.cdkgView.ready", timeout=120_000)
    return view_state(page)


def view_state(page) -> dict:
    state: dict = page.evaluate(
        "() => Object.fromEntries(Object.entries(window.cdkgView).filter(([k]) => k !== 'export'))"
    )
    return state


def choose(page, name: str, value: str) -> dict:
    page.select_option(f"#filters select[name={name}]", value)
    return view_state(page)


# --- the map ------------------------------------------------------------------------------------


def test_map_draws_every_tie_and_city_offline(page, server, graph, shots):
    state = open_view(page, server, "/views/map")
    ties = count(graph, PLACED)
    cities = count(graph, either_city(PLACED))
    assert (state["ties"], state["cities"]) == (ties, cities)
    assert page.locator("path.cdkg-tie").count() == ties
    assert page.locator("path.cdkg-city").count() == cities
    assert page.locator(".leaflet-tile").count() == 0, "no tiles unless asked for"
    page.screenshot(path=shots / "map.png")


STRIPES = """() => [...document.querySelectorAll(".leaflet-overlay-pane path")]
  .filter((path) => { const box = path.getBBox(); return box.width > 900 && box.height < 20; })
  .length"""


def test_map_draws_no_stripe_across_the_world(page, server):
    """Regression: a country crossing the antimeridian (Fiji) was a thin stripe across the map."""
    open_view(page, server, "/views/map")
    assert page.evaluate(STRIPES) == 0


def test_map_filters_change_what_it_draws(page, server, graph, shots):
    open_view(page, server, "/views/map")
    east_asia = count(graph, PLACED + " ?b cdkg:country/cdkg:region <" + ID + "region/east-asia> .")
    assert choose(page, "region", "East Asia")["ties"] == east_asia
    page.screenshot(path=shots / "map-east-asia.png")
    choose(page, "region", "")
    mous = count(graph, PLACED + " ?tie a cdkg:CooperationMoU .")
    assert choose(page, "kind", "cooperation_mou")["ties"] == mous
    choose(page, "kind", "")
    islamic_iranian = count(
        graph,
        PLACED + " ?b cdkg:country/cdkg:civilisation <" + ID + "civilisation/islamic-iranian> .",
    )
    assert choose(page, "civilisation", "Islamic-Iranian")["ties"] == islamic_iranian
    choose(page, "civilisation", "")
    # Moderation (2013-): a year equal to 2013 belongs to 2005-2013 (Table 3's rule)
    moderation = count(
        graph, PLACED + " ?tie cdkg:startYear ?y . FILTER (xsd:integer(STR(?y)) > 2013)"
    )
    assert choose(page, "period", "Moderation")["ties"] == moderation
    undated = count(graph, PLACED + " FILTER NOT EXISTS { ?tie cdkg:startYear ?y }")
    assert choose(page, "period", "undated")["ties"] == undated
    assert "period: undated" in page.inner_text("#caption")


def test_map_tie_shows_year_and_provenance(page, server):
    open_view(page, server, "/views/map")
    page.locator("path.cdkg-tie").first.dispatch_event("click")
    popup = page.wait_for_selector(".leaflet-popup-content", timeout=10_000).inner_text()
    assert "Tehran" in popup
    assert "Los Angeles" in popup
    assert "1972" in popup
    assert "Table 1, line 810" in popup


# --- the timeline -------------------------------------------------------------------------------


def test_timeline_draws_years_and_periods(page, server, graph, shots):
    state = open_view(page, server, "/views/timeline")
    years = count(graph, TIES + " ?tie cdkg:startYear ?y .", "DISTINCT ?y")
    dated = count(graph, TIES + " ?tie cdkg:startYear ?y .")
    periods = count(graph, "?d a cdkg:Discourse ; cdkg:period ?p .")
    assert (state["years"], state["ties"], state["bands"]) == (years, dated, periods)
    assert page.locator("g.cdkg-year").count() == years
    assert page.locator("rect.cdkg-band").count() == periods
    page.screenshot(path=shots / "timeline.png")
    mou_years = count(graph, "?tie a cdkg:CooperationMoU ; cdkg:startYear ?y .", "DISTINCT ?y")
    assert choose(page, "kind", "cooperation_mou")["years"] == mou_years
    assert page.locator("g.cdkg-year").count() == mou_years


# --- the network --------------------------------------------------------------------------------


def test_network_draws_cities_networks_and_groups(page, server, graph, shots):
    state = open_view(page, server, "/views/network")
    members = count(graph, "?m a cdkg:Membership .")
    networks = count(graph, "?m a cdkg:Membership ; cdkg:network ?n .", "DISTINCT ?n")
    cities = count(graph, either_city(TIES, "{ ?m cdkg:memberCity ?c }"))
    regions = count(graph, TIES + " ?b cdkg:country/cdkg:region ?r .", "DISTINCT ?r")
    assert state["ties"] == count(graph, TIES)
    assert (state["memberships"], state["networks"], state["cities"]) == (members, networks, cities)
    # the partner regions, the Iranian cities, the networks, and member cities outside Iran if any
    others = count(
        graph,
        "?m cdkg:memberCity ?c . FILTER NOT EXISTS { ?c cdkg:country <" + ID + "country/iran> }",
        "DISTINCT ?c",
    )
    boxes = 2 + (1 if others else 0)
    assert state["groups"] == regions + boxes
    page.screenshot(path=shots / "network.png")
    civilisations = count(graph, TIES + " ?b cdkg:country/cdkg:civilisation ?c .", "DISTINCT ?c")
    without = count(graph, TIES + " FILTER NOT EXISTS { ?b cdkg:country/cdkg:civilisation ?c }")
    grouped = choose(page, "group", "civilisation")
    assert grouped["groups"] == civilisations + (1 if without else 0) + boxes
    page.screenshot(path=shots / "network-civilisation.png")
    africa = choose(page, "region", "Africa")
    in_africa = " ?b cdkg:country/cdkg:region <" + ID + "region/africa> ."
    assert africa["ties"] == count(graph, TIES + in_africa)
    assert africa["cities"] < state["cities"]


# --- export -------------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["map", "timeline", "network"])
def test_export_png_and_svg_with_a_caption(page, server, shots, view):
    open_view(page, server, f"/views/{view}")
    version = page.evaluate("() => cdkgViews.config.version")
    answer = page.request.get(server.url + "/queries/views-ties-geo?format=json")
    assert answer.headers["cdkg-dataset-version"] == version, "the version the endpoint cites"
    svg = page.evaluate("() => window.cdkgView.export.svg()")
    assert svg.startswith("<svg")
    assert len(svg) > 1000
    assert f"dataset version {version}" in svg
    assert "views-ties-geo" in svg
    url = page.evaluate("() => window.cdkgView.export.png()")
    assert url.startswith("data:image/png;base64,")
    png = base64.b64decode(url.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 5000
    (shots / f"export-{view}.svg").write_text(svg, encoding="utf-8")
    (shots / f"export-{view}.png").write_bytes(png)
    with page.expect_download() as download:
        page.click("#export-svg")
    saved = shots / f"download-{view}.svg"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8").startswith("<svg")


# --- views for any query ------------------------------------------------------------------------

ANY_QUERY = """#defaultView:Map
PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?city ?city_label ?lat ?long WHERE {
  ?city a cdkg:IranianCity ; rdfs:label ?city_label ; geo:lat ?lat ; geo:long ?long .
  FILTER (lang(?city_label) = "en")
}"""


def test_a_default_view_comment_opens_that_view(page, server, graph, shots):
    state = open_view(page, server, "/views/?query=" + quote(ANY_QUERY))
    assert urlsplit(page.url).path == "/views/map"
    assert state["cities"] == count(graph, "?c a cdkg:IranianCity ; geo:lat ?lat .")
    assert state["ties"] == 0
    page.screenshot(path=shots / "any-query-map.png")
    timeline = ANY_QUERY.replace("#defaultView:Map", "#defaultView:Timeline")
    page.goto(server.url + "/views/?query=" + quote(timeline))
    assert urlsplit(page.url).path == "/views/timeline"


def test_a_yasgui_tab_opens_in_its_default_view(page, server, graph):
    page.goto(server.url + "/")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=60_000)
    page.evaluate("(text) => { window.cdkgYasgui.getTab().setQuery(text); }", ANY_QUERY)
    page.click("#views button[data-view='']")
    page.wait_for_function("() => window.cdkgView && window.cdkgView.ready", timeout=120_000)
    assert urlsplit(page.url).path == "/views/map"
    assert view_state(page)["cities"] == count(graph, "?c a cdkg:IranianCity ; geo:lat ?lat .")


def test_a_canned_query_by_name_opens_in_a_view(page, server, graph):
    state = open_view(page, server, "/views/map?name=views-ties-geo&kind=cooperation_mou")
    assert state["ties"] == count(graph, PLACED + " ?tie a cdkg:CooperationMoU .")


# --- search -------------------------------------------------------------------------------------

SEARCHES = [
    ("Esfahan", "city/isfahan"),
    ("تفليس", "city/tbilisi"),
    ("كوالا لامپور", "city/kuala-lumpur"),
    ("Eṣfahān", "city/isfahan"),
    ("\ufe8d\ufebb\ufed4\ufeec\ufe8e\ufee5", "city/isfahan"),  # pasted from a PDF: ﺍﺻﻔﻬﺎﻥ
    ("شبان", "city/xian"),  # the paper's misprint, Table 1 line 921
]


def test_search_page_finds_by_variant_spellings(page, server, shots):
    page.goto(server.url + "/views/search")
    for typed, expected in SEARCHES:
        page.fill("#q", typed)
        page.click("#search button")
        page.wait_for_function("() => window.cdkgSearch.done", timeout=120_000)
        found = page.evaluate("() => window.cdkgSearch.results")
        assert found[:1] == [ID + expected], typed
        # each result links to its page on this server, not to its w3id.org IRI
        links = page.evaluate("() => window.cdkgSearch.links")
        assert links[:1] == ["/id/" + expected], typed
    printed = page.get_attribute("#results a.printed-line", "href")
    assert printed == "/source/paper#L921"  # the misprint's line, in the source viewer
    page.click("#results a.entity")
    page.wait_for_url(server.url + "/id/city/xian")
    page.screenshot(path=shots / "search.png")
