"""The query page at ``/``: YASGUI, vendored in ``static/yasgui/`` (nothing from a CDN), set to
query this endpoint, with the canned queries of ``queries/`` in a picker that opens one in the
current tab or a new one, and results shown as plain values (YASR's compact table)."""

from __future__ import annotations

from flask import Blueprint, render_template

from cdkg.web.dump import DOWNLOADS
from cdkg.web.state import endpoint

bp = Blueprint("yasgui", __name__)

#: The query shown when no canned query is installed: counts instances per class.
DEFAULT_QUERY = """SELECT ?class (COUNT(?instance) AS ?instances)
WHERE { ?instance a ?class }
GROUP BY ?class
ORDER BY DESC(?instances)
"""


@bp.route("/")
def page() -> str:
    examples = [
        {"name": q.name, "title": q.title, "query": q.text} for q in endpoint().queries
    ] or [{"name": "classes", "title": "Instances per class", "query": DEFAULT_QUERY}]
    return render_template("yasgui.html", examples=examples, downloads=sorted(DOWNLOADS))
