"""``/audit``: the claims audit (:mod:`cdkg.scholarly.audit`) as JSON or CSV.

The graph never changes while serving, so the audit is computed once, on the first request, and
kept. ``format=json|csv`` overrides ``Accept`` (RFC 9110 §12.5.1,
:func:`cdkg.sparql.negotiation.negotiate`); CSV has the columns ``claim, location, reported,
computed, agrees`` (RFC 4180).
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from cdkg.scholarly import audit, audit_render
from cdkg.sparql import negotiation
from cdkg.web.state import endpoint

JSON = negotiation.Format("application/json", ("json",), "https://www.rfc-editor.org/rfc/rfc8259")
CSV = negotiation.Format("text/csv", ("csv",), "https://www.rfc-editor.org/rfc/rfc4180")
FORMATS = (JSON, CSV)

bp = Blueprint("audit", __name__)


class _Cache:
    """The audit of one app, made on first request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.findings: list[audit.Finding] | None = None


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    setup.app.extensions["cdkg.scholarly.audit"] = _Cache()


def findings() -> list[audit.Finding]:
    """The audit of this app's dataset, computed once."""
    cache: _Cache = current_app.extensions["cdkg.scholarly.audit"]
    with cache.lock:
        if cache.findings is None:
            state = endpoint()
            cache.findings = audit.run_audit(state.dataset, state.queries)
        return cache.findings


@bp.route("/audit")
def report() -> Response:
    chosen = negotiation.negotiate(
        request.headers.get("Accept"), FORMATS, request.args.get("format")
    )
    body = audit_render.render(findings(), "csv" if chosen is CSV else "json")
    return Response(body, content_type=f"{chosen.media_type}; charset=utf-8")
