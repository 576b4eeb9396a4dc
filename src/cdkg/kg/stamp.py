"""The dataset version stamp an external store holds: written by ``cdkg load``, read once by
``cdkg serve --store URL`` at start-up.

The stamp is the named graph :data:`META_GRAPH` (``https://w3id.org/cdkg/graph/meta``), a few
hundred triples whatever the data's size::

    meta:load  a void:Dataset ;
        dcterms:identifier "<dataset version>" ;         # cdkg.kg.graph.dataset_version
        dcterms:modified "<when cdkg load wrote it>"^^xsd:dateTime ;
        sd:namedGraph meta:graph1, meta:graph2, ... .
    meta:graph1  a sd:NamedGraph ; sd:name <graph IRI> ; void:triples <its count on the store> .

plus the VoID statistics of the cdkg graph (:func:`cdkg.kg.void.void_statistics`), their blank
nodes written as ``meta:`` IRIs (``meta:cdkg`` the graph, ``meta:class1``... its partitions), so
that ``/void`` describes what the store holds without counting anything on it.

``cdkg load`` removes the stamp before it writes any graph and writes it again once every count
is verified: a store with a stamp holds what the stamp says. ``cdkg serve --store`` reads it with
one query over this graph alone (its cost does not grow with the data) and refuses to start if it
differs from its own files (:class:`StoreMismatch`), unless told to serve the store's version.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Dataset, Graph, Literal, Namespace, URIRef, Variable
from rdflib.namespace import DCTERMS, VOID, XSD
from rdflib.term import Node

from cdkg.errors import CdkgError
from cdkg.kg import oxi
from cdkg.kg.store import oxigraph_of
from cdkg.sparql.remote import RemoteStore

META_GRAPH = URIRef("https://w3id.org/cdkg/graph/meta")
META = Namespace(f"{META_GRAPH}#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
#: The node the stamp is about: the dataset as ``cdkg load`` left it in the store.
LOAD = META["load"]
#: The flag that serves the store's version when it differs from the files'.
FLAG = "--serve-store-version"


class StoreMismatch(CdkgError):
    """The external store holds another dataset than the server's files, or none at all: a
    usage error (exit 2), fixed by ``cdkg load`` or by serving the store's version."""

    status = 503


@dataclass(frozen=True)
class Stamp:
    """What a store holds, as ``cdkg load`` stamped it."""

    version: str  # the dataset version (cdkg.kg.graph.dataset_version) of the files loaded
    loaded: str  # when, as an xsd:dateTime
    graphs: Mapping[str, int]  # each named graph loaded, and its triples on the store
    statistics: Graph  # the cdkg graph's VoID statistics, on cdkg.kg.void.DATASET

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def graph_counts(dataset: Dataset) -> dict[str, int]:
    """Each named graph of ``dataset`` and its triples, counted by Oxigraph (rdflib's ``len``
    would walk a million triples one by one)."""
    db = oxigraph_of(dataset)
    if db is None:
        return {
            str(g.identifier): len(g) for g in dataset.graphs() if isinstance(g.identifier, URIRef)
        }
    rows = db.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {
        row["g"].value: int(row["n"].value)
        for row in rows  # type: ignore[union-attr]
        if isinstance(row["g"], ox.NamedNode)
    }


def new_stamp(version: str, graphs: Mapping[str, int], statistics: Graph) -> Stamp:
    """The stamp of a load finished now."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return Stamp(version, now.isoformat().replace("+00:00", "Z"), dict(graphs), statistics)


def ntriples(stamp: Stamp) -> bytes:
    """``stamp`` as the N-Triples of :data:`META_GRAPH`."""
    out = Graph()
    out.add((LOAD, RDF.type, VOID.Dataset))
    out.add((LOAD, RDFS.comment, Literal("written by cdkg load, read by cdkg serve --store")))
    out.add((LOAD, DCTERMS.identifier, Literal(stamp.version)))
    out.add((LOAD, DCTERMS.modified, Literal(stamp.loaded, datatype=XSD.dateTime)))
    for rank, (iri, count) in enumerate(sorted(stamp.graphs.items()), start=1):
        node = META[f"graph{rank}"]
        out.add((LOAD, SD.namedGraph, node))
        out.add((node, RDF.type, SD.NamedGraph))
        out.add((node, SD.name, URIRef(iri)))
        out.add((node, VOID.triples, Literal(count)))
    for s, p, o in stamp.statistics:
        out.add((_named(s), p, _named(o)))
    return b"".join(oxi.triple_line(t) for t in out)


def read(store: RemoteStore) -> Stamp | None:
    """The stamp ``store`` holds (one query, over :data:`META_GRAPH` alone), or None if it holds
    none."""
    text = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}"
    rows = store.evaluate(text, "SELECT", (), (str(META_GRAPH),))["bindings"]
    graph = Graph()
    for row in rows:
        graph.add((row[Variable("s")], row[Variable("p")], row[Variable("o")]))
    version = graph.value(LOAD, DCTERMS.identifier)
    if version is None:
        return None
    graphs, described = {}, {LOAD}
    for node in graph.objects(LOAD, SD.namedGraph):
        name, count = graph.value(node, SD.name), graph.value(node, VOID.triples)
        if name is not None and count is not None:
            graphs[str(name)] = int(str(count))
            described.add(node)  # type: ignore[arg-type]
    statistics = Graph()
    for s, p, o in graph:
        if s not in described:
            statistics.add((_unnamed(s), p, _unnamed(o)))
    return Stamp(str(version), str(graph.value(LOAD, DCTERMS.modified)), graphs, statistics)


def check(
    stamp: Stamp | None, url: str, version: str, graphs: Mapping[str, int], *, serve_store: bool
) -> tuple[Stamp, str]:
    """The stamp to serve by, and the start-up log's line saying what is served; raises
    :class:`StoreMismatch` (one line: both versions, and how to fix it) if the store holds no
    stamp, or holds another ``version`` or other ``graphs`` than the files and
    ``serve_store`` is off."""
    again = f"run `cdkg load --endpoint {url} ... --replace` to load these files"
    if stamp is None:
        raise StoreMismatch(
            f"the store at {url} holds no cdkg dataset stamp (the graph <{META_GRAPH}> is empty): "
            f"it was never loaded by cdkg load, or a load did not finish; {again}"
        )
    held = f"dataset version {stamp.version} (loaded {stamp.loaded})"
    if stamp.version == version and dict(stamp.graphs) == dict(graphs):
        return stamp, f"serving from the store at {url}: it holds {held}, as these files"
    if stamp.version != version:
        differs = f"these files are version {version}"
    else:
        apart = sorted(set(stamp.graphs) ^ set(graphs)) or [
            g for g in sorted(graphs) if stamp.graphs[g] != graphs[g]
        ]
        differs = (
            "these files are that version, but give other graphs ("
            + ", ".join(
                f"<{g}>: {stamp.graphs.get(g, 0)} triples there, {graphs.get(g, 0)} here"
                for g in apart
            )
            + ")"
        )
    if not serve_store:
        raise StoreMismatch(
            f"the store at {url} holds {held}, {differs}: {again}, or pass {FLAG} to serve "
            "the store's version"
        )
    return stamp, (
        f"serving from the store at {url}: it holds {held}, served as it is ({FLAG}), "
        f"though {differs}"
    )


def _named(term: Node) -> Node:
    """A statistics blank node (``cdkg``, ``class1``...) as its ``meta:`` IRI."""
    return META[str(term)] if isinstance(term, BNode) else term


def _unnamed(term: Node) -> Node:
    """A ``meta:`` IRI back as the statistics' blank node (``meta:cdkg`` is
    :data:`cdkg.kg.void.DATASET`, a blank node being its label)."""
    if isinstance(term, URIRef) and term.startswith(META):
        return BNode(term[len(META) :])
    return term
