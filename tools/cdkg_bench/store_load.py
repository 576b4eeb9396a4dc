"""The loads of the store part (:mod:`cdkg_bench.store`): the graphs ``cdkg load`` sends,
written as N-Triples beforehand; ``curl`` PUT of them into a fresh Virtuoso, counted after; and
``cdkg load`` itself, timed from spawn to exit. A store's failure is recorded and the load made
again in a fresh Virtuoso, never raised."""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cdkg_bench import virtuoso
from cdkg_bench.client import post
from cdkg_bench.serving import probe
from cdkg_bench.store_figures import load_phases

#: Attempts at a load, each in a fresh Virtuoso: Virtuoso 7.2.5 now and then deadlocks on a large
#: Graph Store PUT (it stops answering, or answers 500 SR172) where the same bytes load the next
#: time; every failed attempt is reported with the figures.
ATTEMPTS = 3

#: A fresh interpreter writing the graphs ``cdkg load`` sends (the served dataset of the ontology
#: and argv[1]), one N-Triples file each in argv[2], as cdkg load writes them (Oxigraph's dump of
#: the graph); their list as JSON.
PROBE_GRAPHS = """
import json, sys
from pathlib import Path
import pyoxigraph as ox
from cdkg.kg.graph import ontology_files
from cdkg.kg.served import served_dataset
from cdkg.kg.stamp import graph_counts
from cdkg.kg.store import oxigraph_of
source, out = Path(sys.argv[1]), Path(sys.argv[2])
dataset = served_dataset([*ontology_files(), source])
db = oxigraph_of(dataset)
found = []
for rank, (iri, count) in enumerate(sorted(graph_counts(dataset).items())):
    path = out / f"graph{rank}.nt"
    path.write_bytes(db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri)) or b"")
    found.append({"iri": iri, "path": str(path), "triples": count, "bytes": path.stat().st_size})
print(json.dumps({"graphs": found}))
"""


def write_graphs(source: Path, out: Path) -> list[dict[str, Any]]:
    """The graphs ``cdkg load`` sends for the ontology and ``source``, one N-Triples file each
    in ``out`` (made here), written in a fresh interpreter; each with its IRI, path, triples and
    bytes."""
    out.mkdir()
    graphs: list[dict[str, Any]] = probe(PROBE_GRAPHS, [source, out])["graphs"]
    return graphs


def curl_load(graphs: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    """Each graph's N-Triples PUT by curl into a fresh Virtuoso (in ``work``), one after the
    other, then counted on it; an attempt that fails is recorded and made again in another fresh
    Virtuoso, up to :data:`ATTEMPTS`."""
    failed: list[str] = []
    for attempt in range(ATTEMPTS):
        found = _curl_attempt(graphs, work / f"virtuoso-curl-{attempt}")
        if not found["error"]:
            break
        failed.append(found["error"])
    return {**found, "failed": failed}


def _curl_attempt(graphs: list[dict[str, Any]], directory: Path) -> dict[str, Any]:
    """One attempt of :func:`curl_load`: the first failure stops the sending (as it stops
    ``cdkg load``), and a graph the store holds fewer triples of than were sent is one."""
    store = virtuoso.start(directory)
    sent: dict[str, float] = {}
    counted: dict[str, int] = {}
    error = ""
    try:
        config = virtuoso.curl_config(store, directory / "curl.cfg")
        for g in graphs:
            try:
                sent[g["iri"]] = virtuoso.curl_put(store, g["iri"], Path(g["path"]), config)
            except RuntimeError as err:
                error = str(err)
                break
        counted = {g["iri"]: _count(store, g["iri"]) for g in graphs}
    finally:
        store.stop()
    shutil.rmtree(directory, ignore_errors=True)
    short = [
        f"<{g['iri']}> {counted[g['iri']]:,} of {g['triples']:,}"
        for g in graphs
        if counted[g["iri"]] != g["triples"]
    ]
    if short and not error:
        error = "the store holds fewer triples than were sent: " + ", ".join(short)
    seconds = sum(sent.values()) if not error else math.nan
    return {"seconds": seconds, "sent": sent, "counted": counted, "error": error}


def _count(store: virtuoso.Virtuoso, graph: str) -> int:
    text = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    try:
        status, body = post(store.port, "/sparql", text)
        answer = json.loads(body) if status == 200 else None
        return int(answer["results"]["bindings"][0]["n"]["value"]) if answer else -1
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return -1


def cdkg_load(path: Path, work: Path) -> dict[str, Any]:
    """``cdkg load`` of the ontology and ``path`` into a fresh Virtuoso (in ``work``); an attempt
    that fails is recorded and made again in another, up to :data:`ATTEMPTS`. ``directory``:
    the database of the attempt that succeeded (removed if none did)."""
    failed: list[str] = []
    for attempt in range(ATTEMPTS):
        directory = work / f"virtuoso-{attempt}"
        store = virtuoso.start(directory)
        try:
            found = _cdkg_attempt(store, path)
        finally:
            store.stop()
        if not found["error"]:
            return {**found, "failed": failed, "directory": str(directory)}
        failed.append(found["error"])
        shutil.rmtree(directory, ignore_errors=True)
    return {**found, "failed": failed[:-1], "directory": ""}


def _cdkg_attempt(store: virtuoso.Virtuoso, path: Path) -> dict[str, Any]:
    """One ``cdkg load`` by Graph Store PUT, with the store's credentials in the environment as
    the docs advise; seconds from spawn to exit, its phases as it reports them, and, if it
    failed, its last word."""
    command = [sys.executable, "-m", "cdkg.cli", "load", "--endpoint", store.query]
    command += ["--graph-store", store.graph_store, "--data", str(path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env={**env, **store.credentials}, check=False
    )
    seconds = time.perf_counter() - began
    error = ""
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        said = next((line for line in lines if line.startswith("cdkg: error")), "")
        said = said or (lines[-1] if lines else "(no message)")  # the error, else the last word
        error = f"exit {done.returncode} after {seconds:.0f} s: {said}"
    return {"seconds": math.nan if error else seconds, **load_phases(done.stderr), "error": error}
