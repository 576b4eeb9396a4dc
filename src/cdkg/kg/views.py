"""Derived named graphs, built once at start-up: each ``queries/views/NAME.rq`` is a CONSTRUCT
over the cdkg graph whose answer becomes the named graph ``https://w3id.org/cdkg/graph/NAME``.

Two views: ``wikidata-view``, the cdkg facts restated in Wikidata's own vocabulary (``wdt:P190``,
``p:P190``/``ps:P190``/``pq:P580``, ``wdt:P463``, ``wdt:P17``, ``wdt:P625``, labels) over ``wd:``
IRIs, so that a query written for the Wikidata Query Service runs unchanged against cdkg; and
``micropublication``, the paper's own steps of argument as ``mp:supportedBy`` triples, so that
tools that read the Micropublications ontology read the paper's argument. Each file says what it
states and why. A view is derived data: start-up validation checks the
cdkg graph before any view exists, and the downloads carry the cdkg graph only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rdflib import Dataset, URIRef
from rdflib.plugins.sparql.sparql import Query

from cdkg.canned.registry import check_sparql, parse_sparql
from cdkg.errors import LoadError
from cdkg.kg import store
from cdkg.names import CDKG_GRAPH
from cdkg.resources import kg_dir

GRAPH_NS = "https://w3id.org/cdkg/graph/"
WIKIDATA_VIEW = URIRef(GRAPH_NS + "wikidata-view")


@dataclass(frozen=True)
class View:
    """One derived graph: its IRI, the CONSTRUCT that builds it, and the file it came from."""

    iri: URIRef
    path: Path
    text: str

    @cached_property
    def query(self) -> Query:
        """rdflib's parse, made on first use."""
        return parse_sparql(self.text, self.path)


#: A CONSTRUCT (not a DESCRIBE) query: the keyword starts a line outside a comment.
_CONSTRUCT = re.compile(r"^\s*CONSTRUCT\b", re.IGNORECASE | re.MULTILINE)


def views_dir() -> Path:
    """``queries/views/`` (packaged or in the checkout)."""
    return kg_dir("queries") / "views"


def load_views(directory: Path | None = None) -> list[View]:
    """Parse every ``*.rq`` of ``directory`` (default :func:`views_dir`); each must be a CONSTRUCT.
    A syntax error is a LoadError naming the file and the line."""
    views = []
    for path in sorted((directory or views_dir()).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        form = check_sparql(text, path).form
        if form != "GRAPH" or not _CONSTRUCT.search(text):
            raise LoadError(path, "a view must be a CONSTRUCT query")
        views.append(View(URIRef(GRAPH_NS + path.stem), path, text))
    return views


def build_views(dataset: Dataset, views: list[View]) -> dict[URIRef, int]:
    """Evaluate each view over the cdkg graph of ``dataset`` into its own named graph (replacing
    what it held); returns each graph's triple count. An empty answer adds no graph."""
    counts = {}
    for view in views:
        dataset.remove_graph(view.iri)
        counts[view.iri] = store.construct_into(dataset, CDKG_GRAPH, view.text, view.iri)
    return counts
