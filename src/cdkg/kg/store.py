"""Where the dataset lives: an in-memory Oxigraph store, with rdflib's API over it for the code
that reads it (entity pages, the audit, validation), and :func:`query` for that code's queries.

The endpoint's answers do not pass here: :mod:`cdkg.engine.evaluate` has Oxigraph evaluate and write
them. :func:`query` is for cdkg's own reading of its data, where rdflib terms are what the code
wants; it gives the same terms on every store (``oxrdflib`` alone would type plain strings
``xsd:string``, and would run a prepared query on rdflib's slow engine).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import XSD, Dataset, Graph, Literal, URIRef, Variable
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.query import Result
from rdflib.term import Node

from cdkg.kg import oxi
from cdkg.sparql.prefixes import PREFIXES

#: The embedded store (``--store`` names it, or an external endpoint's URL).
OXIGRAPH = "oxigraph"


class _Store(OxigraphStore):
    """``oxrdflib``'s store over a pyoxigraph store we hold ourselves (:attr:`ox`). Its triples
    come back with plain strings as rdflib's plain literals (``oxrdflib`` types them
    ``xsd:string``, which rdflib 7 holds unequal to the plain literal it parsed)."""

    def __init__(self) -> None:
        self.ox = ox.Store()
        super().__init__(store=self.ox)

    def triples(
        self, triple_pattern: Any, context: Any = None
    ) -> Iterator[tuple[tuple[Node, Node, Node], Iterator[Any]]]:
        for (s, p, o), contexts in super().triples(triple_pattern, context):
            plain = isinstance(o, Literal) and o.datatype == XSD.string
            yield (s, p, Literal(str(o)) if plain else o), contexts


def new_dataset(kind: str = OXIGRAPH) -> Dataset:
    """An empty dataset whose default graph is the union of its named graphs, on ``kind``'s
    store (``oxigraph``; anything else gets rdflib's memory store)."""
    if kind == OXIGRAPH:
        return Dataset(store=_Store(), default_union=True)
    return Dataset(default_union=True)


def oxigraph_of(graph: Graph) -> ox.Store | None:
    """The pyoxigraph store under ``graph`` (a dataset or one of its graphs), if it has one."""
    store = graph.store
    return store.ox if isinstance(store, _Store) else None


def query(graph: Graph, text: str) -> Result:
    """Run the SPARQL query ``text`` on ``graph`` (a dataset: over the union of its graphs; one
    graph of a dataset: over that graph) with the engine of its store, as an rdflib Result.

    Code that queries a loaded graph goes through here rather than ``graph.query``: on an
    Oxigraph store, ``oxrdflib`` would hand back ``xsd:string``-typed literals where rdflib has
    plain ones (so results would depend on the store), and silently runs a prepared query on
    rdflib's slow engine."""
    db = oxigraph_of(graph)
    if db is None:
        return graph.query(text, initNs=PREFIXES)
    if isinstance(graph, Dataset):
        answer = db.query(text, use_default_graph_as_union=True, prefixes=PREFIXES)
    else:
        answer = db.query(
            text, default_graph=ox.NamedNode(str(graph.identifier)), prefixes=PREFIXES
        )
    if isinstance(answer, ox.QueryBoolean):
        result = Result("ASK")
        result.askAnswer = bool(answer)
    elif isinstance(answer, ox.QuerySolutions):
        names = [v.value for v in answer.variables]
        result = Result("SELECT")
        result.vars = [Variable(name) for name in names]
        result.bindings = list(_bindings(answer, names))
    else:
        result = Result("CONSTRUCT")
        result.graph = Graph()
        for triple in answer:
            result.graph.add(oxi.triple_from_ox(triple))
    return result


def construct_into(dataset: Dataset, source: URIRef, text: str, target: URIRef) -> int:
    """Evaluate the CONSTRUCT ``text`` over the named graph ``source`` and add its triples to the
    named graph ``target``; returns how many. On Oxigraph the triples never become rdflib terms."""
    db = oxigraph_of(dataset)
    if db is None:
        built = query(dataset.get_context(source), text).graph
        if built is None or not len(built):
            return 0
        into = dataset.graph(target)
        into += built
        return len(built)
    name = ox.NamedNode(str(target))
    answer = db.query(text, default_graph=ox.NamedNode(str(source)), prefixes=PREFIXES)
    quads = [ox.Quad(t.subject, t.predicate, t.object, name) for t in answer]  # type: ignore[union-attr]
    db.extend(quads)
    return len(quads)


def _bindings(solutions: ox.QuerySolutions, names: list[str]) -> Iterator[dict[Variable, Any]]:
    """Each solution as ``{Variable: rdflib term}``, unbound variables left out."""
    variables = [(name, Variable(name)) for name in names]
    for solution in solutions:
        row = {}
        for name, variable in variables:
            value = solution[name]
            if value is not None:
                row[variable] = oxi.from_ox(value)
        yield row


def named_graphs(dataset: Dataset) -> frozenset[str]:
    """The IRIs of ``dataset``'s named graphs."""
    return frozenset(
        str(g.identifier) for g in dataset.graphs() if g.identifier != DATASET_DEFAULT_GRAPH_ID
    )
