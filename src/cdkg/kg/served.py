"""The dataset ``cdkg serve`` serves: the loaded files plus the graphs derived from them before
serving (the canned queries as RDF, the views). One definition, used by :func:`cdkg.web.create_app`
and by ``cdkg load``, so an external store holds exactly what the embedded one would."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rdflib import Dataset

from cdkg.canned.catalog import QUERIES_GRAPH, catalog
from cdkg.canned.registry import Registry
from cdkg.kg.graph import kg_files, load_dataset
from cdkg.kg.views import View, build_views, load_views
from cdkg.resources import kg_dir


def add_derived_graphs(
    dataset: Dataset, queries: Registry | None = None, views: list[View] | None = None
) -> None:
    """Add to ``dataset`` the graphs ``create_app`` adds before serving: the canned ``queries``
    (default ``queries/``) as RDF in :data:`~cdkg.canned.catalog.QUERIES_GRAPH`, and each of
    ``views`` (default ``queries/views/``) in its own named graph (replacing what those graphs
    held)."""
    if queries is None:
        queries = Registry.load(kg_dir("queries"))
    dataset.remove_graph(QUERIES_GRAPH)
    if len(queries):
        published = dataset.graph(QUERIES_GRAPH)
        published += catalog(queries)
    build_views(dataset, load_views() if views is None else views)


def served_dataset(
    files: Sequence[Path] | None = None,
    extra_graphs: Sequence[tuple[str, Path]] = (),
    queries: Registry | None = None,
) -> Dataset:
    """The dataset ``cdkg serve`` serves: ``files`` (default the shipped ontology and data) and
    ``extra_graphs`` loaded, plus :func:`add_derived_graphs`. Not validated."""
    dataset = load_dataset(extra_graphs, kg_files() if files is None else files)
    add_derived_graphs(dataset, queries)
    return dataset
