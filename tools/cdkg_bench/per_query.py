"""Per query, beside the Oxigraph server and rdflib-endpoint (part a of ``cdkg bench-report``):
latency at one client and throughput at eight.

**The same quads everywhere.** cdkg's served dataset (:func:`cdkg.kg.served.served_dataset`: the
ontology and data, the canned queries as RDF, the views) is dumped as N-Quads
(:func:`cdkg_bench.dataset.prepare_data`). The Oxigraph server (PyPI ``oxigraph``, the same
release as cdkg's pyoxigraph) holds those quads twice: in memory (``oxigraph serve``, the quads
POSTed to ``/store``), the same kind of store cdkg queries, and on disk (``oxigraph load`` then
``oxigraph serve-read-only``, RocksDB, its usual deployment); both with
``--union-default-graph``, so that a query without a dataset sees what it sees on cdkg, whose
default graph is the union of its named graphs. rdflib-endpoint serves the same N-Quads file (an
rdflib ``Dataset`` whose default graph is the union). Canned queries use prefixes cdkg
predeclares (:data:`cdkg.sparql.prefixes.PREFIXES`): the other servers get the same text with those
declared (:func:`cdkg_bench.client.declared`); cdkg gets the text as shipped.

**The queries** (:mod:`cdkg_bench.queries`). Every canned query with its default parameters
(SPARQL JSON results), and a few CONSTRUCT and DESCRIBE queries (N-Triples). Each server's first
answer gives its row count; a count that differs between servers is reported (``mismatch``),
never hidden; a query failing on cdkg or on the in-memory Oxigraph server is left out of the load.

**One client** (:func:`sequential`): requests in a row on one connection, each a new text (a
numbered comment), to cdkg with ``--cache-entries 0`` and to both Oxigraph servers; median and
p90. Also cdkg with its cache on, answering the same text (a cache hit), and rdflib-endpoint
(a few requests within a budget: it takes seconds a query). In-process, in this process, over the
same store: raw pyoxigraph (``Store.query`` then its JSON or N-Triples writer), cdkg's whole path
(:func:`cdkg.engine.evaluate.answer`: guard, Oxigraph, TSV, the format asked for) and the guard
alone: what cdkg's HTTP front and engine process add is its one-client median minus its in-process
one.

**Eight clients** (:func:`cdkg_bench.loadgen.wrk`, or Python threads where wrk is missing): for
``duration`` seconds, cdkg uncached (cache off, a new text every request), cdkg with its cache
on (the same text every request), and the in-memory Oxigraph server with a new text every request.
Oxigraph has no result cache, so its figure serves both comparisons. Answers are counted when
their status is 200 and their length that of the server's first answer; anything else is an error.

The figures and their summary are :mod:`cdkg_bench.per_query_figures`.
"""

from __future__ import annotations

import http.client
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox

from cdkg.engine.evaluate import Limits, QueryRequest, answer
from cdkg.sparql import guard
from cdkg.sparql.prefixes import PREFIXES
from cdkg_bench.client import post, rows, unique_text
from cdkg_bench.dataset import Prepared
from cdkg_bench.loadgen import Tally, drive, wrk
from cdkg_bench.per_query_figures import CACHED, UNCACHED, QueryLoad, mismatch, wrk_seconds
from cdkg_bench.queries import BenchQuery
from cdkg_bench.server import Server, first_answer, settle
from cdkg_bench.servers import (
    CDKG,
    CDKG_CACHED,
    LABELS,
    OXIGRAPH,
    OXIGRAPH_DISK,
    PEER,
    cdkg_server,
    load_quads,
    oxigraph_server,
    peer_server,
)
from cdkg_bench.stats import Stats, summarize
from cdkg_bench.units import x as _show

#: cdkg's row cap, for the in-process timings (the server's default).
MAX_ROWS = 10_000


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
