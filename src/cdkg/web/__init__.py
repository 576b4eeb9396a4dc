"""The web face of cdkg: :func:`create_app` and one blueprint per face.

The routing table, all of it:

=====================  ==============  ============================================================
path                   methods         handler
=====================  ==============  ============================================================
``/``                  GET             :mod:`.yasgui`: the YASGUI page, canned queries in a picker
``/sparql``            GET POST        :mod:`.sparql`: the SPARQL 1.1 Protocol (``/sparql/`` too);
                                       GET without a query: the service description
``/void``              GET             :mod:`.service`: the VoID description (also
                                       ``/.well-known/void``)
``/download/<file>``   GET             :mod:`.dump`: ``cdkg.ttl``, ``.nt``, ``.jsonld``, ``.trig``
``/audit``             GET             :mod:`.audit`: the claims audit, JSON, CSV or HTML
``/queries``           GET             :mod:`.canned`: the canned queries, HTML or JSON
``/queries/<name>``    GET             :mod:`.canned`: run one; HTML, SPARQL JSON/XML, CSV, TSV;
                                       its citation (:mod:`.cite`)
``/citation``          GET             :mod:`.cite`: the dataset's citation: text (APA), BibTeX,
                                       CSL-JSON, RIS
``/openapi.json``      GET             :mod:`.openapi`: OpenAPI 3.1, one operation per query
``/id/<path>``         GET             :mod:`.entity`: ``https://w3id.org/cdkg/id/<path>``, HTML,
                                       Turtle, JSON-LD, N-Triples, RDF/XML
``/ontology``          GET             :mod:`.entity`: the ontology, HTML or RDF
``/wikidata-diff``     GET             :mod:`.wikidiff`: the paper's ties against Wikidata P190
``/source/paper``      GET             :mod:`.source`: the paper's text, a line per ``#L<n>``
                                       anchor; HTML, or the file as ``text/plain``
``/views/<view>``      GET             :mod:`.visual`: map, timeline, network of a query's rows;
                                       ``/views/search``: Persian-aware search
``/static/..``         GET             the vendored YASGUI, Leaflet, cytoscape, world outline
=====================  ==============  ============================================================

Every response carries CORS headers (:mod:`.cors`); every error, whatever raised it, goes through
the one renderer in :mod:`.errors`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from rdflib import Dataset

from cdkg.canned.registry import Registry
from cdkg.engine.runner import Engine
from cdkg.kg.graph import dataset_version, kg_files, load_dataset
from cdkg.kg.served import add_derived_graphs
from cdkg.kg.store import OXIGRAPH
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg.web import (
    audit,
    body,
    canned,
    cite,
    cors,
    dump,
    entity,
    errors,
    openapi,
    service,
    source,
    sparql,
    visual,
    wikidiff,
    yasgui,
)
from cdkg.web.state import Endpoint

if TYPE_CHECKING:  # the external store's modules load only with an external store
    from cdkg.kg.stamp import Stamp

__all__ = ["Endpoint", "create_app"]

log = logging.getLogger("cdkg.serve")


def create_app(
    settings: Settings,
    dataset: Dataset | None = None,
    *,
    files: Sequence[Path] | None = None,
    queries: Registry | None = None,
) -> Flask:
    """A Flask app serving ``dataset`` (default: ``files``, default the shipped ontology and
    data, plus ``settings.graphs``), with the canned ``queries`` (default: ``queries/``).

    The canned queries are published as RDF into ``dataset``, in the named graph
    :data:`~cdkg.canned.catalog.QUERIES_GRAPH` (replacing what it held); validation, before this,
    sees only the cdkg graph. The views of ``queries/views/`` (:mod:`cdkg.kg.views`) are built the
    same way, each into its own named graph."""
    files = list(kg_files() if files is None else files)
    if dataset is None:
        dataset = load_dataset(settings.graphs, files)
    if queries is None:
        queries = Registry.load(kg_dir("queries"))
    add_derived_graphs(dataset, queries)  # the catalog, and views such as the Wikidata-shaped one
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    version = dataset_version(files)
    remote, stamp = _remote(settings, dataset, version)
    engine = Engine(dataset, settings, remote=remote)
    if stamp is not None:  # queries go over the graphs the store holds
        engine.graphs = frozenset(stamp.graphs)
    engine.start()
    app.extensions["cdkg"] = Endpoint(
        settings=settings,
        dataset=dataset,
        engine=engine,
        queries=queries,
        version=version if stamp is None else stamp.version,
        modified=max((f.stat().st_mtime for f in files), default=time.time()),
        stamp=stamp,
    )
    errors.init_app(app)
    cors.init_app(app, settings.cors_origins)
    body.init_app(app, settings.max_body)
    for module in (
        sparql,
        service,
        dump,
        yasgui,
        canned,
        cite,
        openapi,
        entity,
        wikidiff,
        visual,
        audit,
        source,
    ):
        app.register_blueprint(module.bp)
    return app


def _remote(settings: Settings, dataset: Dataset, version: str) -> tuple[object, Stamp | None]:
    """The external store queries go to (``--store URL``) and the stamp it holds, read with one
    query (:mod:`cdkg.kg.stamp`: a store holding other data than the files refuses to start,
    unless ``--serve-store-version``); None and None for the embedded store."""
    if settings.store == OXIGRAPH:
        return None, None
    from cdkg.kg import stamp  # noqa: PLC0415 - only with an external store
    from cdkg.sparql.remote import RemoteStore  # noqa: PLC0415

    remote = RemoteStore(settings.store, timeout=settings.timeout, max_rows=settings.max_rows)
    found, said = stamp.check(
        stamp.read(remote),
        settings.store,
        version,
        stamp.graph_counts(dataset),
        serve_store=settings.serve_store_version,
    )
    log.info("%s", said)
    return remote, found
