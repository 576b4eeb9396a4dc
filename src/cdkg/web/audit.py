"""``/audit``: the claims audit (:mod:`cdkg.scholarly.audit`) as JSON, CSV or an HTML page.

The graph never changes while serving, so the audit is computed once, on the first request, and
kept. ``format=json|csv|html`` overrides ``Accept`` (RFC 9110 §12.5.1,
:data:`cdkg.sparql.negotiation.AUDIT_FORMATS`): JSON for ``*/*``, the page for browsers. CSV has
the columns ``claim, location, reported, computed, agrees`` (RFC 4180). The page lists the
disagreements first, then what the source cannot settle, then the agreements, each finding linked
to its lines in the source viewer.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from cdkg.scholarly import audit, audit_render
from cdkg.sparql import negotiation
from cdkg.web.state import endpoint

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
        request.headers.get("Accept"), negotiation.AUDIT_FORMATS, request.args.get("format")
    )
    found = findings()
    if chosen is negotiation.HTML:
        body = render_template(
            "audit.html",
            findings=found,
            groups=audit_render.by_verdict(found),
            meanings=audit.VERDICT_MEANINGS,
        )
    else:
        body = audit_render.render(found, "csv" if chosen is negotiation.AUDIT_CSV else "json")
    response = Response(body, content_type=f"{chosen.media_type}; charset=utf-8")
    response.vary.add("Accept")
    return response
