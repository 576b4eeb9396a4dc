"""An external SPARQL 1.1 store, reached over HTTP: :class:`RemoteStore`.

Queries go by the SPARQL 1.1 Protocol (query via URL-encoded POST, §2.1.2), always with the
dataset named by ``default-graph-uri`` / ``named-graph-uri`` (§2.1.4), so the store answers over
our graphs only, never over what else it holds (an empty Virtuoso has ~5,600 triples of its own).
Answers are read from the SPARQL 1.1 Query Results JSON format, or N-Triples / Turtle for graphs,
into exactly the dict rdflib's ``evalQuery`` returns, so :func:`cdkg.serialize.render` writes them
as it writes a local answer. Writes go by SPARQL 1.1 Update (``INSERT DATA``, ``CLEAR``) or the
Graph Store HTTP Protocol (``PUT``); :mod:`cdkg.kg.publish` uses them.

What a failure becomes: a store that cannot be reached is :class:`StoreUnavailable` (503), one
that answers an error, a redirect or something unreadable is :class:`StoreBadAnswer` (502), one
that takes longer than ``timeout`` is :class:`StoreTimeout` (504). Each names the URL. Redirects
are never followed: a store that moved is reported with where it says it went.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from email.message import Message
from http.client import HTTPResponse
from typing import Any
from urllib.response import addinfourl

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.term import Node

from cdkg.errors import SPARQL_PROTOCOL, BadGateway, GatewayTimeout, ServiceUnavailable
from cdkg.sparql.auth import PREFLIGHT_ABOVE, Credentials
from cdkg.sparql.prefixes import with_prefixes

PROTOCOL_DATASET = f"{SPARQL_PROTOCOL}#dataset"
GRAPH_STORE_SPEC = "https://www.w3.org/TR/sparql11-http-rdf-update/"
RESULTS_JSON_SPEC = "https://www.w3.org/TR/sparql11-results-json/"
#: Default time limit of one request, in seconds.
DEFAULT_TIMEOUT = 30.0
#: Largest answer read from the store; a larger one is a bad answer, not a memory blow-up.
MAX_ANSWER_BYTES = 512 << 20
#: Virtuoso's header on an "anytime" answer: its own time limit cut the query, the rows are partial.
VIRTUOSO_PARTIAL = "X-SQL-State"
#: Virtuoso's header on an answer cut at its ``ResultSetMaxRows``: the limit.
VIRTUOSO_MAX_ROWS = "X-SPARQL-MaxRows"
#: How much of an error body from the store is quoted in our message.
QUOTE_CHARS = 400

#: What we ask for, by query form, and how each RDF media type is parsed.
RESULTS_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
RDFLIB_PARSERS = {
    "application/n-triples": "nt",
    "text/plain": "nt",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}


class StoreUnavailable(ServiceUnavailable):
    """The external store cannot be reached (refused, no such host, connection dropped)."""


class StoreTimeout(GatewayTimeout):
    """The external store did not answer within the time limit."""


class StoreBadAnswer(BadGateway):
    """The external store answered with an error, a redirect, or something we cannot read."""


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
    ) -> Mapping[str, Any]:
        """Run the query ``text`` (of ``form``: SELECT, ASK, CONSTRUCT or DESCRIBE, as the guard
        read it) over exactly these graphs; the result as rdflib's ``evalQuery`` gives it."""
        fields = [("query", with_prefixes(text, base))]
        fields += [("default-graph-uri", iri) for iri in default_graphs]
        fields += [("named-graph-uri", iri) for iri in named_graphs]
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        accept = GRAPH_ACCEPT if graph_form else RESULTS_ACCEPT
        media_type, body, headers = self._send(
            self.query_url, urllib.parse.urlencode(fields).encode(), _FORM, accept
        )
        if graph_form:
            graph = self._graph(media_type, body)
            self._check_not_cut(headers, len(graph))
            return {"type_": "CONSTRUCT", "graph": graph}
        doc = self._results_json(media_type, body)
        if form == "ASK":
            answer = doc.get("boolean")
            if not isinstance(answer, bool):
                raise self._bad(self.query_url, "an ASK answer without a boolean")
            return {"type_": "ASK", "askAnswer": answer}
        try:
            names = [str(name) for name in doc["head"]["vars"]]
            rows = doc["results"]["bindings"]
            if not isinstance(rows, list):
                raise TypeError("bindings is not a list")
        except (KeyError, TypeError) as err:
            raise self._bad(self.query_url, f"SELECT results without {err}") from None
        self._check_not_cut(headers, len(rows))
        return {
            "type_": "SELECT",
            "vars_": [Variable(name) for name in names],
            "bindings": list(self._bindings(rows)),
        }

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
            raise self._bad(self.query_url, f"no triple count for <{graph}>") from None

    # -- writes -------------------------------------------------------------------------------

    def update(self, text: str) -> None:
        """Send a SPARQL 1.1 Update request (``update_url``; §2.2.1, URL-encoded POST)."""
        url = self.update_url or self.query_url
        body = urllib.parse.urlencode({"update": text}).encode()
        self._send(url, body, _FORM, "*/*")

    def put_graph(self, graph: str, ntriples: bytes) -> None:
        """Replace the named graph ``graph`` with these N-Triples (Graph Store HTTP Protocol
        §5.3, ``PUT ?graph=``)."""
        if self.graph_store_url is None:
            raise StoreUnavailable(
                "no Graph Store HTTP Protocol endpoint configured", spec=GRAPH_STORE_SPEC
            )
        separator = "&" if "?" in self.graph_store_url else "?"
        url = f"{self.graph_store_url}{separator}{urllib.parse.urlencode({'graph': graph})}"
        self._send(url, ntriples, "application/n-triples", "*/*", method="PUT")

    # -- HTTP ---------------------------------------------------------------------------------

    def _send(
        self, url: str, body: bytes, content_type: str, accept: str, *, method: str = "POST"
    ) -> tuple[str, bytes, Message]:
        """One request; the answer's media type, body and headers, or the error saying what
        failed."""
        sent = {"Content-Type": content_type, "Accept": accept, "User-Agent": "cdkg"}
        request = urllib.request.Request(  # noqa: S310 - __init__ admits http(s) URLs only
            url, data=body, headers=sent, method=method
        )
        deadline = time.monotonic() + self.timeout
        try:
            if self._credentials is not None and len(body) > PREFLIGHT_ABOVE:
                self._credentials.authorize(self._plain, request, self.timeout)
            with self._opener.open(request, timeout=self.timeout) as response:
                media_type = response.headers.get_content_type()
                body = self._read(url, response, deadline)
                headers: Message = response.headers
        except urllib.error.HTTPError as err:
            with err:  # it holds the connection open
                raise self._http_error(url, err) from None
        except (TimeoutError, urllib.error.URLError, OSError) as err:
            raise self._unreachable(url, err) from None
        partial = headers.get(VIRTUOSO_PARTIAL)
        if partial:
            why = headers.get("X-SQL-Message", "no message")
            raise StoreTimeout(
                f"the SPARQL store at {url} sent a partial answer ({VIRTUOSO_PARTIAL}: {partial}, "
                f"{why})",
                hint="the store's own time limit cut the query short; raise it (Virtuoso: "
                "MaxQueryExecutionTime in virtuoso.ini) or simplify the query",
            )
        return media_type, body, headers

    def _unreachable(self, url: str, err: OSError) -> StoreUnavailable | StoreTimeout:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        if isinstance(reason, TimeoutError):
            return self._timeout(url)
        return StoreUnavailable(
            f"the SPARQL store at {url} cannot be reached: {reason}",
            hint="check that the store is running and the URL (host, port, path) is right; "
            "a firewall or proxy between cdkg and the store can also refuse the connection",
        )

    def _read(self, url: str, response: HTTPResponse | addinfourl, deadline: float) -> bytes:
        """The whole body, in chunks, so that a store trickling bytes still meets the deadline."""
        out = io.BytesIO()
        while chunk := response.read(1 << 16):
            out.write(chunk)
            if out.tell() > MAX_ANSWER_BYTES:
                raise self._bad(url, f"an answer larger than {MAX_ANSWER_BYTES >> 20} MiB")
            if time.monotonic() > deadline:
                raise self._timeout(url)
        return out.getvalue()

    def _timeout(self, url: str) -> StoreTimeout:
        return StoreTimeout(
            f"the SPARQL store at {url} did not answer within {self.timeout:g} s",
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
        quoted = _quote(err.read() if err.fp is not None else b"")
        hint = "the store refused the request; its message above says why"
        if err.code in (401, 403):
            hint = (
                "the store wants credentials, or these ones may not write: set CDKG_STORE_USER "
                "and CDKG_STORE_PASSWORD (for Virtuoso, the dba user on /sparql-auth or "
                "/sparql-graph-crud-auth)"
            )
        return StoreBadAnswer(
            f"the SPARQL store at {url} answered {err.code} {err.reason}: {quoted}", hint=hint
        )

    def _bad(self, url: str, what: str) -> StoreBadAnswer:
        return StoreBadAnswer(
            f"the SPARQL store at {url} sent {what}",
            hint="check that the URL is the store's SPARQL query endpoint",
            spec=RESULTS_JSON_SPEC,
        )

    # -- answers ------------------------------------------------------------------------------

    def _results_json(self, media_type: str, body: bytes) -> dict[str, Any]:
        if not media_type.endswith("json"):
            raise self._bad(self.query_url, f"{media_type}, not SPARQL JSON results")
        try:
            doc = json.loads(body)
        except ValueError as err:
            raise self._bad(self.query_url, f"JSON that does not parse ({err})") from None
        if not isinstance(doc, dict):
            raise self._bad(self.query_url, "JSON that is not an object")
        return doc

    def _bindings(self, rows: list[Any]) -> Iterator[dict[Variable, Node]]:
        """Each row as ``{Variable: term}``; a blank node label of the store becomes one of
        ours, the same for the same label within this answer."""
        bnodes: dict[str, BNode] = {}
        for row in rows:
            if not isinstance(row, dict):
                raise self._bad(self.query_url, "a result row that is not an object")
            yield {Variable(name): self._term(value, bnodes) for name, value in row.items()}

    def _term(self, value: Any, bnodes: dict[str, BNode]) -> Node:
        """One RDF term of SPARQL 1.1 JSON results (and the older ``typed-literal``)."""
        try:
            kind, text = value["type"], str(value["value"])
        except (KeyError, TypeError):
            raise self._bad(self.query_url, f"a term without type or value: {value!r}") from None
        if kind == "uri":
            return URIRef(text)
        if kind == "bnode":
            return bnodes.setdefault(text, BNode())
        if kind in ("literal", "typed-literal"):
            lang = value.get("xml:lang")
            datatype = value.get("datatype")
            if lang:
                return Literal(text, lang=lang)
            if datatype and datatype != str(XSD.string):  # RDF 1.1: "x"^^xsd:string is "x"
                return Literal(text, datatype=URIRef(datatype))
            return Literal(text)
        raise self._bad(self.query_url, f"a term of unknown type {kind!r}")

    def _graph(self, media_type: str, body: bytes) -> Graph:
        parser = RDFLIB_PARSERS.get(media_type)
        if parser is None:
            raise self._bad(self.query_url, f"a graph as {media_type}, which we cannot read")
        graph = Graph()
        try:
            graph.parse(data=body, format=parser)
        except Exception as err:  # any parser failure is the store's answer's fault
            raise self._bad(self.query_url, f"{media_type} that does not parse ({err})") from None
        return graph


_FORM = "application/x-www-form-urlencoded"


def _quote(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text[:QUOTE_CHARS] + ("..." if len(text) > QUOTE_CHARS else "")
