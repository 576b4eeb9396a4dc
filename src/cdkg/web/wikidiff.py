"""``/wikidata-diff``: the paper's ties against Wikidata's P190, as ``cdkg wikidata-diff`` gives
them (:mod:`cdkg.scholarly.wikidata`; the same columns, ``iranian_city, iranian_city_wikidata,
partner_city, partner_city_wikidata, status``).

Wikidata's side comes from the snapshot CSV given at start-up (``--wikidata-snapshot FILE``), read
once, or, with ``?endpoint=URL``, from a SPARQL endpoint that must be on the allow-list
(``--allow-service``), asked within ``--service-timeout``. The paper's side is read once, at
start-up. Formats: ``format=json`` (the default), ``csv``, ``tsv``, or ``quickstatements`` (the
lines that add the missing P190 statements, with a reference to the paper); or by ``Accept``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from cdkg.errors import BadGateway, CdkgError, Forbidden, NotFound
from cdkg.names import CDKG_GRAPH
from cdkg.scholarly import wikidata
from cdkg.sparql import negotiation
from cdkg.web.state import endpoint

bp = Blueprint("wikidiff", __name__)

JSON = negotiation.Format("application/json", ("json",), "https://www.rfc-editor.org/rfc/rfc8259")
CSV = negotiation.Format("text/csv", ("csv",), "https://www.rfc-editor.org/rfc/rfc4180")
TSV = negotiation.Format(
    "text/tab-separated-values",
    ("tsv",),
    "https://www.iana.org/assignments/media-types/text/tab-separated-values",
)
QUICKSTATEMENTS = negotiation.Format(
    "text/plain", ("quickstatements", "qs"), "https://www.wikidata.org/wiki/Help:QuickStatements"
)
FORMATS = (JSON, CSV, TSV, QUICKSTATEMENTS)


@dataclass(frozen=True)
class Sources:
    """Read once at start-up: the paper's ties, and the snapshot's (None without a snapshot)."""

    paper: list[wikidata.PaperTie]
    snapshot: list[wikidata.WikidataTie] | None


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    state = setup.app.extensions["cdkg"]
    path = state.settings.wikidata_snapshot
    # the paper's side costs a query at start-up: only when there is something to compare it with
    wanted = path is not None or bool(state.settings.allow_service)
    setup.app.extensions["cdkg.wikidiff"] = Sources(
        wikidata.paper_ties(state.dataset.get_context(CDKG_GRAPH)) if wanted else [],
        wikidata.read_snapshot(path) if path is not None else None,
    )


@bp.route("/wikidata-diff")
def diff() -> Response:
    sources: Sources = current_app.extensions["cdkg.wikidiff"]
    settings = endpoint().settings
    chosen = negotiation.negotiate(
        request.headers.get("Accept"), FORMATS, request.args.get("format")
    )
    url = request.args.get("endpoint")
    if url:
        if url not in settings.allow_service:
            listed = ", ".join(settings.allow_service) or "none"
            raise Forbidden(
                f"endpoint={url} is not on this server's allow-list",
                hint=f"allowed endpoints: {listed}; the operator adds more with --allow-service",
            )
        try:
            theirs = wikidata.query_endpoint(
                url, {t.city_qid for t in sources.paper}, timeout=settings.service_timeout
            )
        except CdkgError as err:
            raise BadGateway(err.message, hint="the endpoint failed or did not answer") from None
    elif sources.snapshot is not None:
        theirs = sources.snapshot
    else:
        raise NotFound(
            "no Wikidata snapshot was given to this server",
            hint="start it with --wikidata-snapshot FILE, or pass endpoint= an allow-listed "
            "SPARQL endpoint",
        )
    rows = wikidata.diff(sources.paper, theirs)
    out = io.StringIO()
    if chosen is QUICKSTATEMENTS:
        out.write("".join(line + "\n" for line in wikidata.quickstatements(rows, sources.paper)))
    else:
        wikidata.write(rows, chosen.names[0], out)
    response = Response(out.getvalue(), content_type=f"{chosen.media_type}; charset=utf-8")
    response.vary.add("Accept")
    return response
