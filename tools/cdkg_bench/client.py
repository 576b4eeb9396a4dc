"""The benchmarks' HTTP client: one SPARQL request POSTed as a form to a loopback port, the rows
of its answer, and query texts made ready for another server or made new (standard library
only)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Sequence

ACCEPT = "application/sparql-results+json"
#: What the benchmarks ask for a CONSTRUCT or DESCRIBE: a triple a line, so rows are lines.
NTRIPLES = "application/n-triples"
#: Seconds a client waits for one answer before counting a timeout.
CLIENT_TIMEOUT = 60.0


def post(
    port: int,
    path: str,
    query: str,
    *,
    connection: http.client.HTTPConnection | None = None,
    timeout: float = CLIENT_TIMEOUT,
    accept: str = ACCEPT,
    fields: Sequence[tuple[str, str]] = (),
) -> tuple[int, bytes]:
    """POST ``query`` as a form to ``path`` on the loopback ``port``, with the form's other
    ``fields`` (e.g. ``default-graph-uri``): (status, body)."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body=urllib.parse.urlencode([("query", query), *fields]),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if connection is None:
            conn.close()


def rows(body: bytes, accept: str = ACCEPT) -> int:
    """Rows of an answer: bindings of a SPARQL JSON answer (1 for ASK), or the triples of an
    N-Triples one (a triple a line)."""
    if accept == NTRIPLES:
        return sum(1 for line in body.splitlines() if line.strip())
    answer = json.loads(body)
    if "boolean" in answer:
        return 1
    return len(answer["results"]["bindings"])


def unique_text(text: str, n: int | str) -> str:
    """``text`` made new by a numbered comment: no server can answer it from a cache."""
    return f"{text}\n# bench request {n}\n"
