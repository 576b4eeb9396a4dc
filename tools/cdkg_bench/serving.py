"""Serving the largest generated size (part d of ``cdkg bench-report``): ``cdkg serve`` to its
first answer and its peak memory, beside ``oxigraph load`` and raw pyoxigraph.

``cdkg serve --data FILE`` from spawn to its first answered query, and its memory: the peak
(``VmHWM``) of the server process, and the proportional set size (``Pss``: shared pages split
between the processes sharing them) of the whole process tree (the server, its engine master and
children), sampled while it starts and at its first answer; the figure is the larger of the two.
Beside it: ``oxigraph load`` of the same files into a new RocksDB store (time, and peak memory from
``wait4``), then ``oxigraph serve-read-only`` over it to its first answer; and raw pyoxigraph
loading the same files into ``pyoxigraph.Store()`` in a fresh interpreter (time, ``VmHWM``). Then
one start-up of cdkg's work at that size, phase by phase
(:func:`cdkg_bench.coldstart.startup_phases`): where the time and the memory go.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cdkg.kg.graph import ontology_files
from cdkg_bench.client import post
from cdkg_bench.coldstart import startup_phases, time_to_first_answer
from cdkg_bench.server import TreeWatch
from cdkg_bench.servers import cdkg_server, oxigraph_binary, oxigraph_server
from cdkg_bench.stats import ratio

#: A fresh interpreter loading the files (argv) into a raw pyoxigraph store: seconds, memory.
PROBE_RAW = """
import json, sys, time
def status():
    with open("/proc/self/status") as f:
        kv = dict(line.split(":", 1) for line in f)
    return {k: int(kv[k].split()[0]) * 1024 for k in ("VmRSS", "VmHWM")}
import pyoxigraph as ox
imported = status()["VmRSS"]
started = time.perf_counter()
store = ox.Store()
for p in sys.argv[1:]:
    fmt = ox.RdfFormat.TURTLE if p.endswith(".ttl") else ox.RdfFormat.N_TRIPLES
    store.load(path=p, format=fmt)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "imported": imported, **status(), "triples": len(store)}))
"""

#: The query that times a first answer at scale: cheap at any size.
FIRST_QUERY = "ASK { ?s ?p ?o }"
COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def probe(code: str, files: Sequence[Path]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _wait4(process: subprocess.Popen[bytes]) -> tuple[int, int]:
    """Wait for ``process``: (exit status, its peak RSS in bytes, children included)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss * 1024


def measure_serving(
    path: Path,
    triples: int,
    workdir: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """cdkg serving the generated ``path`` beside ``oxigraph load`` and raw pyoxigraph (see the
    module doc)."""
    files = [*ontology_files(), path]
    out: dict[str, Any] = {"triples": triples, "files": [p.name for p in files]}
    logs = workdir / "serving-logs"
    logs.mkdir(exist_ok=True)
    binary = oxigraph_binary()
    if binary is not None:
        location = workdir / "oxigraph-load"
        command = [binary, "load", "--location", str(location), "--file", *map(str, files)]
        started = time.perf_counter()
        with (logs / "oxigraph-load.log").open("wb") as log:
            loading = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            code, peak = _wait4(loading)
        seconds = time.perf_counter() - started
        if code != 0:
            raise RuntimeError(f"oxigraph load failed ({code}): see {logs / 'oxigraph-load.log'}")
        out["oxigraph_load"] = {"seconds": seconds, "peak": peak}
        server = oxigraph_server("oxigraph-read-only", logs, location)
        try:
            out["oxigraph_load"]["serve_first_answer"] = time_to_first_answer(server, FIRST_QUERY)
        finally:
            server.stop()
        progress(f"oxigraph load: {seconds:.1f} s, peak {peak / 2**20:.0f} MiB")
    out["pyoxigraph"] = probe(PROBE_RAW, files)
    progress(
        f"raw pyoxigraph: {out['pyoxigraph']['seconds']:.1f} s, "
        f"peak {out['pyoxigraph']['VmHWM'] / 2**20:.0f} MiB"
    )
    out["cdkg"] = _serve_cdkg(path, logs)
    progress(
        f"cdkg serve: first answer after {out['cdkg']['seconds']:.1f} s, "
        f"peak {out['cdkg']['peak'] / 2**20:.0f} MiB"
    )
    out["phases"] = startup_phases(files)
    progress(f"cdkg's start-up at this size: {json.dumps(out['phases']['phases'])}")
    load = out.get("oxigraph_load", {})
    out["time_ratio"] = ratio(out["cdkg"]["seconds"], load.get("seconds", math.nan))
    out["memory_ratio"] = ratio(out["cdkg"]["peak"], out["pyoxigraph"]["VmHWM"])
    return out


def _serve_cdkg(path: Path, logs: Path) -> dict[str, Any]:
    """``cdkg serve --data path``: seconds to its first answer, memory, triples served."""
    server = cdkg_server("cdkg-serve-large", [], logs, data=[path])
    watch = TreeWatch(server)
    try:
        seconds = time_to_first_answer(server, FIRST_QUERY, within=1800, watch=watch)
        processes = watch.sample()
        status, body = post(server.port, server.path, COUNT_QUERY, timeout=600)
        served = (
            int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) if status == 200 else -1
        )
    except (OSError, http.client.HTTPException, ValueError, KeyError) as err:
        raise RuntimeError(f"cdkg serve at scale: {err}\n{server.tail()}") from err
    finally:
        server.stop()
    root = processes[0] if processes else {}
    roles = {0: "server", 1: "engine master"}
    return {
        "seconds": seconds,
        "served_triples": served,
        "peak_server": root.get("VmHWM", 0),
        "peak_tree_pss": watch.peak_pss,
        "peak": max(root.get("VmHWM", 0), watch.peak_pss),
        "processes": [{"role": roles.get(p["depth"], "engine child"), **p} for p in processes],
    }
