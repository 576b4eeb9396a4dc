"""WDQS's own services answered here: real WDQS example queries, run unchanged.

``tests/fixtures/wdqs/*.rq`` are WDQS example queries as published (each file's header gives the
page), only their entity IDs changed to items cdkg holds. Each runs through a real ``cdkg serve``
(HTTP, SPARQL JSON) and through ``cdkg query FILE.rq``, and its rows are checked against what the
cdkg graph says in its own vocabulary (read here with rdflib, never through the services under
test): who is twinned with whom, who is a member of what, where each city lies. The label,
around and box services and ``geof:`` are then checked one rule at a time against WDQS's (its
User Manual and the code of wikimedia/wikidata-query-rdf), and bad uses are refused with a 400.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph

from cdkg.canned.registry import Registry
from cdkg.engine.functions import with_labels
from cdkg.kg.graph import load_dataset
from cdkg.names import CDKG_GRAPH
from cdkg.settings import Settings
from cdkg.sparql import guard, lexer, wdqs
from cdkg.sparql.prefixes import PREFIXES
from cdkg.sparql.wdqs_services import LABEL_FUNCTION
from cdkg.web import create_app
from endpoint_fixtures import LiveServer

FIXTURES = Path(__file__).parent / "fixtures" / "wdqs"
QUERIES = sorted(FIXTURES.glob("*.rq"))
WD = "http://www.wikidata.org/entity/"
CDKG = "https://w3id.org/cdkg/ontology#"
Row = dict[str, str]


# --- what the cdkg graph says, in its own vocabulary -------------------------------------------


@pytest.fixture(scope="module")
def cdkg() -> Graph:
    return load_dataset().get_context(CDKG_GRAPH)


def select(graph: Graph, where: str, *names: str) -> list[tuple[str, ...]]:
    text = f"""PREFIX cdkg: <{CDKG}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    PREFIX pos: <http://www.w3.org/2003/01/geo/wgs84_pos#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT {" ".join("?" + n for n in names)} WHERE {{ {where} }}"""
    return [tuple(str(v) for v in row) for row in graph.query(text)]  # type: ignore[union-attr]


def places(cdkg: Graph) -> dict[str, tuple[float, float, str]]:
    """Each linked city's item: its latitude, longitude and English label."""
    rows = select(
        cdkg,
        """?c skos:exactMatch ?item ; pos:lat ?lat ; pos:long ?long ; rdfs:label ?label .
        FILTER (lang(?label) = "en")
        { ?c a cdkg:IranianCity } UNION { ?c a cdkg:ForeignCity }""",
        "item",
        "lat",
        "long",
        "label",
    )
    return {item: (float(lat), float(long), label) for item, lat, long, label in rows}


def labels(cdkg: Graph) -> dict[str, str]:
    """Each linked entity's item and its English label."""
    rows = select(
        cdkg, '?c skos:exactMatch ?item ; rdfs:label ?l FILTER (lang(?l) = "en")', "item", "l"
    )
    return dict(rows)


#: WDQS's sphere: a degree of arc is 60 nautical miles, counted as 60 * 1.1515 miles of 1,609.344 m.
RADIUS = 60 * 1.1515 * 1.609344 * 180 / math.pi


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle kilometres on WDQS's sphere by the haversine formula (WDQS uses the law of
    cosines: the two agree but for rounding)."""
    (lat1, lon1), (lat2, lon2) = a, b
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * RADIUS * math.asin(math.sqrt(h))


# --- the fixtures, through HTTP and the CLI -----------------------------------------------------


@pytest.fixture(scope="module")
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server("--workers", "2", "--timeout", "60")


def over_http(server: LiveServer, text: str) -> tuple[list[str], list[Row]]:
    request = urllib.request.Request(  # noqa: S310 - a local server
        server.sparql,
        data=text.encode("utf-8"),
        headers={
            "Content-Type": "application/sparql-query",
            "Accept": "application/sparql-results+json",
        },
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        return rows_of(json.load(response))


def rows_of(body: dict[str, Any]) -> tuple[list[str], list[Row]]:
    rows = [{k: v["value"] for k, v in b.items()} for b in body["results"]["bindings"]]
    return body["head"]["vars"], rows


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_each_example_says_where_it_was_published(path: Path) -> None:
    header = path.read_text(encoding="utf-8").splitlines()[:4]
    assert any(line.startswith("# Published at https://") for line in header), path.name
    assert "# Exact text as published" in "\n".join(header)


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_each_example_runs_over_http_and_the_cli_alike(
    path: Path, server: LiveServer, run_cdkg: Callable[..., Any]
) -> None:
    text = path.read_text(encoding="utf-8")
    names, rows = over_http(server, text)
    assert rows, f"{path.name} gave no rows"
    for name in names:
        if name.endswith("Label") and "SERVICE wikibase:label" in text:
            assert all(row.get(name) for row in rows if row.get(name[: -len("Label")])), name
    done = run_cdkg("query", path, "--format", "json")
    assert done.returncode == 0, done.stderr
    cli_names, cli_rows = rows_of(json.loads(done.stdout))
    assert cli_names == names
    assert sorted(map(sorted, (r.items() for r in cli_rows))) == sorted(
        map(sorted, (r.items() for r in rows))
    )


def run(server: LiveServer, name: str) -> list[Row]:
    return over_http(server, (FIXTURES / name).read_text(encoding="utf-8"))[1]


def test_sister_cities_are_the_papers_with_english_labels(server: LiveServer, cdkg: Graph) -> None:
    rows = run(server, "sister-cities-map.rq")
    ties = select(
        cdkg,
        """?t a cdkg:SisterCityTie ; cdkg:iranianCity ?a ; cdkg:partnerCity ?b .
        ?a skos:exactMatch ?item . ?b skos:exactMatch ?partner ; pos:lat ?lat .
        ?b cdkg:country/skos:exactMatch ?country .""",
        "item",
        "partner",
    )
    assert {(r["item"], r["sisterCity"]) for r in rows} == set(ties)
    located = places(cdkg)
    for row in rows:
        assert row["sisterCityLabel"] == located[row["sisterCity"]][2]
        assert row["itemLabel"] == located[row["item"]][2]
    tehran = {r["sisterCityLabel"] for r in rows if r["item"] == WD + "Q3616"}
    assert {"Los Angeles", "Moscow", "Bishkek"} <= tehran  # Table 1
    assert not {"Paris", "Milan", "Baghdad"} & tehran  # Table 1: cooperation MoUs, no twinning
    assert {r["layer"] for r in rows} >= {"Georgia", "Russia"}  # the partner's country, labelled


def test_members_are_the_papers_with_their_coordinates(server: LiveServer, cdkg: Graph) -> None:
    rows = run(server, "members-map.rq")
    members = select(
        cdkg,
        """?m a cdkg:Membership ; cdkg:memberCity ?c ; cdkg:network ?n .
        ?n skos:exactMatch <http://www.wikidata.org/entity/Q1139352> . ?c skos:exactMatch ?item .
        ?c pos:lat ?lat""",
        "item",
    )
    located = places(cdkg)
    assert {r["item"] for r in rows} == {m for (m,) in members}
    for row in rows:
        lat, long, label = located[row["item"]]
        assert row["itemLabel"] == label
        assert row["geoLocation"] == f"Point({long} {lat})".replace(".0 ", " ").replace(".0)", ")")


def within(cdkg: Graph, center: str, km: float) -> set[str]:
    located = places(cdkg)
    here = located[WD + center][:2]
    return {item for item, (lat, long, _) in located.items() if haversine(here, (lat, long)) <= km}


def test_around_finds_what_lies_within_the_radius(server: LiveServer, cdkg: Graph) -> None:
    rows = run(server, "around-berlin.rq")
    assert {r["place"] for r in rows} == within(cdkg, "Q3616", 100)
    assert {r["placeLabel"] for r in rows} == {"Tehran", "Karaj"}
    nearest = run(server, "around-distance.rq")
    assert [r["place"] for r in nearest] == sorted(within(cdkg, "Q3616", 1))
    # wd:Q515 (city) has no label here: WDQS shows the item's id instead
    assert {r["instanceLabel"] for r in nearest} == {"Q515"}


def in_box(cdkg: Graph, west: str, east: str) -> set[str]:
    located = places(cdkg)
    (wlat, wlong, _), (elat, elong, _) = located[WD + west], located[WD + east]
    south, north = min(wlat, elat), max(wlat, elat)
    return {
        i
        for i, (lat, long, _) in located.items()
        if south <= lat <= north and wlong <= long <= elong
    }


def test_box_finds_what_lies_between_its_corners(server: LiveServer, cdkg: Graph) -> None:
    rows = run(server, "box-between.rq")
    expected = in_box(cdkg, "Q6397066", "Q121157")  # Shiraz, Mashhad
    assert {r["place"] for r in rows} == expected
    assert {r["placeLabel"] for r in rows} >= {"Shiraz", "Mashhad", "Yazd"}
    hinted, starred = over_http(server, (FIXTURES / "box-hint.rq").read_text(encoding="utf-8"))
    assert {r["place"] for r in starred} == expected
    assert sorted(hinted) == ["SCloc", "SJloc", "location", "place"]  # no helper, no hint


def test_labels_fall_back_in_the_order_given(server: LiveServer, cdkg: Graph) -> None:
    rows = run(server, "labels-fallback.rq")  # "fr,en,de": no French label here, so English
    iranian = select(cdkg, "?c a cdkg:IranianCity ; skos:exactMatch ?item", "item")
    english = labels(cdkg)
    assert {r["city"] for r in rows} <= {item for (item,) in iranian}
    assert len(rows) == min(20, len(iranian))
    assert all(r["cityLabel"] == english[r["city"]] for r in rows)
    cities = run(server, "cities.rq")
    assert all(r["cityLabel"] == english[r["city"]] for r in cities)


# --- the services, rule by rule -----------------------------------------------------------------


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(Settings(), load_dataset(), queries=Registry({}))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def ask(client: FlaskClient, text: str) -> dict[str, Any]:
    response = client.post(
        "/sparql", data={"query": text}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def one(client: FlaskClient, text: str) -> dict[str, Any]:
    (row,) = ask(client, text)["results"]["bindings"]
    return dict(row)


def label_of(client: FlaskClient, languages: str, var: str = "cityLabel") -> dict[str, Any]:
    return one(
        client,
        f"SELECT ?city ?{var} WHERE {{ BIND(wd:Q3616 AS ?city) "
        f'SERVICE wikibase:label {{ bd:serviceParam wikibase:language "{languages}" }} }}',
    ).get(var, {})


def test_the_first_language_with_a_label_wins(client: FlaskClient) -> None:
    assert label_of(client, "fa,en") == {"type": "literal", "value": "تهران", "xml:lang": "fa"}
    assert label_of(client, "de,en")["value"] == "Tehran"
    assert label_of(client, "[AUTO_LANGUAGE]") == label_of(client, "en")
    # none of the languages: WDQS shows the entity's id, a plain literal
    assert label_of(client, "de") == {"type": "literal", "value": "Q3616"}
    # descriptions and aliases have no such fallback: unbound when there are none
    assert label_of(client, "en", "cityDescription") == {}
    assert label_of(client, "en", "cityAltLabel") == {}


def test_the_written_out_form_binds_what_it_names(client: FlaskClient) -> None:
    row = one(
        client,
        """SELECT * WHERE {
          SERVICE wikibase:label {
            bd:serviceParam wikibase:language "de" . bd:serviceParam wikibase:language "fa" .
            wd:Q3616 rdfs:label ?tehran ; schema:description ?about .
            wd:Q42053 rdfs:label ?isfahan .
          }
        }""",
    )
    assert (row["tehran"]["value"], row["isfahan"]["value"]) == ("تهران", "اصفهان")
    assert "about" not in row


def test_select_star_gets_no_automatic_labels(client: FlaskClient) -> None:
    """WDQS reads the automatic variables off the SELECT clause: ``*`` names none."""
    body = ask(
        client,
        "SELECT * WHERE { wd:Q3616 wdt:P190 ?partner . "
        'SERVICE wikibase:label { bd:serviceParam wikibase:language "en" } }',
    )
    assert body["head"]["vars"] == ["partner"]


def test_labels_are_bound_last_and_change_no_row_count(client: FlaskClient) -> None:
    plain = ask(client, "SELECT ?p WHERE { wd:Q3616 wdt:P190 ?p }")["results"]["bindings"]
    labelled = ask(
        client,
        """SELECT ?p ?pLabel WHERE { wd:Q3616 wdt:P190 ?p .
        SERVICE wikibase:label { bd:serviceParam wikibase:language "fa,en" } } ORDER BY ?pLabel""",
    )["results"]["bindings"]
    assert len(labelled) == len(plain)
    names = [r["pLabel"]["value"] for r in labelled]
    assert names == sorted(names)
    # a FILTER in the same group sees the label, a GROUP BY groups by it
    found = ask(
        client,
        """SELECT ?p ?pLabel WHERE { wd:Q3616 wdt:P190 ?p .
        SERVICE wikibase:label { bd:serviceParam wikibase:language "en" }
        FILTER (STR(?pLabel) = "Los Angeles") }""",
    )["results"]["bindings"]
    assert [r["p"]["value"] for r in found] == [WD + "Q65"]
    counted = ask(
        client,
        """SELECT ?cLabel (COUNT(?p) AS ?n) WHERE { ?c wdt:P190 ?p ; wdt:P17 wd:Q794 .
        SERVICE wikibase:label { bd:serviceParam wikibase:language "en" } }
        GROUP BY ?cLabel ORDER BY DESC(?n) LIMIT 1""",
    )["results"]["bindings"]
    assert counted[0]["cLabel"]["value"] == "Tehran"


def test_several_labels_in_the_best_language_are_joined() -> None:
    """WDQS joins them with ", " (``LabelService.joinLabels``): no row is multiplied."""
    store = ox.Store()
    item, label = (
        ox.NamedNode(WD + "Q1"),
        ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
    )
    for text, lang in (("Beta", "en"), ("Alpha", "en"), ("Gamma", "de")):
        store.add(ox.Quad(item, label, ox.Literal(text, language=lang), ox.NamedNode("urn:g")))
    call = with_labels(store, None)[ox.NamedNode(LABEL_FUNCTION)]
    assert call(item, label, ox.Literal("en,de")) == ox.Literal("Alpha, Beta", language="en")
    assert call(item, label, ox.Literal("de,en")) == ox.Literal("Gamma", language="de")
    assert with_labels(store, ["urn:other"])[ox.NamedNode(LABEL_FUNCTION)](
        item, label, ox.Literal("en")
    ) == ox.Literal("Q1"), "only the graphs of the query's default graph are read"


def test_geof_distance_is_great_circle_kilometres(client: FlaskClient, cdkg: Graph) -> None:
    located = places(cdkg)
    tehran, los_angeles = located[WD + "Q3616"][:2], located[WD + "Q65"][:2]
    row = one(
        client,
        """PREFIX ogc: <http://www.opengis.net/def/function/geosparql/>
        PREFIX uom: <http://www.opengis.net/def/uom/OGC/1.0/>
        SELECT ?km ?m ?lat ?long WHERE { wd:Q3616 wdt:P625 ?a . wd:Q65 wdt:P625 ?b .
          BIND (geof:distance(?a, ?b) AS ?km) BIND (ogc:distance(?a, ?b, uom:metre) AS ?m)
          BIND (geof:latitude(?a) AS ?lat) BIND (geof:longitude(?a) AS ?long) }""",
    )
    km = float(row["km"]["value"])
    assert row["km"]["datatype"] == "http://www.w3.org/2001/XMLSchema#double"
    assert km == pytest.approx(haversine(tehran, los_angeles), rel=1e-9)
    assert 12_000 < km < 12_300  # Tehran to Los Angeles, about 12,200 km
    assert float(row["m"]["value"]) == pytest.approx(km * 1000)
    assert (float(row["lat"]["value"]), float(row["long"]["value"])) == tehran


def test_around_binds_the_distance_geof_distance_gives(client: FlaskClient) -> None:
    rows = ask(
        client,
        """SELECT ?place ?dist ?check WHERE { wd:Q3616 wdt:P625 ?c .
          SERVICE wikibase:around { ?place wdt:P625 ?loc . bd:serviceParam wikibase:center ?c ;
            wikibase:radius 500 ; wikibase:distance ?dist . }
          BIND (geof:distance(?c, ?loc) AS ?check) } ORDER BY ?dist""",
    )["results"]["bindings"]
    assert len(rows) > 2
    assert rows[0]["place"]["value"] == WD + "Q3616"
    assert float(rows[0]["dist"]["value"]) == 0
    assert all(r["dist"] == r["check"] and float(r["dist"]["value"]) <= 500 for r in rows)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "SELECT ?c ?cLabel WHERE { ?c wdt:P31 wd:Q515 SERVICE wikibase:label { bd:serviceParam "
            'wikibase:language "en" FILTER (true) } }',
            "only triples are read",
        ),
        ("SELECT ?cLabel WHERE { ?c wdt:P31 wd:Q515 SERVICE wikibase:label { } }", "no language"),
        (
            "SELECT * WHERE { SERVICE wikibase:around { ?p wdt:P625 ?l . "
            'bd:serviceParam wikibase:radius "1" } }',
            "one wikibase:center",
        ),
        (
            "SELECT * WHERE { SERVICE wikibase:around { ?p wdt:P625 ?l . bd:serviceParam "
            'wikibase:centre "Point(1 2)" ; wikibase:radius "1" } }',
            "no parameter",
        ),
        (
            "SELECT * WHERE { SERVICE wikibase:box { ?p wdt:P625 ?l . bd:serviceParam "
            'wikibase:cornerWest "Point(1 2)" ; wikibase:cornerEast "Point(3 4)" ; '
            "wikibase:globe wd:Q405 } }",
            "Earth only",
        ),
        ("SELECT * WHERE { ?s hint:optimizer ?o }", "query hint"),
        (
            "SELECT * WHERE { SERVICE wikibase:around { ?p wdt:P625 ?l . bd:serviceParam "
            'wikibase:center "[AUTO_COORDINATES]" . bd:serviceParam wikibase:radius "1" } }',
            "reader's location",
        ),
        (
            'SELECT * WHERE { SERVICE wikibase:label { bd:serviceParam wikibase:language "en" '
            "wd:Q1 rdfs:label ?l } }",
            "ends no triple",
        ),
        ("SELECT * WHERE { BIND (geof:area(1) AS ?x) }", "is not supported"),
    ],
)
def test_what_cannot_be_answered_so_is_refused_saying_why(
    client: FlaskClient, text: str, said: str
) -> None:
    response = client.post("/sparql", data={"query": text})
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.json["error"]  # type: ignore[index]
    assert error["type"] == "BadQuery"
    assert said in error["message"]


def test_the_rewritten_texts_call_nothing_outside(client: FlaskClient) -> None:
    for path in QUERIES:
        text = path.read_text(encoding="utf-8")
        assert lexer.mentions_service(text)
        assert not lexer.mentions_service(wdqs.rewrite(text, PREFIXES)), path.name
    # a label service inside another endpoint's SERVICE is that endpoint's: still off the list
    nested = client.post(
        "/sparql",
        data={
            "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o "
            'SERVICE wikibase:label { bd:serviceParam wikibase:language "en" } } }'
        },
    )
    assert nested.status_code == 403
    # an escape that would turn another IRI into the label service's reads two ways: refused
    escaped = client.post(
        "/sparql",
        data={"query": r"SELECT * WHERE { SERVICE <http://wikiba.se/ontology#\u006cabel> { } }"},
    )
    assert escaped.status_code in (400, 403)


@pytest.mark.parametrize(
    ("service", "does"),
    [
        ("wikibase:mwapi", "MediaWiki API"),
        ("gas:service", "graph algorithms"),
        ("bd:sample", "samples"),
        ("<http://www.bigdata.com/rdf#slice>", "slices"),
    ],
)
def test_wdqs_own_services_are_refused_saying_where_to_run_them(
    client: FlaskClient, service: str, does: str
) -> None:
    """Not endpoints: "ask the operator to allow-list it" could not help, so it is not said."""
    text = f"SELECT ?item WHERE {{ SERVICE {service} {{ ?item ?p ?o }} }}"
    response = client.post("/sparql", data={"query": text})
    assert response.status_code == 403
    error = response.json["error"]
    assert does in error["message"]
    assert "query.wikidata.org" in error["hint"]
    assert "--allow-service" not in error["hint"]


def test_a_query_without_wdqs_services_is_left_as_written() -> None:
    text = 'SELECT ?s WHERE { ?s rdfs:label "SERVICE wikibase:label" } # hint:Query'
    assert not guard.admit(text, prefixes=PREFIXES).wdqs
    assert wdqs.rewrite(text, PREFIXES) == text


def test_an_error_after_a_service_is_reported_at_its_line(client: FlaskClient) -> None:
    text = (
        "SELECT ?c ?cLabel WHERE {\n  ?c wdt:P31 wd:Q515 .\n  SERVICE wikibase:label {\n"
        '    bd:serviceParam wikibase:language "en" .\n  }\n  ?c wdt:P17 ?? .\n}'
    )
    response = client.post("/sparql", data={"query": text})
    assert response.status_code == 400
    assert response.json["error"]["line"] == 6  # type: ignore[index]


# --- #defaultView:Map draws any column of WKT points --------------------------------------------

MAP_QUERY = """#defaultView:Map
SELECT ?partner ?partnerLabel ?geo WHERE {
  wd:Q3616 wdt:P190 ?partner . ?partner wdt:P625 ?geo .
  SERVICE wikibase:label { bd:serviceParam wikibase:language "en" }
}"""


@pytest.mark.browser
def test_the_map_draws_a_column_of_wkt_points_whatever_its_name(
    local_page: Any, server: LiveServer, cdkg: Graph
) -> None:
    """WDQS's map draws every column holding geo:wktLiteral values: here ``?geo``, a name the
    views did not guess from."""
    points = select(
        cdkg,
        """?c skos:exactMatch <http://www.wikidata.org/entity/Q3616> .
        ?t a cdkg:SisterCityTie . { ?t cdkg:iranianCity ?c ; cdkg:partnerCity ?p }
        ?p skos:exactMatch ?item ; pos:lat ?lat ; pos:long ?long .""",
        "lat",
        "long",
    )
    local_page.goto(f"{server.url}/views/?query={urllib.parse.quote(MAP_QUERY)}")
    local_page.wait_for_function("() => window.cdkgView && window.cdkgView.ready", timeout=120_000)
    assert urllib.parse.urlsplit(local_page.url).path == "/views/map"
    state = local_page.evaluate("() => ({cities: window.cdkgView.cities})")
    assert points
    assert state["cities"] == len(set(points))


def test_wdqs_services_beside_another_endpoint_are_refused_before_any_call() -> None:
    """rdflib runs a query with an allow-listed SERVICE, and knows no label service: refused."""
    endpoint = "http://127.0.0.1:9/sparql"  # the discard port: a call would fail, not pass
    app = create_app(Settings(allow_service=(endpoint,)), load_dataset(), queries=Registry({}))
    text = (
        f"SELECT ?c ?cLabel WHERE {{ ?c wdt:P31 wd:Q515 . SERVICE <{endpoint}> {{ ?c ?p ?o }} "
        'SERVICE wikibase:label { bd:serviceParam wikibase:language "en" } }'
    )
    response = app.test_client().post("/sparql", data={"query": text})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "another endpoint" in response.json["error"]["message"]  # type: ignore[index]


def test_the_service_description_names_the_functions(client: FlaskClient) -> None:
    """SPARQL 1.1 Service Description §3.4: each extension function, as an sd:Function."""
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    described = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    found = select(described, f"?s <{sd}extensionFunction> ?f . ?f a <{sd}Function>", "f")
    assert {f for (f,) in found} == {
        "http://www.opengis.net/def/geosparql/function/distance",
        "http://www.opengis.net/def/geosparql/function/latitude",
        "http://www.opengis.net/def/geosparql/function/longitude",
        "http://www.opengis.net/def/geosparql/function/globe",
        "http://www.opengis.net/def/function/geosparql/distance",
    }
