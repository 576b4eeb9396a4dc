"""Run an admitted query under the time limit and the row cap; keep the result cache.

:meth:`Engine.run` is the one way a query is answered: cache first; else a free worker slot
(at most ``SLOTS_PER_WORKER x settings.workers`` queries run at once); then, in a worker process
forked from the server's zygote and kept for the next queries (:class:`cdkg.worker.WorkerPool`),
the guard admits the query, negotiation picks the format, the query is evaluated on the dataset it
names by the store's backend (:mod:`cdkg.store`: Oxigraph by default), and the answer is
serialised there, so a runaway query is killed, not waited for. Two shortcuts skip the guard's
parse: on Oxigraph a SELECT or ASK that cannot name a SERVICE or a FROM graph is run without
rdflib's parse at all (:meth:`cdkg.store.OxigraphBackend.quick`); and a canned query's text that
needs the parse is parsed once per worker, which keeps it. A query that has used
:data:`LONG_QUERY_GRACE` of CPU time is demoted to the lowest CPU priority, paused while the
server is busy, and gives its worker slot back.

The dataset (SPARQL 1.1 Protocol §2.1.4, Query §13): with no ``default-graph-uri`` /
``named-graph-uri`` and no ``FROM`` / ``FROM NAMED``, the default graph is the union of all named
graphs and every named graph is visible to ``GRAPH``. Otherwise the protocol's graphs (or, if it
names none, the query's) make up a new dataset holding exactly those graphs: the default graph the
merge of the default ones, and only the named ones visible to ``GRAPH``. A graph IRI the dataset
does not hold is an empty graph; nothing is ever fetched.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

from rdflib import Dataset

from cdkg import guard, negotiation
from cdkg.errors import BadQuery, CdkgError, QueryTimeout, ServiceUnavailable
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
from cdkg.worker import WorkerPool, demote

__all__ = ["Engine", "QueryRequest", "join_bgps_lazily"]

log = logging.getLogger(__name__)

#: CPU seconds after which a running query counts as long: it is demoted to the lowest CPU
#: priority, paused while the server is busy (:class:`LongJobs`), and moves to one of
#: ``4 x settings.workers`` long-query slots, freeing its worker slot, so that short queries
#: never queue behind runaway ones. Our canned and typical ad-hoc queries take 2-45 ms of CPU.
LONG_QUERY_GRACE = 0.25
#: Queries that may run at once per ``--workers``: while a query is being told apart (up to
#: LONG_QUERY_GRACE of CPU time), a short query need not wait for it.
SLOTS_PER_WORKER = 2
#: Seconds without any request after which the paused long queries are let go
#: (:class:`LongJobs`).
LONG_QUERIES_RESUME_AFTER = 0.25
#: Long-query slots per worker slot: long queries run at nice 19 and take little CPU from short
#: ones, so more of them may wait out their time limit at once than there are worker slots.
LONG_SLOTS_PER_WORKER = 4
#: Parses of trusted (canned) query texts a worker keeps, least recently used out first.
PARSES_KEPT = 256
#: Largest answer kept in the result cache (how many it keeps is ``settings.cache_entries``).
CACHE_ENTRY_BYTES = 1 << 20
#: Most bytes the result cache holds in all: its keys include the Host header, which clients choose.
CACHE_BYTES = 64 << 20
#: A query that may call SERVICE: its answer depends on another endpoint, so it is not cached.
_MAY_CALL_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)

#: Queries run once in the server process at start-up, so that each query worker finds the
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


#: What a new query worker runs before it takes its first query (a replacement, started in the
#: background): the pages most queries touch (copied on first write from the zygote's: Python's
#: reference counts write to every object used) are then its own already. The shapes of common
#: queries: labels with language tags, counts (typed literals) grouped and ordered, ASK. Without
#: the first two, a fresh worker's first such query took 6 ms instead of 2.3 ms here.
WORKER_WARM_UP = (
    "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label "
    "FILTER(LANG(?label) != '') } LIMIT 20",
    "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n) LIMIT 20",
    "ASK { ?s ?p ?o }",
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
        self._pool = WorkerPool(self._work, keep=settings.workers, warm=WORKER_WARM_UP)
        self._slots = threading.BoundedSemaphore(SLOTS_PER_WORKER * settings.workers)
        self._long_slots_total = LONG_SLOTS_PER_WORKER * settings.workers
        self._long_slots = threading.BoundedSemaphore(self._long_slots_total)
        #: Requests being served (the web app counts them) and the workers of long queries,
        #: paused while any such request is being served.
        self.long_jobs = LongJobs()
        self._waiting = 0  # long queries waiting for a long-query slot
        self._waiting_lock = threading.Lock()
        self._cache: OrderedDict[QueryRequest, Rendered] = OrderedDict()
        self._cache_lock = threading.Lock()
        #: Texts known to be ours (the canned queries with their defaults): a client sending one
        #: of them to /sparql gets it parsed once too.
        self.trusted_texts: frozenset[str] = frozenset()
        #: In a worker: its parses of trusted texts (empty in the server, which parses nothing).
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

        A ``trusted`` query (a canned query's text: ours, of bounded size) is parsed once per
        worker, which keeps the parse: rdflib's parser costs more than evaluating most of our
        queries on Oxigraph. Other texts are parsed for each query, in the worker, where a parse
        that takes too long is killed with the rest of the query."""
        with self._cache_lock:
            cached = self._cache.get(request)
            if cached is not None:
                self._cache.move_to_end(request)
                return cached
        guard.screen(request.text)  # cheap refusals need no process
        trusted = trusted or request.text in self.trusted_texts
        started = time.monotonic()
        deadline = started + self.settings.timeout
        if not self._slots.acquire(timeout=self.settings.timeout):
            raise ServiceUnavailable(
                f"all {self.settings.workers} query workers stayed busy for "
                f"{self.settings.timeout:g} s",
                hint="retry in a little while",
            )
        moved = 0  # the pid of the worker, once the query is long
        holds_slot = True  # whether this query holds a worker slot

        def on_long(pid: int) -> None:
            """The query has used the grace period's CPU time: it moves to a long-query slot,
            runs on at the lowest CPU priority, and gives its worker slot back for short
            queries. If every long-query slot is taken, it waits for one, paused and without
            its worker slot; if as many queries wait already, it is stopped instead (503), so
            that long queries can never hold every worker slot."""
            nonlocal moved, holds_slot
            if not self._long_slots.acquire(blocking=False):
                with self._waiting_for_long_slot():  # or 503, if as many wait already
                    LongJobs.send((pid,), signal.SIGSTOP)
                    self._slots.release()
                    holds_slot = False
                    self._acquire_long_slot(deadline)  # or QueryTimeout
                LongJobs.send((pid,), signal.SIGCONT)
            demote(pid)
            moved = pid
            self.long_jobs.became_long(pid, since=started)
            if holds_slot:
                self._slots.release()
                holds_slot = False

        try:
            answer: Rendered = self._pool.run(
                (request, trusted, deadline),
                self.settings.timeout,
                grace=LONG_QUERY_GRACE,
                on_long=on_long,
            )
        finally:
            if moved:
                self.long_jobs.ended(moved)
                self._long_slots.release()
            elif holds_slot:
                self._slots.release()
        self._remember(request, answer)
        return answer

    @contextmanager
    def _waiting_for_long_slot(self) -> Iterator[None]:
        """Counts a long query waiting for a long-query slot. Raises ServiceUnavailable if as
        many wait already as there are long-query slots."""
        with self._waiting_lock:
            if self._waiting >= self._long_slots_total:
                raise ServiceUnavailable(
                    f"the query ran long while all {self._long_slots_total} slots for long "
                    f"queries were taken and {self._waiting} more long queries waited for one, "
                    "and was stopped",
                    hint="retry in a little while, or narrow the query: add LIMIT, bind a "
                    "subject or class",
                )
            self._waiting += 1
        try:
            yield
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    def _acquire_long_slot(self, deadline: float) -> None:
        if not self._long_slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise QueryTimeout(
                f"the query ran longer than the time limit of {self.settings.timeout:g} s, "
                "waiting for a slot for long queries, and was stopped",
                hint="retry in a little while, or narrow the query: add LIMIT, bind a subject "
                "or class",
            )

    def start(self) -> None:
        """Start the query workers' zygote and the kept workers now (in the background): they
        warm while the server starts rather than at the first query. In the background because a
        reload builds its app holding :data:`~cdkg.worker.FORK_LOCK`, which the fork waits for."""

        def start() -> None:
            try:
                self._pool.start()
            except CdkgError as err:  # the first query will try again, and answer 503
                log.warning("could not start the query workers' zygote: %s", err.message)

        threading.Thread(target=start, name="cdkg-zygote-start", daemon=True).start()

    def close(self) -> None:
        """Stop the idle query workers (a reload calls this on the engine it replaces)."""
        self._pool.close()
        self.long_jobs.close()

    def _parse_once(self, request: QueryRequest) -> guard.Admitted:
        """In a worker (one thread): the admitted parse of a trusted text, kept or made now."""
        key = (request.text, request.base)
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

    def _work(self, job: object) -> Rendered | None:
        """A worker's job: ``(request, trusted, deadline)``, or :data:`WORKER_WARM_UP`."""
        if job == WORKER_WARM_UP:
            self._warm_worker()
            return None
        request, trusted, deadline = cast(tuple[QueryRequest, bool, float], job)
        return self._respond(request, trusted, deadline)

    def _warm_worker(self) -> None:
        """A few queries of common shapes, run so that a worker's first real queries find the
        pages they touch its own already (the zygote runs this once, and each new worker)."""
        deadline = time.monotonic() + self.settings.timeout
        for text in WORKER_WARM_UP:
            request = QueryRequest(text, format=negotiation.SPARQL_JSON.media_type)
            self._respond(request, False, deadline)

    def _respond(self, request: QueryRequest, trusted: bool, deadline: float) -> Rendered:
        """In the worker: the answer from the kept parse of a trusted text, else from Oxigraph
        without rdflib's parse where that is safe (:meth:`cdkg.store.OxigraphBackend.quick`),
        else by the guard's full reading."""
        if isinstance(self.backend, OxigraphBackend):
            found = self.backend.quick(
                request.text, request.default_graphs, request.named_graphs, request.base
            )
            if found is not None:
                form, result = found
                chosen = negotiation.negotiate(
                    request.accept, negotiation.RESULT_FORMATS, request.format
                )
                return render(result, form, chosen, self.settings.max_rows)
        admitted = self._parse_once(request) if trusted else self._admit(request)
        return self._answer(admitted, request, deadline)

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


class LongJobs:
    """The workers running long queries, paused (SIGSTOP) while any request is being served, and
    let go (SIGCONT) only once no request has been served for :data:`LONG_QUERIES_RESUME_AFTER`
    seconds: a long query gets the time other requests leave, in stretches.

    Demoted to the lowest priority, a long query would still hold a CPU the scheduler must take
    back, and on a machine whose CPUs share a core, caches and memory it slows whatever runs
    beside it; paused, it takes nothing. Let go in every gap between two requests (under load, a
    few milliseconds), the long queries ran beside most requests; the soak measured the normal p99
    at 18-26 ms so, and at 13 ms with them paused for good. After a quiet period they run when
    the server is truly idle. Their time limit runs on while they are paused, so a busy server
    stops its long queries at ``--timeout`` (503).

    The web app calls :meth:`request_started` and :meth:`request_ended` around each request (in
    the request's thread); a request whose query turns long stops counting then
    (:meth:`became_long`, from the same thread). A thread of its own lets the long queries go
    once the server has been quiet long enough."""

    def __init__(self, quiet: float | None = None) -> None:
        self.quiet = LONG_QUERIES_RESUME_AFTER if quiet is None else quiet
        self._changed = threading.Condition()
        self._pids: dict[int, float] = {}  # the long queries' workers: since when each runs
        self._requests = 0
        self._running = True  # whether the long queries' workers were let go
        self._last_end = 0.0  # time.monotonic() when a request last ended
        self._counted = threading.local()
        self._thread: threading.Thread | None = None
        self._closed = False

    def request_started(self) -> None:
        with self._changed:
            self._requests += 1
            if self._running and not self._closed:
                self._running = False
                self.send(self._pids, signal.SIGSTOP)
        self._counted.yes = True

    def request_ended(self) -> None:
        if getattr(self._counted, "yes", False):
            self._counted.yes = False
            with self._changed:
                self._last_end = time.monotonic()
                self._uncount()

    def became_long(self, pid: int, since: float | None = None) -> None:
        """The query in worker ``pid``, run for the request of this thread since ``since``
        (``time.monotonic()``, default now), is long. Its own request stops counting, but does
        not count as a request that ended: if no other request has ended since it started, no
        one is waiting for the CPU, and it goes on at once."""
        counted = getattr(self._counted, "yes", False)
        self._counted.yes = False
        with self._changed:
            self._pids[pid] = time.monotonic() if since is None else since
            if not self._running:
                self.send({pid}, signal.SIGSTOP)
            if counted:
                self._uncount()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._let_go_when_quiet, name="cdkg-long-queries", daemon=True
                )
                self._thread.start()

    def ended(self, pid: int) -> None:
        """The long query in worker ``pid`` has ended."""
        with self._changed:
            self._pids.pop(pid, None)
            self.send({pid}, signal.SIGCONT)

    def close(self) -> None:
        """Let every long query go, and stop the thread that lets them go."""
        with self._changed:
            self._closed = True
            self._running = True
            self.send(self._pids, signal.SIGCONT)
            self._changed.notify_all()

    @property
    def paused(self) -> bool:
        with self._changed:
            return bool(self._pids) and not self._running

    def _uncount(self) -> None:  # holding self._changed
        self._requests -= 1
        if self._requests == 0:
            self._changed.notify_all()

    def _let_go_when_quiet(self) -> None:
        with self._changed:
            while not self._closed:
                if self._running or self._requests or not self._pids:
                    self._changed.wait()
                    continue
                left = self._last_end + self.quiet - time.monotonic()
                if left > 0 and self._last_end >= min(self._pids.values()):
                    self._changed.wait(left)  # requests came while they ran: wait for quiet
                    continue
                self._running = True
                self.send(self._pids, signal.SIGCONT)

    @staticmethod
    def send(pids: Iterable[int], signum: int) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


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
