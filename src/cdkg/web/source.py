"""The source viewer: the paper's extracted text at ``/source/paper``, every line anchored.

The lines are those every provenance reference in cdkg counts (``cdkg:lineStart``,
``cdkg:lineEnd``, the ``#+ source:`` headers of the canned queries): line ``n`` is the element
``id="Ln"``, so ``/source/paper#L810`` shows line 810 and ``/source/paper#L797-L812`` lines 797 to
812 (GitHub's fragments; a small inline script highlights the range, which CSS ``:target`` cannot).
Formats, negotiated from ``Accept`` (``format=`` overrides): an HTML page (the default, for
browsers and ``*/*``) or the file itself, byte for byte, as ``text/plain; charset=utf-8``.

The file is read and its page drawn once, when the app is created: a request only picks one of the
two. The blueprint also gives every template the ``line_links`` filter
(:func:`cdkg.scholarly.paperlines.link_lines`), which links the lines a text mentions.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from rdflib import URIRef

from cdkg.canned.citation import PAPER, SCHEMA
from cdkg.resources import paper_text
from cdkg.scholarly import paperlines
from cdkg.sparql import negotiation
from cdkg.web.caching import cacheable

bp = Blueprint("source", __name__)

FORMATS = (negotiation.HTML, negotiation.TEXT)

bp.add_app_template_filter(paperlines.link_lines, "line_links")


@dataclass(frozen=True)
class Paper:
    """The paper's extracted text as the file holds it, and its page."""

    raw: bytes
    html: str


def lines(raw: bytes) -> list[str]:
    """The lines of the text, as the provenance counts them: split on "\\n" only (str.splitlines
    would also split on form feeds and Unicode separators, and shift every line after one)."""
    return raw.decode("utf-8").split("\n")


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    raw = paper_text().read_bytes()
    # The paper's page on its publisher's site, from its record (data/paper.ttl, schema:url).
    landing_page = setup.app.extensions["cdkg"].dataset.value(PAPER, URIRef(SCHEMA + "url"))
    # The page uses no request state (no url_for), so it is drawn here, without a request.
    page = setup.app.jinja_env.get_template("source.html")
    html = page.render(lines=lines(raw), landing_page=landing_page)
    setup.app.extensions["cdkg.source"] = Paper(raw, html)


@bp.route(paperlines.VIEWER)
def paper() -> Response:
    source: Paper = current_app.extensions["cdkg.source"]
    chosen = negotiation.negotiate(
        request.headers.get("Accept"), FORMATS, request.args.get("format")
    )
    body = source.raw if chosen is negotiation.TEXT else source.html
    response = Response(body, content_type=f"{chosen.media_type}; charset=utf-8")
    response.vary.add("Accept")
    return cacheable(response, request)
