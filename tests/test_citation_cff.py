"""``CITATION.cff`` (CFF 1.2.0) agrees with the graph: the ontology header's version and licence,
and the paper's title, journal volume and issue as ``data/paper.ttl`` records them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from cdkg.canned.citation import PAPER

CFF = Path(__file__).resolve().parents[1] / "CITATION.cff"
SCHEMA = "https://schema.org/"
#: SPDX identifier of each licence IRI the ontology may declare.
SPDX = {"https://creativecommons.org/licenses/by/4.0/": "CC-BY-4.0"}


@pytest.fixture(scope="module")
def cff() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(CFF.read_text(encoding="utf-8"))
    return doc


def test_cff_has_what_1_2_0_requires(cff: dict[str, Any]) -> None:
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"]
    assert cff["title"]
    assert cff["authors"] == [{"name": "cdkg contributors"}]
    assert cff["type"] == "dataset"


def test_cff_version_and_licence_are_the_ontology_header(
    kg_graph: Graph, cff: dict[str, Any]
) -> None:
    ontology = next(kg_graph.subjects(RDF.type, OWL.Ontology))
    assert cff["version"] == str(kg_graph.value(ontology, OWL.versionInfo))
    assert cff["license"] == SPDX[str(kg_graph.value(ontology, DCTERMS.license))]


def test_cff_references_the_paper(kg_graph: Graph, cff: dict[str, Any]) -> None:
    (paper,) = cff["references"]
    assert paper["type"] == "article"
    assert Literal(paper["title"], lang="fa") in set(kg_graph.objects(PAPER, RDFS.label))
    issue = kg_graph.value(PAPER, URIRef(SCHEMA + "isPartOf"))
    volume = kg_graph.value(issue, URIRef(SCHEMA + "isPartOf"))
    assert str(paper["volume"]) == str(kg_graph.value(volume, URIRef(SCHEMA + "volumeNumber")))
    assert paper["issue"] == str(kg_graph.value(issue, URIRef(SCHEMA + "issueNumber")))
    assert str(paper["year"]) == str(kg_graph.value(issue, URIRef(SCHEMA + "datePublished")))
    assert "Foreign Policy Quarterly" in paper["journal"]
    assert f"{paper['start']}-{paper['end']}" == str(
        kg_graph.value(PAPER, URIRef(SCHEMA + "pagination"))
    )
    assert paper["url"] == str(kg_graph.value(PAPER, URIRef(SCHEMA + "url")))
    assert "doi" not in paper  # none could be confirmed
