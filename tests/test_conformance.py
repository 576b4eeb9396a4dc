"""The W3C SPARQL 1.1 Protocol test suite, replayed against a real ``cdkg serve``.

The manifest is data (``tests/conformance/sparql11-protocol/manifest.ttl``, copied unchanged from
the W3C's ``rdf-tests``). The server holds its fixtures as named graphs under the IRIs of
their ``rdfs:label``. Each test's requests are replayed as written (method, path with ``/sparql/``
mapped to ours, headers, body) and checked for the status class and the result's format and value.

Beyond the manifest, as its README advises:
- every negative test must get *our* JSON error, not any 4xx (a 404-for-everything server would
  pass the manifest's negative tests);
- every request naming a dataset is probed again with the same dataset parameters, and the rows
  must come from exactly those graphs (the manifest's ASK tests pass even if they are ignored);
- the endpoint is read-only: each update must be refused cleanly (403 with our JSON error), and
  the follow-up queries must show that nothing changed.
"""

from __future__ import annotations

import http.client
import io
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.query import Result

from endpoint_fixtures import CONFORMANCE, conformance_graphs

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
MANIFEST = CONFORMANCE / "manifest.ttl"

RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}


@dataclass
class Step:
    """One HTTP request of a test and what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    statuses: set[int]  # acceptable status classes: 2, 3, 4, 5
    format: str | None = None  # "boolean", "tabular" or "RDF"
    boolean: bool | None = None


@dataclass
class ProtocolTest:
    name: str
    title: str
    steps: list[Step] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return "update" in self.name


def load_manifest() -> list[ProtocolTest]:
    manifest = Graph().parse(MANIFEST, publicID=MANIFEST.parent.as_uri() + "/")
    root = manifest.value(None, RDF.type, MF.Manifest)
    tests = []
    for entry in Collection(manifest, manifest.value(root, MF.entries)):
        test = ProtocolTest(str(entry).rsplit("#", 1)[1], str(manifest.value(entry, MF.name)))
        action = manifest.value(entry, MF.action)
        for request in Collection(manifest, manifest.value(action, HT.requests)):
            headers = {}
            listed = manifest.value(request, HT.headers)
            for header in Collection(manifest, listed) if listed else ():
                headers[str(manifest.value(header, HT.fieldName))] = str(
                    manifest.value(header, HT.fieldValue)
                )
            body = manifest.value(request, HT.body)
            response = manifest.value(request, HT.resp)
            expected_format = manifest.value(response, MF.expectedFormat)
            expected_boolean = manifest.value(response, MF.expectedBoolean)
            test.steps.append(
                Step(
                    method=str(manifest.value(request, HT.methodName)),
                    path=str(manifest.value(request, HT.absolutePath)),
                    headers=headers,
                    body=str(manifest.value(body, CNT.chars)) if body is not None else None,
                    statuses={
                        int(str(code)[-3]) for code in manifest.objects(response, MF.expectedStatus)
                    },
                    format=str(expected_format) if expected_format is not None else None,
                    boolean=expected_boolean.toPython() if expected_boolean is not None else None,
                )
            )
        tests.append(test)
    return tests


TESTS = load_manifest()


def test_the_manifest_is_there():
    assert len(TESTS) == 34
    assert len([t for t in TESTS if not t.is_update]) == 20
    assert conformance_graphs(), "the fixtures' graph IRIs come from the manifest"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


def send(server, step: Step) -> Answer:
    path = re.sub(r"^/sparql/?", "/sparql", step.path)
    headers = dict(step.headers)
    body = None
    if step.body is not None:
        charset = "utf-16" if "utf-16" in headers.get("content-type", "").lower() else "utf-8"
        body = step.body.encode(charset)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(step.method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def check_format(answer: Answer, step: Step) -> None:
    if step.format in ("boolean", "tabular"):
        assert answer.media_type in RESULT_TYPES, answer.media_type
        if step.format == "boolean":
            assert answer.media_type in (
                "application/sparql-results+json",
                "application/sparql-results+xml",
            )
        parsed = Result.parse(io.BytesIO(answer.body), format=RESULT_TYPES[answer.media_type])
        if step.format == "boolean":
            assert parsed.type == "ASK"
            if step.boolean is not None:
                assert parsed.askAnswer is step.boolean
        else:
            assert parsed.type == "SELECT"
    elif step.format == "RDF":
        assert answer.media_type in RDF_TYPES, answer.media_type
        Graph().parse(data=answer.body, format=RDF_TYPES[answer.media_type])


def assert_our_error(answer: Answer) -> dict:
    assert answer.media_type == "application/json", answer.body
    assert answer.headers.get("access-control-allow-origin") == "*"
    error = json.loads(answer.body)["error"]
    assert error["status"] == answer.status
    assert error["type"] != "NotFound", "the endpoint must be found for a negative test to count"
    assert error["message"]
    assert error["hint"]
    return error


def dataset_of(step: Step) -> tuple[list[str], list[str]] | None:
    """The protocol dataset a request names (URL and form parameters), if it names one."""
    params = parse_qs(urlsplit(step.path).query)
    if step.headers.get("content-type") == "application/x-www-form-urlencoded" and step.body:
        for key, values in parse_qs(step.body).items():
            params.setdefault(key, []).extend(values)
    defaults, named = params.get("default-graph-uri", []), params.get("named-graph-uri", [])
    return (defaults, named) if defaults or named else None


def probe(server, query: str, defaults: list[str], named: list[str]) -> list[tuple[str, ...]]:
    params = [("query", query)] + [("default-graph-uri", g) for g in defaults]
    params += [("named-graph-uri", g) for g in named]
    step = Step("GET", "/sparql?" + urlencode(params), {}, None, {2})
    answer = send(server, step)
    assert answer.status == 200, answer.body
    parsed = Result.parse(io.BytesIO(answer.body), format="json")
    return sorted(tuple(str(value) for value in row) for row in parsed)


def check_dataset(server, step: Step) -> None:
    """The rows come from exactly the graphs the request names (each fixture file holds one
    triple whose subject is the IRI of its graph)."""
    named_in_protocol = dataset_of(step)
    if named_in_protocol is None:
        return
    defaults, named = named_in_protocol
    held = {iri for iri, _ in conformance_graphs()}
    from_clauses = " ".join(re.findall(r"FROM\s+(?:NAMED\s+)?<[^>]+>", step.body or ""))
    in_default = probe(server, f"SELECT DISTINCT ?s {from_clauses} {{ ?s ?p ?o }}", defaults, named)
    assert in_default == sorted((g,) for g in set(defaults) & held)
    in_named = probe(
        server,
        f"SELECT DISTINCT ?g ?s {from_clauses} {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        defaults,
        named,
    )
    assert in_named == sorted((g, g) for g in set(named) & held)


@pytest.mark.parametrize("test", [t for t in TESTS if not t.is_update], ids=lambda t: t.name)
def test_query(live_server, test: ProtocolTest):
    for step in test.steps:
        answer = send(live_server, step)
        assert answer.status // 100 in step.statuses, (answer.status, answer.body)
        if 4 in step.statuses:
            assert_our_error(answer)
            continue
        check_format(answer, step)
        check_dataset(live_server, step)


@pytest.mark.parametrize("test", [t for t in TESTS if t.is_update], ids=lambda t: t.name)
def test_update_is_refused_cleanly(live_server, test: ProtocolTest):
    update, *follow_ups = test.steps
    answer = send(live_server, update)
    assert answer.status // 100 == 4, (answer.status, answer.body)
    error = assert_our_error(answer)
    if test.name.startswith("update_"):
        # a well-formed update: refused because we are read-only
        assert (answer.status, error["type"]) == (403, "Forbidden")
        assert "read-only" in error["message"]
    for step in follow_ups:  # the queries that would see the update: nothing changed
        answer = send(live_server, step)
        assert answer.status == 200, answer.body
        assert step.format == "boolean"
        parsed = Result.parse(io.BytesIO(answer.body), format=RESULT_TYPES[answer.media_type])
        assert parsed.askAnswer is False


def test_fixture_graphs_are_loaded(live_server):
    graphs = conformance_graphs()
    assert len(graphs) == 3
    for iri, _ in graphs:
        rows = probe(live_server, f"SELECT ?s {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}", [], [])
        assert rows == [(iri,)]
        assert URIRef(iri)
