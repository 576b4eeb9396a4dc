"""The state an app's request handlers share, built once by :func:`cdkg.web.create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app, request
from rdflib import Dataset
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from cdkg.canned.registry import Registry
from cdkg.engine.runner import Engine
from cdkg.settings import Settings

if TYPE_CHECKING:  # the external store's modules load only with an external store
    from cdkg.kg.stamp import Stamp


@dataclass(frozen=True)
class Endpoint:
    """The frozen dataset, its engine and canned queries, and the data's version."""

    settings: Settings
    dataset: Dataset
    engine: Engine
    queries: Registry
    version: str  # changes whenever the data files change: the downloads' ETag
    modified: float  # POSIX time of the newest data file: the downloads' Last-Modified
    stamp: Stamp | None = None  # what the external store holds (--store URL), read at start-up

    @property
    def triples(self) -> int:
        """The triples served: the store's count when serving from one, else the dataset's."""
        return self.stamp.triples if self.stamp is not None else len(self.dataset)

    def graphs(self) -> dict[str, int]:
        """Each named graph served and its triples: the store's counts when serving from one."""
        if self.stamp is not None:
            return dict(self.stamp.graphs)
        return {
            str(g.identifier): len(g)
            for g in self.dataset.graphs()
            if g.identifier != DATASET_DEFAULT_GRAPH_ID
        }


def endpoint() -> Endpoint:
    """The :class:`Endpoint` of the app handling the current request."""
    state: Endpoint = current_app.extensions["cdkg"]
    return state


def external_url(route: str) -> str:
    """``route`` (a path on this server as ``url_for`` gives it, with any query string) as an
    absolute URL for clients: under ``--public-url`` when the operator set it (behind a proxy the
    request's host is the proxy's upstream, often a loopback address), else under the request's
    own host. Every absolute URL cdkg writes (listings, descriptions, citations, views) is made
    here, so that they agree."""
    public = endpoint().settings.public_url
    if public:
        return public + route.removeprefix(request.script_root)
    return request.host_url.rstrip("/") + route


def public_root() -> str:
    """This server's ``/`` as :func:`external_url` writes it, ending in ``/``."""
    return external_url(request.script_root + "/")
