"""What the endpoint says about itself: the SPARQL 1.1 Service Description at ``GET /sparql``
(https://www.w3.org/TR/sparql11-service-description/) and the VoID description of the data at
``/void`` (https://www.w3.org/TR/void/), both content-negotiated.

The VoID statistics are counted once, on first use, from the served graph (from an external
store, read from the stamp ``cdkg load`` wrote there: :mod:`cdkg.kg.stamp`), and described by the
builder ``cdkg release`` shares (:mod:`cdkg.kg.void`). A browser asking for HTML is sent to the
query page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, redirect, request
from flask.blueprints import BlueprintSetupState
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, VOID, XSD

from cdkg.engine.evaluate import serialize_rdflib
from cdkg.kg import void as voids
from cdkg.kg.dumps import DOWNLOADS
from cdkg.sparql import negotiation
from cdkg.sparql.wdqs_services import FUNCTIONS
from cdkg.web.state import Endpoint, public_root

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = (*negotiation.GRAPH_FORMATS, negotiation.HTML)

bp = Blueprint("service", __name__)


#: Serialised descriptions kept; they differ by Host header, which any client can make up.
KEPT = 64


@dataclass
class Descriptions:
    """The counted facts, and each serialised description, kept per (kind, base URL, format)."""

    state: Endpoint
    _stats: Graph | None = None
    _cache: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def stats(self) -> Graph:
        """The VoID statistics, counted on first use (not at start-up), then kept; serving from
        an external store, those its stamp holds (nothing is counted on the store). Only called
        with :attr:`_lock` held."""
        if self._stats is None and self.state.stamp is not None:
            self._stats = self.state.stamp.statistics
        if self._stats is None:
            self._stats = voids.void_statistics(self.state.dataset)
        return self._stats

    def response(self, kind: str) -> Response:
        chosen = negotiation.negotiate(
            request.headers.get("Accept"), FORMATS, request.args.get("format")
        )
        if chosen is negotiation.HTML:
            return redirect("/", code=303)  # type: ignore[return-value]
        base = public_root()
        key = (kind, base, chosen.media_type)
        with self._lock:
            if key not in self._cache:
                build = service_description if kind == "sd" else void_description
                if len(self._cache) >= KEPT:  # one per Host header: bounded, oldest out
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = serialize_rdflib(build(self, base), chosen)
            body = self._cache[key]
        response = Response(body, content_type=chosen.media_type)
        response.vary.add("Accept")
        return response


def _descriptions() -> Descriptions:
    found: Descriptions = current_app.extensions["cdkg.service"]
    return found


@bp.record_once
def _setup(setup: BlueprintSetupState) -> None:
    setup.app.extensions["cdkg.service"] = Descriptions(setup.app.extensions["cdkg"])


def description() -> Response:
    """The service description, for ``GET /sparql`` without a query."""
    return _descriptions().response("sd")


@bp.route("/void")
@bp.route("/.well-known/void", endpoint="well_known_void")
def void() -> Response:
    return _descriptions().response("void")


def void_description(descriptions: Descriptions, base: str) -> Graph:
    """The VoID description of the data served at ``base``."""
    out = voids.void_description(
        descriptions.stats,
        URIRef(f"{base}void#cdkg"),
        version=descriptions.state.version,
        dumps={URIRef(f"{base}download/{name}"): fmt for name, fmt in DOWNLOADS.items()},
        sparql=URIRef(f"{base}sparql"),
    )
    _bind(out)
    return out


def service_description(descriptions: Descriptions, base: str) -> Graph:
    """The SPARQL service description of the endpoint at ``base``."""
    state = descriptions.state
    service = URIRef(f"{base}sparql")
    out = Graph()
    _bind(out)
    out.add((service, RDF.type, SD.Service))
    out.add((service, SD.endpoint, service))
    out.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    out.add((service, SD.feature, SD.UnionDefaultGraph))
    if state.settings.allow_service:
        out.add((service, SD.feature, SD.BasicFederatedQuery))
    for fmt in (*negotiation.RESULT_FORMATS, *negotiation.GRAPH_FORMATS):
        if fmt.iri:
            out.add((service, SD.resultFormat, URIRef(fmt.iri)))
    for function in sorted(FUNCTIONS):
        if not function.startswith("urn:"):  # the rewriting's internal ones are not offered
            out.add((service, SD.extensionFunction, URIRef(function)))
            out.add((URIRef(function), RDF.type, SD.Function))
    out.add((service, RDFS.seeAlso, URIRef(f"{base}void")))
    dataset, default = URIRef(f"{base}void#cdkg"), BNode("default")
    out.add((service, SD.defaultDataset, dataset))
    out.add((dataset, RDF.type, SD.Dataset))
    out.add((dataset, SD.defaultGraph, default))
    out.add((default, RDF.type, SD.Graph))
    out.add((default, VOID.triples, Literal(state.triples, datatype=XSD.integer)))
    for name, count in state.graphs().items():
        named, node = BNode(), BNode()
        out.add((dataset, SD.namedGraph, named))
        out.add((named, RDF.type, SD.NamedGraph))
        out.add((named, SD.name, URIRef(name)))
        out.add((named, SD.graph, node))
        out.add((node, RDF.type, SD.Graph))
        out.add((node, VOID.triples, Literal(count)))
    return out


def _bind(graph: Graph) -> None:
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    graph.bind("formats", Namespace(negotiation.FORMATS_NS))
