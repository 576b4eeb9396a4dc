"""Per query, beside the Oxigraph server and rdflib-endpoint; and cold start (parts a and b of
``cdkg bench-report``).

**The same quads everywhere.** cdkg's served dataset (:func:`cdkg.kg.served.served_dataset`: the
ontology and data, the canned queries as RDF, the views) is dumped as N-Quads
(:func:`prepare_data`). The Oxigraph server (PyPI ``oxigraph``, the same release as cdkg's
pyoxigraph) holds those quads twice: in memory (``oxigraph serve``, the quads POSTed to
``/store``), the same kind of store cdkg queries, and on disk (``oxigraph load`` then
``oxigraph serve-read-only``, RocksDB, its usual deployment); both with
``--union-default-graph``, so that a query without a dataset sees what it sees on cdkg, whose
default graph is the union of its named graphs. rdflib-endpoint serves the same N-Quads file (an
rdflib ``Dataset`` whose default graph is the union). Canned queries use prefixes cdkg
predeclares (:data:`cdkg.kg.store.PREFIXES`): the other servers get the same text with those
declared (:func:`cdkg_bench.concurrent.declared`); cdkg gets the text as shipped.

**The queries.** Every canned query with its default parameters (SPARQL JSON results), and a few
CONSTRUCT and DESCRIBE queries (:data:`GRAPH_QUERIES`, N-Triples). Each server's first answer
gives its row count; a count that differs between servers is reported (``mismatch``), never
hidden; a query failing on cdkg or on the in-memory Oxigraph server is left out of the load.

**One client** (:func:`sequential`): requests in a row on one connection, each a new text (a
numbered comment), to cdkg with ``--cache-entries 0`` and to both Oxigraph servers; median and
p90. Also cdkg with its cache on, answering the same text (a cache hit), and rdflib-endpoint
(a few requests within a budget: it takes seconds a query). In-process, in this process, over the
same store: raw pyoxigraph (``Store.query`` then its JSON or N-Triples writer), cdkg's whole path
(:func:`cdkg.engine.evaluate.answer`: guard, Oxigraph, TSV, the format asked for) and the guard
alone: what cdkg's HTTP front and engine process add is its one-client median minus its in-process
one.

**Eight clients** (:func:`cdkg_bench.concurrent.wrk`, or Python threads where wrk is missing): for
``duration`` seconds, cdkg uncached (cache off, a new text every request), cdkg with its cache
on (the same text every request), and the in-memory Oxigraph server with a new text every request.
Oxigraph has no result cache, so its figure serves both comparisons. Answers are counted when
their status is 200 and their length that of the server's first answer; anything else is an error.

**Cold start** (:func:`measure_cold_start`): from spawning a server to its first answered query
(Table 2), cdkg (load, validation, views, engine) beside the Oxigraph server read-only over an
already loaded store, the in-memory Oxigraph server (spawn, POST the quads, answer), and
rdflib-endpoint (parse the quads), alternating.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cdkg.canned.registry import Registry
from cdkg.engine.evaluate import Limits, QueryRequest, answer
from cdkg.kg.store import PREFIXES, named_graphs, oxigraph_of
from cdkg.kg.views import views_dir
from cdkg.sparql import guard
from cdkg_bench.concurrent import (
    ACCEPT,
    NTRIPLES,
    PEER,
    Server,
    Stats,
    Tally,
    declared,
    drive,
    free_port,
    load_quads,
    oxigraph_binary,
    oxigraph_server,
    post,
    ratio,
    rows,
    settle,
    summarize,
    unique_text,
    wrk,
)

#: The servers, by key: cdkg with its cache off and on, the Oxigraph server in memory and on disk.
CDKG, CDKG_CACHED = "cdkg", "cdkg-cached"
OXIGRAPH, OXIGRAPH_DISK = "oxigraph", "oxigraph-disk"
LABELS = {
    CDKG: "cdkg (--cache-entries 0)",
    CDKG_CACHED: "cdkg (cache on)",
    OXIGRAPH: "Oxigraph server (in memory)",
    OXIGRAPH_DISK: "Oxigraph server (RocksDB, read-only)",
    PEER: "rdflib-endpoint",
}
#: The two modes of the throughput comparison.
UNCACHED, CACHED = "uncached", "cached"
MODES = (UNCACHED, CACHED)
#: The kinds of query: canned (SELECT/ASK, JSON) and CONSTRUCT/DESCRIBE (N-Triples).
CANNED, GRAPH = "canned", "graph"
#: cdkg's row cap, for the in-process timings (the server's default).
MAX_ROWS = 10_000

#: The CONSTRUCT and DESCRIBE queries, beside the canned ones: (name, text); ``@view`` is read
#: from ``queries/views/wikidata-view.rq`` (the Wikidata-shaped view, a 100-line CONSTRUCT).
GRAPH_QUERIES: tuple[tuple[str, str], ...] = (
    ("describe-tehran", "DESCRIBE <https://w3id.org/cdkg/id/city/tehran>"),
    (
        "describe-ties",
        "PREFIX cdkg: <https://w3id.org/cdkg/ontology#>\n"
        "DESCRIBE ?tie WHERE { ?tie a cdkg:SisterCityTie }",
    ),
    (
        "construct-ties",
        "PREFIX cdkg: <https://w3id.org/cdkg/ontology#>\n"
        "CONSTRUCT { ?tie ?p ?o } WHERE { ?tie a cdkg:SisterCityTie ; ?p ?o }",
    ),
    ("construct-wikidata-view", "@view"),
)


@dataclass(frozen=True)
class BenchQuery:
    """A query of the benchmark: its name, kind and text as cdkg's clients send it."""

    name: str
    kind: str
    text: str

    @property
    def accept(self) -> str:
        return NTRIPLES if self.kind == GRAPH else ACCEPT

    @property
    def declared(self) -> str:
        """The text for the other servers: cdkg's predeclared prefixes declared."""
        return declared(self.text, PREFIXES)


def bench_queries(registry: Registry, names: Sequence[str] = ()) -> list[BenchQuery]:
    """Every canned query of ``registry`` (default parameters) and every one of
    :data:`GRAPH_QUERIES`; only those in ``names`` if any are given."""
    found = [BenchQuery(q.name, CANNED, q.bind({})) for q in registry]
    for name, text in GRAPH_QUERIES:
        view = views_dir() / "wikidata-view.rq"
        found.append(
            BenchQuery(name, GRAPH, view.read_text(encoding="utf-8") if text == "@view" else text)
        )
    return [q for q in found if not names or q.name in names]


@dataclass(frozen=True)
class LoadOptions:
    clients: int = 8
    duration: int = 2  # seconds of wrk per server and mode
    latency_requests: int = 40  # most requests in a row per server (one client)
    latency_budget: float = 1.0  # seconds per server, once min_requests are in
    min_requests: int = 5
    peer_requests: int = 3  # rdflib-endpoint: most requests, first answer included
    peer_budget: float = 2.0
    peer_timeout: float = 15.0  # rdflib-endpoint: past this, a request is given up, it restarts
    in_process_budget: float = 0.3  # seconds per in-process timing, once min_requests are in
    queries: tuple[str, ...] = ()  # names; empty: all


@dataclass
class QueryLoad:
    """One query: each server's rows, then its timings, one client and eight."""

    name: str
    kind: str
    rows: dict[str, int] = field(default_factory=dict)  # server -> rows of its first answer
    latency: dict[str, Stats] = field(default_factory=dict)  # one client, server -> stats
    throughput: dict[str, Stats] = field(default_factory=dict)  # eight clients, server -> stats
    in_process: dict[str, float] = field(default_factory=dict)  # raw, answer, guard: medians
    skipped: str = ""  # why the query was left out
    mismatch: str = ""  # the servers' row counts, where they differ
    peer_note: str = ""  # why rdflib-endpoint has no figure

    @property
    def latency_ratio(self) -> float:
        """cdkg's uncached median over the in-memory Oxigraph server's, one client."""
        ours, theirs = self.latency.get(CDKG), self.latency.get(OXIGRAPH)
        return ratio(ours.p50, theirs.p50) if ours and theirs else math.nan

    def throughput_ratio(self, mode: str) -> float:
        """cdkg's answers per second at eight clients (uncached, or cached) over Oxigraph's."""
        ours = self.throughput.get(CDKG if mode == UNCACHED else CDKG_CACHED)
        theirs = self.throughput.get(OXIGRAPH)
        return ratio(ours.per_second, theirs.per_second) if ours and theirs else math.nan

    @property
    def front_cost(self) -> float:
        """What cdkg's HTTP front and engine process add to one uncached request: its one-client
        median minus its in-process path's."""
        ours = self.latency.get(CDKG)
        inside = self.in_process.get("answer", math.nan)
        return ours.p50 - inside if ours else math.nan


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


def median(values: Sequence[float]) -> float:
    """The median of the values that are not NaN; NaN if none."""
    kept = [v for v in values if not math.isnan(v)]
    return statistics.median(kept) if kept else math.nan


def _extreme(named: Sequence[tuple[str, float]], highest: bool) -> tuple[str, float]:
    kept = [(n, v) for n, v in named if not math.isnan(v)]
    if not kept:
        return "", math.nan
    return (max if highest else min)(kept, key=lambda nv: nv[1])


def summary(loads: Sequence[QueryLoad]) -> dict[str, Any]:
    """What the targets judge, from the measured queries: per kind, the geometric mean of the
    one-client latency ratios (cdkg / Oxigraph), the worst, and the medians behind them; per mode,
    the geometric mean, the lowest and the mix (harmonic means) of the throughput ratios."""
    measured = [q for q in loads if not q.skipped]
    out: dict[str, Any] = {"latency": {}, "throughput": {}}
    for kind in (CANNED, GRAPH):
        of_kind = [q for q in measured if q.kind == kind]
        named = [(q.name, q.latency_ratio) for q in of_kind]
        worst, worst_ratio = _extreme(named, highest=True)
        out["latency"][kind] = {
            "queries": len(of_kind),
            "geomean_ratio": geometric_mean([v for _, v in named]),
            "worst": worst,
            "worst_ratio": worst_ratio,
            "cdkg_median_p50": median([q.latency[CDKG].p50 for q in of_kind if CDKG in q.latency]),
            "oxigraph_median_p50": median(
                [q.latency[OXIGRAPH].p50 for q in of_kind if OXIGRAPH in q.latency]
            ),
            "front_cost_median": median([q.front_cost for q in of_kind]),
            "path_cost_median": median(
                [
                    q.in_process.get("answer", math.nan) - q.in_process.get("raw", math.nan)
                    for q in of_kind
                ]
            ),
        }
    for mode in MODES:
        named = [(q.name, q.throughput_ratio(mode)) for q in measured]
        lowest, lowest_ratio = _extreme(named, highest=False)
        key = CDKG if mode == UNCACHED else CDKG_CACHED
        ours = [q.throughput[key].per_second for q in measured if key in q.throughput]
        theirs = [q.throughput[OXIGRAPH].per_second for q in measured if OXIGRAPH in q.throughput]
        out["throughput"][mode] = {
            "queries": len([v for _, v in named if not math.isnan(v)]),
            "geomean_ratio": geometric_mean([v for _, v in named]),
            "lowest": lowest,
            "lowest_ratio": lowest_ratio,
            "canned_geomean_ratio": geometric_mean(
                [v for n, v in named if _kind(loads, n) == CANNED]
            ),
            "mix_ratio": ratio(harmonic_mean(ours), harmonic_mean(theirs)),
            "cdkg_most_per_second": max(ours, default=math.nan),
            "oxigraph_most_per_second": max(theirs, default=math.nan),
        }
    return out


def _kind(loads: Sequence[QueryLoad], name: str) -> str:
    return next((q.kind for q in loads if q.name == name), "")


def wrk_seconds(base: int, p50: float, clients: int, cpus: int, answers: int = 40) -> int:
    """Seconds of a throughput phase: ``base``, or more where a query is slow, so that about
    ``answers`` answers complete (``clients`` share ``cpus``, each answer about ``p50`` of CPU);
    at most 10 s."""
    if math.isnan(p50) or p50 <= 0:
        return base
    wanted = math.ceil(answers * p50 / max(1, min(cpus, clients)))
    return max(base, min(10, wanted))


def mismatch(counts: dict[str, int]) -> str:
    """The servers' row counts, if those that answered disagree (a failure is -1); else ''."""
    answered = {k: v for k, v in counts.items() if v >= 0}
    if len(set(answered.values())) <= 1:
        return ""
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v >= 0)


# --- the data -----------------------------------------------------------------------------------


@dataclass
class Prepared:
    """cdkg's served dataset, in this process and as files: N-Quads, and an Oxigraph store on
    disk loaded from them."""

    store: ox.Store
    graphs: frozenset[str]
    quads: Path
    location: Path | None  # None where the Oxigraph server is not installed
    count: int


def prepare_data(directory: Path) -> Prepared:
    """Build cdkg's served dataset, dump it to ``directory``/served.nq and ``oxigraph load`` it
    into ``directory``/oxigraph (RocksDB)."""
    from cdkg.kg.served import served_dataset  # noqa: PLC0415  (the whole app's imports)

    dataset = served_dataset()
    store = oxigraph_of(dataset)
    if store is None:
        raise RuntimeError("cdkg's served dataset is not held in Oxigraph")
    quads = directory / "served.nq"
    store.dump(str(quads), format=ox.RdfFormat.N_QUADS)
    binary = oxigraph_binary()
    location = None
    if binary is not None:
        location = directory / "oxigraph"
        subprocess.run(
            [binary, "load", "--location", str(location), "--file", str(quads)],
            check=True,
            capture_output=True,
        )
    return Prepared(store, named_graphs(dataset), quads, location, len(store))


# --- one client ---------------------------------------------------------------------------------


def sequential(
    server: Server,
    text: str,
    *,
    accept: str,
    expected: int,
    unique: bool,
    options: LoadOptions,
    tag: str = "",
) -> Stats:
    """Requests in a row on one connection (after one not counted), each a new text if
    ``unique``, until ``latency_requests`` or, once ``min_requests`` are in, ``latency_budget``."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    latencies: list[float] = []
    errors = wrong = 0
    started = time.perf_counter()
    try:
        for n in range(-1, options.latency_requests):
            took = time.perf_counter() - started
            if n >= options.min_requests and took > options.latency_budget:
                break
            sent = unique_text(text, f"{tag}{n}") if unique else text
            began = time.perf_counter()
            try:
                status, body = post(server.port, server.path, sent, connection=conn, accept=accept)
                got = rows(body, accept) if status == 200 else -1
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                conn.close()
                if n >= 0:
                    errors += 1
                continue
            elapsed = time.perf_counter() - began
            if n < 0:
                started = time.perf_counter()  # the budget starts after the warm-up
                continue
            if status != 200:
                errors += 1
            elif got != expected:
                wrong += 1
            else:
                latencies.append(elapsed)
    finally:
        conn.close()
    return summarize(latencies, errors, wrong, sum(latencies) or math.nan)


def first_answer(
    server: Server, text: str, accept: str, timeout: float = 60.0
) -> tuple[int, int, float]:
    """One answer to ``text``: (rows or -1 if it failed, its length in bytes, seconds)."""
    started = time.perf_counter()
    try:
        status, body = post(server.port, server.path, text, accept=accept, timeout=timeout)
        count = rows(body, accept) if status == 200 else -1
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        count, body = -1, b""
    return count, len(body), time.perf_counter() - started


def in_process(
    prepared: Prepared, query: BenchQuery, budget: float, least: int
) -> dict[str, float]:
    """Medians (seconds) in this process over the served store: raw pyoxigraph (query, then its
    own writer), cdkg's path (:func:`cdkg.engine.evaluate.answer`), and the guard alone."""
    store, graphs, text, accept = prepared.store, prepared.graphs, query.text, query.accept
    raw_text = query.declared

    def raw(n: int) -> None:
        result = store.query(unique_text(raw_text, n), use_default_graph_as_union=True)
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            result.serialize(format=ox.QueryResultsFormat.JSON)
        else:
            result.serialize(format=ox.RdfFormat.N_TRIPLES)

    def ours(n: int) -> None:
        request = QueryRequest(unique_text(text, n), accept=accept)
        answer(store, request, Limits(MAX_ROWS), graphs=graphs)

    def admit(n: int) -> None:
        guard.admit(unique_text(text, n), allow_service=(), graphs=graphs, prefixes=PREFIXES)

    out = {}
    for key, fn in (("raw", raw), ("answer", ours), ("guard", admit)):
        times: list[float] = []
        while len(times) < least or (sum(times) < budget and len(times) < 200):
            began = time.perf_counter()
            fn(len(times))
            times.append(time.perf_counter() - began)
        out[key] = statistics.median(times)
    return out


# --- the load -----------------------------------------------------------------------------------


def cdkg_server(name: str, extra: Sequence[str], logs: Path, data: Sequence[Path] = ()) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "cdkg.cli", "serve", "--port", str(port), *extra]
    if data:
        command += ["--data", *map(str, data)]
    return Server(name, command, port, "/sparql", logs / f"{name.replace(' ', '_')}.log")


def peer_server(files: Sequence[Path], logs: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "rdflib_endpoint", "serve", *map(str, files)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return Server(PEER, command, port, "/", logs / "rdflib-endpoint.log")  # its CLI serves at /


def measure_load(
    queries: Sequence[BenchQuery],
    prepared: Prepared,
    options: LoadOptions,
    progress: Callable[[str], None] = lambda _: None,
) -> list[QueryLoad]:
    """Start the servers, then measure each query in turn (see the module doc)."""
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-load-") as tmp:
        logs = Path(tmp)
        servers = {
            CDKG: cdkg_server(CDKG, ["--cache-entries", "0"], logs),
            CDKG_CACHED: cdkg_server(CDKG_CACHED, [], logs),
            PEER: peer_server([prepared.quads], logs),
        }
        if prepared.location is not None:
            servers[OXIGRAPH] = oxigraph_server(OXIGRAPH, logs)
            servers[OXIGRAPH_DISK] = oxigraph_server(OXIGRAPH_DISK, logs, prepared.location)
        try:
            for server in servers.values():
                server.start()
            for server in servers.values():
                server.wait_ready(within=180)
            if OXIGRAPH in servers:
                load_quads(servers[OXIGRAPH], prepared.quads)
            return [
                _measure_one(
                    i,
                    query,
                    servers=servers,
                    prepared=prepared,
                    options=options,
                    progress=progress,
                )
                for i, query in enumerate(queries)
            ]
        finally:
            for server in servers.values():
                server.stop()


def _measure_one(
    i: int,
    query: BenchQuery,
    *,
    servers: dict[str, Server],
    prepared: Prepared,
    options: LoadOptions,
    progress: Callable[[str], None],
) -> QueryLoad:
    load = QueryLoad(query.name, query.kind)
    accept = query.accept

    def text_for(key: str) -> str:
        return query.text if key in (CDKG, CDKG_CACHED) else query.declared

    firsts = {
        key: first_answer(server, unique_text(text_for(key), "first"), accept)
        for key, server in servers.items()
        if key not in (CDKG_CACHED, PEER)
    }
    firsts[PEER] = first_answer(
        servers[PEER], unique_text(query.declared, "first"), accept, options.peer_timeout
    )
    if firsts[PEER][0] < 0:
        load.peer_note = (
            f"no answer within {options.peer_timeout:g} s"
            if firsts[PEER][2] >= options.peer_timeout
            else "failed"
        )
        _restart(servers[PEER])  # it answers one query at a time: the next would wait
    firsts[CDKG_CACHED] = first_answer(servers[CDKG_CACHED], query.text, accept)  # fills its cache
    load.rows = {key: count for key, (count, _, _) in firsts.items()}
    load.mismatch = mismatch({k: v for k, v in load.rows.items() if k != CDKG_CACHED})
    failed = [LABELS[k] for k in (CDKG, OXIGRAPH) if k in load.rows and load.rows[k] < 0]
    if OXIGRAPH not in servers:
        failed.append("the Oxigraph server (not installed)")
    if failed:
        load.skipped = f"failed on {', '.join(failed)}"
        progress(f"{query.name}: left out ({load.skipped})")
        return load

    order = [k for k in (CDKG, OXIGRAPH, OXIGRAPH_DISK, CDKG_CACHED) if k in servers]
    for key in order if i % 2 == 0 else order[::-1]:
        if load.rows[key] < 0:
            continue
        load.latency[key] = sequential(
            servers[key],
            text_for(key),
            accept=accept,
            expected=load.rows[key],
            unique=key != CDKG_CACHED,
            options=options,
            tag=f"{key}-",
        )
    if load.rows.get(PEER, -1) >= 0:
        load.latency[PEER] = _peer_latency(servers[PEER], query, firsts[PEER][2], options)
    load.in_process = in_process(
        prepared, query, options.in_process_budget, max(3, options.min_requests)
    )

    slowest = max(
        (v for k in (CDKG, OXIGRAPH) if not math.isnan(v := load.latency[k].p50)),
        default=math.nan,
    )
    seconds = wrk_seconds(options.duration, slowest, options.clients, os.cpu_count() or 1)
    plan = [(CDKG, True), (CDKG_CACHED, False), (OXIGRAPH, True)]
    for key, unique in plan if i % 2 == 0 else plan[::-1]:
        load.throughput[key] = _throughput(
            servers[key],
            text_for(key),
            accept=accept,
            unique=unique,
            expected_rows=load.rows[key],
            expected_bytes=firsts[key][1],
            options=replace(options, duration=seconds),
        )
        settle(servers[key])  # what the load left queued runs on: not into the next phase
    progress(
        f"{query.name}: one client {_show(load.latency_ratio)} Oxigraph's median; eight clients "
        f"{_show(load.throughput_ratio(UNCACHED))} uncached, "
        f"{_show(load.throughput_ratio(CACHED))} cached"
        + (f"; rows differ: {load.mismatch}" if load.mismatch else "")
    )
    return load


def _restart(server: Server) -> None:
    server.stop()
    server.start()
    server.wait_ready(within=180)


def _show(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3g}x"


def _peer_latency(server: Server, query: BenchQuery, first: float, options: LoadOptions) -> Stats:
    """rdflib-endpoint, one client: its first answer and more until the budget (it takes seconds
    a query, so a few requests, new texts each)."""
    latencies, errors, wrong = [first], 0, 0
    expected = -2
    while len(latencies) < options.peer_requests and sum(latencies) < options.peer_budget:
        count, _, took = first_answer(
            server,
            unique_text(query.declared, f"peer-{len(latencies)}"),
            query.accept,
            options.peer_timeout,
        )
        if expected == -2:
            expected = count
        if count < 0:
            errors += 1
            _restart(server)
            break
        if count != expected:
            wrong += 1
        latencies.append(took)
    return summarize(latencies, errors, wrong, sum(latencies))


def _throughput(
    server: Server,
    text: str,
    *,
    accept: str,
    unique: bool,
    expected_rows: int,
    expected_bytes: int,
    options: LoadOptions,
) -> Stats:
    """Eight clients for ``duration`` seconds: wrk, or Python threads where it is missing."""
    try:
        return wrk(
            server,
            text,
            accept=accept,
            clients=options.clients,
            duration=options.duration,
            unique=unique,
            expected_bytes=expected_bytes,
        )
    except FileNotFoundError:
        pass
    except RuntimeError as err:
        if "not installed" not in str(err):
            raise
    tally = Tally()
    drive(
        server,
        [text],
        [expected_rows],
        clients=options.clients,
        duration=options.duration,
        max_requests=1 << 30,
        unique=unique,
        tally=tally,
        accept=accept,
    )
    return summarize(tally.latencies, sum(tally.errors.values()), tally.wrong_rows, tally.elapsed)


def load_json(loads: Sequence[QueryLoad]) -> list[dict[str, Any]]:
    out = []
    for q in loads:
        item = asdict(q)
        item["latency_ratio"] = q.latency_ratio
        item["throughput_ratio"] = {mode: q.throughput_ratio(mode) for mode in MODES}
        item["front_cost"] = q.front_cost
        out.append(item)
    return out


# --- cold start ---------------------------------------------------------------------------------


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
    watch: Callable[[], None] | None = None,
) -> float:
    """Spawn ``server`` and POST ``text`` every 10 ms until it answers 200; the seconds that took.
    With ``prepare``, the server is first polled with ``ASK {}``, then ``prepare`` runs (the
    in-memory Oxigraph server gets its data). ``watch`` runs at each poll (memory sampling).
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
from cdkg.kg.graph import CDKG_GRAPH, kg_files, load_dataset
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
