"""CORS (https://fetch.spec.whatwg.org/#http-cors-protocol) on every response, errors included.

So that ``fetch()`` from a page on another origin reads our answers and our JSON errors. The
preflight a browser sends before a POST with ``Content-Type: application/sparql-query`` is
answered here. Credentials are never allowed: the endpoint is public and keeps no session, and
``Access-Control-Allow-Credentials`` is never sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Response, request

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Accept, Accept-Language, Content-Type, Cache-Control, If-None-Match"
#: Headers a script may read beyond the CORS-safelisted ones.
EXPOSE_HEADERS = (
    "CDKG-Truncated, CDKG-Max-Rows, ETag, Retry-After, Allow, Location, "
    "CDKG-Query, CDKG-Query-SHA256, CDKG-Dataset-Version, Link"  # how to cite a canned result
)
MAX_AGE = "600"


def allow_origin(origin: str | None, allowed: Sequence[str]) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for a request from ``origin``, or ``None``."""
    if "*" in allowed:
        return "*"
    if origin and origin in allowed:
        return origin
    return None


def init_app(app: Flask, allowed: Sequence[str]) -> None:
    allowed = tuple(allowed)

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        value = allow_origin(request.headers.get("Origin"), allowed)
        if "*" not in allowed:
            response.vary.add("Origin")
        if value is None:
            return response
        response.headers["Access-Control-Allow-Origin"] = value
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE
        return response
