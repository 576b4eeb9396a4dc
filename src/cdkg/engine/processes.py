"""Run queries where they can be stopped: engine processes that hold the dataset, answer over a
Unix socket, and are killed when a query outlives its time limit; keep the result cache.

:meth:`Engine.run` is the one way the endpoint answers a query: from the result cache, or from an
engine process. The engine master is forked from the server process once the dataset is loaded
(:meth:`Engine.start`): it shares the dataset copy-on-write (Oxigraph's store is Rust memory that
no reference count touches, so its pages stay shared) and does one thing: for each connection it
accepts, it forks a child that answers that connection's queries, one at a time, with
:func:`cdkg.engine.evaluate.answer`. A query runs in a query slot (:attr:`Engine.slots`, by default
4: :data:`QUERIES_PER_WORKER` per ``--workers``), on a connection of its own.

A query is stopped by killing its child: pyoxigraph cannot interrupt a query once it runs, and a
process can always be killed. The server waits for the answer until the time limit, then kills the
child (SIGKILL) and answers 503. A query still running after :data:`LONG_AFTER` seconds steps
aside: its child drops to the lowest CPU priority (nice 19), so that short queries keep their
share of the cores, and the query moves to a long-query slot (:attr:`Engine.long_slots`), so that
runaway queries never hold every query slot; with none free, it is stopped (503). Its child is not
reused afterwards.

The dataset (SPARQL 1.1 Protocol §2.1.4, Query §13): :func:`cdkg.engine.evaluate.dataset_options`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import queue
import resource
import select
import signal
import socket
import struct
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Dataset

from cdkg import errors
from cdkg.engine.evaluate import Answer, Limits, QueryRequest, answer
from cdkg.errors import CdkgError, InternalError, QueryTimeout, ServiceUnavailable
from cdkg.kg.store import named_graphs, oxigraph_of
from cdkg.settings import Settings
from cdkg.sparql import guard, lexer

__all__ = ["Answer", "Engine", "QueryRequest"]

log = logging.getLogger(__name__)

#: Queries evaluated at once per ``--workers``, each in its own engine child (more wait for one):
#: two per core, so that a core stays busy while the server thread of another query reads its
#: answer and sends it.
QUERIES_PER_WORKER = 2
#: Seconds after which a running query counts as long: it drops to the lowest CPU priority and
#: leaves its query slot for a long-query slot. Our canned queries take 0.1-45 ms; a query past
#: this is an ad-hoc one that may run on.
LONG_AFTER = 0.25
#: Long queries run at once per ``--workers``; one more is stopped (503) when it turns long.
LONG_QUERIES_PER_WORKER = 2
#: Largest answer kept in the result cache (how many it keeps is ``settings.cache_entries``).
CACHE_ENTRY_BYTES = 1 << 20
#: Most bytes the result cache holds in all: its keys include the Host header, which clients choose.
CACHE_BYTES = 64 << 20
#: Memory an engine child may take beyond its size when forked (its address-space rlimit): a
#: query that builds an ever-growing answer is stopped (Oxigraph aborts when an allocation
#: fails), not the machine. With QUERIES_PER_WORKER + LONG_QUERIES_PER_WORKER children per
#: ``--workers``, this bounds queries to 8 GiB in all at the default 2 workers (a cgroup can bound
#: it lower: docs/security.md).
MEMORY_HEADROOM = 1 << 30
#: A frame's length prefix: an unsigned 32-bit integer in network byte order.
_LENGTH = struct.Struct("!I")


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
        self._master: _Master | None = None
        self._master_lock = threading.Lock()
        self._idle: queue.LifoQueue[_Connection] = queue.LifoQueue()
        self._closed = False
        # An engine dropped without close() (a library user's app) still ends its processes and
        # closes its connections when it is collected; the state is read then, from __dict__.
        weakref.finalize(self, _stop_processes, self.__dict__)
        self.slots = QUERIES_PER_WORKER * settings.workers
        self._slots = threading.BoundedSemaphore(self.slots)
        self.long_slots = LONG_QUERIES_PER_WORKER * settings.workers
        self._long_slots = threading.BoundedSemaphore(self.long_slots)
        self._cache: OrderedDict[QueryRequest, Answer] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cached_bytes = 0

    # -- the server's side ------------------------------------------------------------------

    def start(self) -> None:
        """Fork the engine master now, if it is not running (never again once closed: a reload's
        old engine must not come back for a late request)."""
        with self._master_lock:
            if self._closed:
                return
            if self._master is None or not self._master.alive():
                self._master = _Master.fork(self._serve)

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
        _stop_processes(state)

    def run(self, request: QueryRequest) -> Answer:
        """Answer ``request`` from the cache, or in an engine child under the time limit."""
        with self._cache_lock:
            cached = self._cache.get(request)
            if cached is not None:
                self._cache.move_to_end(request)
                return cached
        guard.screen(request.text)  # cheap refusals need no process
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
        self._remember(request, found)
        return found

    def _ask(self, request: QueryRequest, deadline: float, slot: _Slot) -> Answer:
        connection = self._connection()
        try:
            connection.send(_request_frame(request, deadline))
            if not connection.wait(min(deadline, time.monotonic() + LONG_AFTER)):
                self._step_aside(connection, slot)
                if not connection.wait(deadline):
                    raise _Overran
            header = json.loads(connection.receive(deadline))
            body = connection.receive(deadline) if "error" not in header else b""
        except _Overran:
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
            raise _error(header["error"])
        return Answer(body, header["media_type"], header["rows"], header["truncated"])

    def _release(self, connection: _Connection) -> None:
        """Keep ``connection`` for the next query, unless it cannot serve one or the engine was
        closed while it answered (a reload's old engine): then close it now, not at collection."""
        with self._master_lock:
            if connection.reusable and not self._closed:
                self._idle.put(connection)
                return
        connection.kill()

    def _step_aside(self, connection: _Connection, slot: _Slot) -> None:
        """A query still running after :data:`LONG_AFTER`: its child drops to the lowest CPU
        priority (and will not be reused), and the query moves from its query slot to a
        long-query slot, so that long queries can never hold every query slot; if none is free,
        it is stopped."""
        connection.demote()
        if not slot.move_to(self._long_slots):
            raise ServiceUnavailable(
                f"the query ran past {LONG_AFTER:g} s while all {self.long_slots} long-query "
                "slots were taken, and was stopped",
                hint="retry in a little while, or narrow the query so that it ends sooner",
            )

    def _connection(self) -> _Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        master = self._running_master()
        try:
            return _Connection.open(master.path)
        except OSError:
            with self._master_lock:  # the master is gone: fork it again, once
                if self._master is master:
                    master.stop()
                    self._master = None
        return _Connection.open(self._running_master().path)

    def _running_master(self) -> _Master:
        self.start()
        master = self._master
        if master is None:  # closed
            raise ServiceUnavailable("the server is stopping", hint="retry in a little while")
        return master

    def _remember(self, request: QueryRequest, found: Answer) -> None:
        """Keep ``found`` unless it is large, depends on another endpoint, or caching is off; the
        least recently used answers go first."""
        limit = self.settings.cache_entries
        if not limit or len(found.body) > CACHE_ENTRY_BYTES:
            return
        if lexer.mentions_service(request.text):
            return
        with self._cache_lock:
            replaced = self._cache.pop(request, None)  # two misses for one query may race here
            if replaced is not None:
                self._cached_bytes -= len(replaced.body)
            self._cache[request] = found
            self._cached_bytes += len(found.body)
            while len(self._cache) > limit or self._cached_bytes > CACHE_BYTES:
                _, dropped = self._cache.popitem(last=False)
                self._cached_bytes -= len(dropped.body)

    # -- the engine's side ------------------------------------------------------------------

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
        conn.sendall(_frame(json.dumps({"pid": os.getpid()}).encode()))
        while True:
            try:
                frame = _read_frame(conn)
            except EOFError:
                return
            request, deadline = _parse_request(frame)
            try:
                found = self.execute(request, deadline)
            except CdkgError as err:
                conn.sendall(_frame(json.dumps({"error": _error_json(err)}).encode()))
                continue
            except Exception:
                log.exception("engine child: the query failed")
                bug = InternalError("the query failed inside the engine; the error is logged")
                conn.sendall(_frame(json.dumps({"error": _error_json(bug)}).encode()))
                continue
            header = {k: v for k, v in asdict(found).items() if k != "body"}
            conn.sendall(_frame(json.dumps(header).encode()) + _frame(found.body))


class _Overran(Exception):
    """The query outlived its time limit."""


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


class _Connection:
    """A connection to one engine child, which answers its queries one at a time."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock = sock
        self.pid = pid
        self.reusable = True

    @classmethod
    def open(cls, path: str) -> _Connection:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(10)
            sock.connect(path)
            pid = json.loads(_read_frame(sock))["pid"]
        except BaseException:
            sock.close()
            raise
        return cls(sock, int(pid))

    def send(self, frame: bytes) -> None:
        self.sock.settimeout(None)
        self.sock.sendall(frame)

    def wait(self, until: float) -> bool:
        """Whether the child's answer has begun to arrive by ``until`` (a monotonic time)."""
        ready, _, _ = select.select([self.sock], [], [], max(until - time.monotonic(), 0))
        return bool(ready)

    def receive(self, deadline: float) -> bytes:
        """One frame, whole, by ``deadline``."""
        self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            return _read_frame(self.sock)
        except TimeoutError:
            raise _Overran from None

    def demote(self) -> None:
        """The lowest CPU priority for the child, which an unprivileged server cannot undo: the
        child is not reused."""
        self.reusable = False
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.pid, 19)
        # SCHED_IDLE: a CPU only when no other task wants it (Linux; nice 19 still takes a share)
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setscheduler(self.pid, os.SCHED_IDLE, os.sched_param(0))

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        self.close()

    def close(self) -> None:
        self.sock.close()


def _stop_processes(state: dict[str, Any]) -> None:
    """Close the idle connections in ``state["_idle"]`` and stop ``state["_master"]``."""
    idle: queue.LifoQueue[_Connection] = state["_idle"]
    while True:
        try:
            idle.get_nowait().close()
        except queue.Empty:
            break
    master: _Master | None = state.get("_master")
    if master is not None:
        master.stop()


class _Master:
    """The engine master: a forked process that listens on a Unix socket in a private directory
    and forks a child for each connection it accepts."""

    def __init__(self, pid: int, path: str, directory: str, lifeline: int) -> None:
        self.pid = pid
        self.path = path
        self.directory = directory
        self.lifeline = lifeline

    @classmethod
    def fork(cls, serve: Any) -> _Master:
        directory = tempfile.mkdtemp(prefix="cdkg-engine-")  # mode 0700: ours alone
        path = str(Path(directory) / "engine.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(64)
        # The lifeline: the server holds the write end and never writes. When the server process
        # ends, however it ends (SIGTERM, SIGKILL, a crash), the kernel closes it, the master
        # reads end of file, and stops its process group.
        lifeline, held = os.pipe()
        gc.freeze()  # the loaded objects out of the collector's reach: the fork copies fewer pages
        pid = os.fork()
        if pid == 0:  # the engine master
            try:
                os.close(held)
                _master_loop(listener, lifeline, serve)
            finally:
                os._exit(0)
        os.close(lifeline)
        os.set_inheritable(held, False)
        with contextlib.suppress(OSError):  # as the master does: whichever runs first
            os.setpgid(pid, pid)
        listener.close()
        return cls(pid, path, directory, held)

    def alive(self) -> bool:
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

    def stop(self) -> None:
        """Kill the master and every child it forked (its process group), and tidy up."""
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.lifeline)
        with contextlib.suppress(OSError):
            Path(self.path).unlink()
            Path(self.directory).rmdir()


#: Process names (``/proc/PID/comm``, what ``ps`` and ``top`` show): the master, and a child.
MASTER_NAME = "cdkg-engine"
CHILD_NAME = "cdkg-query"


def _name_process(name: str) -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_text(name, encoding="ascii")


def _master_loop(listener: socket.socket, lifeline: int, serve: Any) -> None:
    """The engine master: a process group of its own (so that one kill stops it and its
    children), children reaped by the kernel, a child forked per connection, and an end when the
    server's end of ``lifeline`` closes."""
    os.setpgid(0, 0)
    _name_process(MASTER_NAME)
    # Whatever the server had open (its listening socket, its clients' connections) is not the
    # engine's: held here, a closed connection would not close, nor a port free.
    keep = sorted((listener.fileno(), lifeline))
    os.closerange(3, keep[0])
    os.closerange(keep[0] + 1, keep[1])
    os.closerange(keep[1] + 1, os.sysconf("SC_OPEN_MAX"))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they exit
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    while True:
        ready, _, _ = select.select([listener.fileno(), lifeline], [], [])
        if lifeline in ready:  # the server is gone: so are we, children included
            os.killpg(0, signal.SIGKILL)
        conn, _ = listener.accept()
        if os.fork() == 0:  # an engine child
            listener.close()
            os.close(lifeline)
            _name_process(CHILD_NAME)
            _limit_child()
            try:
                serve(conn)
            finally:
                os._exit(0)
        conn.close()


def _limit_child() -> None:
    """An engine child's backstops: no core dump (a query's abort is not a crash to debug, and
    its core would hold the dataset), and an address space :data:`MEMORY_HEADROOM` above its
    size now."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[0])
    wanted = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_HEADROOM
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def _read_frame(sock: socket.socket) -> bytes:
    (length,) = _LENGTH.unpack(_read_exactly(sock, _LENGTH.size))
    return _read_exactly(sock, length)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("the engine process closed the connection")
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _request_frame(request: QueryRequest, deadline: float) -> bytes:
    """The request, and how long it may run (a duration: the two processes share no clock)."""
    payload = {**asdict(request), "remaining": max(deadline - time.monotonic(), 0.0)}
    return _frame(json.dumps(payload).encode())


def _parse_request(frame: bytes) -> tuple[QueryRequest, float]:
    payload = json.loads(frame)
    remaining = float(payload.pop("remaining"))
    for key in ("default_graphs", "named_graphs"):
        payload[key] = tuple(payload[key])
    return QueryRequest(**payload), time.monotonic() + remaining


def _error_json(err: CdkgError) -> dict[str, Any]:
    body: dict[str, Any] = err.to_json()["error"]
    return body


def _error(body: dict[str, Any]) -> CdkgError:
    """An engine child's error, raised again in the server as the same kind."""
    kind = getattr(errors, str(body.get("type")), None)
    if not (isinstance(kind, type) and issubclass(kind, CdkgError)):
        kind = InternalError
    if kind is errors.QuerySyntaxError:
        message = str(body["message"]).split(": ", 1)[-1]
        return errors.QuerySyntaxError(
            message, line=int(body["line"]), column=int(body["column"]), hint=body.get("hint")
        )
    if kind is errors.LoadError:
        kind = InternalError
    err = kind.__new__(kind)
    CdkgError.__init__(err, str(body["message"]), hint=body.get("hint"), spec=body.get("spec"))
    return err


@contextlib.contextmanager
def running(engine: Engine) -> Iterator[Engine]:
    """``engine`` started, and closed on the way out."""
    engine.start()
    try:
        yield engine
    finally:
        engine.close()
