"""The memory of the server and its query workers (proportional set sizes), read from
``/proc``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cdkg.engine.processes import MASTER_NAME

#: The name (``/proc/PID/comm``) of the process that forks the engine processes.
ZYGOTE_NAME = MASTER_NAME
#: Seconds between two memory samples during the load. A sample is not free: each process's
#: ``smaps_rollup`` walks its page tables in the kernel, on one of the CPUs the load shares, so
#: frequent samples take CPU from the load and raise the loaded p99 the soak judges
#: (docs/performance.md, "The soak's own costs").
SAMPLE_EVERY = 1.0


# --- memory, from /proc -------------------------------------------------------------------------


def pss_kib(pid: int) -> int:
    """The proportional set size of ``pid`` in KiB: its resident pages, each page shared with
    other processes counted as its share. Forked query workers share most of the server's
    pages, which their RSS would count again in each; PSS adds up to the memory in use. Falls
    back to RSS where ``smaps_rollup`` cannot be read (0 if the process is gone)."""
    found = _field_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")
    return rss_kib(pid) if found is None else found


def busy(pid: int) -> bool:
    """Whether any thread of ``pid`` is running or waiting for a CPU (state R), from
    ``/proc``."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        if stat.rpartition(")")[2].split()[0] == "R":
            return True
    return False


def rss_kib(pid: int) -> int:
    """The resident set of ``pid`` in KiB (0 if it is gone)."""
    return _field_kib(Path(f"/proc/{pid}/status"), "VmRSS:") or 0


def _field_kib(path: Path, name: str) -> int | None:
    """The KiB on the line of ``path`` that starts with ``name`` (None if unreadable)."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the server's query workers), from ``/proc/*/stat``."""
    return ProcessTree().descendants(pid)


class ProcessTree:
    """Who is whose parent, from ``/proc/*/stat``, kept between readings: each reading lists
    ``/proc`` and reads the ``stat`` of new processes only. Reading every process's ``stat`` at
    each sample would take the load generator's CPU (and its GIL, which its client threads
    need); ``/proc/PID/task/TID/children`` would name children directly, but kernels built
    without ``CONFIG_PROC_CHILDREN`` have no such file."""

    def __init__(self) -> None:
        self._parents: dict[int, int] = {}

    def descendants(self, pid: int) -> list[int]:
        alive = {int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()}
        for gone in self._parents.keys() - alive:
            del self._parents[gone]
        for new in alive - self._parents.keys():
            parent = _parent(new)
            if parent is not None:
                self._parents[new] = parent
        found, frontier = [], [pid]
        while frontier:
            parent = frontier.pop()
            kids = [p for p, pp in self._parents.items() if pp == parent]
            found += kids
            frontier += kids
        return found


def _parent(pid: int) -> int | None:
    """The parent of ``pid``, or None if it is gone. Read once per process: a parent changes only
    when the parent dies, and a dead parent drops out of the tree with the orphans below it (a
    fresh read would find them under PID 1: not the server's either)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: the fields follow the last ')'
    return int(stat.rpartition(")")[2].split()[1])


def query_workers(pids: list[int]) -> list[int]:
    """The engine processes that answer queries among the server's descendants ``pids``: all but
    the engine master that forks them (told apart by its name, ``cdkg-engine``)."""
    return [pid for pid in pids if _name(pid) != ZYGOTE_NAME]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


class Reading(NamedTuple):
    """Memory at rest: KiB (server and workers), how many workers were alive, and KiB of the
    server alone."""

    kib: int
    workers: int
    server_kib: int


@dataclass
class Memory:
    """Samples of the memory (PSS) of the server and its query workers during the load."""

    pid: int
    peak_total: int = 0
    peak_server: int = 0
    most_workers: int = 0
    samples: int = 0
    tree: ProcessTree = field(default_factory=ProcessTree)

    def total(self) -> tuple[int, int, int]:
        """(server, zygote and workers, server alone, number of workers), in KiB."""
        kids = self.tree.descendants(self.pid)
        server = pss_kib(self.pid)
        return server + sum(pss_kib(kid) for kid in kids), server, len(query_workers(kids))

    def sample(self) -> int:
        total, server, workers = self.total()
        self.peak_total = max(self.peak_total, total)
        self.peak_server = max(self.peak_server, server)
        self.most_workers = max(self.most_workers, workers)
        self.samples += 1
        return total

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(SAMPLE_EVERY):
            self.sample()

    def quiet(self, within: float, idle_workers: int) -> Reading:
        """The memory once the server is idle (waiting up to ``within`` s for its query workers
        to finish: at most ``idle_workers`` left, none running): the median of three samples
        half a second apart, and the number of workers then."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            kids = self.tree.descendants(self.pid)
            if len(query_workers(kids)) <= idle_workers and not any(busy(kid) for kid in kids):
                break
            time.sleep(0.2)
        readings = []
        for i in range(3):
            if i:
                time.sleep(0.5)
            readings.append(self.total())
        total, server, workers = sorted(readings)[1]  # the median, by total
        return Reading(total, workers, server)
