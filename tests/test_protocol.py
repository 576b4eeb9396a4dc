"""The SPARQL 1.1 Protocol through the app (no socket): methods x content types x Accept, the
dataset parameters, and every error's status and JSON shape."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.query import Result

from cdkg.names import CDKG_GRAPH

ID = "https://example.org/id/"
GRAPH_A, GRAPH_B = "https://example.org/graph/a", "https://example.org/graph/b"
TOWNS = (
    "PREFIX ex: <https://example.org/onto#> SELECT ?town WHERE { ?town a ex:Town } ORDER BY ?town"
)
ASK = "ASK { <https://example.org/id/alpha> ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(?s = <https://example.org/id/alpha>) }"
DESCRIBE = "DESCRIBE <https://example.org/id/alpha>"
DIRECT = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"


def send(client, how, query, headers=None, **params):
    """Send ``query`` the protocol's three ways (§2.1.1-2.1.3)."""
    headers = dict(headers or {})
    if how == "get":
        return client.get(
            "/sparql?" + urlencode({"query": query, **params}, doseq=True), headers=headers
        )
    if how == "form":
        headers["Content-Type"] = FORM
        return client.post(
            "/sparql", data=urlencode({"query": query, **params}, doseq=True), headers=headers
        )
    headers["Content-Type"] = DIRECT
    url = "/sparql" + ("?" + urlencode(params, doseq=True) if params else "")
    return client.post(url, data=query.encode(), headers=headers)


def rows(response) -> list[tuple[str, ...]]:
    parsed = Result.parse(io.BytesIO(response.data), format="json")
    return [tuple(str(v) if v is not None else "" for v in row) for row in parsed]


WAYS = ["get", "form", "direct"]


@pytest.mark.parametrize("how", WAYS)
def test_select_each_way(client, how):
    response = send(client, how, TOWNS)
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert rows(response) == [(ID + "alpha",), (ID + "beta",), (ID + "gamma",)]


@pytest.mark.parametrize("how", WAYS)
def test_ask_each_way(client, how):
    response = send(client, how, ASK)
    assert response.status_code == 200
    assert response.json == {"head": {}, "boolean": True}


@pytest.mark.parametrize("how", WAYS)
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE])
def test_graph_queries_each_way(client, how, query):
    response = send(client, how, query)
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.data, format="turtle")
    assert (URIRef(ID + "alpha"), None, None) in graph


def test_trailing_slash_path_is_the_same_endpoint(client):
    response = client.get("/sparql/?" + urlencode({"query": ASK}))
    assert response.status_code == 200
    assert response.json["boolean"] is True


# --- result formats: Accept and format= ---------------------------------------------------------

RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}


@pytest.mark.parametrize(("media_type", "parser"), RESULT_TYPES.items())
def test_select_in_each_result_format(client, media_type, parser):
    response = send(client, "get", TOWNS, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "charset=utf-8" in response.content_type
    parsed = Result.parse(io.BytesIO(response.data), format=parser)
    assert [str(row[0]) for row in parsed] == [ID + "alpha", ID + "beta", ID + "gamma"]


@pytest.mark.parametrize(
    "media_type", ["application/sparql-results+json", "application/sparql-results+xml"]
)
def test_ask_in_json_and_xml(client, media_type):
    response = send(client, "get", ASK, headers={"Accept": media_type})
    parsed = Result.parse(io.BytesIO(response.data), format=RESULT_TYPES[media_type])
    assert parsed.askAnswer is True


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        ("text/csv", b"_askResult\r\ntrue\r\n"),
        ("text/tab-separated-values", b"?_askResult\ntrue\n"),
    ],
)
def test_ask_in_csv_and_tsv_as_jena_writes_them(client, media_type, body):
    assert send(client, "get", ASK, headers={"Accept": media_type}).data == body


GRAPH_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


@pytest.mark.parametrize(("media_type", "parser"), GRAPH_TYPES.items())
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE])
def test_graph_in_each_rdf_format(client, media_type, parser, query):
    response = send(client, "form", query, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    graph = Graph().parse(data=response.data, format=parser)
    assert (URIRef(ID + "alpha"), None, Literal("Alpha", lang="en")) in graph


def test_q_values_and_combined_accept(client):
    accept = "text/csv;q=0.5, application/sparql-results+xml;q=0.9, */*;q=0.1"
    assert send(client, "get", TOWNS, headers={"Accept": accept}).mimetype == (
        "application/sparql-results+xml"
    )
    accept = "application/rdf+xml;q=0.2, text/turtle;q=0.1"
    assert send(client, "get", CONSTRUCT, headers={"Accept": accept}).mimetype == (
        "application/rdf+xml"
    )


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("csv", "text/csv"), ("xml", "application/sparql-results+xml")]
)
def test_format_parameter_overrides_accept(client, fmt, media_type):
    response = send(
        client, "get", TOWNS, headers={"Accept": "application/sparql-results+json"}, format=fmt
    )
    assert response.mimetype == media_type


def test_406_lists_what_is_available(client):
    response = send(client, "get", TOWNS, headers={"Accept": "text/turtle"})
    assert response.status_code == 406
    error = response.json["error"]
    assert error["type"] == "NotAcceptable"
    for media_type in RESULT_TYPES:
        assert media_type in error["hint"]
    response = send(client, "get", CONSTRUCT, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 406
    assert "text/turtle" in response.json["error"]["hint"]


def test_unknown_format_parameter_is_406(client):
    response = send(client, "get", TOWNS, format="pdf")
    assert response.status_code == 406
    assert "csv" in response.json["error"]["hint"]


def test_select_star_columns_are_the_variables_in_scope(client):
    """Oxigraph writes them in its own order (sorted); the spec fixes none (Query §18.2.1)."""
    response = send(client, "get", "SELECT * { ?town ?property ?value } LIMIT 1")
    assert sorted(response.json["head"]["vars"]) == ["property", "town", "value"]


def test_csv_and_tsv_escape_awkward_literals(client):
    query = "SELECT ?note { ?s <https://example.org/onto#note> ?note }"
    tsv = send(client, "get", query, headers={"Accept": "text/tab-separated-values"}).data
    assert tsv == b'?note\n"line one\\nline two\\ttabbed \\"quoted\\""\n'
    csv_body = send(client, "get", query, headers={"Accept": "text/csv"}).data
    assert csv_body == b'note\r\n"line one\nline two\ttabbed ""quoted"""\r\n'


def test_empty_group_has_one_empty_solution(client):
    response = send(client, "get", "SELECT * {}")
    assert response.json == {"head": {"vars": []}, "results": {"bindings": [{}]}}
    response = send(client, "get", "SELECT (1 AS ?value) {}")
    assert rows(response) == [("1",)]


def test_relative_iris_resolve_against_the_endpoint(client):
    response = send(
        client,
        "get",
        "CONSTRUCT { <s> <p> 1 } WHERE {}",
        headers={"Accept": "application/n-triples"},
    )
    assert b"<http://localhost/s> <http://localhost/p>" in response.data


# --- the dataset: default-graph-uri, named-graph-uri, FROM (SPARQL 1.1 Protocol 2.1.4) ----------

SUBJECTS = "SELECT DISTINCT ?s { ?s ?p ?o } ORDER BY ?s"
NAMED = "SELECT DISTINCT ?g ?s { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g ?s"
A = ["https://example.org/extra/a1", "https://example.org/extra/a2"]
B = ["https://example.org/extra/b1"]


def subjects(response) -> list[str]:
    return [row[0] for row in rows(response)]


def test_default_graph_is_the_union_of_all_graphs(client):
    found = subjects(send(client, "get", SUBJECTS))
    assert set(A + B) <= set(found)
    assert ID + "alpha" in found


def test_default_graph_uri_makes_the_default_graph(client):
    assert subjects(send(client, "get", SUBJECTS, **{"default-graph-uri": GRAPH_A})) == A
    response = send(client, "direct", SUBJECTS, **{"default-graph-uri": [GRAPH_A, GRAPH_B]})
    assert subjects(response) == A + B


def test_named_graph_uri_limits_graph_patterns_and_empties_the_default_graph(client):
    response = send(client, "form", NAMED, **{"named-graph-uri": GRAPH_B})
    assert rows(response) == [(GRAPH_B, B[0])]
    assert subjects(send(client, "get", SUBJECTS, **{"named-graph-uri": GRAPH_B})) == []


def test_both_dataset_parameters_together(client):
    params = {"default-graph-uri": GRAPH_B, "named-graph-uri": GRAPH_A}
    assert subjects(send(client, "get", SUBJECTS, **params)) == B
    assert {row[0] for row in rows(send(client, "get", NAMED, **params))} == {GRAPH_A}


def test_from_and_from_named_in_the_query(client):
    query = f"SELECT DISTINCT ?s FROM <{GRAPH_B}> {{ ?s ?p ?o }}"
    assert subjects(send(client, "get", query)) == B
    query = (
        f"SELECT DISTINCT ?g ?s FROM NAMED <{GRAPH_A}> {{ GRAPH ?g {{ ?s ?p ?o }} }} ORDER BY ?s"
    )
    assert rows(send(client, "get", query)) == [(GRAPH_A, A[0]), (GRAPH_A, A[1])]


def test_protocol_dataset_overrides_from(client):
    query = f"SELECT DISTINCT ?s FROM <{GRAPH_A}> {{ ?s ?p ?o }}"
    assert subjects(send(client, "get", query, **{"default-graph-uri": GRAPH_B})) == B


def test_unknown_protocol_graph_is_empty_and_nothing_is_fetched(client):
    response = send(client, "get", SUBJECTS, **{"default-graph-uri": "http://127.0.0.1:9/nothing"})
    assert response.status_code == 200
    assert subjects(response) == []


def test_the_cdkg_graph_is_a_named_graph(client):
    query = f"ASK {{ GRAPH <{CDKG_GRAPH}> {{ <{ID}alpha> ?p ?o }} }}"
    assert send(client, "get", query).json["boolean"] is True


# --- errors: status, one JSON shape, CORS on each -----------------------------------------------


def assert_error(response, status, kind, *words):
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json
    assert set(body) == {"error"}
    error = body["error"]
    assert {"status", "type", "message", "hint", "spec"} <= set(error)
    assert (error["status"], error["type"]) == (status, kind)
    assert error["message"]
    assert error["spec"].startswith("https://")
    for word in words:
        assert word in error["message"] + " " + (error["hint"] or "")
    assert "Traceback" not in response.get_data(as_text=True)
    return error


def test_syntax_error_gives_line_and_column(client):
    response = send(client, "get", "SELECT ?s WHERE {\n  ?s ?p\n}")
    error = assert_error(response, 400, "QuerySyntaxError", "line")
    assert error["line"] >= 2
    assert error["column"] >= 1


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("get", {"query_string": "update=CLEAR%20ALL"}),
        ("post", {"data": "update=CLEAR+ALL", "content_type": FORM}),
        ("post", {"data": "CLEAR ALL", "content_type": "application/sparql-update"}),
        ("post", {"data": "INSERT DATA { <a> <b> <c> }", "content_type": DIRECT}),
        ("get", {"query_string": "query=LOAD%20%3Chttp%3A%2F%2Fexample.org%2F%3E"}),
        ("post", {"data": "DROP ALL", "content_type": "application/sparql-update; charset=UTF-16"}),
    ],
)
def test_updates_are_refused_as_read_only(client, method, kwargs):
    response = getattr(client, method)("/sparql", **kwargs)
    assert_error(response, 403, "Forbidden", "read-only")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "allow-list"),
        ("SELECT * FROM <file:///etc/hostname> { ?s ?p ?o }", "never fetches"),
        ("SELECT * FROM NAMED <http://example.org/elsewhere> { ?s ?p ?o }", "never fetches"),
    ],
)
def test_reaching_outside_is_refused(client, query, words):
    assert_error(send(client, "get", query), 403, "Forbidden", words)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405_with_allow(client, method):
    response = getattr(client, method)("/sparql?query=ASK%7B%7D")
    assert_error(response, 405, "MethodNotAllowed", method.upper())
    assert {"GET", "POST"} <= set(response.headers["Allow"].replace(" ", "").split(","))


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "ASK {}"),
        (None, "query=ASK%20%7B%7D"),
        (None, "ASK {}"),
        ("application/sparql-query; charset=UTF-16", "ASK {}"),
        ("application/json", '{"query": "ASK {}"}'),
    ],
)
def test_wrong_body_types_are_415(client, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/sparql", data=body.encode(), headers=headers)
    assert_error(response, 415, "UnsupportedMediaType")


def test_non_utf8_body_is_400(client):
    response = client.post(
        "/sparql", data="ASK { ?s ?p 'é' }".encode("latin-1"), content_type=DIRECT
    )
    assert_error(response, 400, "BadParameter", "UTF-8")


@pytest.mark.parametrize(
    ("query_string", "words"),
    [
        ("query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", "2 queries"),
        ("query=ASK%20%7B%7D&update=CLEAR%20ALL", "read-only"),
    ],
)
def test_more_than_one_operation(client, query_string, words):
    response = client.get("/sparql?" + query_string)
    assert response.status_code in (400, 403)
    assert words in response.json["error"]["message"]


def test_post_without_a_query_is_400(client):
    response = client.post("/sparql", data="format=json", content_type=FORM)
    assert_error(response, 400, "BadParameter", "no query")


def test_unknown_path_is_a_json_404(client):
    assert_error(client.get("/sparql/nowhere"), 404, "NotFound", "/sparql")


def test_empty_query_is_400(client):
    assert_error(send(client, "get", "   "), 400, "BadQuery", "empty")


def test_undeclared_prefix_is_400(client):
    assert_error(send(client, "get", "SELECT * { ?s nosuch:name ?o }"), 400, "BadQuery", "nosuch")
