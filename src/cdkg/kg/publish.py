"""``cdkg load``: push the served dataset into an external SPARQL 1.1 store, then check it.

The steps, in order, each refusing early:

1. load the files (:func:`cdkg.kg.graph.load_dataset`; a syntax error names the file and line: exit
2); 2. validate as ``cdkg serve`` does (:func:`cdkg.kg.snapshot.load_snapshot`: the cdkg graph, and
each
   ``--graph`` that uses cdkg terms, with the SHACL shapes and ``*-violation.rq`` checks); if the
   data does not conform, print the report and exit 1: the store is not contacted at all;
3. refuse graphs the store already holds (an ``ASK`` each), unless ``--replace``; remove the
   store's version stamp (:mod:`cdkg.kg.stamp`), so that a load cut short leaves none;
4. add the graphs ``cdkg serve`` adds (:func:`add_derived_graphs`): the canned-query catalog and
   the views;
5. push each named graph, written as N-Triples by Oxigraph: a Graph Store HTTP Protocol ``PUT``
   per graph (``--graph-store``), or SPARQL 1.1 Update ``INSERT DATA`` in batches
   (``--update-endpoint``, default the query endpoint);
6. verify: each graph's triple count on the store equals ours; print one line per graph; then
   stamp the store with the dataset version, the load's date, the counts and the VoID statistics.

Credentials come from ``CDKG_STORE_USER`` / ``CDKG_STORE_PASSWORD`` (or ``--user`` / ``--password``,
which land in shell history: prefer the environment). See ``docs/external-store.md``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from cdkg.canned.catalog import QUERIES_GRAPH
from cdkg.errors import BadParameter, InternalError
from cdkg.kg import stamp
from cdkg.kg.graph import add_source_arguments, dataset_version, source_files
from cdkg.kg.served import add_derived_graphs
from cdkg.kg.snapshot import NotConforming, load_snapshot
from cdkg.kg.store import oxigraph_of
from cdkg.kg.validate import load_checks, load_shapes
from cdkg.kg.views import load_views
from cdkg.kg.void import void_statistics
from cdkg.names import ABSOLUTE_IRI
from cdkg.sparql.remote import RemoteStore

USER_ENV = "CDKG_STORE_USER"
PASSWORD_ENV = "CDKG_STORE_PASSWORD"  # noqa: S105 - the variable's name, not a password
#: Triples per ``INSERT DATA`` request: Virtuoso refuses one whose SQL passes 10,000 lines
#: (2,000 of our triples do; 1,000 did not).
BATCH_TRIPLES = 500
#: Time limit of one request to the store while loading, in seconds.
LOAD_TIMEOUT = 120.0


def ntriples(db: ox.Store, graph: str) -> bytes:
    """The named graph ``graph`` of ``db`` as N-Triples, written by Oxigraph: plain strings as
    plain literals (RDF 1.1: ``"x"^^xsd:string`` is ``"x"``; some stores keep them apart), and
    no rdflib term made on the way (a million of them took most of a load's time)."""
    return db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)) or b""


def batches(triples: Sequence[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """``triples`` in batches of about ``size``, never splitting the triples that share a blank
    node: a blank node label names one node within one request only."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for triple in triples:
        ends = [t for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        for end in ends[1:]:
            parent[root(end)] = root(ends[0])
    groups: dict[object, list[ox.Triple]] = {}
    singles: list[list[ox.Triple]] = []
    for triple in triples:
        node = next(
            (t for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)), None
        )
        if node is None:
            singles.append([triple])
        else:
            groups.setdefault(root(node), []).append(triple)
    batch: list[ox.Triple] = []
    for group in [*groups.values(), *singles]:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


# -- the command ----------------------------------------------------------------------------------


def _graph_spec(text: str) -> tuple[str, Path]:
    iri, sep, path = text.rpartition("=")
    if not sep or not ABSOLUTE_IRI.fullmatch(iri) or not path:
        raise argparse.ArgumentTypeError(f"{text!r} is not IRI=PATH with an absolute IRI")
    return iri, Path(path)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        required=True,
        help="the store's SPARQL query endpoint, e.g. http://localhost:8890/sparql",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--update-endpoint",
        metavar="URL",
        help="write with SPARQL 1.1 Update here (default: --endpoint), e.g. Virtuoso's "
        "http://localhost:8890/sparql-auth",
    )
    target.add_argument(
        "--graph-store",
        metavar="URL",
        help="write with the Graph Store HTTP Protocol (PUT per graph) here, e.g. Virtuoso's "
        "http://localhost:8890/sparql-graph-crud-auth",
    )
    parser.add_argument(
        "--user", metavar="USER", help=f"user for the store (better: the {USER_ENV} variable)"
    )
    parser.add_argument(
        "--password",
        metavar="PASSWORD",
        help=f"password for the store (better: the {PASSWORD_ENV} variable; flags stay in "
        "shell history)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="overwrite graphs the store already holds (default: refuse)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=LOAD_TIMEOUT,
        help=f"time limit of each request to the store (default: {LOAD_TIMEOUT:g})",
    )
    parser.add_argument(
        "--batch",
        metavar="TRIPLES",
        type=int,
        default=BATCH_TRIPLES,
        help=f"triples per INSERT DATA request (default: {BATCH_TRIPLES})",
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--graph",
        metavar="IRI=PATH",
        type=_graph_spec,
        action="append",
        default=[],
        help="also load the file PATH as the named graph IRI (repeatable), as cdkg serve --graph",
    )
    parser.add_argument(
        "--shapes",
        metavar="DIR",
        type=Path,
        help="validate with DIR/*.ttl and DIR/checks/*-violation.rq instead of the shipped shapes",
    )


def _credentials(args: argparse.Namespace) -> tuple[str | None, str | None]:
    user: str | None = args.user or os.environ.get(USER_ENV) or None
    password: str | None = args.password or os.environ.get(PASSWORD_ENV)
    if user and password is None and sys.stdin.isatty():
        password = getpass.getpass(f"password of {user} on the store: ")
    return user, password


def run(args: argparse.Namespace) -> int:
    """Load, validate, push, verify; returns the exit code (1: does not conform, or the store's
    counts differ from ours)."""
    if args.batch < 1:
        raise BadParameter(f"--batch {args.batch}: must be at least 1")
    began = time.monotonic()
    files = source_files(args)
    shapes: Path | None = args.shapes
    try:  # validated as cdkg serve validates it: the cdkg graph, and extra graphs using cdkg terms
        dataset = load_snapshot(
            args.graph,
            files,
            load_shapes(shapes),
            load_checks(shapes / "checks" if shapes else None),
        )
    except NotConforming as err:
        sys.stderr.write(err.text())
        print(
            "cdkg load: the data does not conform; nothing was sent to the store",
            file=sys.stderr,
        )
        return 1
    lap = _Laps(began)
    print(f"cdkg load: loaded and validated the files in {lap()}", file=sys.stderr)
    user, password = _credentials(args)
    store = RemoteStore(
        args.endpoint,
        update_url=None if args.graph_store else (args.update_endpoint or args.endpoint),
        graph_store_url=args.graph_store,
        user=user,
        password=password,
        timeout=args.timeout,
    )
    views = load_views()
    targets = {*stamp.graph_counts(dataset), str(QUERIES_GRAPH), *(str(v.iri) for v in views)}
    held = [iri for iri in sorted(targets) if store.holds(iri)]
    if held and not args.replace:
        listed = ", ".join(f"<{iri}> ({store.count(iri)} triples)" for iri in held)
        raise BadParameter(
            f"the store at {args.endpoint} already holds {listed}; nothing was sent",
            hint="pass --replace to overwrite these graphs",
        )
    store.drop_graph(str(stamp.META_GRAPH))  # a load cut short must leave no stamp behind
    db = oxigraph_of(dataset)
    if db is None:
        raise InternalError("cdkg load needs the dataset held in Oxigraph")
    graphs = stamp.graph_counts(dataset)
    with _Sender(store, db, held, args.batch) as sender:
        for iri in sorted(graphs):  # the store takes the files' graphs while the derived are built
            sender.send(iri)
        add_derived_graphs(dataset, views=views)
        print(f"cdkg load: built the catalog and the views in {lap()}", file=sys.stderr)
        derived = {k: n for k, n in stamp.graph_counts(dataset).items() if k not in graphs}
        for iri in sorted(derived):
            sender.send(iri)
        statistics = void_statistics(dataset)
        graphs.update(derived)
        for iri, seconds in sender.results():  # the first failure raises here
            print(
                f"cdkg load: sent <{iri}>: {graphs[iri]} triples in {seconds:.1f} s",
                file=sys.stderr,
            )
    lap()
    if _verify(store, graphs):
        return 1
    print(f"cdkg load: counted each graph on the store in {lap()}", file=sys.stderr)
    version = dataset_version(files)
    _write(
        store, str(stamp.META_GRAPH), stamp.ntriples(stamp.new_stamp(version, graphs, statistics))
    )
    print(
        f"cdkg load: {len(graphs)} graphs, {sum(graphs.values())} triples in "
        f"{store.query_url}, verified, stamped dataset version {version} in "
        f"<{stamp.META_GRAPH}>, in {time.monotonic() - began:.1f} s",
        file=sys.stderr,
    )
    return 0


class _Laps:
    """The seconds since the last call (or since the load began), for the progress lines: they
    show where a load's time goes."""

    def __init__(self, since: float) -> None:
        self.last = since

    def __call__(self) -> str:
        now = time.monotonic()
        seconds, self.last = now - self.last, now
        return f"{seconds:.1f} s"


class _Sender:
    """Sends graphs to the store one request at a time, from a thread of its own, so that the
    caller's thread builds the derived graphs meanwhile; after a failure it sends no more."""

    def __init__(self, store: RemoteStore, db: ox.Store, held: list[str], batch: int) -> None:
        self.store, self.db, self.held, self.batch = store, db, held, batch
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdkg-load")
        self._stopped = threading.Event()
        self._sent: list[tuple[str, Future[float]]] = []

    def __enter__(self) -> _Sender:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            self._stopped.set()
        self._pool.shutdown(wait=True)  # a request under way ends as the store answers it

    def send(self, iri: str) -> None:
        self._sent.append((iri, self._pool.submit(self._push, iri)))

    def results(self) -> Iterator[tuple[str, float]]:
        """Each graph sent and the seconds it took, in order; raises the first failure."""
        for iri, pushing in self._sent:
            yield iri, pushing.result()

    def _push(self, iri: str) -> float:
        if self._stopped.is_set():
            return 0.0
        began = time.monotonic()
        try:
            _push(self.store, self.db, iri, replace=iri in self.held, batch=self.batch)
        except BaseException:
            self._stopped.set()
            raise
        return time.monotonic() - began


def _push(store: RemoteStore, db: ox.Store, iri: str, *, replace: bool, batch: int) -> None:
    """Send the named graph ``iri`` of ``db`` to the store."""
    if store.graph_store_url is not None:
        store.put_graph(iri, ntriples(db, iri))
        return
    if replace:
        store.update(f"CLEAR SILENT GRAPH <{iri}>")
    triples = [quad.triple for quad in db.quads_for_pattern(None, None, None, ox.NamedNode(iri))]
    for part in batches(triples, batch):
        _write(store, iri, ox.serialize(part, format=ox.RdfFormat.N_TRIPLES) or b"")


def _write(store: RemoteStore, iri: str, body: bytes) -> None:
    """Add the N-Triples ``body`` to the graph ``iri``: a Graph Store ``PUT`` replaces the graph,
    an ``INSERT DATA`` adds to it."""
    if store.graph_store_url is not None:
        store.put_graph(iri, body)
    else:
        store.update(f"INSERT DATA {{ GRAPH <{iri}> {{\n{body.decode('utf-8')}}} }}")


def _verify(store: RemoteStore, graphs: dict[str, int]) -> int:
    """Print each graph's count here and on the store; 0 if all agree, else 1."""
    width = max((len(iri) for iri in graphs), default=5)
    print(f"{'graph'.ljust(width)}  {'local':>7}  {'store':>7}")
    differ = []
    for iri, local in sorted(graphs.items()):
        remote = store.count(iri)
        mark = "" if remote == local else "  differs"
        if mark:
            differ.append(iri)
        print(f"{iri.ljust(width)}  {local:>7}  {remote:>7}{mark}")
    if differ:
        print(
            f"cdkg load: the store's counts differ for {', '.join(differ)}: the store may have "
            "merged literals it reads as equal values, or another writer changed these graphs; "
            "the store holds no version stamp until a load verifies",
            file=sys.stderr,
        )
        return 1
    return 0
