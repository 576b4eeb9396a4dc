"""The views: a map, a timeline and a network of any query's rows, and a Persian-aware search.

``/views/map``, ``/views/timeline`` and ``/views/network`` draw the rows of a query, run in the
browser against ``/sparql``: by default the canned ``views-ties-geo`` (every tie with its cities'
coordinates, year, region, civilisation and provenance); ``?name=NAME`` (plus that query's
parameters) draws another canned query, ``?query=TEXT`` any SPARQL. In the spirit of WDQS's
``#defaultView:Map`` comment, ``/views/?query=TEXT`` (or ``?name=``) opens the view a
``#defaultView:Map|Timeline|Graph`` comment line names (a canned query may say the same in a
``#+ tags:`` entry ``view-map``, ``view-timeline`` or ``view-network``). ``/views/search`` is the
search box over the canned ``search`` query. The pages load only vendored files from ``static/``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cdkg.names import ID
from cdkg.web import canned
from cdkg.web.state import endpoint, external_url

bp = Blueprint("visual", __name__)

VIEWS = ("map", "timeline", "network")
#: The query each view draws when none is given.
DEFAULT_QUERY = "views-ties-geo"
#: WDQS's view comments (https://www.mediawiki.org/wiki/Wikidata_Query_Service/User_Manual#defaultView)
_DEFAULT_VIEW = re.compile(r"^\s*#\s*defaultView:\s*(\w+)", re.MULTILINE | re.IGNORECASE)
_WDQS_NAMES = {"map": "map", "timeline": "timeline", "graph": "network", "network": "network"}


def default_view(text: str, tags: tuple[str, ...] = ()) -> str | None:
    """The view a query asks for: a ``#defaultView:X`` comment, else a ``view-X`` tag."""
    if found := _DEFAULT_VIEW.search(text):
        return _WDQS_NAMES.get(found.group(1).lower())
    for tag in tags:
        if tag.startswith("view-") and tag[5:] in VIEWS:
            return tag[5:]
    return None


def chosen_query() -> tuple[str, str, str]:
    """(name, text, URL) of the query the request names: ``query=``, ``name=`` or the default.
    A canned query's parameters come from the other request arguments."""
    if text := request.args.get("query", "").strip():
        return "", text, ""
    name = request.args.get("name") or DEFAULT_QUERY
    params: dict[str, Any] = {
        k: v for k, v in request.args.items() if k not in ("name", "query") and v
    }
    query = endpoint().queries.get(name)
    url = external_url(url_for("canned.run", name=name, **params))
    return name, query.bind(params, canned.resolver()), url


@bp.route("/views/")
def pick() -> Response:
    """Open the view the query asks for (``#defaultView:...``), the map otherwise."""
    name, text, _ = chosen_query()
    tags = endpoint().queries.get(name).tags if name else ()
    view = default_view(text, tuple(tags)) or "map"
    query = request.query_string.decode()
    return redirect(url_for("visual.view", view=view) + (f"?{query}" if query else ""))


@bp.route("/views/<view>")
def view(view: str) -> str:
    if view not in VIEWS:
        abort(404)
    state = endpoint()
    name, text, url = chosen_query()
    config = {
        "view": view,
        "sparql": external_url(url_for("sparql.sparql")),
        "name": name,
        "query": text,
        "queryUrl": url,
        "periods": state.queries.get("views-periods").text,
        # the network view draws the memberships beside the default query's ties
        "memberships": state.queries.get("views-memberships").text if name == DEFAULT_QUERY else "",
        # a city is Iranian by its country, whatever rows it comes in (the network's styling)
        "cities": state.queries.get("views-cities").text if view == "network" else "",
        "version": state.version,
        "world": url_for("static", filename="world-atlas/countries-110m.json"),
    }
    return render_template(
        "view.html", view=view, views=VIEWS, name=name, text=text, query_url=url, config=config
    )


@bp.route("/views/search")
def search() -> str:
    """The search box. Its results link to this server's pages, not to the entities' w3id.org
    IRIs: those are names (they resolve once w3id.org redirects them), the pages are here."""
    config = {
        "url": url_for("canned.run", name="search"),
        "ids": ID,
        # the entity pages are /id/<rest> (cdkg.web.entity): the prefix, under any script root
        "pages": url_for("entity.entity", rest="-").removesuffix("-"),
        "viewer": url_for("source.paper"),
    }
    return render_template("search.html", version=endpoint().version, views=VIEWS, config=config)
