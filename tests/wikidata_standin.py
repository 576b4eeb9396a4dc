"""A local stand-in for the Wikidata Query Service, for the federation tests (no network here).

It serves, over the SPARQL 1.1 Protocol (GET ``query=``, POST form; SPARQL JSON results), a
Wikidata-shaped graph built from ``reference/wikidata-p190-snapshot.csv`` (``wdt:P190``,
``wdt:P463``, English labels), plus what ``queries/federated/wikidata-enrich.rq`` reads:
**made-up test data**, not facts (populations, coordinates, names in other languages for Tehran
and Isfahan), marked ``rdfs:comment "MADE-UP TEST DATA"`` on each item that has it.

Paths: ``/sparql`` answers; ``/slow`` waits :data:`SLOW_SECONDS` before answering; ``/broken``
answers HTTP 500; ``/redirect`` answers 307 to :attr:`StandIn.redirect_to`. Every request is
recorded (method, path, query text).
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from rdflib import RDFS, Graph, Literal, Namespace, URIRef

from servers import serve_in_thread

WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
GEO_WKT = URIRef("http://www.opengis.net/ont/geosparql#wktLiteral")
SLOW_SECONDS = 10
MADE_UP = "MADE-UP TEST DATA, not from Wikidata"
#: Made-up values (population, coordinates, names) for the enrich query. NOT FACTS.
INVENTED = {
    "Q3616": (1111111, "Point(51.4 35.7)", {"de": "Teheran (test)", "fr": "Téhéran (test)"}),
    "Q42053": (2222222, "Point(51.7 32.7)", {"de": "Isfahan (test)", "ar": "أصفهان (test)"}),
}


def standin_graph(snapshot: Path) -> Graph:
    """The stand-in's data: the snapshot's statements, then the made-up test data."""
    graph = Graph()
    with snapshot.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            subject, obj = WD[row["subject"].strip()], WD[row["object"].strip()]
            graph.add((subject, WDT[row["property"].strip()], obj))
            graph.add((subject, RDFS.label, Literal(row["subject_label"].strip(), lang="en")))
            graph.add((obj, RDFS.label, Literal(row["object_label"].strip(), lang="en")))
    for qid, (population, point, names) in INVENTED.items():
        item = WD[qid]
        graph.add((item, RDFS.comment, Literal(MADE_UP)))
        graph.add((item, WDT.P1082, Literal(population)))
        graph.add((item, WDT.P625, Literal(point, datatype=GEO_WKT)))
        for lang, name in names.items():
            graph.add((item, RDFS.label, Literal(name, lang=lang)))
    return graph


@dataclass
class StandIn:
    """The running stand-in: where it listens and what it was asked."""

    graph: Graph
    server: http.server.ThreadingHTTPServer | None = None
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    redirect_to: str = "http://127.0.0.1:9/sparql"
    running: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    def start(self) -> StandIn:
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.answer(parse_qs(urlsplit(self.path).query).get("query", [""])[0])

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                self.answer(parse_qs(body).get("query", [""])[0])

            def answer(self, query: str) -> None:
                path = urlsplit(self.path).path
                standin.requests.append((self.command, path, query))
                if path == "/slow":
                    time.sleep(SLOW_SECONDS)
                if path == "/redirect":
                    self.send_response(307)
                    self.send_header("Location", standin.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path == "/broken":
                    self.reply(500, b"boom", "text/plain")
                    return
                with standin.lock:  # rdflib's SPARQL parser is not thread-safe
                    body = standin.graph.query(query).serialize(format="json") or b""
                self.reply(200, body, "application/sparql-results+json")

            def reply(self, status: int, body: bytes, media_type: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", media_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (the time-limit tests)

            def log_message(self, *args: object) -> None:
                pass

        self.server = self.running.enter_context(serve_in_thread(Handler))
        return self

    def stop(self) -> None:
        self.running.close()
