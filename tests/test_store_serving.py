"""``cdkg serve --store`` and ``cdkg load`` against a real Virtuoso (issue 19), with real stand-ins
between them: a tiny logging HTTP proxy in front of the store, which can also sleep, answer 500 or
stop listening.

- Nothing of cdkg's own runs on the store unasked: start-up sends one constant-cost request (the
  stamp's read, one small named graph), and N client queries send exactly N more.
- The store's version stamp: ``cdkg load`` writes it; a server whose files differ refuses to
  start (exit 2, one line); ``--serve-store-version`` serves the store's version, says so, and
  ``/void`` and the service description count what the store holds.
- One documented status each: a slow store 504 ``StoreTimeout`` (before the engine's own limit),
  a store that is down 503 ``StoreUnavailable``, one that answers an error 502 ``StoreBadAnswer``
  quoting it.
- A large body goes only with credentials the store takes: wrong ones are the store's 401, never
  "cannot be reached"; Basic works as Digest does; a refused PUT quotes the store's message.
- ``scripts/virtuoso`` (which the session's Virtuoso comes from) prints URLs and credentials that
  work with curl, and keeps a database's password across a restart.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import http.client
import http.server
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib.compare import isomorphic

from cdkg.kg import stamp as stamps
from cdkg.kg.graph import dataset_version, kg_files
from cdkg.kg.served import served_dataset
from cdkg.kg.void import void_statistics
from cdkg.sparql.remote import RemoteStore, StoreBadAnswer
from endpoint_fixtures import LiveServer
from servers import serve_in_thread
from virtuoso_fixtures import SCRIPT, Loaded, Virtuoso, cdkg, read_env, script, start_virtuoso

FIXTURES = Path(__file__).parent / "fixtures"
MINI = ("--ontology", FIXTURES / "ontology", "--shapes", FIXTURES / "shapes")
VIRTUOSO_ERROR = b"Virtuoso 37000 Error SP030: SPARQL compiler, line 3: syntax error at 'x'"


# --- a tiny logging proxy, and stand-ins -------------------------------------------------------


@dataclasses.dataclass
class Proxy:
    """A loopback HTTP proxy to ``target`` that logs each request (method, path, body) and
    forwards it, or, by ``mode``: sleeps ``delay`` seconds and answers nothing useful, or
    answers 500 with a Virtuoso error, or sleeps ``delay`` seconds and then forwards it (a busy
    store)."""

    target: str
    seen: list[tuple[str, str, bytes]] = dataclasses.field(default_factory=list)
    mode: str = "forward"  # forward | sleep | error | delay
    delay: float = 0.0
    server: http.server.ThreadingHTTPServer | None = None
    running: contextlib.ExitStack = dataclasses.field(default_factory=contextlib.ExitStack)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def queries(self) -> list[str]:
        """The query text of each request seen, in order."""
        found = []
        for _, path, body in self.seen:
            fields = urllib.parse.parse_qs(body.decode() or urllib.parse.urlsplit(path).query)
            found.append(fields.get("query", [""])[0])
        return found

    def stop(self) -> None:
        self.running.close()


def start_proxy(target: str) -> Proxy:
    proxy = Proxy(target)

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            proxy.seen.append((self.command, self.path, body))
            try:
                if proxy.mode == "sleep":
                    time.sleep(proxy.delay)
                    self.send(504, b"slept", "text/plain")
                elif proxy.mode == "error":
                    self.send(500, VIRTUOSO_ERROR, "text/plain")
                else:
                    time.sleep(proxy.delay if proxy.mode == "delay" else 0)
                    self.forward(body)
            except OSError:  # the client gave up waiting (the slow store)
                pass

        def forward(self, body: bytes) -> None:
            where = urllib.parse.urlsplit(proxy.target)
            upstream = http.client.HTTPConnection(where.hostname or "", where.port, timeout=60)
            keep = ("Content-Type", "Accept", "Authorization", "User-Agent")
            headers = {k: v for k, v in self.headers.items() if k in keep}
            with contextlib.closing(upstream):  # closed too when the client has gone
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                content = response.read()
                relayed = ("Content-T", "X-", "WWW-Auth")  # a Digest challenge goes through too
                passed = {k: v for k, v in response.getheaders() if k.startswith(relayed)}
                self.send(response.status, content, passed.pop("Content-Type", ""), passed)

        def send(
            self, status: int, content: bytes, kind: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer

        def log_message(self, *args: Any) -> None:
            pass

    proxy.server = proxy.running.enter_context(serve_in_thread(Handler))
    return proxy


@dataclasses.dataclass
class Proxied:
    """``cdkg serve --store <proxy>/sparql``, the proxy in front of the session's Virtuoso, and
    what the proxy had seen once the server answered."""

    proxy: Proxy
    server: LiveServer
    at_start: list[str]


@pytest.fixture(scope="module")
def proxied(
    virtuoso: Virtuoso, loaded: Loaded, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    proxy = start_proxy(virtuoso.base)
    log = tmp_path_factory.mktemp("proxied") / "serve.log"
    server = LiveServer(("--store", f"{proxy.url}/sparql", "--timeout", "2"), log)
    try:
        server.start()
        yield Proxied(proxy, server, proxy.queries())
    finally:
        server.stop()
        proxy.stop()


def ask(server: LiveServer, query: str, accept: str = "application/sparql-results+json") -> Any:
    """POST ``query`` to the server: (status, JSON body)."""
    data = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(server.sparql, data=data, headers={"Accept": accept})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def get(url: str, accept: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        body: bytes = response.read()
        return body


# --- 1. nothing of cdkg's own runs on the store unasked ------------------------------------------


def test_start_up_sends_the_store_one_read_of_the_stamp_alone(proxied: Proxied) -> None:
    assert len(proxied.at_start) == 1, proxied.at_start
    read = proxied.at_start[0]
    assert f"GRAPH <{stamps.META_GRAPH}>" in read  # one small named graph: a constant cost
    assert "COUNT" not in read.upper()


def test_n_client_queries_reach_the_store_as_exactly_n_requests(proxied: Proxied) -> None:
    before = len(proxied.proxy.seen)
    queries = [f"SELECT ?s WHERE {{ ?s a ?class }} LIMIT {n}" for n in range(1, 6)]
    for query in queries:
        status, _ = ask(proxied.server, query)
        assert status == 200
    ask(proxied.server, queries[0])  # answered from the cache
    for path, accept in (
        ("/void", "text/turtle"),
        ("/sparql", "text/turtle"),  # the service description
        ("/", "text/html"),
        ("/queries", "application/json"),
    ):
        get(proxied.server.url + path, accept)
    sent = proxied.proxy.queries()[before:]
    assert len(sent) == len(queries), sent
    assert all(q in text for q, text in zip(queries, sent, strict=True))


# --- 7. the start-up log names the store and the version it holds --------------------------------


def test_the_start_up_log_names_the_store_and_the_version_it_found(proxied: Proxied) -> None:
    log = proxied.server.tail()
    said = (
        f"serving from the store at {proxied.proxy.url}/sparql: it holds dataset version "
        f"{dataset_version(kg_files())} (loaded "
    )
    assert said in log
    assert "as these files" in log


# --- 5. one documented status each ---------------------------------------------------------------


def test_a_slow_store_is_a_504_before_the_engines_own_limit(proxied: Proxied) -> None:
    proxied.proxy.mode, proxied.proxy.delay = "sleep", 5.0
    try:
        began = time.monotonic()
        status, body = ask(proxied.server, "SELECT ?s WHERE { ?s ?p 'slow' }")
        took = time.monotonic() - began
    finally:
        proxied.proxy.mode = "forward"
    assert (status, body["error"]["type"]) == (504, "StoreTimeout"), body
    assert (
        f"the SPARQL store at {proxied.proxy.url}/sparql did not answer within"
        in (body["error"]["message"])
    )
    assert took < 2.0 + 1.0  # the engine's --timeout is 2 s: the store's limit ended first


def test_queries_waiting_on_a_busy_store_keep_their_slots_and_none_is_refused(
    proxied: Proxied, tmp_path: Path
) -> None:
    """One worker: 2 query slots and 2 long-query slots. Six clients at once, each query taking
    the store 0.6 s, past the 0.25 s after which a query evaluated here steps aside: with a store,
    none steps aside, so that none finds the long-query slots full (a 503); they queue for the
    query slots and all answer within the time limit."""
    server = LiveServer(
        ("--store", f"{proxied.proxy.url}/sparql", "--timeout", "20", "--workers", "1"),
        tmp_path / "serve.log",
    ).start()
    proxied.proxy.mode, proxied.proxy.delay = "delay", 0.6
    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            texts = [f"SELECT ?s WHERE {{ ?s a ?class }} LIMIT {n} # busy" for n in range(1, 7)]
            statuses = [status for status, _ in pool.map(lambda q: ask(server, q), texts)]
    finally:
        proxied.proxy.mode = "forward"
        server.stop()
    assert statuses == [200] * 6


def test_a_store_answering_an_error_is_a_502_quoting_it(proxied: Proxied) -> None:
    proxied.proxy.mode = "error"
    try:
        status, body = ask(proxied.server, "SELECT ?s WHERE { ?s ?p 'error' }")
    finally:
        proxied.proxy.mode = "forward"
    assert (status, body["error"]["type"]) == (502, "StoreBadAnswer"), body
    assert "answered 500 Internal Server Error" in body["error"]["message"]
    assert VIRTUOSO_ERROR.decode() in body["error"]["message"]


def test_a_store_that_is_down_is_a_503(proxied: Proxied, virtuoso: Virtuoso) -> None:
    """Last in this module: the proxy stops listening for good (a stopped port)."""
    proxied.proxy.stop()
    status, body = ask(proxied.server, "SELECT ?s WHERE { ?s ?p 'down' }")
    assert (status, body["error"]["type"]) == (503, "StoreUnavailable"), body
    assert (
        f"the SPARQL store at {proxied.proxy.url}/sparql cannot be reached"
        in (body["error"]["message"])
    )


# --- 3. the store knows what it holds ------------------------------------------------------------


def test_load_stamps_the_store_with_the_version_the_counts_and_the_statistics(
    virtuoso: Virtuoso, loaded: Loaded
) -> None:
    found = stamps.read(RemoteStore(virtuoso.sparql))
    assert found is not None
    served = served_dataset()
    assert found.version == dataset_version(kg_files())
    assert found.graphs == stamps.graph_counts(served)
    assert isomorphic(found.statistics, void_statistics(served))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", found.loaded)
    assert f"stamped dataset version {found.version}" in loaded.done.stderr


def test_a_server_whose_files_differ_from_the_store_refuses_to_start(
    virtuoso: Virtuoso, loaded: Loaded, cdkg_script: Path
) -> None:
    mini = [FIXTURES / "data" / "valid.ttl"]
    done = cdkg(cdkg_script, "serve", "--store", virtuoso.sparql, *MINI, "--data", *mini)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line
    ours = dataset_version([*sorted((FIXTURES / "ontology").glob("*.ttl")), *mini])
    assert f"holds dataset version {dataset_version(kg_files())} (loaded" in lines[0]
    assert f"these files are version {ours}" in lines[0]
    assert "cdkg load" in lines[0]
    assert "--serve-store-version" in lines[0]


def test_serve_store_version_serves_what_the_store_holds_and_says_so(
    virtuoso: Virtuoso, loaded: Loaded, tmp_path: Path
) -> None:
    args = (
        *("--store", virtuoso.sparql, "--serve-store-version", *map(str, MINI)),
        *("--data", str(FIXTURES / "data" / "valid.ttl")),
    )
    server = LiveServer(args, tmp_path / "serve.log").start()
    try:
        held = stamps.read(RemoteStore(virtuoso.sparql))
        assert held is not None
        log = server.tail()
        assert f"it holds dataset version {held.version}" in log
        assert "served as it is (--serve-store-version)" in log
        void = get(f"{server.url}/void", "application/n-triples").decode()
        assert f'<http://purl.org/dc/terms/identifier> "{held.version}"' in void
        cdkg_count = held.graphs["https://w3id.org/cdkg/graph/cdkg"]
        assert f'<http://rdfs.org/ns/void#triples> "{cdkg_count}"' in void
        described = get(f"{server.url}/sparql", "application/n-triples").decode()
        for count in held.graphs.values():
            assert f'<http://rdfs.org/ns/void#triples> "{count}"' in described
        assert f'"{held.triples}"^^' in described  # the default graph: all the store holds
        query = (
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/cdkg/graph/cdkg> {?s ?p ?o} }"
        )
        status, body = ask(server, query)
        assert status == 200
        assert int(body["results"]["bindings"][0]["n"]["value"]) == cdkg_count
    finally:
        server.stop()


def test_a_store_without_a_stamp_is_refused(cdkg_script: Path) -> None:
    """A stand-in store that holds nothing: its meta graph is empty."""
    empty = b'{"head": {"vars": ["s", "p", "o"]}, "results": {"bindings": []}}'
    standin = start_standin({"POST": (200, empty, "application/sparql-results+json")})
    try:
        done = cdkg(
            cdkg_script,
            "serve",
            "--store",
            f"{standin.url}/sparql",
            *MINI,
            "--data",
            FIXTURES / "data" / "valid.ttl",
        )
    finally:
        standin.stop()
    assert done.returncode == 2, done.stderr
    assert "holds no cdkg dataset stamp" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# --- 2. large bodies, credentials, and what a refused load says ------------------------------


@dataclasses.dataclass
class Standin:
    """A tiny HTTP server answering each method as told, recording what it received."""

    server: http.server.ThreadingHTTPServer
    seen: list[tuple[str, dict[str, str], int]]
    running: contextlib.ExitStack

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.running.close()


def start_standin(answers: dict[str, tuple[int, bytes, str]], user: str = "") -> Standin:
    """Answers ``answers[method]`` (status, body, media type), after reading the whole body; with
    ``user`` (``name:password``), a Basic challenge to any request without those credentials."""
    seen: list[tuple[str, dict[str, str], int]] = []
    token = "Basic " + base64.b64encode(user.encode()).decode() if user else ""

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            size = len(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            seen.append((self.command, dict(self.headers.items()), size))
            if token and self.headers.get("Authorization") != token:
                status, body, kind = 401, b"who are you?", "text/plain"
            else:
                status, body, kind = answers.get(self.command, (501, b"", "text/plain"))
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="standin"')
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer

        def log_message(self, *args: Any) -> None:
            pass

    running = contextlib.ExitStack()
    server = running.enter_context(serve_in_thread(Handler))
    return Standin(server, seen, running)


def large_body(triples: int) -> bytes:
    return b"".join(
        b'<https://example.org/s%d> <https://example.org/p> "a value that takes some room %d" .\n'
        % (n, n)
        for n in range(triples)
    )


#: This test is about credentials, not speed: a busy machine may take Virtuoso past the default
#: 30 s to load 6 MB, which would fail it for a reason that is not its own.
LARGE_BODY_TIMEOUT = 300.0


def test_a_large_body_goes_with_digest_credentials_and_wrong_ones_are_the_stores_401(
    virtuoso: Virtuoso,
) -> None:
    graph = "https://example.org/graph/large-body"
    body = large_body(60_000)  # 6 MB: far past the sockets' buffers
    wrong = RemoteStore(
        virtuoso.sparql,
        graph_store_url=virtuoso.graph_store,
        user="dba",
        password="wrong",  # noqa: S106
        timeout=LARGE_BODY_TIMEOUT,
    )
    with pytest.raises(StoreBadAnswer) as refused:
        wrong.put_graph(graph, body)
    assert "answered 401 Unauthorized" in refused.value.message
    assert "cannot be reached" not in refused.value.message
    right = RemoteStore(
        virtuoso.sparql,
        graph_store_url=virtuoso.graph_store,
        user="dba",
        password=virtuoso.password,
        timeout=LARGE_BODY_TIMEOUT,
    )
    try:
        right.put_graph(graph, body)
        assert right.count(graph) == 60_000
    finally:
        right.drop_graph(graph)
    assert not right.holds(graph)


def test_a_refused_put_says_what_the_store_answered_and_basic_auth_is_answered(
    virtuoso: Virtuoso, loaded: Loaded, cdkg_script: Path
) -> None:
    """The store (the session's Virtuoso) answers the queries; the Graph Store stand-in asks for
    Basic credentials, takes the DELETE of the stamp and refuses the PUT with a message."""
    refusal = b"Virtuoso 42000 Error SR186: No permission to write the graph"
    standin = start_standin(
        {"DELETE": (404, b"", "text/plain"), "PUT": (500, refusal, "text/plain")},
        user="dba:s3cret",
    )
    try:
        done = cdkg(
            cdkg_script,
            "load",
            "--endpoint",
            virtuoso.sparql,
            "--graph-store",
            f"{standin.url}/sparql-graph-crud",
            "--replace",
            env={"CDKG_STORE_USER": "dba", "CDKG_STORE_PASSWORD": "s3cret"},
        )
    finally:
        standin.stop()
    assert done.returncode == 2, done.stderr
    assert "answered 500 Internal Server Error: " + refusal.decode() in done.stderr
    assert "cannot be reached" not in done.stderr
    puts = [(headers, size) for method, headers, size in standin.seen if method == "PUT"]
    assert len(puts) == 1  # the first refusal stops the load
    headers, size = puts[0]
    assert headers["Authorization"].startswith("Basic ")
    assert size > 64 << 10  # a large body, sent once the credentials were answered


# --- 6. a private instance in one command -----------------------------------------------------


def test_scripts_virtuoso_prints_urls_and_credentials_that_work_with_curl(
    virtuoso: Virtuoso, tmp_path: Path
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is missing")
    assert f"graph store  {virtuoso.graph_store}" in virtuoso.said
    assert f"password     {virtuoso.password}" in virtuoso.said
    assert f"cdkg serve --store {virtuoso.sparql}" in virtuoso.said
    ini = (virtuoso.directory / "virtuoso.ini").read_text()
    assert f"ServerPort           = 127.0.0.1:{virtuoso.http_port}" in ini
    assert f"DatabaseFile       = {virtuoso.directory}/virtuoso.db" in ini
    nt = tmp_path / "one.nt"
    nt.write_text('<https://example.org/s> <https://example.org/p> "o" .\n')
    url = f"{virtuoso.graph_store}?graph=https://example.org/graph/curl"

    def put(password: str) -> str:
        return subprocess.run(
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--digest",
                "-u",
                f"dba:{password}",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/n-triples",
                "--data-binary",
                f"@{nt}",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout

    assert put("wrong") == "401"
    assert put(virtuoso.password) in ("200", "201")
    RemoteStore(
        virtuoso.sparql,
        graph_store_url=virtuoso.graph_store,
        user="dba",
        password=virtuoso.password,
    ).drop_graph("https://example.org/graph/curl")


def test_scripts_virtuoso_says_what_is_wrong_with_its_usage(tmp_path: Path) -> None:
    done = script(["start", "--dir", str(tmp_path), "--http-port", "eighty"], timeout=30)
    assert done.returncode == 2
    assert "eighty is not a whole number" in done.stderr
    assert not (tmp_path / "virtuoso.ini").exists()  # nothing was written
    done = script(["status", "--dir", str(tmp_path)], timeout=30)
    assert (done.returncode, done.stdout.strip()) == (1, f"virtuoso: not running in {tmp_path}")
    done = script(["restart"], timeout=30)
    assert done.returncode == 2
    assert "say start, status or stop" in done.stderr


@pytest.mark.slow
def test_scripts_virtuoso_stops_and_starts_again_with_the_same_password(tmp_path: Path) -> None:
    if not SCRIPT.exists() or shutil.which("virtuoso-t") is None:
        pytest.skip("no Virtuoso")
    first = start_virtuoso(tmp_path)
    try:
        assert script(["status", "--dir", str(tmp_path)], timeout=30).returncode == 0
        first.stop()
        done = script(["status", "--dir", str(tmp_path)], timeout=30)
        assert done.returncode == 1
        second = start_virtuoso(tmp_path)
        assert (second.password, second.http_port) == (first.password, first.http_port)
        assert read_env(tmp_path / "store.env")["CDKG_STORE_PASSWORD"] == first.password
        store = RemoteStore(
            second.sparql, graph_store_url=second.graph_store, user="dba", password=second.password
        )
        store.put_graph("https://example.org/graph/again", large_body(10))
        assert store.count("https://example.org/graph/again") == 10
    finally:
        script(["stop", "--dir", str(tmp_path)], timeout=60)
