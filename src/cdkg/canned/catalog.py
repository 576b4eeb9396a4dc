"""The canned queries as RDF, in the style of the SIB sparql-examples collection
(https://github.com/sib-swiss/sparql-examples), so that SPARQL can find them.

Each query is a ``sh:SPARQLExecutable`` (SHACL §5.1, https://www.w3.org/TR/shacl/#sparql-constraints)
and a ``sh:SPARQLSelectExecutable`` (or Ask, Construct, Describe) whose ``sh:select`` (``sh:ask``,
...) holds its text, with ``rdfs:label`` and ``rdfs:comment`` in English and, where the header
gives them, Persian; ``dcterms:source`` the paper; ``schema:keywords`` its tags. The graph is built
from the registry when the app starts, into the named graph :data:`QUERIES_GRAPH`; it is never a
file in ``data/``, and start-up validation (of the cdkg graph only) never sees it.
"""

from __future__ import annotations

import re

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SH

from cdkg.canned.citation import PAPER, query_sha256
from cdkg.canned.registry import CannedQuery, Registry
from cdkg.names import ID

QUERIES_GRAPH = URIRef("https://w3id.org/cdkg/graph/queries")
#: Where each query's IRI lives: ``https://w3id.org/cdkg/id/query/NAME``.
QUERY_NS = Namespace(ID + "query/")
SCHEMA = Namespace("https://schema.org/")

#: The executable class and the property holding the text, per query form.
FORMS = {
    "SELECT": (SH.SPARQLSelectExecutable, SH.select),
    "ASK": (SH.SPARQLAskExecutable, SH.ask),
    "CONSTRUCT": (SH.SPARQLConstructExecutable, SH.construct),
    "DESCRIBE": (SH.SPARQLExecutable, URIRef(f"{SH}describe")),  # as sparql-examples writes it
}


def query_iri(name: str) -> URIRef:
    return QUERY_NS[name]


def describe(query: CannedQuery, graph: Graph) -> URIRef:
    """Add the triples describing ``query`` to ``graph``; returns its IRI."""
    node = query_iri(query.name)
    kind, text_property = FORMS[query.form]
    graph.add((node, RDF.type, SH.SPARQLExecutable))
    graph.add((node, RDF.type, kind))
    graph.add((node, text_property, Literal(query.text)))
    graph.add((node, DCTERMS.identifier, Literal(query.name)))
    graph.add((node, RDFS.label, Literal(query.title, lang="en")))
    if query.title_fa:
        graph.add((node, RDFS.label, Literal(query.title_fa, lang="fa")))
    if query.description:
        graph.add((node, RDFS.comment, Literal(query.description, lang="en")))
    if query.description_fa:
        graph.add((node, RDFS.comment, Literal(query.description_fa, lang="fa")))
    graph.add((node, DCTERMS.source, PAPER))
    if query.source:
        graph.add((node, DCTERMS.bibliographicCitation, Literal(query.source)))
    for tag in query.tags:
        graph.add((node, SCHEMA.keywords, Literal(tag)))
    if query.rq:
        graph.add((node, SCHEMA.keywords, Literal(query.rq)))
        found = re.fullmatch(r"RQ\s*(\d+)", query.rq.strip(), re.IGNORECASE)
        if found:
            graph.add((node, SCHEMA.about, URIRef(f"{ID}rq/{found.group(1)}")))
    graph.add((node, SCHEMA.sha256, Literal(query_sha256(query))))
    return node


def catalog(registry: Registry) -> Graph:
    """All canned queries of ``registry`` as one graph."""
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("schema", SCHEMA)
    graph.bind("dcterms", DCTERMS)
    for query in registry:
        describe(query, graph)
    return graph
