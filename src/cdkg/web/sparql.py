"""The SPARQL 1.1 Protocol, query operation: https://www.w3.org/TR/sparql11-protocol/#query-operation

Three ways to send a query (§2.1): GET with ``query=``, POST form-urlencoded, POST
``application/sparql-query``. This module only reads the request and writes the response; the
engine admits, evaluates and serialises. The endpoint is read-only: any update (§2.2, ``update=``
or ``application/sparql-update``) is refused with 403.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Request, Response, request
from werkzeug.datastructures import MultiDict

from cdkg.engine.evaluate import QueryRequest
from cdkg.errors import SPARQL_PROTOCOL, BadParameter, UnsupportedMediaType
from cdkg.sparql import refusals
from cdkg.web import service
from cdkg.web.caching import cacheable
from cdkg.web.state import endpoint, public_root

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


@bp.route("/sparql", methods=["GET", "POST"])
@bp.route("/sparql/", methods=["GET", "POST"], endpoint="sparql_slash")
def sparql() -> Response:
    state = endpoint()
    params = _params(request)
    queries, updates = params.getlist("query"), params.getlist("update")
    if updates or request.mimetype == UPDATE:
        raise refusals.update()
    if not queries:
        if request.method == "GET":
            return service.description()
        raise BadParameter(
            "the request carries no query",
            hint="send query=... (form or URL) or a body of type application/sparql-query",
            spec=f"{SPARQL_PROTOCOL}#query-operation",
        )
    if len(queries) > 1:
        raise BadParameter(
            f"the request carries {len(queries)} queries; the protocol allows exactly one",
            hint="send one query per request",
            spec=f"{SPARQL_PROTOCOL}#query-operation",
        )
    answer = state.engine.run(
        QueryRequest(
            text=queries[0],
            default_graphs=_graph_iris(params, "default-graph-uri"),
            named_graphs=_graph_iris(params, "named-graph-uri"),
            accept=request.headers.get("Accept"),
            format=params.get("format"),
            base=public_root() + "sparql",
        )
    )
    response = Response(answer.body, content_type=_content_type(answer.media_type))
    response.vary.add("Accept")
    response.headers["CDKG-Max-Rows"] = str(state.settings.max_rows)
    if answer.truncated:
        response.headers["CDKG-Truncated"] = "true"
    return cacheable(response, request)


def _params(req: Request) -> MultiDict[str, str]:
    """All protocol parameters: the URL's, plus the body's for a form POST; for a direct POST
    the body is the query (§2.1.3), which must be UTF-8."""
    params: MultiDict[str, str] = MultiDict(req.args)
    if req.method != "POST":
        return params
    if req.mimetype == FORM:
        for key, values in req.form.lists():
            params.setlist(key, params.getlist(key) + values)
    elif req.mimetype == DIRECT:
        charset = req.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(
                f"the query body is declared as {charset}; the protocol requires UTF-8",
                hint="send the body as UTF-8 (charset=utf-8, or no charset parameter)",
                spec=f"{SPARQL_PROTOCOL}#query-via-post-direct",
            )
        try:
            params.add("query", req.get_data().decode("utf-8"))
        except UnicodeDecodeError as err:
            raise BadParameter(
                f"the query body is not valid UTF-8 (byte {err.start})",
                hint="encode the query as UTF-8",
                spec=f"{SPARQL_PROTOCOL}#query-via-post-direct",
            ) from None
    elif req.mimetype != UPDATE:
        given = f"Content-Type {req.mimetype}" if req.mimetype else "no Content-Type"
        raise UnsupportedMediaType(
            f"a POST to /sparql needs Content-Type {FORM} or {DIRECT}; this one has {given}",
            hint=f"curl: -H 'Content-Type: {DIRECT}' --data-binary @query.rq",
        )
    return params


def _graph_iris(params: MultiDict[str, str], name: str) -> tuple[str, ...]:
    """The graphs a protocol parameter names (§2.1.4): each must be an absolute IRI (RFC 3987),
    as the store checks it; a graph the server does not hold is an empty graph."""
    iris = tuple(params.getlist(name))
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as err:
            raise BadParameter(
                f"{name} {iri[:200]!r} is not an absolute IRI: {err}",
                hint=f"{name} names a graph by its IRI, e.g. https://w3id.org/cdkg/graph/cdkg",
                spec=f"{SPARQL_PROTOCOL}#dataset",
            ) from None
    return iris


def _content_type(media_type: str) -> str:
    if media_type.startswith("text/") or media_type.endswith(("+xml", "+json")):
        return f"{media_type}; charset=utf-8"
    return media_type
