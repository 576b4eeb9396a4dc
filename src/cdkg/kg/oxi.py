"""rdflib graphs into pyoxigraph and back: a fast SPARQL engine for whole-graph scans.

The ``*-violation.rq`` checks read every triple (e.g. every Persian literal); rdflib's engine takes
seconds for that, Oxigraph milliseconds (``cdkg bench``). Terms are converted one to one; results
come back as rdflib terms so the rest of cdkg never sees a pyoxigraph type.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

_STRING = XSD.string


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and term.datatype != _STRING:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r}")


def from_ox(term: object) -> Node | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == str(_STRING) else URIRef(datatype))
    raise TypeError(f"cannot convert {term!r}")


def triple_from_ox(triple: ox.Triple) -> tuple[Node, Node, Node]:
    """An Oxigraph triple as an rdflib one."""
    terms = [from_ox(t) for t in (triple.subject, triple.predicate, triple.object)]
    s, p, o = (t for t in terms if t is not None)  # a triple is whole: none is None
    return s, p, o


def triple_to_ox(triple: tuple[Node, Node, Node]) -> ox.Triple:
    """An rdflib triple as an Oxigraph one."""
    s, p, o = (to_ox(term) for term in triple)
    return ox.Triple(s, p, o)  # type: ignore[arg-type]


def triple_line(triple: tuple[Node, Node, Node]) -> bytes:
    """An rdflib triple as a line of N-Triples."""
    return f"{triple_to_ox(triple)} .\n".encode()


def store(graph: Graph) -> ox.Store:
    """An in-memory Oxigraph store holding ``graph``'s triples in its default graph."""
    result = ox.Store()
    result.bulk_extend(
        ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.DefaultGraph())  # type: ignore[arg-type]
        for s, p, o in graph
    )
    return result


def select(
    db: ox.Store, query: str, default_graph: str | None = None
) -> Iterator[dict[str, Node | None]]:
    """The rows of a SELECT query, each as ``{variable: rdflib term or None}``; over the named
    graph ``default_graph`` if given, else over the store's default graph."""
    if default_graph is None:
        solutions = db.query(query)
    else:
        solutions = db.query(query, default_graph=ox.NamedNode(default_graph))
    names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
    for solution in solutions:  # type: ignore[union-attr]
        yield {name: from_ox(solution[name]) for name in names}
