"""The IRIs cdkg mints (its ontology, entities and graph), and what counts as an absolute IRI."""

from __future__ import annotations

import re

from rdflib import Namespace, URIRef

CDKG = Namespace("https://w3id.org/cdkg/ontology#")
#: Every entity's IRI starts so; ``/id/<path>`` on the endpoint serves it.
ID = "https://w3id.org/cdkg/id/"
#: The named graph of the loaded files (the ontology and the data).
CDKG_GRAPH = URIRef("https://w3id.org/cdkg/graph/cdkg")

#: An absolute IRI: a scheme, then characters Turtle and SPARQL allow inside <...>.
ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")
