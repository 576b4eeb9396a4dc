"""The dataset a query sees (SPARQL 1.1 Query §13, Protocol §2.1.4) on the one query path: the
union of the served graphs as the default graph, FROM and FROM NAMED, the protocol's graphs, the
predeclared prefixes, and terms as Oxigraph holds them; and :func:`cdkg.kg.store.query`, the path of
cdkg's own reading (entity pages, the audit), which gives rdflib terms.

The canned queries' answers are checked against their golden files in test_canned_golden.py, and
against the Oxigraph server in test_differential.py."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from rdflib import Dataset, Literal, URIRef

from cdkg.canned.catalog import QUERIES_GRAPH
from cdkg.engine.evaluate import QueryRequest
from cdkg.engine.runner import Engine
from cdkg.errors import BadGateway
from cdkg.kg import store
from cdkg.kg.graph import load_dataset
from cdkg.names import CDKG_GRAPH
from cdkg.settings import Settings

JSON = "application/sparql-results+json"
XSD_DECIMAL = "http://www.w3.org/2001/XMLSchema#decimal"


@pytest.fixture(scope="module")
def engine(kg_served: Dataset) -> Engine:
    """An engine on the dataset exactly as the endpoint serves it (catalog and views built)."""
    return Engine(kg_served, Settings())


def test_only_integral_decimals_change_form_in_oxigraph() -> None:
    """Oxigraph stores typed literals in canonical form (``"01"^^xsd:integer`` is ``"1"``, an
    ``xsd:positiveInteger`` becomes an ``xsd:integer``, ``-118.1800`` is ``-118.18``). The
    shipped data is written in forms that survive that, but for the two integral decimals Turtle
    cannot write bare without a point: every other triple comes back exactly as rdflib parses it."""
    rdflib = set(load_dataset(store="rdflib").get_context(CDKG_GRAPH))
    oxigraph = set(load_dataset(store="oxigraph").get_context(CDKG_GRAPH))
    assert len(rdflib) == len(oxigraph)
    changed = rdflib - oxigraph
    assert all(
        isinstance(o, Literal) and str(o.datatype) == XSD_DECIMAL and str(o).endswith(".0")
        for _, _, o in changed
    ), changed
    assert len(changed) <= 2


def run(engine: Engine, text: str, **protocol: tuple[str, ...]) -> list[dict[str, Any]]:
    answer = engine.execute(QueryRequest(text, format=JSON, **protocol), math.inf)  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = json.loads(answer.body)["results"]["bindings"]
    return rows


COUNT = "SELECT (COUNT(*) AS ?n) {from} WHERE {{ ?s ?p ?o }}"


def count(engine: Engine, dataset_clause: str = "", **protocol: tuple[str, ...]) -> int:
    return int(run(engine, COUNT.format(**{"from": dataset_clause}), **protocol)[0]["n"]["value"])


def test_from_chooses_the_default_graph(engine: Engine) -> None:
    everything = count(engine)
    cdkg = count(engine, f"FROM <{CDKG_GRAPH}>")
    queries = count(engine, f"FROM <{QUERIES_GRAPH}>")
    assert 0 < queries < cdkg < everything
    assert count(engine, f"FROM <{CDKG_GRAPH}> FROM <{QUERIES_GRAPH}>") == cdkg + queries
    # the protocol's default-graph-uri wins over the query's FROM (Protocol §2.1.4)
    assert count(engine, f"FROM <{CDKG_GRAPH}>", default_graphs=(str(QUERIES_GRAPH),)) == queries


def test_from_named_hides_the_default_graph(engine: Engine) -> None:
    """With only FROM NAMED, the default graph is empty, and GRAPH sees just that graph."""
    assert count(engine, f"FROM NAMED <{QUERIES_GRAPH}>") == 0
    rows = run(
        engine,
        f"SELECT DISTINCT ?g FROM NAMED <{QUERIES_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    )
    assert [r["g"]["value"] for r in rows] == [str(QUERIES_GRAPH)]


def test_graph_sees_every_named_graph_without_a_dataset_clause(engine: Engine) -> None:
    rows = run(engine, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert {r["g"]["value"] for r in rows} == set(engine.graphs)


def test_wdqs_prefixes_need_no_declaration(engine: Engine) -> None:
    rows = run(engine, "SELECT ?city WHERE { ?city wdt:P190 ?twin } LIMIT 1")
    assert rows
    assert rows[0]["city"]["value"].startswith("http://www.wikidata.org/entity/")


def test_literals_come_back_alike(engine: Engine) -> None:
    """A plain string stays plain (no ``xsd:string`` datatype), a language tag stays, a computed
    number is canonical, and a stored number keeps its lexical form."""
    rows = run(
        engine,
        'SELECT ("x" AS ?plain) ("y"@fa AS ?tagged) (1 + 2 AS ?sum) (STR(?year) AS ?year_text) '
        "WHERE { ?tie <https://w3id.org/cdkg/ontology#startYear> ?year } LIMIT 1",
    )
    row = rows[0]
    assert row["plain"] == {"type": "literal", "value": "x"}
    assert row["tagged"] == {"type": "literal", "value": "y", "xml:lang": "fa"}
    assert row["sum"]["value"] == "3"
    assert row["sum"]["datatype"].endswith("#integer")
    assert row["year_text"]["value"].isdigit()


def test_blank_nodes_are_blank_nodes(engine: Engine) -> None:
    rows = run(engine, "SELECT ?b WHERE { BIND(BNODE() AS ?b) }")
    assert rows[0]["b"]["type"] == "bnode"


def test_construct_and_ask(engine: Engine) -> None:
    ask = engine.execute(
        QueryRequest(f"ASK {{ GRAPH <{CDKG_GRAPH}> {{ ?s ?p ?o }} }}", format=JSON), math.inf
    )
    assert json.loads(ask.body)["boolean"] is True
    built = engine.execute(
        QueryRequest(
            "CONSTRUCT { ?c <http://example.org/label> ?l } WHERE { "
            "?c a <https://w3id.org/cdkg/ontology#IranianCity> ; "
            "<http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 3",
            format="application/n-triples",
        ),
        math.inf,
    )
    assert built.rows == 3
    assert built.body.count(b"<http://example.org/label>") == 3


def test_a_query_with_service_runs_on_rdflibs_engine_with_the_guarded_client() -> None:
    """Oxigraph would fetch a SERVICE itself (no allow-list, no time limit): such a query goes to
    rdflib's engine and cdkg.sparql.federation's guarded client, which here finds nothing
    listening."""
    endpoint = "http://127.0.0.1:9/sparql"
    engine = Engine(load_dataset(), Settings(allow_service=(endpoint,), service_timeout=1.0))
    text = f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
    with pytest.raises(BadGateway, match=r"127\.0\.0\.1:9"):
        engine.execute(QueryRequest(text, format=JSON), math.inf)


def test_store_query_keeps_strings_plain_on_oxigraph() -> None:
    """oxrdflib's own Graph.query would type them xsd:string; store.query does not."""
    dataset = load_dataset()
    row = next(iter(store.query(dataset, 'SELECT ("x" AS ?x) WHERE {}')))
    assert row[0] == Literal("x")
    assert row[0].datatype is None


def test_store_query_on_one_graph_sees_only_that_graph() -> None:
    dataset = load_dataset()
    extra = dataset.graph(URIRef("http://example.org/extra"))
    extra.add((URIRef("http://example.org/a"), URIRef("http://example.org/p"), Literal(1)))
    cdkg = dataset.get_context(CDKG_GRAPH)
    text = "ASK { <http://example.org/a> ?p ?o }"
    assert store.query(dataset, text).askAnswer is True
    assert store.query(cdkg, text).askAnswer is False
    assert isinstance(dataset, Dataset)


def test_no_triple_is_served_in_two_graphs(engine: Engine) -> None:
    """Oxigraph's union default graph (and a FROM list) keeps a triple once per graph holding it,
    where SPARQL 1.1 Query §13.2 merges the graphs (a set): the two differ only for a triple held
    in two graphs. The served graphs hold none, so every answer over the default graph is the
    spec's (docs/performance.md, "Known deviations")."""
    total = count(engine)
    distinct = run(
        engine, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    )
    assert int(distinct[0]["n"]["value"]) == total
