"""Citations over HTTP: ``/citation`` cites the dataset, and a canned result's citation formats.

Content negotiation as DOI resolvers do it (https://citation.crosscite.org/docs.html):
``text/x-bibliography`` (APA, with ``style=`` and ``locale=``), ``application/x-bibtex``,
``application/vnd.citationstyles.csl+json`` and ``application/x-research-info-systems``, by
``Accept`` or ``format=`` (:data:`cdkg.sparql.negotiation.CITATION_FORMATS`). ``/citation`` cites
the dataset, whose URL is the server's own root; ``/queries/NAME`` (:mod:`cdkg.web.canned`) cites
its result through :func:`answer`.

The URL a citation shows is the operator's ``--public-url`` followed by the path; without one,
the request's own URL, unless its host is local (:func:`cdkg.names.local_host`): a citation that
reached a reader with ``127.0.0.1`` in it would lead nowhere, so then it shows no URL and says why.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request, url_for
from flask.blueprints import BlueprintSetupState

from cdkg.canned import bibliography
from cdkg.canned.citation import Citation, Paper, Release, Work
from cdkg.canned.registry import CannedQuery
from cdkg.names import CDKG_GRAPH, local_host
from cdkg.sparql import negotiation
from cdkg.sparql.negotiation import Format
from cdkg.web.caching import cacheable
from cdkg.web.state import endpoint, external_url

bp = Blueprint("cite", __name__)

#: The parameters of the formatted text, as crosscite names them; never a canned query's.
STYLE, LOCALE = "style", "locale"


@dataclass(frozen=True)
class Sources:
    """The records every citation is written from, read from the graph once, at start-up."""

    release: Release
    paper: Paper


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    state = setup.app.extensions["cdkg"]
    graph = state.dataset.get_context(CDKG_GRAPH)
    setup.app.extensions["cdkg.cite"] = Sources(
        Release.read(graph, state.version), Paper.read(graph)
    )


def sources() -> Sources:
    found: Sources = current_app.extensions["cdkg.cite"]
    return found


def today() -> datetime.date:
    """The access date a citation gives: today in UTC, so every reader's clock agrees."""
    return datetime.datetime.now(datetime.UTC).date()


def citable_url(route: str) -> str | None:
    """The URL readers can reach for ``route`` (a path on this server, as ``url_for`` gives it,
    with its query string), or ``None`` when none is known."""
    url = external_url(route)
    if endpoint().settings.public_url or not local_host(urlsplit(url).hostname or ""):
        return url
    return None


def dataset_work() -> Work:
    """The dataset as cited: its URL is the server's root (the query page)."""
    found = sources()
    return Work(found.release, found.paper, today(), citable_url(url_for("yasgui.page")))


def result_work(query: CannedQuery, params: dict[str, str], url: str | None) -> Work:
    """A canned result as cited: ``query`` with ``params``, at ``url`` (``stable_url``'s)."""
    found = sources()
    return Work.result(
        query, params, release=found.release, paper=found.paper, accessed=today(), url=url
    )


def result(query: CannedQuery, params: dict[str, str], citation: Citation, fmt: Format) -> Response:
    """``/queries/NAME`` in a citation format: the result cited, with the citation headers every
    format of it carries. The query does not run: citing it needs its text, not its rows."""
    response = answer(result_work(query, params, citation.url), fmt)
    response.headers.update(citation.headers())
    return cacheable(response, request)


def text_style() -> tuple[str, str]:
    """``style=`` and ``locale=`` of this request, checked (a 400 names what cdkg writes)."""
    return bibliography.text_style(request.args.get(STYLE), request.args.get(LOCALE))


def answer(work: Work, fmt: Format) -> Response:
    """``work`` written in ``fmt``, as a response (UTF-8: titles are Persian)."""
    style, locale = text_style()
    body = bibliography.write(fmt, work, style=style, locale=locale)
    response = Response(body, content_type=f"{fmt.media_type}; charset=utf-8")
    response.vary.add("Accept")
    return response


#: What the HTML page's Cite control calls each format.
LABELS = {
    negotiation.BIBLIOGRAPHY.media_type: "Formatted text (APA)",
    negotiation.BIBTEX.media_type: "BibTeX",
    negotiation.CSL_JSON.media_type: "CSL-JSON",
    negotiation.RIS.media_type: "RIS",
}


@dataclass(frozen=True)
class Written:
    """``work`` in one citation format, as the HTML page's Cite control offers it."""

    format: Format
    label: str
    filename: str  # what a download is saved as
    body: str


def written(work: Work) -> list[Written]:
    """``work`` in every citation format, in the default style and locale."""
    return [
        Written(
            fmt,
            LABELS[fmt.media_type],
            bibliography.filename(work, fmt),
            bibliography.write(fmt, work),
        )
        for fmt in negotiation.CITATION_FORMATS
    ]


@bp.route("/citation")
def dataset() -> Response:
    chosen = negotiation.negotiate(
        request.headers.get("Accept"), negotiation.CITATION_FORMATS, request.args.get("format")
    )
    return cacheable(answer(dataset_work(), chosen), request)
