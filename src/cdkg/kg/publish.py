"""``cdkg load``: push the served dataset into an external SPARQL 1.1 store, then check it.

The steps, in order, each refusing early:

1. load the files (:func:`cdkg.kg.graph.load_dataset`; a syntax error names the file and line: exit
2); 2. validate as ``cdkg serve`` does (:func:`cdkg.kg.snapshot.load_snapshot`: the cdkg graph, and
each
   ``--graph`` that uses cdkg terms, with the SHACL shapes and ``*-violation.rq`` checks); if the
   data does not conform, print the report and exit 1: the store is not contacted at all;
3. add the graphs ``cdkg serve`` adds (:func:`add_derived_graphs`): the canned-query catalog and
   the views;
4. push each named graph: a Graph Store HTTP Protocol ``PUT`` per graph (``--graph-store``), or
   SPARQL 1.1 Update ``INSERT DATA`` in batches (``--update-endpoint``, default the query
   endpoint). A graph the store already holds is refused unless ``--replace``;
5. verify: each graph's triple count on the store equals ours; print one line per graph.

Credentials come from ``CDKG_STORE_USER`` / ``CDKG_STORE_PASSWORD`` (or ``--user`` / ``--password``,
which land in shell history: prefer the environment). See ``docs/external-store.md``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD
from rdflib.term import Node

from cdkg.canned.catalog import QUERIES_GRAPH
from cdkg.errors import BadParameter
from cdkg.kg.graph import add_source_arguments, source_files
from cdkg.kg.served import add_derived_graphs
from cdkg.kg.snapshot import NotConforming, load_snapshot
from cdkg.kg.validate import load_checks, load_shapes
from cdkg.kg.views import load_views
from cdkg.names import ABSOLUTE_IRI
from cdkg.sparql.remote import RemoteStore

USER_ENV = "CDKG_STORE_USER"
PASSWORD_ENV = "CDKG_STORE_PASSWORD"  # noqa: S105 - the variable's name, not a password
#: Triples per ``INSERT DATA`` request: Virtuoso refuses one whose SQL passes 10,000 lines
#: (2,000 of our triples do; 1,000 did not).
BATCH_TRIPLES = 500
#: Time limit of one request to the store while loading, in seconds.
LOAD_TIMEOUT = 120.0

Triple = tuple[Node, Node, Node]


def named_graphs(dataset: Dataset) -> dict[URIRef, list[Triple]]:
    """Each named graph of ``dataset`` (sorted by IRI) and its triples, plain strings written as
    plain literals (RDF 1.1: ``"x"^^xsd:string`` is ``"x"``; some stores keep them apart)."""
    graphs = {}
    for graph in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
        if graph.identifier == DATASET_DEFAULT_GRAPH_ID or not isinstance(graph.identifier, URIRef):
            continue
        graphs[graph.identifier] = [
            (s, p, Literal(str(o)) if _is_xsd_string(o) else o) for s, p, o in graph
        ]
    return graphs


def _is_xsd_string(term: Node) -> bool:
    return isinstance(term, Literal) and term.datatype == XSD.string and not term.language


def ntriples(triples: Sequence[Triple]) -> bytes:
    """``triples`` as N-Triples, UTF-8."""
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph.serialize(format="nt", encoding="utf-8")


def batches(triples: Sequence[Triple], size: int) -> Iterator[list[Triple]]:
    """``triples`` in batches of about ``size``, never splitting the triples that share a blank
    node: a blank node label names one node within one request only."""
    parent: dict[BNode, BNode] = {}

    def root(node: BNode) -> BNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for s, _, o in triples:
        ends = [t for t in (s, o) if isinstance(t, BNode)]
        for end in ends[1:]:
            parent[root(end)] = root(ends[0])
    groups: dict[object, list[Triple]] = {}
    singles: list[list[Triple]] = []
    for triple in triples:
        node = next((t for t in (triple[0], triple[2]) if isinstance(t, BNode)), None)
        if node is None:
            singles.append([triple])
        else:
            groups.setdefault(root(node), []).append(triple)
    batch: list[Triple] = []
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
    targets = {*named_graphs(dataset), QUERIES_GRAPH, *(view.iri for view in views)}
    held = {iri: n for iri in sorted(targets) if (n := store.count(str(iri)))}
    if held and not args.replace:
        listed = ", ".join(f"<{iri}> ({n} triples)" for iri, n in held.items())
        raise BadParameter(
            f"the store at {args.endpoint} already holds {listed}; nothing was sent",
            hint="pass --replace to overwrite these graphs",
        )
    add_derived_graphs(dataset, views=views)
    graphs = named_graphs(dataset)
    for iri, triples in graphs.items():
        _push(store, str(iri), triples, replace=iri in held, batch=args.batch)
        print(f"cdkg load: sent <{iri}>: {len(triples)} triples", file=sys.stderr)
    return _verify(store, graphs, began)


def _push(
    store: RemoteStore, iri: str, triples: list[Triple], *, replace: bool, batch: int
) -> None:
    if store.graph_store_url is not None:
        store.put_graph(iri, ntriples(triples))
        return
    if replace:
        store.update(f"CLEAR SILENT GRAPH <{iri}>")
    for part in batches(triples, batch):
        body = ntriples(part).decode("utf-8")
        store.update(f"INSERT DATA {{ GRAPH <{iri}> {{\n{body}}} }}")


def _verify(store: RemoteStore, graphs: dict[URIRef, list[Triple]], began: float) -> int:
    """Print each graph's count here and on the store; 0 if all agree, else 1."""
    width = max((len(str(iri)) for iri in graphs), default=5)
    print(f"{'graph'.ljust(width)}  {'local':>7}  {'store':>7}")
    differ = []
    for iri, triples in graphs.items():
        remote = store.count(str(iri))
        mark = "" if remote == len(triples) else "  differs"
        if mark:
            differ.append(str(iri))
        print(f"{str(iri).ljust(width)}  {len(triples):>7}  {remote:>7}{mark}")
    total = sum(len(t) for t in graphs.values())
    if differ:
        print(
            f"cdkg load: the store's counts differ for {', '.join(differ)}: the store may have "
            "merged literals it reads as equal values, or another writer changed these graphs",
            file=sys.stderr,
        )
        return 1
    print(
        f"cdkg load: {len(graphs)} graphs, {total} triples in {store.query_url}, "
        f"verified, in {time.monotonic() - began:.1f} s",
        file=sys.stderr,
    )
    return 0
