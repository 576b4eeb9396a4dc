"""Protocol fuzzing: random and mutated requests must never break the endpoint (issue 7).

Hypothesis builds requests from the canned queries of ``queries/*.rq`` (mutated: cut, spliced,
duplicated, salted with SPARQL tokens and odd characters), random text, random bytes, bad UTF-8
and lone surrogates in the percent-encoding; random ``Accept`` and ``Content-Type`` headers (odd
charsets, huge values); every method; every way to send a body (form, ``application/sparql-query``,
urlencoded garbage, gzip ``Content-Encoding``); bodies from empty to past the body cap. They go to
the app through Flask's test client, and a bounded share, as raw bytes on a socket, to a real
``cdkg serve``.

The pass criteria (:mod:`fuzz_report`): never a 500, every error is our one JSON error shape, no
body ever carries a traceback. The cases tried are counted into ``reports/fuzz.json``.
Set ``FUZZ_EXAMPLES=N`` for a deeper, randomised run.
"""

from __future__ import annotations

import gzip
import http.client
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdkg.canned.registry import Registry
from cdkg.kg.graph import load_dataset
from cdkg.settings import Settings
from cdkg.web import create_app
from endpoint_fixtures import EXTRA_GRAPHS, REPO, LiveServer
from fuzz_report import (
    MAX_BODY,
    TIMEOUT,
    Tally,
    check_error_shape,
    check_response,
    derandomize,
    examples,
)

STORES = ("oxigraph",)
CANNED = tuple(path.read_text(encoding="utf-8") for path in sorted(REPO.glob("queries/*.rq")))
SEEDS = (
    "SELECT * WHERE { ?s ?p ?o } LIMIT 3",
    "ASK {}",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "DESCRIBE <https://example.org/id/alpha>",
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?s HAVING (?n > 1) ORDER BY DESC(?n)",
    "LOAD <file:///etc/passwd>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "SELECT * FROM <file:///etc/hostname> { ?s ?p ?o }",
    "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
)
#: Tokens and characters a mutation inserts: SPARQL keywords and punctuation, escapes, numbers
#: out of range, odd Unicode (NUL, a lone surrogate, right-to-left marks, Persian digits).
TOKENS = (
    "{", "}", "(", ")", "[", "]", '"', "'", '"""', "'''", "<", ">", "#", "\\", ";", ",", ".",
    "*", "?", "$", "@", "^^", "_:b", "a", "?x", "$y", "<>", "<#>", "<urn:x>", "<file:///etc/passwd>",
    "\\u0000", "\\U0010FFFF", "\\uD800", "\\U00110000", "\\", "\\n", "\x00", "\ud800", "\udfff",
    "\u200f", "\ufeff", "\U0001f600", "یک", "۱۲۳", "ي", "1e999", "-0.0e-999", "9" * 400,
    '"NaN"^^<http://www.w3.org/2001/XMLSchema#double>', "'x'@fa-IR", "'x'@", "1 / 0",
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "OPTIONAL", "UNION", "MINUS", "FILTER",
    "BIND(", "VALUES ?x { 1 }", "GRAPH ?g", "SERVICE <http://127.0.0.1:9/>", "SERVICE SILENT",
    "FROM <http://127.0.0.1:9/x>", "FROM NAMED <ftp://127.0.0.1/x>", "LOAD <http://x>",
    "INSERT DATA", "DELETE WHERE", "CLEAR ALL", "PREFIX x: <urn:x#>", "BASE <urn:b>", "x:y",
    "undeclared:y", "LIMIT -1", "LIMIT 99999999999999999999", "OFFSET 18446744073709551617",
    "GROUP BY", "ORDER BY", "HAVING", "COUNT(*)", "SUM(?x)", "REGEX(?x, '(a*)*b')",
    "REPLACE(?x, '', 'y')", "STRDT('1', <urn:t>)", "IRI('::')", "BNODE()", "NOW()", "RAND()",
    "xsd:dateTime('x')", "SUBSTR('abc', -99999999999)", "+", "-", "||", "&&", "!", "=", "!=",
    "<<", ">>", "{|", "|}", "%", "%00", "&query=", "\r\n", "\t", " ",
)  # fmt: skip
CHARSETS = (
    "utf-8", "UTF-8", "utf8", "latin-1", "iso-8859-1", "utf-16", "utf-32", "us-ascii", '"utf-8"',
    "", "x" * 300, "utf-8; charset=latin-1", "unknown", "utf-8\x80", "UTF-8;q=1",
)  # fmt: skip
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
CONTENT_TYPES = (
    FORM, DIRECT, "application/sparql-update", "multipart/form-data; boundary=x",
    "multipart/form-data", "application/json", "text/plain", "text/turtle", "*/*",
    "application/x-www-form-urlencoded;;;", "application/sparql-query/extra", "",
)  # fmt: skip
MEDIA_TYPES = (
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
    "text/tab-separated-values", "text/turtle", "application/n-triples", "application/ld+json",
    "application/rdf+xml", "application/json", "text/html", "text/plain", "*/*", "text/*",
    "application/*", "image/png", "*/json", "*", "", ";", "text/csv;charset=latin-1",
)  # fmt: skip
QUALITIES = ("", ";q=0", ";q=1", ";q=0.5", ";q=2", ";q=-1", ";q=abc", ";q=nan", ";q=1e400", ";q=")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
PATHS = (
    "/sparql", "/sparql/", "/", "/void", "/.well-known/void", "/queries", "/queries/nope",
    "/openapi.json", "/id/town/alpha", "/id/", "/ontology", "/download/cdkg.ttl",
    "/download/cdkg.x", "/views/map", "/views/search", "/wikidata-diff", "/audit", "/nowhere",
    "/source/paper",
    "/sparql//", "//sparql", "/sparql/..", "/%00", "/%ff", "/static/../../etc/passwd",
)  # fmt: skip
PARAM_NAMES = (
    "query", "query", "query", "update", "default-graph-uri", "named-graph-uri", "format",
    "Query", "query[]", "", "q",
)  # fmt: skip
#: Bytes that are not UTF-8: a lone surrogate (ED A0 80), an overlong NUL, a stray continuation
#: byte, a truncated sequence, a code point past U+10FFFF.
BAD_UTF8 = (b"\xed\xa0\x80", b"\xc0\x80", b"\x80", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\xff\xfe")
#: Percent-encoding gone wrong.
BAD_ESCAPES = ("%", "%z", "%zz", "%e", "%%", "%u0041", "%ED%A0%80", "%C0%80", "+", "%2", "&&", "==")


# --- strategies ---------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A canned query or a seed, cut, spliced, duplicated and salted with tokens."""
    text = draw(st.sampled_from(CANNED + SEEDS))
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 300)))
        how = draw(st.sampled_from(("delete", "insert", "duplicate", "truncate", "replace")))
        if how == "delete":
            text = text[:i] + text[j:]
        elif how == "insert":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif how == "duplicate":
            text = text[:j] + text[i:j] * draw(st.integers(1, 20)) + text[j:]
        elif how == "truncate":
            text = text[:i]
        else:
            text = text[:i] + draw(st.text(max_size=20)) + text[j:]
    return text


def token_soup() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)


QUERY_TEXT = st.one_of(
    mutated(), mutated(), token_soup(), st.text(max_size=200), st.sampled_from(SEEDS)
)


def utf8(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate as its (invalid) three bytes."""
    return text.encode("utf-8", "surrogatepass")


#: A parameter value or a body, as bytes: query text, random bytes, or text spiked with bad UTF-8.
VALUE_BYTES = st.one_of(
    QUERY_TEXT.map(utf8),
    QUERY_TEXT.map(utf8),
    st.binary(max_size=200),
    st.tuples(QUERY_TEXT.map(utf8), st.sampled_from(BAD_UTF8), st.integers(0, 200)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
    ),
)


@st.composite
def encoded(draw: st.DrawFn, value: bytes) -> str:
    """``value`` percent-encoded, sometimes with broken escapes spliced in."""
    text = quote_from_bytes(value, safe=draw(st.sampled_from(("", "/:?=", " {}<>"))))
    if draw(st.booleans()):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(BAD_ESCAPES)) + text[i:]
    return text


@st.composite
def urlencoded(draw: st.DrawFn) -> str:
    """A query string or a form body: a few name=value pairs, or urlencoded garbage."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80))
    pairs = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=8)))
        value = draw(encoded(draw(VALUE_BYTES)))
        pairs.append(f"{quote_from_bytes(utf8(name), safe='')}={value}")
    return "&".join(pairs)


def header_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """A header value the test client can carry: printable Latin-1, no CR or LF."""
    return st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=max_size,
    )


@st.composite
def accept(draw: st.DrawFn) -> str | None:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return None
    if kind == 1:
        return draw(header_text())
    if kind == 2:  # huge
        return ",".join([draw(st.sampled_from(MEDIA_TYPES))] * draw(st.integers(500, 3000)))
    ranges = draw(st.lists(st.sampled_from(MEDIA_TYPES), min_size=1, max_size=5))
    return ", ".join(r + draw(st.sampled_from(QUALITIES)) for r in ranges)


@st.composite
def content_type(draw: st.DrawFn) -> str | None:
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return None
    if kind == 1:
        return draw(header_text())
    media = draw(st.sampled_from(CONTENT_TYPES))
    if draw(st.booleans()):
        media += "; charset=" + draw(st.sampled_from(CHARSETS))
    if kind == 2:  # huge
        media += "; x=" + "y" * draw(st.integers(1000, 20000))
    return media


@dataclass
class Req:
    """One fuzzed HTTP request."""

    method: str
    path: str  # with the query string; ASCII
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __repr__(self) -> str:  # hypothesis prints the falsifying example
        body = self.body[:300] + (b"..." if len(self.body) > 300 else b"")
        headers = {k: (v[:200] + "...") if len(v) > 200 else v for k, v in self.headers.items()}
        return f"Req({self.method} {self.path[:300]!r} {headers!r} {body!r} ({len(self.body)} B))"


@st.composite
def requests(draw: st.DrawFn) -> Req:
    """A request: mostly to /sparql, any method, any headers, any body."""
    method = draw(st.sampled_from(("GET", "POST", "POST", *METHODS)))
    path = draw(st.sampled_from(("/sparql",) * 8 + PATHS))
    query_string = draw(urlencoded()) if draw(st.booleans()) else ""
    if query_string:
        path += "?" + query_string
    headers: dict[str, str] = {}
    for name, value in (("Accept", draw(accept())), ("Content-Type", draw(content_type()))):
        if value is not None:
            headers[name] = value
    kind = draw(st.sampled_from(("none", "form", "direct", "bytes")))
    body = b""
    if kind == "form":
        body = draw(urlencoded()).encode("ascii")
        headers.setdefault("Content-Type", FORM)
    elif kind == "direct":
        body = draw(VALUE_BYTES)
        headers.setdefault("Content-Type", DIRECT)
    elif kind == "bytes":
        body = draw(st.binary(max_size=300))
    if draw(st.integers(0, 4)) == 0:  # empty to well past the cap
        size = draw(st.integers(0, 3 * MAX_BODY))
        filler = b"&pad=" if kind == "form" else b" "
        body = (body + filler + b"x" * size)[: max(size, len(body))]
    encoding = draw(st.sampled_from((None,) * 6 + ("gzip", "deflate", "br", "gzip, gzip", "x")))
    if encoding is not None:
        headers["Content-Encoding"] = encoding
        if encoding.startswith("gzip") and draw(st.booleans()):
            body = gzip.compress(body)
    for name in draw(st.lists(st.sampled_from(("Origin", "If-None-Match", "Range")), max_size=2)):
        headers[name] = draw(header_text())
    if method == "OPTIONS" and draw(st.booleans()):
        headers["Access-Control-Request-Method"] = draw(st.sampled_from(METHODS))
    return Req(method, path, headers, body)


FUZZ = settings(
    max_examples=examples(350),
    deadline=None,
    derandomize=derandomize(),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- through the app ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(max_body=MAX_BODY, timeout=TIMEOUT).test_client()


@pytest.fixture(scope="module", params=STORES)
def store_client(request: pytest.FixtureRequest, endpoint_files: list[Path]) -> FlaskClient:
    """The app on the made-up graphs, on each store (``--store``)."""
    store: str = request.param
    settings = Settings(graphs=EXTRA_GRAPHS, max_body=MAX_BODY, timeout=TIMEOUT, store=store)
    dataset = load_dataset(EXTRA_GRAPHS, endpoint_files, store=store)
    app = create_app(settings, dataset, files=endpoint_files, queries=Registry({}))
    app.config["cdkg.test.store"] = store
    return app.test_client()


@FUZZ
@given(req=requests())
def test_no_request_breaks_the_app(fuzz_client: FlaskClient, tally: Tally, req: Req) -> None:
    started = time.monotonic()
    response = fuzz_client.open(req.path, method=req.method, headers=req.headers, data=req.body)
    tally.count("test_fuzz_protocol.py::test_no_request_breaks_the_app", response.status_code)
    tally.timed("test_fuzz_protocol.py::test_no_request_breaks_the_app", started)
    check_response(response.status_code, response.content_type, response.data, method=req.method)


@settings(FUZZ, max_examples=examples(200))
@given(query=QUERY_TEXT, how=st.sampled_from(("get", "form", "direct")), accept=accept())
def test_no_query_text_breaks_the_app(
    store_client: FlaskClient, tally: Tally, query: str, how: str, accept: str | None
) -> None:
    """Well-formed requests, fuzzed query texts: the parser, the guard and the engine, on
    each store."""
    fuzz_client = store_client
    store = fuzz_client.application.config["cdkg.test.store"]
    test = f"test_fuzz_protocol.py::test_no_query_text_breaks_the_app[{store}]"
    started = time.monotonic()
    headers = {"Accept": accept} if accept is not None else {}
    value = quote_from_bytes(utf8(query), safe="")
    if how == "get":
        response = fuzz_client.get(f"/sparql?query={value}", headers=headers)
    elif how == "form":
        headers["Content-Type"] = FORM
        response = fuzz_client.post("/sparql", data=f"query={value}", headers=headers)
    else:
        headers["Content-Type"] = DIRECT
        response = fuzz_client.post("/sparql", data=utf8(query), headers=headers)
    tally.count(test, response.status_code)
    tally.timed(test, started)
    check_response(response.status_code, response.content_type, response.data)


# --- a real server, raw bytes on a socket -------------------------------------------------------


def raw_request(
    server: LiveServer, data: bytes, method: str = "GET", timeout: float = 30
) -> http.client.HTTPResponse:
    """Send ``data`` as it is and read the answer (the body too, before the socket closes)."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    try:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        response.body = response.read()  # type: ignore[attr-defined]
        return response
    finally:
        sock.close()


def wire(req: Req, raw_target: bytes | None, chunked: bool) -> bytes:
    """``req`` as HTTP/1.1 bytes; ``raw_target`` replaces the path with unencoded bytes."""
    # a space would split the request line: waitress's own error, see the xfail test below
    target = raw_target if raw_target is not None else req.path.replace(" ", "%20").encode()
    lines = [req.method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [f"{k}: {v}".encode("latin-1") for k, v in req.headers.items()]
    lines.append(b"Connection: close")
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        body = b"".join(
            b"%x\r\n%s\r\n" % (len(part), part)
            for part in (req.body[i : i + 1000] for i in range(0, len(req.body), 1000))
        )
        body += b"0\r\n\r\n"
    else:
        lines.append(b"Content-Length: %d" % len(req.body))
        body = req.body
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@settings(FUZZ, max_examples=examples(150))
@given(
    req=requests(),
    raw_target=st.one_of(
        st.none(),
        st.none(),
        st.tuples(st.sampled_from((b"/sparql", b"/id/")), st.binary(max_size=200)).map(
            lambda t: t[0] + b"?query=" + bytes(b for b in t[1] if 0x21 <= b <= 0x7E)
        ),
    ),
    chunked=st.booleans(),
)
def test_no_request_breaks_a_real_server(
    fuzz_server: LiveServer, tally: Tally, req: Req, raw_target: bytes | None, chunked: bool
) -> None:
    """The same requests on the wire, some with raw (unencoded) ASCII in the target and some
    with chunked bodies: waitress and the app together."""
    started = time.monotonic()
    response = raw_request(fuzz_server, wire(req, raw_target, chunked), req.method)
    body: bytes = response.body  # type: ignore[attr-defined]
    tally.count("test_fuzz_protocol.py::test_no_request_breaks_a_real_server", response.status)
    tally.timed("test_fuzz_protocol.py::test_no_request_breaks_a_real_server", started)
    check_response(response.status, response.getheader("Content-Type"), body, method=req.method)
    assert fuzz_server.alive(), fuzz_server.tail()


@pytest.mark.parametrize(
    "target",
    [
        b"/sparql?query=ASK%7B%7D\xff",
        b"/sparql?query=\xd8\xa7",
        b"/\xed\xa0\x80",
        b"/sparql?query=ASK {}",
    ],
)
def test_a_request_line_waitress_cannot_parse_gets_our_json_error(
    fuzz_server: LiveServer, target: bytes
) -> None:
    """Found by the fuzzing: bytes that are not ASCII, or a space, in the request target (no
    client should send them, some do) reach waitress's own parser, which answered in plain text;
    cdkg.web.server now answers them in the JSON error shape."""
    response = raw_request(
        fuzz_server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    body: bytes = response.body  # type: ignore[attr-defined]
    check_response(response.status, response.getheader("Content-Type"), body)


def test_the_fuzzed_server_still_answers(fuzz_server: LiveServer) -> None:
    response = raw_request(
        fuzz_server, b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert response.status == 200
    assert b'"boolean": true' in response.body or b'"boolean":true' in response.body  # type: ignore[attr-defined]
    log = fuzz_server.tail(100_000)
    assert "Traceback" not in log, log


def test_check_error_shape_rejects_other_shapes() -> None:
    """The criterion itself bites: a bare message or a missing field is not our shape."""
    with pytest.raises(AssertionError):
        check_error_shape(400, b'{"message": "bad"}')
    with pytest.raises(AssertionError):
        check_error_shape(400, b'{"error": {"status": 400, "type": "X", "message": "m"}}')
    check_error_shape(
        400, b'{"error": {"status": 400, "type": "X", "message": "m", "hint": null, "spec": null}}'
    )


# --- what the fuzzing found -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["N\x14\U000467cb\xc0\xa9", "relative/graph", "", "http://a:b/"])
@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"])
def test_a_graph_parameter_that_is_no_iri_is_a_bad_parameter(
    store_client: FlaskClient, name: str, value: str
) -> None:
    """Regression (schemathesis, GET /sparql): ``default-graph-uri`` that is no IRI reached the
    Oxigraph store, whose ``NamedNode`` raised ValueError: a 500. Now the protocol layer checks
    each graph IRI as the store does: a 400 naming the parameter, on every store."""
    query = quote_from_bytes(b"ASK {}", safe="")
    graph = quote_from_bytes(utf8(value), safe="")
    response = store_client.get(f"/sparql?query={query}&{name}={graph}")
    check_response(response.status_code, response.content_type, response.data)
    assert response.status_code == 400
    assert response.json["error"]["type"] == "BadParameter"
    assert name in response.json["error"]["message"]
