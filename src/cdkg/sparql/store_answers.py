"""A store's answers read back: SPARQL 1.1 Query Results JSON into Oxigraph's solutions or into
rdflib terms (the shape rdflib's ``evalQuery`` gives), an RDF graph for CONSTRUCT and DESCRIBE;
anything else is the store's bad answer (:class:`cdkg.errors.StoreBadAnswer`, 502), naming its
URL."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
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


def select_parts(url: str, doc: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """A SELECT answer's variable names and rows."""
    try:
        names = [str(name) for name in doc["head"]["vars"]]
        rows = doc["results"]["bindings"]
        if not isinstance(rows, list):
            raise TypeError("bindings is not a list")
    except (KeyError, TypeError) as err:
        raise bad(url, f"SELECT results without {err}") from None
    return names, rows


#: Booleans in their canonical form (XSD 1.1 §3.3.2): Virtuoso writes a comparison's value "1".
CANONICAL_BOOLEANS = {"1": "true", "0": "false"}
#: Bytes of a SPARQL JSON answer that Oxigraph may not read as :func:`select_tsv` must: a blank
#: node (Virtuoso's labels, ``nodeID://b1``, are not ones N-Triples allows), a boolean (maybe
#: "1"). An answer without them goes to Oxigraph as the store wrote it.
NEEDS_READING = (b'"bnode"', b'XMLSchema#boolean"')


def select_tsv(url: str, media_type: str, body: bytes) -> bytes:
    """A SELECT answer (SPARQL JSON results) as TSV results written by Oxigraph, which the
    engine writes as it writes its own answers; each term as :func:`bindings` reads it: a boolean
    in its canonical form, the older ``typed-literal`` as a literal, each of the store's blank
    node labels as one of ours, the same for the same label within this answer. An answer
    holding neither blank nodes nor booleans is read by Oxigraph alone: at a few thousand rows,
    reading each term in Python took longer than the store's evaluation."""
    if not media_type.endswith("json"):
        raise bad(url, f"{media_type}, not SPARQL JSON results")
    if not any(needle in body for needle in NEEDS_READING):
        with contextlib.suppress(SyntaxError, ValueError):  # read below, where it is said why
            return _tsv(body)
    names, rows = select_parts(url, results_json(url, media_type, body))
    labels: dict[str, str] = {}
    read: list[dict[str, dict[str, str]]] = []
    for row in rows:
        if not isinstance(row, dict):
            raise bad(url, "a result row that is not an object")
        read.append({name: _json_term(url, value, labels) for name, value in row.items()})
    try:
        return _tsv(json.dumps({"head": {"vars": names}, "results": {"bindings": read}}).encode())
    except (SyntaxError, ValueError) as err:
        raise bad(url, f"SPARQL JSON results that do not parse ({err})") from None


def _tsv(body: bytes) -> bytes:
    """SPARQL JSON results as TSV, read and written by Oxigraph; every term is read here, so
    that a term Oxigraph refuses raises now (its reading is lazy)."""
    found = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    try:
        if not isinstance(found, ox.QuerySolutions):
            raise ValueError("an ASK answer to a SELECT query")
        return found.serialize(format=ox.QueryResultsFormat.TSV) or b""
    finally:
        # dropped here, in this thread: Oxigraph's solutions may not be dropped in another, as
        # the garbage collector would if a traceback kept this frame alive (a RuntimeError)
        del found


def _json_term(url: str, value: Any, labels: dict[str, str]) -> dict[str, str]:
    try:
        kind, text = value["type"], str(value["value"])
    except (KeyError, TypeError):
        raise bad(url, f"a term without type or value: {value!r}") from None
    if kind == "uri":
        return {"type": "uri", "value": text}
    if kind == "bnode":
        return {"type": "bnode", "value": labels.setdefault(text, f"b{len(labels)}")}
    if kind not in ("literal", "typed-literal"):
        raise bad(url, f"a term of unknown type {kind!r}")
    term = {"type": "literal", "value": text}
    if lang := value.get("xml:lang"):
        term["xml:lang"] = str(lang)
    elif datatype := value.get("datatype"):
        term["datatype"] = str(datatype)
        if datatype == str(XSD.boolean):
            term["value"] = CANONICAL_BOOLEANS.get(text, text)
    return term


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
