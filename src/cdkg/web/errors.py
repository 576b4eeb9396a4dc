"""The one error renderer of the web face: every failure becomes ``{"error": {...}}``.

A :class:`~cdkg.errors.CdkgError` renders as its own status and JSON body. Werkzeug's HTTP errors
(unknown path, wrong method, body too large) are translated into CdkgErrors first, so that they
have the same shape. Anything else is a bug: it is logged with its traceback and answered as a
500 whose body says only that, never the traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from cdkg.errors import (
    BadParameter,
    CdkgError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)

log = logging.getLogger(__name__)

#: Seconds a client should wait before retrying a 503.
RETRY_AFTER = 5


def render(err: CdkgError) -> Response:
    """The response for ``err``: its JSON body and status, with the headers its status calls
    for (``Allow`` for 405, ``Retry-After`` for 503)."""
    response = jsonify(err.to_json())
    response.status_code = err.status
    allow = getattr(err, "allow", None)
    if allow:
        response.headers["Allow"] = ", ".join(allow)
    if isinstance(err, ServiceUnavailable):
        response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def from_http(exc: HTTPException) -> CdkgError:
    """The CdkgError meaning the same as a werkzeug HTTP error."""
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length
        return PayloadTooLarge(
            f"the request body is larger than the limit of {limit:,} bytes",
            hint="send a shorter query; the operator can raise --max-body",
        )
    if exc.code == 404:
        return NotFound(
            f"nothing at {request.path}",
            hint="the SPARQL endpoint is at /sparql, the query page at /, VoID at /void, "
            "the canned queries at /queries",
        )
    if exc.code == 405:
        allowed = sorted(getattr(exc, "valid_methods", None) or ())
        err = MethodNotAllowed(
            f"{request.method} is not allowed on {request.path}",
            hint=f"use {', '.join(allowed)}" if allowed else None,
        )
        err.allow = allowed  # type: ignore[attr-defined]
        return err
    if exc.code is not None and exc.code < 500:
        return BadParameter(
            exc.description or exc.name, hint="see the SPARQL 1.1 Protocol for the request forms"
        )
    return InternalError(exc.description or exc.name, hint="this is a bug; it has been logged")


def _bug(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return render(from_http(exc))
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return render(
        InternalError(
            "the server failed while answering this request",
            hint="this is a bug in the endpoint; it has been logged. Retrying will not help.",
        )
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(CdkgError, render)
    app.register_error_handler(Exception, _bug)
