"""The whole-graph dumps: the cdkg graph as ``cdkg.{ttl,nt,jsonld,trig}``, written by Oxigraph.

One writer for the endpoint's ``/download/NAME`` (:mod:`cdkg.web.dump`) and for ``cdkg release``
(:mod:`cdkg.scholarly.release`), so a release holds the very bytes the endpoint serves. Oxigraph
writes from the store itself, terms exactly as held; Turtle and TriG declare the house prefixes
(:data:`cdkg.kg.turtlefmt.PREFIXES`); the TriG file keeps the graph in its named graph,
``https://w3id.org/cdkg/graph/cdkg``.
"""

from __future__ import annotations

import pyoxigraph as ox

from cdkg.kg.turtlefmt import PREFIXES
from cdkg.names import CDKG_GRAPH
from cdkg.sparql import negotiation
from cdkg.sparql.negotiation import Format

#: The files offered, by name.
DOWNLOADS: dict[str, Format] = {
    "cdkg.ttl": negotiation.TURTLE,
    "cdkg.nt": negotiation.NTRIPLES,
    "cdkg.jsonld": negotiation.JSONLD,
    "cdkg.trig": negotiation.TRIG,
}


def dump(store: ox.Store, name: str) -> bytes:
    """The dump ``name`` (a key of :data:`DOWNLOADS`) of the cdkg graph held in ``store``."""
    chosen = ox.RdfFormat.from_media_type(DOWNLOADS[name].media_type)
    if chosen is None:  # every format of DOWNLOADS is one Oxigraph writes
        raise ValueError(f"Oxigraph writes no {DOWNLOADS[name].media_type}")
    graph = ox.NamedNode(str(CDKG_GRAPH))
    house = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    prefixes = house if chosen in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    if chosen == ox.RdfFormat.TRIG:
        quads = store.quads_for_pattern(None, None, None, graph)
        return ox.serialize(quads, format=chosen, prefixes=prefixes) or b""
    return store.dump(format=chosen, from_graph=graph, prefixes=prefixes) or b""
