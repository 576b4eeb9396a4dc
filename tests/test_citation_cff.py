"""``CITATION.cff`` (CFF 1.2.0) agrees with the graph: the ontology header's version, release date
and licence, and the paper's title, journal volume and issue as ``data/paper.ttl`` records them;
it keeps the CFF 1.2.0 schema's rules for every key it uses, and names no author or DOI that could
not be confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS

from cdkg.canned.citation import DATASET_TITLE, PAPER, Paper

CFF = Path(__file__).resolve().parents[1] / "CITATION.cff"
SCHEMA = "https://schema.org/"
#: SPDX identifier of each licence IRI the ontology may declare.
SPDX = {"https://creativecommons.org/licenses/by/4.0/": "CC-BY-4.0"}


@pytest.fixture(scope="module")
def cff() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(CFF.read_text(encoding="utf-8"))
    return doc


#: The CFF 1.2.0 schema's rules (https://citation-file-format.github.io/1.2.0/schema.json) for
#: the keys this file uses, written out here: the one converter that ships the schema, cffconvert
#: 2.0.0, pins a jsonschema older than the one the OpenAPI checks need. As in the schema, no key
#: outside these is allowed, and a date is a string (YAML's dates cast, as the schema says).
_TEXT = {"type": "string", "minLength": 1}
_DATE = {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$"}
_INT_OR_TEXT = {"anyOf": [{"type": "integer"}, _TEXT]}
_PERSON = {  # every key optional: a person may be known by affiliation alone
    "type": "object",
    "additionalProperties": False,
    "properties": dict.fromkeys(
        ("family-names", "given-names", "name-particle", "affiliation", "alias"), _TEXT
    ),
}
_ENTITY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": _TEXT, "website": _TEXT},
}
_AUTHORS = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {"anyOf": [_PERSON, _ENTITY]},
}
_REFERENCE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["authors", "title", "type"],
    "properties": {
        "type": {"enum": ["article", "data", "dataset", "generic", "software"]},
        "title": _TEXT,
        "authors": _AUTHORS,
        "notes": _TEXT,
        "journal": _TEXT,
        "publisher": _ENTITY,
        "volume": _INT_OR_TEXT,
        "issue": {"anyOf": [_TEXT, {"type": "number"}]},
        "issue-date": _TEXT,
        "year": _INT_OR_TEXT,
        "start": _INT_OR_TEXT,
        "end": _INT_OR_TEXT,
        "languages": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": "^[a-z]{2,3}$"},
        },
        "url": {"type": "string", "pattern": "^(https|http|ftp|sftp)://.+"},
        "date-published": _DATE,
        "doi": _TEXT,
    },
}
CFF_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["authors", "cff-version", "message", "title"],
    "properties": {
        "cff-version": {"type": "string", "pattern": r"^1\.2\.0$"},
        "message": _TEXT,
        "type": {"enum": ["dataset", "software"]},
        "title": _TEXT,
        "version": _INT_OR_TEXT,
        "date-released": _DATE,
        "authors": _AUTHORS,
        "license": {"type": "string"},
        "abstract": _TEXT,
        "keywords": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _TEXT},
        "identifiers": {"type": "array", "minItems": 1},
        "references": {"type": "array", "minItems": 1, "items": _REFERENCE},
    },
}


def test_cff_keeps_the_1_2_0_schema(cff: dict[str, Any]) -> None:
    jsonschema.validate(cff, CFF_SCHEMA)


def test_cff_has_what_1_2_0_requires(cff: dict[str, Any]) -> None:
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"]
    assert cff["title"] == DATASET_TITLE  # as every citation the endpoint writes names it
    assert cff["authors"] == [{"name": "cdkg contributors"}]
    assert cff["type"] == "dataset"


def test_cff_release_date_is_the_ontology_header(kg_graph: Graph, cff: dict[str, Any]) -> None:
    """Converters take the year from date-released (without it, BibTeX has no year); the
    endpoint's citations take it from the ontology's dcterms:issued: the two must agree."""
    ontology = next(kg_graph.subjects(RDF.type, OWL.Ontology))
    issued = kg_graph.value(ontology, DCTERMS.issued)
    assert issued is not None, "the ontology header has no dcterms:issued"
    assert cff["date-released"] == str(issued)
    assert cff["date-released"] == "2026-12-07"  # the release this file describes


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


def test_cff_paper_names_no_one_it_could_not_confirm(kg_graph: Graph, cff: dict[str, Any]) -> None:
    """The authors are known by their affiliations alone; their names were never confirmed."""
    (paper,) = cff["references"]
    record = Paper.read(kg_graph)
    assert [a["affiliation"] for a in paper["authors"]] == list(record.authors)
    for author in paper["authors"]:
        assert set(author) == {"affiliation"}
    assert paper["publisher"] == {"name": record.publisher}
    assert paper["journal"] == f"{record.journal_fa} ({record.journal_en})"
