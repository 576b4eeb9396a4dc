"""Query results to bytes for the endpoint, in the format negotiation chose, under the row cap.

SELECT and ASK are written here, one small writer per W3C results format, so that the row cap is
applied while the solutions are still a lazy stream. CONSTRUCT and DESCRIBE graphs go through
rdflib's RDF serializers. A result longer than the cap is cut at ``max_rows`` and reported as
truncated; the web layer tells the client in a response header.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from cdkg import negotiation as fmt


@dataclass(frozen=True)
class Rendered:
    """A serialised result: its bytes, media type, row count and whether the cap cut it."""

    body: bytes
    media_type: str
    rows: int
    truncated: bool = False


def render(
    result: Mapping[str, Any],
    form: str,
    chosen: fmt.Format,
    max_rows: int,
    *,
    namespaces: NamespaceManager | None = None,
    variables: Sequence[str] | None = None,
) -> Rendered:
    """Serialise an rdflib evaluation result (the dict ``evalQuery`` returns); ``variables``
    overrides the order of a SELECT's columns."""
    if form == "ASK":
        return Rendered(ASK_WRITERS[chosen](bool(result["askAnswer"])), chosen.media_type, 1)
    if form == "SELECT":
        names = list(variables) if variables else [str(v) for v in result["vars_"] or ()]
        rows = list(itertools.islice(result["bindings"], max_rows + 1))
        truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        body = SELECT_WRITERS[chosen](names, [_row(names, r) for r in rows])
        return Rendered(body, chosen.media_type, len(rows), truncated)
    graph: Graph = result["graph"]
    triples = list(itertools.islice(iter(graph), max_rows + 1))
    truncated = len(triples) > max_rows
    if truncated:
        graph = Graph()
        for triple in triples[:max_rows]:
            graph.add(triple)
    if namespaces is not None:
        for prefix, namespace in namespaces.namespaces():
            graph.bind(prefix, namespace, override=False)
    return Rendered(
        serialize_graph(graph, chosen), chosen.media_type, min(len(triples), max_rows), truncated
    )


#: rdflib serializer name of each RDF format.
RDFLIB_FORMATS = {
    fmt.TURTLE: "turtle",
    fmt.NTRIPLES: "nt",
    fmt.JSONLD: "json-ld",
    fmt.RDFXML: "xml",
    fmt.TRIG: "trig",
}


def serialize_graph(graph: Graph, chosen: fmt.Format) -> bytes:
    """A graph (or dataset, for TriG) in one of :data:`RDFLIB_FORMATS`, as UTF-8."""
    return graph.serialize(format=RDFLIB_FORMATS[chosen], encoding="utf-8")


Row = dict[str, Node]


def _row(names: Sequence[str], binding: Mapping[Any, Any]) -> Row:
    row = {}
    for name in names:
        value = binding.get(Variable(name))
        if value is not None:
            row[name] = value
    return row


# --- SPARQL 1.1 Query Results JSON: https://www.w3.org/TR/sparql11-results-json/


def _parts(term: Any) -> tuple[str, str, str | None, str | None]:
    """``(kind, value, language, datatype)`` of an rdflib term or a pyoxigraph one: Oxigraph's
    answers are written straight from its terms, never turned into rdflib's (that conversion was
    most of the time of a large answer). A simple literal has neither language nor datatype."""
    if isinstance(term, ox.NamedNode | URIRef):
        return "uri", term.value if isinstance(term, ox.NamedNode) else str(term), None, None
    if isinstance(term, ox.BlankNode | BNode):
        return "bnode", term.value if isinstance(term, ox.BlankNode) else str(term), None, None
    if isinstance(term, ox.Literal):
        if term.language:
            return "literal", term.value, term.language, None
        datatype = term.datatype.value
        return "literal", term.value, None, None if datatype == _XSD_STRING else datatype
    if isinstance(term, Literal):
        typed = str(term.datatype) if term.datatype and not term.language else None
        return "literal", str(term), term.language or None, typed
    raise TypeError(f"not an RDF term: {term!r}")


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _json_term(term: Any) -> dict[str, str]:
    kind, value, language, datatype = _parts(term)
    out = {"type": kind, "value": value}
    if language:
        out["xml:lang"] = language
    elif datatype:
        out["datatype"] = datatype
    return out


def select_json(names: Sequence[str], rows: Iterable[Row]) -> bytes:
    bindings = [{k: _json_term(v) for k, v in row.items()} for row in rows]
    doc = {"head": {"vars": list(names)}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False).encode()


def ask_json(answer: bool) -> bytes:
    return json.dumps({"head": {}, "boolean": answer}).encode()


# --- SPARQL Query Results XML: https://www.w3.org/TR/rdf-sparql-XMLres/

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'


def _xml_term(term: Any) -> str:
    kind, value, language, datatype = _parts(term)
    if kind != "literal":
        return f"<{kind}>{escape(value)}</{kind}>"
    attrs = ""
    if language:
        attrs = f" xml:lang={quoteattr(language)}"
    elif datatype:
        attrs = f" datatype={quoteattr(datatype)}"
    return f"<literal{attrs}>{escape(value)}</literal>"


def select_xml(names: Sequence[str], rows: Iterable[Row]) -> bytes:
    out = [_XML_HEAD, "<head>"]
    out += [f"<variable name={quoteattr(n)}/>" for n in names]
    out.append("</head>\n<results>\n")
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(k)}>{_xml_term(v)}</binding>" for k, v in row.items()]
        out.append("</result>\n")
    out.append("</results>\n</sparql>\n")
    return "".join(out).encode()


def ask_xml(answer: bool) -> bytes:
    return f"{_XML_HEAD}<head/>\n<boolean>{str(answer).lower()}</boolean>\n</sparql>\n".encode()


# --- SPARQL 1.1 Query Results CSV and TSV: https://www.w3.org/TR/sparql11-results-csv-tsv/
# ASK has no CSV/TSV form in the spec; we answer as Apache Jena does: one column, _askResult.


def _csv_value(term: Any) -> str:
    kind, value, _, _ = _parts(term)
    return f"_:{value}" if kind == "bnode" else value


def select_csv(names: Sequence[str], rows: Iterable[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_value(row[n]) if n in row else "" for n in names])
    return buffer.getvalue().encode()


def ask_csv(answer: bool) -> bytes:
    return f"_askResult\r\n{str(answer).lower()}\r\n".encode()


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _tsv_term(term: Any) -> str:
    """A term in N-Triples syntax, on one line."""
    kind, value, language, datatype = _parts(term)
    if kind == "uri":
        return f"<{value}>"
    if kind == "bnode":
        return f"_:{value}"
    text = f'"{value.translate(_TSV_ESCAPES)}"'
    if language:
        return f"{text}@{language}"
    if datatype:
        return f"{text}^^<{datatype}>"
    return text


def select_tsv(names: Sequence[str], rows: Iterable[Row]) -> bytes:
    lines = ["\t".join(f"?{n}" for n in names)]
    lines += ["\t".join(_tsv_term(row[n]) if n in row else "" for n in names) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def ask_tsv(answer: bool) -> bytes:
    return f"?_askResult\n{str(answer).lower()}\n".encode()


SELECT_WRITERS: dict[fmt.Format, Callable[[Sequence[str], Iterable[Row]], bytes]] = {
    fmt.SPARQL_JSON: select_json,
    fmt.SPARQL_XML: select_xml,
    fmt.SPARQL_CSV: select_csv,
    fmt.SPARQL_TSV: select_tsv,
}
ASK_WRITERS: dict[fmt.Format, Callable[[bool], bytes]] = {
    fmt.SPARQL_JSON: ask_json,
    fmt.SPARQL_XML: ask_xml,
    fmt.SPARQL_CSV: ask_csv,
    fmt.SPARQL_TSV: ask_tsv,
}
