"""The validator: SHACL shapes, *-violation.rq checks, OWL 2 RL consistency, and the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph

from cdkg.errors import LoadError, ValidationFailed
from cdkg.kg.graph import load_graph
from cdkg.kg.report import Finding, ValidationReport
from cdkg.kg.validate import Check, load_checks, load_shapes, validate

MiniGraph = Callable[[str], Graph]


@pytest.fixture(scope="module")
def shapes(fixtures_dir: Path) -> Graph:
    return load_shapes(fixtures_dir / "shapes")


@pytest.fixture(scope="module")
def checks(fixtures_dir: Path) -> list[Check]:
    return load_checks(fixtures_dir / "shapes" / "checks")


def run(graph: Graph, shapes: Graph, checks: list[Check], reason: bool = False) -> ValidationReport:
    return validate(graph, shapes, checks=checks, reason=reason)


def test_valid_data_conforms(mini_graph: MiniGraph, shapes: Graph, checks: list[Check]) -> None:
    report = run(mini_graph("valid"), shapes, checks, reason=True)
    assert report.conforms
    assert report.results == []
    assert report.text() == "Conforms: no findings.\n"


def test_shape_reaches_subclasses_through_the_ontology(
    mini_graph: MiniGraph, shapes: Graph, checks: list[Check]
) -> None:
    report = run(mini_graph("invalid-shape"), shapes, checks)
    assert not report.conforms
    assert [(f.source, f.focus, f.path, f.message) for f in report.results] == [
        ("shacl", "id:nameless", "rdfs:label", "A place needs a label")
    ]


def test_ontology_may_come_separately(
    fixtures_dir: Path, shapes: Graph, checks: list[Check]
) -> None:
    data = load_graph([fixtures_dir / "data" / "invalid-shape.ttl"])
    ontology = load_graph([fixtures_dir / "ontology" / "mini.ttl"])
    assert run(data, shapes, checks).conforms  # without the ontology the town is no place
    report = validate(data, shapes, ontology, checks=checks)
    assert [f.focus for f in report.results] == ["id:nameless"]


def test_check_rows_are_findings(mini_graph: MiniGraph, shapes: Graph, checks: list[Check]) -> None:
    report = run(mini_graph("invalid-check"), shapes, checks)
    assert report.results == [
        Finding(
            source="self-twin-violation.rq",
            focus="id:alpha",
            path="ex:twinnedWith",
            value="id:alpha",
            severity="Violation",
            message="A town is twinned with itself",
        )
    ]


def test_disjoint_classes_are_found_only_when_reasoning(
    mini_graph: MiniGraph, shapes: Graph, checks: list[Check]
) -> None:
    graph = mini_graph("inconsistent")
    assert run(graph, shapes, checks).conforms
    before = len(graph)
    report = run(graph, shapes, checks, reason=True)
    assert len(graph) == before, "the closure must not change the caller's graph"
    assert not report.conforms
    assert {(f.source, f.focus) for f in report.results} == {("owl-rl", "id:gamma")}
    assert "disjoint" in report.results[0].message


def test_owl_nothing_members_are_found() -> None:
    graph = Graph().parse(
        data="""
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        <https://example.org/id/x> a owl:Nothing .
        """,
        format="turtle",
    )
    report = validate(graph, Graph(), checks=[], reason=True)
    assert [f.focus for f in report.results] == ["<https://example.org/id/x>"]
    assert "owl:Nothing" in report.results[0].message


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <https://example.org/S> a sh:NodeShape ;
            sh:targetNode <https://example.org/id/x> ;
            sh:property [ sh:path rdfs:comment ; sh:minCount 1 ; sh:severity sh:Warning ] .
        """,
        format="turtle",
    )
    report = validate(Graph(), shapes, checks=[])
    assert report.conforms
    assert [f.severity for f in report.results] == ["Warning"]
    assert report.counts() == {"Warning": 1}


def test_terms_are_shown_with_the_data_prefixes(
    mini_graph: MiniGraph, shapes: Graph, checks: list[Check]
) -> None:
    graph = Graph()
    for triple in mini_graph("invalid-check"):
        graph.add(triple)  # the same triples, without the files' prefixes
    [finding] = run(graph, shapes, checks).results
    assert finding.focus == "<https://example.org/id/alpha>"


def test_report_text_and_json(mini_graph: MiniGraph, shapes: Graph, checks: list[Check]) -> None:
    report = run(mini_graph("invalid-check"), shapes, checks)
    text = report.text()
    assert text.startswith("Does not conform: 1 violation.")
    for line in (
        "[Violation] self-twin-violation.rq",
        "  focus:   id:alpha",
        "  message: A town is twinned with itself",
    ):
        assert line in text
    body = json.loads(json.dumps(report.to_json()))
    assert body["conforms"] is False
    assert body["results"][0]["source"] == "self-twin-violation.rq"
    with pytest.raises(ValidationFailed):
        report.raise_if_failed()


def test_check_must_parse_and_be_a_select(tmp_path: Path) -> None:
    (tmp_path / "bad-violation.rq").write_text("# broken\nSELECT ?x WHERE {\n ?x ?p\n", "utf-8")
    with pytest.raises(LoadError) as caught:
        load_checks(tmp_path)
    assert caught.value.path.name == "bad-violation.rq"
    assert caught.value.line is not None
    (tmp_path / "bad-violation.rq").write_text("ASK { ?s ?p ?o }\n", "utf-8")
    with pytest.raises(LoadError, match="must be a SELECT"):
        load_checks(tmp_path)


def test_check_without_a_comment_is_named_by_its_file(tmp_path: Path) -> None:
    (tmp_path / "orphan-violation.rq").write_text("SELECT ?focus WHERE { ?focus ?p ?o }", "utf-8")
    (tmp_path / "ignored.rq").write_text("SELECT ?focus WHERE { ?focus ?p ?o }", "utf-8")
    [check] = load_checks(tmp_path)
    assert (check.name, check.message) == ("orphan-violation.rq", "orphan-violation")


@pytest.mark.slow
def test_shipped_kg_conforms_and_is_consistent(kg_graph: Graph) -> None:
    report = validate(kg_graph, reason=True)
    assert report.conforms, report.text()
