"""An answer as a text table, for people at a terminal (``cdkg query --format table``).

Every other format is the endpoint's own bytes (:mod:`cdkg.engine.evaluate`); the table is drawn
from the SPARQL JSON answer, read back by Oxigraph: IRIs written with the usual prefixes where one
fits, literals as their text with a language tag, control characters made visible.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import NamespaceManager

from cdkg.sparql.prefixes import PREFIXES

#: ``cdkg query --format`` choices: the table, and the endpoint's formats by their short names.
FORMATS = ("table", "json", "xml", "csv", "tsv", "ttl", "nt", "jsonld", "rdfxml")

_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def table(body: bytes, prefixes: Mapping[str, str] | None = None) -> str:
    """A SPARQL JSON results document (SELECT or ASK) as aligned columns; IRIs shortened with
    ``prefixes`` (default :data:`PREFIXES`) where the rest is a valid local name."""
    known = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, namespace in (PREFIXES if prefixes is None else prefixes).items():
        known.bind(prefix, namespace, override=True, replace=True)
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return f"{'true' if parsed else 'false'}\n"
    names = [v.value for v in parsed.variables]
    cells = [[_cell(solution[name], known) for name in names] for solution in parsed]
    widths = [max([len(name), *(len(r[i]) for r in cells)]) for i, name in enumerate(names)]
    lines = [names, ["-" * w for w in widths], *cells]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    out.append(f"({len(cells)} row{'' if len(cells) == 1 else 's'})")
    return "\n".join(out) + "\n"


def _cell(term: object, prefixes: NamespaceManager) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        text = "".join(_CONTROLS.get(char, char) for char in term.value)
        return text + (f"@{term.language}" if term.language else "")
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value).n3(prefixes)
    return str(term)
