"""The canned queries over HTTP: ``/queries`` lists them, ``/queries/NAME`` runs one.

``/queries/NAME?param=value...`` binds its parameters through the registry (a bad value is a 400
naming the parameter and what it allows), and runs the bound text through the same engine as
``/sparql`` (cache, worker, time limit, row cap), over the same dataset: the YASGUI link on the
HTML page gives the same rows. Formats: the SPARQL results formats and an HTML page, negotiated;
``format=`` overrides; and the result's citation, BibTeX, CSL-JSON, RIS or APA text
(:mod:`cdkg.web.cite`). Every answer says how to cite it (:mod:`cdkg.canned.citation`): headers on
every format, ``head.link`` in SPARQL JSON (§3.1 of the JSON results format allows it), a block on
the HTML page. URLs are stable: the query's name, then its parameters.

An ``iri`` parameter takes what a scholar types (an IRI, an id, a Wikidata QID, a label), resolved
against the cdkg graph by :class:`cdkg.canned.resolve.Resolver`; ``format=rq`` (or ``Accept:
application/sparql-query``) answers the query's text as it runs, parameters bound. A ``/sparql``
answer whose query is a canned query's text, or the text ``/queries/NAME`` runs, gets the same
citation headers (:func:`cite_canned_text`, recognised by :mod:`cdkg.canned.recognise`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask.blueprints import BlueprintSetupState

from cdkg.canned.catalog import QUERIES_GRAPH, query_iri
from cdkg.canned.citation import PAPER, Citation, paper_reference, query_sha256
from cdkg.canned.params import curie
from cdkg.canned.recognise import recognise
from cdkg.canned.registry import CannedQuery
from cdkg.canned.resolve import Resolver
from cdkg.engine.evaluate import QueryRequest
from cdkg.errors import BadParameter
from cdkg.names import CDKG_GRAPH
from cdkg.sparql import negotiation
from cdkg.web import cite as citations
from cdkg.web.caching import cacheable
from cdkg.web.sparql import _content_type, _params
from cdkg.web.state import endpoint, external_url, public_root

bp = Blueprint("canned", __name__)

#: The list of queries as plain JSON (RFC 8259).
JSON = negotiation.Format("application/json", ("json",), "https://www.rfc-editor.org/rfc/rfc8259")
LIST_FORMATS = (JSON, negotiation.HTML)
#: Not a query parameter: chooses the format.
FORMAT_PARAM = "format"
#: What the page's download links leave out: itself, and the citations (its Cite control has them).
PAGE_LINKLESS = (negotiation.HTML, *negotiation.CITATION_FORMATS)
#: The query's text as it runs (SPARQL 1.1 Query, appendix C registers the media type).
RQ = negotiation.Format(
    "application/sparql-query", ("rq",), "https://www.w3.org/TR/sparql11-query/#mediaType"
)


@dataclass(frozen=True)
class Canned:
    """What the pages need beyond the endpoint's state, worked out once at start-up."""

    paper: str  # the paper as a reference line
    #: What an iri parameter's value names, read in the cdkg graph (the files: the derived graphs
    #: repeat its labels under other IRIs, the Wikidata-shaped view under Wikidata's own).
    resolver: Resolver


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    state = setup.app.extensions["cdkg"]
    graph = state.dataset.get_context(CDKG_GRAPH)
    setup.app.extensions["cdkg.canned"] = Canned(paper_reference(graph), Resolver(graph))


def _canned() -> Canned:
    found: Canned = current_app.extensions["cdkg.canned"]
    return found


def resolver() -> Resolver:
    """The app's resolver of ``iri`` parameters: every page that binds a canned query uses it."""
    return _canned().resolver


def formats_of(query: CannedQuery) -> tuple[negotiation.Format, ...]:
    """What ``/queries/NAME`` answers in for this query: its results formats, HTML, then its
    text and its citation (:mod:`cdkg.web.cite`), given only when asked for."""
    forms = negotiation.RESULT_FORMATS
    if query.form not in ("SELECT", "ASK"):
        forms = negotiation.GRAPH_FORMATS
    return (*forms, negotiation.HTML, RQ, *negotiation.CITATION_FORMATS)


def summary(query: CannedQuery) -> dict[str, Any]:
    """A query as the JSON listing gives it."""
    return {
        "name": query.name,
        "url": external_url(url_for("canned.run", name=query.name)),
        "iri": str(query_iri(query.name)),
        "title": query.title,
        "title_fa": query.title_fa,
        "description": query.description,
        "description_fa": query.description_fa,
        "rq": query.rq,
        "source": query.source,
        "paper": str(PAPER),
        "tags": list(query.tags),
        "form": query.form,
        "formats": [f.names[0] for f in formats_of(query)],
        "params": [
            {
                "name": p.name,
                "type": p.type,
                "allowed": list(p.allowed) or None,
                "classes": [curie(c) for c in p.classes] or None,
                "default": p.default,
                "description": p.description,
            }
            for p in query.params
        ],
        "sha256": query_sha256(query),
    }


@bp.route("/queries")
def listing() -> Response | str:
    state = endpoint()
    chosen = negotiation.negotiate(
        request.headers.get("Accept"), LIST_FORMATS, request.args.get(FORMAT_PARAM)
    )
    if chosen is negotiation.HTML:
        return _html(
            render_template(
                "queries.html",
                queries=list(state.queries),
                version=state.version,
                paper=_canned().paper,
                graph=QUERIES_GRAPH,
            )
        )
    response = jsonify(
        {
            "dataset_version": state.version,
            "graph": str(QUERIES_GRAPH),
            "queries": [summary(q) for q in state.queries],
        }
    )
    response.vary.add("Accept")
    return response


@bp.route("/queries/<name>")
def run(name: str) -> Response:
    state = endpoint()
    query = state.queries.get(name)
    params = query_params(query)
    text = query.bind(params, _canned().resolver)
    available = formats_of(query)
    chosen = negotiation.negotiate(
        request.headers.get("Accept"), available, request.args.get(FORMAT_PARAM)
    )
    citation = cite(query, params)
    if chosen is RQ:
        return text_answer(query, text, citation)
    if chosen in negotiation.CITATION_FORMATS:  # the citation alone: the query need not run
        return citations.result(query, params, citation, chosen)
    wire = available[0] if chosen is negotiation.HTML else chosen  # HTML is drawn from JSON
    answer = state.engine.run(
        QueryRequest(text=text, format=wire.media_type, base=public_root() + "sparql")
    )
    if chosen is negotiation.HTML:
        response = _html(
            page(
                query,
                params=params,
                text=text,
                body=answer.body,
                wire=wire,
                citation=citation,
                truncated=answer.truncated,
                cited=citations.written(citations.result_work(query, params, citation.url)),
            )
        )
    else:
        body = answer.body
        if wire is negotiation.SPARQL_JSON:
            body = with_links(body, [citation.url or "", str(PAPER)])
        response = Response(body, content_type=_content_type(answer.media_type))
    response.vary.add("Accept")
    response.headers["CDKG-Max-Rows"] = str(state.settings.max_rows)
    if answer.truncated:
        response.headers["CDKG-Truncated"] = "true"
    response.headers.update(citation.headers())
    return cacheable(response, request)


def cite(query: CannedQuery, params: dict[str, str] | None) -> Citation:
    """How to cite ``query`` run with ``params`` (``None``: run by no URL, so no cite-as)."""
    url = None if params is None else stable_url(query.name, params)
    return Citation.of(query, endpoint().version, _canned().paper, url=url, params=params)


def text_answer(query: CannedQuery, text: str, citation: Citation) -> Response:
    """The query's text as it runs (``format=rq``), with the headers that cite its result."""
    response = Response(text, content_type=f"{RQ.media_type}; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="{query.name}.rq"'
    response.vary.add("Accept")
    response.headers.update(citation.headers())
    return cacheable(response, request)


@bp.after_app_request
def cite_canned_text(response: Response) -> Response:
    """A ``/sparql`` answer to a canned query's text gets the citation headers ``/queries/NAME``
    sends for it: the same query, the same data, the same result. Not when the request names its
    own dataset (``default-graph-uri``, ``named-graph-uri``): that is another result."""
    if request.blueprint != "sparql" or response.status_code != 200:
        return response
    protocol = _params(request)
    queries = protocol.getlist("query")
    if len(queries) != 1 or "default-graph-uri" in protocol or "named-graph-uri" in protocol:
        return response
    found = recognise(endpoint().queries, queries[0], _canned().resolver)
    if found is not None:
        response.headers.update(cite(found.query, found.params).headers())
    return response


def query_params(query: CannedQuery) -> dict[str, str]:
    """The query's parameters from the URL: ``format`` aside, empty values (an empty form field)
    left out; a parameter given twice is an error."""
    params: dict[str, str] = {}
    for key, values in request.args.lists():
        if key in (FORMAT_PARAM, citations.STYLE, citations.LOCALE):
            continue
        if len(values) > 1:
            raise BadParameter(
                f"parameter {key!r} of query {query.name} is given {len(values)} times",
                hint=f"give {key} once",
            )
        if values[0] != "":
            params[key] = values[0]
    return params


def stable_url(name: str, params: dict[str, str]) -> str | None:
    """The result's URL: the query's, with its parameters in name order (no format), where
    readers can reach it (:func:`cdkg.web.cite.citable_url`: ``None`` if nowhere known)."""
    route: str = url_for("canned.run", name=name)
    return citations.citable_url(
        f"{route}?{urlencode(sorted(params.items()))}" if params else route
    )


#: Where a SPARQL JSON document's ``head`` object opens, when ``head`` is its first member (JSON
#: allows whitespace around every token, RFC 8259 §2; Oxigraph writes none).
_HEAD = re.compile(rb'\A\s*\{\s*"head"\s*:\s*\{\s*')


def with_links(body: bytes, links: list[str]) -> bytes:
    """SPARQL JSON with ``head.link`` set (https://www.w3.org/TR/sparql11-results-json/#select-link).

    Inserted as the first member of ``head`` without decoding the rest, so that a cached answer
    is served without a round trip through a JSON parser; a document whose first member is not
    ``head`` (another store's) is parsed and written again."""
    link = json.dumps([link for link in links if link], ensure_ascii=False).encode()
    opened = _HEAD.match(body)
    if opened:
        rest = body[opened.end() :]
        separator = b"" if rest.startswith(b"}") else b","
        return body[: opened.end()] + b'"link":' + link + separator + rest
    doc = json.loads(body)
    doc["head"]["link"] = json.loads(link)
    return json.dumps(doc, ensure_ascii=False).encode()


def yasgui_link(query: CannedQuery, text: str) -> str:
    """The YASGUI page with this query (bound) in a tab of its own: YASGUI reads ``#query=``."""
    fragment = urlencode({"query": text, "tabTitle": query.title}, quote_via=quote)
    return f"{url_for('yasgui.page')}#{fragment}"


def page(
    query: CannedQuery,
    *,
    params: dict[str, str],
    text: str,
    body: bytes,
    wire: negotiation.Format,
    citation: Citation,
    truncated: bool,
    cited: list[citations.Written],
) -> str:
    """The HTML page of one result; ``cited``: its citation in each format."""
    doc = json.loads(body) if wire is negotiation.SPARQL_JSON else None
    return render_template(
        "query.html",
        query=query,
        params=params,
        text=text,
        vars=doc["head"].get("vars", []) if doc else [],
        rows=doc.get("results", {}).get("bindings", []) if doc else [],
        boolean=doc.get("boolean") if doc else None,
        graph_text=None if doc else body.decode("utf-8"),
        citation=citation,
        truncated=truncated,
        yasgui=yasgui_link(query, text),
        formats=[f for f in formats_of(query) if f not in PAGE_LINKLESS],
        paper=str(PAPER),
        cited=cited,
    )


def _html(text: str) -> Response:
    response = Response(text, content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    return response
