"""An external SPARQL 1.1 store, reached over HTTP: :class:`RemoteStore`.

Queries go by the SPARQL 1.1 Protocol (query via URL-encoded POST, §2.1.2), always with the
dataset named by ``default-graph-uri`` / ``named-graph-uri`` (§2.1.4), so the store answers over
our graphs only, never over what else it holds (an empty Virtuoso has ~5,600 triples of its own).
Answers are read by :mod:`cdkg.sparql.store_answers`: a SELECT's as TSV results written by
Oxigraph (:meth:`RemoteStore.select`), which the engine writes as it writes its own; the others, and
cdkg's own reads (the stamp, the counts), into the dict rdflib's ``evalQuery`` returns, which
:func:`cdkg.engine.evaluate.write_evaluated` writes.
Writes go by SPARQL 1.1 Update (``INSERT DATA``, ``CLEAR``, ``DROP``) or the Graph Store HTTP
Protocol (``PUT``, ``DELETE``); :mod:`cdkg.kg.publish` uses them.

What a failure becomes: a store that cannot be reached is :class:`StoreUnavailable` (503), one
that answers an error, a redirect or something unreadable is :class:`StoreBadAnswer` (502, quoting
its status and message), one that takes longer than ``timeout`` (or than the query's deadline
allows, less :func:`store_budget`'s margin) is :class:`StoreTimeout` (504). Each names the URL.
Redirects are never followed: a store that moved is reported with where it says it went.
"""

from __future__ import annotations

import io
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from email.message import Message
from http.client import HTTPResponse
from typing import Any
from urllib.response import addinfourl

from rdflib import Variable

from cdkg.errors import SPARQL_PROTOCOL, StoreBadAnswer, StoreTimeout, StoreUnavailable
from cdkg.sparql.auth import PREFLIGHT_ABOVE, Credentials
from cdkg.sparql.prefixes import with_prefixes
from cdkg.sparql.store_answers import (
    GRAPH_ACCEPT,
    RESULTS_ACCEPT,
    bad,
    bindings,
    read_graph,
    results_json,
    select_parts,
    select_tsv,
)

__all__ = ["RemoteStore", "StoreBadAnswer", "StoreTimeout", "StoreUnavailable", "store_budget"]

PROTOCOL_DATASET = f"{SPARQL_PROTOCOL}#dataset"
GRAPH_STORE_SPEC = "https://www.w3.org/TR/sparql11-http-rdf-update/"
#: Default time limit of one request, in seconds.
DEFAULT_TIMEOUT = 30.0
#: What a query's store request leaves of the time before its deadline: a tenth of it, at most
#: half a second. The store's limit must end first, so that the engine child still has the time
#: to report the slow store (504), before the engine's own limit stops the query (503) and the
#: client learns only that it ran too long.
MARGIN_SHARE = 0.1
MARGIN_MAX = 0.5
#: Largest answer read from the store; a larger one is a bad answer, not a memory blow-up.
MAX_ANSWER_BYTES = 512 << 20
#: Virtuoso's header on an "anytime" answer: its own time limit cut the query, the rows are partial.
VIRTUOSO_PARTIAL = "X-SQL-State"
#: Virtuoso's header on an answer cut at its ``ResultSetMaxRows``: the limit.
VIRTUOSO_MAX_ROWS = "X-SPARQL-MaxRows"
#: How much of an error body from the store is quoted in our message.
QUOTE_CHARS = 400


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the 3xx reaches us as an HTTPError and is reported."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class RemoteStore:
    """A SPARQL 1.1 Protocol client for one store.

    ``query_url`` answers queries; ``update_url`` (SPARQL 1.1 Update) and ``graph_store_url``
    (the Graph Store HTTP Protocol) take writes. ``user`` and ``password`` are sent by HTTP
    Digest or Basic authentication, whichever the store asks for (Virtuoso's ``/sparql-auth``
    and ``/sparql-graph-crud-auth`` ask for Digest). ``timeout`` bounds each request, in seconds.

    ``max_rows`` is the row cap the caller applies to answers (``--max-rows``). A store that cuts
    an answer at its own row limit (Virtuoso's ``ResultSetMaxRows``, flagged by an
    ``X-SPARQL-MaxRows`` header) is refused unless it cut above ``max_rows``, where the caller's
    cap cuts anyway and says so: an answer cut short must never pass for a complete one.
    """

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        graph_store_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_rows: int | None = None,
    ) -> None:
        for url in (query_url, update_url, graph_store_url):
            if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise StoreUnavailable(
                    f"{url!r} is not an http(s) URL",
                    hint="give the full URL of the store's endpoint, e.g. "
                    "http://localhost:8890/sparql",
                )
        self.query_url = query_url
        self.update_url = update_url
        self.graph_store_url = graph_store_url
        self.timeout = timeout
        self.max_rows = max_rows
        self._credentials: Credentials | None = None
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        self._plain = urllib.request.build_opener(*handlers)
        if user is not None:
            urls = [url for url in (query_url, update_url, graph_store_url) if url is not None]
            self._credentials = Credentials(user, password or "", urls)
            handlers += self._credentials.handlers()
        self._opener = urllib.request.build_opener(*handlers)

    # -- queries ------------------------------------------------------------------------------

    def evaluate(
        self,
        text: str,
        form: str,
        default_graphs: Sequence[str],
        named_graphs: Sequence[str],
        *,
        base: str | None = None,
        deadline: float = math.inf,
    ) -> Mapping[str, Any]:
        """Run the query ``text`` (of ``form``: SELECT, ASK, CONSTRUCT or DESCRIBE, as the guard
        read it) over exactly these graphs; the result as rdflib's ``evalQuery`` gives it. The
        store gets ``timeout`` seconds, or less: what :func:`store_budget` leaves before
        ``deadline`` (a ``time.monotonic()``)."""
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        accept = GRAPH_ACCEPT if graph_form else RESULTS_ACCEPT
        media_type, body, headers = self._query(
            text, accept, default_graphs, named_graphs, base=base, deadline=deadline
        )
        if graph_form:
            graph = read_graph(self.query_url, media_type, body)
            self._check_not_cut(headers, len(graph))
            return {"type_": "CONSTRUCT", "graph": graph}
        doc = results_json(self.query_url, media_type, body)
        if form == "ASK":
            answer = doc.get("boolean")
            if not isinstance(answer, bool):
                raise bad(self.query_url, "an ASK answer without a boolean")
            return {"type_": "ASK", "askAnswer": answer}
        names, rows = select_parts(self.query_url, doc)
        self._check_not_cut(headers, len(rows))
        return {
            "type_": "SELECT",
            "vars_": [Variable(name) for name in names],
            "bindings": list(bindings(self.query_url, rows)),
        }

    def select(
        self,
        text: str,
        default_graphs: Sequence[str],
        named_graphs: Sequence[str],
        *,
        base: str | None = None,
        deadline: float = math.inf,
    ) -> bytes:
        """Run the SELECT query ``text`` as :meth:`evaluate` does; its answer as TSV results
        written by Oxigraph (:func:`cdkg.sparql.store_answers.select_tsv`), never as rdflib
        terms: the engine writes it as it writes its own."""
        media_type, body, headers = self._query(
            text, RESULTS_ACCEPT, default_graphs, named_graphs, base=base, deadline=deadline
        )
        tsv = select_tsv(self.query_url, media_type, body)
        self._check_not_cut(headers, tsv.count(b"\n") - 1)
        return tsv

    def _query(
        self,
        text: str,
        accept: str,
        default_graphs: Sequence[str],
        named_graphs: Sequence[str],
        *,
        base: str | None,
        deadline: float,
    ) -> tuple[str, bytes, Message]:
        budget = store_budget(self.timeout, deadline)
        if budget <= 0:
            raise self._timeout(self.query_url, 0.0)
        fields = [("query", with_prefixes(text, base))]
        fields += [("default-graph-uri", iri) for iri in default_graphs]
        fields += [("named-graph-uri", iri) for iri in named_graphs]
        return self._send(
            self.query_url, urllib.parse.urlencode(fields).encode(), _FORM, accept, timeout=budget
        )

    def _check_not_cut(self, headers: Message, rows: int) -> None:
        limit = headers.get(VIRTUOSO_MAX_ROWS, "")
        if not limit.isdigit() or rows < int(limit):
            return
        if self.max_rows is not None and int(limit) > self.max_rows:
            return  # the caller's own cap cuts this answer, and says so
        raise StoreBadAnswer(
            f"the SPARQL store at {self.query_url} cut the answer at its own row limit, "
            f"{limit} rows",
            hint="raise the store's row limit above cdkg's --max-rows (Virtuoso: "
            "ResultSetMaxRows in virtuoso.ini), or narrow the query (LIMIT, FILTER)",
        )

    def holds(self, graph: str) -> bool:
        """Whether the named graph ``graph`` holds any triple on the store (an ASK: it stops at
        the first)."""
        text = f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        return bool(self.evaluate(text, "ASK", (), (graph,))["askAnswer"])

    def count(self, graph: str) -> int:
        """How many triples the named graph ``graph`` holds on the store."""
        result = self.evaluate(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
            "SELECT",
            (),
            (graph,),
        )
        rows = list(result["bindings"])
        try:
            return int(rows[0][Variable("n")])
        except (IndexError, KeyError, ValueError):
            raise bad(self.query_url, f"no triple count for <{graph}>") from None

    # -- writes -------------------------------------------------------------------------------

    def update(self, text: str) -> None:
        """Send a SPARQL 1.1 Update request (``update_url``; §2.2.1, URL-encoded POST)."""
        url = self.update_url or self.query_url
        body = urllib.parse.urlencode({"update": text}).encode()
        self._send(url, body, _FORM, "*/*")

    def put_graph(self, graph: str, ntriples: bytes) -> None:
        """Replace the named graph ``graph`` with these N-Triples (Graph Store HTTP Protocol
        §5.3, ``PUT ?graph=``)."""
        self._send(self._graph_url(graph), ntriples, "application/n-triples", "*/*", method="PUT")

    def post_graph(self, graph: str, ntriples: bytes) -> None:
        """Add these N-Triples to the named graph ``graph`` (Graph Store HTTP Protocol §5.5,
        ``POST ?graph=``: merged into it)."""
        self._send(self._graph_url(graph), ntriples, "application/n-triples", "*/*")

    def drop_graph(self, graph: str) -> None:
        """Remove the named graph ``graph``, if the store holds it: a Graph Store ``DELETE``
        (§5.4; its 404 for a graph not there is no failure), else SPARQL 1.1 Update's ``DROP
        SILENT``."""
        if self.graph_store_url is None:
            self.update(f"DROP SILENT GRAPH <{graph}>")
            return
        try:
            self._send(self._graph_url(graph), b"", "application/n-triples", "*/*", method="DELETE")
        except StoreBadAnswer as err:
            if err.http_status != 404:
                raise

    def _graph_url(self, graph: str) -> str:
        if self.graph_store_url is None:
            raise StoreUnavailable(
                "no Graph Store HTTP Protocol endpoint configured", spec=GRAPH_STORE_SPEC
            )
        separator = "&" if "?" in self.graph_store_url else "?"
        return f"{self.graph_store_url}{separator}{urllib.parse.urlencode({'graph': graph})}"

    # -- HTTP ---------------------------------------------------------------------------------

    def _send(
        self,
        url: str,
        body: bytes,
        content_type: str,
        accept: str,
        *,
        method: str = "POST",
        timeout: float | None = None,
    ) -> tuple[str, bytes, Message]:
        """One request; the answer's media type, body and headers, or the error saying what
        failed."""
        timeout = self.timeout if timeout is None else timeout
        sent = {"Content-Type": content_type, "Accept": accept, "User-Agent": "cdkg"}
        request = urllib.request.Request(  # noqa: S310 - __init__ admits http(s) URLs only
            url, data=body, headers=sent, method=method
        )
        deadline = time.monotonic() + timeout
        try:
            if self._credentials is not None and len(body) > PREFLIGHT_ABOVE:
                self._credentials.authorize(self._plain, request, timeout)
            with self._opener.open(request, timeout=timeout) as response:
                media_type = response.headers.get_content_type()
                answer = self._read(url, response, deadline, timeout)
                headers: Message = response.headers
        except urllib.error.HTTPError as err:
            with err:  # it holds the connection open
                raise self._http_error(url, err) from None
        except (TimeoutError, urllib.error.URLError, OSError) as err:
            raise self._unreachable(url, err, len(body), timeout) from None
        partial = headers.get(VIRTUOSO_PARTIAL)
        if partial:
            why = headers.get("X-SQL-Message", "no message")
            raise StoreTimeout(
                f"the SPARQL store at {url} sent a partial answer ({VIRTUOSO_PARTIAL}: {partial}, "
                f"{why})",
                hint="the store's own time limit cut the query short; raise it (Virtuoso: "
                "MaxQueryExecutionTime in virtuoso.ini) or simplify the query",
            )
        return media_type, answer, headers

    def _unreachable(
        self, url: str, err: OSError, sent: int, timeout: float
    ) -> StoreUnavailable | StoreTimeout:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        if isinstance(reason, TimeoutError):
            return self._timeout(url, timeout)
        if isinstance(reason, ConnectionResetError | BrokenPipeError) and sent > PREFLIGHT_ABOVE:
            return StoreUnavailable(
                f"the SPARQL store at {url} closed the connection while cdkg sent the request's "
                f"{sent:,} bytes ({reason}), before it answered",
                hint="the store refused the request before reading all of it; its own log says "
                "why (Virtuoso: virtuoso.log in its database directory): often a limit on the "
                "size of a request, or the store running out of memory",
            )
        return StoreUnavailable(
            f"the SPARQL store at {url} cannot be reached: {reason}",
            hint="check that the store is running and the URL (host, port, path) is right; "
            "a firewall or proxy between cdkg and the store can also refuse the connection",
        )

    def _read(
        self, url: str, response: HTTPResponse | addinfourl, deadline: float, timeout: float
    ) -> bytes:
        """The whole body, in chunks, so that a store trickling bytes still meets the deadline."""
        out = io.BytesIO()
        while chunk := response.read(1 << 16):
            out.write(chunk)
            if out.tell() > MAX_ANSWER_BYTES:
                raise bad(url, f"an answer larger than {MAX_ANSWER_BYTES >> 20} MiB")
            if time.monotonic() > deadline:
                raise self._timeout(url, timeout)
        return out.getvalue()

    def _timeout(self, url: str, timeout: float) -> StoreTimeout:
        return StoreTimeout(
            f"the SPARQL store at {url} did not answer within {timeout:.3g} s",
            hint="the store may be overloaded, or the query too costly for it; retry later, or "
            "raise the time limit (--timeout)",
        )

    def _http_error(self, url: str, err: urllib.error.HTTPError) -> StoreBadAnswer:
        if 300 <= err.code < 400:
            where = err.headers.get("Location", "(no Location)")
            return StoreBadAnswer(
                f"the SPARQL store at {url} redirects ({err.code}) to {where}",
                hint="redirects are not followed: give the URL it redirects to, if you trust it",
            )
        quoted = _quote(err.read() if err.fp is not None else b"") or "(no message)"
        return store_refused(url, err.code, str(err.reason), quoted)


_FORM = "application/x-www-form-urlencoded"


def store_budget(timeout: float, deadline: float) -> float:
    """The seconds a store request may take: ``timeout``, or less, so that it ends before
    ``deadline`` (a ``time.monotonic()``) by :data:`MARGIN_SHARE` of the time left, at most
    :data:`MARGIN_MAX` seconds; 0 if none is left."""
    left = deadline - time.monotonic()
    if math.isinf(left):
        return timeout
    return max(0.0, min(timeout, left - min(MARGIN_MAX, left * MARGIN_SHARE)))


def store_refused(url: str, status: int, reason: str, quoted: str) -> StoreBadAnswer:
    """The store answered ``status`` with the message ``quoted``: a 502 quoting both."""
    hint = "the store refused the request; its message above says why"
    if status in (401, 403):
        hint = (
            "the store wants credentials, or these ones may not write: set CDKG_STORE_USER "
            "and CDKG_STORE_PASSWORD (for Virtuoso, the dba user on /sparql-auth or "
            "/sparql-graph-crud-auth)"
        )
    err = StoreBadAnswer(
        f"the SPARQL store at {url} answered {status} {reason}: {quoted}", hint=hint
    )
    err.http_status = status
    return err


def _quote(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text[:QUOTE_CHARS] + ("..." if len(text) > QUOTE_CHARS else "")
