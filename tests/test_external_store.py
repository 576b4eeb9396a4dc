"""cdkg in front of an external store (issue 6): ``cdkg load`` into a private Virtuoso
(:mod:`virtuoso_fixtures`), then every canned query with a golden file, through
:class:`cdkg.sparql.remote.RemoteStore` and through ``cdkg serve --store URL``, against that file.

Compared as ``test_canned_http`` compares, after normalising what a store may write differently
for the same RDF term: blank node labels, and numeric literals' lexical forms (Virtuoso stores
``"33.9900"^^xsd:decimal`` as a number and writes ``"33.99"``). Every canned query answers as its
golden file: the queries are written so that Virtuoso 7.2 evaluates them as SPARQL 1.1 says (each
says how, where it matters); ``tests/test_store_parity.py`` does the same on the Oxigraph server,
and with parameters on both.

``load`` is also checked where it must refuse: data that does not conform (nothing is sent: a
recording fake store sees no request), a store that cannot be reached (exit 2 naming the URL),
graphs the store already holds (without ``--replace``).
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD

from cdkg.canned.catalog import QUERIES_GRAPH
from cdkg.engine.evaluate import write_evaluated
from cdkg.kg.served import served_dataset
from cdkg.kg.views import GRAPH_NS, WIKIDATA_VIEW
from cdkg.names import CDKG_GRAPH, ID
from cdkg.settings import Settings
from cdkg.sparql import guard, negotiation
from cdkg.sparql.prefixes import PREFIXES, with_prefixes
from cdkg.sparql.remote import (
    RemoteStore,
    StoreBadAnswer,
    StoreTimeout,
    StoreUnavailable,
)
from cdkg_bench.ports import free_port
from servers import serve_in_thread
from test_canned_golden import REGISTRY, golden
from virtuoso_fixtures import Loaded, Virtuoso, cdkg

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = Path(__file__).parent / "fixtures"
#: The graphs ``cdkg serve`` serves, hence what ``cdkg load`` pushes.
GRAPHS = (
    str(CDKG_GRAPH),
    str(QUERIES_GRAPH),
    str(WIKIDATA_VIEW),
    GRAPH_NS + "micropublication",
)
#: The small made-up graph of the validation tests: quick to load and validate.
MINI = ("--ontology", FIXTURES / "ontology", "--shapes", FIXTURES / "shapes")

NAMES = sorted(path.stem for path in GOLDEN.glob("*.json"))


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def remote(virtuoso: Virtuoso, loaded: Loaded) -> RemoteStore:
    return RemoteStore(virtuoso.sparql, timeout=60)


@dataclasses.dataclass
class FakeStore:
    """A loopback HTTP server that records each request and answers as told."""

    url: str
    requests: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


@pytest.fixture
def fake_store() -> Iterator[FakeStore]:
    fake = FakeStore("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            fake.requests.append((self.command, self.path))
            time.sleep(fake.delay)
            try:
                self.send_response(fake.status)
                for key, value in fake.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(fake.body)))
                self.end_headers()
                self.wfile.write(fake.body)
            except OSError:  # the client gave up (the timeout test)
                pass

        do_GET = do_POST = do_PUT = answer

        def log_message(self, *args: Any) -> None:
            pass

    # not daemon threads: closing the server waits for each handler to close its socket
    with serve_in_thread(Handler, daemon_threads=False) as server:
        fake.url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
        yield fake


# --- normalising answers ------------------------------------------------------------------------

NUMERIC = {
    str(XSD[name])
    for name in (
        *("integer", "decimal", "double", "float", "int", "long", "short", "byte"),
        *("nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger"),
        *("unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"),
    )
}


def normal_term(term: dict[str, str]) -> dict[str, str]:
    """A term as any store may write it: blank nodes unlabelled, numbers by value."""
    if term.get("type") == "bnode":
        return {"type": "bnode", "value": "_"}
    if term.get("datatype") in NUMERIC:
        try:
            value = Decimal(term["value"])
        except InvalidOperation:
            return term
        return {**term, "value": format(value.normalize(), "f")}
    return term


def comparable(doc: dict[str, Any], ordered: bool) -> tuple[Any, ...]:
    """What must match a golden file: the columns and the normalised rows, in order if the
    query orders them (as ``test_canned_http.comparable``)."""
    if "boolean" in doc:
        return ("boolean", doc["boolean"])
    rows = [
        json.dumps({k: normal_term(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False)
        for row in doc["results"]["bindings"]
    ]
    return (doc["head"].get("vars"), rows if ordered else sorted(rows))


def is_ordered(name: str) -> bool:
    return "ORDER BY" in REGISTRY.get(name).text.upper()


# --- cdkg load ----------------------------------------------------------------------------------


def test_load_pushes_every_served_graph_and_verifies_the_counts(loaded: Loaded) -> None:
    lines = loaded.done.stdout.splitlines()
    assert lines[0].split() == ["graph", "local", "store"]
    counts = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    served = served_dataset()  # what cdkg serve serves
    assert counts == {
        str(g.identifier): [str(len(g))] * 2
        for g in served.graphs()
        if g.identifier != DATASET_DEFAULT_GRAPH_ID
    }
    assert sorted(counts) == sorted(GRAPHS)
    assert "verified" in loaded.done.stderr


def test_the_store_answers_over_our_graphs_only(virtuoso: Virtuoso, remote: RemoteStore) -> None:
    system = "ASK { ?s a <http://www.openlinksw.com/schemas/virtrdf#QuadMapFormat> }"
    assert remote.evaluate(system, "ASK", (), ())["askAnswer"] is True  # Virtuoso's own triples
    assert remote.evaluate(system, "ASK", GRAPHS, GRAPHS)["askAnswer"] is False


def test_construct_and_describe_come_back_as_graphs(
    remote: RemoteStore, kg_dataset: Dataset
) -> None:
    tehran = URIRef(ID + "city/tehran")
    local = kg_dataset.get_context(CDKG_GRAPH)
    text = f"CONSTRUCT {{ <{tehran}> ?p ?o }} WHERE {{ <{tehran}> ?p ?o }}"
    result = remote.evaluate(text, "CONSTRUCT", GRAPHS, GRAPHS)
    assert result["type_"] == "CONSTRUCT"
    assert set(result["graph"]) == {(tehran, p, o) for p, o in local.predicate_objects(tehran)}
    described = remote.evaluate(f"DESCRIBE <{tehran}>", "DESCRIBE", GRAPHS, GRAPHS)["graph"]
    assert (tehran, None, None) in described


def test_undeclared_wdqs_prefixes_reach_the_store_declared(remote: RemoteStore) -> None:
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?tie wdt:P190 ?partner }"
    rows = list(remote.evaluate(text, "SELECT", GRAPHS, GRAPHS)["bindings"])
    assert int(next(iter(rows[0].values()))) > 0


@pytest.mark.parametrize("name", NAMES)
def test_canned_query_through_remote_store_equals_golden(remote: RemoteStore, name: str) -> None:
    text = REGISTRY.bind(name, {})
    admitted = guard.admit(text, prefixes=PREFIXES)
    result = remote.evaluate(text, admitted.form, GRAPHS, GRAPHS)
    rendered = write_evaluated(result, admitted.form, negotiation.SPARQL_JSON, 100_000)
    ordered = is_ordered(name)
    assert comparable(json.loads(rendered.body), ordered) == comparable(golden(name), ordered)


def test_load_refuses_graphs_the_store_holds_without_replace(
    virtuoso: Virtuoso, loaded: Loaded, cdkg_script: Path
) -> None:
    done = cdkg(
        cdkg_script,
        "load",
        "--endpoint",
        virtuoso.sparql,
        "--graph-store",
        virtuoso.graph_store,
        *MINI,
        "--data",
        FIXTURES / "data" / "valid.ttl",
    )
    assert done.returncode == 2, done.stderr
    assert f"<{CDKG_GRAPH}>" in done.stderr
    assert "nothing was sent" in done.stderr
    assert "--replace" in done.stderr


def test_load_refuses_data_that_does_not_conform_and_sends_nothing(
    fake_store: FakeStore, cdkg_script: Path
) -> None:
    done = cdkg(
        cdkg_script,
        "load",
        "--endpoint",
        fake_store.url,
        *MINI,
        "--data",
        FIXTURES / "data" / "invalid-shape.ttl",
    )
    assert done.returncode == 1, done.stderr
    assert "Violation" in done.stderr
    assert "nothing was sent" in done.stderr
    assert fake_store.requests == []


def test_load_refuses_an_extra_graph_that_does_not_conform_and_sends_nothing(
    fake_store: FakeStore, cdkg_script: Path
) -> None:
    """As cdkg serve: a --graph file that uses cdkg terms is validated with the shipped data."""
    extra = FIXTURES / "bad" / "arabic-yeh-kaf.ttl"
    done = cdkg(
        cdkg_script,
        "load",
        "--endpoint",
        fake_store.url,
        "--graph",
        f"https://example.org/graph/extra={extra}",
    )
    assert done.returncode == 1, done.stderr
    assert "https://example.org/graph/extra" in done.stderr
    assert "nothing was sent" in done.stderr
    assert fake_store.requests == []


def test_load_into_an_unreachable_store_exits_2_naming_the_url(cdkg_script: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"  # nothing listens there
    done = cdkg(
        cdkg_script, "load", "--endpoint", url, *MINI, "--data", FIXTURES / "data" / "valid.ttl"
    )
    assert done.returncode == 2, done.stderr
    assert f"the SPARQL store at {url} cannot be reached" in done.stderr
    assert "hint: check that the store is running" in done.stderr


# --- RemoteStore's failures ---------------------------------------------------------------------


def test_a_redirect_is_reported_not_followed(fake_store: FakeStore) -> None:
    fake_store.status = 302
    fake_store.headers = {"Location": "http://elsewhere.example/sparql"}
    with pytest.raises(StoreBadAnswer) as err:
        RemoteStore(fake_store.url).evaluate("ASK {}", "ASK", (), ())
    assert err.value.status == 502
    assert "http://elsewhere.example/sparql" in err.value.message
    assert len(fake_store.requests) == 1


def test_an_answer_that_is_not_sparql_json_is_a_bad_gateway(fake_store: FakeStore) -> None:
    fake_store.headers = {"Content-Type": "text/html"}
    fake_store.body = b"<html>a login page</html>"
    with pytest.raises(StoreBadAnswer) as err:
        RemoteStore(fake_store.url).evaluate("SELECT * {}", "SELECT", (), ())
    assert err.value.status == 502
    assert fake_store.url in err.value.message


#: A SELECT answer as Virtuoso writes one: its blank node labels, a comparison's boolean as "1",
#: the older typed-literal, and keys SPARQL JSON results do not define.
VIRTUOSO_SELECT = {
    "head": {"link": [], "vars": ["b", "flag", "n", "x", "label"]},
    "results": {
        "distinct": False,
        "ordered": True,
        "bindings": [
            {
                "b": {"type": "bnode", "value": "nodeID://b10001"},
                "flag": {"type": "typed-literal", "datatype": f"{XSD}boolean", "value": "1"},
                "n": {"type": "typed-literal", "datatype": f"{XSD}integer", "value": "070"},
                "x": {"type": "uri", "value": "https://w3id.org/cdkg/id/city/tehran"},
                "label": {"type": "literal", "xml:lang": "fa", "value": "تهران"},
            },
            {"b": {"type": "bnode", "value": "nodeID://b10001"}},
            {"b": {"type": "bnode", "value": "nodeID://b10002"}},
        ],
    },
}


def test_a_select_answer_is_read_by_oxigraph_as_the_store_wrote_its_terms(
    fake_store: FakeStore,
) -> None:
    fake_store.headers = {"Content-Type": "application/sparql-results+json"}
    fake_store.body = json.dumps(VIRTUOSO_SELECT).encode()
    tsv = RemoteStore(fake_store.url).select("SELECT * {}", (), ())
    found = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    assert isinstance(found, ox.QuerySolutions)
    assert [v.value for v in found.variables] == ["b", "flag", "n", "x", "label"]
    first, again, other = list(found)
    assert first["flag"] == ox.Literal("true", datatype=ox.NamedNode(f"{XSD}boolean"))
    assert first["n"] == ox.Literal("070", datatype=ox.NamedNode(f"{XSD}integer"))  # as written
    assert first["x"] == ox.NamedNode("https://w3id.org/cdkg/id/city/tehran")
    assert first["label"] == ox.Literal("تهران", language="fa")
    assert first["b"] == again["b"] != other["b"]  # one label, one node, within the answer
    assert again["flag"] is None


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ([{"x": {"type": "triple", "value": "?"}}], "a term of unknown type 'triple'"),
        ([{"x": {"value": "no type"}}], "a term without type or value"),
        (["a row"], "a result row that is not an object"),
        ([{"x": {"type": "uri", "value": "not an IRI"}}], "SPARQL JSON results that do not parse"),
    ],
)
def test_a_select_answer_oxigraph_cannot_read_is_the_stores_bad_answer(
    fake_store: FakeStore, rows: list[Any], said: str
) -> None:
    fake_store.headers = {"Content-Type": "application/sparql-results+json"}
    fake_store.body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": rows}}).encode()
    with pytest.raises(StoreBadAnswer) as err:
        RemoteStore(fake_store.url).select("SELECT * {}", (), ())
    assert err.value.status == 502
    assert said in err.value.message
    assert fake_store.url in err.value.message


def test_an_error_from_the_store_is_quoted(fake_store: FakeStore) -> None:
    fake_store.status = 401
    fake_store.body = b"Unauthorized: who are you?"
    with pytest.raises(StoreBadAnswer) as err:
        RemoteStore(fake_store.url).update("CLEAR ALL")
    assert "401" in err.value.message
    assert "who are you?" in err.value.message
    assert "CDKG_STORE_USER" in (err.value.hint or "")


def test_a_slow_store_times_out(fake_store: FakeStore) -> None:
    fake_store.delay = 1.0
    with pytest.raises(StoreTimeout) as err:
        RemoteStore(fake_store.url, timeout=0.3).evaluate("ASK {}", "ASK", (), ())
    assert err.value.status == 504
    assert fake_store.url in err.value.message


def test_a_partial_answer_is_a_timeout_not_a_result(fake_store: FakeStore) -> None:
    """Virtuoso's "anytime" queries: its own time limit cuts the rows, the status stays 200."""
    fake_store.headers = {
        "Content-Type": "application/sparql-results+json",
        "X-SQL-State": "S1TAT",
        "X-SQL-Message": "Returning incomplete results, query interrupted by result timeout.",
    }
    fake_store.body = b'{"head": {"vars": ["s"]}, "results": {"bindings": []}}'
    with pytest.raises(StoreTimeout) as err:
        RemoteStore(fake_store.url).evaluate("SELECT * {}", "SELECT", (), ())
    assert "partial answer" in err.value.message
    assert "MaxQueryExecutionTime" in (err.value.hint or "")


def test_an_answer_the_store_cut_is_refused_unless_our_cap_cuts_it(fake_store: FakeStore) -> None:
    """Virtuoso's ResultSetMaxRows: the rows stop at the limit, the status stays 200."""
    fake_store.headers = {
        "Content-Type": "application/sparql-results+json",
        "X-SPARQL-MaxRows": "2",
    }
    row = {"s": {"type": "uri", "value": "http://example.org/a"}}
    doc = {"head": {"vars": ["s"]}, "results": {"bindings": [row, row]}}
    fake_store.body = json.dumps(doc).encode()
    with pytest.raises(StoreBadAnswer) as err:
        RemoteStore(fake_store.url, max_rows=2).evaluate("SELECT * {}", "SELECT", (), ())
    assert "its own row limit, 2 rows" in err.value.message
    assert "ResultSetMaxRows" in (err.value.hint or "")
    answer = RemoteStore(fake_store.url, max_rows=1).evaluate("SELECT * {}", "SELECT", (), ())
    assert len(list(answer["bindings"])) == 2  # the caller's cap (1) cuts, and says so


def test_an_unreachable_store_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(StoreUnavailable) as err:
        RemoteStore(url).evaluate("ASK {}", "ASK", (), ())
    assert err.value.status == 503
    assert url in err.value.message


def test_only_http_urls_are_stores() -> None:
    with pytest.raises(StoreUnavailable):
        RemoteStore("file:///etc/passwd")


def test_prefixes_are_declared_only_where_used_and_undeclared() -> None:
    text = (
        "PREFIX wdt: <http://example.org/mine/>\nSELECT * { ?s wdt:P1 ?o ; rdfs:label ?l ; p:P ?x }"
    )
    sent = with_prefixes(text)
    assert "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>" in sent
    assert "PREFIX p: <http://www.wikidata.org/prop/>" in sent
    assert sent.count("PREFIX wdt:") == 1  # the query's own declaration stands
    assert "PREFIX wd:" not in sent
    assert "PREFIX geo: <http://www.opengis.net/ont/geosparql#>" in with_prefixes(
        "ASK { ?a geo:x 1 }"
    )


# --- through cdkg serve --store -----------------------------------------------------------------


@pytest.fixture(scope="session")
def served_by_virtuoso(virtuoso: Virtuoso, loaded: Loaded, start_server: Callable[..., Any]) -> Any:
    """``cdkg serve --store <Virtuoso's /sparql>``: the lead's ``store`` setting."""
    if "store" not in {f.name for f in dataclasses.fields(Settings)}:
        pytest.skip("the store setting (cdkg serve --store URL) is not there yet")
    return start_server("--store", virtuoso.sparql, "--timeout", "60", "--workers", "2")


def served_canned(server: Any, name: str) -> dict[str, Any]:
    """The canned query ``name``'s answer from a running ``cdkg serve`` (``/queries/NAME``), as
    SPARQL JSON read back."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{server.url}/queries/{name}",
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - loopback
        doc: dict[str, Any] = json.loads(response.read())
    return doc


@pytest.mark.parametrize("name", NAMES)
def test_canned_query_served_from_virtuoso_equals_golden(
    served_by_virtuoso: Any, name: str
) -> None:
    ordered = is_ordered(name)
    doc = served_canned(served_by_virtuoso, name)
    assert comparable(doc, ordered) == comparable(golden(name), ordered)


def test_the_server_shows_our_graphs_only(served_by_virtuoso: Any) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{served_by_virtuoso.url}/sparql?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        doc = json.loads(response.read())
    assert sorted(row["g"]["value"] for row in doc["results"]["bindings"]) == sorted(GRAPHS)


# --- the other way in: SPARQL Update, replacing what is there ---------------------------------


def test_load_by_sparql_update_replaces_and_verifies(
    virtuoso: Virtuoso, loaded: Loaded, cdkg_script: Path
) -> None:
    done = cdkg(
        cdkg_script,
        "load",
        "--endpoint",
        virtuoso.sparql,
        "--update-endpoint",
        virtuoso.sparql_auth,
        "--replace",
        env={"CDKG_STORE_USER": "dba", "CDKG_STORE_PASSWORD": virtuoso.password},
    )
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stderr
    assert "differs" not in done.stdout
