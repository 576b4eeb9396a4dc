"""The shipped shapes and checks, shown to accept good data and to reject bad data.

``tests/shapes/valid/*.ttl`` must conform. Each ``tests/shapes/invalid/<target>.<case>.ttl`` must be
rejected by ``<target>``: a node shape of ``shapes/cdkg-shapes.ttl`` (by local name) or a check
``shapes/checks/<target>.rq``. Every shape and every check must have at least one such fixture.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, SH, Graph

from cdkg.kg import validate as validate_module
from cdkg.kg.graph import load_dataset, load_graph, ontology_files
from cdkg.kg.validate import Check, ValidationReport, load_checks, load_shapes, validate
from cdkg.names import CDKG_GRAPH

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


#: How a fixture is validated: (SHACL engine, where the data is held). ``store`` is how ``cdkg
#: serve`` validates: the cdkg graph of the served Oxigraph store, which pyshacl-turbo reads as a
#: store of its own (cdkg.kg.validate._native).
MODES = [("turbo", "graph"), ("pyshacl", "graph"), ("turbo", "store")]


def fixture_report(
    path: Path, mode: tuple[str, str], shapes: Graph, checks: list[Check]
) -> ValidationReport:
    engine, held = mode
    files = [*ontology_files(), path]
    data = (
        load_graph(files) if held == "graph" else load_dataset(files=files).get_context(CDKG_GRAPH)
    )
    return validate(data, shapes, checks=checks, engine=engine)


def test_fixtures_exist() -> None:
    assert VALID
    assert len(INVALID) >= 30


@pytest.mark.parametrize("mode", MODES, ids="-".join)
@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixture_conforms(
    path: Path, mode: tuple[str, str], shapes: Graph, checks: list[Check]
) -> None:
    report = fixture_report(path, mode, shapes, checks)
    assert report.conforms, report.text()


#: Fixtures whose fault Oxigraph's store does not keep: it holds typed literals in canonical
#: form, so ``"3"^^xsd:positiveInteger`` is served as ``"3"^^xsd:integer`` (docs/stores.md).
CANONICALISED = {"PaperLocationShape.positive-integer-type.ttl"}


@pytest.mark.parametrize("mode", MODES, ids="-".join)
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixture_is_rejected_by_its_shape(
    path: Path, mode: tuple[str, str], shapes: Graph, checks: list[Check]
) -> None:
    """Both SHACL engines reject each fixture through the shape it is named for."""
    if mode[1] == "store" and path.name in CANONICALISED:
        report = fixture_report(path, mode, shapes, checks)
        assert report.conforms, "the store keeps this fault now: drop it from CANONICALISED"
        return
    name = target(path)
    report = fixture_report(path, mode, shapes, checks)
    assert not report.conforms
    if name in shape_names(shapes):
        hits = [f for f in report.results if (f.shape or "").endswith((f"#{name}>", f":{name}"))]
    else:
        assert f"{name}.rq" in {c.name for c in checks}, f"{path.name} names no shape or check"
        hits = [f for f in report.results if f.source == f"{name}.rq"]
    assert hits, report.text()
    assert all(f.message for f in hits)


def findings(report: ValidationReport) -> list[tuple[str | None, ...]]:
    """A report's findings but their messages: the engines word their default messages alike,
    but render nodes with or without the graph's prefixes."""
    return [(f.source, f.focus, f.path, f.value, f.severity, f.shape) for f in report.results]


@pytest.mark.parametrize("path", [*VALID, *INVALID], ids=lambda p: p.name)
def test_a_copy_of_the_store_gives_what_rdflibs_view_of_it_gives(
    path: Path, shapes: Graph, checks: list[Check], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the served store, pyshacl-turbo reads a copy of the store (fast), where it once read
    the store through rdflib's API (oxrdflib): the findings are the same."""
    on_copy = fixture_report(path, ("turbo", "store"), shapes, checks)
    monkeypatch.setattr(validate_module, "_native", lambda graph: graph)
    through_rdflib = fixture_report(path, ("turbo", "store"), shapes, checks)
    assert findings(on_copy) == findings(through_rdflib)


def test_every_shape_and_check_rejects_something(shapes: Graph, checks: list[Check]) -> None:
    covered = {target(p) for p in INVALID}
    missing_shapes = shape_names(shapes) - covered
    missing_checks = {c.name.removesuffix(".rq") for c in checks} - covered
    assert not missing_shapes, f"shapes with no invalid fixture: {sorted(missing_shapes)}"
    assert not missing_checks, f"checks with no invalid fixture: {sorted(missing_checks)}"
