"""The memory of the server and its query workers, read from ``/proc``."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

#: Seconds between two memory samples during the load.
SAMPLE_EVERY = 0.25


# --- memory, from /proc -------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """The resident set of ``pid`` in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the server's query workers), from ``/proc/*/stat``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the fields follow the last ')'
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


@dataclass
class Memory:
    """Samples of the server's memory during the load."""

    pid: int
    peak_total: int = 0
    peak_server: int = 0
    most_workers: int = 0
    samples: int = 0

    def sample(self) -> int:
        kids = children(self.pid)
        server = rss_kib(self.pid)
        total = server + sum(rss_kib(kid) for kid in kids)
        self.peak_total = max(self.peak_total, total)
        self.peak_server = max(self.peak_server, server)
        self.most_workers = max(self.most_workers, len(kids))
        self.samples += 1
        return total

    def watch(self, stop: threading.Event) -> None:
        while not stop.wait(SAMPLE_EVERY):
            self.sample()

    def quiet(self, within: float) -> int:
        """The memory once no worker is left (waiting up to ``within`` s): the median of three
        samples half a second apart."""
        deadline = time.monotonic() + within
        while children(self.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        values = []
        for i in range(3):
            if i:
                time.sleep(0.5)
            values.append(rss_kib(self.pid) + sum(rss_kib(k) for k in children(self.pid)))
        return int(statistics.median(values))
