"""``/openapi.json``: an OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0) of the canned
queries, one ``GET /queries/NAME`` operation each, plus ``/queries`` and ``/sparql``.

Parameters are typed from the query headers (``iri`` a string: an IRI, an id, a Wikidata item or
a label, resolved when the query runs; ``integer``; ``year`` a pattern; ``enum`` an enum). Each
operation has an example SPARQL JSON response: the first rows of ``tests/golden/NAME.json`` when
the source checkout has one, else a synthetic row with the query's columns. The document is built
once and kept; each answer names the server the request reached.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app
from flask.blueprints import BlueprintSetupState

from cdkg import __version__
from cdkg.canned.params import IRI_FORMS, Param, curie
from cdkg.canned.registry import CannedQuery, Registry
from cdkg.resources import kg_dir
from cdkg.sparql import negotiation
from cdkg.web.canned import FORMAT_PARAM, formats_of
from cdkg.web.state import public_root

bp = Blueprint("openapi", __name__)

OPENAPI = "3.1.0"
#: Rows of a golden file shown as an example.
EXAMPLE_ROWS = 3
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "type", "message"],
            "properties": {
                "status": {"type": "integer"},
                "type": {"type": "string"},
                "message": {"type": "string"},
                "hint": {"type": ["string", "null"]},
                "spec": {"type": ["string", "null"]},
            },
        }
    },
}
SPARQL_JSON_SCHEMA = {
    "type": "object",
    "required": ["head"],
    "properties": {
        "head": {
            "type": "object",
            "properties": {
                "vars": {"type": "array", "items": {"type": "string"}},
                "link": {"type": "array", "items": {"type": "string", "format": "iri"}},
            },
        },
        "results": {
            "type": "object",
            "properties": {"bindings": {"type": "array", "items": {"type": "object"}}},
        },
        "boolean": {"type": "boolean"},
    },
}
CITATION_HEADERS = {
    "CDKG-Query": "the canned query's name",
    "CDKG-Query-SHA256": "SHA-256 of the query's text",
    "CDKG-Dataset-Version": "content hash of the data files",
    "Link": 'rel="cite-as": the result\'s stable URL; rel="http://purl.org/dc/terms/source": '
    "the paper",
}


#: Stands for the server's URL in the document built once; each answer puts the request's in.
_SERVER = "https://cdkg.invalid/server-url"


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    setup.app.extensions["cdkg.openapi"] = ([], threading.Lock())


@bp.route("/openapi.json")
def document() -> Response:
    """The document, built and written once per app; only its ``servers`` entry is the
    request's (any client can make up a ``Host`` header: it costs a string replacement)."""
    built, lock = current_app.extensions["cdkg.openapi"]
    with lock:
        if not built:
            registry = current_app.extensions["cdkg"].queries
            doc = openapi_document(registry, _SERVER, golden_dir())
            built.append(current_app.json.dumps(doc))
        text = built[0]
    server = current_app.json.dumps(public_root().rstrip("/"))
    body = text.replace(current_app.json.dumps(_SERVER), server, 1)
    return Response(body, mimetype="application/json")


def golden_dir() -> Path:
    """``tests/golden`` beside ``queries/`` in a source checkout (not in an installed wheel)."""
    return kg_dir("queries").parent / "tests" / "golden"


def param_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of a canned-query parameter: what :meth:`cdkg.canned.params.Param.term`
    takes."""
    schema: dict[str, Any]
    if param.type == "iri":
        # any text: a label is one (تهران, Tehran); whether it names one entity of the graph is
        # known only when the query runs, and a value that names none, or several, is a 400
        schema = {"type": "string"}
    elif param.type == "integer":
        schema = {"type": "integer"}
    elif param.type == "year":
        schema = {"type": "string", "pattern": "^-?[0-9]{4}$"}
    elif param.type == "enum":
        schema = {"type": "string", "enum": list(param.allowed)}
    else:
        schema = {"type": "string"}
    if param.default is not None:
        schema["default"] = int(param.default) if param.type == "integer" else param.default
    return schema


def param_description(param: Param) -> str:
    """The header's description; for an ``iri`` parameter, also what it takes."""
    if param.type != "iri":
        return param.description
    kind = " or ".join(curie(c) for c in param.classes) or "entity"
    return (
        f"{param.description.rstrip('.')}; takes {IRI_FORMS}, resolved to the one {kind} of the "
        "graph it names; a value that names none, or several, is a 400 listing the closest "
        "candidates."
    )


def example_result(query: CannedQuery, golden: Path) -> dict[str, Any]:
    """An example SPARQL JSON answer: the golden file's first rows, or one made-up row."""
    path = golden / f"{query.name}.json"
    if path.is_file():
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if "results" in doc:
            doc["results"]["bindings"] = doc["results"]["bindings"][:EXAMPLE_ROWS]
        return doc
    if query.form == "ASK":
        return {"head": {}, "boolean": True}
    names = list(query.variables)
    row = {n: {"type": "literal", "value": f"example {n}"} for n in names}
    return {"head": {"vars": names}, "results": {"bindings": [row]}}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}


def query_operation(query: CannedQuery, golden: Path) -> dict[str, Any]:
    """The ``GET /queries/NAME`` operation of one canned query."""
    formats = formats_of(query)
    content: dict[str, Any] = {}
    for fmt in formats:
        if fmt is negotiation.SPARQL_JSON:
            content[fmt.media_type] = {
                "schema": SPARQL_JSON_SCHEMA,
                "example": example_result(query, golden),
            }
        elif fmt is negotiation.CSL_JSON:  # the result's citation, then the paper's: CSL items
            content[fmt.media_type] = {"schema": {"type": "array", "items": {"type": "object"}}}
        else:
            content[fmt.media_type] = {"schema": {"type": "string"}}
    description = query.description
    if query.description_fa:
        description += f"\n\n{query.description_fa}"
    if query.source:
        description += f"\n\nIn the paper: {query.source}."
    # An empty value is taken as no value (what an empty field of the HTML form sends):
    # allowEmptyValue says so, as the answers do.
    parameters = [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": param_description(p),
            "schema": param_schema(p),
            "allowEmptyValue": True,
        }
        for p in query.params
    ]
    parameters.append(
        {
            "name": FORMAT_PARAM,
            "in": "query",
            "required": False,
            "description": "overrides Accept",
            "schema": {"type": "string", "enum": [f.names[0] for f in formats]},
            "allowEmptyValue": True,
        }
    )
    return {
        "operationId": f"query_{query.name}".replace("-", "_"),
        "summary": query.title,
        "description": description,
        "tags": ["canned queries", *query.tags, *([query.rq] if query.rq else [])],
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "the result; the headers say how to cite it",
                "headers": {
                    name: {"description": text, "schema": {"type": "string"}}
                    for name, text in CITATION_HEADERS.items()
                },
                "content": content,
            },
            "400": _error_response(
                "an unknown parameter or a bad value, or one that names no entity or several; "
                "the message names it and lists the closest candidates"
            ),
            "406": _error_response("no acceptable format"),
            "503": _error_response("the query ran past the time limit, or the server is busy"),
        },
    }


def sparql_operations() -> dict[str, Any]:
    """``GET`` and ``POST /sparql``, the SPARQL 1.1 Protocol's query operation."""
    results = {
        fmt.media_type: {"schema": SPARQL_JSON_SCHEMA if fmt is negotiation.SPARQL_JSON else {}}
        for fmt in (*negotiation.RESULT_FORMATS, *negotiation.GRAPH_FORMATS)
    }
    example = "SELECT ?class (COUNT(*) AS ?n) WHERE { ?s a ?class } GROUP BY ?class"
    responses = {
        "200": {"description": "the result (or, for GET without a query, the service description)"},
        "400": _error_response("a syntax error or a bad parameter"),
        "403": _error_response("an update, or SERVICE / FROM refused"),
    }
    docs = {"url": "https://www.w3.org/TR/sparql11-protocol/#query-operation"}
    responses["200"]["content"] = results
    return {
        "get": {
            "operationId": "sparql_get",
            "summary": "SPARQL query via GET; without a query, the service description",
            "externalDocs": docs,
            "tags": ["SPARQL"],
            "parameters": [
                {"name": "query", "in": "query", "schema": {"type": "string"}},
                {"name": "default-graph-uri", "in": "query", "schema": {"type": "string"}},
                {"name": "named-graph-uri", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": responses,
        },
        "post": {
            "operationId": "sparql_post",
            "summary": "SPARQL query via POST (form or application/sparql-query)",
            "externalDocs": docs,
            "tags": ["SPARQL"],
            "requestBody": {
                "required": True,
                "content": {
                    "application/sparql-query": {"schema": {"type": "string"}, "example": example},
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {"query": {"type": "string"}},
                            "required": ["query"],
                        },
                        "example": {"query": example},
                    },
                },
            },
            "responses": responses,
        },
    }


def openapi_document(registry: Registry, base: str, golden: Path) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the endpoint served at ``base``."""
    paths: dict[str, Any] = {
        "/queries": {
            "get": {
                "operationId": "list_queries",
                "summary": "the canned queries (JSON, or HTML for browsers)",
                "tags": ["canned queries"],
                "responses": {
                    "200": {
                        "description": "the list",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/sparql": sparql_operations(),
    }
    for query in registry:
        paths[f"/queries/{query.name}"] = {"get": query_operation(query, golden)}
    return {
        "openapi": OPENAPI,
        "info": {
            "title": "City Diplomacy Knowledge Graph (cdkg)",
            "version": __version__,
            "description": "Canned SPARQL queries over the City Diplomacy Knowledge Graph, "
            "each reproducing part of the paper, and the SPARQL 1.1 endpoint.",
            "license": {"name": "CC-BY-4.0 (data)", "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": base.rstrip("/")}],
        "paths": paths,
    }
