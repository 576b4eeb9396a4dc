"""Content negotiation: an ``Accept`` header (or a ``format`` parameter) to one format.

The formats are data, each next to the W3C document that defines it. :func:`negotiate` is a pure
function of (Accept, available formats, format parameter), tested from a table. It follows
RFC 9110 §12.5.1: each available format takes the quality of the *most specific* media range that
matches it; the best quality wins; ties go to the more specific match, then to the server's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdkg.errors import HTTP, NotAcceptable

ACCEPT_SPEC = f"{HTTP}#field.accept"
FORMATS_NS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Format:
    """A format we can produce: its media type, other media types that mean it, the short names
    the ``format`` parameter takes, and the spec that defines it."""

    media_type: str
    names: tuple[str, ...]
    spec: str
    aliases: tuple[str, ...] = ()
    iri: str | None = None  # its name in https://www.w3.org/ns/formats/, for service descriptions

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


# SPARQL 1.1 query results (SELECT, ASK).
SPARQL_JSON = Format(
    "application/sparql-results+json",
    ("json", "srj"),
    "https://www.w3.org/TR/sparql11-results-json/",
    aliases=("application/json",),
    iri=FORMATS_NS + "SPARQL_Results_JSON",
)
SPARQL_XML = Format(
    "application/sparql-results+xml",
    ("xml", "srx"),
    "https://www.w3.org/TR/rdf-sparql-XMLres/",
    iri=FORMATS_NS + "SPARQL_Results_XML",
)
SPARQL_CSV = Format(
    "text/csv",
    ("csv",),
    "https://www.w3.org/TR/sparql11-results-csv-tsv/",
    iri=FORMATS_NS + "SPARQL_Results_CSV",
)
SPARQL_TSV = Format(
    "text/tab-separated-values",
    ("tsv",),
    "https://www.w3.org/TR/sparql11-results-csv-tsv/",
    iri=FORMATS_NS + "SPARQL_Results_TSV",
)

# RDF graphs (CONSTRUCT, DESCRIBE, service description, VoID, downloads).
TURTLE = Format(
    "text/turtle",
    ("ttl", "turtle"),
    "https://www.w3.org/TR/turtle/",
    aliases=("application/x-turtle",),
    iri=FORMATS_NS + "Turtle",
)
NTRIPLES = Format(
    "application/n-triples",
    ("nt", "ntriples", "n-triples"),
    "https://www.w3.org/TR/n-triples/",
    aliases=("text/plain",),
    iri=FORMATS_NS + "N-Triples",
)
JSONLD = Format(
    "application/ld+json",
    ("jsonld", "json-ld", "json"),
    "https://www.w3.org/TR/json-ld11/",
    aliases=("application/json",),
    iri=FORMATS_NS + "JSON-LD",
)
RDFXML = Format(
    "application/rdf+xml",
    ("rdfxml", "rdf", "xml"),
    "https://www.w3.org/TR/rdf-syntax-grammar/",
    iri=FORMATS_NS + "RDF_XML",
)
TRIG = Format("application/trig", ("trig",), "https://www.w3.org/TR/trig/", iri=FORMATS_NS + "TriG")
HTML = Format("text/html", ("html",), "https://html.spec.whatwg.org/")
#: Plain text, as a file is (the paper's extracted text at ``/source/paper``).
TEXT = Format("text/plain", ("txt", "text"), "https://www.rfc-editor.org/rfc/rfc2046#section-4.1.3")

#: The claims audit (``/audit``) as data: JSON and CSV with the audit's own columns.
AUDIT_JSON = Format("application/json", ("json",), "https://www.rfc-editor.org/rfc/rfc8259")
AUDIT_CSV = Format("text/csv", ("csv",), "https://www.rfc-editor.org/rfc/rfc4180")
#: What ``/audit`` answers in. JSON first, so that a client sending ``*/*`` (curl, scripts) keeps
#: the data it always got; a browser, whose Accept names text/html, gets the page.
AUDIT_FORMATS: tuple[Format, ...] = (AUDIT_JSON, AUDIT_CSV, HTML)

# Citations, negotiated as DOI resolvers do (https://citation.crosscite.org/docs.html): the
# dataset at /citation and every canned result (cdkg.canned.bibliography writes them).
CROSSCITE = "https://citation.crosscite.org/docs.html"
#: A formatted reference, as text (``style=`` and ``locale=`` choose, as at crosscite).
BIBLIOGRAPHY = Format("text/x-bibliography", ("bibliography", "citation"), CROSSCITE)
BIBTEX = Format("application/x-bibtex", ("bibtex", "bib"), "https://www.bibtex.org/Format/")
CSL_JSON = Format(
    "application/vnd.citationstyles.csl+json",
    ("csl-json", "csl", "citeproc-json"),
    "https://github.com/citation-style-language/schema#csl-json-schema",
    aliases=("application/citeproc+json",),  # what crosscite also answers to
)
RIS = Format("application/x-research-info-systems", ("ris",), CROSSCITE)

#: What SELECT and ASK answer in, in the server's order of preference.
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
#: What CONSTRUCT and DESCRIBE answer in.
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)
#: What a citation is written in; the formatted text first, for a client that accepts anything.
CITATION_FORMATS: tuple[Format, ...] = (BIBLIOGRAPHY, BIBTEX, CSL_JSON, RIS)


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header."""

    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int | None:
        """How specifically this range matches ``media_type``: 2 exact, 1 ``type/*``, 0 ``*/*``,
        ``None`` if it does not match."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 0 if self.subtype == "*" else None
        if self.type != kind:
            return None
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == sub else None


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed elements are skipped.

    A bare ``*`` (sent by some Java clients) reads as ``*/*``. Parameters other than ``q`` are
    ignored: none of our formats has parameters that change its meaning.
    """
    ranges = []
    for element in header.split(","):
        media, *params = (part.strip() for part in element.split(";"))
        media = media.lower()
        if media == "*":
            media = "*/*"
        kind, slash, sub = media.partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q = _quality(params)
        if q is not None:
            ranges.append(MediaRange(kind, sub, q))
    return ranges


def _quality(params: list[str]) -> float | None:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0


def negotiate(
    accept: str | None, available: Sequence[Format], format_param: str | None = None
) -> Format:
    """The format to answer in.

    ``format_param`` (a short name such as ``csv`` or a media type) overrides Accept, so that a
    browser link can choose. With no usable Accept header the first available format is the
    default. Raises :class:`NotAcceptable` naming what is available when nothing fits.
    """
    if not available:
        raise ValueError("negotiate() needs at least one available format")
    if format_param:
        wanted = format_param.strip().lower()
        for fmt in available:
            if wanted in fmt.names or wanted in fmt.media_types:
                return fmt
        raise NotAcceptable(
            f"format={format_param!r} is not available for this response",
            hint=f"use format= one of: {_names(available)}",
            spec=ACCEPT_SPEC,
        )
    ranges = parse_accept(accept or "")
    if not ranges:
        return available[0]
    best: tuple[float, int, int] | None = None
    chosen = None
    for order, fmt in enumerate(available):
        q, specificity = _score(fmt, ranges)
        if q <= 0:
            continue
        key = (q, specificity, -order)
        if best is None or key > best:
            best, chosen = key, fmt
    if chosen is None:
        raise NotAcceptable(
            f"none of the media types in Accept: {accept!r} can be produced for this response",
            hint=f"accept one of: {', '.join(f.media_type for f in available)}; "
            f"or add the parameter format= one of: {_names(available)}",
            spec=ACCEPT_SPEC,
        )
    return chosen


def _score(fmt: Format, ranges: Sequence[MediaRange]) -> tuple[float, int]:
    """(quality, specificity) of ``fmt``: the most specific matching range decides the quality;
    among ranges equally specific (e.g. the media type and an alias) the highest q counts."""
    top_specificity = -1
    q = 0.0
    for media_type in fmt.media_types:
        for media_range in ranges:
            specificity = media_range.specificity(media_type)
            if specificity is None:
                continue
            if specificity > top_specificity:
                top_specificity, q = specificity, media_range.q
            elif specificity == top_specificity:
                q = max(q, media_range.q)
    return q, top_specificity


def _names(available: Sequence[Format]) -> str:
    return ", ".join(fmt.names[0] for fmt in available)
