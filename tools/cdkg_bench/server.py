"""A server child process of a benchmark: started, waited for, asked once, stopped with every
process it started; its process tree, CPU time and memory, read from ``/proc``; a run that SIGTERM
ends as Ctrl-C does (:func:`stopping_on_sigterm`)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cdkg_bench.client import ACCEPT, CLIENT_TIMEOUT, post, rows


@contextlib.contextmanager
def stopping_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM ends the run as Ctrl-C does, by an exception in the main thread
    (SystemExit, code 143), so that the ``finally`` blocks that stop the servers it started run:
    Python's default for SIGTERM ends the process at once and leaves them running."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Server:
    """A server child process, where it listens, and its log."""

    name: str
    command: list[str]
    port: int
    path: str  # of the SPARQL service
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, env=env
            )

    def wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.tail()}")
            try:
                status, _ = post(self.port, self.path, "ASK {}", timeout=5)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer within {within:g} s:\n{self.tail()}")

    def stop(self) -> None:
        """Stop the server and every process it started: ``cdkg serve``'s engine master runs in
        a process group of its own and outlives a server stopped by a signal, so each
        descendant found before the server is stopped is killed after it."""
        if self.process is None or self.process.poll() is not None:
            return
        descendants = [pid for pid, depth in process_tree(self.process.pid) if depth > 0]
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in descendants:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def first_answer(
    server: Server, text: str, accept: str = ACCEPT, timeout: float = CLIENT_TIMEOUT
) -> tuple[int, int, float]:
    """One answer to ``text``: (rows or -1 if it failed, its length in bytes, seconds)."""
    started = time.perf_counter()
    try:
        status, body = post(server.port, server.path, text, accept=accept, timeout=timeout)
        count = rows(body, accept) if status == 200 else -1
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        count, body = -1, b""
    return count, len(body), time.perf_counter() - started


def process_tree(root: int) -> list[tuple[int, int]]:
    """``root`` and every process descending from it (from ``/proc/*/stat``), each with its
    depth below ``root`` (0 for ``root``)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    found, todo = [], [(root, 0)]
    while todo:
        pid, depth = todo.pop()
        found.append((pid, depth))
        todo += [(child, depth + 1) for child in children.get(pid, [])]
    return found


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of ``root`` and its descendants so far, from ``/proc``."""
    ticks = 0
    for pid, _ in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(server: Server, window: float = 0.2, idle: float = 0.02, within: float = 120.0) -> float:
    """Wait until ``server``'s processes use less than ``idle`` CPU seconds in ``window``: the
    requests a load left queued or running are done (a server goes on with a query its client
    gave up on). Returns the seconds waited."""
    started = time.monotonic()
    if server.process is None:
        return 0.0
    before = cpu_seconds(server.process.pid)
    while time.monotonic() - started < within:
        time.sleep(window)
        now = cpu_seconds(server.process.pid)
        if now - before < idle:
            break
        before = now
    return time.monotonic() - started


def process_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (``/proc/PID/status``), Pss and private memory (``smaps_rollup``), bytes;
    empty if the process is gone."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
        private = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == "Pss":
                out["Pss"] = int(value.split()[0]) * 1024
            elif key in ("Private_Clean", "Private_Dirty"):
                private += int(value.split()[0]) * 1024
        out["Private"] = private
    except (OSError, ValueError, IndexError):
        return {}
    return out


@dataclass
class TreeWatch:
    """Samples the memory of ``server``'s process tree once it runs: each process's figures
    (:func:`process_memory`), and the tree's summed Pss at most every ``every`` seconds when
    called (reading smaps walks every page: not at every poll)."""

    server: Server
    every: float = 0.25
    peak_pss: int = 0
    last: float = 0.0

    def __call__(self) -> None:
        if self.server.process is None:
            return
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        self.sample()

    def sample(self) -> list[dict[str, int]]:
        """Each process of the tree (the root first) with its depth and memory; none before the
        server is started."""
        if self.server.process is None:
            return []
        found = [
            {"pid": pid, "depth": depth, **process_memory(pid)}
            for pid, depth in process_tree(self.server.process.pid)
        ]
        self.peak_pss = max(self.peak_pss, sum(p.get("Pss", 0) for p in found))
        return found
