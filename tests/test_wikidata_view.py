"""The Wikidata-shaped view (``queries/views/wikidata-view.rq``), queried as one queries WDQS.

Each query below is written as a WDQS example would be (Wikidata's prefixes undeclared, as WDQS
predeclares them), and sent to ``/sparql`` of an app on the shipped graph. Expected values come
from the paper's own facts (Table 1, Table 4) or from the cdkg graph through its own vocabulary.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset, Graph

from cdkg.canned.registry import Registry
from cdkg.kg.graph import load_dataset
from cdkg.kg.views import WIKIDATA_VIEW, load_views
from cdkg.names import CDKG_GRAPH
from cdkg.settings import Settings
from cdkg.web import create_app

WD = "http://www.wikidata.org/entity/"
TEHRAN, ISFAHAN, LOS_ANGELES, PARIS = "Q3616", "Q42053", "Q65", "Q90"
CDKG = "https://w3id.org/cdkg/ontology#"


@pytest.fixture(scope="module")
def served() -> Dataset:
    return load_dataset()


@pytest.fixture(scope="module")
def cdkg_triples(served: Dataset) -> int:
    return len(served.get_context(CDKG_GRAPH))


@pytest.fixture(scope="module")
def view_app(served: Dataset, cdkg_triples: int) -> Flask:
    return create_app(Settings(), served, queries=Registry({}))


@pytest.fixture
def client(view_app: Flask) -> FlaskClient:
    return view_app.test_client()


def select(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


def ask(client: FlaskClient, query: str) -> bool:
    response = client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return bool(response.json["boolean"])  # type: ignore[index]


def linked_partners(graph: Graph, city_qid: str) -> set[str]:
    """The Wikidata items of a city's sister cities, read through cdkg's own vocabulary."""
    rows = graph.query(
        f"""PREFIX cdkg: <{CDKG}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?wd WHERE {{ ?c skos:exactMatch <{WD}{city_qid}> .
          {{ ?t cdkg:iranianCity ?c ; cdkg:partnerCity ?p }} UNION
          {{ ?t cdkg:partnerCity ?c ; cdkg:iranianCity ?p }}
          ?t a cdkg:SisterCityTie .
          ?p skos:exactMatch ?wd }}"""
    )
    return {str(row[0]) for row in rows}  # type: ignore[index]


def test_the_issue_example_lists_tehrans_partners(client: FlaskClient, served: Dataset) -> None:
    rows = select(
        client,
        "SELECT ?partner ?partnerLabel WHERE { wd:Q3616 wdt:P190 ?partner . "
        '?partner rdfs:label ?partnerLabel FILTER(lang(?partnerLabel)="en") }',
    )
    assert {r["partner"] for r in rows} == linked_partners(served.get_context(CDKG_GRAPH), TEHRAN)
    labels = {r["partnerLabel"] for r in rows}
    assert {"Los Angeles", "Moscow", "Bishkek"} <= labels
    # Table 1 marks Tehran-Paris, -Milan and -Baghdad as cooperation MoUs: not twinnings, no P190
    assert not {"Paris", "Milan", "Baghdad"} & labels
    assert len(rows) == len({r["partner"] for r in rows}), "one row per partner"


def test_twinning_is_stated_from_both_sides(client: FlaskClient) -> None:
    assert ask(client, f"ASK {{ wd:{LOS_ANGELES} wdt:P190 wd:{TEHRAN} }}")
    assert ask(client, f"ASK {{ wd:{TEHRAN} wdt:P190 wd:{LOS_ANGELES} }}")
    # every direct claim has its full statement, and the other way round
    assert not ask(
        client,
        "ASK { ?a wdt:P190 ?b FILTER NOT EXISTS { ?a p:P190 ?s . ?s ps:P190 ?b } }",
    )
    assert not ask(client, "ASK { ?a wdt:P190 ?b FILTER NOT EXISTS { ?b wdt:P190 ?a } }")


def test_p190_statements_are_sister_city_ties_only(client: FlaskClient) -> None:
    query = """PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?partner ?kind ?start WHERE {
      wd:Q3616 p:P190 ?statement .
      ?statement ps:P190 ?partner ; dcterms:type ?kind ; wikibase:rank wikibase:NormalRank .
      OPTIONAL { ?statement pq:P580 ?start }
    }"""
    rows = {r["partner"]: r for r in select(client, query)}
    assert WD + PARIS not in rows  # Table 1: Tehran-Paris is a cooperation MoU, not a twinning
    assert {r["kind"] for r in rows.values()} == {CDKG + "SisterCityTie"}
    assert rows[WD + LOS_ANGELES]["start"].startswith("1972-01-01T00:00:00")  # Table 1: 1972
    assert not ask(
        client,
        "PREFIX cdkg: <https://w3id.org/cdkg/ontology#>\n"
        "ASK { ?st ps:P190 ?o ; prov:wasDerivedFrom ?tie . ?tie a cdkg:CooperationMoU }",
    )


def test_sister_cities_add_up_to_the_papers_count(client: FlaskClient) -> None:
    """61 sister-city ties (the text, line 1178): the statements from the Iranian side give this
    number less the ties whose partner has no Wikidata item; no MoU has a statement."""
    query = """PREFIX dcterms: <http://purl.org/dc/terms/>
    PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
    SELECT ?kind (COUNT(DISTINCT ?tie) AS ?n) WHERE {
      ?statement dcterms:type ?kind ; prov:wasDerivedFrom ?tie .
    } GROUP BY ?kind"""
    counts = {r["kind"].rsplit("#", 1)[1]: int(r["n"]) for r in select(client, query)}
    unlinked = select(
        client,
        """PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
        SELECT (COUNT(?tie) AS ?n) WHERE { GRAPH <https://w3id.org/cdkg/graph/cdkg> {
          ?tie a cdkg:SisterCityTie ; cdkg:iranianCity ?a ; cdkg:partnerCity ?b .
          FILTER (NOT EXISTS { ?a skos:exactMatch ?x } || NOT EXISTS { ?b skos:exactMatch ?y })
        } }""",
    )
    assert set(counts) == {"SisterCityTie"}
    assert counts["SisterCityTie"] + int(unlinked[0]["n"]) == 61


def test_memberships_are_p463(client: FlaskClient) -> None:
    rows = select(client, "SELECT ?city WHERE { ?city wdt:P463 wd:Q1139352 }")  # Creative Cities
    assert WD + ISFAHAN in {r["city"] for r in rows}  # Table 1: Isfahan, UNESCO creative city


def test_country_coordinates_and_class(client: FlaskClient) -> None:
    rows = select(
        client,
        "PREFIX geo: <http://www.opengis.net/ont/geosparql#>\n"
        "SELECT ?country ?coord (DATATYPE(?coord) AS ?type) WHERE { "
        "wd:Q3616 wdt:P31 wd:Q515 ; wdt:P17 ?country ; wdt:P625 ?coord }",
    )
    assert rows == [
        {
            "country": WD + "Q794",
            "coord": "Point(51.4243 35.6719)",
            "type": "http://www.opengis.net/ont/geosparql#wktLiteral",
        }
    ]


def test_labels_in_both_languages_through_schema_name(client: FlaskClient) -> None:
    rows = select(
        client,
        "PREFIX schema: <http://schema.org/>\n"
        "SELECT ?name WHERE { wd:Q3616 schema:name ?name } ORDER BY ?name",
    )
    assert [r["name"] for r in rows] == ["Tehran", "تهران"]


def test_a_wdqs_style_query_with_year_filter(client: FlaskClient) -> None:
    """WDQS example style: partners twinned before 1980, with the year from the qualifier."""
    rows = select(
        client,
        """SELECT ?partnerLabel (YEAR(?start) AS ?year) WHERE {
          wd:Q3616 p:P190 [ ps:P190 ?partner ; pq:P580 ?start ] .
          ?partner rdfs:label ?partnerLabel . FILTER (lang(?partnerLabel) = "en")
          FILTER (YEAR(?start) < 1980)
        } ORDER BY ?year""",
    )
    assert {"partnerLabel": "Los Angeles", "year": "1972"} in rows  # Table 1
    assert all(int(r["year"]) < 1980 for r in rows)
    assert [r["year"] for r in rows] == sorted(r["year"] for r in rows)


def test_the_view_is_its_own_named_graph(client: FlaskClient, served: Dataset) -> None:
    rows = select(
        client, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{WIKIDATA_VIEW}> {{ ?s ?p ?o }} }}"
    )
    assert int(rows[0]["n"]) > 1000
    assert not ask(client, "ASK { GRAPH <https://w3id.org/cdkg/graph/cdkg> { ?s wdt:P190 ?o } }")


def test_the_cdkg_graph_is_unchanged(served: Dataset, cdkg_triples: int, view_app: Flask) -> None:
    """Start-up validation checks the cdkg graph; the view adds nothing to it."""
    assert len(served.get_context(CDKG_GRAPH)) == cdkg_triples


def test_views_load_as_construct_queries() -> None:
    views = load_views()
    assert [str(v.iri) for v in views] == [
        "https://w3id.org/cdkg/graph/micropublication",
        str(WIKIDATA_VIEW),
    ]
