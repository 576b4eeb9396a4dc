"""Canned queries answer the same on every store (issue 19): on the embedded Oxigraph (the golden
files), on Virtuoso 7.2 and on the Oxigraph server, each external store loaded by ``cdkg load``.

The Oxigraph server (``oxigraph serve``, the binary of the PyPI package the test extra installs,
the release cdkg embeds) is the second external store: started read-write on loopback in a
temporary directory, loaded through its Graph Store endpoint, then every canned query with a golden
file is run through :class:`cdkg.sparql.remote.RemoteStore` and through ``cdkg serve --store``, as
``tests/test_external_store.py`` runs them on Virtuoso.

On both stores, every canned query that takes parameters runs with each value its header allows
(``enum``), each IRI its description gives as an example, and, for a ``string`` parameter (the
search's ``q``), every text ``tests/test_search.py`` types; the store's answer must equal the
embedded store's answer to the same bound text. Answers are compared as
``test_external_store.comparable`` compares them (blank node labels and numbers' lexical forms
normalised, rows in order where the query orders them).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from answers import answer_json
from cdkg.canned.params import Param
from cdkg.engine.evaluate import write_evaluated
from cdkg.engine.runner import Engine
from cdkg.sparql import guard, negotiation
from cdkg.sparql.prefixes import PREFIXES
from cdkg.sparql.remote import RemoteStore
from cdkg_bench.ports import free_port
from servers import DidNotStart, start_and_wait, stop
from test_canned_golden import REGISTRY, golden
from test_external_store import GRAPHS, NAMES, comparable, is_ordered, served_canned
from test_search import CASES, PRINTED
from virtuoso_fixtures import cdkg

#: An IRI a parameter's description gives as an example (``e.g. https://w3id.org/cdkg/id/...``).
EXAMPLE_IRI = re.compile(r"https://w3id\.org/cdkg/[^\s,;)]+")
#: What scholars type into a string parameter: the search's cases and the paper's printings.
TEXTS = list(dict.fromkeys([q for q, _, _ in CASES] + [q for q, _, _ in PRINTED]))
#: Strings a TSV cell cannot hold as they are (a tab, line breaks), quotes, a backslash, language
#: tags: what cdkg reads back from a store and writes again (cdkg.engine.evaluate.write_evaluated).
AWKWARD = r"""SELECT ?x WHERE {
  VALUES ?x { "tab\there" "line one\nline two" "cr\rhere" "say \"hi\"" "back\\slash"
              "a\u2028b" "t\tb"@en "تهران"@fa <https://example.org/a%20b> "1.50"^^xsd:decimal }
}"""
#: How long the Oxigraph server may take to answer its first query.
READY_WITHIN = 60


def values_of(param: Param) -> list[str]:
    """The values a parameter is tried with: see the module's docstring."""
    if param.allowed:
        return list(param.allowed)
    if param.type == "iri":
        return [iri.rstrip(".") for iri in EXAMPLE_IRI.findall(param.description)]
    if param.type == "string":
        return TEXTS
    return [param.default] if param.default else []


def parameter_cases() -> list[Any]:
    """(query, parameters) for every canned query that takes parameters, one value at a time."""
    cases = []
    for query in REGISTRY:
        for param in query.params:
            for value in values_of(param):
                case_id = f"{query.name}-{param.name}={value}"
                cases.append(pytest.param(query.name, {param.name: value}, id=case_id))
    return cases


def through(url: str, text: str) -> dict[str, Any]:
    """``text``'s answer from the store at ``url`` over cdkg's graphs, as cdkg writes it."""
    admitted = guard.admit(text, prefixes=PREFIXES)
    result = RemoteStore(url, timeout=60).evaluate(text, admitted.form, GRAPHS, GRAPHS)
    rendered = write_evaluated(result, admitted.form, negotiation.SPARQL_JSON, 100_000)
    doc: dict[str, Any] = json.loads(rendered.body)
    return doc


# --- the Oxigraph server ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``oxigraph serve`` (read-write: ``cdkg load`` writes to it) on a free loopback port, its
    database in a temporary directory; its base URL."""
    binary = Path(sys.executable).parent / "oxigraph"
    if not binary.exists():
        pytest.fail(f"no Oxigraph server at {binary}: install the test extra (pip install .[test])")
    directory = tmp_path_factory.mktemp("oxigraph-store")
    base = f"http://127.0.0.1:{free_port()}"
    bind = base.removeprefix("http://")
    command = [binary, "serve", "--location", directory / "db", "--bind", bind]
    try:
        process = start_and_wait(
            command,
            f"{base}/query?query=ASK%7B%7D",
            log=directory / "serve.log",
            ready_within=READY_WITHIN,
        )
    except DidNotStart as err:
        pytest.fail(f"the Oxigraph server did not start: {err}")
    yield base
    stop(process)


@pytest.fixture(scope="session")
def oxigraph_store(oxigraph_server: str, cdkg_script: Path) -> str:
    """The Oxigraph server's query URL, once ``cdkg load`` has loaded, verified and stamped it
    (the server takes writes without credentials)."""
    done = cdkg(
        cdkg_script,
        "load",
        "--endpoint",
        f"{oxigraph_server}/query",
        "--graph-store",
        f"{oxigraph_server}/store",
    )
    if done.returncode != 0:
        pytest.fail(f"cdkg load exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    assert "verified" in done.stderr
    return f"{oxigraph_server}/query"


@pytest.fixture(scope="session")
def served_by_oxigraph(oxigraph_store: str, start_server: Callable[..., Any]) -> Any:
    """``cdkg serve --store <the Oxigraph server's /query>``."""
    return start_server("--store", oxigraph_store, "--timeout", "60", "--workers", "2")


@pytest.mark.parametrize("name", NAMES)
def test_canned_query_through_the_oxigraph_server_equals_golden(
    oxigraph_store: str, name: str
) -> None:
    ordered = is_ordered(name)
    doc = through(oxigraph_store, REGISTRY.bind(name, {}))
    assert comparable(doc, ordered) == comparable(golden(name), ordered)


@pytest.mark.parametrize("name", NAMES)
def test_canned_query_served_from_the_oxigraph_server_equals_golden(
    served_by_oxigraph: Any, name: str
) -> None:
    ordered = is_ordered(name)
    doc = served_canned(served_by_oxigraph, name)
    assert comparable(doc, ordered) == comparable(golden(name), ordered)


# --- parameters, on both stores -----------------------------------------------------------------


@pytest.fixture(scope="session", params=["virtuoso", "oxigraph-server"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The query URL of each external store, loaded."""
    if request.param == "virtuoso":
        request.getfixturevalue("loaded")
        url: str = request.getfixturevalue("virtuoso").sparql
        return url
    oxigraph: str = request.getfixturevalue("oxigraph_store")
    return oxigraph


def test_every_kind_of_parameter_is_tried() -> None:
    """The cases reach each parameter type the queries use, the search's texts included."""
    cases = parameter_cases()
    tried = {(c.values[0], next(iter(c.values[1]))) for c in cases}
    declared = {(q.name, p.name) for q in REGISTRY for p in q.params}
    untried = declared - tried
    assert not untried, f"parameters with no value to try: {sorted(untried)}"
    assert sum(c.values[0] == "search" for c in cases) == len(TEXTS)


@pytest.mark.parametrize(("name", "params"), parameter_cases())
def test_a_canned_query_with_parameters_answers_on_the_store_as_embedded(
    store_url: str, kg_engine: Engine, name: str, params: dict[str, str]
) -> None:
    text = REGISTRY.bind(name, params)
    ordered = is_ordered(name)
    expected = answer_json(kg_engine, text)
    assert comparable(through(store_url, text), ordered) == comparable(expected, ordered)


def test_strings_from_the_store_come_back_as_the_embedded_store_writes_them(
    store_url: str, kg_engine: Engine
) -> None:
    expected = answer_json(kg_engine, AWKWARD)
    assert len(expected["results"]["bindings"]) == 10
    assert comparable(through(store_url, AWKWARD), False) == comparable(expected, False)
