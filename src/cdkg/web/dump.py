"""Whole-graph downloads: ``/download/cdkg.{ttl,nt,jsonld,trig}``, linked from VoID.

Each file is written once, on its first request, by :func:`cdkg.kg.dumps.dump` (the writer
``cdkg release`` shares), and kept. Responses carry a strong ``ETag``
(the data's version hash and the format) and ``Last-Modified`` (the newest data file), and answer
``304 Not Modified`` to ``If-None-Match`` / ``If-Modified-Since`` (RFC 9110 §13).
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from cdkg.errors import NotFound
from cdkg.kg.dumps import DOWNLOADS, dump
from cdkg.kg.store import oxigraph_of
from cdkg.web.state import endpoint

__all__ = ["DOWNLOADS", "bp"]

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
            cache.files[name] = dump(store, name)
        return cache.files[name]
