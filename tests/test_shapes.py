"""The shipped shapes and checks, shown to accept good data and to reject bad data.

``tests/shapes/valid/*.ttl`` must conform. Each ``tests/shapes/invalid/<target>.<case>.ttl`` must be
rejected by ``<target>``: a node shape of ``shapes/cdkg-shapes.ttl`` (by local name) or a check
``shapes/checks/<target>.rq``. Every shape and every check must have at least one such fixture.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, SH, Graph

from cdkg.graph import load_graph, ontology_files
from cdkg.validate import Check, load_checks, load_shapes, validate

HERE = Path(__file__).parent / "shapes"
VALID = sorted((HERE / "valid").glob("*.ttl"))
INVALID = sorted((HERE / "invalid").glob("*.ttl"))


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def checks() -> list[Check]:
    return load_checks()


def shape_names(shapes: Graph) -> set[str]:
    return {str(s).rsplit("#", 1)[-1] for s in shapes.subjects(RDF.type, SH.NodeShape)}


def target(path: Path) -> str:
    return path.name.split(".", 1)[0]


def test_fixtures_exist() -> None:
    assert VALID
    assert len(INVALID) >= 30


@pytest.mark.parametrize("engine", ["turbo", "pyshacl"])
@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_conforms(
    path: Path, engine: str, shapes: Graph, checks: list[Check]
) -> None:
    report = validate(load_graph([*ontology_files(), path]), shapes, checks=checks, engine=engine)
    assert report.conforms, report.text()


@pytest.mark.parametrize("engine", ["turbo", "pyshacl"])
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_is_rejected_by_its_shape(
    path: Path, engine: str, shapes: Graph, checks: list[Check]
) -> None:
    """Both SHACL engines reject each fixture through the shape it is named for."""
    name = target(path)
    report = validate(load_graph([*ontology_files(), path]), shapes, checks=checks, engine=engine)
    assert not report.conforms
    if name in shape_names(shapes):
        hits = [f for f in report.results if (f.shape or "").endswith((f"#{name}>", f":{name}"))]
    else:
        assert f"{name}.rq" in {c.name for c in checks}, f"{path.name} names no shape or check"
        hits = [f for f in report.results if f.source == f"{name}.rq"]
    assert hits, report.text()
    assert all(f.message for f in hits)


def test_every_shape_and_check_rejects_something(shapes: Graph, checks: list[Check]) -> None:
    covered = {target(p) for p in INVALID}
    missing_shapes = shape_names(shapes) - covered
    missing_checks = {c.name.removesuffix(".rq") for c in checks} - covered
    assert not missing_shapes, f"shapes with no invalid fixture: {sorted(missing_shapes)}"
    assert not missing_checks, f"checks with no invalid fixture: {sorted(missing_checks)}"
