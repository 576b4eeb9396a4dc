"""Whole-graph downloads: ``/download/cdkg.{ttl,nt,jsonld,trig}``, linked from VoID.

Each file is written once, on its first request, by Oxigraph from the store itself (terms exactly
as held), and kept. Responses carry a strong ``ETag``
(the data's version hash and the format) and ``Last-Modified`` (the newest data file), and answer
``304 Not Modified`` to ``If-None-Match`` / ``If-Modified-Since`` (RFC 9110 §13).
The TriG file keeps the graph in its named graph, ``https://w3id.org/cdkg/graph/cdkg``.
"""

from __future__ import annotations

import threading

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from cdkg.engine.evaluate import GRAPHS
from cdkg.errors import NotFound
from cdkg.kg.store import oxigraph_of
from cdkg.kg.turtlefmt import PREFIXES
from cdkg.names import CDKG_GRAPH
from cdkg.sparql import negotiation
from cdkg.web.state import endpoint

#: The files offered, by name.
DOWNLOADS = {
    "cdkg.ttl": negotiation.TURTLE,
    "cdkg.nt": negotiation.NTRIPLES,
    "cdkg.jsonld": negotiation.JSONLD,
    "cdkg.trig": negotiation.TRIG,
}

bp = Blueprint("dump", __name__)


class _Files:
    """The serialised downloads of one app, made on first request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, bytes] = {}


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    setup.app.extensions["cdkg.downloads"] = _Files()


@bp.route("/download/<name>")
def download(name: str) -> Response:
    chosen = DOWNLOADS.get(name)
    if chosen is None:
        raise NotFound(
            f"no download named {name!r}", hint=f"downloads: {', '.join(sorted(DOWNLOADS))}"
        )
    state = endpoint()
    response = Response(_serialised(name), content_type=chosen.media_type)
    response.set_etag(f"{state.version}-{name}")
    response.last_modified = state.modified  # type: ignore[assignment]
    response.cache_control.public = True
    response.cache_control.no_cache = True  # may be stored, but revalidated with the ETag
    response.make_conditional(request)
    return response


def _serialised(name: str) -> bytes:
    cache: _Files = current_app.extensions["cdkg.downloads"]
    with cache.lock:
        if name not in cache.files:
            store = oxigraph_of(endpoint().dataset)
            if store is None:
                raise NotFound("this server holds no dataset to download")
            graph = ox.NamedNode(str(CDKG_GRAPH))
            chosen = GRAPHS[DOWNLOADS[name]]
            house = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
            prefixes = house if chosen in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
            if chosen is ox.RdfFormat.TRIG:
                quads = store.quads_for_pattern(None, None, None, graph)
                cache.files[name] = ox.serialize(quads, format=chosen, prefixes=prefixes) or b""
            else:
                cache.files[name] = (
                    store.dump(format=chosen, from_graph=graph, prefixes=prefixes) or b""
                )
        return cache.files[name]
