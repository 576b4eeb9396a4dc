"""The queries the per-query benchmark times: every canned query with its default parameters
(SPARQL JSON results), and a few CONSTRUCT and DESCRIBE queries (:data:`GRAPH_QUERIES`,
N-Triples); each as cdkg's clients send it and as another server needs it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdkg.canned.registry import Registry
from cdkg.kg.views import views_dir
from cdkg.sparql.prefixes import with_prefixes
from cdkg_bench.client import ACCEPT, NTRIPLES

#: The kinds of query: canned (SELECT/ASK, JSON) and CONSTRUCT/DESCRIBE (N-Triples).
CANNED, GRAPH = "canned", "graph"

#: The CONSTRUCT and DESCRIBE queries, beside the canned ones: (name, text); ``@view`` is read
#: from ``queries/views/wikidata-view.rq`` (the Wikidata-shaped view, a 100-line CONSTRUCT).
GRAPH_QUERIES: tuple[tuple[str, str], ...] = (
    ("describe-tehran", "DESCRIBE <https://w3id.org/cdkg/id/city/tehran>"),
    (
        "describe-ties",
        "PREFIX cdkg: <https://w3id.org/cdkg/ontology#>\n"
        "DESCRIBE ?tie WHERE { ?tie a cdkg:SisterCityTie }",
    ),
    (
        "construct-ties",
        "PREFIX cdkg: <https://w3id.org/cdkg/ontology#>\n"
        "CONSTRUCT { ?tie ?p ?o } WHERE { ?tie a cdkg:SisterCityTie ; ?p ?o }",
    ),
    ("construct-wikidata-view", "@view"),
)


@dataclass(frozen=True)
class BenchQuery:
    """A query of the benchmark: its name, kind and text as cdkg's clients send it."""

    name: str
    kind: str
    text: str

    @property
    def accept(self) -> str:
        return NTRIPLES if self.kind == GRAPH else ACCEPT

    @property
    def declared(self) -> str:
        """The text for the other servers: cdkg's predeclared prefixes declared."""
        return with_prefixes(self.text)


def bench_queries(registry: Registry, names: Sequence[str] = ()) -> list[BenchQuery]:
    """Every canned query of ``registry`` (default parameters) and every one of
    :data:`GRAPH_QUERIES`; only those in ``names`` if any are given."""
    found = [BenchQuery(q.name, CANNED, q.bind({})) for q in registry]
    for name, text in GRAPH_QUERIES:
        view = views_dir() / "wikidata-view.rq"
        found.append(
            BenchQuery(name, GRAPH, view.read_text(encoding="utf-8") if text == "@view" else text)
        )
    return [q for q in found if not names or q.name in names]
