"""The canned queries over HTTP, on the shipped graph: golden results, every parameter valid and
invalid, every format with its citation, the listing, the queries as RDF, and OpenAPI.

Every ``queries/*.rq`` is picked up by glob, so a new query is tested as soon as it exists.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from openapi_spec_validator import validate as validate_openapi
from rdflib import RDFS, Dataset, Literal

from cdkg import cli
from cdkg.canned.catalog import QUERIES_GRAPH, query_iri
from cdkg.canned.citation import PAPER
from cdkg.canned.params import Param
from cdkg.canned.registry import Registry
from cdkg.kg.graph import dataset_version, load_dataset
from cdkg.kg.validate import load_checks, load_shapes, validate
from cdkg.names import CDKG_GRAPH, ID
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg.web import canned, create_app
from cdkg.web.openapi import golden_dir

GOLDEN = Path(__file__).parent / "golden"
CANNED = Registry.load(kg_dir("queries"))
NAMES = CANNED.names()
SPARQL_JSON = "application/sparql-results+json"
#: format= name -> the media type answered.
FORMATS = {
    "json": SPARQL_JSON,
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "html": "text/html",
}
#: The test app's time limit: these tests check serving and citing, not each query's speed.
TIMEOUT = 60.0
CITATION_HEADERS = ("CDKG-Query", "CDKG-Query-SHA256", "CDKG-Dataset-Version", "Link")
#: The shipped app's --public-url.
PUBLIC_URL = "https://cdkg.example.org"


@pytest.fixture(scope="module")
def served() -> Dataset:
    """The shipped graph, loaded for this module alone: create_app publishes the queries into it."""
    return load_dataset()


@pytest.fixture(scope="module")
def shipped_app(served: Dataset) -> Flask:
    # the registry the tests read; a time limit with room for the slowest canned query; the URL
    # citations name (the test client's own, localhost, is never cited: tests/test_citations.py)
    return create_app(Settings(timeout=TIMEOUT, public_url=PUBLIC_URL), served, queries=CANNED)


@pytest.fixture
def client(shipped_app: Flask) -> FlaskClient:
    return shipped_app.test_client()


def sha256(name: str) -> str:
    return hashlib.sha256(CANNED.get(name).text.encode("utf-8")).hexdigest()


# --- golden results, over HTTP ----------------------------------------------------------------


def comparable(doc: dict[str, Any], ordered: bool) -> tuple[Any, ...]:
    """What must match a golden file: the columns and the rows (in order if the query orders)."""
    if "boolean" in doc:
        return ("boolean", doc["boolean"])
    rows = [
        json.dumps(row, sort_keys=True, ensure_ascii=False) for row in doc["results"]["bindings"]
    ]
    return (doc["head"].get("vars"), rows if ordered else sorted(rows))


@pytest.mark.parametrize("name", NAMES)
def test_golden_result_over_http(client: FlaskClient, name: str) -> None:
    golden = GOLDEN / f"{name}.json"
    if not golden.is_file():
        pytest.fail(f"no golden result for queries/{name}.rq: write tests/golden/{name}.json")
    response = client.get(f"/queries/{name}", headers={"Accept": SPARQL_JSON})
    assert response.status_code == 200, response.get_data(as_text=True)
    ordered = "ORDER BY" in CANNED.get(name).text.upper()
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert comparable(response.json, ordered) == comparable(expected, ordered)


# --- every parameter, valid and invalid -------------------------------------------------------


def valid_value(param: Param) -> str:
    """A value of the parameter's type; for an IRI, the example its description gives."""
    if param.type == "enum":
        return param.allowed[-1]
    if param.type == "iri":
        example = re.search(r"e\.g\.\s+(\S+?)[,;.)]?(\s|$)", param.description)
        return example.group(1) if example else ID + "city/tehran"
    return {"integer": "3", "year": "2001", "string": "x"}[param.type]


#: A value each type refuses. A string parameter takes any value: there is nothing to refuse.
INVALID = {"enum": "no-such-value", "iri": "not an iri", "integer": "three", "year": "20x1"}

PARAMS = [(q.name, p) for q in CANNED for p in q.params]
REFUSABLE = [(name, p) for name, p in PARAMS if p.type in INVALID]
#: Parameters to test the URL handling with: those of ``ties`` (a quick query) first.
QUICK = sorted(PARAMS, key=lambda pair: pair[0] != "ties")
#: A quick query, to test what every query does alike.
QUICK_NAME = "ties" if "ties" in NAMES else NAMES[0]


@pytest.mark.parametrize(("name", "param"), PARAMS, ids=[f"{n}-{p.name}" for n, p in PARAMS])
def test_every_parameter_takes_a_valid_value(client: FlaskClient, name: str, param: Param) -> None:
    value = valid_value(param)
    response = client.get(f"/queries/{name}", query_string={param.name: value, "format": "json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert f"{param.name}=" in response.headers["Link"]


@pytest.mark.parametrize(("name", "param"), REFUSABLE, ids=[f"{n}-{p.name}" for n, p in REFUSABLE])
def test_every_parameter_refuses_an_invalid_value(
    client: FlaskClient, name: str, param: Param
) -> None:
    response = client.get(
        f"/queries/{name}",
        query_string={param.name: INVALID[param.type]},
        headers={"Origin": "https://example.org"},
    )
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    error = response.json["error"]
    assert error["type"] == "BadParameter"
    assert repr(param.name) in error["message"]
    said = f"{error['message']} {error['hint']}"
    if param.type == "enum":
        assert all(value in said for value in param.allowed), said
    else:
        assert param.type in said, said


def test_unknown_parameter_names_the_known_ones(client: FlaskClient) -> None:
    name = next((q.name for q in CANNED if q.params), NAMES[0])
    response = client.get(f"/queries/{name}", query_string={"no_such_param": "1"})
    assert response.status_code == 400
    known = [p.name for p in CANNED.get(name).params]
    assert "no_such_param" in response.json["error"]["message"]
    assert all(k in response.json["error"]["hint"] for k in known)


def test_a_parameter_given_twice_is_refused(client: FlaskClient) -> None:
    name, param = QUICK[0]
    value = valid_value(param)
    response = client.get(f"/queries/{name}?{param.name}={value}&{param.name}={value}")
    assert response.status_code == 400
    assert "2 times" in response.json["error"]["message"]


def test_an_empty_parameter_is_left_unbound(client: FlaskClient) -> None:
    """An empty form field means 'any', so that the HTML form can leave a parameter out."""
    name, param = QUICK[0]
    empty = client.get(f"/queries/{name}?{param.name}=&format=csv")
    assert empty.status_code == 200
    assert empty.data == client.get(f"/queries/{name}?format=csv").data


def test_unknown_query_is_404(client: FlaskClient) -> None:
    response = client.get("/queries/no-such-query")
    assert response.status_code == 404
    assert all(name in response.json["error"]["hint"] for name in NAMES)


# --- formats and citation ---------------------------------------------------------------------


def cases() -> list[tuple[str, str]]:
    """Every format of one quick query, and every query in SPARQL JSON and HTML (the one run the
    golden test has cached): the headers come from one place, the queries take their time."""
    quick = QUICK_NAME
    return [(quick, fmt) for fmt in FORMATS] + [
        (name, fmt) for name in NAMES if name != quick for fmt in ("json", "html")
    ]


@pytest.mark.parametrize(("name", "fmt"), cases())
def test_every_format_says_how_to_cite_it(client: FlaskClient, name: str, fmt: str) -> None:
    response = client.get(f"/queries/{name}", query_string={"format": fmt})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == FORMATS[fmt]
    assert response.headers["CDKG-Query"] == name
    assert response.headers["CDKG-Query-SHA256"] == sha256(name)
    assert response.headers["CDKG-Dataset-Version"] == dataset_version()
    assert f'<{PUBLIC_URL}/queries/{name}>; rel="cite-as"' in response.headers["Link"]
    assert f"<{PAPER}>" in response.headers["Link"]
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert all(header in exposed for header in CITATION_HEADERS)
    if fmt == "html":
        page = response.get_data(as_text=True)
        assert 'id="citation"' in page
        assert sha256(name) in page
        assert dataset_version() in page


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),  # a browser
        ("*/*", SPARQL_JSON),
        ("application/json", SPARQL_JSON),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
    ],
)
def test_accept_is_negotiated_and_format_overrides_it(
    client: FlaskClient, accept: str, media_type: str
) -> None:
    name = QUICK_NAME
    assert client.get(f"/queries/{name}", headers={"Accept": accept}).mimetype == media_type
    forced = client.get(f"/queries/{name}?format=tsv", headers={"Accept": accept})
    assert forced.mimetype == "text/tab-separated-values"


def test_unacceptable_format_is_406(client: FlaskClient) -> None:
    response = client.get(f"/queries/{QUICK_NAME}", headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_json_stays_sparql_json_with_the_citation_in_head_link(client: FlaskClient) -> None:
    name = next(q.name for q in CANNED if q.form == "SELECT")
    doc = client.get(f"/queries/{name}?format=json").json
    assert set(doc) == {"head", "results"}
    assert doc["head"]["link"] == [f"{PUBLIC_URL}/queries/{name}", str(PAPER)]
    assert isinstance(doc["head"]["vars"], list)


def test_cite_as_url_is_stable_whatever_the_parameter_order(client: FlaskClient) -> None:
    query = next((CANNED.get(n) for n, _ in QUICK if len(CANNED.get(n).params) >= 2), None)
    if query is None:
        pytest.fail("no canned query has two parameters to test the URL order with")
    a, b = query.params[:2]
    one = client.get(f"/queries/{query.name}?{a.name}={valid_value(a)}&{b.name}={valid_value(b)}")
    two = client.get(
        f"/queries/{query.name}?format=csv&{b.name}={valid_value(b)}&{a.name}={valid_value(a)}"
    )
    assert one.headers["Link"] == two.headers["Link"]


def test_cli_prints_the_citation_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    name = QUICK_NAME
    assert cli.main(["query", name, "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert "SHA-256" not in out
    assert sha256(name) in err
    assert dataset_version() in err
    assert str(PAPER) in err


# --- the listing ------------------------------------------------------------------------------


def test_listing_as_json(client: FlaskClient) -> None:
    response = client.get("/queries", headers={"Accept": "application/json"})
    assert response.status_code == 200
    doc = response.json
    assert [q["name"] for q in doc["queries"]] == NAMES
    assert doc["dataset_version"] == dataset_version()
    for entry in doc["queries"]:
        query = CANNED.get(entry["name"])
        assert entry["title"] == query.title
        assert entry["title_fa"] == query.title_fa
        assert entry["rq"] == query.rq
        assert entry["source"] == query.source
        assert [p["name"] for p in entry["params"]] == [p.name for p in query.params]
        assert entry["url"] == f"{PUBLIC_URL}/queries/{query.name}"  # --public-url, not the host


def test_listing_as_html(client: FlaskClient) -> None:
    response = client.get("/queries", headers={"Accept": "text/html"})
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for query in CANNED:
        assert f'href="/queries/{query.name}"' in page
        assert escape(query.title) in page
        if query.title_fa:
            assert escape(query.title_fa) in page
    assert client.get("/queries?format=json").mimetype == "application/json"


# --- the queries as RDF -----------------------------------------------------------------------


FIND_QUERIES = """PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?name ?text ?source ?label WHERE {
  GRAPH <GRAPH> {
    ?q a sh:SPARQLExecutable ; sh:select|sh:ask|sh:construct ?text ;
       dcterms:identifier ?name ; dcterms:source ?source ; rdfs:label ?label .
    FILTER (lang(?label) = "en")
  }
}""".replace("<GRAPH>", f"<{QUERIES_GRAPH}>")


def test_the_queries_are_in_the_graph_and_sparql_finds_them(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": FIND_QUERIES, "format": "json"})
    assert response.status_code == 200
    rows = {b["name"]["value"]: b for b in response.json["results"]["bindings"]}
    assert sorted(rows) == NAMES
    for name, row in rows.items():
        assert row["text"]["value"] == CANNED.get(name).text
        assert row["source"]["value"] == str(PAPER)
        assert row["label"]["value"] == CANNED.get(name).title


def test_persian_titles_are_published_in_persian(served: Dataset) -> None:
    graph = served.get_context(QUERIES_GRAPH)
    for query in CANNED:
        labels = set(graph.objects(query_iri(query.name), RDFS.label))
        assert Literal(query.title, lang="en") in labels
        if query.title_fa:
            assert Literal(query.title_fa, lang="fa") in labels
        if query.description_fa:
            comments = set(graph.objects(query_iri(query.name), RDFS.comment))
            assert Literal(query.description_fa, lang="fa") in comments


def test_start_up_validation_still_conforms(shipped_app: Flask, served: Dataset) -> None:
    """The queries graph is beside the cdkg graph, never in it: the cdkg graph still conforms."""
    assert len(served.get_context(QUERIES_GRAPH)) > 0
    assert (None, None, None) not in served.get_context(CDKG_GRAPH).triples(
        (None, None, QUERIES_GRAPH)
    )
    report = validate(served.get_context(CDKG_GRAPH), load_shapes(), checks=load_checks())
    assert report.conforms, report.text()


# --- OpenAPI ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi(shipped_app: Flask) -> dict[str, Any]:
    response = shipped_app.test_client().get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json
    return doc


def test_openapi_is_valid_3_1(openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.1")
    validate_openapi(openapi)


def test_openapi_has_an_operation_per_query_with_typed_parameters(openapi: dict[str, Any]) -> None:
    for query in CANNED:
        operation = openapi["paths"][f"/queries/{query.name}"]["get"]
        schemas = {p["name"]: p["schema"] for p in operation["parameters"]}
        for param in query.params:
            schema = schemas[param.name]
            if param.type == "iri":  # any text: an IRI, an id, a QID or a label, resolved
                assert schema["type"] == "string"
                assert "pattern" not in schema  # a label is any text
                description = next(
                    p["description"] for p in operation["parameters"] if p["name"] == param.name
                )
                assert "Q3616" in description
                assert "Persian label" in description
            elif param.type == "enum":
                assert schema["enum"] == list(param.allowed)
            elif param.type == "year":
                assert re.fullmatch(schema["pattern"].strip("^$"), "2001")
            elif param.type == "integer":
                assert schema["type"] == "integer"
        content = operation["responses"]["200"]["content"]
        assert {"text/csv", "text/tab-separated-values", "text/html", SPARQL_JSON} <= set(content)
        example = content[SPARQL_JSON]["example"]
        assert "boolean" in example or example["results"]["bindings"]


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post")
    ]


def test_every_openapi_operation_answers(openapi: dict[str, Any], client: FlaskClient) -> None:
    listed = operations(openapi)
    assert len(listed) == len(CANNED) + 3  # the queries, /queries, GET and POST /sparql
    for path, method, op in listed:
        if method == "get":
            response = client.get(path)
        else:
            media_type, body = next(iter(op["requestBody"]["content"].items()))
            response = client.post(path, data=body["example"], content_type=media_type)
        assert 200 <= response.status_code < 300, (path, method, response.get_data(as_text=True))


def test_openapi_examples_use_the_golden_rows(openapi: dict[str, Any]) -> None:
    for name in NAMES:
        golden = GOLDEN / f"{name}.json"
        if not golden.is_file():
            continue  # test_golden_result_over_http fails for it already
        op = openapi["paths"][f"/queries/{name}"]["get"]
        example = op["responses"]["200"]["content"][SPARQL_JSON]["example"]
        expected = json.loads(golden.read_text(encoding="utf-8"))
        if "results" not in expected:
            continue
        assert example["head"]["vars"] == expected["head"]["vars"]
        if golden_dir().resolve() == GOLDEN.resolve():  # a source checkout; a wheel has no tests/
            rows = expected["results"]["bindings"][: len(example["results"]["bindings"])]
            assert example["results"]["bindings"] == rows


@pytest.mark.parametrize(
    "body",
    [
        b'{"head":{"vars":["s"]},"results":{"bindings":[]}}',  # Oxigraph's
        b'{"head":{},"boolean":true}',  # an ASK, head empty
        b' { "head" : { "vars" : [ "s" ] } , "results" : { "bindings" : [ ] } }',
        b'{"results":{"bindings":[]},"head":{"vars":["s"]}}',  # head not first: parsed
    ],
)
def test_links_go_into_head_whatever_the_whitespace(body: bytes) -> None:
    linked = json.loads(canned.with_links(body, ["https://example.org/q", ""]))
    expected = json.loads(body)
    expected["head"]["link"] = ["https://example.org/q"]
    assert linked == expected
