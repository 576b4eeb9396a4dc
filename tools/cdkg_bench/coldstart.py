"""Cold start (part b of ``cdkg bench-report``): from spawning a server to its first answered
query, and where ``cdkg serve``'s start-up goes, phase by phase, in a fresh interpreter.

:func:`measure_cold_start` times cdkg (load, validation, views, engine) beside the Oxigraph server
read-only over an already loaded store, the in-memory Oxigraph server (spawn, POST the quads,
answer), and rdflib-endpoint (parse the quads), alternating which goes first.
:func:`startup_phases` runs ``cdkg serve``'s start-up work once in a fresh interpreter, each
phase's seconds and the peak memory after it.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdkg_bench.client import post
from cdkg_bench.dataset import Prepared
from cdkg_bench.queries import BenchQuery
from cdkg_bench.server import Server, TreeWatch
from cdkg_bench.servers import (
    CDKG,
    OXIGRAPH,
    OXIGRAPH_DISK,
    PEER,
    cdkg_server,
    load_quads,
    oxigraph_server,
    peer_server,
)
from cdkg_bench.stats import median


@dataclass(frozen=True)
class ColdStart:
    """Seconds from spawning each server to its first answered query, one list per server."""

    runs: dict[str, list[float]]

    def medians(self) -> dict[str, float]:
        return {k: median(v) for k, v in self.runs.items()}


def time_to_first_answer(
    server: Server,
    text: str,
    within: float = 300.0,
    prepare: Callable[[], None] | None = None,
    watch: TreeWatch | None = None,
) -> float:
    """Spawn ``server`` and POST ``text`` every 10 ms until it answers 200; the seconds that took.
    With ``prepare``, the server is first polled with ``ASK {}``, then ``prepare`` runs (the
    in-memory Oxigraph server gets its data). ``watch`` samples the server's memory at each poll.
    The server is left running: the caller stops it."""
    started = time.perf_counter()
    server.start()
    deadline = time.monotonic() + within
    probe = "ASK {}" if prepare is not None else text
    while time.monotonic() < deadline:
        if watch is not None:
            watch()
        try:
            status, _ = post(server.port, server.path, probe, timeout=within)
            if status == 200:
                if probe == text:
                    return time.perf_counter() - started
                assert prepare is not None  # noqa: S101 - probe differs only with prepare
                prepare()
                probe = text
                continue
        except (OSError, http.client.HTTPException):
            pass
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start-up:\n{server.tail()}")
        time.sleep(0.01)
    raise RuntimeError(f"{server.name} did not answer within {within:g} s:\n{server.tail()}")


def measure_cold_start(prepared: Prepared, query: BenchQuery, runs: int) -> ColdStart:
    """``runs`` cold starts of each server, alternating which goes first."""
    found: dict[str, list[float]] = {CDKG: [], OXIGRAPH_DISK: [], OXIGRAPH: [], PEER: []}
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-cold-") as tmp:
        logs = Path(tmp)
        for run in range(runs):
            plan: list[tuple[str, Server, str, Callable[[], None] | None]] = [
                (CDKG, cdkg_server(CDKG, [], logs), query.text, None),
                (PEER, peer_server([prepared.quads], logs), query.declared, None),
            ]
            if prepared.location is not None:
                disk = oxigraph_server(OXIGRAPH_DISK, logs, prepared.location)
                memory = oxigraph_server(OXIGRAPH, logs)
                plan[1:1] = [
                    (OXIGRAPH_DISK, disk, query.declared, None),
                    (OXIGRAPH, memory, query.declared, _loader(memory, prepared.quads)),
                ]
            for key, server, text, prepare in plan if run % 2 == 0 else plan[::-1]:
                try:
                    found[key].append(time_to_first_answer(server, text, prepare=prepare))
                finally:
                    server.stop()
    return ColdStart({k: v for k, v in found.items() if v})


def _loader(server: Server, quads: Path) -> Callable[[], None]:
    return lambda: load_quads(server, quads)


#: Run in a fresh interpreter: where ``cdkg serve``'s start-up goes, phase by phase, as
#: ``cdkg.web.server.serve`` does it (load, validate, then the app: the canned queries, the
#: catalog and views, the rest of the app and the engine);
#: each phase's seconds and the process's peak memory (VmHWM) after it. argv: the files, if any.
STARTUP_PHASES = """
import json, sys, time
began = time.time()
def hwm():
    with open("/proc/self/status") as f:
        kv = dict(line.split(":", 1) for line in f)
    return int(kv["VmHWM"].split()[0]) * 1024
phases, peaks = {}, {}
def step(name, began):
    phases[name] = time.perf_counter() - began
    peaks[name] = hwm()
    return time.perf_counter()
t = time.perf_counter()
from pathlib import Path
import cdkg.web
from cdkg.kg.graph import kg_files, load_dataset
from cdkg.names import CDKG_GRAPH
from cdkg.canned.registry import Registry
from cdkg.resources import kg_dir
from cdkg.kg.served import add_derived_graphs
from cdkg.settings import Settings
from cdkg.kg.validate import _shacl, load_checks, load_shapes, run_checks
from cdkg.web import create_app
t = step("import", t)
files = [Path(p) for p in sys.argv[1:]] or kg_files()
dataset = load_dataset((), files)
t = step("load", t)
shapes, checks = load_shapes(), load_checks()
kg = dataset.get_context(CDKG_GRAPH)
findings = _shacl(kg, shapes, "turbo")
t = step("SHACL", t)
findings += run_checks(kg, checks, "oxigraph")
t = step("checks", t)
queries = Registry.load(kg_dir("queries"))
t = step("canned queries (Registry.load)", t)
add_derived_graphs(dataset, queries)
t = step("catalog and views", t)
cdkg.web.add_derived_graphs = lambda *args, **kwargs: None  # done above: not twice
app = create_app(Settings(), dataset, files=files, queries=queries)
t = step("app and engine", t)
app.extensions["cdkg"].engine.close()
print(json.dumps({"phases": phases, "peaks": peaks, "triples": len(dataset), "began": began,
                  "violations": sum(1 for f in findings if f.severity == "Violation")}), flush=True)
"""


def startup_phases(files: Sequence[Path] = ()) -> dict[str, Any]:
    """One start-up of ``cdkg serve``'s work in a fresh interpreter, timed phase by phase; also
    the interpreter's own start (before the first import) and its exit (freeing what it held),
    which ``cdkg serve`` pays at start and at exit."""
    spawned, started = time.time(), time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
    done = subprocess.run(
        [sys.executable, "-c", STARTUP_PHASES, *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    total = time.perf_counter() - started
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    phases = found["phases"]
    start = max(0.0, found.pop("began") - spawned)
    found["phases"] = {"interpreter start": start, **phases}
    found["exit (not part of start-up)"] = max(0.0, total - start - sum(phases.values()))
    return found
