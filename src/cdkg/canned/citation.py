"""How to cite the result of a canned query: the paper, the data's version, the query and its hash.

A result is reproducible from four things: the source paper, the dataset version (a content hash
of the data files, :func:`cdkg.kg.graph.dataset_version`), the query's name and a SHA-256 of its
text (the ``.rq`` file as written; the parameters are in the result's URL). The web face sends them
as response headers on every format, with ``Link: <...>; rel="cite-as"`` (RFC 8574) naming the
result's stable URL; the HTML page and ``cdkg query`` (on stderr) print :meth:`Citation.text`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from cdkg.canned.registry import CannedQuery
from cdkg.names import ID

#: The paper every fact of cdkg derives from (``data/paper.ttl``).
PAPER = URIRef(ID + "paper")
SCHEMA = "https://schema.org/"
#: The link relation naming the paper (RFC 8288 §2.1.2: an extension relation is a URI).
SOURCE_REL = "http://purl.org/dc/terms/source"


def query_sha256(query: CannedQuery) -> str:
    """SHA-256 (hex) of the query's text, as its file holds it."""
    return hashlib.sha256(query.text.encode("utf-8")).hexdigest()


def paper_reference(graph: Graph) -> str:
    """The paper as a reference line, read from its record in the graph: the Persian title, the
    English one marked as the project's translation (the article's own could not be confirmed),
    the journal issue, the pages and the landing page."""
    titles = {
        lit.language: str(lit)
        for lit in graph.objects(PAPER, RDFS.label)
        if isinstance(lit, Literal)
    }
    issue = graph.value(PAPER, URIRef(SCHEMA + "isPartOf"))
    issue_label = next(
        (
            str(lit)
            for lit in graph.objects(issue, RDFS.label)
            if isinstance(lit, Literal) and lit.language == "en"
        ),
        None,
    )
    pages = graph.value(PAPER, URIRef(SCHEMA + "pagination"))
    url = graph.value(PAPER, URIRef(SCHEMA + "url"))
    parts = [
        f"«{titles['fa']}»" if "fa" in titles else None,
        f"[{titles['en']}: cdkg's translation of the title]" if "en" in titles else None,
        issue_label,
        f"pp. {pages}" if pages is not None else None,
        str(url) if url is not None else None,
    ]
    found = [p for p in parts if p]
    return ". ".join(found) + f" <{PAPER}>" if found else f"<{PAPER}>"


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
