"""The external store (part e of ``cdkg bench-report``, ``--parts store``): canned queries through
``cdkg serve --store``, straight to the store and embedded, on generated graphs; eight clients on
Table 2; ``cdkg load`` beside ``curl`` PUT of the same N-Triples.

For each size (200k and 1M triples by default) a graph is generated (:mod:`cdkg_bench.generate`),
and the graphs ``cdkg load`` sends are written as N-Triples in a fresh interpreter, as ``cdkg load``
writes them (:func:`cdkg.kg.publish.ntriples` over the served dataset of the same files). Then:

- **curl**: a fresh private Virtuoso (:mod:`cdkg_bench.virtuoso`, started by ``scripts/virtuoso``)
  takes each graph by ``curl --digest`` to its Graph Store, ``-X PUT --data-binary`` of its first
  8 MiB and ``-X POST`` of each other 8 MiB (one large body deadlocks Virtuoso's loader:
  :data:`cdkg_bench.virtuoso.PART_BYTES`); each graph is counted on the store afterwards; this
  Virtuoso is then stopped;
- **cdkg load**: another fresh Virtuoso takes ``cdkg load --graph-store ... --data FILE`` (load,
  validate, build the catalog and views, send, count, stamp), timed from spawn to exit; it is
  then restarted on the same database (its stop checkpoints the load), for the queries. A load
  that fails is recorded and made again in a fresh Virtuoso, three attempts at most
  (:mod:`cdkg_bench.store_load`); without cdkg load's stamp, no query is timed at that size;
- **one client**: ``cdkg serve --store`` over that Virtuoso and ``cdkg serve`` on the same files
  (both ``--cache-entries 0``, ``--max-rows`` above every answer here and a time limit none
  reaches, so that nothing is cut) and the store itself get each query in turn: one request
  each first (not timed: it gives the rows), then rounds of one request a way, the ways in a
  rotating order (at least ``repeat`` rounds, and up to ``most`` while the query's rounds have
  taken less than ``budget`` seconds: a cheap query gets more), each request a new text (a
  numbered comment) on a new connection; median. Straight to the store, the request is what
  cdkg sends it: the text with cdkg's predeclared prefixes declared, and cdkg's graphs named as
  the dataset (``default-graph-uri`` and ``named-graph-uri``); the same text with no dataset
  named is timed too. In this process, over the store's own answer: reading it
  (:func:`cdkg.sparql.store_answers.select_tsv`) and writing it again
  (:func:`cdkg.engine.evaluate.write_table`), what cdkg adds to each answer;
- **eight clients** (the smallest size only): Table 2 for ``duration`` seconds straight to the
  store, then to cdkg embedded, then through ``cdkg serve --store``, both cdkg servers new ones
  with cdkg's defaults (time limit, workers, row cap) but the cache; each request a new text;
  every status counted, with one message for each status not 200.

The figures are :mod:`cdkg_bench.store_figures`; the verdicts
:func:`cdkg_bench.verdicts.judge_store`.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cdkg.canned.registry import Registry
from cdkg.engine.evaluate import write_table
from cdkg.resources import kg_dir
from cdkg.sparql import negotiation
from cdkg.sparql.prefixes import with_prefixes
from cdkg.sparql.store_answers import RESULTS_ACCEPT, select_tsv
from cdkg_bench import virtuoso
from cdkg_bench.client import ACCEPT, CLIENT_TIMEOUT, post, rows, unique_text
from cdkg_bench.scale import generate_graph
from cdkg_bench.server import Server
from cdkg_bench.servers import cdkg_server
from cdkg_bench.stats import ratio
from cdkg_bench.store_figures import (
    BARE,
    DIRECT,
    EMBEDDED,
    STORE,
    clients_figures,
    query_figures,
)
from cdkg_bench.store_load import cdkg_load, curl_load, write_graphs

#: Table 2, and three other canned queries: the largest answer (table1), an aggregate of two rows
#: (rq2-islamic-share), the memberships view. Not memberships.rq: it took 49 s in pyoxigraph at
#: 200k triples, past the default time limit, so the embedded way would time nothing.
QUERIES = ("table2", "table1", "rq2-islamic-share", "views-memberships")
TABLE2 = "table2"
#: cdkg's time limit for the one-client timings: one no answer here reaches, so that every way
#: times every query (the eight clients run with cdkg's default).
ONE_CLIENT_TIMEOUT = 600


@dataclass(frozen=True)
class StoreOptions:
    sizes: tuple[int, ...] = (200_000, 1_000_000)
    repeat: int = 5  # rounds of one request a way, per query and size: at least these ...
    most: int = 15  # ... and up to these while the query's rounds took less than budget seconds
    budget: float = 60.0
    clients: int = 8
    duration: int = 20  # seconds of the concurrent clients, per way
    queries: tuple[str, ...] = QUERIES
    #: cdkg's row cap in this part: above every answer of these queries at 1M triples (table1:
    #: about 16,000 rows) and below the store's own (scripts/virtuoso: 100,000), so that every way
    #: returns every row.
    max_rows: int = 50_000
    seed: int = 0


@dataclass(frozen=True)
class Way:
    """Where a query goes: a loopback port, the form's other fields, whether cdkg's prefixes
    are declared in the text (the store does not know them)."""

    port: int
    fields: tuple[tuple[str, str], ...] = ()
    declare: bool = False

    def ask(self, text: str) -> tuple[int, bytes, float]:
        """One request, a new connection: (status, body, seconds); status 0 and the error's
        name as the body when no answer came."""
        sent = with_prefixes(text) if self.declare else text
        began = time.perf_counter()
        try:
            status, body = post(self.port, "/sparql", sent, fields=self.fields)
        except (OSError, http.client.HTTPException) as err:
            return 0, f"{type(err).__name__}: {err}".encode(), time.perf_counter() - began
        return status, body, time.perf_counter() - began


def measure_store(
    options: StoreOptions, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Every size of ``options`` (see the module doc), or why the part is skipped."""
    out: dict[str, Any] = {"options": asdict(options), "sizes": []}
    out["skipped"] = virtuoso.unavailable()
    if out["skipped"]:
        progress(f"store: skipped: {out['skipped']}")
        return out
    out["virtuoso"] = virtuoso.version()
    out["buffers"] = virtuoso.BUFFERS
    canned = {q.name: q for q in Registry.load(kg_dir("queries"))}
    unknown = [name for name in options.queries if name not in canned]
    if unknown:
        raise ValueError(f"no canned query named {', '.join(unknown)}")
    texts = {name: canned[name].bind({}) for name in options.queries}
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-store-") as tmp:
        for size in options.sizes:
            work = Path(tmp) / str(size)
            work.mkdir()
            crowd = size == min(options.sizes) and TABLE2 in texts
            out["sizes"].append(_measure_size(size, work, texts, options, progress, crowd=crowd))
    return out


def _measure_size(
    size: int,
    work: Path,
    texts: dict[str, str],
    options: StoreOptions,
    progress: Callable[[str], None],
    *,
    crowd: bool,
) -> dict[str, Any]:
    path = work / "generated.nt"
    triples = generate_graph(size, path, options.seed)
    graphs = write_graphs(path, work / "graphs")
    point: dict[str, Any] = {
        "requested": size,
        "triples": triples,
        "graphs": [{k: g[k] for k in ("iri", "triples", "bytes")} for g in graphs],
        "served_triples": sum(g["triples"] for g in graphs),
    }
    where = f"store, {triples:,} triples"
    progress(f"{where}: {point['served_triples']:,} triples to send")
    curl = curl_load(graphs, work)
    progress(f"{where}: curl PUT {curl['seconds']:.1f} s {curl['error']}; failed {curl['failed']}")
    shutil.rmtree(work / "graphs")
    cdkg = cdkg_load(path, work)
    directory = cdkg.pop("directory")
    progress(f"{where}: cdkg load {cdkg['seconds']:.1f} s {cdkg['error']}; failed {cdkg['failed']}")
    took = ratio(cdkg["seconds"], curl["seconds"])
    point["load"] = {"curl": curl, "cdkg": cdkg, "ratio": took}
    if cdkg["error"]:  # no stamp: cdkg serve --store would refuse to start
        point["skipped"] = f"no query timed: cdkg load failed ({cdkg['error']})"
        return point
    store = virtuoso.start(Path(directory))  # the database cdkg load filled
    try:
        names = sorted(g["iri"] for g in graphs)
        dataset = tuple(("default-graph-uri", g) for g in names)
        dataset += tuple(("named-graph-uri", g) for g in names)
        direct = Way(store.port, dataset, declare=True)
        point["queries"] = _one_client(
            texts, store=store, direct=direct, data=path, options=options, progress=progress
        )
        if crowd:
            point["clients"] = _crowd(
                texts[TABLE2], store=store, direct=direct, data=path, options=options, log=progress
            )
    finally:
        store.stop()
    path.unlink()
    return point


def _one_client(
    texts: dict[str, str],
    *,
    store: virtuoso.Virtuoso,
    direct: Way,
    data: Path,
    options: StoreOptions,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    limits = ["--cache-entries", "0", "--max-rows", str(options.max_rows)]
    limits += ["--timeout", str(ONE_CLIENT_TIMEOUT)]
    on_store = cdkg_server("cdkg-store", ["--store", store.query, *limits], data.parent, [data])
    embedded = cdkg_server("cdkg-embedded", limits, data.parent, [data])
    found = []
    with _running(on_store, embedded):
        ways = {
            STORE: Way(on_store.port),
            DIRECT: direct,
            BARE: Way(store.port, declare=True),
            EMBEDDED: Way(embedded.port),
        }
        for name, text in texts.items():
            query = _time_query(name, text, ways, options)
            found.append(query)
            medians = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in query["median"].items())
            progress(f"store, {name}: {medians}")
    return found


def _time_query(
    name: str, text: str, ways: dict[str, Way], options: StoreOptions
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    sizes: dict[str, int] = {}
    bodies: dict[str, bytes] = {}
    for key, way in ways.items():
        status, body, _ = way.ask(unique_text(text, f"{name} first"))
        counts[key] = _rows(status, body)
        sizes[key], bodies[key] = len(body), body
    runs: dict[str, list[float]] = {key: [] for key in ways if counts[key] >= 0}
    order = list(runs)
    began, n = time.monotonic(), 0
    while n < options.repeat or (n < options.most and time.monotonic() - began < options.budget):
        for key in order[n % len(order) :] + order[: n % len(order)]:
            status, body, seconds = ways[key].ask(unique_text(text, f"{name} {n}"))
            if _rows(status, body) == counts[key]:
                runs[key].append(seconds)
        n += 1
    inside = _read_write(bodies[DIRECT], options.max_rows) if counts[DIRECT] >= 0 else {}
    found = query_figures(name, runs, counts, sizes, inside)
    found["errors"] = {k: _message(bodies[k]) for k in ways if counts[k] < 0}
    found["rounds"] = n
    return found


def _rows(status: int, body: bytes) -> int:
    try:
        return rows(body) if status == 200 else -1
    except (ValueError, KeyError):
        return -1


def _read_write(body: bytes, max_rows: int, repeat: int = 3) -> dict[str, float]:
    """Medians (seconds) of reading the store's SPARQL JSON answer as
    :meth:`cdkg.sparql.remote.RemoteStore.select` reads a SELECT's (into TSV results, by
    Oxigraph), and of writing it as cdkg answers it (:func:`cdkg.engine.evaluate.write_table`)."""
    chosen = negotiation.negotiate(ACCEPT, negotiation.RESULT_FORMATS, None)
    reads, writes = [], []
    for _ in range(repeat):
        began = time.perf_counter()
        tsv = select_tsv("store", RESULTS_ACCEPT, body)
        read = time.perf_counter()
        write_table(tsv, chosen, max_rows)
        reads.append(read - began)
        writes.append(time.perf_counter() - read)
    return {"read": statistics.median(reads), "write": statistics.median(writes)}


def _message(body: bytes) -> str:
    """What an answer that is not 200 says: cdkg's error message, else the body's start."""
    try:
        message = json.loads(body)["error"]["message"]
        return str(message)
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", errors="replace").strip()[:300]


def _crowd(
    text: str,
    *,
    store: virtuoso.Virtuoso,
    direct: Way,
    data: Path,
    options: StoreOptions,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """``options.clients`` clients on Table 2 for ``options.duration`` s: straight to the store,
    then cdkg embedded, then cdkg through the store (last: queries cdkg stops go on in the
    store, which would slow what came after). Both cdkg servers run with their defaults (time
    limit, workers, row cap) but the cache, which would answer a repeated text."""
    out: dict[str, Any] = {"clients": options.clients, "duration": options.duration, "ways": {}}
    off, logs = ["--cache-entries", "0"], data.parent
    on_store = cdkg_server("cdkg-store-defaults", ["--store", store.query, *off], logs, [data])
    embedded = cdkg_server("cdkg-embedded-defaults", off, logs, [data])
    with _running(on_store, embedded):
        ways = {DIRECT: direct, EMBEDDED: Way(embedded.port), STORE: Way(on_store.port)}
        for key, way in ways.items():
            found = _drive(way, text, options.clients, options.duration)
            out["ways"][key] = found
            log(f"store, {options.clients} clients on Table 2, {key}: {found['statuses']}")
    return out


@contextlib.contextmanager
def _running(*servers: Server) -> Iterator[None]:
    """The ``servers`` started and answering, then stopped with every process they started."""
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready(within=3600)
        yield
    finally:
        for server in servers:
            server.stop()


def _drive(way: Way, text: str, clients: int, duration: float) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    messages: dict[str, str] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    issued = itertools.count()
    deadline = time.monotonic() + duration

    def client() -> None:
        while time.monotonic() < deadline:
            status, body, seconds = way.ask(unique_text(text, f"client {next(issued)}"))
            key = str(status) if status else "no answer"
            with lock:
                statuses[key] += 1
                if status == 200:
                    latencies.append(seconds)
                else:
                    messages.setdefault(key, _message(body))

    began = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + CLIENT_TIMEOUT + 30)
    return clients_figures(statuses, messages, latencies, time.monotonic() - began)
