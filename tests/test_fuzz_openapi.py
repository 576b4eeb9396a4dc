"""Schemathesis against cdkg's own OpenAPI document (issue 7).

Schemathesis reads ``/openapi.json`` from a real ``cdkg serve`` and generates requests for every
operation in it (each canned query with its typed parameters, ``/queries``, ``GET`` and ``POST
/sparql``): valid ones, and in its negative mode ones that break the schema. Every response must
meet our pass criteria (:mod:`fuzz_report`: no 500, errors in our JSON shape, no traceback) and
conform to the document: a status it lists, a content type it lists, a body that fits the schema.
The cases tried are counted into ``reports/fuzz.json``.

Schemathesis's own pytest integration (``schemathesis.pytest.from_fixture``) fails on pytest 9
(it sets ``Function._nodeid``), so each operation's Hypothesis strategy (``as_strategy``) drives
a plain ``@given`` here, one pytest case per operation.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cdkg.canned.registry import Registry
from endpoint_fixtures import REPO, LiveServer
from fuzz_report import Tally, check_response, derandomize, examples

#: The operations the document must have: one per canned query, the list, and /sparql.
OPERATIONS = sorted(
    [
        ("GET", "/queries"),
        ("GET", "/sparql"),
        ("POST", "/sparql"),
        *(("GET", f"/queries/{p.stem}") for p in REPO.glob("queries/*.rq")),
    ]
)


@pytest.fixture(scope="module")
def api_schema(fuzz_server: LiveServer) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json", timeout=60)


def test_the_document_has_every_operation(api_schema: BaseSchema) -> None:
    found = sorted(
        (op.method.upper(), op.path)
        for op in (result.ok() for result in api_schema.get_all_operations())
    )
    assert found == OPERATIONS


#: The operations with an iri parameter: any string fits its schema, the graph resolves it.
TAKES_IRI = {
    f"/queries/{query.name}"
    for query in Registry.load(REPO / "queries")
    if any(p.type == "iri" for p in query.params)
}

#: Every operation with valid input, and those with parameters or a body with invalid input too.
CASES = [
    *((method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS),
    *((method, path, GenerationMode.NEGATIVE) for method, path in OPERATIONS if path != "/queries"),
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_every_operation_conforms_to_the_document(
    api_schema: BaseSchema, tally: Tally, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    # Where a grammar is no JSON Schema, a schema-valid value may still be refused (400, naming
    # what is wrong): /sparql's query is any string, seldom a query; an iri parameter is any
    # string, and only the graph knows whether it names one entity. Everywhere else, any
    # schema-valid value must be accepted.
    excluded = [positive_data_acceptance] if path == "/sparql" or path in TAKES_IRI else []
    test = f"test_fuzz_openapi.py::test_every_operation_conforms_to_the_document[{mode.value}]"

    @settings(
        max_examples=examples(4),
        deadline=None,
        derandomize=derandomize(),
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        started = time.monotonic()
        response = case.call(timeout=30)
        tally.count(test, response.status_code)
        tally.timed(test, started)
        content_type = (response.headers.get("content-type") or [None])[0]
        check_response(response.status_code, content_type, response.content, method=method)
        case.validate_response(response, excluded_checks=excluded)

    run()


# --- what the fuzzing found -------------------------------------------------------------------


def get(server: LiveServer, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def test_an_iri_parameter_that_is_no_iri_is_a_bad_parameter(fuzz_server: LiveServer) -> None:
    """Regression: ``city=E:[`` passed the parameter check (it looked like an absolute IRI), and
    the bound query then failed in Oxigraph's parser: a 400 ``BadQuery`` about line 17 of a query
    the client never wrote. Now the value is checked as the engine checks IRIs (RFC 3987)."""
    status, doc = get(fuzz_server, "/queries/city?city=E%3A%5B&format=json")
    assert status == 400
    assert doc["error"]["type"] == "BadParameter"
    assert "'city'" in doc["error"]["message"]
    assert "not a valid IRI" in doc["error"]["message"]


def test_empty_parameters_are_documented_as_taken(fuzz_server: LiveServer) -> None:
    """Regression: an empty value (an empty form field) means the parameter is not given, but
    the document allowed no empty ``format`` or ``city``: schemathesis's negative cases got 200."""
    status, _ = get(fuzz_server, "/queries/table1?city=&format=")
    assert status == 200
    _, document = get(fuzz_server, "/openapi.json")
    parameters = document["paths"]["/queries/table1"]["get"]["parameters"]
    assert all(p["allowEmptyValue"] for p in parameters)
