"""Limits, CORS and failures through the app: the row cap, the time limit, the body cap, CORS on
every response, and bugs as logged 500s."""

from __future__ import annotations

import logging
import os
import time
from urllib.parse import urlencode

import pytest
from rdflib.plugins.sparql import evaluate as rdflib_evaluate

from cdkg.engine import evaluate
from cdkg.errors import Forbidden
from cdkg.sparql import federation

VALUES5 = "SELECT ?n WHERE { VALUES ?n { 1 2 3 4 5 } }"
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?o ?p . "
    "?q ?r ?s . ?t ?u ?v . ?w ?x ?y }"
)


def get(client, query, **headers):
    return client.get("/sparql?" + urlencode({"query": query}), headers=headers)


# --- the row cap ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped(make_app):
    return make_app(max_rows=3).test_client()


def test_row_cap_truncates_and_says_so(capped):
    response = get(capped, VALUES5)
    assert response.status_code == 200
    assert len(response.json["results"]["bindings"]) == 3
    assert response.headers["CDKG-Truncated"] == "true"
    assert response.headers["CDKG-Max-Rows"] == "3"


def test_row_cap_in_csv_and_for_graphs(capped):
    response = get(capped, VALUES5, Accept="text/csv")
    assert response.data.count(b"\r\n") == 1 + 3
    assert response.headers["CDKG-Truncated"] == "true"
    construct = "CONSTRUCT { ?s <urn:p> ?n } WHERE { VALUES ?n { 1 2 3 4 5 } BIND(<urn:s> AS ?s) }"
    response = get(capped, construct, Accept="application/n-triples")
    assert response.data.count(b"\n") == 3
    assert response.headers["CDKG-Truncated"] == "true"


def test_a_result_within_the_cap_is_not_marked(capped):
    response = get(capped, "SELECT ?n WHERE { VALUES ?n { 1 2 3 } }")
    assert len(response.json["results"]["bindings"]) == 3
    assert "CDKG-Truncated" not in response.headers


# --- the time limit ---------------------------------------------------------------------------


def test_runaway_query_is_stopped_at_the_limit(make_app):
    client = make_app(timeout=1).test_client()
    started = time.monotonic()
    response = get(client, RUNAWAY)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    error = response.json["error"]
    assert error["type"] == "QueryTimeout"
    assert "1 s" in error["message"]
    assert "LIMIT" in error["hint"]
    assert response.headers["Retry-After"]
    assert elapsed < 1 + 1, "answered within the limit plus one second"
    assert get(client, "ASK {}").json["boolean"] is True, "and the next query is answered"


CATASTROPHIC_REGEX = (
    'SELECT * WHERE { BIND(CONCAT("' + "a" * 40 + '", "!") AS ?s) FILTER(REGEX(?s, "^(a+)+$")) }'
)


def test_catastrophic_regex_is_no_catastrophe_on_oxigraph(make_app):
    """Oxigraph's regex engine runs in linear time: the same query simply matches nothing."""
    client = make_app(timeout=1).test_client()
    response = get(client, CATASTROPHIC_REGEX)
    assert response.status_code == 200
    assert response.json["results"]["bindings"] == []


# --- the body cap -----------------------------------------------------------------------------


def test_oversized_body_is_413(make_app):
    client = make_app(max_body=1000).test_client()
    query = "ASK {} #" + "x" * 2000
    response = client.post("/sparql", data=query, content_type="application/sparql-query")
    assert response.status_code == 413
    assert response.json["error"]["type"] == "PayloadTooLarge"
    assert "1,000" in response.json["error"]["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    form = client.post(
        "/sparql",
        data=urlencode({"query": query}),
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 413


# --- CORS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/sparql?query=ASK%7B%7D", {}),
        ("post", "/sparql", {"data": "ASK {}", "content_type": "application/sparql-query"}),
        ("get", "/sparql?query=SELECT", {}),
        ("put", "/sparql", {}),
        ("get", "/sparql", {}),
        ("get", "/void", {}),
        ("get", "/download/cdkg.ttl", {}),
        ("get", "/nowhere", {}),
    ],
)
def test_cors_on_every_response(client, method, path, kwargs):
    response = getattr(client, method)(path, headers={"Origin": "https://other.example"}, **kwargs)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "CDKG-Truncated" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_for_a_direct_post(client):
    response = client.options(
        "/sparql",
        headers={
            "Origin": "https://other.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert 200 <= response.status_code < 300
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_configured_origins_only(make_app):
    client = make_app(cors_origins=("https://allowed.example",)).test_client()
    allowed = client.get("/sparql?query=ASK%7B%7D", headers={"Origin": "https://allowed.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://allowed.example"
    assert "Origin" in allowed.headers["Vary"]
    other = client.get("/sparql?query=ASK%7B%7D", headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert other.status_code == 200, "CORS decides what a browser may read, not what we answer"


# --- failures are 500s, logged, without a traceback for the client ----------------------------


def test_a_bug_in_the_web_layer_is_a_logged_500(make_app, monkeypatch, caplog):
    app = make_app()

    def broken(request):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(app.extensions["cdkg"].engine, "run", broken)
    with caplog.at_level(logging.ERROR):
        response = get(app.test_client(), "ASK {}")
    assert response.status_code == 500
    assert response.json["error"]["type"] == "InternalError"
    body = response.get_data(as_text=True)
    assert "simulated bug" not in body
    assert "Traceback" not in body
    assert "RuntimeError: simulated bug" in caplog.text


def test_a_bug_inside_the_engine_is_a_logged_500(make_app, monkeypatch, caplog):
    app = make_app()

    def broken(*args, **kwargs):
        raise TypeError("simulated serialiser bug")

    monkeypatch.setattr(evaluate, "write", broken)
    app.extensions["cdkg"].engine.restart()  # engine processes forked from the patched process
    with caplog.at_level(logging.ERROR):
        response = get(app.test_client(), "SELECT * { ?s ?p ?o } LIMIT 1")
    assert response.status_code == 500
    assert response.json["error"]["type"] == "InternalError"
    assert "simulated" not in response.get_data(as_text=True)
    app.extensions["cdkg"].engine.close()


def test_an_engine_process_that_dies_is_a_503_and_the_next_query_works(make_app, monkeypatch):
    app = make_app(cache_entries=0)

    def crash(*args, **kwargs):
        os._exit(3)

    monkeypatch.setattr(evaluate, "write", crash)
    app.extensions["cdkg"].engine.restart()
    response = get(app.test_client(), "SELECT * { ?s ?p ?o } LIMIT 1")
    assert response.status_code == 503
    assert "ended before it answered" in response.json["error"]["message"]
    monkeypatch.undo()
    app.extensions["cdkg"].engine.restart()
    assert get(app.test_client(), "ASK {}").json["boolean"] is True


def test_service_calls_off_the_allow_list_are_blocked_in_the_worker_too():
    allowed = ("http://allowed.example/sparql",)
    with federation.guarded_services(allowed, time.monotonic() + 5, 5), pytest.raises(Forbidden):
        rdflib_evaluate.urlopen("http://127.0.0.1:9/sparql?query=x")  # type: ignore[attr-defined]


def test_answers_are_cached(make_app):
    app = make_app()
    engine = app.extensions["cdkg"].engine
    client = app.test_client()
    first = get(client, VALUES5)
    assert get(client, VALUES5).data == first.data
    assert len(engine.cache) >= 1
