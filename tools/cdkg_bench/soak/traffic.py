"""The requests of a soak: normal ones (canned and ad-hoc queries) and hostile ones
(:data:`HOSTILE`, each with the status docs/endpoint.md's "Limits and statuses" table documents for
it); how one is sent to 127.0.0.1 and what it got (:func:`attempt`)."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import random
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cdkg.canned.registry import CannedQuery

#: Seconds a client waits for an answer before it gives up (counted as no answer).
CLIENT_TIMEOUT = 60.0
ACCEPT_JSON = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"

_RDFS = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
#: Small ad-hoc queries over the whole graph; a numbered comment makes each text new, so each
#: one is evaluated (never answered from the result cache).
ADHOC = (
    _RDFS + "SELECT ?s ?label WHERE { ?s rdfs:label ?label } LIMIT 20",
    "SELECT ?class (COUNT(*) AS ?n) WHERE { ?s a ?class } GROUP BY ?class",
    "ASK { ?s a ?class }",
    "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n) LIMIT 10",
    _RDFS + "SELECT ?s WHERE { ?s rdfs:label ?l FILTER(LANG(?l) = 'fa') } LIMIT 10",
)
#: Normal kinds and their weights in the mix.
NORMAL = (("canned-get", 0.35), ("canned-post", 0.35), ("adhoc", 0.30))
_NORMAL_KINDS = frozenset(kind for kind, _ in NORMAL)


# --- requests and answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP request of the mix."""

    kind: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = (("Accept", ACCEPT_JSON),)
    body: bytes = b""


@dataclass(frozen=True)
class Outcome:
    """What one request got: its status (0 if no answer), the JSON error's ``type`` or the
    exception's name, its rows (-1 unless a SPARQL JSON answer), and how long it took."""

    kind: str
    status: int
    error: str
    rows: int
    seconds: float


def get(kind: str, path: str, params: dict[str, str]) -> Request:
    return Request(kind, "GET", f"{path}?{urllib.parse.urlencode(params)}")


def form(kind: str, params: dict[str, str]) -> Request:
    body = urllib.parse.urlencode(params).encode()
    return Request(kind, "POST", "/sparql", (("Accept", ACCEPT_JSON), ("Content-Type", FORM)), body)


def direct(kind: str, text: str, content_type: str = DIRECT) -> Request:
    headers = (("Accept", ACCEPT_JSON), ("Content-Type", content_type))
    return Request(kind, "POST", "/sparql", headers, text.encode())


def exchange(port: int, request: Request, timeout: float = CLIENT_TIMEOUT) -> tuple[int, bytes]:
    """Send ``request`` to 127.0.0.1:``port`` on a new connection; (status, body).

    A large body is sent from a second thread while the answer is read: the server may answer
    413 and close before it has read the body, and a client that reads only once it has sent
    everything would see a reset instead of the answer.
    """
    head = [f"{request.method} {request.path} HTTP/1.1"]
    if all(name.lower() != "host" for name, _ in request.headers):
        head.append(f"Host: 127.0.0.1:{port}")
    head += [f"{name}: {value}" for name, value in request.headers]
    if request.method == "POST":
        head.append(f"Content-Length: {len(request.body)}")
    wire = ("\r\n".join([*head, "Connection: close", "", ""])).encode() + request.body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sender = None
        if len(wire) > 1 << 16:
            sender = threading.Thread(target=_send_quietly, args=(sock, wire), daemon=True)
            sender.start()
        else:
            sock.sendall(wire)
        response = http.client.HTTPResponse(sock, method=request.method)
        try:
            response.begin()
            return response.status, response.read()
        finally:
            response.close()
            if sender is not None:
                sender.join(timeout)


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server may close first, having answered
        sock.sendall(data)


def attempt(port: int, request: Request) -> Outcome:
    """``request`` sent and classified; never raises for what the network or server does."""
    started = time.perf_counter()
    try:
        status, body = exchange(port, request)
    except (OSError, http.client.HTTPException) as err:
        return Outcome(request.kind, 0, type(err).__name__, -1, time.perf_counter() - started)
    took = time.perf_counter() - started
    error, rows = "", -1
    if 200 <= status < 300 and request.kind in _NORMAL_KINDS:
        # a normal answer needs only its status: parsing large answers in 50 client threads would
        # hold the load generator's GIL and add to the latency the other threads measure
        return Outcome(request.kind, status, error, rows, took)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        if status >= 400 and isinstance(answer.get("error"), dict):
            error = str(answer["error"].get("type", ""))
        elif "boolean" in answer:
            rows = 1
        elif isinstance(answer.get("results"), dict):
            rows = len(answer["results"].get("bindings", ()))
    return Outcome(request.kind, status, error, rows, took)


# --- the hostile kinds --------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """A hostile kind: how to build it, the status docs/endpoint.md documents for it, and why."""

    kind: str
    status: int
    why: str  # docs/endpoint.md's "Limits and statuses" row it relies on
    build: Callable[[Target], Request]
    empty: bool = False  # a 200 must also carry zero rows (nothing was fetched, nothing matched)
    also: tuple[int, ...] = ()  # other documented statuses, where the engine decides

    def accepts(self, outcome: Outcome) -> bool:
        if outcome.status not in (self.status, *self.also):
            return False
        return outcome.status != 200 or not self.empty or outcome.rows == 0

    @property
    def expected(self) -> str:
        """The documented statuses, as the report shows them."""
        return " or ".join(
            f"{status}{' (no rows)' if status == 200 and self.empty else ''}"
            for status in (self.status, *self.also)
        )


@dataclass(frozen=True)
class Target:
    """What a hostile request needs to know of the server."""

    port: int
    max_body: int


def _doubling_concat(steps: int = 40) -> str:
    """A string that doubles ``steps`` times: 16 characters become 16 TiB."""
    binds = ['BIND("0123456789abcdef" AS ?x0)']
    binds += [f"BIND(CONCAT(?x{i - 1}, ?x{i - 1}) AS ?x{i})" for i in range(1, steps + 1)]
    return f"SELECT (STRLEN(?x{steps}) AS ?n) WHERE {{ {' '.join(binds)} }}"


def _nested(depth: int) -> str:
    return "SELECT * WHERE " + "{ " * depth + "?s ?p ?o " + "} " * depth


def _over_cap(target: Target, times: float) -> str:
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1\n"
    return query + "#" * (int(target.max_body * times) - len(query))


_TIMEOUT = "503: the query ran past --timeout (QueryTimeout)"
_TIMEOUT_OR_MEMORY = "503: past --timeout, or over an engine process's memory limit"
_REGEX = (
    "503: past --timeout with rdflib's backtracking regex; 200 and no rows with Oxigraph's "
    "linear-time regex (the right answer: no match)"
)
_TOO_DEEP = "400: nesting deeper than 16"
_TOO_LONG = "400: a query longer than 50,000 characters"
_BODY = "413: a body over --max-body bytes"
_UPDATE = "403: any SPARQL Update"
_SERVICE = "403: SERVICE off the allow-list"
_FROM = "403: FROM naming a graph the server does not hold"
_NOTHING_FETCHED = "200, empty: a protocol parameter naming an unknown graph is an empty graph"
_HOST = "200: /openapi.json answers whatever the Host header names"
_UPDATE_TEXT = "INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }"

#: Each Host header new: the server keeps one OpenAPI document per Host it has seen.
_HOSTS = itertools.count()

HOSTILE: tuple[Hostile, ...] = (
    Hostile(
        "runaway-join",
        503,
        _TIMEOUT,
        lambda t: form(
            "runaway-join",
            {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"},
        ),
    ),
    Hostile(
        "catastrophic-regex",
        503,
        _REGEX,
        lambda t: form(
            "catastrophic-regex",
            {
                "query": 'SELECT ?x WHERE { BIND(CONCAT("' + "a" * 32 + '", "!") AS ?x) '
                'FILTER(REGEX(?x, "^(a+)+$")) }'
            },
        ),
        empty=True,
        also=(200,),
    ),
    Hostile(
        "huge-concat",
        503,
        _TIMEOUT_OR_MEMORY,
        lambda t: form("huge-concat", {"query": _doubling_concat()}),
    ),
    Hostile("deep-nesting", 400, _TOO_DEEP, lambda t: form("deep-nesting", {"query": _nested(40)})),
    Hostile(
        "long-query",
        400,
        _TOO_LONG,
        lambda t: direct("long-query", "SELECT * WHERE { ?s ?p ?o } #" + "x" * 60_000),
    ),
    Hostile(
        "body-over-cap",
        413,
        _BODY + " (read, connection kept)",
        lambda t: direct("body-over-cap", _over_cap(t, 1.1)),
    ),
    Hostile(
        "body-unread",
        413,
        _BODY + " (over 4x the cap: not read, connection closed)",
        lambda t: direct("body-unread", _over_cap(t, 5)),
    ),
    Hostile(
        "service-loopback",
        403,
        _SERVICE,
        lambda t: form(
            "service-loopback",
            {
                "query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{t.port}/sparql> "
                "{ ?s ?p ?o } }"
            },
        ),
    ),
    Hostile(
        "service-localhost",
        403,
        _SERVICE,
        lambda t: form(
            "service-localhost",
            {"query": "SELECT * WHERE { SERVICE <http://localhost/> { ?s ?p ?o } }"},
        ),
    ),
    Hostile(
        "from-loopback",
        403,
        _FROM,
        lambda t: form(
            "from-loopback",
            {"query": f"SELECT * FROM <http://127.0.0.1:{t.port}/> WHERE {{ ?s ?p ?o }} LIMIT 1"},
        ),
    ),
    Hostile(
        "from-file",
        403,
        _FROM,
        lambda t: form(
            "from-file", {"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o } LIMIT 1"}
        ),
    ),
    Hostile(
        "graph-param-file",
        200,
        _NOTHING_FETCHED,
        lambda t: form(
            "graph-param-file",
            {
                "query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
                "default-graph-uri": "file:///etc/passwd",
            },
        ),
        empty=True,
    ),
    Hostile("update-param", 403, _UPDATE, lambda t: form("update-param", {"update": _UPDATE_TEXT})),
    Hostile(
        "update-body",
        403,
        _UPDATE,
        lambda t: direct("update-body", _UPDATE_TEXT, "application/sparql-update"),
    ),
    Hostile(
        "update-as-query", 403, _UPDATE, lambda t: form("update-as-query", {"query": _UPDATE_TEXT})
    ),
    Hostile(
        "host-header-flood",
        200,
        _HOST,
        lambda t: Request(
            "host-header-flood",
            "GET",
            "/openapi.json",
            (("Host", f"soak-{next(_HOSTS)}.example"), ("Accept", "application/json")),
        ),
    ),
)
HOSTILE_BY_KIND = {h.kind: h for h in HOSTILE}


# --- the normal mix -----------------------------------------------------------------------------


@dataclass
class Mix:
    """Builds the requests of the load: normal ones from the canned queries and the ad-hoc
    templates, hostile ones from :data:`HOSTILE`."""

    canned: list[CannedQuery]
    target: Target
    hostile_share: float
    templates: list[str] = field(default_factory=lambda: list(ADHOC))
    counter: Iterator[int] = field(default_factory=itertools.count)

    def canned_get(self, query: CannedQuery) -> Request:
        return get("canned-get", f"/queries/{query.name}", {"format": "json"})

    def canned_post(self, query: CannedQuery) -> Request:
        return form("canned-post", {"query": query.bind({})})

    def adhoc(self, template: str) -> Request:
        text = f"{template}\n# cdkg soak request {next(self.counter)}\n"
        return get("adhoc", "/sparql", {"query": text})

    def normal(self, rng: random.Random) -> Request:
        kind = rng.choices([k for k, _ in NORMAL], [w for _, w in NORMAL])[0]
        if kind == "adhoc":
            return self.adhoc(rng.choice(self.templates))
        query = rng.choice(self.canned)
        return self.canned_get(query) if kind == "canned-get" else self.canned_post(query)

    def draw(self, rng: random.Random) -> Request:
        if rng.random() < self.hostile_share:
            return rng.choice(HOSTILE).build(self.target)
        return self.normal(rng)
