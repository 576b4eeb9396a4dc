"""A real ``cdkg serve`` process, queried by real clients (SPARQLWrapper, Rasqal's roqet, Raptor's
rapper), attacked with hostile input, and loaded by concurrent clients. After each attack the
server must still answer."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from rdflib import Graph, URIRef
from rdflib.query import Result
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

from cdkg.canned.registry import Registry
from cdkg.names import CDKG_GRAPH
from cdkg.resources import kg_dir
from cdkg_bench.ports import free_port
from cdkg_bench.soak import memory
from cdkg_bench.soak.memory import busy
from endpoint_fixtures import EXTRA_GRAPHS, FIXTURES, LIVE_TIMEOUT, LiveServer
from test_no_outbound import Listener

pytestmark = pytest.mark.slow

GRAPH_A = "https://example.org/graph/a"
IN_A = f"SELECT ?s ?o WHERE {{ GRAPH <{GRAPH_A}> {{ ?s ?p ?o }} }} ORDER BY ?s"
A_ROWS = [("https://example.org/extra/a1", "A"), ("https://example.org/extra/a2", "A")]
#: SPARQLWrapper converts RDF answers into rdflib's deprecated ConjunctiveGraph.
SPARQLWRAPPER_RDF = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?o ?p }"


def request(
    server: LiveServer,
    query: str | None = None,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a GET with ``query`` or a POST of ``data``."""
    url = server.sparql + (f"?{urlencode({'query': query})}" if query is not None else "")
    req = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def assert_still_up(server: LiveServer) -> None:
    assert server.alive(), server.tail()
    status, _, body = request(server, "ASK {}")
    assert status == 200
    assert json.loads(body)["boolean"] is True


# --- SPARQLWrapper ----------------------------------------------------------------------------


def wrapper(server: LiveServer, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(server.sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_real_data_loads_and_answers(live_server):
    client = wrapper(
        live_server, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{CDKG_GRAPH}> {{ ?s ?p ?o }} }}", JSON
    )
    count = int(client.queryAndConvert()["results"]["bindings"][0]["n"]["value"])
    assert count > 0


def test_sparqlwrapper_select_json(live_server):
    result = wrapper(live_server, IN_A, JSON).queryAndConvert()
    rows = [(b["s"]["value"], b["o"]["value"]) for b in result["results"]["bindings"]]
    assert rows == A_ROWS


def test_sparqlwrapper_select_xml(live_server):
    document = wrapper(live_server, IN_A, XML).queryAndConvert()
    uris = [node.firstChild.data for node in document.getElementsByTagName("uri")]
    assert uris == [s for s, _ in A_ROWS]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_ask(live_server, method):
    client = wrapper(live_server, f"ASK {{ GRAPH <{GRAPH_A}> {{ ?s ?p 'A' }} }}", JSON)
    client.setMethod(method)
    assert client.queryAndConvert()["boolean"] is True


@SPARQLWRAPPER_RDF
@pytest.mark.parametrize("fmt", [TURTLE, XML])
def test_sparqlwrapper_construct(live_server, fmt):
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH_A}> {{ ?s ?p ?o }} }}"
    graph = wrapper(live_server, query, fmt).queryAndConvert()
    if isinstance(graph, bytes):
        graph = Graph().parse(data=graph, format="turtle")
    assert {str(s) for s in graph.subjects()} == {s for s, _ in A_ROWS}


@SPARQLWRAPPER_RDF
def test_sparqlwrapper_describe(live_server):
    query = "DESCRIBE <https://example.org/extra/b1>"
    graph = wrapper(live_server, query, XML).queryAndConvert()
    assert (URIRef("https://example.org/extra/b1"), None, None) in graph


# --- Rasqal's roqet: the same rows as SPARQLWrapper -------------------------------------------


def roqet(server: LiveServer, query: str) -> list[dict[str, str]]:
    """Rows as roqet (an independent C SPARQL client) reads them, via SPARQL XML results."""
    if not shutil.which("roqet"):
        pytest.fail("roqet is missing: apt-get install rasqal-utils (scripts/test installs it)")
    done = subprocess.run(
        ["roqet", "-i", "sparql", "-p", server.sparql, "-r", "xml", "-e", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Re-read roqet's XML with the same reader as ours, so only the values are compared. roqet
    # writes an unbound variable as <binding><unbound/></binding>, the spec leaves it out.
    xml = re.sub(r'<binding name="[^"]+">\s*<unbound/>\s*</binding>', "", done.stdout)
    parsed = Result.parse(io.BytesIO(xml.encode()), format="xml")
    return [{str(k): v.n3() for k, v in row.asdict().items()} for row in parsed]


def sparqlwrapper_rows(server: LiveServer, query: str) -> list[dict[str, str]]:
    client = wrapper(server, query, XML)
    client.setMethod("POST")
    raw = client.query().response.read()
    parsed = Result.parse(io.BytesIO(raw), format="xml")
    return [{str(k): v.n3() for k, v in row.asdict().items()} for row in parsed]


CANNED = Registry.load(kg_dir("queries"))


@pytest.fixture(scope="module")
def canned_server(start_server):
    """The shipped graph with the default time limit: canned queries are ordinary work, and some
    (search) take seconds on rdflib, more than the live server's deliberately short limit."""
    args = ["--workers", "2"]
    for iri, path in EXTRA_GRAPHS:
        args += ["--graph", f"{iri}={path}"]
    return start_server(*args)


@pytest.mark.parametrize("name", [q.name for q in CANNED] or ["(none)"])
def test_roqet_and_sparqlwrapper_agree_on_canned_queries(canned_server, name):
    query = IN_A if name == "(none)" else CANNED.get(name).bind({})
    ours = sparqlwrapper_rows(canned_server, query)
    theirs = roqet(canned_server, query)
    assert theirs == ours
    if name == "(none)":
        assert len(ours) == len(A_ROWS)


def test_roqet_reads_conformance_graphs(live_server):
    rows = roqet(live_server, f"SELECT ?o WHERE {{ GRAPH <{GRAPH_A}> {{ ?s ?p ?o }} }}")
    assert [row["o"] for row in rows] == ['"A"', '"A"']


# --- Raptor's rapper parses our RDF -------------------------------------------------------------


def rapper_count(path: Path, syntax: str) -> int:
    if not shutil.which("rapper"):
        pytest.fail("rapper is missing: apt-get install raptor2-utils (scripts/test installs it)")
    done = subprocess.run(
        ["rapper", "-i", syntax, "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stderr.split("returned")[1].split()[0])


def fetch(url: str, tmp_path: Path, name: str, accept: str | None = None) -> Path:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})  # noqa: S310
    with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310
        assert response.status == 200
        path = tmp_path / name
        path.write_bytes(response.read())
    return path


def test_rapper_parses_the_downloads(live_server, tmp_path):
    turtle = rapper_count(
        fetch(live_server.url + "/download/cdkg.ttl", tmp_path, "g.ttl"), "turtle"
    )
    ntriples = rapper_count(
        fetch(live_server.url + "/download/cdkg.nt", tmp_path, "g.nt"), "ntriples"
    )
    trig = rapper_count(fetch(live_server.url + "/download/cdkg.trig", tmp_path, "g.trig"), "trig")
    void = Graph().parse(fetch(live_server.url + "/void", tmp_path, "void.ttl"), format="turtle")
    triples = int(
        void.value(
            URIRef(live_server.url + "/void#cdkg"), URIRef("http://rdfs.org/ns/void#triples")
        )
    )
    assert turtle == ntriples == trig == triples > 0


@pytest.mark.parametrize(
    ("accept", "syntax"),
    [
        ("application/rdf+xml", "rdfxml"),
        ("text/turtle", "turtle"),
        ("application/n-triples", "ntriples"),
    ],
)
def test_rapper_parses_construct_results_and_descriptions(live_server, tmp_path, accept, syntax):
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{CDKG_GRAPH}> {{ ?s ?p ?o }} }} LIMIT 50"
    url = live_server.sparql + "?" + urlencode({"query": query})
    assert rapper_count(fetch(url, tmp_path, "c", accept), syntax) == 50
    assert rapper_count(fetch(live_server.sparql, tmp_path, "sd", accept), syntax) > 5
    assert rapper_count(fetch(live_server.url + "/void", tmp_path, "v", accept), syntax) > 5


# --- hostile input ------------------------------------------------------------------------------


@pytest.fixture
def listener():
    server = Listener("tcp")  # the no-outbound test's listener: counts, then closes, connections
    yield server
    server.close()


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        "SELECT * {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <http://127.0.0.1:{port}/> {{ }} }} }}",
        "SELECT * FROM <http://127.0.0.1:{port}/data.ttl> WHERE {{ ?s ?p ?o }}",
        "SELECT * FROM NAMED <http://127.0.0.1:{port}/data.ttl> WHERE {{ ?s ?p ?o }}",
    ],
)
def test_service_and_from_never_connect(live_server, listener, template):
    status, headers, body = request(live_server, template.format(port=listener.port))
    assert status == 403
    assert json.loads(body)["error"]["type"] == "Forbidden"
    assert headers["Access-Control-Allow-Origin"] == "*"
    time.sleep(0.5)
    assert listener.connections == 0
    assert_still_up(live_server)


def test_protocol_graph_parameters_never_connect(live_server, listener):
    url = f"http://127.0.0.1:{listener.port}/data.ttl"
    query = urlencode(
        {"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": url, "named-graph-uri": url}
    )
    with urllib.request.urlopen(f"{live_server.sparql}?{query}", timeout=30) as response:  # noqa: S310
        assert json.loads(response.read())["results"]["bindings"] == []
    time.sleep(0.5)
    assert listener.connections == 0


def test_from_a_local_file_is_refused(live_server):
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else None
    status, _, body = request(
        live_server, "SELECT * FROM <file:///etc/hostname> WHERE { ?s ?p ?o }"
    )
    assert status == 403
    if hostname:
        assert hostname.encode() not in body
    assert_still_up(live_server)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"INSERT DATA { <urn:a> <urn:b> <urn:c> }", "application/sparql-update"),
        (b"update=DROP+ALL", "application/x-www-form-urlencoded"),
        (b"LOAD <file:///etc/passwd>", "application/sparql-query"),
    ],
)
def test_updates_are_refused(live_server, data, content_type):
    status, _, body = request(live_server, data=data, headers={"Content-Type": content_type})
    assert status == 403
    assert "read-only" in json.loads(body)["error"]["message"]
    status, _, body = request(live_server, "ASK { <urn:a> <urn:b> <urn:c> }")
    assert json.loads(body)["boolean"] is False
    assert_still_up(live_server)


def query_workers(pid: int) -> list[int]:
    """The query workers of server ``pid``: its descendants but the zygote that forks them."""
    return memory.query_workers(memory.children(pid))


def test_runaway_query_is_stopped_while_others_are_served(live_server):
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        outcome["runaway"] = request(live_server, RUNAWAY)
        outcome["runaway_seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    running = [pid for pid in query_workers(live_server.process.pid) if busy(pid)]
    assert running, "the runaway query runs in a worker process"
    started = time.monotonic()
    status, _, body = request(live_server, "SELECT ?n WHERE { VALUES ?n { 1 2 } }")
    assert status == 200
    assert time.monotonic() - started < 2, "a second client is answered meanwhile"
    thread.join(timeout=LIVE_TIMEOUT + 10)
    status, headers, body = outcome["runaway"]
    assert status == 503
    assert json.loads(body)["error"]["type"] == "QueryTimeout"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert outcome["runaway_seconds"] < LIVE_TIMEOUT + 1
    deadline = time.monotonic() + 5
    left = query_workers(live_server.process.pid)
    while set(running) & set(left) and time.monotonic() < deadline:
        time.sleep(0.05)
        left = query_workers(live_server.process.pid)
    assert not set(running) & set(left), "the worker was killed (and reaped)"
    # its replacement runs a warm-up job of a few queries: wait that out, not a runaway
    while [pid for pid in left if busy(pid)] and time.monotonic() < deadline + 5:
        time.sleep(0.05)
        left = query_workers(live_server.process.pid)
    assert not [pid for pid in left if busy(pid)], "no worker uses CPU any more"
    assert_still_up(live_server)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("SELECT * WHERE " + "{ " * 2500 + "} " * 2500, 400),
        ("ASK { FILTER(" + "(" * 2500 + "1" + ")" * 2500 + ") }", 400),
        ("SELECT * WHERE " + "{ " * 16 + "} " * 16, 200),
        ("ASK { FILTER(" + "(" * 14 + "true" + ")" * 14 + ") }", 200),
        (
            "SELECT * WHERE { "
            + "{ SELECT * WHERE " * 7
            + "{ ?s ?p ?o }"
            + " }" * 7
            + " } LIMIT 1",
            200,
        ),
    ],
)
def test_nesting_is_limited_and_the_limit_parses(live_server, query, status):
    got, _, body = request(
        live_server, data=query.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    assert got == status, body
    assert_still_up(live_server)


def test_oversized_body_is_413(live_server):
    body = b"ASK {} #" + b"x" * 2_000_000
    status, headers, answer = request(
        live_server, data=body, headers={"Content-Type": "application/sparql-query"}
    )
    assert status == 413
    assert json.loads(answer)["error"]["type"] == "PayloadTooLarge"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert_still_up(live_server)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT",
        "SELECT * WHERE { ?s ?p ?o",
        "SELECT ?x WHERE { ?x ?y }",
        "ASK { <unterminated }",
        "SELECT * WHERE { ?s ?p 'x }",
        "\x00\x01\x02",
        "SELECT * { ?s ?p ?o } LIMIT -1",
    ],
)
def test_malformed_queries_are_400_with_a_position(live_server, query):
    status, _, body = request(live_server, query)
    assert status == 400
    error = json.loads(body)["error"]
    assert error["type"] == "QuerySyntaxError"
    assert error["line"] >= 1
    assert error["column"] >= 1
    assert_still_up(live_server)


# --- concurrency: rdflib's parser is not thread-safe (RDFLib/rdflib#1282) -------------------------


def test_twenty_concurrent_clients_all_get_correct_answers(live_server):
    queries = [(f"SELECT ?n WHERE {{ VALUES ?n {{ {i} }} }}", str(i)) for i in range(10)]

    def client(number: int) -> list[bool]:
        results = []
        for offset in range(5):
            query, expected = queries[(number + offset) % len(queries)]
            status, _, body = request(live_server, query + f" # client {number} request {offset}")
            value = (
                json.loads(body)["results"]["bindings"][0]["n"]["value"] if status == 200 else None
            )
            results.append(status == 200 and value == expected)
        return results

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = [ok for batch in pool.map(client, range(20)) for ok in batch]
    assert len(outcomes) == 100
    assert all(outcomes), f"{outcomes.count(False)} of 100 concurrent requests failed"
    assert_still_up(live_server)


# --- start-up: refuse a graph that does not conform ---------------------------------------------


def serve(cdkg_script: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(cdkg_script), "serve", "--port", str(free_port()), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def mini(name: str) -> list[str | Path]:
    return [
        "--ontology",
        FIXTURES / "ontology",
        "--data",
        FIXTURES / "data" / f"{name}.ttl",
        "--shapes",
        FIXTURES / "shapes",
    ]


def test_serve_refuses_a_graph_that_does_not_conform(cdkg_script):
    done = serve(cdkg_script, *mini("invalid-shape"))
    assert done.returncode == 1
    assert "does not conform" in done.stderr
    assert "nameless" in done.stderr, "the validation report names the offending node"


def test_serve_refuses_a_file_that_does_not_parse(cdkg_script):
    done = serve(cdkg_script, *mini("broken"))
    assert done.returncode == 2
    assert "broken.ttl:" in done.stderr


def test_serve_starts_on_a_conforming_graph(start_server):
    server = start_server(*map(str, mini("valid")))
    status, _, body = request(server, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert status == 200
    assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0
