"""SERVICE calls (SPARQL 1.1 Federated Query), allowed only to allow-listed endpoints, each under
its own time limit: https://www.w3.org/TR/sparql11-federated-query/

rdflib evaluates ``SERVICE <url> { ... }`` by calling ``urlopen`` (in
``rdflib.plugins.sparql.evaluate``) with the remote query, and sends one request per solution of
the patterns before it when the join is lazy (a "bound join": the solution goes along as a
``VALUES`` block). While a query is evaluated, :func:`guarded_services` puts :func:`call` in
urlopen's place. It is the second line of defence behind the guard (:mod:`cdkg.sparql.guard`
refuses a SERVICE off the allow-list before evaluation, 403), and what gives each call its limits:

- only a URL on the allow-list (exactly, or followed by ``?`` and the query) is opened; nothing
  else is ever contacted, and redirects are not followed (a redirect could leave the list);
- each call gets ``min(--service-timeout, what remains of the query's --timeout)``, less a margin
  to report the failure: the connection, every read and the whole answer are bounded by it, so a
  SERVICE call never outlives its query. Past it: 504 Gateway Timeout;
- a refused connection, an HTTP status other than 200, or an answer that is not SPARQL JSON
  results: 502 Bad Gateway. Nothing from the remote side is trusted further than that.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rdflib.plugins.sparql import evaluate as rdflib_evaluate
from rdflib.plugins.sparql.parserutils import CompValue

from cdkg.errors import BadGateway, Forbidden, GatewayTimeout
from cdkg.sparql.fullread import walk

#: Seconds kept back from the query's deadline, so that a SERVICE failure is reported as one
#: before the worker is stopped for the query's time limit.
MARGIN = 0.5
#: Largest answer read from a remote endpoint.
MAX_ANSWER_BYTES = 32 << 20


@dataclass(frozen=True)
class Answer:
    """What rdflib reads from a SERVICE response: its status and its body."""

    status: int
    body: bytes

    def read(self) -> bytes:
        return self.body


def allowed_url(url: str, allowed: Sequence[str]) -> bool:
    """Whether ``url`` is an allow-listed endpoint, bare or with a query string."""
    return any(url == a or url.startswith(a + "?") for a in allowed)


def call(request: Any, allowed: Sequence[str], deadline: float, service_timeout: float) -> Answer:
    """Send rdflib's SERVICE ``request`` (a ``urllib.request.Request``) under the limits above."""
    url = str(getattr(request, "full_url", request))
    endpoint = url.split("?", 1)[0]
    if not allowed_url(url, allowed):
        raise Forbidden(f"SERVICE call to {endpoint} refused (not allow-listed)")
    start = time.monotonic()
    limit = min(service_timeout, deadline - start - MARGIN)
    if limit <= 0:
        raise GatewayTimeout(
            f"no time was left for the SERVICE call to <{endpoint}>",
            hint="the query's own time limit ran out first; narrow the query or call fewer "
            "SERVICEs; the operator can raise --timeout",
        )
    end = start + limit
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=limit)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = dict(request.header_items()) if hasattr(request, "header_items") else {}
    data = getattr(request, "data", None)
    if data is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        connection.request("POST" if data is not None else "GET", target, data, headers)
        response = connection.getresponse()
        body = _read_bounded(response, connection, end, endpoint)
    except TimeoutError:
        raise GatewayTimeout(
            f"SERVICE <{endpoint}> did not answer within {limit:.1f} s",
            hint="the limit is --service-timeout, or what remained of the query's --timeout; "
            "narrow the SERVICE pattern",
        ) from None
    except (OSError, http.client.HTTPException) as err:
        raise BadGateway(
            f"SERVICE <{endpoint}> failed: {err or type(err).__name__}",
            hint="check that the remote endpoint is up and speaks the SPARQL 1.1 Protocol",
        ) from None
    finally:
        connection.close()
    if response.status != 200:
        raise BadGateway(
            f"SERVICE <{endpoint}> answered HTTP {response.status}",
            hint="the remote endpoint refused or failed the query sent to it",
        )
    _check_results(body, endpoint)
    return Answer(200, body)


def _read_bounded(
    response: http.client.HTTPResponse,
    connection: http.client.HTTPConnection,
    end: float,
    endpoint: str,
) -> bytes:
    """The whole body, each read bounded by the time left until ``end`` (TimeoutError past it)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
        chunk = response.read1(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise BadGateway(
                f"SERVICE <{endpoint}> answered more than {MAX_ANSWER_BYTES >> 20} MiB",
                hint="narrow the SERVICE pattern",
            )
        chunks.append(chunk)


def _check_results(body: bytes, endpoint: str) -> None:
    """Refuse an answer that is not SPARQL 1.1 JSON results (rdflib would fail on it)."""
    try:
        parsed = json.loads(body)
        ok = isinstance(parsed["head"]["vars"], list) and isinstance(
            parsed["results"]["bindings"], list
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise BadGateway(
            f"SERVICE <{endpoint}> did not answer in SPARQL JSON results",
            hint="see https://www.w3.org/TR/sparql11-results-json/",
        )


@contextmanager
def guarded_services(
    allowed: Sequence[str], deadline: float, service_timeout: float
) -> Iterator[None]:
    """While evaluating, rdflib's SERVICE client is :func:`call`, with these limits."""
    real = rdflib_evaluate.urlopen  # type: ignore[attr-defined]

    def urlopen(request: Any, *args: Any, **kwargs: Any) -> Answer:
        return call(request, allowed, deadline, service_timeout)

    rdflib_evaluate.urlopen = urlopen  # type: ignore[attr-defined,assignment]
    try:
        yield
    finally:
        rdflib_evaluate.urlopen = real  # type: ignore[attr-defined]


def join_bgps_lazily(algebra: CompValue) -> int:
    """Evaluate every join whose right side is a basic graph pattern (or a SERVICE) once per left
    solution.

    rdflib marks a Join lazy only when neither side holds another Join, so a group such as
    ``{ triples VALUES ... more triples }`` evaluates ``more triples`` on its own, as a cross
    product, then joins: a canned query of this shape took 378 s instead of 0.7 s. Substituting
    each left solution into a BGP and matching it is exactly the join of the two (a BGP has no
    FILTER, OPTIONAL or scope of its own), so the answer is the same. Returns how many joins
    were changed.

    A SERVICE on the right becomes a bound join: rdflib sends each left solution along as a
    ``VALUES`` block, so the remote endpoint is asked about our items only, not about all of its
    data (the answer is the same join).
    """
    changed = 0
    for node in walk(algebra):
        right = dict.get(node, "p2")
        is_bgp = isinstance(right, CompValue) and right.name in ("BGP", "ServiceGraphPattern")
        if node.name == "Join" and is_bgp and not dict.get(node, "lazy"):
            node["lazy"] = True
            changed += 1
    return changed
