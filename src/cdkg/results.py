"""Write a query result as a text table or in a SPARQL 1.1 results format.

- csv: https://www.w3.org/TR/sparql11-results-csv-tsv/#csv (plain values, CRLF line ends)
- tsv: https://www.w3.org/TR/sparql11-results-csv-tsv/#tsv (terms in Turtle syntax)
- json: https://www.w3.org/TR/sparql11-results-json/
- table: aligned columns for people, with the graph's prefixes.

ASK results are a boolean in every format; CONSTRUCT and DESCRIBE results are written as Turtle.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import Any, TextIO, cast

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import NamespaceManager
from rdflib.query import Result, ResultRow
from rdflib.term import Identifier

FORMATS = ("table", "csv", "tsv", "json")


def write_result(
    result: Result, fmt: str, out: TextIO, namespaces: NamespaceManager | None = None
) -> None:
    """Write ``result`` to ``out`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown result format {fmt!r}; expected one of {FORMATS}")
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        out.write((result.serialize(format="turtle") or b"").decode())
        return
    if result.type == "ASK":
        _write_boolean(bool(result.askAnswer), fmt, out)
        return
    names = [str(v) for v in result.vars or []]
    rows = [list(cast(ResultRow, row)) for row in result]
    {"table": _write_table, "csv": _write_csv, "tsv": _write_tsv, "json": _write_json}[fmt](
        names, rows, out, namespaces
    )


Rows = Sequence[Sequence[Identifier | None]]


def _write_boolean(answer: bool, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump({"head": {}, "boolean": answer}, out)
        out.write("\n")
    else:
        out.write(("true" if answer else "false") + ("\r\n" if fmt == "csv" else "\n"))


def _write_csv(names: list[str], rows: Rows, out: TextIO, _: NamespaceManager | None) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_value(term) for term in row])


def _csv_value(term: Identifier | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def _write_tsv(names: list[str], rows: Rows, out: TextIO, _: NamespaceManager | None) -> None:
    out.write("\t".join(f"?{name}" for name in names) + "\n")
    for row in rows:
        out.write("\t".join(_tsv_value(term) for term in row) + "\n")


def _tsv_value(term: Identifier | None) -> str:
    """A term in Turtle syntax; literals always in full form, with tabs and newlines escaped."""
    if term is None:
        return ""
    if not isinstance(term, Literal):
        return term.n3()
    escaped = "".join(_ESCAPES.get(char, char) for char in str(term))
    suffix = f"@{term.language}" if term.language else ""
    if term.datatype and not term.language:
        suffix = f"^^<{term.datatype}>"
    return f'"{escaped}"{suffix}'


_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES = {**_CONTROLS, "\\": "\\\\", '"': '\\"'}


def _write_json(names: list[str], rows: Rows, out: TextIO, _: NamespaceManager | None) -> None:
    bindings = [
        {name: _json_term(term) for name, term in zip(names, row, strict=True) if term is not None}
        for row in rows
    ]
    json.dump({"head": {"vars": names}, "results": {"bindings": bindings}}, out, ensure_ascii=False)
    out.write("\n")


def _json_term(term: Identifier) -> dict[str, Any]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        body: dict[str, Any] = {"type": "literal", "value": str(term)}
        if term.language:
            body["xml:lang"] = term.language
        elif term.datatype:
            body["datatype"] = str(term.datatype)
        return body
    raise TypeError(f"not an RDF term: {term!r}")


def _write_table(
    names: list[str], rows: Rows, out: TextIO, namespaces: NamespaceManager | None
) -> None:
    cells = [[_table_value(term, namespaces) for term in row] for row in rows]
    widths = [max([len(name), *(len(r[i]) for r in cells)]) for i, name in enumerate(names)]
    lines = [names, ["-" * w for w in widths], *cells]
    for line in lines:
        out.write("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'' if len(rows) == 1 else 's'})\n")


def _table_value(term: Identifier | None, namespaces: NamespaceManager | None) -> str:
    if term is None:
        return ""
    if isinstance(term, Literal):
        text = "".join(_CONTROLS.get(char, char) for char in str(term))
        return text + (f"@{term.language}" if term.language else "")
    return str(term.n3(namespaces))
