"""Entity pages: ``/id/...`` in HTML, Turtle and JSON-LD (negotiated, or ``format=``), 404 for an
unknown id, ``/ontology``; the offline map; ``/wikidata-diff`` on the snapshot in ``reference/``."""

from __future__ import annotations

import csv
import io
import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import RDFS, Dataset, Graph, Literal, URIRef
from rdflib.namespace import SKOS

import cdkg.web
from cdkg.canned.registry import Registry
from cdkg.kg.graph import load_dataset
from cdkg.names import CDKG, CDKG_GRAPH, ID
from cdkg.scholarly import wikidata
from cdkg.scholarly.map import THIN_PX, Point, rings_of_topojson, svg
from cdkg.settings import Settings
from cdkg.web import create_app

SNAPSHOT = Path(__file__).resolve().parents[1] / "reference" / "wikidata-p190-snapshot.csv"
TEHRAN = URIRef(ID + "city/tehran")
GEO_LAT = URIRef("http://www.w3.org/2003/01/geo/wgs84_pos#lat")


@pytest.fixture(scope="module")
def served() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="module")
def pages_app(served: Dataset) -> Flask:
    return create_app(Settings(wikidata_snapshot=SNAPSHOT), served, queries=Registry({}))


@pytest.fixture
def client(pages_app: Flask) -> FlaskClient:
    return pages_app.test_client()


def partners_with_coordinates(graph: Graph, city: URIRef) -> int:
    partners = {graph.value(t, CDKG.partnerCity) for t in graph.subjects(CDKG.iranianCity, city)}
    partners |= {graph.value(t, CDKG.iranianCity) for t in graph.subjects(CDKG.partnerCity, city)}
    return sum(1 for p in partners if p is not None and graph.value(p, GEO_LAT) is not None)


# --- HTML ---------------------------------------------------------------------------------------


def test_city_page_in_html(client: FlaskClient, served: Dataset) -> None:
    response = client.get("/id/city/tehran", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert ">Tehran</h1>" in page
    assert "تهران" in page
    assert 'href="http://www.wikidata.org/entity/Q3616"' in page
    assert 'href="/id/city/los-angeles"' in page  # a tie (Table 1, row 1)
    # provenance: the line of the extracted text, linked to the source viewer
    assert 'Table 1, <a class="line-link" href="/source/paper#L810">line 810</a>' in page
    assert "http://sistercities.lacity.org/html/11.htm" in page  # footnote 1's source URL
    assert 'id="memberships"' in page
    assert 'href="/id/org/metropolis"' in page
    assert 'id="recognitions"' in page  # the 1974 Asian Games
    # the map: one point for Tehran, one point and one line per partner with coordinates
    partners = partners_with_coordinates(served.get_context(CDKG_GRAPH), TEHRAN)
    assert page.count('<circle class="city"') == 1
    assert page.count('<circle class="partner"') == partners
    assert page.count('<line class="tie"') == partners
    assert not re.search(
        r"""(src|href)=["']https?://(?!www\.wikidata\.org|w3id)""", page.split("<h2>Ties")[0]
    ), "the page loads nothing from elsewhere"


def test_unlinked_entity_says_why(client: FlaskClient) -> None:
    page = client.get("/id/org/uclg").get_data(as_text=True)  # no QID confirmed in reference/
    assert "No Wikidata link" in page
    assert "left unlinked" in page


def test_a_browser_gets_html_and_curl_gets_html_too(client: FlaskClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/id/paper", headers={"Accept": browser}).mimetype == "text/html"
    assert client.get("/id/paper", headers={"Accept": "*/*"}).mimetype == "text/html"


# --- RDF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "fmt", "media_type", "rdflib_format"),
    [
        ("text/turtle", None, "text/turtle", "turtle"),
        ("application/ld+json", None, "application/ld+json", "json-ld"),
        ("text/html", "ttl", "text/turtle", "turtle"),  # format= overrides Accept
        (None, "jsonld", "application/ld+json", "json-ld"),
        ("application/n-triples", None, "application/n-triples", "nt"),
    ],
)
def test_city_in_rdf(  # noqa: PLR0917 - fixtures and the parameter table
    client: FlaskClient,
    served: Dataset,
    accept: str | None,
    fmt: str | None,
    media_type: str,
    rdflib_format: str,
) -> None:
    response = client.get(
        "/id/city/tehran",
        headers={"Accept": accept} if accept else {},
        query_string={"format": fmt} if fmt else {},
    )
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]
    graph = Graph().parse(data=response.data, format=rdflib_format)
    kg = served.get_context(CDKG_GRAPH)
    # the CBD: every triple with Tehran as subject
    assert set(graph.triples((TEHRAN, None, None))) == set(kg.triples((TEHRAN, None, None)))
    # plus the labels of what it links to
    assert (URIRef(ID + "country/iran"), RDFS.label, Literal("Iran", lang="en")) in graph
    assert (TEHRAN, SKOS.exactMatch, URIRef("http://www.wikidata.org/entity/Q3616")) in graph


def test_a_statement_of_the_wikidata_view_dereferences(client: FlaskClient) -> None:
    response = client.get("/id/statement/tehran--los-angeles/Q3616?format=ttl")
    assert response.status_code == 200
    graph = Graph().parse(data=response.data, format="turtle")
    ps = URIRef("http://www.wikidata.org/prop/statement/P190")
    assert graph.value(URIRef(ID + "statement/tehran--los-angeles/Q3616"), ps) == URIRef(
        "http://www.wikidata.org/entity/Q65"
    )


def test_unknown_id_is_a_404_json_error(client: FlaskClient) -> None:
    response = client.get("/id/city/atlantis", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    error = response.json["error"]  # type: ignore[index]
    assert error["type"] == "NotFound"
    assert "https://w3id.org/cdkg/id/city/atlantis" in error["message"]


def test_unacceptable_format_is_406(client: FlaskClient) -> None:
    response = client.get("/id/city/tehran", headers={"Accept": "image/png"})
    assert response.status_code == 406


# --- the ontology -------------------------------------------------------------------------------


def test_ontology_in_html_and_turtle(client: FlaskClient, served: Dataset) -> None:
    page = client.get("/ontology", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="IranianCity"' in page  # https://w3id.org/cdkg/ontology#IranianCity lands here
    turtle = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle"
    graph = Graph().parse(data=turtle.data, format="turtle")
    assert (CDKG.IranianCity, RDFS.label, None) in graph
    assert not list(graph.triples((TEHRAN, None, None))), "the ontology, not the data"


# --- the map, alone -----------------------------------------------------------------------------


def test_map_has_a_point_per_place_and_a_line_per_tie() -> None:
    drawing = svg(Point("A & B", 35.7, 51.4), [Point("C", 48.9, 2.35), Point("D", -33.9, 18.4)])
    assert drawing.startswith("<svg")
    assert drawing.endswith("</svg>")
    assert drawing.count("<circle") == 3
    assert drawing.count('<line class="tie"') == 2
    assert "A &amp; B" in drawing
    assert "http" not in drawing.replace("http://www.w3.org/2000/svg", "")


WORLD = Path(cdkg.web.__file__).parent / "static" / "world-atlas" / "countries-110m.json"


def land_rings(drawing: str) -> list[list[tuple[int, int]]]:
    """The rings of the map's ``path.land``, each a list of points (its relative steps added)."""
    match = re.search(r'<path class="land" d="([^"]*)"', drawing)
    assert match, "no land drawn"
    rings = []
    for start_x, start_y, rest in re.findall(r"M(-?\d+) (-?\d+)l([^z]*)z", match[1]):
        x, y = int(start_x), int(start_y)
        ring = [(x, y)]
        steps = [int(n) for n in rest.split()]
        for dx, dy in zip(steps[::2], steps[1::2], strict=True):
            x, y = x + dx, y + dy
            ring.append((x, y))
        rings.append(ring)
    return rings


def test_map_draws_the_countries_clipped_to_its_frame_and_thinned() -> None:
    land = rings_of_topojson(json.loads(WORLD.read_bytes()))
    drawing = svg(Point("Tehran", 35.69, 51.42), [Point("Baku", 40.41, 49.87)], land=land)
    width, height = (int(n) for n in re.findall(r'viewBox="0 0 (\d+) (\d+)"', drawing)[0])
    rings = land_rings(drawing)
    assert sum(len(r) for r in rings) > 100
    # clipped: nothing beyond the frame (plus the pixel the cut edges are drawn in)
    assert all(-1 <= x <= width + 1 and -1 <= y <= height + 1 for r in rings for x, y in r)
    # thinned: no point closer to the one before than THIN_PX
    for ring in rings:
        for (x0, y0), (x1, y1) in pairwise(ring):
            assert abs(x1 - x0) + abs(y1 - y0) >= THIN_PX
    assert '<path class="land"' not in svg(Point("Tehran", 35.69, 51.42), [])


def test_tehrans_map_its_widest_stays_small(client: FlaskClient) -> None:
    page = client.get("/id/city/tehran", headers={"Accept": "text/html"}).get_data(as_text=True)
    drawing = page[page.index("<svg") : page.index("</svg>")]
    assert '<path class="land"' in drawing
    assert len(drawing) < 48_000  # the outlines near 30 kB, the points and ties the rest


# --- the diff over HTTP -------------------------------------------------------------------------


def test_wikidata_diff_csv_has_the_clis_columns_and_rows(client: FlaskClient, served: Dataset):
    response = client.get("/wikidata-diff?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(table[0]) == list(wikidata.COLUMNS)
    expected = io.StringIO()
    paper = wikidata.paper_ties(served.get_context(CDKG_GRAPH))
    wikidata.write(wikidata.diff(paper, wikidata.read_snapshot(SNAPSHOT)), "csv", expected)
    assert response.get_data(as_text=True) == expected.getvalue()


def test_wikidata_diff_json_and_quickstatements(client: FlaskClient) -> None:
    rows = json.loads(client.get("/wikidata-diff").data)
    status = {(r["iranian_city"], r["partner_city"]): r["status"] for r in rows}
    assert status[("Tehran", "Los Angeles")] == "both"
    assert status[("Tehran", "London")] == "wikidata_only"
    assert status[("Isfahan", "Gyeongju")] == "paper_only"
    lines = client.get("/wikidata-diff?format=quickstatements").get_data(as_text=True)
    assert "Q3616\tP190\tQ9361\tS1476" in lines  # Tehran-Bishkek, paper only


def test_wikidata_diff_endpoint_off_the_allow_list_is_403(client: FlaskClient) -> None:
    response = client.get("/wikidata-diff?endpoint=http://127.0.0.1:9/sparql")
    assert response.status_code == 403


def test_wikidata_diff_without_a_snapshot_is_404() -> None:
    app = create_app(Settings(), load_dataset(), queries=Registry({}))
    response = app.test_client().get("/wikidata-diff")
    assert response.status_code == 404
    assert "--wikidata-snapshot" in response.json["error"]["hint"]  # type: ignore[index]
