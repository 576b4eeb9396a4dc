"""The engine of one server: query slots, the result cache, and the dispatch of each query to an
engine process (:mod:`cdkg.engine.processes`) that can be stopped.

:meth:`Engine.run` is the one way the endpoint answers a query: from the result cache, or from an
engine process. The engine master is forked from the server process once the dataset is loaded
(:meth:`Engine.start`): it shares the dataset copy-on-write (Oxigraph's store is Rust memory that
no reference count touches, so its pages stay shared) and does one thing: for each connection it
accepts, it forks a child that answers that connection's queries, one at a time, with
:func:`cdkg.engine.evaluate.answer`. A query runs in a query slot (:attr:`Engine.slots`, by default
4: :data:`QUERIES_PER_WORKER` per ``--workers``), on a connection of its own.

A query is stopped by killing its child: pyoxigraph cannot interrupt a query once it runs, and a
process can always be killed. The server waits for the answer until the time limit, then kills the
child (SIGKILL) and answers 503. A query still running after ``--long-after`` seconds steps
aside: its child drops to the lowest CPU priority (nice 19), so that short queries keep their
share of the cores, and the query moves to a long-query slot (:attr:`Engine.long_slots`), so that
runaway queries never hold every query slot; with none free, it is stopped (503). Its child is not
reused afterwards. A query an external store evaluates never steps aside: it costs this machine
nothing while it waits for the store.

The dataset (SPARQL 1.1 Protocol §2.1.4, Query §13): :func:`cdkg.engine.evaluate.dataset_options`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
from rdflib import Dataset

from cdkg.engine import wire
from cdkg.engine.cache import ResultCache
from cdkg.engine.evaluate import Answer, Limits, QueryRequest, answer
from cdkg.engine.processes import MEMORY_HEADROOM, Connection, Master, Overran, stop_processes
from cdkg.errors import CdkgError, InternalError, QueryTimeout, ServiceUnavailable
from cdkg.kg.store import named_graphs, oxigraph_of
from cdkg.settings import Settings
from cdkg.sparql import guard

__all__ = ["Answer", "Engine", "QueryRequest"]

log = logging.getLogger(__name__)

#: Queries evaluated at once per ``--workers``, each in its own engine child (more wait for one):
#: two per core, so that a core stays busy while the server thread of another query reads its
#: answer and sends it.
QUERIES_PER_WORKER = 2
#: Long queries run at once per ``--workers``; one more is stopped (503) when it turns long.
LONG_QUERIES_PER_WORKER = 2


class Engine:
    """The dataset, the engine processes that answer queries on it, and the result cache of one
    server process."""

    def __init__(self, dataset: Dataset, settings: Settings, *, remote: Any = None) -> None:
        self.dataset = dataset
        self.settings = settings
        self.graphs = named_graphs(dataset)
        store = oxigraph_of(dataset)
        if store is None:
            raise InternalError("the engine needs a dataset held in Oxigraph")
        self._store: ox.Store = store
        self._remote = remote
        self._master: Master | None = None
        self._master_lock = threading.Lock()
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._closed = False
        # An engine dropped without close() (a library user's app) still ends its processes and
        # closes its connections when it is collected; the state is read then, from __dict__.
        weakref.finalize(self, stop_processes, self.__dict__)
        self.slots = QUERIES_PER_WORKER * settings.workers
        self._slots = threading.BoundedSemaphore(self.slots)
        self.long_slots = LONG_QUERIES_PER_WORKER * settings.workers
        self._long_slots = threading.BoundedSemaphore(self.long_slots)
        self.cache = ResultCache(settings.cache_entries)

    # -- the server's side ------------------------------------------------------------------

    def start(self) -> None:
        """Fork the engine master now, if it is not running (never again once closed: a reload's
        old engine must not come back for a late request)."""
        with self._master_lock:
            if self._closed:
                return
            if self._master is None or not self._master.alive():
                self._master = Master.fork(self._serve)

    def close(self) -> None:
        """Stop the engine master and its children for good (a reload calls this on the engine
        it replaces; the process's exit does too); the cache still answers."""
        with self._master_lock:
            self._closed = True
        self.restart()

    def restart(self) -> None:
        """Stop the engine master and its children; the next query forks them anew, from this
        process as it is then (unless the engine is closed)."""
        with self._master_lock:
            state = {"_master": self._master, "_idle": self._idle}
            self._master = None
        stop_processes(state)

    def run(self, request: QueryRequest) -> Answer:
        """Answer ``request`` from the cache, or in an engine child under the time limit."""
        cached = self.cache.get(request)
        if cached is not None:
            return cached
        guard.screen(request.text)  # an empty or too long text needs no process
        deadline = time.monotonic() + self.settings.timeout
        if not self._slots.acquire(timeout=self.settings.timeout):
            raise ServiceUnavailable(
                f"all {self.slots} query slots stayed busy for {self.settings.timeout:g} s",
                hint="retry in a little while",
            )
        slot = _Slot(self._slots)
        try:
            found = self._ask(request, deadline, slot)
        finally:
            slot.release()
        self.cache.put(request, found)
        return found

    def _ask(self, request: QueryRequest, deadline: float, slot: _Slot) -> Answer:
        connection = self._connection()
        try:
            connection.send(wire.request_frame(request, deadline))
            if not connection.wait(self._long_after(deadline)):
                self._step_aside(connection, slot)
                if not connection.wait(deadline):
                    raise Overran
            header = json.loads(connection.receive(deadline))
            body = connection.receive(deadline) if "error" not in header else b""
        except Overran:
            connection.kill()
            raise QueryTimeout(
                f"the query ran longer than the time limit of {self.settings.timeout:g} s and "
                "was stopped",
                hint="narrow the query: add LIMIT, bind a subject or a class, or avoid "
                "unbounded property paths",
            ) from None
        except (OSError, EOFError):
            connection.kill()
            raise ServiceUnavailable(
                "the query's engine process ended before it answered: most likely the query "
                f"needed more than the {MEMORY_HEADROOM >> 30} GiB of memory a query may use, "
                "or the process was killed from outside the server",
                hint="narrow the query (add LIMIT, avoid cross products between unrelated "
                "patterns) and retry",
            ) from None
        except CdkgError:
            connection.kill()
            raise
        self._release(connection)
        if "error" in header:
            raise wire.error_from(header["error"])
        return Answer(
            body, header["media_type"], header["rows"], header["truncated"], header["called_out"]
        )

    def _release(self, connection: Connection) -> None:
        """Keep ``connection`` for the next query, unless it cannot serve one or the engine was
        closed while it answered (a reload's old engine): then close it now, not at collection."""
        with self._master_lock:
            if connection.reusable and not self._closed:
                self._idle.put(connection)
                return
        connection.kill()

    def _long_after(self, deadline: float) -> float:
        """When a query that has not answered steps aside: after ``--long-after`` if it is
        evaluated here, never if an external store evaluates it. Stepping aside keeps runaway
        queries from holding this machine's cores; a query on an external store only waits for
        the store's answer, its time bounded by the store request's own limit (a 504), and the
        store's admission is the store's: stopping it here turned a busy store into 503s."""
        if self._remote is not None:
            return deadline
        return min(deadline, time.monotonic() + self.settings.long_after)

    def _step_aside(self, connection: Connection, slot: _Slot) -> None:
        """A query still running after ``--long-after``: its child drops to the lowest CPU
        priority (and will not be reused), and the query moves from its query slot to a
        long-query slot, so that long queries can never hold every query slot; if none is free,
        it is stopped."""
        connection.demote()
        if not slot.move_to(self._long_slots):
            raise ServiceUnavailable(
                f"the query ran past {self.settings.long_after:g} s (--long-after) while all "
                f"{self.long_slots} long-query slots were taken, and was stopped",
                hint="retry in a little while, or narrow the query so that it ends sooner",
            )

    def _connection(self) -> Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        master = self._running_master()
        try:
            return Connection.open(master.path)
        except OSError:
            with self._master_lock:  # the master is gone: fork it again, once
                if self._master is master:
                    master.stop()
                    self._master = None
        return Connection.open(self._running_master().path)

    def _running_master(self) -> Master:
        self.start()
        master = self._master
        if master is None:  # closed
            raise ServiceUnavailable("the server is stopping", hint="retry in a little while")
        return master

    def execute(self, request: QueryRequest, deadline: float) -> Answer:
        """Answer ``request`` in this process (an engine child, or ``cdkg query``)."""
        limits = Limits(
            self.settings.max_rows,
            self.settings.allow_service,
            self.settings.service_timeout,
            deadline,
        )
        return answer(
            self._store,
            request,
            limits,
            graphs=self.graphs,
            federation=self.dataset,
            remote=self._remote,
        )

    def _serve(self, conn: socket.socket) -> None:
        """An engine child: answer the queries ``conn`` sends, one at a time, until it closes."""
        conn.sendall(wire.frame(json.dumps({"pid": os.getpid()}).encode()))
        while True:
            try:
                frame = wire.read_frame(conn)
            except EOFError:
                return
            request, deadline = wire.parse_request(frame)
            try:
                found = self.execute(request, deadline)
            except CdkgError as err:
                conn.sendall(wire.error_frame(err))
                continue
            except Exception:
                log.exception("engine child: the query failed")
                bug = InternalError("the query failed inside the engine; the error is logged")
                conn.sendall(wire.error_frame(bug))
                continue
            conn.sendall(wire.answer_frames(found))


class _Slot:
    """The slot a running query holds: a query slot, or, once it is long, a long-query slot."""

    def __init__(self, held: threading.BoundedSemaphore) -> None:
        self.held = held

    def move_to(self, other: threading.BoundedSemaphore) -> bool:
        """Take a slot of ``other`` and give this one back; False if ``other`` has none free."""
        if not other.acquire(blocking=False):
            return False
        self.held.release()
        self.held = other
        return True

    def release(self) -> None:
        self.held.release()


@contextlib.contextmanager
def running(engine: Engine) -> Iterator[Engine]:
    """``engine`` started, and closed on the way out."""
    engine.start()
    try:
        yield engine
    finally:
        engine.close()
