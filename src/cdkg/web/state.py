"""The state an app's request handlers share, built once by :func:`cdkg.web.create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from rdflib import Dataset

from cdkg.canned.registry import Registry
from cdkg.engine.runner import Engine
from cdkg.settings import Settings


@dataclass(frozen=True)
class Endpoint:
    """The frozen dataset, its engine and canned queries, and the data's version."""

    settings: Settings
    dataset: Dataset
    engine: Engine
    queries: Registry
    version: str  # changes whenever the data files change: the downloads' ETag
    modified: float  # POSIX time of the newest data file: the downloads' Last-Modified


def endpoint() -> Endpoint:
    """The :class:`Endpoint` of the app handling the current request."""
    state: Endpoint = current_app.extensions["cdkg"]
    return state
