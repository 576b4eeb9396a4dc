"""HTTP caching of query answers: a strong ``ETag`` and ``Cache-Control`` on every successful
``GET`` of ``/sparql`` and ``/queries/NAME``, and ``304 Not Modified`` for a matching
``If-None-Match`` (RFC 9110 §8.8.3, §13.1.2; RFC 9111 §5.2).

The graph is frozen while the server runs, so an answer changes only when the data does (a restart
or a reload). The ETag is a digest of the answer's bytes: equal bytes, equal tag, whatever the
data version. ``max-age`` lets a browser or a shared proxy reuse an answer for a few minutes
without asking; after that it revalidates with the tag, and an unchanged answer costs a 304 with
no body. POST answers (SPARQL Protocol §2.1.2-3) are not cacheable by HTTP caches and get no tag.
"""

from __future__ import annotations

import hashlib

from flask import Request, Response

#: How long (seconds) browsers and proxies may reuse an answer before revalidating it.
MAX_AGE = 300


def cacheable(response: Response, request: Request) -> Response:
    """Tag a successful GET/HEAD answer and answer 304 if the client holds it already."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.make_conditional(request)  # turns it into a 304 in place when the tag matches
    return response
