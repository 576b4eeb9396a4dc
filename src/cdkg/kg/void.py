"""VoID (https://www.w3.org/TR/void/) of the cdkg graph: its statistics, and the description.

One builder for the endpoint's ``/void`` (:mod:`cdkg.web.service`, the dataset at the server's base
URL) and for ``cdkg release`` (:mod:`cdkg.scholarly.release`, the dataset a release bundle holds).
The numbers (triples, classes, properties, partitions) are counted on the store; the title,
licence, creator, version and source paper are read from the ontology's ``owl:Ontology`` header,
so nothing here is hard-coded.
"""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import OWL, RDF, RDFS, BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, VOID

from cdkg.kg import store
from cdkg.names import CDKG_GRAPH, ID
from cdkg.sparql import negotiation
from cdkg.sparql.negotiation import Format

#: The blank node standing for the dataset in :func:`void_statistics`.
DATASET = BNode("cdkg")

#: VoID's counts, each one aggregate query on the store (fast on Oxigraph, where iterating every
#: triple through rdflib's API is not).
_TOTALS = """SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects)
(COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }"""
_TOTAL_PREDICATES = (VOID.triples, VOID.distinctSubjects, VOID.distinctObjects)
_CLASSES = """SELECT ?class (COUNT(*) AS ?n)
WHERE { ?s a ?class FILTER (isIRI(?class)) } GROUP BY ?class"""
_PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"


def void_statistics(dataset: Dataset) -> Graph:
    """VoID statistics of the cdkg graph, on the blank node :data:`DATASET` (replaced by the
    dataset's IRI in :func:`void_description`). The partitions' blank nodes are labelled by their
    rank, so the same data gives the same graph."""
    graph = dataset.get_context(CDKG_GRAPH)
    out = Graph()
    totals = next(iter(store.query(graph, _TOTALS)))
    classes = [(c, n) for c, n in store.query(graph, _CLASSES)]  # type: ignore[misc]
    properties = [(p, n) for p, n in store.query(graph, _PROPERTIES)]  # type: ignore[misc]
    for predicate, value in zip(_TOTAL_PREDICATES, totals, strict=True):  # type: ignore[arg-type]
        out.add((DATASET, predicate, Literal(int(str(value)))))
    out.add((DATASET, VOID.classes, Literal(len(classes))))
    out.add((DATASET, VOID.properties, Literal(len(properties))))
    for rank, (cls, count) in enumerate(sorted(classes), start=1):
        part = BNode(f"class{rank}")
        out.add((DATASET, VOID.classPartition, part))
        out.add((part, VOID["class"], cls))
        out.add((part, VOID.entities, Literal(int(str(count)))))
    for rank, (prop, count) in enumerate(sorted(properties), start=1):
        part = BNode(f"property{rank}")
        out.add((DATASET, VOID.propertyPartition, part))
        out.add((part, VOID.property, prop))
        out.add((part, VOID.triples, Literal(int(str(count)))))
    for ontology in graph.subjects(RDF.type, OWL.Ontology):
        if not isinstance(ontology, URIRef):
            continue
        out.add((DATASET, VOID.vocabulary, ontology))
        for source, target in ((RDFS.label, DCTERMS.title), (RDFS.comment, DCTERMS.description)):
            for value in graph.objects(ontology, source):
                out.add((DATASET, target, value))
        for prop in (DCTERMS.license, DCTERMS.source, DCTERMS.creator, OWL.versionInfo):
            for value in graph.objects(ontology, prop):
                out.add((DATASET, prop, value))
                if prop == DCTERMS.source:  # what the data says about its source paper
                    for p, o in graph.predicate_objects(value):
                        out.add((value, p, o))
    return out


def void_description(
    stats: Graph,
    dataset: URIRef,
    *,
    version: str,
    dumps: Mapping[URIRef, Format],
    sparql: URIRef | None = None,
) -> Graph:
    """The VoID description of ``dataset``: ``stats`` (:func:`void_statistics`) on it, its
    ``version`` (:func:`cdkg.kg.graph.dataset_version`) as ``dcterms:identifier``, each of
    ``dumps`` (its IRI, its format) as a ``void:dataDump``, and its SPARQL endpoint if any."""
    out = Graph()
    out.bind("void", VOID)
    out.bind("dcterms", DCTERMS)
    out.bind("formats", Namespace(negotiation.FORMATS_NS))
    for s, p, o in stats:
        out.add((dataset if s == DATASET else s, p, o))
    out.add((dataset, RDF.type, VOID.Dataset))
    if sparql is not None:
        out.add((dataset, VOID.sparqlEndpoint, sparql))
    out.add((dataset, VOID.uriSpace, Literal(ID)))
    out.add((dataset, DCTERMS.identifier, Literal(version)))
    for iri, fmt in dumps.items():
        out.add((dataset, VOID.dataDump, iri))
        if fmt.iri:
            out.add((dataset, VOID.feature, URIRef(fmt.iri)))
    return out
