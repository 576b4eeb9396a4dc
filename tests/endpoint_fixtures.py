"""Fixtures of the endpoint's tests (a pytest plugin, named in ``conftest.py``).

- ``make_app`` / ``app`` / ``client``: the Flask app on small made-up graphs, no socket;
- ``live_server``: a real ``cdkg serve`` process on a free port, serving the shipped graph plus
  the made-up graphs and the W3C protocol fixtures (``tests/conformance/``) as named graphs;
- ``shipped_server``: a real ``cdkg serve`` process on the shipped graph alone;
- ``start_server``: start more such processes with other arguments; each is stopped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.namespace import RDFS

from cdkg.canned.registry import Registry
from cdkg.kg.graph import load_dataset
from cdkg.settings import Settings
from cdkg.web import create_app
from cdkg_bench.ports import free_port
from servers import DidNotStart, start_and_wait, stop, tail

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
ENDPOINT = FIXTURES / "endpoint"
#: The made-up extra graphs, as ``--graph IRI=PATH`` pairs.
EXTRA_GRAPHS = (
    ("https://example.org/graph/a", ENDPOINT / "extra-a.ttl"),
    ("https://example.org/graph/b", ENDPOINT / "extra-b.ttl"),
)
#: The W3C SPARQL 1.1 Protocol manifest and its fixture graphs, kept in the repository.
CONFORMANCE = Path(__file__).parent / "conformance" / "sparql11-protocol"
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")


def conformance_graphs(directory: Path = CONFORMANCE) -> list[tuple[str, Path]]:
    """The manifest's fixture graphs: (the IRI in ``rdfs:label`` of ``ut:graphData``, file)."""
    manifest = Graph().parse(directory / "manifest.ttl", publicID=directory.as_uri() + "/")
    found = {}
    for data in manifest.objects(None, UT.graphData):
        file = manifest.value(data, UT.graph)
        label = manifest.value(data, RDFS.label)
        if isinstance(file, URIRef) and label is not None:
            found[str(label)] = directory / Path(str(file)).name
    return sorted(found.items())


# --- the app, no socket -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def endpoint_files() -> list[Path]:
    return [ENDPOINT / "people.ttl"]


@pytest.fixture(scope="session")
def endpoint_dataset(endpoint_files: list[Path]) -> Dataset:
    """The made-up graph as the cdkg graph, and two made-up named graphs (read-only)."""
    return load_dataset(EXTRA_GRAPHS, endpoint_files)


@pytest.fixture(scope="session")
def make_app(endpoint_dataset: Dataset, endpoint_files: list[Path]) -> Callable[..., Flask]:
    """Build an app on the made-up graphs with the given settings."""

    def make(*, queries: Registry | None = None, **settings: object) -> Flask:
        # create_app publishes the queries into the dataset: give those apps a dataset of their own
        store = str(settings.get("store", "oxigraph"))
        dataset = endpoint_dataset
        if queries is not None or store != "oxigraph":
            dataset = load_dataset(EXTRA_GRAPHS, endpoint_files, store=store)
        return create_app(
            Settings(graphs=EXTRA_GRAPHS, **settings),  # type: ignore[arg-type]
            dataset,
            files=endpoint_files,
            queries=Registry({}) if queries is None else queries,
        )

    return make


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app with default settings, shared by the read-only protocol tests."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- real servers -----------------------------------------------------------------------------


@dataclass
class LiveServer:
    """A ``cdkg serve`` child process and where it listens."""

    args: Sequence[str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sparql(self) -> str:
        return f"{self.url}/sparql"

    def start(self, ready_within: float = 180) -> LiveServer:
        command = [Path(sys.executable).parent / "cdkg", "serve", "--port", str(self.port)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
        try:
            self.process = start_and_wait(
                [*command, *self.args],
                self.sparql,
                log=self.log,
                ready_within=ready_within,
                env=env,
            )
        except DidNotStart as err:
            pytest.fail(str(err))
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def tail(self, lines: int = 60) -> str:
        return tail(self.log, lines)


@pytest.fixture(scope="session")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """Start ``cdkg serve ARGS...`` on a free port; every server is stopped at the session end."""
    started: list[LiveServer] = []

    def start(*args: str) -> LiveServer:
        log = tmp_path_factory.mktemp("server") / "serve.log"
        server = LiveServer(args, log)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def shipped_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """``cdkg serve`` on the shipped graph alone, for tests that only read from it: a time limit
    with room for the slower canned queries and views on a loaded machine."""
    return start_server("--timeout", "60", "--workers", "2")


#: The live server's time limit: short, so the runaway-query test is quick.
LIVE_TIMEOUT = 3


@pytest.fixture(scope="session")
def live_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """``cdkg serve`` on the shipped graph, the made-up named graphs and the W3C fixtures."""
    graphs = [*EXTRA_GRAPHS, *conformance_graphs()]
    args = ["--timeout", str(LIVE_TIMEOUT), "--workers", "2"]
    for iri, path in graphs:
        args += ["--graph", f"{iri}={path}"]
    return start_server(*args)
