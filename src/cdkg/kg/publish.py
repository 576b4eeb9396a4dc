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
5. push each named graph (:mod:`cdkg.kg.sending`), written as N-Triples by Oxigraph: by the Graph
   Store HTTP Protocol (``--graph-store``: a ``PUT``, and a ``POST`` per further part of a large
   graph), or SPARQL 1.1 Update ``INSERT DATA`` in batches (``--update-endpoint``, default the
   query endpoint);
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
import time
from pathlib import Path

import pyoxigraph as ox

from cdkg.canned.catalog import QUERIES_GRAPH
from cdkg.errors import BadParameter, InternalError
from cdkg.kg import stamp
from cdkg.kg.graph import add_source_arguments, dataset_version, source_files
from cdkg.kg.sending import CHUNK_BYTES, Sender, insert
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
    parser.add_argument(
        "--chunk",
        metavar="MIB",
        type=int,
        default=CHUNK_BYTES >> 20,
        help="largest Graph Store request, in MiB: a larger graph goes as a PUT of its first "
        f"part, then a POST of each other part (default: {CHUNK_BYTES >> 20})",
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
    if args.chunk < 1:
        raise BadParameter(f"--chunk {args.chunk}: must be at least 1 (MiB)")
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
    with Sender(store, db, held, args.batch, args.chunk << 20) as sender:
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
    written = stamp.ntriples(stamp.new_stamp(version, graphs, statistics))
    if store.graph_store_url is not None:
        store.put_graph(str(stamp.META_GRAPH), written)
    else:
        parsed = ox.parse(written, format=ox.RdfFormat.N_TRIPLES)
        insert(store, str(stamp.META_GRAPH), [q.triple for q in parsed], args.batch)
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
