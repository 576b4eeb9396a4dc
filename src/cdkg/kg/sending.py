"""How ``cdkg load`` sends graphs to a store: Graph Store requests of bounded size, SPARQL Update
batches, a deadlocked request sent again, one request at a time from a thread of its own.

Graph Store HTTP Protocol: a graph's N-Triples (written by Oxigraph) go in one ``PUT`` if they fit
in ``chunk`` bytes; a larger graph goes as a ``PUT`` of its first part (replacing the graph), then
a ``POST`` of each other part (§5.5: merged into it), cut at line ends. The reason: Virtuoso 7.2's
loader deadlocks on one large body (docs/external-store.md, "Loading at scale": a 200,000-triple
``PUT`` into a fresh database answered 500 ``SR172: Transaction deadlocked`` with 64,845 triples
left in the graph, a million-triple one answered 201 with 854,599), and it took each of a million
triples in parts of 6 MB, in half the time. A graph holding blank nodes goes whole, never cut: a
blank node label names one node within one request only.

SPARQL 1.1 Update: ``INSERT DATA`` in batches of ``batch`` triples (:func:`batches`).

A request the store refuses with SQL state 40001 (a deadlock, or another serialization failure:
the standard's answer is to run the transaction again) is sent again, up to :data:`ATTEMPTS`
times. Sending it again is safe: a ``PUT`` replaces, and a ``POST`` or ``INSERT DATA`` of the same
triples adds nothing twice (a graph is a set). Any other failure stops the load at once.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import pyoxigraph as ox

from cdkg.errors import StoreBadAnswer
from cdkg.sparql.remote import RemoteStore

#: Largest Graph Store request body, in bytes: a graph's N-Triples are cut into parts this size.
CHUNK_BYTES = 8 << 20
#: How many times a request the store refuses as deadlocked is sent in all.
ATTEMPTS = 3


def ntriples(db: ox.Store, graph: str) -> bytes:
    """The named graph ``graph`` of ``db`` as N-Triples, written by Oxigraph: plain strings as
    plain literals (RDF 1.1: ``"x"^^xsd:string`` is ``"x"``; some stores keep them apart), and
    no rdflib term made on the way (a million of them took most of a load's time)."""
    return db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)) or b""


def parts(body: bytes, size: int) -> Iterator[bytes]:
    """``body`` (N-Triples, a triple a line) in parts of about ``size`` bytes, each ending at a
    line's end; the whole of it if it holds a blank node (``_:``, or text that looks like one)."""
    if len(body) <= size or b"_:" in body:
        yield body
        return
    start = 0
    while start < len(body):
        end = body.find(b"\n", min(start + size, len(body)) - 1)
        end = len(body) if end < 0 else end + 1
        yield body[start:end]
        start = end


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


def send_graph(
    store: RemoteStore, db: ox.Store, iri: str, *, replace: bool, batch: int, chunk: int
) -> None:
    """Send the named graph ``iri`` of ``db`` to the store (replacing it: a Graph Store ``PUT``
    does; SPARQL Update ``CLEAR``s it first if ``replace``)."""
    if store.graph_store_url is not None:
        for number, part in enumerate(parts(ntriples(db, iri), chunk)):
            write = store.put_graph if number == 0 else store.post_graph
            _again(f"<{iri}>, part {number + 1}", write, iri, part)
        return
    if replace:
        _again(f"CLEAR <{iri}>", store.update, f"CLEAR SILENT GRAPH <{iri}>")
    triples = [quad.triple for quad in db.quads_for_pattern(None, None, None, ox.NamedNode(iri))]
    insert(store, iri, triples, batch)


def insert(store: RemoteStore, iri: str, triples: list[ox.Triple], batch: int) -> None:
    """Add ``triples`` to the graph ``iri`` with SPARQL 1.1 Update, ``batch`` at a time."""
    for number, part in enumerate(batches(triples, batch)):
        body = (ox.serialize(part, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        text = f"INSERT DATA {{ GRAPH <{iri}> {{\n{body}}} }}"
        _again(f"<{iri}>, batch {number + 1}", store.update, text)


def _again(what: str, send: Callable[..., None], *args: str | bytes) -> None:
    """``send(*args)``, sent again while the store refuses it as deadlocked (SQL state 40001)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            send(*args)
            return
        except StoreBadAnswer as err:
            if attempt == ATTEMPTS or not _deadlocked(err):
                raise
            print(
                f"cdkg load: the store refused {what} as deadlocked (40001); sending it again",
                file=sys.stderr,
            )
            time.sleep(attempt)


def _deadlocked(err: StoreBadAnswer) -> bool:
    return err.http_status == 500 and ("40001" in err.message or "deadlock" in err.message)


class Sender:
    """Sends graphs to the store one request at a time, from a thread of its own, so that the
    caller's thread builds the derived graphs meanwhile; after a failure it sends no more."""

    def __init__(self, store: RemoteStore, db: ox.Store, held: list[str], batch: int, chunk: int):
        self.store, self.db, self.held, self.batch, self.chunk = store, db, held, batch, chunk
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdkg-load")
        self._stopped = threading.Event()
        self._sent: list[tuple[str, Future[float]]] = []

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            self._stopped.set()
        self._pool.shutdown(wait=True)  # a request under way ends as the store answers it

    def send(self, iri: str) -> None:
        self._sent.append((iri, self._pool.submit(self._send, iri)))

    def results(self) -> Iterator[tuple[str, float]]:
        """Each graph sent and the seconds it took, in order; raises the first failure."""
        for iri, sending in self._sent:
            yield iri, sending.result()

    def _send(self, iri: str) -> float:
        if self._stopped.is_set():
            return 0.0
        began = time.monotonic()
        try:
            send_graph(
                self.store,
                self.db,
                iri,
                replace=iri in self.held,
                batch=self.batch,
                chunk=self.chunk,
            )
        except BaseException:
            self._stopped.set()
            raise
        return time.monotonic() - began
