"""How to cite the result of a canned query: the paper, the data's version, the query and its hash.

A result is reproducible from four things: the source paper, the dataset version (a content hash
of the data files, :func:`cdkg.kg.graph.dataset_version`), the query's name and a SHA-256 of its
text (the ``.rq`` file as written; the parameters are in the result's URL). The web face sends them
as response headers on every format, with ``Link: <...>; rel="cite-as"`` (RFC 8574) naming the
result's stable URL; the HTML page and ``cdkg query`` (on stderr) print :meth:`Citation.text`.

The records a reference is written from are read here from the graph, once: :class:`Paper` (the
paper's record in ``data/paper.ttl``, only what could be confirmed) and :class:`Release` (the
ontology header: version, release date, creator, licence); :class:`Work` is one thing cited, the
dataset or a canned result, and :mod:`cdkg.canned.bibliography` writes it as BibTeX, CSL-JSON,
RIS or text.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from rdflib import OWL, RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, SKOS
from rdflib.term import Node

from cdkg.canned.registry import CannedQuery
from cdkg.names import ID

#: The paper every fact of cdkg derives from (``data/paper.ttl``).
PAPER = URIRef(ID + "paper")
SCHEMA = "https://schema.org/"
#: The link relation naming the paper (RFC 8288 §2.1.2: an extension relation is a URI).
SOURCE_REL = "http://purl.org/dc/terms/source"
#: The dataset's name as cited; CITATION.cff's title is the same (tests/test_citation_cff.py).
DATASET_TITLE = "City Diplomacy Knowledge Graph (cdkg)"


def query_sha256(query: CannedQuery) -> str:
    """SHA-256 (hex) of the query's text, as its file holds it."""
    return hashlib.sha256(query.text.encode("utf-8")).hexdigest()


def _label(graph: Graph, node: Node | None, lang: str) -> str | None:
    if node is None:
        return None
    return next(
        (
            str(lit)
            for lit in graph.objects(node, RDFS.label)
            if isinstance(lit, Literal) and lit.language == lang
        ),
        None,
    )


def _value(graph: Graph, node: Node | None, prop: str) -> str | None:
    found = graph.value(node, URIRef(SCHEMA + prop)) if node is not None else None
    return None if found is None else str(found)


@dataclass(frozen=True)
class Paper:
    """The source paper's bibliographic record, as the graph holds it: only what could be
    confirmed (reference/README.md). A field the record lacks is ``None``, never a guess: the
    authors' names, the English title and a DOI could not be confirmed."""

    iri: str
    title_fa: str | None
    title_en: str | None  # cdkg's translation of the title, not the article's own
    journal_fa: str | None
    journal_en: str | None
    publisher: str | None
    volume: str | None
    issue: str | None
    issue_label: str | None  # e.g. "Foreign Policy Quarterly 32(1), spring 1397 (2018)"
    year: int | None
    pages: str | None  # as recorded, "95-117": the running heads (the editorial notes say more)
    url: str | None
    language: str | None
    authors: tuple[str, ...]  # each author's affiliation as the landing page gives it (no names)
    notes: tuple[str, ...]  # the record's editorial notes, in English

    @classmethod
    def read(cls, graph: Graph) -> Paper:
        issue = graph.value(PAPER, URIRef(SCHEMA + "isPartOf"))
        volume = graph.value(issue, URIRef(SCHEMA + "isPartOf")) if issue is not None else None
        journal = graph.value(volume, URIRef(SCHEMA + "isPartOf")) if volume is not None else None
        publisher = (
            graph.value(journal, URIRef(SCHEMA + "publisher")) if journal is not None else None
        )
        authors = sorted(
            graph.objects(PAPER, URIRef(SCHEMA + "author")),
            key=lambda a: int(_value(graph, a, "position") or 0),
        )
        year = _value(graph, PAPER, "datePublished")
        return cls(
            iri=str(PAPER),
            title_fa=_label(graph, PAPER, "fa"),
            title_en=_label(graph, PAPER, "en"),
            journal_fa=_label(graph, journal, "fa"),
            journal_en=_label(graph, journal, "en"),
            publisher=_label(graph, publisher, "en"),
            volume=_value(graph, volume, "volumeNumber"),
            issue=_value(graph, issue, "issueNumber"),
            issue_label=_label(graph, issue, "en"),
            year=int(year) if year and year.isdigit() else None,
            pages=_value(graph, PAPER, "pagination"),
            url=_value(graph, PAPER, "url"),
            language=_value(graph, PAPER, "inLanguage"),
            authors=tuple(a for a in (_value(graph, n, "description") for n in authors) if a),
            notes=tuple(
                sorted(
                    str(n)
                    for n in graph.objects(PAPER, SKOS.editorialNote)
                    if isinstance(n, Literal) and n.language == "en"
                )
            ),
        )

    def reference(self) -> str:
        """The paper as a reference line: the Persian title, the English one marked as the
        project's translation (the article's own could not be confirmed), the journal issue, the
        pages and the landing page."""
        parts = [
            f"«{self.title_fa}»" if self.title_fa else None,
            f"[{self.title_en}: cdkg's translation of the title]" if self.title_en else None,
            self.issue_label,
            f"pp. {self.pages}" if self.pages is not None else None,
            self.url,
        ]
        found = [p for p in parts if p]
        return ". ".join(found) + f" <{self.iri}>" if found else f"<{self.iri}>"


def paper_reference(graph: Graph) -> str:
    """The paper as a reference line, from its record in the graph (:meth:`Paper.reference`)."""
    return Paper.read(graph).reference()


@dataclass(frozen=True)
class Release:
    """The dataset's release, from the ontology header: what CITATION.cff says too."""

    creator: str | None  # dcterms:creator, e.g. "cdkg contributors"
    version: str | None  # owl:versionInfo, e.g. "0.1.0"
    released: datetime.date | None  # dcterms:issued, equal to CITATION.cff's date-released
    license: str | None  # dcterms:license, an IRI
    data_version: str  # the content hash of the data files: the `CDKG-Dataset-Version` header

    @classmethod
    def read(cls, graph: Graph, data_version: str) -> Release:
        ontology = next(
            (o for o in graph.subjects(RDF.type, OWL.Ontology) if isinstance(o, URIRef)), None
        )
        issued = graph.value(ontology, DCTERMS.issued) if ontology is not None else None
        released = issued.toPython() if isinstance(issued, Literal) else None

        def text(prop: URIRef) -> str | None:
            found = graph.value(ontology, prop) if ontology is not None else None
            return None if found is None else str(found)

        return cls(
            creator=text(DCTERMS.creator),
            version=text(OWL.versionInfo),
            released=released if isinstance(released, datetime.date) else None,
            license=text(DCTERMS.license),
            data_version=data_version,
        )


@dataclass(frozen=True)
class Work:
    """One thing cited: the dataset, or the result of a canned query (``query`` set), as read
    on ``accessed`` at ``url`` (``None`` when no URL readers can reach is known)."""

    release: Release
    paper: Paper
    accessed: datetime.date
    url: str | None = None
    query: str | None = None  # the canned query's name
    query_title: str | None = None
    query_sha256: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def result(
        cls,
        query: CannedQuery,
        params: Mapping[str, str],
        *,
        release: Release,
        paper: Paper,
        accessed: datetime.date,
        url: str | None,
    ) -> Work:
        return cls(
            release,
            paper,
            accessed,
            url,
            query.name,
            query.title,
            query_sha256(query),
            tuple(sorted(params.items())),
        )


@dataclass(frozen=True)
class Citation:
    """What a canned query's result is cited by."""

    query: str
    query_sha256: str
    dataset_version: str
    paper: str  # a reference line, from :func:`paper_reference`
    url: str | None = None  # the result's stable URL, when served
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        query: CannedQuery,
        dataset_version: str,
        paper: str,
        *,
        url: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Citation:
        return cls(
            query.name,
            query_sha256(query),
            dataset_version,
            paper,
            url,
            tuple(sorted((params or {}).items())),
        )

    def headers(self) -> dict[str, str]:
        """Response headers (ASCII only: the Persian title stays in the body)."""
        links = [f'<{PAPER}>; rel="{SOURCE_REL}"']
        if self.url:
            links.insert(0, f'<{self.url}>; rel="cite-as"')
        return {
            "CDKG-Query": self.query,
            "CDKG-Query-SHA256": self.query_sha256,
            "CDKG-Dataset-Version": self.dataset_version,
            "Link": ", ".join(links),
        }

    def text(self) -> str:
        """The citation as lines of text, for people."""
        bound = ", ".join(f"{k}={v}" for k, v in self.params) or "none"
        lines = [
            f"Source: {self.paper}",
            f"Data: City Diplomacy Knowledge Graph (cdkg), dataset version {self.dataset_version}",
            f"Query: {self.query} (SHA-256 {self.query_sha256}); parameters: {bound}",
        ]
        if self.url:
            lines.append(f"Result: {self.url}")
        return "\n".join(lines)
