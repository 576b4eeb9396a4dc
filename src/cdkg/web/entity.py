"""Every cdkg IRI dereferences: ``/id/<path>`` is ``https://w3id.org/cdkg/id/<path>``, and
``/ontology`` is ``https://w3id.org/cdkg/ontology`` (its terms, ``...ontology#Term``, are anchors of
that page).

Formats, negotiated from ``Accept`` (``format=`` overrides): an HTML page for people (the default
for browsers and for ``*/*``), Turtle, JSON-LD, N-Triples and RDF/XML. The RDF of an entity is its
CBD plus the labels of what it links to (:func:`cdkg.scholarly.entities.describe_query`, answered
by the engine like any query); of the ontology, every term's CBD. An id the graph does not hold is
a 404 JSON error. The HTML page reads the graph with rdflib's triple API (read-only, safe from the
server's threads).
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

from cdkg.engine.evaluate import QueryRequest, serialize_rdflib
from cdkg.errors import NotFound
from cdkg.names import CDKG, CDKG_GRAPH, ID
from cdkg.scholarly import entities
from cdkg.scholarly.map import Ring, rings_of_topojson, svg
from cdkg.sparql import negotiation
from cdkg.web.state import endpoint

bp = Blueprint("entity", __name__)

FORMATS = (
    negotiation.HTML,
    negotiation.TURTLE,
    negotiation.JSONLD,
    negotiation.NTRIPLES,
    negotiation.RDFXML,
)
ONTOLOGY = URIRef(str(CDKG).rstrip("#"))
#: The countries the small map draws: the vendored world-atlas the views use too (Natural Earth
#: 1:110m), so the map needs nothing from the network.
WORLD = "world-atlas/countries-110m.json"


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    setup.app.extensions["cdkg.ontology"] = _Ontology()


class _Ontology:
    """The ontology's own triples, picked out of the cdkg graph on the first request for them
    (not at start-up: it reads the whole graph), then kept."""

    def __init__(self) -> None:
        self._graph: Graph | None = None
        self._lock = threading.Lock()

    def graph(self) -> Graph:
        with self._lock:
            if self._graph is None:
                self._graph = _ontology_triples(endpoint().dataset.get_context(CDKG_GRAPH))
            return self._graph


def _ontology_triples(graph: Graph) -> Graph:
    ontology = Graph()
    for prefix, namespace in entities.PREFIXES.items():
        ontology.bind(prefix, namespace, replace=True)
    ontology.bind("owl", OWL)
    for subject in set(graph.subjects()):
        if isinstance(subject, URIRef) and str(subject).startswith(str(ONTOLOGY)):
            ontology += graph.cbd(subject)
    return ontology


@bp.route("/id/<path:rest>")
def entity(rest: str) -> Response:
    iri = URIRef(ID + rest)
    dataset = endpoint().dataset  # the union of the cdkg graph, the views and the queries
    if next(iter(dataset.triples((iri, None, None))), None) is None:
        raise NotFound(
            f"no entity <{iri}> in this graph",
            hint="ids look like /id/city/tehran, /id/tie/tehran--los-angeles, /id/org/uclg; "
            "list them with SELECT ?s WHERE { ?s a ?class }",
        )
    chosen = _negotiate()
    if chosen is negotiation.HTML:
        model = entities.page(dataset, iri)
        mapped = None
        if model.centre is not None:
            mapped = svg(model.centre, model.partners, land=_land(current_app.static_folder))
        return _respond(render_template("entity.html", page=model, map=mapped), chosen)
    # The RDF is Oxigraph's answer to a CONSTRUCT, as /sparql would give it: terms as held.
    answer = endpoint().engine.run(
        QueryRequest(entities.describe_query(iri), format=chosen.media_type)
    )
    return _respond(answer.body, chosen)


@bp.route("/ontology")
def ontology() -> Response:
    graph = current_app.extensions["cdkg.ontology"].graph()
    chosen = _negotiate()
    if chosen is not negotiation.HTML:
        return _respond(serialize_rdflib(graph, chosen), chosen)
    terms = []
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        for term in sorted(graph.subjects(RDF.type, kind), key=str):
            if isinstance(term, URIRef) and str(term).startswith(str(CDKG)):
                comments = {
                    c.language: str(c)
                    for c in graph.objects(term, RDFS.comment)
                    if isinstance(c, Literal)
                }
                terms.append(
                    {
                        "anchor": str(term).removeprefix(str(CDKG)),
                        "kind": str(kind).rsplit("#", 1)[-1],
                        "en": entities.label(graph, term, "en"),
                        "fa": entities.label(graph, term, "fa"),
                        "comment_en": comments.get("en"),
                        "comment_fa": comments.get("fa"),
                    }
                )
    title = entities.label(graph, ONTOLOGY, "en")
    return _respond(render_template("ontology.html", title=title, terms=terms), chosen)


@functools.cache
def _land(static: str | None) -> tuple[Ring, ...]:
    """The countries' rings, read from the static folder on the first map drawn (not at start-up,
    which no entity page should slow down), then kept: the file never changes while serving."""
    if static is None:
        return ()
    return tuple(rings_of_topojson(json.loads((Path(static) / WORLD).read_bytes())))


def _negotiate() -> negotiation.Format:
    return negotiation.negotiate(request.headers.get("Accept"), FORMATS, request.args.get("format"))


def _respond(body: str | bytes, chosen: negotiation.Format) -> Response:
    media_type = chosen.media_type
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    response = Response(body, content_type=media_type)
    response.vary.add("Accept")
    return response
