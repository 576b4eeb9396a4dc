"""The body cap (``--max-body``): every request whose body is too large gets our JSON 413.

Three places can notice, and all three end in :class:`~cdkg.errors.PayloadTooLarge`, rendered by
:mod:`.errors` with CORS (:mod:`.cors`) like any other error:

- a ``Content-Length`` over the cap, on any path: :func:`init_app`'s check, before any handler;
- a body that turns out larger while it is read (e.g. chunked): Flask's ``MAX_CONTENT_LENGTH``;
- a body larger than waitress buffers at all: waitress does not read it, and :mod:`.server` hands
  the request to the app anyway, with :data:`TOO_LARGE` set in the WSGI environ.
"""

from __future__ import annotations

from flask import Flask, request

from cdkg.errors import PayloadTooLarge

#: WSGI environ key set by :mod:`.server` when waitress refused to read the body.
TOO_LARGE = "cdkg.body_too_large"


def check(limit: int) -> None:
    """Raise PayloadTooLarge if the current request's body is over ``limit`` bytes."""
    length = request.content_length
    if request.environ.get(TOO_LARGE) or (length is not None and length > limit):
        size = f"{length:,} bytes; the limit is" if length is not None else "over the limit of"
        raise PayloadTooLarge(
            f"the request body is {size} {limit:,} bytes",
            hint="send a shorter query; the operator can raise --max-body",
        )


def init_app(app: Flask, limit: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.before_request(lambda: check(limit))
