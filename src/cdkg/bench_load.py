"""Per-query load and cold start, side by side with rdflib-endpoint (parts a and b of
``cdkg bench-report``).

**Load, per canned query.** Three servers over the same files: ``cdkg serve`` as shipped (result
cache on), ``cdkg serve --cache-entries 0``, and ``rdflib-endpoint serve``. For each canned query
(default parameters, POSTed as forms, JSON results) each server is loaded with ``clients``
concurrent clients (:func:`cdkg.bench_http.drive`), in two modes:

- ``warm``: the same text every time, on cdkg with its cache (what a client repeating a canned
  query sees) and on rdflib-endpoint (which caches the parsed query, not the answer);
- ``uncached``: a numbered comment makes every text new, on cdkg with the cache off, so every
  request is admitted, evaluated and serialised; rdflib-endpoint parses and evaluates each.

A phase ends after ``duration`` seconds or ``max_requests`` requests, whichever comes first;
rdflib-endpoint, which answers one query at a time, gets one wave of at most ``peer_requests``
concurrent requests (one per client), and fewer where its first answer says the wave would take
more than ``peer_budget`` seconds (:func:`peer_wave`), or a slow query would take minutes. Its
throughput does not depend on how many wait (one core works); its p50 and p99 under a smaller
wave are lower than under 20 clients, so this favours rdflib-endpoint. The warm latency of one
client alone (``solo_requests`` in a row) is measured too: it is the service time that the queue
of 20 clients multiplies.

**Cold start.** From spawning the server process to the first answered canned query, including
cdkg's load and validation: the parent polls with the query until it gets a 200.
"""

from __future__ import annotations

import http.client
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cdkg.bench_http import (
    OURS,
    PEER,
    Server,
    Stats,
    Tally,
    drive,
    first_answer,
    free_port,
    post,
    ratio,
    summarize,
)

#: The servers of the load test, by key: (label, cdkg serve's extra arguments or None for the peer).
WARM, UNCACHED = "warm", "uncached"
MODES = (WARM, UNCACHED)


@dataclass(frozen=True)
class LoadOptions:
    clients: int = 20
    duration: float = 2.0
    max_requests: int = 5000
    peer_requests: int = 20
    peer_budget: float = 4.0
    solo_requests: int = 30
    queries: tuple[str, ...] = ()  # names; empty: every canned query


@dataclass
class QueryLoad:
    """One canned query under load: rows from each server, and stats per mode and server."""

    name: str
    rows_ours: int
    rows_peer: int
    first_ours: float
    first_peer: float
    stats: dict[str, dict[str, Stats]] = field(default_factory=dict)  # mode -> server -> stats
    solo_p50: float = math.nan  # warm, one client alone, cdkg
    peer_wave: int = 0  # concurrent requests sent to rdflib-endpoint per mode
    skipped: str = ""  # why the query was left out of the load

    def throughput_ratio(self, mode: str) -> float:
        s = self.stats.get(mode)
        return ratio(s[OURS].per_second, s[PEER].per_second) if s else math.nan


# --- statistics (pure; tested) ------------------------------------------------------------------


def harmonic_mean(values: Sequence[float]) -> float:
    """The throughput of a mix sending each query equally often, from the per-query throughputs;
    NaN if any is missing or zero."""
    if not values or any(math.isnan(v) or v <= 0 for v in values):
        return math.nan
    return len(values) / sum(1 / v for v in values)


def geometric_mean(values: Sequence[float]) -> float:
    """The geometric mean (of ratios); NaN if any is missing or not positive."""
    if not values or any(math.isnan(v) or v <= 0 for v in values):
        return math.nan
    return math.exp(sum(math.log(v) for v in values) / len(values))


def peer_wave(clients: int, budget: float, first_answer: float) -> int:
    """How many concurrent requests to send a server that answers one at a time, each taking
    about ``first_answer`` seconds, so that the wave ends within ``budget``: ``clients`` at most,
    one at least."""
    if first_answer <= 0 or math.isnan(first_answer):
        return clients
    return max(1, min(clients, int(budget // first_answer)))


def overall(loads: Sequence[QueryLoad], mode: str) -> dict[str, float]:
    """Across the measured queries of ``mode``: each server's mix throughput (harmonic mean), their
    ratio, the geometric mean and the minimum of the per-query ratios, and the worst p50."""
    measured = [q for q in loads if mode in q.stats]
    ours = harmonic_mean([q.stats[mode][OURS].per_second for q in measured])
    peer = harmonic_mean([q.stats[mode][PEER].per_second for q in measured])
    ratios = [q.throughput_ratio(mode) for q in measured]
    return {
        "queries": len(measured),
        "ours_per_second": ours,
        "peer_per_second": peer,
        "mix_ratio": ratio(ours, peer),
        "geomean_ratio": geometric_mean(ratios),
        "min_ratio": min(ratios, default=math.nan),
        "worst_p50": max((q.stats[mode][OURS].p50 for q in measured), default=math.nan),
    }


# --- load, per query ----------------------------------------------------------------------------


def _cdkg(name: str, extra: Sequence[str], logs: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "cdkg.cli", "serve", "--port", str(port), *extra]
    return Server(name, command, port, "/sparql", logs / f"{name.replace(' ', '_')}.log")


def _peer(files: Sequence[Path], logs: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "rdflib_endpoint", "serve", *map(str, files)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return Server(PEER, command, port, "/", logs / "rdflib-endpoint.log")  # its CLI serves at /


def measure_load(
    names: Sequence[str],
    texts: Sequence[str],
    files: Sequence[Path],
    options: LoadOptions,
    progress: Callable[[str], None] = lambda _: None,
) -> list[QueryLoad]:
    """Start the three servers, then load each with each query in turn (see the module doc)."""
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-load-") as tmp:
        logs = Path(tmp)
        warm = _cdkg(OURS, [], logs)
        cold = _cdkg(f"{OURS} --cache-entries 0", ["--cache-entries", "0"], logs)
        peer = _peer(files, logs)
        servers = (warm, cold, peer)
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready(within=180)
            return [
                _load_one(i, name, text, servers=servers, options=options, progress=progress)
                for i, (name, text) in enumerate(zip(names, texts, strict=True))
            ]
        finally:
            for server in servers:
                server.stop()


def _load_one(
    i: int,
    name: str,
    text: str,
    *,
    servers: tuple[Server, Server, Server],
    options: LoadOptions,
    progress: Callable[[str], None],
) -> QueryLoad:
    """Load ``servers`` (cdkg warm, cdkg uncached, the peer) with the query ``text``."""
    warm, cold, peer = servers
    (rows_ours, first_ours), (rows_peer, first_peer) = (
        first_answer(warm, text),
        first_answer(peer, text),
    )
    load = QueryLoad(name, rows_ours, rows_peer, first_ours, first_peer)
    if rows_ours < 0 or rows_peer < 0:
        load.skipped = f"failed on {OURS if rows_ours < 0 else PEER}"
    elif rows_ours != rows_peer:
        load.skipped = "the servers disagree on the rows"
    if load.skipped:
        progress(f"{name}: left out ({load.skipped})")
        return load
    load.peer_wave = peer_wave(options.peer_requests, options.peer_budget, first_peer)
    solo = Tally()
    drive(
        warm,
        [text],
        [rows_ours],
        clients=1,
        duration=options.duration,
        max_requests=options.solo_requests,
        unique=False,
        tally=solo,
    )
    load.solo_p50 = summarize(solo.latencies, 0, 0, solo.elapsed).p50
    pairs = {WARM: ((warm, False), (peer, False)), UNCACHED: ((cold, True), (peer, True))}
    for mode, (ours, theirs) in pairs.items():
        order = [(OURS, *ours), (PEER, *theirs)]
        load.stats[mode] = {}
        for key, server, unique in order if i % 2 == 0 else order[::-1]:
            tally = Tally()
            drive(
                server,
                [text],
                [rows_ours],
                clients=options.clients if key == OURS else load.peer_wave,
                duration=options.duration,
                max_requests=options.max_requests if key == OURS else load.peer_wave,
                unique=unique,
                tally=tally,
            )
            load.stats[mode][key] = summarize(
                tally.latencies, sum(tally.errors.values()), tally.wrong_rows, tally.elapsed
            )
    progress(
        f"{name}: warm {load.throughput_ratio(WARM):.3g}x, "
        f"uncached {load.throughput_ratio(UNCACHED):.3g}x rdflib-endpoint"
    )
    return load


def load_json(loads: Sequence[QueryLoad]) -> list[dict[str, Any]]:
    out = []
    for q in loads:
        item = asdict(q)
        item["throughput_ratio"] = {mode: q.throughput_ratio(mode) for mode in q.stats}
        out.append(item)
    return out


# --- cold start ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStart:
    """Seconds from spawning each server to its first answered query, one per run."""

    ours: list[float]
    peer: list[float]

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours) if self.ours else math.nan

    @property
    def peer_median(self) -> float:
        return statistics.median(self.peer) if self.peer else math.nan


def time_to_first_answer(server: Server, text: str, within: float = 120.0) -> float:
    """Spawn ``server``, POST ``text`` every 10 ms until it answers 200; the seconds that took."""
    started = time.perf_counter()
    server.start()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                status, _ = post(server.port, server.path, text, timeout=within)
                if status == 200:
                    return time.perf_counter() - started
            except (OSError, http.client.HTTPException):
                pass
            if server.process is not None and server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited at start-up:\n{server.tail()}")
            time.sleep(0.01)
        raise RuntimeError(f"{server.name} did not answer within {within:g} s:\n{server.tail()}")
    finally:
        server.stop()


def measure_cold_start(files: Sequence[Path], text: str, runs: int) -> ColdStart:
    """``runs`` cold starts of each server, alternating which goes first."""
    ours: list[float] = []
    peer: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-cold-") as tmp:
        for run in range(runs):
            pair = [(ours, _cdkg(OURS, [], Path(tmp))), (peer, _peer(files, Path(tmp)))]
            for found, server in pair if run % 2 == 0 else pair[::-1]:
                found.append(time_to_first_answer(server, text))
    return ColdStart(ours, peer)


#: Run in a fresh interpreter: where cdkg serve's start-up time goes, phase by phase (seconds).
STARTUP_PHASES = """
import json, time
t0 = time.perf_counter()
from cdkg.graph import CDKG_GRAPH, load_dataset
from cdkg.settings import Settings
from cdkg.validate import load_checks, load_shapes, validate
from cdkg.web import create_app
t1 = time.perf_counter()
dataset = load_dataset()
t2 = time.perf_counter()
report = validate(dataset.get_context(CDKG_GRAPH), load_shapes(), checks=load_checks())
t3 = time.perf_counter()
create_app(Settings(), dataset)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "validate": t3 - t2,
                  "create_app (engine warm-up)": t4 - t3, "conforms": report.conforms}))
"""


def startup_phases() -> dict[str, float]:
    """One start-up of cdkg serve's work in a fresh interpreter, timed phase by phase."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", STARTUP_PHASES], capture_output=True, text=True, check=True
    )
    phases: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    phases["interpreter (python itself)"] = (time.perf_counter() - started) - sum(
        v for k, v in phases.items() if k != "conforms"
    )
    return phases
