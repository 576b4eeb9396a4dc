"""Differential test: cdkg answers every query as the Oxigraph server does, on the same quads.

cdkg's one query path (:func:`cdkg.engine.evaluate.answer`) has pyoxigraph parse, evaluate and
write every query, behind the guard, the row cap, the dataset rules and the TSV/N-Triples round
trip. Here its answers are checked against an independent process, the Oxigraph server (``oxigraph
serve-read-only``, the same release), holding the very quads cdkg serves.

**The dataset.** :func:`cdkg.kg.served.served_dataset` (the shipped files plus the derived graphs)
with an extra file the test writes, ``edge.nq``: the named graph :data:`EDGE` of edge-case terms
(:data:`EDGE_VALUES`: INF, NaN, -0, time zones, durations, big doubles, ``\\r\\n``, tabs, quotes,
Persian text, language tags, ``from`` and ``SERVICE`` inside strings, odd IRIs, blank nodes) and a
second graph :data:`EDGE2` sharing some triples with it. It is dumped as N-Quads and loaded into
the Oxigraph server; ``cdkg serve`` loads it with ``--graph``. ``cdkg query`` has no ``--graph``
option: it gets the same dataset from ``--data data/*.ttl edge.nq``, since a quad file keeps its
own named graphs (:func:`cdkg.kg.graph.load_dataset`). A query names no dataset: both answer over
the union of the named graphs (the Oxigraph server is sent its ``union-default-graph`` parameter;
not its ``--union-default-graph`` option, which would override a query's FROM). The first queries of
:data:`CASES` count every graph's triples, so a dataset that differs fails there first.

**The queries** (:data:`CASES`): hand-written ones covering each form and feature (BGPs, OPTIONAL,
UNION, MINUS, EXISTS, aggregates with GROUP BY/HAVING, subqueries, VALUES inline and trailing,
BIND, every property path operator, GRAPH constant and variable, FROM / FROM NAMED, the protocol's
``default-graph-uri`` / ``named-graph-uri``, ASK, CONSTRUCT, DESCRIBE, ``SELECT *`` with variables
that must not become columns, literals and keywords hidden in strings and comments, zero-column and
all-unbound rows); two generated shapes per edge-case value (the value as a query constant: term
matching, its functions; and compared with every value of the graph: ``=``, ``!=``, ``<``,
``>=``, sameTerm); and every canned query (``queries/*.rq``, default parameters; sent to the
Oxigraph server with ``PREFIX`` lines for the prefixes cdkg predeclares).

**Where each runs.** Every query through a real ``cdkg serve`` in every format of its form (SPARQL
JSON, XML, CSV and TSV results; N-Triples and Turtle graphs), asked by ``Accept``. ``cdkg query
FILE.rq`` loads the graph for each run (about a second of CPU), so it runs in JSON (N-Triples for
graphs) for every canned query (the command line's own use, by name) and every hand-written query
but those about evaluation alone (:data:`EVALUATION_ONLY`: it evaluates with the same function as
the endpoint; what it does itself, build the dataset, read the query file, pick the writer, is
what the others exercise), for the ``value-`` queries of a few values (:data:`CLI_VALUES`), and in
every format for the queries in :data:`CLI_ALL_FORMATS`; never with the protocol's dataset, which
the command line cannot express. The runs start with the first test, one per core, at the lowest
CPU priority, beside the endpoint's tests.

**How answers are compared.** Each answer is parsed (pyoxigraph's parsers; CSV with :mod:`csv`,
since its terms cannot be read back) and compared with the Oxigraph server's answer in the same
format: result rows as multisets, in order where the query's outer ORDER BY sorts on projected
columns (runs of equal keys compared as multisets), blank nodes up to a consistent renaming, graphs
as isomorphic graphs. What the specifications leave open is listed in :data:`ALLOWED_DIFFERENCES`,
each with its section; every other difference fails. :func:`test_comparison_detects_differences`
checks that the comparison does fail on a changed literal, row, order or blank node.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from cdkg.canned.catalog import QUERIES_GRAPH
from cdkg.canned.registry import Registry
from cdkg.kg.graph import data_files
from cdkg.kg.served import served_dataset
from cdkg.kg.store import oxigraph_of
from cdkg.names import CDKG_GRAPH
from cdkg.resources import kg_dir
from cdkg.sparql.prefixes import with_prefixes
from cdkg_bench.ports import free_port
from endpoint_fixtures import LiveServer
from servers import DidNotStart, start_and_wait, stop

pytestmark = pytest.mark.slow

# --- what the specifications leave open --------------------------------------------------------

Q = "SPARQL 1.1 Query"
#: Every difference between two correct answers that the comparison tolerates, with the section
#: that allows it. Nothing else may differ.
ALLOWED_DIFFERENCES: dict[str, str] = {
    "serialisation": "the same answer has many byte forms (whitespace, key and attribute order, "
    "escapes, Turtle prefixes and abbreviations): SPARQL 1.1 Query Results JSON/CSV-TSV, SPARQL "
    "Query Results XML, N-Triples and Turtle; answers are compared after parsing",
    "row order": f"{Q} §15: a solution sequence is in no defined order unless ORDER BY orders it; "
    "rows are compared as multisets",
    "order of ties": f"{Q} §15.1 and §18.5 (OrderBy): solutions whose ORDER BY keys are equal, "
    "or not comparable, may come in any order; an ordered answer is compared as a sequence of runs "
    "of equal keys, each run a multiset",
    "rows a LIMIT cuts from a tie": f"{Q} §15.4-§15.5: OFFSET/LIMIT slice a sequence whose order "
    "within a run of equal keys is not defined; in the run the slice ends in, only the keys count",
    "blank node labels": f"{Q} §2.4: blank node labels are scoped to a result set (or to the "
    "result graph of CONSTRUCT and DESCRIBE); answers are compared up to a consistent renaming",
    "GROUP_CONCAT order": f"{Q} §18.5.1.7 GroupConcat: 'the order of the strings is not "
    "specified'; a GROUP_CONCAT column is compared with its parts (split at its separator) sorted",
    "SAMPLE choice": f"{Q} §18.5.1.8 Sample: 'returns an arbitrary value'; a SAMPLE column is "
    "compared by whether it is bound",
    "SELECT * column order": f"{Q} §16.1.1 and §18.2.1: SELECT * selects the variables in "
    "scope, in no order the specification gives; its columns are compared as a set",
    "REDUCED duplicates": f"{Q} §15.3.2: REDUCED 'simply permits' duplicates to be eliminated; "
    "a REDUCED answer is compared as a set",
    "ASK in CSV and TSV": "SPARQL 1.1 Query Results CSV and TSV Formats, abstract and §1: the "
    "formats are defined for SELECT results only; an ASK answer may be the bare word (Oxigraph) "
    "or a one-column table holding it (Jena, RDF4J, cdkg); compared as the boolean",
}
#: What the specifications would allow but cdkg is *not* allowed here: it claims Oxigraph's own
#: evaluation on the same quads, so these must be equal too.
NOT_RELAXED: dict[str, str] = {
    "DESCRIBE": f"{Q} §16.4.3: 'the RDF returned is determined by the information publisher'; "
    "cdkg's description is Oxigraph's, so it must be isomorphic to the Oxigraph server's",
    "columns of an explicit projection": f"{Q} §16.1.1: in the order the SELECT clause gives",
}

# --- the edge-case graph -----------------------------------------------------------------------

EX = "https://example.org/edge#"
#: The edge-case graph, and a second graph sharing some of its triples.
EDGE = "https://example.org/graph/edge"
EDGE2 = "https://example.org/graph/edge2"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
CDKG = "https://w3id.org/cdkg/ontology#"
#: Two of cdkg's own graphs: the data, and the canned queries as RDF.
CDKG_G = str(CDKG_GRAPH)
QUERIES_G = str(QUERIES_GRAPH)


def _lit(value: str, datatype: str | None = None, language: str | None = None) -> ox.Literal:
    if language is not None:
        return ox.Literal(value, language=language)
    if datatype is not None:
        return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))
    return ox.Literal(value)


#: The edge-case values, each the ``ex:value`` of ``ex:NAME`` in :data:`EDGE`.
EDGE_VALUES: list[tuple[str, ox.Literal | ox.NamedNode]] = [
    ("double-inf", _lit("INF", "double")),
    ("double-neg-inf", _lit("-INF", "double")),
    ("double-nan", _lit("NaN", "double")),
    ("double-neg-zero", _lit("-0", "double")),
    ("double-zero", _lit("0.0E0", "double")),
    ("double-big", _lit("10000000000", "double")),
    ("double-big-exp", _lit("1E10", "double")),
    ("double-small", _lit("1.5e-7", "double")),
    ("float-inf", _lit("INF", "float")),
    ("float-neg-zero", _lit("-0", "float")),
    ("decimal-neg-zero", _lit("-0.0", "decimal")),
    ("decimal-trailing-zero", _lit("1.50", "decimal")),
    ("integer-leading-zeros", _lit("007", "integer")),
    ("integer-neg-zero", _lit("-0", "integer")),
    ("integer-plus", _lit("+1", "integer")),
    ("integer-huge", _lit("12345678901234567890", "integer")),
    ("integer-ill-typed", _lit("abc", "integer")),
    ("boolean-one", _lit("1", "boolean")),
    ("boolean-true", _lit("true", "boolean")),
    ("date-utc", _lit("2020-01-01Z", "date")),
    ("date-local", _lit("2020-01-01", "date")),
    ("date-tehran", _lit("2020-01-01+03:30", "date")),
    ("datetime-utc", _lit("2020-01-01T00:00:00Z", "dateTime")),
    ("datetime-tehran", _lit("2020-01-01T03:30:00+03:30", "dateTime")),
    ("datetime-local", _lit("2020-01-01T00:00:00", "dateTime")),
    ("datetime-fraction", _lit("2020-01-01T00:00:00.500Z", "dateTime")),
    ("datetime-24h", _lit("2019-12-31T24:00:00Z", "dateTime")),
    ("time-utc", _lit("12:00:00Z", "time")),
    ("gyear", _lit("1397", "gYear")),
    ("duration-zero", _lit("PT0S", "duration")),
    ("duration-year-month", _lit("P1Y2M", "duration")),
    ("duration-negative", _lit("-P1DT2H", "duration")),
    ("day-time-duration", _lit("P1DT2H", "dayTimeDuration")),
    ("day-time-duration-zero", _lit("PT0S", "dayTimeDuration")),
    ("year-month-duration", _lit("P1Y2M", "yearMonthDuration")),
    ("string-crlf", _lit("line one\r\nline two")),
    ("string-tab", _lit("tab\there")),
    ("string-quotes", _lit("say \"hi\" and 'bye'")),
    ("string-backslash", _lit("back\\slash")),
    ("string-persian", _lit("تهران")),
    ("string-zwnj", _lit("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")),  # with a ZWNJ
    ("string-astral", _lit("\U0001f600 astral")),
    ("string-from", _lit("from")),
    ("string-service", _lit("SERVICE <http://example.org/sparql> { ?s ?p ?o }")),
    ("string-hash", _lit("# not a comment")),
    ("string-empty", _lit("")),
    ("string-padded", _lit("  padded  ")),
    ("string-csv", _lit('a,"b";c')),
    ("string-numeric", _lit("42")),
    ("string-bnode-like", _lit("_:notablank")),
    ("string-iri-like", _lit("<http://not.an/iri>")),
    ("string-typed", _lit("typed", "string")),
    ("lang-fa", _lit("تهران", language="fa")),
    ("lang-en", _lit("Tehran", language="en")),
    ("lang-en-us", _lit("Tehran", language="en-US")),
    ("custom-datatype", ox.Literal("x", datatype=ox.NamedNode(EX + "custom"))),
    ("iri-percent", ox.NamedNode(EX + "a%20b")),
    ("iri-unicode", ox.NamedNode("https://example.org/édge/تهران")),
    ("iri-query", ox.NamedNode("https://example.org/edge?q=1&r=%22x%22#frag")),
]


def edge_quads() -> list[ox.Quad]:
    """The quads of :data:`EDGE` and :data:`EDGE2`."""
    edge, edge2 = ox.NamedNode(EDGE), ox.NamedNode(EDGE2)

    def iri(local: str) -> ox.NamedNode:
        return ox.NamedNode(EX + local)

    def integer(n: int) -> ox.Literal:
        return _lit(str(n), "integer")

    a = ox.NamedNode(RDF + "type")
    quads: list[ox.Quad] = []
    for rank, (name, value) in enumerate(EDGE_VALUES):
        node = iri(name)
        quads += [
            ox.Quad(node, a, iri("Edge"), edge),
            ox.Quad(node, iri("value"), value, edge),
            ox.Quad(node, iri("rank"), integer(rank), edge),
        ]
    # blank nodes: a holder, a two-node cycle, an RDF list
    b1, b2 = ox.BlankNode("b1"), ox.BlankNode("b2")
    quads += [
        ox.Quad(iri("bnode-holder"), iri("value"), b1, edge),
        ox.Quad(b1, iri("value"), _lit("in a blank node"), edge),
        ox.Quad(b1, iri("link"), b2, edge),
        ox.Quad(b2, iri("link"), b1, edge),
        ox.Quad(b2, iri("value"), _lit("second blank", language="en"), edge),
    ]
    cells = [ox.BlankNode(f"l{i}") for i in range(3)]
    quads.append(ox.Quad(iri("list-holder"), iri("list"), cells[0], edge))
    for i, cell in enumerate(cells):
        rest = cells[i + 1] if i + 1 < len(cells) else ox.NamedNode(RDF + "nil")
        quads += [
            ox.Quad(cell, ox.NamedNode(RDF + "first"), integer(i + 1), edge),
            ox.Quad(cell, ox.NamedNode(RDF + "rest"), rest, edge),
        ]
    # property paths: a cycle a -> b -> c -> a, a branch c -alt-> d, a self-loop on d
    for s, p, o in [("a", "next", "b"), ("b", "next", "c"), ("c", "next", "a")]:
        quads.append(ox.Quad(iri(s), iri(p), iri(o), edge))
    quads += [
        ox.Quad(iri("c"), iri("alt"), iri("d"), edge),
        ox.Quad(iri("d"), iri("next"), iri("d"), edge),
    ]
    # aggregates: numbers of mixed types, and groups that SUM to an error, to NaN, to INF
    amounts = [
        ("m1", "g1", integer(1)),
        ("m2", "g1", _lit("2.5", "decimal")),
        ("m3", "g1", _lit("3.0E0", "double")),
        ("m4", "g2", _lit("4", "float")),
        ("m5", "g2", _lit("not a number")),
        ("m6", "g3", _lit("INF", "double")),
        ("m7", "g3", _lit("-INF", "double")),
        ("m8", "g4", _lit("NaN", "double")),
        ("m9", "g4", integer(9)),
    ]
    for name, group, amount in amounts:
        quads += [
            ox.Quad(iri(name), iri("group"), _lit(group), edge),
            ox.Quad(iri(name), iri("amount"), amount, edge),
        ]
    # EDGE2: two triples also in EDGE, and one of its own. SPARQL 1.1 Query §13.2.1 makes a
    # default graph of several graphs their RDF merge, a set of triples; Oxigraph, and so cdkg,
    # match a shared triple once per graph holding it, in the union default graph as with FROM
    # EDGE FROM EDGE2 (graph-union-set, from-two-graphs). Both agree, which is all this test
    # judges; the shipped graphs share no triple.
    quads += [
        ox.Quad(iri("a"), iri("next"), iri("b"), edge2),
        ox.Quad(iri("double-inf"), iri("value"), _lit("INF", "double"), edge2),
        ox.Quad(iri("only-in-2"), iri("value"), _lit("only in edge2"), edge2),
    ]
    return quads


# --- the queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A query, the form of its answer, and how the protocol names its dataset."""

    name: str
    text: str
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    default_graphs: tuple[str, ...] = ()  # the protocol's default-graph-uri
    named_graphs: tuple[str, ...] = ()  # the protocol's named-graph-uri
    canned: str | None = None  # the canned query's name (`cdkg query NAME`)
    #: ``None``: ordered as the outer ORDER BY says (:func:`order_keys`); ``()``: a multiset
    order: tuple[str, ...] | None = None

    @property
    def protocol_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)

    @property
    def dataset_clause(self) -> bool:
        """Whether the query has FROM or FROM NAMED (written at the start of a line)."""
        return bool(re.search(r"^\s*FROM\b", self.text, re.MULTILINE | re.IGNORECASE))


#: The prefixes of the generated queries, all declared (the Oxigraph server predeclares none).
HEAD = f"""\
PREFIX cdkg: <{CDKG}>
PREFIX city: <https://w3id.org/cdkg/id/city/>
PREFIX id: <https://w3id.org/cdkg/id/>
PREFIX ex: <{EX}>
PREFIX rdf: <{RDF}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX pos: <http://www.w3.org/2003/01/geo/wgs84_pos#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX xsd: <{XSD}>
"""


def _q(name: str, body: str, form: str = "SELECT", **options: object) -> Case:
    return Case(name, HEAD + body, form, **options)  # type: ignore[arg-type]


HAND_WRITTEN: list[Case] = [
    # the dataset itself: every graph and its size (a different dataset fails here first)
    _q(
        "graphs",
        "SELECT ?g (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    ),
    _q("union-size", "SELECT (COUNT(*) AS ?triples) WHERE { ?s ?p ?o }"),
    _q(
        "union-distinct-size",
        "SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) "
        "WHERE { ?s ?p ?o }",
    ),
    # basic graph patterns
    _q(
        "bgp-iranian-cities",
        """SELECT ?city ?label WHERE {
  ?city a cdkg:IranianCity ; rdfs:label ?label .
  FILTER (lang(?label) = "en")
} ORDER BY ?label ?city""",
    ),
    _q(
        "bgp-ties",
        """SELECT ?tie ?city ?partner ?country WHERE {
  ?tie a cdkg:SisterCityTie ; cdkg:iranianCity ?city ; cdkg:partnerCity ?partner .
  ?partner cdkg:country ?country .
}""",
    ),
    _q(
        "bgp-tehran",
        "SELECT ?p ?o WHERE { city:tehran ?p ?o } ORDER BY ?p ?o",
    ),
    _q(
        "bgp-escaped-local-name",
        r"SELECT ?label WHERE { id:city\/tehran rdfs:label ?label }",
    ),
    # OPTIONAL
    _q(
        "optional",
        """SELECT ?tie ?year WHERE {
  ?tie a cdkg:SisterCityTie .
  OPTIONAL { ?tie cdkg:startYear ?year }
} ORDER BY ?tie""",
    ),
    _q(
        "optional-filter-outer-variable",
        """SELECT ?city ?label WHERE {
  ?city a cdkg:IranianCity .
  OPTIONAL { ?city rdfs:label ?label FILTER (lang(?label) = "fa" && STRLEN(?label) > 4) }
}""",
    ),
    _q(
        "optional-nested",
        """SELECT ?tie ?partner ?country ?wikidata WHERE {
  ?tie a cdkg:CooperationMoU ; cdkg:partnerCity ?partner .
  OPTIONAL { ?partner cdkg:country ?country OPTIONAL { ?country skos:exactMatch ?wikidata } }
}""",
    ),
    # UNION
    _q(
        "union",
        """SELECT ?tie ?kind WHERE {
  { ?tie a cdkg:SisterCityTie BIND ("sister" AS ?kind) }
  UNION
  { ?tie a cdkg:CooperationMoU BIND ("mou" AS ?kind) }
}""",
    ),
    _q(
        "union-unbalanced",
        """SELECT ?x ?label ?lat WHERE {
  { ?x a cdkg:Region ; rdfs:label ?label } UNION { ?x a cdkg:IranianCity ; pos:lat ?lat }
}""",
    ),
    # MINUS, EXISTS, NOT EXISTS
    _q(
        "minus",
        """SELECT ?city WHERE {
  ?city a cdkg:IranianCity MINUS { ?tie cdkg:iranianCity ?city ; a cdkg:SisterCityTie }
}""",
    ),
    _q(
        "minus-disjoint-variables",
        "SELECT ?city WHERE { ?city a cdkg:IranianCity MINUS { ?x a cdkg:Network } }",
    ),
    _q(
        "exists",
        """SELECT ?city WHERE {
  ?city a cdkg:IranianCity FILTER EXISTS { ?tie cdkg:iranianCity ?city ; cdkg:startYear ?y }
}""",
    ),
    _q(
        "not-exists",
        """SELECT ?partner WHERE {
  ?tie cdkg:partnerCity ?partner FILTER NOT EXISTS { ?partner skos:exactMatch ?w }
}""",
    ),
    # aggregates
    _q(
        "aggregates-group-having",
        """SELECT ?city (COUNT(?tie) AS ?ties) (COUNT(DISTINCT ?partner) AS ?partners)
       (MIN(?year) AS ?first) (MAX(?year) AS ?last) WHERE {
  ?tie cdkg:iranianCity ?city ; cdkg:partnerCity ?partner .
  OPTIONAL { ?tie cdkg:startYear ?year }
} GROUP BY ?city HAVING (COUNT(?tie) > 2) ORDER BY DESC(?ties) ?city""",
    ),
    _q(
        "aggregates-sum-avg",
        """SELECT ?country (SUM(?lat) AS ?sum) (AVG(?lat) AS ?avg) (COUNT(*) AS ?n)
       (MIN(?long) AS ?west) (MAX(?long) AS ?east) WHERE {
  ?c cdkg:country ?country ; pos:lat ?lat ; pos:long ?long .
} GROUP BY ?country ORDER BY ?country""",
    ),
    _q(
        "aggregates-mixed-types",
        """SELECT ?group (SUM(?amount) AS ?sum) (AVG(?amount) AS ?avg) (MIN(?amount) AS ?min)
       (MAX(?amount) AS ?max) (COUNT(?amount) AS ?n) WHERE {
  ?m ex:group ?group ; ex:amount ?amount .
} GROUP BY ?group ORDER BY ?group""",
    ),
    _q(
        "aggregates-group-concat",
        """SELECT ?city (GROUP_CONCAT(?label; SEPARATOR=" | ") AS ?partners)
       (GROUP_CONCAT(DISTINCT ?year) AS ?years) WHERE {
  ?tie cdkg:iranianCity ?city ; cdkg:partnerCity ?p .
  ?p rdfs:label ?label FILTER (lang(?label) = "en")
  OPTIONAL { ?tie cdkg:startYear ?year }
} GROUP BY ?city ORDER BY ?city""",
    ),
    _q(
        "aggregates-sample",
        """SELECT ?country (SAMPLE(?city) AS ?one) (COUNT(?city) AS ?cities) WHERE {
  ?city a cdkg:ForeignCity ; cdkg:country ?country .
} GROUP BY ?country ORDER BY ?country""",
    ),
    _q(
        "aggregates-empty-group",
        """SELECT (COUNT(*) AS ?n) (SUM(?x) AS ?sum) (AVG(?x) AS ?avg) (MIN(?x) AS ?min)
       (GROUP_CONCAT(?x) AS ?all) WHERE { ?x a cdkg:NoSuchClass }""",
    ),
    _q(
        "aggregates-group-by-expression",
        """SELECT ?decade (COUNT(*) AS ?ties) WHERE {
  ?tie cdkg:startYear ?year .
} GROUP BY (FLOOR(xsd:integer(STR(?year)) / 10) * 10 AS ?decade) ORDER BY ?decade""",
    ),
    # subqueries
    _q(
        "subquery",
        """SELECT ?city ?label ?ties WHERE {
  { SELECT ?city (COUNT(*) AS ?ties) WHERE { ?t cdkg:iranianCity ?city } GROUP BY ?city }
  ?city rdfs:label ?label FILTER (lang(?label) = "fa")
} ORDER BY DESC(?ties) ?city""",
    ),
    _q(
        "subquery-limit",
        """SELECT ?city ?ties WHERE {
  { SELECT ?city (COUNT(*) AS ?ties) WHERE { ?t cdkg:iranianCity ?city }
    GROUP BY ?city ORDER BY DESC(?ties) ?city LIMIT 5 }
}""",
    ),
    # VALUES
    _q(
        "values-inline",
        """SELECT ?city ?label WHERE {
  VALUES ?city { city:tehran city:isfahan <https://w3id.org/cdkg/id/city/shiraz> }
  ?city rdfs:label ?label
}""",
    ),
    _q(
        "values-trailing-undef",
        """SELECT ?city ?label ?n WHERE {
  ?city rdfs:label ?label FILTER (lang(?label) = "en")
} VALUES (?city ?n) { (city:tehran UNDEF) (city:isfahan 1) (UNDEF 2) }""",
    ),
    # BIND and expressions
    _q(
        "bind",
        """SELECT ?tie ?label ?length ?recent WHERE {
  ?tie cdkg:iranianCity ?c ; cdkg:partnerCity ?p .
  ?c rdfs:label ?cl FILTER (lang(?cl) = "en")
  ?p rdfs:label ?pl FILTER (lang(?pl) = "en")
  OPTIONAL { ?tie cdkg:startYear ?year }
  BIND (CONCAT(?cl, " \u2013 ", ?pl) AS ?label)
  BIND (STRLEN(?label) AS ?length)
  BIND (IF(BOUND(?year), xsd:integer(STR(?year)) >= 2010, "unknown") AS ?recent)
}""",
    ),
    _q(
        "expressions-numbers",
        """SELECT * WHERE {
  BIND (1E10 AS ?d) BIND (10000000000e0 AS ?d2) BIND (-0.0 AS ?negdec) BIND (-0.0e0 AS ?negdouble)
  BIND (+1 AS ?plus) BIND (.5 AS ?half) BIND (1e308 * 10 AS ?overflow) BIND (0e0 / 0e0 AS ?nan)
  BIND (1 / 0 AS ?error) BIND (-"INF"^^xsd:double AS ?neginf) BIND (xsd:float("1e40") AS ?finf)
  BIND ("NaN"^^xsd:double = "NaN"^^xsd:double AS ?naneq)
  BIND (sameTerm("NaN"^^xsd:double, "NaN"^^xsd:double) AS ?nansame)
  BIND (-0e0 = 0e0 AS ?zeroeq) BIND (sameTerm(-0e0, 0e0) AS ?zerosame)
  BIND (xsd:integer("007") AS ?cast) BIND (xsd:double("1e400") AS ?castinf)
  BIND (STR(1.0e10) AS ?str) BIND (ROUND(-0.5) AS ?round) BIND (ABS(-0.0e0) AS ?abs)
  BIND (9223372036854775807 + 1 AS ?i64)
}""",
    ),
    _q(
        "expressions-dates",
        """SELECT * WHERE {
  BIND ("2020-01-01T03:30:00+03:30"^^xsd:dateTime = "2020-01-01T00:00:00Z"^^xsd:dateTime
        AS ?sameinstant)
  BIND ("2020-01-01T00:00:00"^^xsd:dateTime = "2020-01-01T00:00:00Z"^^xsd:dateTime
        AS ?indeterminate)
  BIND (TZ("2020-01-01T03:30:00+03:30"^^xsd:dateTime) AS ?tz)
  BIND (TIMEZONE("2020-01-01T03:30:00+03:30"^^xsd:dateTime) AS ?timezone)
  BIND (TIMEZONE("2020-01-01T00:00:00"^^xsd:dateTime) AS ?notimezone)
  BIND (HOURS("2020-01-01T03:30:00+03:30"^^xsd:dateTime) AS ?hours)
  BIND (SECONDS("2020-01-01T00:00:00.500Z"^^xsd:dateTime) AS ?seconds)
  BIND ("2020-01-01T00:00:00Z"^^xsd:dateTime - "2019-01-01T00:00:00Z"^^xsd:dateTime AS ?diff)
  BIND ("2020-01-01Z"^^xsd:date < "2020-01-02+03:30"^^xsd:date AS ?dateless)
  BIND (YEAR("2019-12-31T24:00:00Z"^^xsd:dateTime) AS ?year24)
  BIND ("P1Y2M"^^xsd:duration = "P14M"^^xsd:yearMonthDuration AS ?months)
  BIND ("PT0S"^^xsd:duration = "P0D"^^xsd:dayTimeDuration AS ?zero)
  BIND ("P1DT2H"^^xsd:dayTimeDuration > "PT25H"^^xsd:dayTimeDuration AS ?longer)
  BIND (STR("PT0S"^^xsd:dayTimeDuration) AS ?durstr)
  BIND (xsd:dayTimeDuration("PT36H") AS ?cast)
  BIND (DATATYPE(NOW()) AS ?nowtype)
}""",
    ),
    _q(
        "expressions-strings",
        """SELECT * WHERE {
  BIND (STRLEN("تهران") AS ?len) BIND (UCASE("straße") AS ?upper)
  BIND (SUBSTR("\U0001f600abc", 2, 2) AS ?sub) BIND (STRLEN("\U0001f600") AS ?astral)
  BIND (ENCODE_FOR_URI("تهران a/b") AS ?encoded) BIND (CONCAT("a\\r\\n", "b\\t", 'c"') AS ?concat)
  BIND (REPLACE("a.b.c", ".", "-", "q") AS ?replaced) BIND (STRLANG("x", "EN-us") AS ?tagged)
  BIND (LANGMATCHES(LANG("x"@en-US), "en") AS ?matches) BIND (MD5("تهران") AS ?md5)
  BIND (SHA256("line one\\r\\nline two") AS ?sha) BIND (REGEX("ABC", "b", "i") AS ?regex)
  BIND (STRBEFORE("from:here", ":") AS ?before) BIND (STRAFTER("x"@fa, "") AS ?after)
  BIND ("\\u0041\\U0001F600" AS ?escapes) BIND ('''multi
line "quoted" # not a comment''' AS ?long)
  BIND (isBlank(BNODE()) AS ?blank) BIND (STRLEN(STRUUID()) AS ?uuidlen)
}""",
    ),
    # property paths
    _q(
        "path-sequence",
        "SELECT ?tie ?country WHERE { ?tie cdkg:partnerCity/cdkg:country ?country }",
    ),
    _q(
        "path-alternative",
        "SELECT ?x ?label WHERE { city:tehran (rdfs:label|skos:exactMatch) ?x "
        "BIND (STR(?x) AS ?label) }",
    ),
    _q(
        "path-inverse",
        "SELECT ?city ?tie WHERE { city:tehran ^cdkg:iranianCity ?tie . "
        "?tie cdkg:iranianCity ?city }",
    ),
    _q(
        "path-zero-or-more",
        "SELECT ?class ?super WHERE { ?class rdfs:subClassOf* ?super FILTER isIRI(?class) }",
    ),
    _q("path-one-or-more", "SELECT ?class ?super WHERE { ?class rdfs:subClassOf+ ?super }"),
    _q(
        "path-zero-or-one",
        "SELECT ?class ?super WHERE { ?class a owl:Class ; rdfs:subClassOf? ?super }",
    ),
    _q(
        "path-negated",
        "SELECT ?p ?o WHERE { city:tehran !(rdf:type|rdfs:label|prov:wasDerivedFrom) ?o . "
        "city:tehran ?p ?o }",
    ),
    _q("path-cycle-plus", "SELECT ?x WHERE { ex:a ex:next+ ?x }"),
    _q("path-cycle-star", "SELECT ?x ?y WHERE { ?x (ex:next/ex:next)* ?y FILTER (?x = ex:b) }"),
    _q("path-both-ends-free", "SELECT ?x ?y WHERE { ?x ex:next*/ex:alt ?y }"),
    _q("path-list", "SELECT ?item WHERE { ex:list-holder ex:list/rdf:rest*/rdf:first ?item }"),
    _q("path-blank-cycle", "SELECT ?x ?y WHERE { ?x ex:link+ ?y }"),
    # GRAPH
    _q(
        "graph-constant",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{CDKG_G}> {{ ?s ?p ?o }} }}",
    ),
    _q(
        "graph-variable",
        "SELECT ?g ?s WHERE { GRAPH ?g { ?s ex:value ?o } FILTER (?g != <https://none>) }",
    ),
    _q(
        "graph-variable-values",
        f"""SELECT ?g ?s WHERE {{
  VALUES ?g {{ <{EDGE}> <{EDGE2}> <https://example.org/graph/none> }}
  GRAPH ?g {{ ?s ex:next ?o }}
}}""",
    ),
    _q(
        "graph-shared-triple",
        "SELECT ?g WHERE { GRAPH ?g { ex:double-inf ex:value ?v } }",
    ),
    _q("graph-union-set", "SELECT ?o WHERE { ex:a ex:next ?o }"),
    # FROM and FROM NAMED (the dataset clause starts a line: Case.dataset_clause)
    _q(
        "from",
        f"SELECT (COUNT(*) AS ?n)\nFROM <{CDKG_G}>\nWHERE {{ ?s ?p ?o }}",
    ),
    _q(
        "from-two-graphs",
        f"SELECT ?s ?p ?o\nFROM <{EDGE}>\nFROM <{EDGE2}>\n"
        "WHERE { ?s ?p ?o FILTER (?p = ex:next) }",
    ),
    _q(
        "from-named",
        f"SELECT ?g ?s\nFROM NAMED <{EDGE2}>\nWHERE {{ GRAPH ?g {{ ?s ex:value ?o }} }}",
    ),
    _q(
        "from-named-only-default-empty",
        f"SELECT (COUNT(*) AS ?n)\nFROM NAMED <{EDGE}>\nWHERE {{ ?s ?p ?o }}",
    ),
    _q(
        "from-and-from-named",
        f"""SELECT ?g ?label ?s
FROM <{QUERIES_G}>
FROM NAMED <{EDGE}>
WHERE {{
  {{ ?q rdfs:label ?label FILTER (lang(?label) = "en") }}
  UNION {{ GRAPH ?g {{ ?s ex:next ?o }} }}
}}""",
    ),
    # the protocol's dataset (SPARQL 1.1 Protocol §2.1.4)
    _q("protocol-default", "SELECT ?s ?o WHERE { ?s ex:value ?o }", default_graphs=(EDGE2,)),
    _q(
        "protocol-named",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
        named_graphs=(EDGE, EDGE2),
    ),
    _q(
        "protocol-both",
        "SELECT ?g ?s WHERE { { ?s ex:next ?o } UNION { GRAPH ?g { ?s ex:value ?o } } }",
        default_graphs=(EDGE, EDGE2),
        named_graphs=(EDGE2,),
    ),
    _q(
        "protocol-overrides-from",
        f"SELECT (COUNT(*) AS ?n)\nFROM <{CDKG_G}>\nWHERE {{ ?s ?p ?o }}",
        default_graphs=(EDGE2,),
    ),
    _q(
        "protocol-unknown-graph",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        default_graphs=("https://example.org/graph/none",),
    ),
    # ASK
    _q("ask-true", "ASK { city:tehran a cdkg:IranianCity }", "ASK"),
    _q("ask-false", "ASK { city:tehran a cdkg:ForeignCity }", "ASK"),
    _q("ask-literal", 'ASK { ?s ex:value "INF"^^xsd:double }', "ASK"),
    _q("ask-from", f"ASK\nFROM <{EDGE2}>\nWHERE {{ city:tehran ?p ?o }}", "ASK"),
    _q("ask-protocol", "ASK { ?s ex:value ?o }", "ASK", named_graphs=(EDGE,)),
    # CONSTRUCT
    _q(
        "construct",
        "CONSTRUCT { ?city rdfs:label ?l } WHERE { ?city a cdkg:IranianCity ; rdfs:label ?l }",
        "CONSTRUCT",
    ),
    _q(
        "construct-template-blank-nodes",
        """CONSTRUCT { ?tie ex:pair [ ex:from ?c ; ex:to ?p ] . _:x ex:seen ?tie }
WHERE { ?tie a cdkg:CooperationMoU ; cdkg:iranianCity ?c ; cdkg:partnerCity ?p }""",
        "CONSTRUCT",
    ),
    _q(
        "construct-where",
        "CONSTRUCT WHERE { ?s ex:link ?o . ?o ex:value ?v }",
        "CONSTRUCT",
    ),
    _q(
        "construct-edge-graph",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{EDGE}> {{ ?s ?p ?o }} }}",
        "CONSTRUCT",
    ),
    _q(
        "construct-order-limit",
        """CONSTRUCT { ?tie ex:rank ?ordinal } WHERE { ?tie cdkg:ordinal ?ordinal }
ORDER BY ?ordinal ?tie LIMIT 10""",
        "CONSTRUCT",
    ),
    _q(
        "construct-protocol",
        "CONSTRUCT WHERE { ?s ex:value ?o }",
        "CONSTRUCT",
        default_graphs=(EDGE2,),
    ),
    # DESCRIBE
    _q("describe-iri", "DESCRIBE city:tehran", "DESCRIBE"),
    _q("describe-variable", "DESCRIBE ?x WHERE { ?x ex:list ?l }", "DESCRIBE"),
    _q("describe-blank-nodes", "DESCRIBE ex:bnode-holder ?b WHERE { ?b ex:link ?c }", "DESCRIBE"),
    _q(
        "describe-star",
        "DESCRIBE * WHERE { ?tie cdkg:iranianCity city:tabriz ; cdkg:partnerCity ?p }",
        "DESCRIBE",
    ),
    # SELECT *: which variables become columns (SPARQL 1.1 Query §18.2.1)
    Case("star-bind-values", 'SELECT * WHERE { BIND(1 AS ?a) } VALUES ?v { "from" }', "SELECT"),
    _q(
        "star-filter-only-variable",
        "SELECT * WHERE { ?city a cdkg:IranianCity FILTER (!BOUND(?hidden)) }",
    ),
    _q(
        "star-minus-right-variable",
        """SELECT * WHERE {
  ?city a cdkg:IranianCity MINUS { ?t cdkg:iranianCity ?city ; cdkg:partnerCity ?rightonly }
}""",
    ),
    _q(
        "star-exists-variable",
        """SELECT * WHERE {
  ?city a cdkg:IranianCity FILTER EXISTS { ?t cdkg:iranianCity ?city ; cdkg:startYear ?inside }
}""",
    ),
    _q(
        "star-subquery-projection",
        """SELECT * WHERE {
  { SELECT ?city WHERE { ?city a cdkg:IranianCity ; rdfs:label ?unprojected } }
}""",
    ),
    _q(
        "star-graph-optional",
        f"SELECT * WHERE {{ GRAPH <{EDGE}> {{ ?s ex:link ?o OPTIONAL {{ ?o ex:value ?v }} }} }}",
    ),
    # zero columns, unbound columns, empty answers
    Case("zero-columns-one-row", "SELECT * WHERE { }", "SELECT"),
    Case("zero-columns-no-row", "SELECT * WHERE { FILTER (false) }", "SELECT"),
    Case("one-unbound-row", "SELECT ?x WHERE { }", "SELECT"),
    Case("unbound-rows", "SELECT ?x WHERE { VALUES ?y { 1 2 3 } }", "SELECT"),
    Case("no-rows", "SELECT ?x ?y WHERE { FILTER (false) }", "SELECT"),
    # keywords and comment markers inside strings, IRIs, comments and names
    _q(
        "keywords-in-strings",
        """# FROM <https://example.org/not-a-graph> SERVICE <http://example.org/sparql> { }
SELECT ?x ?y ?z WHERE {  # it's { unbalanced " in a comment
  BIND ("from" AS ?x)
  BIND ("SERVICE <http://example.org/sparql> { ?s ?p ?o }" AS ?y)
  BIND ('''FROM <http://evil.example/> \"\"\"SERVICE\"\"\" # }''' AS ?z)
}""",
    ),
    _q("keyword-literals-match", 'SELECT ?s WHERE { ?s ex:value "from" }'),
    _q(
        "keyword-variables-and-prefix",
        """PREFIX from: <https://example.org/from#>
PREFIX service: <https://example.org/service#>
SELECT ?from ?service ?named WHERE {
  BIND (from:x AS ?from) BIND (service:y AS ?service) BIND ("named" AS ?named)
}""",
    ),
    _q(
        "keyword-iri",
        "SELECT ?x WHERE { BIND (<https://example.org/FROM/SERVICE#from> AS ?x) }",
    ),
    # ordering across kinds of terms (§15.1: unbound < blank < IRI < literal; the rest open)
    _q(
        "order-across-kinds",
        "SELECT ?s ?v WHERE { ?s ex:value ?v } ORDER BY ?v ?s",
        order=(),  # literals of different datatypes have no order between them
    ),
    _q(
        "order-numbers",
        """SELECT ?s ?v WHERE { ?s ex:value ?v FILTER (isNumeric(?v) && ?v = ?v) }
ORDER BY DESC(?v) ?s""",
    ),
    _q(
        "order-rank",
        "SELECT ?s ?v WHERE { ?s ex:rank ?rank ; ex:value ?v } ORDER BY ?rank",
    ),
    _q(
        "distinct-offset-limit",
        """SELECT DISTINCT ?country WHERE { ?c cdkg:country ?country }
ORDER BY ?country OFFSET 3 LIMIT 7""",
    ),
    _q("reduced", "SELECT REDUCED ?country WHERE { ?c cdkg:country ?country }"),
]


def _term(value: ox.Literal | ox.NamedNode) -> str:
    """``value`` as a SPARQL term: its N-Triples form, which SPARQL reads as the same term."""
    return str(value)


def value_cases() -> list[Case]:
    """Two queries per edge-case value: the value as a constant of the query (term matching,
    value equality, its functions), and compared with every value of the graph."""
    cases = []
    for name, value in EDGE_VALUES:
        term = _term(value)
        cases.append(
            _q(
                f"value-{name}",
                f"""SELECT ?v ?match ?equal ?str ?datatype ?lang ?numeric WHERE {{
  VALUES ?v {{ {term} }}
  OPTIONAL {{ ?match ex:value ?v }}
  OPTIONAL {{ ?equal ex:value ?w FILTER (?w = ?v && !sameTerm(?w, ?v)) }}
  BIND (STR(?v) AS ?str) BIND (DATATYPE(?v) AS ?datatype) BIND (LANG(?v) AS ?lang)
  BIND (isNumeric(?v) AS ?numeric)
}}""",
            )
        )
        cases.append(
            _q(
                f"compare-{name}",
                f"""SELECT ?s ?eq ?ne ?lt ?ge ?same WHERE {{
  ?s ex:value ?o .
  BIND (?o = {term} AS ?eq) BIND (?o != {term} AS ?ne) BIND (?o < {term} AS ?lt)
  BIND (?o >= {term} AS ?ge) BIND (sameTerm(?o, {term}) AS ?same)
}}""",
            )
        )
    return cases


def canned_cases() -> list[Case]:
    """Every canned query, with its default parameters."""
    registry = Registry.load(kg_dir("queries"))
    return [
        Case(f"canned-{name}", registry.bind(name, {}), registry.get(name).form, canned=name)
        for name in registry.names()
    ]


CASES: list[Case] = [*HAND_WRITTEN, *value_cases(), *canned_cases()]

#: Short names of the formats, by form; each is the format's media type and, for results, the
#: pyoxigraph parser (``None``: CSV, read with :mod:`csv`).
RESULT_FORMATS: dict[str, tuple[str, ox.QueryResultsFormat | None]] = {
    "json": ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    "xml": ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    "csv": ("text/csv", None),
    "tsv": ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
}
GRAPH_FORMATS: dict[str, tuple[str, ox.RdfFormat]] = {
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE),
}


def formats_of(case: Case) -> list[str]:
    return list(GRAPH_FORMATS if case.form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS)


#: The values whose ``value-`` query also runs through ``cdkg query``.
CLI_VALUES = frozenset(
    {"double-inf", "double-nan", "double-neg-zero", "string-crlf", "string-persian"}
    | {"string-service"}
)
#: The queries ``cdkg query`` runs in every format (each run loads the graph: a subset).
CLI_ALL_FORMATS = frozenset(
    {"graphs", "expressions-strings", "keywords-in-strings", "star-bind-values"}
    | {"unbound-rows", "zero-columns-one-row", "ask-true", "construct-edge-graph"}
    | {"describe-blank-nodes", "value-string-crlf", "canned-search"}
)
#: Hand-written queries about evaluation alone (operators, functions, paths, modifiers):
#: ``cdkg query`` evaluates them with the very function the endpoint uses
#: (:func:`cdkg.engine.evaluate.answer`), on the same dataset (which the CLI's other queries
#: check), so the endpoint's runs cover them and the command line skips them (each run costs a
#: second).
EVALUATION_ONLY = frozenset(
    {"bgp-ties", "bgp-tehran", "optional", "optional-filter-outer-variable", "optional-nested"}
    | {"union", "union-unbalanced", "minus", "minus-disjoint-variables", "exists", "not-exists"}
    | {"aggregates-group-having", "aggregates-sum-avg", "aggregates-mixed-types"}
    | {"aggregates-sample", "aggregates-empty-group", "aggregates-group-by-expression"}
    | {"subquery", "subquery-limit", "values-inline", "values-trailing-undef", "bind"}
    | {"expressions-dates", "path-sequence", "path-alternative", "path-inverse"}
    | {"path-zero-or-more", "path-one-or-more", "path-zero-or-one", "path-negated"}
    | {"path-cycle-star", "path-both-ends-free", "path-blank-cycle", "graph-variable-values"}
    | {"star-filter-only-variable", "star-minus-right-variable", "star-exists-variable"}
    | {"star-subquery-projection", "order-across-kinds", "order-numbers"}
    | {"distinct-offset-limit", "reduced"}
)


def runs_on_cli(case: Case) -> bool:
    """Whether ``cdkg query`` runs ``case`` (in JSON or N-Triples, or every format)."""
    if case.protocol_dataset:
        return False  # `cdkg query` has no way to name the protocol's dataset
    if case.name.startswith("compare-"):
        return False  # evaluation alone, as EVALUATION_ONLY
    if case.name.startswith("value-"):
        return case.name.removeprefix("value-") in CLI_VALUES
    return case.name not in EVALUATION_ONLY


HTTP_PARAMS = [pytest.param(c, f, id=f"{c.name}-{f}") for c in CASES for f in formats_of(c)]
CLI_PARAMS = [
    pytest.param(c, f, id=f"{c.name}-{f}")
    for c in CASES
    if runs_on_cli(c)
    for f in (formats_of(c) if c.name in CLI_ALL_FORMATS else formats_of(c)[:1])
]


# --- the servers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    truncated: bool = False  # cdkg's CDKG-Truncated header: the row cap cut the answer


def post(url: str, fields: Sequence[tuple[str, str]], accept: str) -> Reply:
    """POST ``fields`` form-encoded (SPARQL 1.1 Protocol §2.1.2) to ``url``."""
    request = urllib.request.Request(  # noqa: S310 - loopback http
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            truncated = response.headers.get("CDKG-Truncated") == "true"
            content_type = response.headers.get("Content-Type", "")
            return Reply(response.status, content_type, response.read(), truncated)
    except urllib.error.HTTPError as err:
        with err:
            return Reply(err.code, err.headers.get("Content-Type", ""), err.read())


def fields_of(case: Case, text: str) -> list[tuple[str, str]]:
    return [
        ("query", text),
        *(("default-graph-uri", iri) for iri in case.default_graphs),
        *(("named-graph-uri", iri) for iri in case.named_graphs),
    ]


@pytest.fixture(scope="module")
def edge_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The edge-case graphs, written as N-Quads."""
    path = tmp_path_factory.mktemp("differential") / "edge.nq"
    path.write_bytes(ox.serialize(edge_quads(), format=ox.RdfFormat.N_QUADS) or b"")
    return path


@pytest.fixture(scope="module")
def cdkg_server(edge_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``cdkg serve`` with the edge-case graphs; no row cap in reach, no result cache."""
    args = ["--graph", f"{EDGE}={edge_file}", "--max-rows", "1000000", "--cache-entries", "0"]
    args += ["--timeout", "60"]
    server = LiveServer(args, tmp_path_factory.mktemp("cdkg-serve") / "serve.log").start()
    yield server
    server.stop()  # its engine processes end with it (test_engine.py)


@pytest.fixture(scope="module")
def oxigraph_url(edge_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Oxigraph server's query URL, serving the quads ``cdkg serve`` serves."""
    binary = Path(sys.executable).parent / "oxigraph"
    if not binary.exists():
        pytest.fail(f"no Oxigraph server at {binary}: install the test extra (pip install .[test])")
    directory = tmp_path_factory.mktemp("oxigraph")
    dump = directory / "served.nq"
    store = oxigraph_of(served_dataset(extra_graphs=[(EDGE, edge_file)]))
    assert store is not None
    store.dump(dump, format=ox.RdfFormat.N_QUADS)
    location = directory / "db"
    loaded = subprocess.run(
        [binary, "load", "--location", location, "--file", dump],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr.decode(errors="replace")
    port = free_port()
    url = f"http://127.0.0.1:{port}/query"
    command = [binary, "serve-read-only", "--location", location, "--bind", f"127.0.0.1:{port}"]
    try:
        process = start_and_wait(
            command, f"{url}?query=ASK%7B%7D", log=directory / "serve.log", ready_within=60
        )
    except DidNotStart as err:
        pytest.fail(f"the Oxigraph server did not start: {err}")
    yield url
    stop(process)


@pytest.fixture(scope="module")
def reference(oxigraph_url: str) -> Callable[[Case, str], bytes]:
    """The Oxigraph server's answer to a case in a format (asked once, kept)."""
    kept: dict[tuple[str, str], bytes] = {}

    def answer(case: Case, fmt: str) -> bytes:
        if (case.name, fmt) not in kept:
            # a canned query uses the prefixes cdkg predeclares; the generated ones declare theirs
            text = with_prefixes(case.text) if case.canned else case.text
            fields = fields_of(case, text)
            if not case.protocol_dataset and not case.dataset_clause:
                # the default graph is the union of the named graphs, as cdkg's is; a query with
                # its own dataset must not get this (the server would override its FROM)
                fields.append(("union-default-graph", ""))
            reply = post(oxigraph_url, fields, media_type(fmt))
            assert reply.status == 200, f"Oxigraph server: {reply.status} {reply.body[:2000]!r}"
            kept[case.name, fmt] = reply.body
        return kept[case.name, fmt]

    return answer


def media_type(fmt: str) -> str:
    return {**RESULT_FORMATS, **GRAPH_FORMATS}[fmt][0]


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: bytes
    stderr: str


@pytest.fixture(scope="module")
def cli_runs(
    edge_file: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[tuple[str, str], Future[CliRun]]]:
    """The ``cdkg query`` runs of the collected CLI tests, all started at once, one per core."""
    script = Path(sys.executable).parent / "cdkg"
    directory = tmp_path_factory.mktemp("cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
    data = [str(path) for path in data_files()]
    nice = shutil.which("nice")

    def run(case: Case, fmt: str) -> CliRun:
        ref = case.canned
        if ref is None:
            path = directory / f"{case.name}.rq"
            path.write_text(case.text, encoding="utf-8")
            ref = str(path)
        command = [script, "query", ref, "--format", fmt, "--data", *data, str(edge_file)]
        if nice is not None:  # below the servers: they answer the tests running meanwhile
            command = [nice, "-n", "19", *command]
        done = subprocess.run(
            command, cwd=directory, env=env, capture_output=True, timeout=300, check=False
        )
        return CliRun(done.returncode, done.stdout, done.stderr.decode(errors="replace"))

    wanted = [
        (item.callspec.params["case"], item.callspec.params["fmt"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == test_cli_answers_as_oxigraph.__name__
    ]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {(case.name, fmt): pool.submit(run, case, fmt) for case, fmt in wanted}
        yield futures
        for future in futures.values():
            future.cancel()


# --- parsing and comparing answers -------------------------------------------------------------

Cell = str | None  # a term's N-Triples form (CSV: its text); None: unbound


@dataclass(frozen=True)
class Table:
    """A SELECT answer as parsed: its columns and rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def is_blank(cell: Cell) -> bool:
    return cell is not None and cell.startswith("_:")


def parse_boolean_table(body: bytes) -> bool:
    """An ASK answer in CSV or TSV, which define no boolean answer: the bare word, or a header
    line and a line holding the word (in TSV maybe as ``"true"^^xsd:boolean``)."""
    lines = body.decode("utf-8").strip().splitlines()
    assert len(lines) in (1, 2), lines
    word = re.fullmatch(
        r'"?(true|false)"?(?:\^\^<http://www.w3.org/2001/XMLSchema#boolean>)?', lines[-1]
    )
    assert word is not None, lines
    assert len(lines) == 1 or ("," not in lines[0] and "\t" not in lines[0]), lines  # one column
    return word.group(1) == "true"


def parse_table(body: bytes, fmt: str, form: str = "SELECT") -> Table | bool:
    """A SELECT answer in ``fmt`` (its rows), or an ASK answer (its boolean)."""
    parser = RESULT_FORMATS[fmt][1]
    if form == "ASK" and fmt in ("csv", "tsv"):
        return parse_boolean_table(body)
    if parser is None:  # CSV: terms lose their kind and datatype; compared as text
        text = body.decode("utf-8")
        lines = list(csv.reader(io.StringIO(text, newline="")))
        columns = tuple(lines[0]) if lines else ()
        rows = tuple(
            tuple(line) + ("",) * (len(columns) - len(line)) for line in lines[1:]
        )  # an empty line is a row whose one column is empty (or a row of no columns)
        return Table(columns, rows)
    parsed = ox.parse_query_results(body, format=parser)
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    names = tuple(v.value for v in parsed.variables)
    rows = tuple(
        tuple(None if (term := row[n]) is None else str(term) for n in names) for row in parsed
    )
    return Table(names, rows)


def order_keys(text: str) -> tuple[tuple[str, ...], bool]:
    """The variables the outer ORDER BY sorts on, up to its first key that is not a plain
    variable, and whether a LIMIT or OFFSET follows it. An ORDER BY followed by a ``}`` is in a
    subquery, and orders nothing outside it."""
    found = list(re.finditer(r"\bORDER\s+BY\b", text, re.IGNORECASE))
    if not found:
        return (), False
    tail = text[found[-1].end() :]
    if "}" in re.sub(r"#[^\n]*", "", tail.split("VALUES")[0]):
        return (), False
    keys = []
    key = re.compile(r"\s*(?:#[^\n]*\n\s*)*(?:(?:ASC|DESC)\s*\(\s*[?$](\w+)\s*\)|[?$](\w+))", re.I)
    at = 0
    while match := key.match(tail, at):
        keys.append(match.group(1) or match.group(2))
        at = match.end()
    sliced = bool(re.match(r"\s*(LIMIT|OFFSET)\b", tail[at:], re.IGNORECASE))
    return tuple(keys), sliced


def concat_columns(text: str) -> dict[str, str]:
    """The columns a GROUP_CONCAT writes, with their separators (default one space)."""
    found = {}
    pattern = re.compile(
        r"GROUP_CONCAT\s*\((?:[^;()]|\([^()]*\))*?"
        r"(?:;\s*SEPARATOR\s*=\s*(?:\"([^\"]*)\"|'([^']*)'))?\s*\)\s+AS\s+[?$](\w+)",
        re.IGNORECASE | re.DOTALL,
    )
    for match in pattern.finditer(text):
        separator = match.group(1) if match.group(1) is not None else match.group(2)
        found[match.group(3)] = " " if separator is None else separator
    return found


def sample_columns(text: str) -> set[str]:
    """The columns a SAMPLE writes."""
    pattern = r"SAMPLE\s*\((?:[^()]|\([^()]*\))*\)\s+AS\s+[?$](\w+)"
    return set(re.findall(pattern, text, re.IGNORECASE))


def _relaxed(cell: Cell, column: str, concat: dict[str, str], sample: set[str]) -> Cell:
    """``cell`` with what :data:`ALLOWED_DIFFERENCES` leaves open taken out: a SAMPLE's choice,
    a GROUP_CONCAT's order."""
    if cell is None:
        return None
    if column in sample:
        return "<bound>"
    if column in concat and not is_blank(cell):
        separator = concat[column]
        literal = re.fullmatch(r'"(.*)"((?:\^\^<[^>]*>|@[\w-]+)?)', cell, re.DOTALL)
        if literal is None:  # CSV text
            return separator.join(sorted(cell.split(separator)))
        # the N-Triples form escapes the separator's characters alike on both sides
        escaped = str(ox.Literal(separator))[1:-1]
        parts = sorted(literal.group(1).split(escaped))
        return f'"{escaped.join(parts)}"{literal.group(2)}'
    return cell


@dataclass(frozen=True)
class NormalTable:
    """A SELECT answer with what may differ taken out: comparable with ``==``."""

    columns: tuple[str, ...]
    #: (run, row, count) for the rows without blank nodes
    plain: tuple[tuple[int, tuple[Cell, ...], int], ...]
    #: the rows with blank nodes, as a canonical graph (one blank node per row)
    blank: tuple[str, ...]


def normal_table(case: Case, table: Table) -> NormalTable:
    """``table`` as :class:`NormalTable`: rows as multisets within runs of equal ORDER BY keys
    (one run if the answer is in no order), blank nodes renamed canonically."""
    columns = table.columns
    rows = list(table.rows)
    if re.search(r"SELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", case.text, re.IGNORECASE):
        # SELECT *: the columns in any order
        order = sorted(range(len(columns)), key=lambda i: columns[i])
        columns = tuple(columns[i] for i in order)
        rows = [tuple(row[i] for i in order) for row in rows]
    if re.search(r"SELECT\s+REDUCED\b", case.text, re.IGNORECASE):
        rows = list(dict.fromkeys(rows))  # any number of each duplicate, from one up
    concat, sample = concat_columns(case.text), sample_columns(case.text)
    rows = [
        tuple(_relaxed(c, n, concat, sample) for c, n in zip(row, columns, strict=True))
        for row in rows
    ]
    keys, sliced = order_keys(case.text) if case.order is None else (case.order, False)
    # the runs: the longest prefix of the ORDER BY keys that the answer shows. Keys are told
    # apart as terms: two keys equal in value but not as terms ("1" and "01"^^xsd:integer) would
    # make two runs whose order ORDER BY leaves open; no query here sorts on such a tie alone.
    shown = []
    for key in keys:
        if key not in columns:
            break
        shown.append(columns.index(key))
    runs, run, previous = [], -1, None
    for row in rows:
        current = tuple("_:" if is_blank(row[i]) else row[i] for i in shown)
        if run < 0 or current != previous:
            run, previous = run + 1, current
        runs.append(run if shown else 0)
    if sliced and shown and rows:
        # the last run may be cut by LIMIT anywhere: only its keys count
        last = runs[-1]
        rows = [
            tuple(c if i in shown or r != last else "<cut>" for i, c in enumerate(row))
            for row, r in zip(rows, runs, strict=True)
        ]
    plain: Counter[tuple[int, tuple[Cell, ...]]] = Counter()
    quads: list[ox.Quad] = []
    blanks: dict[str, ox.BlankNode] = {}
    for row, r in zip(rows, runs, strict=True):
        if not any(is_blank(c) for c in row):
            plain[r, row] += 1
            continue
        node = ox.BlankNode()
        quads.append(ox.Quad(node, ox.NamedNode("urn:x-row:run"), ox.Literal(str(r))))
        for name, cell in zip(columns, row, strict=True):
            if cell is None:
                continue
            value = blanks.setdefault(cell, ox.BlankNode()) if is_blank(cell) else ox.Literal(cell)
            column = ox.NamedNode("urn:x-row:column:" + urllib.parse.quote(name))
            quads.append(ox.Quad(node, column, value))
    return NormalTable(
        columns,
        tuple(sorted(((r, row, n) for (r, row), n in plain.items()), key=repr)),
        canonical(quads),
    )


def canonical(quads: Sequence[ox.Quad]) -> tuple[str, ...]:
    """``quads`` with their blank nodes renamed canonically, sorted."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return tuple(sorted(str(q) for q in dataset))


def normal_form(case: Case, fmt: str, body: bytes) -> NormalTable | bool | tuple[str, ...]:
    """An answer with what may differ taken out (:data:`ALLOWED_DIFFERENCES`)."""
    if fmt in GRAPH_FORMATS:
        return canonical(list(ox.parse(body, format=GRAPH_FORMATS[fmt][1])))
    parsed = parse_table(body, fmt, case.form)
    if isinstance(parsed, bool):
        return parsed
    return normal_table(case, parsed)


def differences(case: Case, fmt: str, ours: bytes, theirs: bytes) -> list[str]:
    """What differs between cdkg's answer and the Oxigraph server's (empty: nothing)."""
    mine, reference = normal_form(case, fmt, ours), normal_form(case, fmt, theirs)
    if mine == reference:
        return []
    if isinstance(mine, NormalTable) and isinstance(reference, NormalTable):
        found = []
        if mine.columns != reference.columns:
            found.append(f"columns: cdkg {mine.columns}, Oxigraph {reference.columns}")
        for label, a, b in (
            ("plain", mine.plain, reference.plain),
            ("blank", mine.blank, reference.blank),
        ):
            only_ours = Counter(a) - Counter(b)
            only_theirs = Counter(b) - Counter(a)
            found += [f"only cdkg ({label}): {x!r}" for x in list(only_ours)[:10]]
            found += [f"only Oxigraph ({label}): {x!r}" for x in list(only_theirs)[:10]]
        return found or ["the answers differ"]
    if isinstance(mine, tuple) and isinstance(reference, tuple):
        only_ours, only_theirs = set(mine) - set(reference), set(reference) - set(mine)
        return [f"only cdkg: {q}" for q in sorted(only_ours)[:10]] + [
            f"only Oxigraph: {q}" for q in sorted(only_theirs)[:10]
        ]
    return [f"cdkg: {mine!r}", f"Oxigraph: {reference!r}"]


def assert_same(case: Case, fmt: str, ours: bytes, theirs: bytes, where: str) -> None:
    found = differences(case, fmt, ours, theirs)
    assert not found, (
        f"{where} and the Oxigraph server differ on {case.name} in {fmt}:\n"
        + "\n".join(found)
        + f"\n--- query ---\n{case.text}\n--- cdkg ---\n{ours[:3000]!r}"
        + f"\n--- Oxigraph ---\n{theirs[:3000]!r}"
    )


# --- the tests ---------------------------------------------------------------------------------


# the command line's runs start with the first test and go on beside the endpoint's tests
@pytest.mark.usefixtures("cli_runs")
@pytest.mark.parametrize(("case", "fmt"), HTTP_PARAMS)
def test_endpoint_answers_as_oxigraph(
    case: Case, fmt: str, cdkg_server: LiveServer, reference: Callable[[Case, str], bytes]
) -> None:
    """``cdkg serve``'s answer, asked by Accept, equals the Oxigraph server's."""
    reply = post(cdkg_server.sparql, fields_of(case, case.text), media_type(fmt))
    assert reply.status == 200, f"cdkg serve: {reply.status} {reply.body[:2000]!r}"
    assert reply.content_type.split(";")[0].strip() == media_type(fmt)
    assert not reply.truncated  # the row cap is out of reach
    assert_same(case, fmt, reply.body, reference(case, fmt), "cdkg serve")


@pytest.mark.parametrize(("case", "fmt"), CLI_PARAMS)
def test_cli_answers_as_oxigraph(
    case: Case,
    fmt: str,
    cli_runs: dict[tuple[str, str], Future[CliRun]],
    reference: Callable[[Case, str], bytes],
) -> None:
    """``cdkg query``'s answer, on the same dataset, equals the Oxigraph server's."""
    run = cli_runs[case.name, fmt].result()
    assert run.returncode == 0, run.stderr
    assert "was cut" not in run.stderr  # under the command line's row cap
    assert_same(case, fmt, run.stdout, reference(case, fmt), "cdkg query")


def test_queries_cover_every_form_and_format() -> None:
    """Every form is asked in every format, the CLI runs in every format, and the names are
    unique (they name the CLI's query files and the kept answers)."""
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    asked = {(c.form, f) for c in CASES for f in formats_of(c)}
    for form in ("SELECT", "ASK"):
        assert {(form, f) for f in RESULT_FORMATS} <= asked
    for form in ("CONSTRUCT", "DESCRIBE"):
        assert {(form, f) for f in GRAPH_FORMATS} <= asked
    cli = {(p.values[0].form, p.values[1]) for p in CLI_PARAMS}  # type: ignore[union-attr]
    assert {("SELECT", f) for f in RESULT_FORMATS} | {("CONSTRUCT", "ttl")} <= cli
    assert not (CLI_ALL_FORMATS - set(names))
    assert not (EVALUATION_ONLY - set(names))
    assert not (CLI_VALUES - {name for name, _ in EDGE_VALUES})


def _swap(body: bytes, old: bytes, new: bytes) -> bytes:
    assert old in body, (old, body)
    return body.replace(old, new, 1)


def test_comparison_detects_differences() -> None:
    """The comparison fails where a correct answer and a wrong one differ, and holds where only
    what :data:`ALLOWED_DIFFERENCES` allows differs."""
    store = ox.Store()
    store.extend(q for q in edge_quads())
    union = {"use_default_graph_as_union": True}

    def answer(case: Case, fmt: str) -> bytes:
        result = store.query(case.text, **union)  # type: ignore[arg-type]
        if fmt in GRAPH_FORMATS:
            return result.serialize(format=GRAPH_FORMATS[fmt][1]) or b""  # type: ignore[union-attr]
        parser = RESULT_FORMATS[fmt][1] or ox.QueryResultsFormat.CSV
        return result.serialize(format=parser) or b""  # type: ignore[union-attr]

    def same(case: Case, fmt: str, a: bytes, b: bytes) -> bool:
        return not differences(case, fmt, a, b)

    values = _q("check-values", "SELECT ?s ?v WHERE { ?s ex:value ?v }")
    for fmt in RESULT_FORMATS:
        body = answer(values, fmt)
        assert same(values, fmt, body, body)
        assert not same(values, fmt, body, _swap(body, b"INF", b"inf")), fmt  # a literal
        assert not same(values, fmt, body, _swap(body, b"Tehran", b"Teheran")), fmt
    json_body = answer(values, "json")
    assert not same(values, "json", json_body, _swap(json_body, b"#double", b"#float"))  # datatype
    assert not same(values, "json", json_body, _swap(json_body, b'"en-us"', b'"en"'))  # tag
    # a missing or a repeated row
    tsv = answer(values, "tsv")
    lines = tsv.splitlines(keepends=True)
    assert not same(values, "tsv", tsv, b"".join(lines[:-1]))
    assert not same(values, "tsv", tsv, tsv + lines[-1])
    assert same(values, "tsv", tsv, b"".join([lines[0], *reversed(lines[1:])]))  # no ORDER BY
    # an ORDER BY fixes the order: reversed rows differ; ties may swap
    ranked = _q("check-ranked", "SELECT ?s ?rank WHERE { ?s ex:rank ?rank } ORDER BY ?rank")
    tsv = answer(ranked, "tsv")
    lines = tsv.splitlines(keepends=True)
    assert not same(ranked, "tsv", tsv, b"".join([lines[0], *reversed(lines[1:])]))
    tied = _q("check-tied", "SELECT ?g ?m WHERE { ?m ex:group ?g } ORDER BY ?g")
    tsv = answer(tied, "tsv")
    lines = tsv.splitlines(keepends=True)
    swapped = [lines[0], lines[2], lines[1], *lines[3:]]  # m1 and m2, both in g1
    assert same(tied, "tsv", tsv, b"".join(swapped))
    assert not same(tied, "tsv", tsv, b"".join([lines[0], *reversed(lines[1:])]))
    # blank nodes: a consistent renaming is the same answer, merging two is not
    links = _q("check-links", "SELECT ?x ?y WHERE { ?x ex:link ?y }")
    body = answer(links, "json")
    labels = sorted(set(re.findall(rb'"type":"bnode","value":"([^"]+)"', body)))
    assert len(labels) == 2
    renamed = body.replace(labels[0], b"zz1").replace(labels[1], b"zz2")
    assert same(links, "json", body, renamed)
    assert not same(links, "json", body, body.replace(labels[0], labels[1]))
    # graphs: isomorphic is the same, a changed literal is not
    graph = _q("check-graph", "CONSTRUCT WHERE { ?s ex:value ?v }", "CONSTRUCT")
    for fmt in GRAPH_FORMATS:
        body = answer(graph, fmt)
        assert same(graph, fmt, body, body)
        assert not same(graph, fmt, body, _swap(body, b"INF", b"inf")), fmt
    nt = answer(graph, "nt")
    assert same(graph, "nt", nt, b"".join(reversed(nt.splitlines(keepends=True))))
    assert same(graph, "nt", nt, re.sub(rb"(^|\s)_:", rb"\1_:renamed", nt, flags=re.MULTILINE))
    # what may differ: GROUP_CONCAT's order, SAMPLE's choice, SELECT *'s column order
    concat = _q(
        "check-concat",
        'SELECT ?g (GROUP_CONCAT(STR(?m); SEPARATOR=", ") AS ?ms) (SAMPLE(?m) AS ?one) '
        "WHERE { ?m ex:group ?g } GROUP BY ?g",
    )
    body = answer(concat, "json")
    first = re.search(rb'"ms":\{"type":"literal","value":"([^"]*)"', body)
    assert first is not None
    assert b", " in first.group(1)
    parts = first.group(1).split(b", ")
    assert same(concat, "json", body, body.replace(first.group(1), b", ".join(parts[::-1])))
    assert not same(concat, "json", body, body.replace(first.group(1), b", ".join(parts[1:])))
    reduced = _q("check-reduced", "SELECT REDUCED ?g WHERE { ?m ex:group ?g }")
    tsv = answer(reduced, "tsv")
    lines = tsv.splitlines(keepends=True)
    assert same(reduced, "tsv", tsv, tsv + lines[-1])  # a duplicate may stay or go
    assert not same(reduced, "tsv", tsv, b"".join(lines[:-1]))  # a value may not
    ask = _q("check-ask", "ASK { ?s ex:value ?v }", "ASK")
    for fmt, table in (("csv", b"_askResult\r\n%s\r\n"), ("tsv", b"?_askResult\n%s\n")):
        assert same(ask, fmt, answer(ask, fmt), table % b"true")  # either form of the boolean
        assert not same(ask, fmt, answer(ask, fmt), table % b"false")
    star = _q("check-star", "SELECT * WHERE { ?s ex:rank ?rank }")
    tsv = answer(star, "tsv")
    flipped = b"".join(
        b"\t".join(reversed(line.rstrip(b"\n").split(b"\t"))) + b"\n"
        for line in tsv.splitlines(keepends=True)
    )
    assert same(star, "tsv", tsv, flipped)
    explicit = _q("check-explicit", "SELECT ?s ?rank WHERE { ?s ex:rank ?rank }")
    tsv = answer(explicit, "tsv")
    flipped = b"".join(
        b"\t".join(reversed(line.rstrip(b"\n").split(b"\t"))) + b"\n"
        for line in tsv.splitlines(keepends=True)
    )
    assert not same(explicit, "tsv", tsv, flipped)


def test_order_keys_reads_the_outer_order_by() -> None:
    """The ORDER BY the comparison orders by: the outer one, its plain-variable keys."""
    assert order_keys("SELECT * { } ORDER BY DESC(?a) ?b LIMIT 3") == (("a", "b"), True)
    assert order_keys("SELECT * { { SELECT ?a { } ORDER BY ?a LIMIT 1 } }") == ((), False)
    assert order_keys("SELECT * { } ORDER BY ?a STR(?b) ?c") == (("a",), False)
    assert order_keys("SELECT * { } ORDER BY ?a\nVALUES ?a { <x:y> }") == (("a",), False)
    assert concat_columns('(GROUP_CONCAT(STR(?x); separator="; ") AS ?xs)') == {"xs": "; "}
    assert concat_columns("(GROUP_CONCAT(DISTINCT ?x) AS ?xs)") == {"xs": " "}
    assert sample_columns("(SAMPLE(STR(?x)) AS ?one)") == {"one"}
