"""A query text made explicit for a store that predeclares other prefixes: ``with_prefixes``
declares each implicit prefix the text uses and does not declare, read on its tokens."""

from __future__ import annotations

import pytest

from cdkg.sparql.prefixes import PREFIXES, with_prefixes

TWO = {"rdfs": "http://www.w3.org/2000/01/rdf-schema#", "wd": "http://www.wikidata.org/entity/"}


@pytest.mark.parametrize(
    ("text", "added"),
    [
        ("SELECT * WHERE { ?s rdfs:label ?o ; wd:P1 ?x }", ["rdfs", "wd"]),
        ("SELECT * WHERE { ?s rdfs:label ?o }", ["rdfs"]),
        ("PREFIX rdfs: <urn:x#>\nSELECT * WHERE { ?s rdfs:label ?o }", []),
        ("  prefix wd: <urn:y#>\nprefix rdfs: <urn:x#>\nASK { ?s wd:Q rdfs:x }", []),
        ("# rdfs:label in a comment is no use\nASK { ?s wd:Q1 ?o }", ["wd"]),
        ('ASK { ?s ?p "rdfs:label in a string" }', []),
    ],
)
def test_only_the_prefixes_used_and_undeclared_are_added(text: str, added: list[str]) -> None:
    got = with_prefixes(text, prefixes=TWO)
    assert got.endswith(text)
    assert got[: len(got) - len(text)] == "".join(f"PREFIX {p}: <{TWO[p]}>\n" for p in added)


def test_a_base_is_added_unless_the_text_has_one() -> None:
    assert with_prefixes("ASK {}", base="http://example.org/").startswith(
        "BASE <http://example.org/>\n"
    )
    assert with_prefixes("BASE <urn:b>\nASK {}", base="http://example.org/").startswith("BASE <urn")


def test_a_text_that_is_no_tokens_gets_every_prefix_its_own_declarations_win() -> None:
    text = "PREFIX rdfs: <urn:x#> ASK { ?s rdfs:label ` }"
    got = with_prefixes(text)
    assert got.endswith(text)
    assert got.count("PREFIX ") == len(PREFIXES) + 1
