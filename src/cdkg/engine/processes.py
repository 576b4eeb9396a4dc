"""Engine processes: the master forked from the server, which forks a child per connection, and
the server's connection to a child; each child limited, named, and ended with the server.

The master shares the dataset with the server copy-on-write (Oxigraph's store is Rust memory that
no reference count touches, so its pages stay shared). A query is stopped by killing its child:
pyoxigraph cannot interrupt a query once it runs, and a process can always be killed. A lifeline
pipe ends the master and its children with the server, however the server ends.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import queue
import resource
import select
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cdkg.engine.wire import read_frame


class Overran(Exception):
    """The query outlived its time limit."""


#: Memory an engine child may take beyond its size when forked (its address-space rlimit): a
#: query that builds an ever-growing answer is stopped (Oxigraph aborts when an allocation
#: fails), not the machine. With QUERIES_PER_WORKER + LONG_QUERIES_PER_WORKER children per
#: ``--workers``, this bounds queries to 8 GiB in all at the default 2 workers (a cgroup can bound
#: it lower: docs/security.md).
MEMORY_HEADROOM = 1 << 30


class Connection:
    """A connection to one engine child, which answers its queries one at a time."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock = sock
        self.pid = pid
        self.reusable = True

    @classmethod
    def open(cls, path: str) -> Connection:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(10)
            sock.connect(path)
            pid = json.loads(read_frame(sock))["pid"]
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
            return read_frame(self.sock)
        except TimeoutError:
            raise Overran from None

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


def stop_processes(state: dict[str, Any]) -> None:
    """Close the idle connections in ``state["_idle"]`` and stop ``state["_master"]``."""
    idle: queue.LifoQueue[Connection] = state["_idle"]
    while True:
        try:
            idle.get_nowait().close()
        except queue.Empty:
            break
    master: Master | None = state.get("_master")
    if master is not None:
        master.stop()


class Master:
    """The engine master: a forked process that listens on a Unix socket in a private directory
    and forks a child for each connection it accepts."""

    def __init__(self, pid: int, path: str, directory: str, lifeline: int) -> None:
        self.pid = pid
        self.path = path
        self.directory = directory
        self.lifeline = lifeline

    @classmethod
    def fork(cls, serve: Callable[[socket.socket], None]) -> Master:
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


def _master_loop(
    listener: socket.socket, lifeline: int, serve: Callable[[socket.socket], None]
) -> None:
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
