"""A canned query's text is parsed once, which workers keep (``Engine.run(..., trusted=True)``),
unless Oxigraph answers it without rdflib's parse; other texts are parsed for each query, in the
worker. The server process itself parses no query while it serves."""

from __future__ import annotations

import json
import time

import pytest

from cdkg import engine as engine_module
from cdkg import guard
from cdkg.engine import Engine, QueryRequest
from cdkg.errors import QuerySyntaxError
from cdkg.graph import load_dataset
from cdkg.queries import Registry
from cdkg.resources import kg_dir
from cdkg.settings import Settings

JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def engine():
    made = Engine(load_dataset(), Settings(cache_entries=0), warm=False)
    yield made
    made.close()


def test_a_trusted_text_is_parsed_once_and_answers_alike(engine: Engine) -> None:
    """What a worker does with a trusted text, run here in the test's process. This canned
    query mentions FROM (in a string), so Oxigraph may not answer it without the guard."""
    text = Registry.load(kg_dir("queries")).bind("rq2-islamic-share", {})
    request = QueryRequest(text, format=JSON)
    deadline = time.monotonic() + 30
    first = engine._respond(request, True, deadline)
    second = engine._respond(request, True, deadline)
    assert first.body == second.body
    assert len(engine._parses) == 1
    untrusted = engine._respond(request, False, deadline)
    assert json.loads(untrusted.body) == json.loads(first.body)
    assert len(engine._parses) == 1
    engine._parses.clear()


def test_a_trusted_text_oxigraph_can_answer_is_not_parsed(engine: Engine) -> None:
    text = Registry.load(kg_dir("queries")).bind("table2", {})
    answer = engine._respond(QueryRequest(text, format=JSON), True, time.monotonic() + 30)
    assert json.loads(answer.body)["results"]["bindings"]
    assert engine._parses == {}


def test_the_server_parses_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # a busy machine may make a first query long: its worker would then be replaced by a fork
    # taken after the patch below
    monkeypatch.setattr(engine_module, "LONG_QUERY_GRACE", 60.0)
    text = Registry.load(kg_dir("queries")).bind("rq2-islamic-share", {})
    trusted = engine.run(QueryRequest(text, format=JSON), trusted=True)  # starts a worker

    def no_parsing_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server process parsed a query")

    monkeypatch.setattr(guard, "admit", no_parsing_here)  # here, not in the running worker
    again = engine.run(QueryRequest(text, format=JSON), trusted=True)
    assert again.body == trusted.body
    untrusted = engine.run(QueryRequest(text, format=JSON))
    assert json.loads(untrusted.body) == json.loads(trusted.body)
    with pytest.raises(QuerySyntaxError):
        engine.run(QueryRequest("SELECT * WHERE { ?s ?p }", format=JSON))
    assert engine._parses == {}
    assert engine._pool.forks == 1


def test_a_canned_text_sent_to_sparql_is_trusted() -> None:
    from cdkg.web import create_app  # noqa: PLC0415

    app = create_app(Settings(cache_entries=0))
    engine = app.extensions["cdkg"].engine
    try:
        text = Registry.load(kg_dir("queries")).bind("table1", {})
        assert text in engine.trusted_texts
        client = app.test_client()
        response = client.post("/sparql", data={"query": text}, headers={"Accept": JSON})
        assert response.status_code == 200
        canned = client.get("/queries/table1", headers={"Accept": JSON})
        posted, named = json.loads(response.data), json.loads(canned.data)
        assert posted["results"] == named["results"]  # the canned page adds head.link
    finally:
        engine.close()
