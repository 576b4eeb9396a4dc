"""What an entity page shows, read from the graph: pure functions of (graph, IRI).

:func:`describe_query` is the CONSTRUCT that gives the RDF of an entity: its Concise Bounded
Description (the triples with it as subject, following blank nodes;
https://www.w3.org/submission/CBD/) plus the ``rdfs:label`` of every IRI it links to, so a client
can show names without another request. :func:`page` gives
what the HTML page shows: labels in English and Persian, the Wikidata link or why there is none,
the facts, a city's ties, memberships and recognitions, and provenance back to the paper (table or
section, lines of the extracted text and their link in the source viewer, footnotes and their
source URLs), and the points of its map.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS
from rdflib.term import Node

from cdkg.names import CDKG, ID
from cdkg.scholarly import argument
from cdkg.scholarly.map import Point
from cdkg.scholarly.paperlines import line_url

GEO = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
WD = "http://www.wikidata.org/entity/"
PREFIXES = {
    "cdkg": str(CDKG),
    "id": ID,
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "geo": str(GEO),
    "wd": WD,
}


def describe_query(iri: URIRef) -> str:
    """The CONSTRUCT whose answer is the entity's RDF: its triples (through blank nodes, two
    levels deep: the data has none deeper), and the ``rdfs:label`` of every IRI it links to."""
    me = iri.n3()
    return f"""CONSTRUCT {{ {me} ?p ?o . ?o ?p2 ?o2 . ?o2 ?p3 ?o3 . ?o ?label ?name }}
WHERE {{
  {{ {me} ?p ?o }}
  UNION {{ {me} ?p ?o . FILTER (isBlank(?o)) ?o ?p2 ?o2
          OPTIONAL {{ FILTER (isBlank(?o2)) ?o2 ?p3 ?o3 }} }}
  UNION {{ {me} ?p ?o . FILTER (isIRI(?o) && ?o != {me}) ?o ?label ?name .
          FILTER (?label = <http://www.w3.org/2000/01/rdf-schema#label>) }}
}}"""


def label(graph: Graph, node: Node, lang: str = "en") -> str:
    """The node's label in ``lang``, else any label, else its IRI's last segment."""
    fallback = None
    for value in graph.objects(node, RDFS.label):
        if isinstance(value, Literal):
            if value.language == lang:
                return str(value)
            fallback = fallback or str(value)
    if fallback:
        return fallback
    text = str(node)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if isinstance(node, URIRef) else text


@dataclass(frozen=True)
class Link:
    """A node as the page links it: where to go, and its names."""

    href: str | None
    en: str
    fa: str | None = None


@dataclass(frozen=True)
class Source:
    """One place in the paper a fact comes from."""

    href: str | None
    where: str  # "Table 1" or "Section 5-1"
    lines: str  # "810" or "797-1166"
    text_href: str | None  # those lines in the source viewer: "/source/paper#L797-L1166"
    printed: str | None
    footnotes: tuple[tuple[str, str | None], ...]  # (number, source URL)


@dataclass(frozen=True)
class Row:
    """One row of a city's ties, memberships or recognitions."""

    what: Link
    other: Link | None
    detail: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Step:
    """A step of the paper's argument (:mod:`cdkg.scholarly.argument`) as the page shows it."""

    conclusion: Link
    premise: Link
    by: str  # "the paper" or "cdkg's reading"
    sources: tuple[Source, ...]  # the paper's lines for its step; for ours, the conclusion's
    note: str | None


@dataclass
class Page:
    """What the HTML page of one entity shows."""

    iri: str
    en: str
    fa: str | None
    classes: list[Link]
    wikidata: str | None
    unlinked: str | None
    facts: list[tuple[Link, list[Link | str]]]
    sources: list[Source]
    ties: list[Row] = field(default_factory=list)
    memberships: list[Row] = field(default_factory=list)
    recognitions: list[Row] = field(default_factory=list)
    incoming: list[tuple[Link, Link]] = field(default_factory=list)
    argument: list[Step] = field(default_factory=list)
    centre: Point | None = None
    partners: list[Point] = field(default_factory=list)


def href(node: Node) -> str | None:
    """Where a node's page is on this server: ``/id/...`` for cdkg IRIs, ``/ontology#Term`` for
    terms; other IRIs as they are."""
    if not isinstance(node, URIRef):
        return None
    text = str(node)
    if text.startswith(ID):
        return "/id/" + text.removeprefix(ID)
    if text.startswith(str(CDKG)):
        return "/ontology#" + text.removeprefix(str(CDKG))
    return text


def link(graph: Graph, node: Node) -> Link:
    fa = label(graph, node, "fa")
    en = label(graph, node, "en")
    return Link(href(node), en, fa if fa != en else None)


def sources(graph: Graph, node: Node) -> list[Source]:
    """Where in the paper ``node`` comes from (``prov:wasDerivedFrom`` locations)."""
    found = []
    for loc in sorted(graph.objects(node, PROV.wasDerivedFrom), key=str):
        table = graph.value(loc, CDKG.inTable)
        section = graph.value(loc, CDKG.section)
        where = f"Table {table}" if table is not None else f"Section {section or '?'}"
        start, end = graph.value(loc, CDKG.lineStart), graph.value(loc, CDKG.lineEnd)
        lines = str(start) if start == end or end is None else f"{start}-{end}"
        text_href = None
        if start is not None:
            text_href = line_url(int(str(start)), int(str(end)) if end is not None else None)
        notes = []
        for note in sorted(graph.objects(loc, CDKG.footnote), key=str):
            url = graph.value(note, CDKG.sourceURL)
            number = graph.value(note, CDKG.footnoteNumber)
            notes.append((str(number or label(graph, note)), str(url) if url else None))
        printed = graph.value(loc, CDKG.printedForm)
        found.append(
            Source(
                href(loc), where, lines, text_href, str(printed) if printed else None, tuple(notes)
            )
        )
    return found


def page(graph: Graph, iri: URIRef) -> Page:
    """Everything the HTML page of ``iri`` shows."""
    wikidata = graph.value(iri, SKOS.exactMatch)
    unlinked = graph.value(iri, CDKG.unlinkedNote)
    facts: dict[Node, list[Link | str]] = {}
    skip = {RDFS.label, RDF.type, SKOS.exactMatch, CDKG.unlinkedNote, PROV.wasDerivedFrom}
    for p, o in sorted(graph.predicate_objects(iri), key=lambda po: (str(po[0]), str(po[1]))):
        if p in skip:
            continue
        value: Link | str = str(o) if isinstance(o, Literal | BNode) else link(graph, o)
        facts.setdefault(p, []).append(value)
    result = Page(
        iri=str(iri),
        en=label(graph, iri, "en"),
        fa=label(graph, iri, "fa") if (iri, RDFS.label, None) in graph else None,
        classes=[link(graph, c) for c in sorted(graph.objects(iri, RDF.type), key=str)],
        wikidata=str(wikidata) if wikidata is not None else None,
        unlinked=str(unlinked) if unlinked is not None else None,
        facts=[(link(graph, p), values) for p, values in facts.items()],
        sources=sources(graph, iri),
    )
    if (iri, RDF.type, CDKG.IranianCity) in graph or (iri, RDF.type, CDKG.ForeignCity) in graph:
        _city(graph, iri, result)
    result.argument = [_argument_step(graph, step) for step in argument.steps(graph, iri)]
    result.incoming = [
        (link(graph, s), link(graph, p))
        for s, p in sorted(graph.subject_predicates(iri), key=lambda sp: (str(sp[0]), str(sp[1])))
        if isinstance(s, URIRef)
    ][:200]
    return result


def _city(graph: Graph, iri: URIRef, result: Page) -> None:
    result.centre = _point(graph, iri)
    for tie, other in _ties(graph, iri):
        year = graph.value(tie, CDKG.startYear)
        kinds = [label(graph, k) for k in graph.objects(tie, RDF.type)]
        detail = ", ".join(kinds) + (f", {year}" if year is not None else "")
        result.ties.append(Row(link(graph, tie), link(graph, other), detail, _sources(graph, tie)))
        point = _point(graph, other)
        if point is not None:
            result.partners.append(point)
    for membership in sorted(graph.subjects(CDKG.memberCity, iri), key=str):
        network = graph.value(membership, CDKG.network)
        result.memberships.append(
            Row(
                link(graph, membership),
                link(graph, network) if network is not None else None,
                "",
                _sources(graph, membership),
            )
        )
    for recognition in sorted(graph.subjects(CDKG.recipient, iri), key=str):
        year = graph.value(recognition, CDKG.year)
        by = graph.value(recognition, CDKG.conferredBy)
        result.recognitions.append(
            Row(
                link(graph, recognition),
                link(graph, by) if by is not None else None,
                str(year) if year is not None else "",
                _sources(graph, recognition),
            )
        )


def _argument_step(graph: Graph, step: argument.Step) -> Step:
    """The paper's step cites its own lines; the project's reading cites none, so the page shows
    the lines of the conclusion it reads, marked as such by ``by``."""
    lines = sources(graph, step.link if step.by_paper else step.conclusion)
    return Step(
        link(graph, step.conclusion),
        link(graph, step.premise),
        "the paper" if step.by_paper else "cdkg's reading",
        tuple(lines),
        step.note,
    )


def _ties(graph: Graph, city: URIRef) -> Iterable[tuple[Node, Node]]:
    found = []
    for tie in graph.subjects(CDKG.iranianCity, city):
        found.append((tie, graph.value(tie, CDKG.partnerCity)))
    for tie in graph.subjects(CDKG.partnerCity, city):
        found.append((tie, graph.value(tie, CDKG.iranianCity)))
    return sorted(
        ((t, o) for t, o in found if o is not None),
        key=lambda to: (int(str(graph.value(to[0], CDKG.ordinal) or 0)), str(to[0])),
    )


def _sources(graph: Graph, node: Node) -> tuple[Source, ...]:
    return tuple(sources(graph, node))


def _point(graph: Graph, node: Node) -> Point | None:
    lat, long = graph.value(node, GEO.lat), graph.value(node, GEO.long)
    if lat is None or long is None:
        return None
    return Point(label(graph, node), float(str(lat)), float(str(long)), href(node))
