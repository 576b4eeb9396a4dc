"""Answer a query: Oxigraph evaluates it and writes its bytes, under the row cap.

This is the one query path, from query text to response bytes, for the endpoint (in an engine
worker, :mod:`cdkg.engine.runner`) and for ``cdkg query`` alike. The guard admits the text
(:mod:`cdkg.sparql.guard`); Oxigraph parses and evaluates it over the dataset the request names
(:func:`dataset_options`); Oxigraph's own writers write the answer in the negotiated format, so a
term reaches the client exactly as Oxigraph holds it (no rdflib term, no conversion that could
rewrite a literal on the way).

The row cap (``max_rows``): a SELECT answer is first written as SPARQL TSV, where every row is one
line (a term never holds a raw line break in TSV), and a CONSTRUCT or DESCRIBE answer as
N-Triples, a triple a line; past the cap the lines are cut, and the answer says it is truncated.
Unless the client asked for that very format, Oxigraph then reads those lines back and writes the
format asked for: both are Oxigraph's own lossless reader and writer.

A query that calls an allow-listed SERVICE is the exception: rdflib runs it
(:mod:`cdkg.sparql.federation` gives it the guarded client), and its rows are written as TSV, then
by Oxigraph like the others.

A query that uses what the Wikidata Query Service answers itself (``SERVICE wikibase:label``,
``wikibase:around``, ``wikibase:box``, query hints) is rewritten by :mod:`cdkg.sparql.wdqs` before
Oxigraph reads it, and answered with the functions of :mod:`cdkg.engine.functions`; WDQS's
``geof:`` functions are there for every query.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import Dataset, Graph, Variable
from rdflib.plugins.sparql.evaluate import evalQuery

from cdkg.engine import functions
from cdkg.errors import BadQuery, QuerySyntaxError
from cdkg.kg import oxi
from cdkg.sparql import fullread, guard, lexer, negotiation, wdqs, wdqs_services
from cdkg.sparql.federation import guarded_services, join_bgps_lazily
from cdkg.sparql.negotiation import Format
from cdkg.sparql.prefixes import PREFIXES

#: Oxigraph's writers for our formats.
RESULTS = {
    negotiation.SPARQL_JSON: ox.QueryResultsFormat.JSON,
    negotiation.SPARQL_XML: ox.QueryResultsFormat.XML,
    negotiation.SPARQL_CSV: ox.QueryResultsFormat.CSV,
    negotiation.SPARQL_TSV: ox.QueryResultsFormat.TSV,
}
#: An ASK answer in CSV and TSV, which SPARQL 1.1 CSV/TSV results leave undefined (§1: they
#: cover SELECT only): a one-column table with the boolean, as Jena and RDF4J write it, so that a
#: CSV reader reads a header and a row (Oxigraph writes the bare word, with no line end).
ASK_LINES = {
    negotiation.SPARQL_CSV: b"_askResult\r\n%s\r\n",
    negotiation.SPARQL_TSV: b"?_askResult\n%s\n",
}
GRAPHS = {
    negotiation.TURTLE: ox.RdfFormat.TURTLE,
    negotiation.NTRIPLES: ox.RdfFormat.N_TRIPLES,
    negotiation.JSONLD: ox.RdfFormat.JSON_LD,
    negotiation.RDFXML: ox.RdfFormat.RDF_XML,
    negotiation.TRIG: ox.RdfFormat.TRIG,
}


@dataclass(frozen=True)
class QueryRequest:
    """A query as the protocol gives it: its text, the protocol's dataset, what the client
    accepts (``Accept``, or ``format=`` which overrides it) and the base IRI."""

    text: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    accept: str | None = None
    format: str | None = None
    base: str | None = None


@dataclass(frozen=True)
class Answer:
    """An answer's bytes, its media type, how many rows or triples it holds, whether the row
    cap cut it, and whether another endpoint gave part of it (SERVICE: then it is not cached)."""

    body: bytes
    media_type: str
    rows: int
    truncated: bool = False
    called_out: bool = False


@dataclass(frozen=True)
class Limits:
    """What bounds an answer: the row cap, and the SERVICE endpoints a query may call with their
    time limit (a call never outlives ``deadline``, a ``time.monotonic()``)."""

    max_rows: int
    allow_service: tuple[str, ...] = ()
    service_timeout: float = 5.0
    deadline: float = math.inf


def answer(
    store: ox.Store,
    request: QueryRequest,
    limits: Limits,
    *,
    graphs: Collection[str],
    federation: Dataset | None = None,
    remote: Any = None,
) -> Answer:
    """Admit ``request``, evaluate it on ``store`` (whose named graphs are ``graphs``) and write
    the answer. ``federation`` (an rdflib view of the same store) runs allow-listed SERVICE
    calls; ``remote`` (a :class:`cdkg.sparql.remote.RemoteStore`), if given, evaluates every other
    query in the external store instead of ``store``."""
    admitted = guard.admit(
        request.text, allow_service=limits.allow_service, graphs=graphs, prefixes=PREFIXES
    )
    forms = negotiation.GRAPH_FORMATS
    if admitted.form in ("SELECT", "ASK"):
        forms = negotiation.RESULT_FORMATS
    chosen = negotiation.negotiate(request.accept, forms, request.format)
    text, called = request.text, functions.GEO_FUNCTIONS
    if admitted.wdqs:
        text = wdqs.rewrite(request.text, PREFIXES)
        _local_only(text, text != request.text, admitted, remote)
        called = functions.with_labels(store, _default_graphs(request, admitted))
    if admitted.services and federation is not None:
        return _federated(federation, request, limits, chosen, graphs)
    if remote is not None:
        defaults, named = request.default_graphs, request.named_graphs
        if not (defaults or named or admitted.from_graphs or admitted.from_named):
            defaults = named = tuple(sorted(graphs))  # our graphs only, never the store's others
        # the store's time ends first (deadline): a slow store is a 504
        if admitted.form == "SELECT":
            found = remote.select(
                request.text, defaults, named, base=request.base, deadline=limits.deadline
            )
            return write_table(found, chosen, limits.max_rows)
        evaluated = remote.evaluate(
            request.text,
            admitted.form,
            defaults,
            named,
            base=request.base,
            deadline=limits.deadline,
        )
        return write_evaluated(evaluated, admitted.form, chosen, limits.max_rows)
    try:
        result = store.query(
            text,
            base_iri=request.base,
            prefixes=PREFIXES,
            custom_functions=called,
            **dataset_options(request, admitted, graphs),
        )
    except SyntaxError as err:
        raise _syntax_error(err, rewritten=text != request.text) from None
    except RuntimeError as err:  # a function Oxigraph was not given: the query's fault
        if not str(err).startswith("The custom function"):
            raise
        raise BadQuery(
            f"{err}: this endpoint answers SPARQL's own functions and "
            + ", ".join(f"<{iri}>" for iri in sorted(wdqs_services.FUNCTIONS) if "urn:" not in iri),
            hint="check the function's IRI and its prefix (geof: is WDQS's "
            "http://www.opengis.net/def/geosparql/function/)",
        ) from None
    except ValueError as err:  # a base IRI or graph IRI Oxigraph refuses
        raise BadQuery(str(err), hint="check the base and graph IRIs of the request") from None
    return write(result, chosen, limits.max_rows)


def dataset_options(
    request: QueryRequest, admitted: guard.Admitted, graphs: Collection[str]
) -> dict[str, Any]:
    """The dataset a query runs on (SPARQL 1.1 Protocol §2.1.4, Query §13.2): the protocol's
    graphs if it names any, else the query's own FROM / FROM NAMED, else the union of all our
    graphs as the default graph with each of them visible to ``GRAPH``."""
    if request.default_graphs or request.named_graphs:
        return {
            "default_graph": [ox.NamedNode(iri) for iri in request.default_graphs],
            "named_graphs": [ox.NamedNode(iri) for iri in request.named_graphs],
        }
    if admitted.from_graphs or admitted.from_named:
        return {}  # Oxigraph applies the query's own dataset clause
    return {"use_default_graph_as_union": True}


def _default_graphs(request: QueryRequest, admitted: guard.Admitted) -> tuple[str, ...] | None:
    """The graphs of a query's default graph (:func:`dataset_options`); None for the union."""
    if request.default_graphs or request.named_graphs:
        return request.default_graphs
    if admitted.from_graphs or admitted.from_named:
        return admitted.from_graphs
    return None


def _local_only(text: str, changed: bool, admitted: guard.Admitted, remote: Any) -> None:
    """Refuse a rewritten WDQS query that another engine would evaluate (an external store, or
    rdflib for a SERVICE to another endpoint): cdkg's functions answer it only in Oxigraph. A
    text for Oxigraph with a SERVICE left is refused too: Oxigraph would call it."""
    if changed and (admitted.services or remote is not None):
        where = "a SERVICE to another endpoint" if admitted.services else "an external store"
        raise BadQuery(
            "SERVICE wikibase:label, wikibase:around, wikibase:box and Blazegraph's query "
            "hints are answered by cdkg's embedded store alone, and this query would be "
            f"evaluated by {where}",
            hint="run them in a query of their own, on a server with the embedded store (cdkg "
            "serve without --store URL); a label service inside the other endpoint's SERVICE "
            "is sent to it as written",
            spec="https://www.mediawiki.org/wiki/Wikidata_Query_Service/User_Manual",
        )
    if not admitted.services and lexer.mentions_service(text):
        raise BadQuery(
            "the query's WDQS services could not all be rewritten: one is left as a SERVICE",
            hint="write each SERVICE wikibase:label / around / box as a plain group of triples",
        )


def write(result: Any, chosen: Format, max_rows: int) -> Answer:
    """``result`` (Oxigraph's solutions, boolean or triples) in ``chosen``, cut at ``max_rows``."""
    if isinstance(result, ox.QuerySolutions):
        lines = result.serialize(format=ox.QueryResultsFormat.TSV) or b""
        return _cut(lines, chosen, max_rows, header=True)
    if isinstance(result, ox.QueryBoolean):
        if chosen in ASK_LINES:
            return Answer(
                ASK_LINES[chosen] % str(bool(result)).lower().encode(), chosen.media_type, 1
            )
        return Answer(result.serialize(format=RESULTS[chosen]) or b"", chosen.media_type, 1)
    lines = result.serialize(format=ox.RdfFormat.N_TRIPLES) or b""
    return _cut(lines, chosen, max_rows, header=False)


def write_table(tsv: bytes, chosen: Format, max_rows: int) -> Answer:
    """TSV results (an external store's answer, read by Oxigraph) in ``chosen``, cut at
    ``max_rows``."""
    return _cut(tsv, chosen, max_rows, header=True)


def _cut(lines: bytes, chosen: Format, max_rows: int, *, header: bool) -> Answer:
    """TSV results (a header line, then a row a line) or N-Triples (a triple a line), cut after
    ``max_rows`` rows, then in ``chosen``."""
    rows = lines.count(b"\n") - header
    truncated = rows > max_rows
    if truncated:
        end = -1
        for _ in range(max_rows + header):
            end = lines.index(b"\n", end + 1)
        lines, rows = lines[: end + 1], max_rows
    if chosen in (negotiation.SPARQL_TSV, negotiation.NTRIPLES):
        return Answer(lines, chosen.media_type, rows, truncated)
    if header:
        solutions = ox.parse_query_results(lines, format=ox.QueryResultsFormat.TSV)
        body = solutions.serialize(format=RESULTS[chosen]) or b""
    else:
        triples = ox.parse(lines, format=ox.RdfFormat.N_TRIPLES)
        written = ox.serialize(triples, format=GRAPHS[chosen], prefixes=_prefixes(chosen, lines))
        body = written or b""
    return Answer(body, chosen.media_type, rows, truncated)


def serialize_rdflib(graph: Graph, chosen: Format) -> bytes:
    """An rdflib graph of our own making (a service description, VoID), written by Oxigraph."""
    lines = b"".join(oxi.triple_line(t) for t in graph)
    return _cut(lines, chosen, len(graph), header=False).body


def _prefixes(chosen: Format, lines: bytes) -> dict[str, str] | None:
    """The prefixes a Turtle, TriG or RDF/XML writer declares: those of :data:`PREFIXES` whose
    namespace the triples use (an IRI in N-Triples is written ``<namespace...>``)."""
    if chosen not in (negotiation.TURTLE, negotiation.TRIG, negotiation.RDFXML):
        return None
    return {p: ns for p, ns in PREFIXES.items() if b"<" + ns.encode() in lines}


def _syntax_error(err: SyntaxError, *, rewritten: bool = False) -> QuerySyntaxError:
    """Oxigraph's syntax error ("error at LINE:COLUMN: what it expected") as ours."""
    found = _AT.match(str(err))
    line, column, said = (int(found[1]), int(found[2]), found[3]) if found else (1, 1, str(err))
    hint = (
        "check the query at that line and column; every prefix the query uses must be "
        "declared with PREFIX (rdflib's usual ones and the Wikidata Query Service's need not)"
    )
    if rewritten:
        hint += (
            "; the WDQS services were rewritten first (their lines kept, the columns after them "
            "may differ): a variable the label or around service binds must not be bound "
            "elsewhere in its group"
        )
    return QuerySyntaxError(said, line=line, column=column, hint=hint)


_AT = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)


def _federated(
    dataset: Dataset,
    request: QueryRequest,
    limits: Limits,
    chosen: Format,
    graphs: Collection[str],
) -> Answer:
    """A query that calls an allow-listed SERVICE, run by rdflib over ``dataset`` with the
    guarded client; its answer written as TSV or N-Triples, then as the others are."""
    reading = fullread.read_fully(
        request.text, allow_service=limits.allow_service, graphs=graphs, base=request.base
    )
    query = reading.query
    query.algebra["datasetClause"] = None  # the dataset is ours to build, never rdflib's
    join_bgps_lazily(query.algebra)  # SERVICE as a bound join: the remote sees our items only
    # rdflib evaluates lazily, as the answer is read: it is written inside the guard, so that
    # every SERVICE call happens through the guarded client.
    with guarded_services(limits.allow_service, limits.deadline, limits.service_timeout):
        result: Mapping[str, Any] = evalQuery(dataset, query, base=request.base)
        written = write_evaluated(
            result, reading.form, chosen, limits.max_rows, names=reading.star_variables
        )
    return dataclasses.replace(written, called_out=True)


def write_evaluated(
    result: Mapping[str, Any],
    form: str,
    chosen: Format,
    max_rows: int,
    names: Iterable[str] | None = None,
) -> Answer:
    """An answer in rdflib's ``evalQuery`` shape (rdflib's own evaluation, or an external
    store's read back) written as TSV or N-Triples, then by Oxigraph like every other answer.
    ``names`` orders ``SELECT *``'s columns."""
    if form == "ASK":
        boolean = ox.parse_query_results(
            b'{"boolean":%s}' % (b"true" if result["askAnswer"] else b"false"),
            format=ox.QueryResultsFormat.JSON,
        )
        return write(boolean, chosen, max_rows)
    if form in ("CONSTRUCT", "DESCRIBE"):
        graph: Graph = result["graph"]
        lines = b"".join(oxi.triple_line(t) for t in graph)
        return _cut(lines, chosen, max_rows, header=False)
    columns = list(names) if names is not None else [str(v) for v in result.get("vars_") or ()]
    table = ["\t".join(f"?{n}" for n in columns)]
    for binding in result["bindings"]:
        # each term as N-Triples writes it (Oxigraph's): TSV cells may not hold a raw tab or line
        # break, and rdflib's n3() keeps a tab and writes a line break in a long """string"""
        table.append(
            "\t".join(
                str(oxi.to_ox(value)) if (value := binding.get(Variable(n))) is not None else ""
                for n in columns
            )
        )
    return _cut(("\n".join(table) + "\n").encode("utf-8"), chosen, max_rows, header=True)
