"""The engine and its worker processes, without HTTP."""

from __future__ import annotations

import os
import time

import pytest
from rdflib import Dataset, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.sparql.evaluate import evalQuery

from cdkg import guard
from cdkg.engine import Engine, QueryRequest, join_bgps_lazily
from cdkg.errors import BadQuery, QuerySyntaxError, QueryTimeout
from cdkg.settings import Settings
from cdkg.worker import run_forked

EX = Namespace("https://example.org/")


@pytest.fixture(scope="module")
def towns() -> Dataset:
    """300 made-up ties between made-up towns, each town labelled in two languages."""
    dataset = Dataset(default_union=True)
    graph = dataset.graph(URIRef("https://example.org/graph"))
    for i in range(300):
        tie, town, partner = EX[f"tie{i}"], EX[f"town{i}"], EX[f"partner{i}"]
        graph.add((tie, RDF.type, EX.Tie if i % 2 else EX.MoU))
        graph.add((tie, EX.town, town))
        graph.add((tie, EX.partner, partner))
        for node in (town, partner):
            graph.add((node, RDFS.label, Literal(f"{node} en", lang="en")))
            graph.add((node, RDFS.label, Literal(f"{node} fa", lang="fa")))
    return dataset


VALUES_IN_THE_MIDDLE = """
PREFIX ex: <https://example.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?tie ?kind ?town_label ?partner_label WHERE {
  ?tie a ?class ; ex:town ?town ; ex:partner ?partner .
  VALUES (?class ?kind) { (ex:Tie "tie") (ex:MoU "mou") }
  ?town rdfs:label ?town_label .
  FILTER (lang(?town_label) = "en")
  ?partner rdfs:label ?partner_label .
  FILTER (lang(?partner_label) = "en")
}"""


def solutions(dataset: Dataset, text: str, lazy: bool) -> set[tuple[str, ...]]:
    query = guard.admit(text).query
    if lazy:
        join_bgps_lazily(query.algebra)
    return {
        tuple(sorted(f"{k}={v}" for k, v in row.items()))
        for row in evalQuery(dataset, query)["bindings"]
    }


def test_values_between_patterns_is_not_a_cross_product(towns):
    """Regression: rdflib evaluated the patterns after VALUES as a cross product (378 s on a
    canned query of this shape); the lazy join answers the same rows at once."""
    assert join_bgps_lazily(guard.admit(VALUES_IN_THE_MIDDLE).query.algebra) == 1
    started = time.monotonic()
    lazy = solutions(towns, VALUES_IN_THE_MIDDLE, lazy=True)
    assert time.monotonic() - started < 5
    assert len(lazy) == 300
    values_first = VALUES_IN_THE_MIDDLE.replace(
        '  VALUES (?class ?kind) { (ex:Tie "tie") (ex:MoU "mou") }\n', ""
    ).replace("WHERE {\n", 'WHERE {\n  VALUES (?class ?kind) { (ex:Tie "tie") (ex:MoU "mou") }\n')
    assert lazy == solutions(towns, values_first, lazy=False)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * { ?t a ex:Tie . VALUES ?x { 1 2 } ?t ex:town ?w }",
        "SELECT * { ?t ex:town ?w . { SELECT ?w WHERE { ?w ?p ?l } LIMIT 3 } ?t a ?c }",
        "SELECT * { ?t ex:town ?w OPTIONAL { ?w <urn:none> ?x } ?t a ?c }",
    ],
)
def test_lazy_joins_give_the_same_answers(towns, text):
    text = "PREFIX ex: <https://example.org/> " + text
    assert solutions(towns, text, lazy=True) == solutions(towns, text, lazy=False)


def test_run_forked_returns_the_answer():
    assert run_forked(lambda: ("ok", os.getpid()), timeout=5)[1] != os.getpid()


def test_run_forked_carries_errors_with_their_fields():
    def fail() -> None:
        raise QuerySyntaxError("Expected something", line=3, column=7, hint="look")

    with pytest.raises(QuerySyntaxError) as caught:
        run_forked(fail, timeout=5)
    assert (caught.value.line, caught.value.column, caught.value.hint) == (3, 7, "look")
    assert caught.value.to_json()["error"]["line"] == 3


def test_run_forked_kills_at_the_deadline():
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        run_forked(lambda: time.sleep(30), timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_engine_refuses_a_query_too_deep_to_evaluate():
    engine = Engine(Dataset(), Settings(), warm=False)
    chain = " ".join(f"{{ ?s <urn:p> ?o{i} }} UNION" for i in range(1500)) + " { }"
    with pytest.raises(BadQuery):
        engine.execute(QueryRequest(f"SELECT * {{ {chain} }}"))
