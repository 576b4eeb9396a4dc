"""The embedded stores give the same answers: every canned query's golden result, on Oxigraph and on
rdflib, through the endpoint's engine and through :func:`cdkg.store.query` (the CLI's path); and
the semantic differences :mod:`cdkg.store` handles (FROM, SERVICE, prefixes, literals, blank
nodes), each checked on both."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rdflib import Dataset, Literal, URIRef

from cdkg import guard, negotiation, store
from cdkg.catalog import QUERIES_GRAPH
from cdkg.engine import Engine, QueryRequest
from cdkg.graph import CDKG_GRAPH, load_dataset
from cdkg.queries import Registry
from cdkg.resources import kg_dir
from cdkg.serialize import render
from cdkg.settings import Settings
from cdkg.web import create_app

GOLDEN = Path(__file__).parent / "golden"
REGISTRY = Registry.load(kg_dir("queries"))
JSON = "application/sparql-results+json"
STORES = ("oxigraph", "rdflib")


@pytest.fixture(scope="module", params=STORES)
def engine(request: pytest.FixtureRequest) -> Engine:
    """An engine on the dataset exactly as the endpoint serves it (catalog and views built)."""
    settings = Settings(store=request.param)
    app = create_app(settings)
    built: Engine = app.extensions["cdkg"].engine
    return built


XSD_DECIMAL = "http://www.w3.org/2001/XMLSchema#decimal"


def comparable(doc: dict[str, Any], ordered: bool) -> tuple[Any, ...]:
    """The columns and the rows (in order if the query orders), blank node labels blanked and
    decimals compared by value: the one lexical difference between the stores is an integral
    decimal, which Oxigraph writes ``50`` and rdflib, as parsed from Turtle's ``50.0``, ``50.0``
    (test_only_integral_decimals_change_form_in_oxigraph)."""
    if "boolean" in doc:
        return ("boolean", doc["boolean"])
    rows = []
    for row in doc["results"]["bindings"]:
        for term in row.values():
            if term["type"] == "bnode":
                term["value"] = "_"
            if term.get("datatype") == XSD_DECIMAL:
                term["value"] = str(Decimal(term["value"]).normalize())
        rows.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
    return (doc["head"].get("vars"), rows if ordered else sorted(rows))


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


def golden(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return result


def ordered(name: str) -> bool:
    return "ORDER BY" in REGISTRY.get(name).text.upper()


def test_each_store_backs_its_engine() -> None:
    oxigraph = Engine(load_dataset(store="oxigraph"), Settings(), warm=False)
    rdflib = Engine(load_dataset(store="rdflib"), Settings(store="rdflib"), warm=False)
    assert isinstance(oxigraph.backend, store.OxigraphBackend)
    assert isinstance(rdflib.backend, store.RdflibBackend)


@pytest.mark.parametrize("name", REGISTRY.names())
def test_canned_query_equals_golden_on_each_store(engine: Engine, name: str) -> None:
    text = REGISTRY.bind(name, {})
    answer = engine.execute(QueryRequest(text, format=JSON))
    got = json.loads(answer.body)
    assert comparable(got, ordered(name)) == comparable(golden(name), ordered(name))


@pytest.mark.parametrize("kind", STORES)
def test_store_query_equals_golden(kind: str) -> None:
    """The CLI's path (``cdkg query``) on each store, for the queries of the tables."""
    from cdkg.results import write_result  # noqa: PLC0415

    dataset = load_dataset(store=kind)
    for name in ("table1", "table2", "table3", "table4", "rq2-networks"):
        out = __import__("io").StringIO()
        write_result(store.query(dataset, REGISTRY.bind(name, {})), "json", out)
        doc = json.loads(out.getvalue())
        assert comparable(doc, ordered(name)) == comparable(golden(name), ordered(name)), name


def run(engine: Engine, text: str, **protocol: tuple[str, ...]) -> list[dict[str, Any]]:
    answer = engine.execute(QueryRequest(text, format=JSON, **protocol))  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = json.loads(answer.body)["results"]["bindings"]
    return rows


COUNT = "SELECT (COUNT(*) AS ?n) {from} WHERE {{ ?s ?p ?o }}"


def count(engine: Engine, dataset_clause: str = "", **protocol: tuple[str, ...]) -> int:
    return int(run(engine, COUNT.format(**{"from": dataset_clause}), **protocol)[0]["n"]["value"])


def test_from_chooses_the_default_graph_on_each_store(engine: Engine) -> None:
    everything = count(engine)
    cdkg = count(engine, f"FROM <{CDKG_GRAPH}>")
    queries = count(engine, f"FROM <{QUERIES_GRAPH}>")
    assert 0 < queries < cdkg < everything
    assert count(engine, f"FROM <{CDKG_GRAPH}> FROM <{QUERIES_GRAPH}>") == cdkg + queries
    # the protocol's default-graph-uri wins over the query's FROM (Protocol §2.1.4)
    assert count(engine, f"FROM <{CDKG_GRAPH}>", default_graphs=(str(QUERIES_GRAPH),)) == queries


def test_from_named_hides_the_default_graph_on_each_store(engine: Engine) -> None:
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


def test_wdqs_prefixes_need_no_declaration_on_each_store(engine: Engine) -> None:
    rows = run(engine, "SELECT ?city WHERE { ?city wdt:P190 ?twin } LIMIT 1")
    assert rows
    assert rows[0]["city"]["value"].startswith("http://www.wikidata.org/entity/")


def test_literals_come_back_alike_on_each_store(engine: Engine) -> None:
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


def test_blank_nodes_are_blank_nodes_on_each_store(engine: Engine) -> None:
    rows = run(engine, "SELECT ?b WHERE { BIND(BNODE() AS ?b) }")
    assert rows[0]["b"]["type"] == "bnode"


def test_construct_and_ask_on_each_store(engine: Engine) -> None:
    ask = engine.execute(
        QueryRequest(f"ASK {{ GRAPH <{CDKG_GRAPH}> {{ ?s ?p ?o }} }}", format=JSON)
    )
    assert json.loads(ask.body)["boolean"] is True
    built = engine.execute(
        QueryRequest(
            "CONSTRUCT { ?c <http://example.org/label> ?l } WHERE { "
            "?c a <https://w3id.org/cdkg/ontology#IranianCity> ; "
            "<http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 3",
            format="application/n-triples",
        )
    )
    assert built.rows == 3
    assert built.body.count(b"<http://example.org/label>") == 3


def test_a_query_with_service_runs_on_rdflibs_engine() -> None:
    """Oxigraph would fetch a SERVICE itself (no allow-list, no time limit): such a query goes to
    rdflib's engine and cdkg.federation's guarded client instead."""
    text = "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"
    admitted = guard.admit(text, allow_service=["http://127.0.0.1:1/sparql"])
    assert store.calls_service(admitted.query.algebra)
    assert not store.calls_service(guard.admit("SELECT * WHERE { ?s ?p ?o }").query.algebra)

    class Fallback:
        called = False

        def evaluate(self, job: store.Job) -> dict[str, Any]:
            Fallback.called = True
            return {"type_": "SELECT", "vars_": [], "bindings": []}

    dataset = load_dataset(store="oxigraph")
    db = store.oxigraph_of(dataset)
    assert db is not None
    backend = store.OxigraphBackend(db, fallback=Fallback())
    backend.evaluate(store.Job(admitted, text))
    assert Fallback.called


def test_store_query_keeps_strings_plain_on_oxigraph() -> None:
    """oxrdflib's own Graph.query would type them xsd:string; store.query does not."""
    dataset = load_dataset(store="oxigraph")
    row = next(iter(store.query(dataset, 'SELECT ("x" AS ?x) WHERE {}')))
    assert row[0] == Literal("x")
    assert row[0].datatype is None


def test_store_query_on_one_graph_sees_only_that_graph() -> None:
    dataset = load_dataset(store="oxigraph")
    extra = dataset.graph(URIRef("http://example.org/extra"))
    extra.add((URIRef("http://example.org/a"), URIRef("http://example.org/p"), Literal(1)))
    cdkg = dataset.get_context(CDKG_GRAPH)
    text = "ASK { <http://example.org/a> ?p ?o }"
    assert store.query(dataset, text).askAnswer is True
    assert store.query(cdkg, text).askAnswer is False
    assert isinstance(dataset, Dataset)


# -- Oxigraph without rdflib's parse (OxigraphBackend.quick) -------------------------------------


@pytest.fixture(scope="module")
def oxigraph_engine() -> Engine:
    engine: Engine = create_app(Settings()).extensions["cdkg"].engine
    return engine


@pytest.mark.parametrize("name", REGISTRY.names())
def test_quick_answers_exactly_as_the_guarded_path(oxigraph_engine: Engine, name: str) -> None:
    """Every canned query (its header comments say "from" often: whole comment lines do not
    count; search spells Persian letters with \\u escapes) that may skip rdflib's parse answers
    exactly as the guarded path."""
    text = REGISTRY.bind(name, {})
    backend = oxigraph_engine.backend
    assert isinstance(backend, store.OxigraphBackend)
    found = backend.quick(text, (), (), None)
    quick_text = store.OxigraphBackend.quick_text(text)
    if quick_text is None or REGISTRY.get(name).form not in ("SELECT", "ASK"):
        assert found is None
        return
    assert found is not None
    form, result = found
    quick = render(result, form, negotiation.SPARQL_JSON, oxigraph_engine.settings.max_rows)
    guarded = oxigraph_engine.execute(QueryRequest(text, format=JSON))
    assert json.loads(quick.body) == json.loads(guarded.body)


def test_most_canned_queries_take_the_quick_path() -> None:
    quick = [
        name
        for name in REGISTRY.names()
        if not store.NEEDS_GUARD.search(store._keywords_only(REGISTRY.bind(name, {})))
    ]
    assert len(quick) >= len(REGISTRY.names()) * 3 // 4, quick


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s ?p ?o } # service in a comment on a line of code",
        "PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
        "PREFIX : <http://e/> SELECT * FROM:g WHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s ?p 1SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }",
        "SELECT * WHERE { ?s ?p true SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } }",
        "SELECT * WHERE { ?s ?p ?o }SERVICE<http://127.0.0.1:9/>{?a ?b ?c}",
        "# a comment line, then a CR\rSERVICE <http://127.0.0.1:9/> { } SELECT * WHERE { }",
        "# \\u000A SERVICE in a comment line, after an escaped line feed\nSELECT * WHERE { }",
        'SELECT * WHERE { ?s ?p "from" }',
        "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        'SELECT * WHERE { ?s ?p "\\u005Cu0053ERVICE" }',  # expands to an escape: not again
        'SELECT * WHERE { ?s ?p "\\uD800" }',  # a surrogate is left as an escape
        "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }",
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "SELECT * WHERE { ?s ?p }",
    ],
)
def test_quick_leaves_these_to_the_guard(oxigraph_engine: Engine, text: str) -> None:
    backend = oxigraph_engine.backend
    assert isinstance(backend, store.OxigraphBackend)
    assert backend.quick(text, (), (), None) is None


def test_quick_expands_escapes_before_it_looks(oxigraph_engine: Engine) -> None:
    """SPARQL expands \\u escapes before parsing: Oxigraph is given the expanded text, which
    the check for SERVICE and FROM reads."""
    backend = oxigraph_engine.backend
    assert isinstance(backend, store.OxigraphBackend)
    text = 'ASK { FILTER("\\u0627\\U0001F600" = "\u0627\U0001f600") }'
    assert (
        store.OxigraphBackend.quick_text(text)
        == 'ASK { FILTER("\u0627\U0001f600" = "\u0627\U0001f600") }'
    )
    assert backend.quick(text, (), (), None) == ("ASK", {"type_": "ASK", "askAnswer": True})


def test_whole_comment_lines_do_not_send_a_query_to_the_guard(oxigraph_engine: Engine) -> None:
    backend = oxigraph_engine.backend
    assert isinstance(backend, store.OxigraphBackend)
    text = "#+ description: ties from the paper\n  # served from Oxigraph\nASK { ?s ?p ?o }\n"
    assert backend.quick(text, (), (), None) == ("ASK", {"type_": "ASK", "askAnswer": True})


def test_quick_keeps_select_star_in_order_of_first_use(oxigraph_engine: Engine) -> None:
    text = "SELECT * WHERE { ?zebra ?apple ?mango } LIMIT 1"
    answer = oxigraph_engine.run(QueryRequest(text, format=JSON))
    assert json.loads(answer.body)["head"]["vars"] == ["zebra", "apple", "mango"]


def test_an_ad_hoc_query_through_a_worker_answers_as_execute(oxigraph_engine: Engine) -> None:
    text = "SELECT ?c (COUNT(*) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c # ad hoc 1"
    worker = oxigraph_engine.run(QueryRequest(text, format=JSON))
    direct = oxigraph_engine.execute(QueryRequest(text, format=JSON))
    assert json.loads(worker.body) == json.loads(direct.body)
