"""Run an admitted query under the time limit and the row cap; keep the result cache.

:meth:`Engine.run` is the one way a query is answered: cache first; else a free worker slot
(at most ``settings.workers`` queries run at once); then, in a forked child (:mod:`cdkg.worker`),
the guard admits the query, negotiation picks the format, the query is evaluated on the dataset
it names, and the answer is serialised there. Everything rdflib does happens in the child, so its
thread-unsafe parser (RDFLib/rdflib#1282) never runs in two threads at once, and a runaway query
is killed, not waited for.

The dataset (SPARQL 1.1 Protocol §2.1.4, Query §13): with no ``default-graph-uri`` /
``named-graph-uri`` and no ``FROM`` / ``FROM NAMED``, the default graph is the union of all named
graphs and every named graph is visible to ``GRAPH``. Otherwise the protocol's graphs (or, if it
names none, the query's) make up a new dataset holding exactly those graphs: the default graph the
merge of the default ones, and only the named ones visible to ``GRAPH``. A graph IRI the dataset
does not hold is an empty graph; nothing is ever fetched.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql.evaluate import evalQuery
from rdflib.plugins.sparql.parserutils import CompValue

from cdkg import guard, negotiation
from cdkg.errors import BadQuery, ServiceUnavailable
from cdkg.federation import guarded_services
from cdkg.serialize import Rendered, render
from cdkg.settings import Settings
from cdkg.worker import run_forked

log = logging.getLogger(__name__)

#: Largest answer kept in the result cache, and how many answers it keeps.
CACHE_ENTRY_BYTES = 1 << 20
CACHE_ENTRIES = 256
#: A query that may call SERVICE: its answer depends on another endpoint, so it is not cached.
_MAY_CALL_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)

#: Queries run once in the server process at start-up, so that each forked child finds the
#: parser and the serialisers already imported and warmed (a cold parse costs ~45 ms, warm ~7).
WARM_UP = (
    (
        "PREFIX ex: <http://example.org/> SELECT ?s (COUNT(*) AS ?n) WHERE { VALUES ?s { ex:a } "
        "OPTIONAL { ?s ex:p ?x } FILTER(REGEX(STR(?s), 'a', 'i')) } GROUP BY ?s ORDER BY ?n",
        negotiation.RESULT_FORMATS,
    ),
    ("ASK { <http://example.org/a> ?p ?o }", negotiation.RESULT_FORMATS),
    ("CONSTRUCT { <http://example.org/a> ?p 1 } WHERE { }", negotiation.GRAPH_FORMATS),
    ("DESCRIBE <http://example.org/a>", (negotiation.TURTLE,)),
)


@dataclass(frozen=True)
class QueryRequest:
    """What the protocol layer hands the engine: the query text, the protocol's dataset, and
    what the client accepts."""

    text: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    accept: str | None = None
    format: str | None = None
    base: str | None = None


class Engine:
    """The frozen dataset, the worker slots, and the result cache of one server."""

    def __init__(self, dataset: Dataset, settings: Settings, *, warm: bool = True) -> None:
        self.dataset = dataset
        self.settings = settings
        self.graphs = frozenset(
            str(g.identifier) for g in dataset.graphs() if g.identifier != DATASET_DEFAULT_GRAPH_ID
        )
        self._slots = threading.BoundedSemaphore(settings.workers)
        self._cache: OrderedDict[QueryRequest, Rendered] = OrderedDict()
        self._cache_lock = threading.Lock()
        if warm:
            for text, formats in WARM_UP:
                for chosen in formats:
                    self.execute(QueryRequest(text, format=chosen.media_type))
        gc.freeze()  # the loaded graph stays put: children copy fewer pages

    def run(self, request: QueryRequest) -> Rendered:
        """Answer ``request`` from the cache, or in a worker process under the time limit."""
        with self._cache_lock:
            cached = self._cache.get(request)
            if cached is not None:
                self._cache.move_to_end(request)
                return cached
        guard.screen(request.text)  # cheap refusals need no process
        deadline = time.monotonic() + self.settings.timeout
        if not self._slots.acquire(timeout=self.settings.timeout):
            raise ServiceUnavailable(
                f"all {self.settings.workers} query workers stayed busy for "
                f"{self.settings.timeout:g} s",
                hint="retry in a little while",
            )
        try:
            answer = run_forked(lambda: self.execute(request, deadline), self.settings.timeout)
        finally:
            self._slots.release()
        if len(answer.body) <= CACHE_ENTRY_BYTES and not _MAY_CALL_SERVICE.search(request.text):
            with self._cache_lock:
                self._cache[request] = answer
                if len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
        return answer

    def execute(self, request: QueryRequest, deadline: float | None = None) -> Rendered:
        """Admit, evaluate and serialise ``request`` in this process (the worker calls this);
        ``deadline`` (``time.monotonic()``) bounds its SERVICE calls, default the time limit
        from now."""
        if deadline is None:
            deadline = time.monotonic() + self.settings.timeout
        admitted = guard.admit(
            request.text,
            allow_service=self.settings.allow_service,
            graphs=self.graphs,
            base=request.base,
        )
        forms = negotiation.GRAPH_FORMATS
        if admitted.form in ("SELECT", "ASK"):
            forms = negotiation.RESULT_FORMATS
        chosen = negotiation.negotiate(request.accept, forms, request.format)
        defaults, named = request.default_graphs, request.named_graphs
        if not (defaults or named):
            defaults, named = admitted.from_graphs, admitted.from_named
        query = admitted.query
        query.algebra["datasetClause"] = None  # the dataset is ours to build, never rdflib's
        join_bgps_lazily(query.algebra)
        dataset = self.dataset
        if defaults or named:
            dataset = self.view(defaults, named)
        services = guarded_services(
            self.settings.allow_service, deadline, self.settings.service_timeout
        )
        with services, _too_deep_is_bad_query():
            result: Mapping[str, Any] = evalQuery(dataset, query, base=request.base)
            return render(
                result,
                admitted.form,
                chosen,
                self.settings.max_rows,
                namespaces=query.prologue.namespace_manager,
                variables=admitted.star_variables,
            )

    def view(self, defaults: Sequence[str], named: Sequence[str]) -> Dataset:
        """A dataset of exactly these graphs: ``defaults`` merged as the default graph,
        ``named`` as the only named graphs."""
        view = Dataset(default_union=False)
        for iri in defaults:
            view.default_graph += self.dataset.get_context(URIRef(iri))
        for iri in named:
            graph = view.graph(URIRef(iri))
            graph += self.dataset.get_context(URIRef(iri))
        return view


def join_bgps_lazily(algebra: CompValue) -> int:
    """Evaluate every join whose right side is a basic graph pattern (or a SERVICE) once per left
    solution.

    rdflib marks a Join lazy only when neither side holds another Join, so a group such as
    ``{ triples VALUES ... more triples }`` evaluates ``more triples`` on its own, as a cross
    product, then joins: a canned query of this shape took 378 s instead of 0.7 s. Substituting
    each left solution into a BGP and matching it is exactly the join of the two (a BGP has no
    FILTER, OPTIONAL or scope of its own), so the answer is the same. Returns how many joins
    were changed.

    A SERVICE on the right becomes a bound join: rdflib sends each left solution along as a
    ``VALUES`` block, so the remote endpoint is asked about our items only, not about all of its
    data (the answer is the same join).
    """
    changed = 0
    for node in guard.walk(algebra):
        right = dict.get(node, "p2")
        is_bgp = isinstance(right, CompValue) and right.name in ("BGP", "ServiceGraphPattern")
        if node.name == "Join" and is_bgp and not dict.get(node, "lazy"):
            node["lazy"] = True
            changed += 1
    return changed


@contextmanager
def _too_deep_is_bad_query() -> Iterator[None]:
    """rdflib evaluates recursively: a long chain of OPTIONALs can exhaust the stack."""
    try:
        yield
    except RecursionError:
        raise BadQuery(
            "the query is too deeply nested to evaluate",
            hint="split it into simpler queries, or join patterns in one group instead of "
            "chaining many OPTIONAL or UNION blocks",
        ) from None
