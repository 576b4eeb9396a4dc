"""Run one job in a forked child process that the parent can kill: the query time limit.

A Python thread cannot stop rdflib (a catastrophic REGEX holds the GIL), so each query runs in a
child forked from the server process. The child shares the loaded graph copy-on-write, so there
is nothing to load or send; it sends back only its answer, pickled, through a pipe. At the
deadline the parent kills it with SIGKILL and the CPU is free at once. Forking costs about 7 ms
here (measured with the graph loaded), small beside parsing and evaluating a query.

The child also gets, as backstops: a CPU-time rlimit a little above the time limit, an
address-space rlimit, and death with its parent (``PR_SET_PDEATHSIG``) on Linux.

A child that dies without answering is classified by its wait status: killed from outside (SIGKILL
from the OOM killer or an operator, SIGTERM, ...) is a 503 the client may retry; the CPU rlimit
(SIGXCPU) is a timeout; a crash (SIGSEGV, an exit without an answer) is a logged 500.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import math
import os
import pickle
import resource
import select
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from cdkg.errors import CdkgError, InternalError, QueryTimeout, ServiceUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Held around every fork. Code that runs rdflib's parsers in the server process while it serves
#: (a reload building a new app) holds it too, so that no child starts from a copy of the process
#: taken in the middle of a parse (rdflib's SPARQL parser is not thread-safe, RDFLib/rdflib#1282).
FORK_LOCK = threading.Lock()
#: How much more address space than the server a query may use before it fails (MemoryError).
#: The graph itself is shared with the server, not counted again; up to 5 x ``--workers`` query
#: processes may run at once (cdkg.engine), so this bounds their memory to 10 GiB in all.
MEMORY_HEADROOM = 1 << 30
_PR_SET_PDEATHSIG = 1


def run_forked(
    job: Callable[[], T],
    timeout: float,
    *,
    grace: float | None = None,
    on_long: Callable[[int], None] | None = None,
) -> T:
    """``job()`` run in a forked child; its return value, or the CdkgError it raised.

    If the child is still running after ``grace`` seconds, ``on_long(pid)`` is called once (the
    engine lowers its CPU priority, :func:`demote`, and frees its slot for short queries).

    Raises :class:`QueryTimeout` if it runs past ``timeout`` seconds (the child is killed),
    :class:`ServiceUnavailable` (503, retry) if something outside the server killed the child, and
    :class:`InternalError` if it crashed or raised anything but a CdkgError (logged, with the
    child's traceback when it has one).
    """
    read_end, write_end = os.pipe()
    with FORK_LOCK:
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the pipe
        os.close(read_end)
        _child(job, write_end, timeout)
    os.close(write_end)
    try:
        start = time.monotonic()
        if (
            grace is not None
            and on_long is not None
            and grace < timeout
            and not _wait_readable(read_end, grace)
        ):
            on_long(pid)
        data = _read_until(read_end, pid, start + timeout, timeout)
    finally:
        os.close(read_end)
    _, status = os.waitpid(pid, 0)
    try:
        outcome = pickle.loads(data)  # noqa: S301 - our own child wrote it
    except Exception:  # no answer, or one cut short when the child died writing it
        raise _died(pid, status) from None
    answer: T = _unpack(outcome)
    return answer


#: Signals meaning the child was stopped from outside (an operator, the OOM killer, a supervisor):
#: the query may well succeed if sent again. Any other death (a crash signal such as SIGSEGV, or an
#: exit without an answer) is a bug.
KILLED_FROM_OUTSIDE = frozenset(
    {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}
)


def _died(pid: int, status: int) -> CdkgError:
    """The error for a child that ended without a complete answer, given its wait status.

    Our own timeout kill never gets here (:func:`_read_until` raises QueryTimeout itself).
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


def demote(pid: int) -> None:
    """Give the child ``pid`` the lowest CPU priority (nice 19): a long query then takes only
    the CPU that short ones leave, so one runaway query cannot slow every other client."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, 19)


def _wait_readable(fd: int, seconds: float) -> bool:
    """Whether ``fd`` has something to read (an answer, or the child's end) within ``seconds``."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    return bool(poller.poll(seconds * 1000))


def _read_until(fd: int, pid: int, deadline: float, timeout: float) -> bytes:
    chunks: list[bytes] = []
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            if time.monotonic() < deadline:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise QueryTimeout(
                f"the query ran longer than the time limit of {timeout:g} s and was stopped",
                hint="narrow the query: add LIMIT, bind a subject or class, avoid regex over all "
                "literals and unbounded property paths; the operator can raise --timeout",
            )
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _child(job: Callable[[], Any], write_end: int, timeout: float) -> None:  # pragma: no cover
    """In the child: run the job, write ``(kind, payload)``, exit without running any cleanup
    of the parent's (atexit handlers, buffered files, sockets)."""
    try:
        _close_inherited_fds(keep=write_end)
        _limit_child(timeout)
        try:
            outcome: tuple[str, Any] = ("ok", job())
        except CdkgError as err:
            outcome = ("error", (type(err), err.message, vars(err)))
        except MemoryError:
            outcome = ("memory", None)
        except BaseException:
            outcome = ("bug", traceback.format_exc())
        try:
            data = pickle.dumps(outcome)
        except Exception:
            data = pickle.dumps(("bug", traceback.format_exc()))
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
    finally:
        os._exit(0)


def _close_inherited_fds(keep: int) -> None:  # pragma: no cover - child only
    """Close the server's sockets in the child, so a killed child holds no client connection."""
    os.closerange(3, keep)
    os.closerange(keep + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _limit_child(timeout: float) -> None:  # pragma: no cover - child only
    cpu = math.ceil(timeout) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    with contextlib.suppress(OSError, ValueError):
        pages = int(open("/proc/self/statm").read().split()[0])  # noqa: PTH123, SIM115
        limit = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_HEADROOM
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc_name).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


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
