"""A store's answers read back: SPARQL 1.1 Query Results JSON, or an RDF graph for CONSTRUCT and
DESCRIBE, into rdflib terms (the shape rdflib's ``evalQuery`` gives); anything else is the store's
bad answer (:class:`cdkg.errors.StoreBadAnswer`, 502), naming its URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.term import Node

from cdkg.errors import StoreBadAnswer

RESULTS_JSON_SPEC = "https://www.w3.org/TR/sparql11-results-json/"
#: What we ask for, by query form, and how each RDF media type is parsed.
RESULTS_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
RDFLIB_PARSERS = {
    "application/n-triples": "nt",
    "text/plain": "nt",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}


def bad(url: str, what: str) -> StoreBadAnswer:
    """The store at ``url`` sent ``what``, which is no answer we can read."""
    return StoreBadAnswer(
        f"the SPARQL store at {url} sent {what}",
        hint="check that the URL is the store's SPARQL query endpoint",
        spec=RESULTS_JSON_SPEC,
    )


def results_json(url: str, media_type: str, body: bytes) -> dict[str, Any]:
    if not media_type.endswith("json"):
        raise bad(url, f"{media_type}, not SPARQL JSON results")
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise bad(url, f"JSON that does not parse ({err})") from None
    if not isinstance(doc, dict):
        raise bad(url, "JSON that is not an object")
    return doc


def bindings(url: str, rows: list[Any]) -> Iterator[dict[Variable, Node]]:
    """Each row as ``{Variable: term}``; a blank node label of the store becomes one of
    ours, the same for the same label within this answer."""
    bnodes: dict[str, BNode] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise bad(url, "a result row that is not an object")
        yield {Variable(name): _term(url, value, bnodes) for name, value in row.items()}


def _term(url: str, value: Any, bnodes: dict[str, BNode]) -> Node:
    """One RDF term of SPARQL 1.1 JSON results (and the older ``typed-literal``)."""
    try:
        kind, text = value["type"], str(value["value"])
    except (KeyError, TypeError):
        raise bad(url, f"a term without type or value: {value!r}") from None
    if kind == "uri":
        return URIRef(text)
    if kind == "bnode":
        return bnodes.setdefault(text, BNode())
    if kind in ("literal", "typed-literal"):
        lang = value.get("xml:lang")
        datatype = value.get("datatype")
        if lang:
            return Literal(text, lang=lang)
        if datatype and datatype != str(XSD.string):  # RDF 1.1: "x"^^xsd:string is "x"
            return Literal(text, datatype=URIRef(datatype))
        return Literal(text)
    raise bad(url, f"a term of unknown type {kind!r}")


def read_graph(url: str, media_type: str, body: bytes) -> Graph:
    parser = RDFLIB_PARSERS.get(media_type)
    if parser is None:
        raise bad(url, f"a graph as {media_type}, which we cannot read")
    graph = Graph()
    try:
        graph.parse(data=body, format=parser)
    except Exception as err:  # any parser failure is the store's answer's fault
        raise bad(url, f"{media_type} that does not parse ({err})") from None
    return graph
