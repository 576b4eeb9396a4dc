"""How ``cdkg load`` sends a graph (:mod:`cdkg.kg.sending`): parts of bounded size, cut at line
ends, blank nodes never cut apart; a large graph as a PUT and POSTs, all of it arriving in a real
Virtuoso (seen through a logging proxy); a request refused as deadlocked sent again, any other
failure stopping at once."""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest

from cdkg.errors import StoreBadAnswer
from cdkg.kg.sending import ATTEMPTS, ntriples, parts, send_graph
from cdkg.sparql.remote import RemoteStore
from servers import serve_in_thread
from test_store_serving import start_proxy
from virtuoso_fixtures import Virtuoso

GRAPH = "https://example.org/graph/sent-in-parts"


def a_graph(triples: int, blank: bool = False) -> ox.Store:
    db = ox.Store()
    g = ox.NamedNode(GRAPH)
    p = ox.NamedNode("https://example.org/p")
    for n in range(triples):
        s = ox.BlankNode(f"b{n % 7}") if blank else ox.NamedNode(f"https://example.org/s{n}")
        db.add(ox.Quad(s, p, ox.Literal(f"value {n}, with some room to take"), g))
    return db


def test_parts_are_cut_at_line_ends_and_blank_nodes_are_never_cut_apart() -> None:
    body = ntriples(a_graph(5000), GRAPH)
    cut = list(parts(body, 10_000))
    assert len(cut) > 10
    assert b"".join(cut) == body
    assert all(part.endswith(b"\n") and len(part) < 10_000 + 200 for part in cut)
    assert list(parts(body, len(body))) == [body]
    blank = ntriples(a_graph(5000, blank=True), GRAPH)
    assert list(parts(blank, 10_000)) == [blank]  # one request: the labels name one node each


def test_a_large_graph_goes_as_a_put_then_posts_and_all_of_it_arrives(
    virtuoso: Virtuoso,
) -> None:
    proxy = start_proxy(virtuoso.base)
    try:
        store = RemoteStore(
            virtuoso.sparql,
            graph_store_url=f"{proxy.url}/sparql-graph-crud-auth",
            user="dba",
            password=virtuoso.password,
        )
        db = a_graph(30_000)
        send_graph(store, db, GRAPH, replace=False, batch=500, chunk=1 << 20)
        sent = [(method, len(body)) for method, _, body in proxy.seen if body]
        assert [method for method, _ in sent] == ["PUT"] + ["POST"] * (len(sent) - 1)
        assert len(sent) == len(list(parts(ntriples(db, GRAPH), 1 << 20))) > 2
        assert all(size <= (1 << 20) + 200 for _, size in sent)
        assert RemoteStore(virtuoso.sparql).count(GRAPH) == 30_000
        send_graph(store, a_graph(10), GRAPH, replace=True, batch=500, chunk=1 << 20)
        assert RemoteStore(virtuoso.sparql).count(GRAPH) == 10  # the PUT replaced the graph
    finally:
        proxy.stop()
        RemoteStore(
            virtuoso.sparql,
            graph_store_url=virtuoso.graph_store,
            user="dba",
            password=virtuoso.password,
        ).drop_graph(GRAPH)


@pytest.fixture
def deadlocking() -> Iterator[tuple[str, list[str], list[int]]]:
    """A Graph Store stand-in answering each request with the next status of ``statuses`` (then
    201): 500 as Virtuoso words a deadlock, or 500 of another kind (status 501)."""
    seen: list[str] = []
    statuses: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.command)
            status = statuses.pop(0) if statuses else 201
            body = b""
            if status == 500:
                body = b"<h3>Error 40001</h3><xmp>SR172: Transaction deadlocked</xmp>"
            if status == 501:
                status, body = 500, b"<h3>Error 42000</h3><xmp>SR186: No permission</xmp>"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_PUT = do_POST = answer

        def log_message(self, *args: Any) -> None:
            pass

    with serve_in_thread(Handler) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/store", seen, statuses


def test_a_request_refused_as_deadlocked_is_sent_again(
    deadlocking: tuple[str, list[str], list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, seen, statuses = deadlocking
    statuses += [500, 500]  # twice deadlocked, then taken
    store = RemoteStore(f"{url}/sparql", graph_store_url=url)
    send_graph(store, a_graph(100), GRAPH, replace=False, batch=500, chunk=1 << 20)
    assert seen == ["PUT"] * 3
    assert capsys.readouterr().err.count("refused <" + GRAPH + ">, part 1 as deadlocked") == 2


def test_a_request_deadlocked_every_time_or_refused_otherwise_stops_the_load(
    deadlocking: tuple[str, list[str], list[int]],
) -> None:
    url, seen, statuses = deadlocking
    store = RemoteStore(f"{url}/sparql", graph_store_url=url)
    statuses += [500] * ATTEMPTS
    with pytest.raises(StoreBadAnswer, match="SR172: Transaction deadlocked"):
        send_graph(store, a_graph(100), GRAPH, replace=False, batch=500, chunk=1 << 20)
    assert seen == ["PUT"] * ATTEMPTS
    seen.clear()
    statuses[:] = [501]
    with pytest.raises(StoreBadAnswer, match="SR186: No permission"):
        send_graph(store, a_graph(100), GRAPH, replace=False, batch=500, chunk=1 << 20)
    assert seen == ["PUT"]  # not sent again: only a deadlock is
