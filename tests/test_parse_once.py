"""A canned query's text is parsed once, in the server, and its workers inherit the parse
(``Engine.run(..., trusted=True)``); other texts are parsed in the worker."""

from __future__ import annotations

import json

import pytest

from cdkg.engine import Engine, QueryRequest
from cdkg.errors import QuerySyntaxError
from cdkg.graph import load_dataset
from cdkg.queries import Registry
from cdkg.resources import kg_dir
from cdkg.settings import Settings

JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_dataset(), Settings(cache_entries=0), warm=False)


def test_a_trusted_text_is_parsed_once_and_answers_alike(engine: Engine) -> None:
    text = Registry.load(kg_dir("queries")).bind("table2", {})
    request = QueryRequest(text, format=JSON)
    first = engine.run(request, trusted=True)
    second = engine.run(request, trusted=True)  # the cache is off: a second worker runs it
    assert first.body == second.body
    assert len(engine._parses) == 1
    untrusted = engine.run(request)  # parsed in its worker: the same answer
    assert json.loads(untrusted.body) == json.loads(first.body)
    assert len(engine._parses) == 1


def test_an_untrusted_text_is_never_parsed_in_the_server(engine: Engine) -> None:
    before = len(engine._parses)
    with pytest.raises(QuerySyntaxError):
        engine.run(QueryRequest("SELECT * WHERE { ?s ?p }", format=JSON))
    assert len(engine._parses) == before


def test_a_canned_text_sent_to_sparql_is_trusted() -> None:
    from cdkg.web import create_app  # noqa: PLC0415

    app = create_app(Settings(cache_entries=0))
    engine = app.extensions["cdkg"].engine
    text = Registry.load(kg_dir("queries")).bind("table1", {})
    assert text in engine.trusted_texts
    response = app.test_client().post("/sparql", data={"query": text}, headers={"Accept": JSON})
    assert response.status_code == 200
    assert (text, "http://localhost/sparql") in engine._parses
