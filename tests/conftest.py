"""Shared fixtures. Loaded graphs are session-scoped: parsing is the slow part, and no test may
change them (copy first if a test needs to)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Dataset, Graph

from cdkg.engine.runner import Engine
from cdkg.kg.graph import load_dataset, load_graph
from cdkg.kg.served import served_dataset
from cdkg.settings import Settings

# The endpoint's fixtures: apps on made-up graphs, real `cdkg serve` processes; the fuzz tests'
# server and tally. A fixture is shared by scope only where it is defined once: here, not by
# importing it into each test module (each import would be a fixture of its own).
pytest_plugins = ["endpoint_fixtures", "browser_fixtures", "virtuoso_fixtures", "fuzz_report"]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/fixtures``: small made-up ontology, shapes, data and queries."""
    return Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def kg_graph() -> Graph:
    """The shipped ontology and data, as one graph."""
    return load_graph()


@pytest.fixture(scope="session")
def kg_dataset() -> Dataset:
    """The shipped ontology and data as the endpoint serves them."""
    return load_dataset()


@pytest.fixture(scope="session")
def kg_served() -> Dataset:
    """The dataset ``cdkg serve`` serves by default: the shipped files plus the derived graphs."""
    return served_dataset()


@pytest.fixture(scope="session")
def kg_engine(kg_served: Dataset) -> Engine:
    """An engine over :func:`kg_served`, answering in this process as ``cdkg query`` does."""
    return Engine(kg_served, Settings())


@pytest.fixture(scope="session")
def mini_graph(fixtures_dir: Path) -> Callable[[str], Graph]:
    """Load the fixture ontology plus ``tests/fixtures/data/<name>.ttl`` (cached per name)."""
    cache: dict[str, Graph] = {}

    def load(name: str) -> Graph:
        if name not in cache:
            files = [*sorted((fixtures_dir / "ontology").glob("*.ttl"))]
            cache[name] = load_graph([*files, fixtures_dir / "data" / f"{name}.ttl"])
        return cache[name]

    return load


@pytest.fixture(scope="session")
def cdkg_script() -> Path:
    """The installed ``cdkg`` console script, beside this interpreter."""
    script = Path(sys.executable).parent / "cdkg"
    if not script.exists():
        pytest.fail(f"no cdkg console script at {script}: install the package (pip install .)")
    return script


@pytest.fixture
def run_cdkg(cdkg_script: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the ``cdkg`` console script from an empty directory; returns the completed process."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cdkg_script), *map(str, args)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run
