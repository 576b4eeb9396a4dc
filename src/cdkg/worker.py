"""Query workers: processes forked from the server, each running one job at a time, that the
server can kill. This is the query time limit.

A Python thread cannot stop rdflib (a catastrophic REGEX holds the GIL), so queries run in child
processes forked from the server. A child shares the loaded graph copy-on-write, so there is
nothing to load or send; a job goes to it, and its answer comes back, pickled, through a pipe. At
the deadline the server kills it with SIGKILL and the CPU is free at once.

Forking the server costs more than evaluating most queries on Oxigraph (the benchmarks: Table 2
at 10k triples through a worker, 36 ms with a fork per query, 7.7 ms with kept workers), so a
:class:`WorkerPool` keeps up to ``keep`` idle workers and hands each job to one
of them, forking a new one only when none is idle; a worker idle for :data:`IDLE_SECONDS` is
stopped. New workers are forked by the pool's zygote (:class:`_Zygote`), a copy of the server
taken once, so that the server does not stop for a fork while it serves. A worker is not reused
after it was killed, died, ran a long job (demoted to the lowest priority, which an
unprivileged process cannot raise again), hit its memory limit, raised something other than a
:class:`~cdkg.errors.CdkgError`, or ran :data:`JOBS_PER_WORKER` jobs; it is replaced by a fresh
fork, in the background.

Each job gets, as backstops: a CPU-time rlimit a little above the time limit (counted from the
job's start), an address-space rlimit (:data:`MEMORY_HEADROOM` above the worker's size when the
job starts), and death with the server (``PR_SET_PDEATHSIG``) on Linux.

A job is *long* once its worker has used ``grace`` seconds of CPU time on it (read from
``/proc``; the wall clock where that cannot be read): ``on_long(pid)`` is called once, and the
engine demotes it (:func:`demote`). CPU time, not the wall clock: under load a short query may wait
longer than the grace period for a CPU without being long. Before that, a job past
:data:`HEAVY_AFTER` of CPU time runs at nice :data:`HEAVY_NICE` (:func:`lower`), so that the short
jobs and the server's threads come first while it shows whether it is long; when it ends, its
worker's priority is raised back. Where the server may not raise a priority (an unprivileged user
without ``CAP_SYS_NICE``), heavy jobs are not lowered: each would cost its worker.

A worker that dies without answering is classified by its wait status: killed from outside
(SIGKILL from the OOM killer or an operator, SIGTERM, ...) is a 503 the client may retry; the CPU
rlimit (SIGXCPU) is a timeout; a crash (SIGSEGV, an exit without an answer) is a logged 500.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import errno
import functools
import gc
import logging
import math
import os
import pickle
import resource
import select
import signal
import socket
import struct
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cdkg.errors import CdkgError, InternalError, QueryTimeout, ServiceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Held around every fork. Code that runs rdflib's parsers in the server process while it serves
#: (a reload building a new app) holds it too, so that no child starts from a copy of the process
#: taken in the middle of a parse (rdflib's SPARQL parser is not thread-safe, RDFLib/rdflib#1282).
FORK_LOCK = threading.Lock()
#: How much more address space than the worker had when a job started the job may use before it
#: fails (MemoryError, or an abort in Oxigraph). The graph itself is shared with the server, not
#: counted again; up to 10 x ``--workers`` query processes may run or wait at once (cdkg.engine:
#: worker slots, long-query slots, queries waiting for one), so this bounds their memory to
#: 20 GiB in all at the default 2 workers (a cgroup can bound it lower: docs/security.md).
MEMORY_HEADROOM = 1 << 30
#: Jobs one worker runs before it is replaced by a fresh fork, so that what its heap gathers
#: (fragmentation, caches of the libraries it calls) stays bounded.
JOBS_PER_WORKER = 500
#: Seconds a worker may stay idle before it is stopped: a quiet server gives back the memory its
#: workers gathered, and pools no one uses (a replaced app's) do not linger.
IDLE_SECONDS = 30.0
#: Seconds between two rounds of the thread that stops idle workers.
TRIM_EVERY = 1.0
#: Seconds a new worker's warm-up job may take.
WARM_SECONDS = 10.0
#: Seconds the server waits for the zygote's answer (its first one comes after its warm job)
#: before it stops it and starts another.
ZYGOTE_SECONDS = 30.0
#: Seconds between two rounds of reaping in the zygote where the kernel has no pidfds (with them,
#: it hears of each worker's end at once).
REAP_EVERY = 1.0
#: How many wait statuses of workers that no one asked about yet the zygote keeps.
STATUSES_KEPT = 1024
#: Seconds between two looks at a running job's CPU time, until it is long.
LOOK_EVERY = 0.02
#: CPU seconds a job uses at its worker's own priority. Most queries need a few milliseconds; a
#: runaway used a whole CPU for its grace period, and the requests beside it waited (in one soak
#: run, traced with throwaway instrumentation: normal requests that started within 0.3 s after a
#: runaway had a p99 of 23 ms, the others 13 ms).
HEAVY_AFTER = 0.02
#: The nice value of a job past :data:`HEAVY_AFTER` (a nice-10 task gets about a tenth of the
#: share of a nice-0 one when they want the same CPU; alone, it runs at full speed).
HEAVY_NICE = 10
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
_FRAME = struct.Struct(">Q")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _libc() -> ctypes.CDLL | None:
    """The C library, looked up once: ``find_library`` runs ``ldconfig``, 3 ms a call."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


_LIBC = _libc()


def run_forked(
    job: Callable[[], T],
    timeout: float,
    *,
    grace: float | None = None,
    on_long: Callable[[int], None] | None = None,
) -> T:
    """``job()`` run once in a freshly forked child (a pool that keeps no worker); its return
    value, or the error :meth:`WorkerPool.run` raises."""
    pool = WorkerPool(lambda _message: job(), keep=0)
    answer: T = pool.run(None, timeout, grace=grace, on_long=on_long)
    return answer


@dataclass(eq=False)
class _Worker:
    """A forked worker: its pid, the pipe the server writes jobs to and the one it reads answers
    from, how many jobs it has run, and who reaps it (the :class:`_Zygote` that forked it, or
    None: the server did)."""

    pid: int
    jobs_fd: int
    answers_fd: int
    zygote: _Zygote | None = None
    pidfd: int | None = None  # to signal it safely: its pid may be reaped and reused
    generation: int = 0  # the zygote's generation that forked it (renew() starts a new one)
    jobs: int = 0
    idle_since: float = 0.0
    gone: bool = field(default=False)

    def retire(self) -> None:
        """Stop the worker (SIGKILL: it may be idle or stuck); its parent reaps it."""
        if self.gone:
            return
        self.gone = True
        _kill(self.pid, self.pidfd)
        if self.zygote is None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        self._close()

    def reap(self) -> int:
        """The wait status of a worker that has ended (or is ending: its answer pipe closed)."""
        self.gone = True
        self._close()
        if self.zygote is not None:
            return self.zygote.status(self.pid)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = 0
        return status

    def _close(self) -> None:
        for fd in (self.jobs_fd, self.answers_fd, self.pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)


def _retire_all(idle: list[_Worker], lock: threading.Lock, zygote: _Zygote | None) -> None:
    with lock:
        workers = list(idle)
        idle.clear()
    for worker in workers:
        worker.retire()
    if zygote is not None:
        zygote.close()


class WorkerPool:
    """Forked workers that run ``handle(message)`` for each job; up to ``keep`` idle ones are
    kept for the next jobs. Thread-safe: each :meth:`run` has a worker to itself.

    A worker that a job used up (killed, demoted, ...) is replaced at once, in the background,
    by a new fork that first runs ``warm`` (a job whose answer is dropped), so that the next
    query finds a worker that has already paid for its fork and its first page faults."""

    def __init__(self, handle: Callable[[Any], Any], *, keep: int, warm: Any = None) -> None:
        self._handle = handle
        self.keep = keep
        self._warm = warm
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._starting = 0  # replacements being forked and warmed
        self.forks = 0  # workers started, for tests and the logs
        #: Forks this pool's workers, so that the server never forks while it serves (a pool
        #: that keeps no worker forks each one from the server).
        self.zygote = _Zygote() if keep > 0 else None
        self._finalizer = weakref.finalize(self, _retire_all, self._idle, self._lock, self.zygote)
        _trimmer.watch(self)

    def run(
        self,
        message: Any,
        timeout: float,
        *,
        grace: float | None = None,
        on_long: Callable[[int], None] | None = None,
    ) -> Any:
        """``handle(message)`` run by a worker; its return value, or the CdkgError it raised.

        If the worker has used ``grace`` seconds of CPU time on the job and it is still running,
        ``on_long(pid)`` is called once (the engine lowers its priority and frees its slot).

        Raises :class:`QueryTimeout` if the job runs past ``timeout`` seconds (the worker is
        killed), :class:`ServiceUnavailable` (503, retry) if something outside the server killed
        the worker, and :class:`InternalError` if it crashed or raised anything but a CdkgError
        (logged, with the worker's traceback when it has one).
        """
        start = time.monotonic()
        job = pickle.dumps((message, timeout))

        def long(pid: int) -> None:
            if on_long is not None:
                on_long(pid)  # may raise, to stop the job
            self._replace(None)  # the job keeps its worker: start a spare for the next ones

        worker = self._send(job)
        watch = None
        if grace is not None and on_long is not None and grace < timeout:
            watch = _LongWatch(worker.pid, grace, long, start)
        try:
            data = _receive(worker.answers_fd, start + timeout, watch)
        except _Overtime:
            self._replace(worker)
            raise QueryTimeout(
                f"the query ran longer than the time limit of {timeout:g} s and was stopped",
                hint="narrow the query: add LIMIT, bind a subject or class, avoid regex over "
                "all literals and unbounded property paths; the operator can raise --timeout",
            ) from None
        except BaseException:
            self._replace(worker)
            raise
        if data is None:  # the worker closed its end without a whole answer: it died
            status = worker.reap()
            self._replace(None)
            raise _died(worker.pid, status)
        try:
            outcome = pickle.loads(data)  # noqa: S301 - our own worker wrote it
        except Exception:
            outcome = ("bug", traceback.format_exc())
        worker.jobs += 1
        demoted = watch is not None and watch.called
        if watch is not None and watch.lowered is not None and not demoted:
            demoted = not renice(worker.pid, watch.lowered)  # unprivileged: keep it no longer
        if demoted or outcome[0] not in ("ok", "error") or worker.jobs >= JOBS_PER_WORKER:
            self._replace(worker)
        else:
            self._give_back(worker)
        return _unpack(outcome)

    def start(self) -> None:
        """Start the zygote now rather than for the first job, and the ``keep`` workers, warmed,
        in the background (a pool that keeps no worker has none). Raises
        :class:`ServiceUnavailable` if the zygote cannot be forked."""
        may_raise_priority()  # probed now, at start-up, not during the first heavy query
        if self.zygote is not None:
            self.zygote.start(self._handle, self._warm)
            for _ in range(self.keep):
                self._replace(None)

    def renew(self) -> None:
        """Stop the idle workers and let the zygote go: the next job's worker comes from a new
        zygote, a copy of this process as it is then (a test that patches the server's code
        renews the pool, so that its workers run the patched code)."""
        if self.zygote is not None:
            self.zygote.renew()  # first: a worker given back from now on is not kept
        with self._lock:
            workers = list(self._idle)
            self._idle.clear()
        for worker in workers:
            worker.retire()

    def close(self) -> None:
        """Stop the idle workers; busy ones stop when their job ends."""
        self._closed = True
        _retire_all(self._idle, self._lock, self.zygote)

    @property
    def idle(self) -> int:
        return len(self._idle)

    def _send(self, job: bytes) -> _Worker:
        """A worker that has taken ``job``: an idle one, or a new fork. An idle worker may have
        died in the meantime (killed from outside); then the next one is tried."""
        while True:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            fresh = worker is None
            if worker is None:
                worker = self._start()
            try:
                _write_frame(worker.jobs_fd, job)
            except OSError:  # its end of the pipe is closed: it is gone
                worker.retire()
                if fresh:
                    raise
                continue
            return worker

    def _replace(self, worker: _Worker | None) -> None:
        """Retire ``worker`` (if not yet gone) and start a warm replacement in the background,
        unless the pool already keeps enough idle workers (or is closed)."""
        if worker is not None:
            worker.retire()
        with self._lock:
            if self._closed or len(self._idle) + self._starting >= self.keep:
                return
            self._starting += 1
        threading.Thread(target=self._start_warm, name="cdkg-worker-start", daemon=True).start()

    def _start_warm(self) -> None:
        worker = None
        try:
            worker = self._start()
            if self._warm is not None:
                _write_frame(worker.jobs_fd, pickle.dumps((self._warm, WARM_SECONDS)))
                deadline = time.monotonic() + WARM_SECONDS
                if _receive(worker.answers_fd, deadline, None) is None:
                    worker.reap()
                    return
                worker.jobs += 1
        except Exception:  # a replacement is a nicety: the next query forks one if need be
            log.exception("could not start a spare query worker")
            if worker is not None:
                worker.retire()
            return
        finally:
            with self._lock:
                self._starting -= 1
        self._give_back(worker)

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            stale = self.zygote is not None and worker.generation != self.zygote.generation
            if not self._closed and not stale and len(self._idle) < self.keep:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
                return
        worker.retire()

    def trim(self) -> None:
        """Stop the workers idle for more than :data:`IDLE_SECONDS` (the trimming thread calls
        this every :data:`TRIM_EVERY` seconds)."""
        oldest = time.monotonic() - IDLE_SECONDS
        with self._lock:
            stale = [worker for worker in self._idle if worker.idle_since < oldest]
            self._idle[:] = [worker for worker in self._idle if worker.idle_since >= oldest]
        for worker in stale:
            worker.retire()

    def _start(self) -> _Worker:
        """A new worker. Raises :class:`ServiceUnavailable` if the system will not make one (out
        of processes, memory or file descriptors)."""
        if self.zygote is not None:
            worker = self.zygote.fork(self._handle, self._warm)
        else:
            worker = _fork_here(self._handle)
        self.forks += 1
        return worker


def _fork_here(handle: Callable[[Any], Any]) -> _Worker:
    """A worker forked from this process (by :data:`_FORKER`'s thread), serving ``handle``."""
    try:
        jobs_read, jobs_write = os.pipe()
    except OSError as err:
        raise _cannot_start(err) from err
    try:
        answers_read, answers_write = os.pipe()
    except OSError as err:
        os.close(jobs_read)
        os.close(jobs_write)
        raise _cannot_start(err) from err
    try:
        pid = _FORKER.submit(
            _fork, handle, (jobs_read, jobs_write), (answers_read, answers_write)
        ).result()
    except OSError as err:
        os.close(jobs_write)
        os.close(answers_read)
        raise _cannot_start(err) from err
    finally:
        os.close(jobs_read)
        os.close(answers_write)
    return _Worker(pid, jobs_write, answers_read)


def _cannot_start(err: OSError) -> ServiceUnavailable:
    log.error("could not start a query worker: %s", err)
    return ServiceUnavailable(
        f"the server could not start a query worker ({err.strerror or err})",
        hint="retry in a little while; if this keeps happening, the server is short of "
        "processes or memory",
    )


#: The one thread that forks every worker. A worker is told to die with its parent
#: (``PR_SET_PDEATHSIG``), and Linux sends that signal when the *thread* that forked it ends, not
#: the process: forked from a short-lived thread (a replacement's starter, a test's), a worker
#: would be killed when that thread ends. This thread lives as long as the server.
_FORKER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdkg-fork")


def _fork(handle: Callable[[Any], Any], jobs: tuple[int, int], answers: tuple[int, int]) -> int:
    """In :data:`_FORKER`'s thread: fork a worker serving ``jobs`` → ``answers``; its pid."""
    with FORK_LOCK:
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
        os.close(jobs[1])
        os.close(answers[0])
        _serve(handle, jobs[0], answers[1])
    return pid


class _Zygote:
    """A process forked from the server once, whose work is to fork the pool's workers and reap
    them, so that the server never forks while it serves.

    A fork stops every thread of the process that forks for as long as the kernel takes to copy
    its page tables (3-10 ms for the server, holding its GIL: every request in flight waits). The
    zygote is a copy of the server taken when the pool starts (or needs its first worker); forking
    one from it costs the server two messages on a socket. Before it forks any, the zygote runs
    the pool's ``warm`` job itself, so that what that job builds (imports, caches of the libraries
    it calls) is there in every worker; each worker runs it again, for its own pages.

    The zygote dies with the server, and its workers with it (``PR_SET_PDEATHSIG``). If it dies
    or stops answering, the next fork starts a new one. Closed, it exits once its last worker has.

    The protocol, on a ``SOCK_SEQPACKET`` socket pair: ``fork`` is answered by ``pid N`` with
    file descriptors (the worker's job pipe to write to, its answer pipe to read from, and a pidfd
    for it where the kernel has them) or by ``error ERRNO``; ``wait N`` by ``status S``, worker
    N's wait status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.pid = 0
        self._pidfd: int | None = None
        self._closed = False
        self.generation = 0  # one more each renew(): workers of an earlier one are not kept

    def fork(self, handle: Callable[[Any], Any], warm: Any) -> _Worker:
        """A new worker forked by the zygote (started first if there is none)."""
        with self._lock:
            if self._closed:  # a job that outlived its pool's close: fork it here
                return _fork_here(handle)
            for attempt in range(2):
                if self._sock is None:  # a second try goes without the warm job: it may be
                    self._spawn(handle, warm if not attempt else None)  # what killed the first
                try:
                    reply, fds = self._ask(b"fork")  # and a pidfd, where the kernel has them
                except OSError as err:  # the zygote died or stopped answering: start another
                    self._lost()
                    if attempt:
                        raise _cannot_start(err) from err
                    continue
                word, _, number = reply.partition(b" ")
                if word == b"pid" and len(fds) in (2, 3):
                    pidfd = fds[2] if len(fds) == 3 else None
                    return _Worker(
                        int(number),
                        fds[0],
                        fds[1],
                        zygote=self,
                        pidfd=pidfd,
                        generation=self.generation,
                    )
                for fd in fds:
                    os.close(fd)
                code = int(number) if word == b"error" and number.isdigit() else 0
                raise _cannot_start(OSError(code, os.strerror(code)))
        raise AssertionError("unreachable")  # pragma: no cover

    def start(self, handle: Callable[[Any], Any], warm: Any) -> None:
        """Start the zygote, if it is not running."""
        with self._lock:
            if self._sock is None and not self._closed:
                self._spawn(handle, warm)

    def status(self, pid: int) -> int:
        """The wait status of worker ``pid``, which has ended or is ending. If the zygote is
        gone, its workers were killed with it (SIGKILL)."""
        with self._lock:
            if self._sock is None:
                return signal.SIGKILL
            try:
                reply, _ = self._ask(b"wait %d" % pid)
            except OSError:
                self._lost()
                return signal.SIGKILL
        return int(reply.partition(b" ")[2])

    def renew(self) -> None:
        """Let this zygote go (it exits once its last worker has); the next fork starts a new
        one."""
        with self._lock:
            self.generation += 1
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def close(self) -> None:
        """Let the zygote go: it exits once its last worker has."""
        with self._lock:
            self._closed = True
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def _ask(self, request: bytes) -> tuple[bytes, list[int]]:
        assert self._sock is not None  # noqa: S101 - callers started it
        self._sock.sendall(request)
        reply, fds, _, _ = socket.recv_fds(self._sock, 64, 3)
        if not reply:
            raise ConnectionResetError(errno.ECONNRESET, "the zygote closed its socket")
        return reply, fds

    def _spawn(self, handle: Callable[[Any], Any], warm: Any) -> None:
        try:
            ours, its = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError as err:
            raise _cannot_start(err) from err
        try:
            pid = _FORKER.submit(_fork_zygote, handle, warm, its.fileno()).result()
        except OSError as err:
            ours.close()
            raise _cannot_start(err) from err
        finally:
            its.close()
        ours.settimeout(ZYGOTE_SECONDS)
        self._sock, self.pid = ours, pid
        if self._pidfd is not None:
            os.close(self._pidfd)
        self._pidfd = _pidfd_open(pid)
        _reap_when_it_ends(pid)

    def _lost(self) -> None:
        """The zygote died or hangs: stop it for good (its workers die with it)."""
        _kill(self.pid, self._pidfd)
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _pidfd_open(pid: int) -> int | None:
    """A file descriptor for process ``pid`` (Linux 5.3), through which a signal reaches that
    process even after its pid was reaped and reused; None where there is none."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _kill(pid: int, pidfd: int | None) -> None:
    """SIGKILL to ``pid``, through its ``pidfd`` when there is one."""
    with contextlib.suppress(ProcessLookupError):
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


def _reap_when_it_ends(pid: int) -> None:
    """Reap child ``pid`` whenever it ends (the zygote: closed, or killed from outside), in a
    thread of its own, so that it never lingers as a zombie."""

    def reap() -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    threading.Thread(target=reap, name=f"cdkg-reap-{pid}", daemon=True).start()


def _fork_zygote(handle: Callable[[Any], Any], warm: Any, fd: int) -> int:
    """In :data:`_FORKER`'s thread: fork the zygote, talking on socket ``fd``; its pid."""
    with FORK_LOCK:
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the zygote
        _zygote(handle, warm, fd)
    return pid


class _Trimmer:
    """One thread that stops every pool's long-idle workers (and so reaps them: no zombies)."""

    def __init__(self) -> None:
        self._pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, pool: WorkerPool) -> None:
        with self._lock:
            self._pools.add(pool)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cdkg-trim", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(TRIM_EVERY)
            with self._lock:
                pools = list(self._pools)
            for pool in pools:
                try:
                    pool.trim()
                except Exception:  # never let the thread die
                    log.exception("could not stop idle query workers")
            del pools


_trimmer = _Trimmer()


class _Overtime(Exception):
    """The job's deadline passed before its answer came."""


@dataclass
class _LongWatch:
    """Lowers the worker's priority once it has used :data:`HEAVY_AFTER` s of CPU time on this
    job (where :func:`may_raise_priority`), and calls ``on_long(pid)`` once it has used ``grace``
    s."""

    pid: int
    grace: float
    on_long: Callable[[int], None]
    started: float  # time.monotonic() at the job's start
    called: bool = False
    lowered: int | None = None  # the worker's nice value before it was lowered

    def __post_init__(self) -> None:
        self.cpu_before = cpu_seconds(self.pid)

    def look(self) -> None:
        if self.called:
            return
        used = cpu_seconds(self.pid)
        if used is None or self.cpu_before is None:
            spent = time.monotonic() - self.started
        else:
            spent = used - self.cpu_before
        if spent >= self.grace:
            self.called = True
            self.on_long(self.pid)
        elif spent >= HEAVY_AFTER and self.lowered is None and may_raise_priority():
            self.lowered = lower(self.pid)


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) process ``pid`` has used, from ``/proc``; None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:  # noqa: PTH123
            fields = stat.read().rpartition(b")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


def _receive(fd: int, deadline: float, watch: _LongWatch | None) -> bytes | None:
    """One frame read from ``fd`` by ``deadline`` (raises :class:`_Overtime`); None at an end
    of file before the whole frame."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)

    def ready() -> None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Overtime
            step = remaining if watch is None or watch.called else min(remaining, LOOK_EVERY)
            if poller.poll(step * 1000):
                return
            if watch is not None:
                watch.look()

    return _read_frame(fd, ready)


def _read_frame(fd: int, ready: Callable[[], None] = lambda: None) -> bytes | None:
    header = _read_exact(fd, _FRAME.size, ready)
    if header is None:
        return None
    return _read_exact(fd, _FRAME.unpack(header)[0], ready)


def _read_exact(fd: int, size: int, ready: Callable[[], None]) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        ready()
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


#: Signals meaning the child was stopped from outside (an operator, the OOM killer, a supervisor):
#: the query may well succeed if sent again. Any other death (a crash signal such as SIGSEGV, or an
#: exit without an answer) is a bug.
KILLED_FROM_OUTSIDE = frozenset(
    {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}
)


def _died(pid: int, status: int) -> CdkgError:
    """The error for a worker that ended without a complete answer, given its wait status.

    Our own timeout kill never gets here (:meth:`WorkerPool.run` raises QueryTimeout itself).
    """
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        name = signal.Signals(signum).name if signum in signal.valid_signals() else str(signum)
        if signum == signal.SIGXCPU:  # the CPU-time rlimit, our backstop of the time limit
            log.warning("query worker %d stopped by its CPU-time limit (%s)", pid, name)
            return QueryTimeout(
                "the query used more CPU time than the time limit allows and was stopped",
                hint="narrow the query: add LIMIT, bind a subject or class",
            )
        if signum == signal.SIGABRT:  # Oxigraph (Rust) aborts when an allocation fails
            log.warning("query worker %d aborted, most likely at its memory limit", pid)
            return ServiceUnavailable(
                f"the query was stopped: it needed more memory than a query may use "
                f"({MEMORY_HEADROOM >> 30} GiB beyond the loaded graph)",
                hint="narrow the query: add LIMIT, avoid cross products and ever-growing strings",
            )
        if signum in KILLED_FROM_OUTSIDE:
            log.warning("query worker %d was killed by %s from outside the server", pid, name)
            return ServiceUnavailable(
                f"the query worker was stopped from outside the server ({name}) before it answered",
                hint="retry the request; if this keeps happening, the server may be short of "
                "memory",
            )
        log.error("query worker %d crashed with %s", pid, name)
    else:
        log.error("query worker %d died without an answer (wait status %d)", pid, status)
    return InternalError(
        "the query worker crashed", hint="this is a bug in the endpoint; it has been logged"
    )


#: Linux's policy for work that should run only when a CPU has nothing else to do (None where
#: the platform has none). Any process may move its own threads to it.
_SCHED_IDLE: int | None = getattr(os, "SCHED_IDLE", None)


@functools.cache
def may_raise_priority() -> bool:
    """Whether this process may raise a priority it lowered (root, ``CAP_SYS_NICE`` or a
    generous ``RLIMIT_NICE``), tried on a thread of its own: nice values belong to threads on
    Linux. Where it may not, a heavy job is not lowered: its worker would have to be replaced
    after every query past :data:`HEAVY_AFTER`, a fork each."""
    allowed: list[bool] = []

    def probe() -> None:
        thread = threading.get_native_id()
        try:
            before = os.getpriority(os.PRIO_PROCESS, thread)
            if before >= 19:  # nothing below to try
                allowed.append(False)
                return
            os.setpriority(os.PRIO_PROCESS, thread, before + 1)
            os.setpriority(os.PRIO_PROCESS, thread, before)
            allowed.append(True)
        except OSError:
            allowed.append(False)

    thread = threading.Thread(target=probe, name="cdkg-nice-probe", daemon=True)
    thread.start()
    thread.join()
    return bool(allowed and allowed[0])


def lower(pid: int) -> int | None:
    """Run worker ``pid`` at nice :data:`HEAVY_NICE` (unless it runs lower already); its nice
    value before, for :func:`renice` (None if it was not changed)."""
    try:
        before = os.getpriority(os.PRIO_PROCESS, pid)
    except OSError:
        return None
    if before >= HEAVY_NICE:
        return None
    renice(pid, HEAVY_NICE)
    return before


def renice(pid: int, nice: int) -> bool:
    """Set the nice value of every thread of ``pid`` (on Linux a nice value belongs to a
    thread); whether it was allowed (an unprivileged process may lower its priority, not raise
    it)."""
    allowed = True
    for target in _threads(pid):
        try:
            os.setpriority(os.PRIO_PROCESS, target, nice)
        except PermissionError:
            allowed = False
        except OSError:  # the thread ended
            pass
    return allowed


def _threads(pid: int) -> list[int]:
    try:
        return [int(entry.name) for entry in Path(f"/proc/{pid}/task").iterdir()]
    except (OSError, ValueError):
        return [pid]


def demote(pid: int) -> None:
    """Give worker ``pid`` the lowest CPU priority (nice 19, and Linux's ``SCHED_IDLE`` policy,
    which a CPU's scheduler treats as idle time: a task waking up takes the CPU at once): a long
    query then takes only the CPU that short ones leave, so one runaway query cannot slow every
    other client. On Linux both belong to a thread: every thread of the worker is demoted."""
    renice(pid, 19)
    if _SCHED_IDLE is None:
        return
    for target in _threads(pid):  # lower still: runs only on a CPU nothing else wants
        with contextlib.suppress(OSError):
            os.sched_setscheduler(target, _SCHED_IDLE, os.sched_param(0))


# --- in the worker ------------------------------------------------------------------------------


def _zygote(handle: Callable[[Any], Any], warm: Any, fd: int) -> None:  # pragma: no cover
    """The zygote's loop (:class:`_Zygote`): run ``warm``, then fork a worker for each ``fork``
    the server sends, and reap every worker that ends (told by its pidfd, not by SIGCHLD, which
    also comes each time a long query's worker is paused or resumed), keeping its wait status
    until the server asks for it (``wait``). At the end of the socket, wait for the last worker,
    then exit."""
    try:
        _close_inherited_fds(keep=(fd,))
        _die_with_parent()
        _name(b"cdkg-zygote")
        sock = socket.socket(fileno=fd)
        sock.setblocking(True)
        if warm is not None:
            try:
                handle(warm)
            except Exception:  # the workers' own warm jobs will say what is wrong
                log.exception("the zygote's warm job failed")
        gc.freeze()  # what the warm job built stays put: the workers copy fewer pages
        statuses: dict[int, int] = {}
        watched: dict[int, int] = {}  # a pidfd of each live worker (readable once it ends)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            ready = {ready_fd for ready_fd, _ in poller.poll(REAP_EVERY * 1000)}
            for pidfd in ready & watched.keys():
                poller.unregister(pidfd)
                os.close(pidfd)
                del watched[pidfd]
            _reap_ended(statuses)
            if fd not in ready:
                continue
            request = sock.recv(64)
            if not request:
                break  # the server closed the pool, or is gone
            if request == b"fork":
                forked = _fork_worker(handle, sock, statuses)
                if forked is not None:
                    watched[forked[1]] = forked[0]
                    poller.register(forked[1], select.POLLIN)
            elif request.startswith(b"wait "):
                sock.sendall(b"status %d" % _status_of(int(request[5:]), statuses))
        with contextlib.suppress(ChildProcessError):
            while True:
                os.waitpid(-1, 0)
    finally:
        os._exit(0)


def _reap_ended(statuses: dict[int, int]) -> None:  # pragma: no cover - in the zygote
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        statuses[pid] = status
        if len(statuses) > STATUSES_KEPT:  # retired workers no one will ask about
            del statuses[next(iter(statuses))]


def _status_of(pid: int, statuses: dict[int, int]) -> int:  # pragma: no cover - in the zygote
    status = statuses.pop(pid, None)
    if status is not None:
        return status
    try:
        return os.waitpid(pid, 0)[1]  # its answer pipe is closed: it is ending
    except ChildProcessError:
        return 0


def _fork_worker(  # pragma: no cover - in the zygote
    handle: Callable[[Any], Any], sock: socket.socket, statuses: dict[int, int]
) -> tuple[int, int] | None:
    """Fork a worker and send the server its pid and its pipes' server ends (and a pidfd for
    it); the worker's pid and a pidfd the zygote keeps to hear of its end, if there is one."""
    opened: list[int] = []
    try:
        jobs = os.pipe()
        opened += jobs
        answers = os.pipe()
        opened += answers
        pid = os.fork()
    except OSError as err:
        for fd in opened:
            os.close(fd)
        sock.sendall(b"error %d" % (err.errno or 0))
        return None
    if pid == 0:
        os.close(jobs[1])
        os.close(answers[0])
        _serve(handle, jobs[0], answers[1])
    statuses.pop(pid, None)  # a pid used again: the old status is not this worker's
    pidfd = _pidfd_open(pid)  # before it can end and be reaped
    try:
        sent = [jobs[1], answers[0]] + ([] if pidfd is None else [pidfd])
        socket.send_fds(sock, [b"pid %d" % pid], sent)
    finally:
        for fd in opened:
            os.close(fd)
    return None if pidfd is None else (pid, pidfd)


def _name(name: bytes) -> None:  # pragma: no cover - in a child
    """Name this process (``ps``, ``/proc/PID/comm``): the zygote and the workers are told apart
    from the server by name."""
    if _LIBC is not None:
        with contextlib.suppress(OSError, AttributeError):
            _LIBC.prctl(_PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


def _serve(handle: Callable[[Any], Any], jobs_fd: int, answers_fd: int) -> None:  # pragma: no cover
    """The worker's loop: read a job, run it under its limits, write ``(kind, payload)``; exit
    when the server closes the job pipe, without running any cleanup of the server's (atexit
    handlers, buffered files, sockets)."""
    try:
        _close_inherited_fds(keep=(jobs_fd, answers_fd))
        _die_with_parent()
        _name(b"cdkg-worker")
        while True:
            frame = _read_frame(jobs_fd)
            if frame is None:
                break
            message, timeout = pickle.loads(frame)  # noqa: S301 - the server wrote it
            _limit_job(timeout)
            _write_frame(answers_fd, _outcome(handle, message))
    finally:
        os._exit(0)


def _outcome(handle: Callable[[Any], Any], message: Any) -> bytes:  # pragma: no cover
    try:
        outcome: tuple[str, Any] = ("ok", handle(message))
    except CdkgError as err:
        outcome = ("error", (type(err), err.message, vars(err)))
    except MemoryError:
        outcome = ("memory", None)
    except BaseException:
        outcome = ("bug", traceback.format_exc())
    try:
        return pickle.dumps(outcome)
    except Exception:
        return pickle.dumps(("bug", traceback.format_exc()))


def _close_inherited_fds(keep: tuple[int, ...]) -> None:  # pragma: no cover - child only
    """Close the server's sockets and other workers' pipes in the worker, so a killed worker
    holds no client connection and another worker's end of file is not held up."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _die_with_parent() -> None:  # pragma: no cover - child only
    """Die with the server; and never write a core file (a worker aborting at its memory limit
    would write one as large as that limit)."""
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if _LIBC is not None:
        with contextlib.suppress(OSError, AttributeError):
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _limit_job(timeout: float) -> None:  # pragma: no cover - child only
    """The job's CPU-time and address-space limits, counted from now. Only the soft limits are
    set, so that later jobs can be given theirs (an unprivileged process may not raise a hard
    limit again)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _soft_limit(resource.RLIMIT_CPU, math.ceil(usage.ru_utime + usage.ru_stime + timeout) + 2)
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/statm") as statm:  # noqa: PTH123
            pages = int(statm.read().split()[0])
        _soft_limit(resource.RLIMIT_AS, pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_HEADROOM)


def _soft_limit(which: int, value: int) -> None:  # pragma: no cover - child only
    with contextlib.suppress(OSError, ValueError):
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))


def _unpack(outcome: tuple[str, Any]) -> Any:
    kind, payload = outcome
    if kind == "ok":
        return payload
    if kind == "error":
        cls, message, state = payload
        err = cls.__new__(cls)
        Exception.__init__(err, message)
        err.__dict__.update(state)
        raise err
    if kind == "memory":
        raise ServiceUnavailable(
            f"the query needed more than {MEMORY_HEADROOM >> 30} GiB of memory and was stopped",
            hint="narrow the query: add LIMIT, avoid cross products between unrelated patterns",
        )
    log.error("query worker raised:\n%s", payload)
    raise InternalError(
        "the query failed inside the endpoint", hint="this is a bug; it has been logged"
    )
