"""Run an admitted query under the time limit and the row cap; keep the result cache.

:meth:`Engine.run` is the one way a query is answered: cache first; else a free worker slot
(at most ``settings.workers`` queries run at once); then, in a forked child (:mod:`cdkg.worker`),
the guard admits the query, negotiation picks the format, the query is evaluated on the dataset
it names by the store's backend (:mod:`cdkg.store`: Oxigraph by default), and the answer is
serialised there, so a runaway query is killed, not waited for. Two shortcuts skip the guard's
parse in the child: a canned query's text is parsed once in the server (under
:data:`~cdkg.worker.FORK_LOCK`: rdflib's parser is not thread-safe, RDFLib/rdflib#1282) and
inherited by its workers; and on Oxigraph an ad-hoc SELECT or ASK that cannot name a SERVICE or a
FROM graph is run without rdflib's parse at all (:meth:`cdkg.store.OxigraphBackend.quick`). A query
still running after :data:`LONG_QUERY_GRACE` is demoted to the lowest CPU priority and gives its
worker slot back.

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rdflib import Dataset

from cdkg import guard, negotiation
from cdkg.errors import BadQuery, ServiceUnavailable
from cdkg.federation import guarded_services
from cdkg.serialize import Rendered, render
from cdkg.settings import Settings
from cdkg.store import (
    Backend,
    Job,
    OxigraphBackend,
    backend_for,
    join_bgps_lazily,
    named_graphs,
)
from cdkg.worker import FORK_LOCK, demote, run_forked

__all__ = ["Engine", "QueryRequest", "join_bgps_lazily"]

log = logging.getLogger(__name__)

#: Seconds after which a running query counts as long: it is demoted to the lowest CPU priority
#: and moves to one of ``4 x settings.workers`` long-query slots, freeing its worker slot, so that
#: short queries never queue behind runaway ones (while long-query slots last).
LONG_QUERY_GRACE = 0.25
#: Long-query slots per worker slot: long queries run at nice 19 and take little CPU from short
#: ones, so more of them may wait out their time limit at once than there are worker slots.
LONG_SLOTS_PER_WORKER = 4
#: Parses of trusted (canned) query texts kept, least recently used out first.
PARSES_KEPT = 256
#: Largest answer kept in the result cache (how many it keeps is ``settings.cache_entries``).
CACHE_ENTRY_BYTES = 1 << 20
#: Most bytes the result cache holds in all: its keys include the Host header, which clients choose.
CACHE_BYTES = 64 << 20
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

    def __init__(
        self,
        dataset: Dataset,
        settings: Settings,
        *,
        warm: bool = True,
        backend: Backend | None = None,
    ) -> None:
        self.dataset = dataset
        self.settings = settings
        self.backend = backend_for(dataset) if backend is None else backend
        self.graphs = named_graphs(dataset)
        self._slots = threading.BoundedSemaphore(settings.workers)
        self._long_slots = threading.BoundedSemaphore(LONG_SLOTS_PER_WORKER * settings.workers)
        self._cache: OrderedDict[QueryRequest, Rendered] = OrderedDict()
        self._cache_lock = threading.Lock()
        #: Texts known to be ours (the canned queries with their defaults): a client sending one
        #: of them to /sparql gets it parsed once too.
        self.trusted_texts: frozenset[str] = frozenset()
        self._parses: OrderedDict[tuple[str, str | None], guard.Admitted] = OrderedDict()
        self._cached_bytes = 0
        if warm:
            for text, formats in WARM_UP:
                admitted = self._admit(QueryRequest(text))  # parse once, write every format
                for chosen in formats:
                    self._answer(admitted, QueryRequest(text, format=chosen.media_type))
        gc.freeze()  # the loaded graph stays put: children copy fewer pages

    def run(self, request: QueryRequest, *, trusted: bool = False) -> Rendered:
        """Answer ``request`` from the cache, or in a worker process under the time limit.

        A ``trusted`` query (a canned query's text: ours, of bounded size) is parsed here, once
        per text, and the worker inherits the parse: rdflib's parser costs more than evaluating
        most of our queries on Oxigraph. Other texts are parsed in the worker, where a parse
        that takes too long is killed with the rest of the query."""
        with self._cache_lock:
            cached = self._cache.get(request)
            if cached is not None:
                self._cache.move_to_end(request)
                return cached
        guard.screen(request.text)  # cheap refusals need no process
        trusted = trusted or request.text in self.trusted_texts
        admitted = self._parse_once(request) if trusted else None
        deadline = time.monotonic() + self.settings.timeout
        if not self._slots.acquire(timeout=self.settings.timeout):
            raise ServiceUnavailable(
                f"all {self.settings.workers} query workers stayed busy for "
                f"{self.settings.timeout:g} s",
                hint="retry in a little while",
            )
        moved = False

        def on_long(pid: int) -> None:
            """Past the grace period: the query runs on at the lowest CPU priority and, if a
            long-query slot is free, gives its worker slot back for short queries."""
            nonlocal moved
            demote(pid)
            if self._long_slots.acquire(blocking=False):
                moved = True
                self._slots.release()

        try:
            answer = run_forked(
                lambda: self._respond(request, admitted, deadline),
                self.settings.timeout,
                grace=LONG_QUERY_GRACE,
                on_long=on_long,
            )
        finally:
            (self._long_slots if moved else self._slots).release()
        self._remember(request, answer)
        return answer

    def _parse_once(self, request: QueryRequest) -> guard.Admitted:
        """The admitted parse of a trusted text, from the parse cache or made now. Parsing here
        holds :data:`~cdkg.worker.FORK_LOCK`: rdflib's parser is not thread-safe, and no worker
        may start from a copy of the process taken mid-parse."""
        key = (request.text, request.base)
        with FORK_LOCK:
            admitted = self._parses.get(key)
            if admitted is None:
                admitted = self._admit(request)
                self._parses[key] = admitted
                if len(self._parses) > PARSES_KEPT:
                    self._parses.popitem(last=False)
            else:
                self._parses.move_to_end(key)
            return admitted

    def _remember(self, request: QueryRequest, answer: Rendered) -> None:
        """Keep ``answer`` unless it is large, depends on another endpoint, or caching is off;
        the least recently used answers go first."""
        limit = self.settings.cache_entries
        if not limit or len(answer.body) > CACHE_ENTRY_BYTES:
            return
        if _MAY_CALL_SERVICE.search(request.text):
            return
        with self._cache_lock:
            replaced = self._cache.pop(request, None)  # two misses for one query may race here
            if replaced is not None:
                self._cached_bytes -= len(replaced.body)
            self._cache[request] = answer
            self._cached_bytes += len(answer.body)
            while len(self._cache) > limit or self._cached_bytes > CACHE_BYTES:
                _, dropped = self._cache.popitem(last=False)
                self._cached_bytes -= len(dropped.body)

    def execute(self, request: QueryRequest, deadline: float | None = None) -> Rendered:
        """Admit, evaluate and serialise ``request`` in this process (the worker calls this);
        ``deadline`` (``time.monotonic()``) bounds its SERVICE calls, default the time limit
        from now."""
        return self._answer(self._admit(request), request, deadline)

    def _respond(
        self, request: QueryRequest, admitted: guard.Admitted | None, deadline: float
    ) -> Rendered:
        """In the worker: the answer from the parse the server made, else from Oxigraph without
        rdflib's parse where that is safe (:meth:`cdkg.store.OxigraphBackend.quick`), else by
        the guard's full reading."""
        if admitted is None and isinstance(self.backend, OxigraphBackend):
            found = self.backend.quick(
                request.text, request.default_graphs, request.named_graphs, request.base
            )
            if found is not None:
                form, result = found
                chosen = negotiation.negotiate(
                    request.accept, negotiation.RESULT_FORMATS, request.format
                )
                return render(result, form, chosen, self.settings.max_rows)
        return self._answer(admitted or self._admit(request), request, deadline)

    def _admit(self, request: QueryRequest) -> guard.Admitted:
        return guard.admit(
            request.text,
            allow_service=self.settings.allow_service,
            graphs=self.graphs,
            base=request.base,
        )

    def _answer(
        self, admitted: guard.Admitted, request: QueryRequest, deadline: float | None = None
    ) -> Rendered:
        if deadline is None:
            deadline = time.monotonic() + self.settings.timeout
        forms = negotiation.GRAPH_FORMATS
        if admitted.form in ("SELECT", "ASK"):
            forms = negotiation.RESULT_FORMATS
        chosen = negotiation.negotiate(request.accept, forms, request.format)
        defaults, named = request.default_graphs, request.named_graphs
        if not (defaults or named):
            defaults, named = admitted.from_graphs, admitted.from_named
        services = guarded_services(
            self.settings.allow_service, deadline, self.settings.service_timeout
        )
        with services, _too_deep_is_bad_query():
            result = self.backend.evaluate(
                Job(admitted, request.text, defaults, named, request.base)
            )
            return render(
                result,
                admitted.form,
                chosen,
                self.settings.max_rows,
                namespaces=admitted.query.prologue.namespace_manager,
                variables=admitted.star_variables,
            )


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
