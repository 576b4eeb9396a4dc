"""The paper's argument as data (data/argument.ttl): findings rest on claims, claims on evidence
and principles, each step the paper's (with its lines) or the project's (with its reasoning), and
the paper's words at the lines they cite. The line numbers below are those of
``sources/paper/city-diplomacy-iran.fa.txt``, checked by hand."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rdflib import Dataset, Graph, Namespace, URIRef

from cdkg.canned.registry import Registry
from cdkg.kg import store
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg.web import create_app

ID = "https://w3id.org/cdkg/id/"
MP = Namespace("http://purl.org/mp/")
PAPER = Path(__file__).resolve().parents[1] / "sources" / "paper" / "city-diplomacy-iran.fa.txt"
PREFIXES = """PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(kg_dir("queries"))


def rows(dataset: Any, registry: Registry, name: str, **params: str) -> list[dict[str, str]]:
    result = store.query(dataset, registry.bind(name, params))
    names = [str(v) for v in result.vars or []]
    return [
        {n: str(v) for n, v in zip(names, row, strict=True) if v is not None}  # type: ignore[arg-type]
        for row in result
    ]


def short(iri: str) -> str:
    return iri.removeprefix(ID)


# -- the structure --------------------------------------------------------------------------------


def test_every_claim_reaches_a_finding(kg_graph: Graph) -> None:
    stranded = kg_graph.query(
        PREFIXES
        + """SELECT ?claim WHERE { ?claim a cdkg:Claim .
          FILTER NOT EXISTS { ?claim (^cdkg:premise/cdkg:conclusion)+ ?f . ?f a cdkg:Finding } }"""
    )
    assert not list(stranded)


def test_each_finding_rests_on_claims_the_paper_names(kg_graph: Graph) -> None:
    found = kg_graph.query(
        PREFIXES
        + """SELECT ?finding (COUNT(?link) AS ?n) WHERE {
          ?link cdkg:conclusion ?finding ; cdkg:premise ?claim ; prov:wasDerivedFrom ?loc .
          ?finding a cdkg:Finding . ?claim a cdkg:Claim } GROUP BY ?finding"""
    )
    counts = {short(str(r[0])): int(r[1]) for r in found}  # type: ignore[index]
    # Finding 1: the revolution's nature (2111-2115) and the discourses' content (2115-2117).
    # Finding 2: Islamic countries (2125-2129), the periphery (2129-2133), tension avoided
    # (2135-2141), few ties but many civilisations (2141-2147), networks (2147-2151).
    assert counts == {"finding/1": 2, "finding/2": 5}


def test_the_claims_the_issue_names_are_there(kg_graph: Graph) -> None:
    claims = {
        short(str(r[0])): (int(r[1]), int(r[2]))  # type: ignore[index]
        for r in kg_graph.query(
            PREFIXES
            + """SELECT ?c (MIN(?s) AS ?start) (MAX(?e) AS ?end) WHERE { ?c a cdkg:Claim ;
                 prov:wasDerivedFrom [ cdkg:lineStart ?s ; cdkg:lineEnd ?e ] } GROUP BY ?c"""
        )
    }
    assert claims["claim/islamic-countries-priority"] == (1192, 1202)
    assert claims["claim/periphery-rings"] == (1232, 1256)
    assert claims["claim/agreements-mostly-cultural"] == (1679, 1696)
    assert claims["claim/political-exception-freiburg"] == (1698, 1710)
    assert claims["claim/cultural-ties-same-period"] == (1710, 1751)
    assert claims["claim/non-interference-clause"] == (1751, 1759)
    assert claims["claim/multilateral-non-political"] == (1765, 1782)
    assert claims["claim/avoids-ethnic-racial-tension"] == (2135, 2141)


def test_agreements_carry_their_content(kg_graph: Graph) -> None:
    aims = kg_graph.query(
        PREFIXES
        + """SELECT ?tie ?aim WHERE { ?tie cdkg:contentStatement ?c .
          { ?c cdkg:aim ?aim } UNION { ?c cdkg:clause ?aim } }"""
    )
    by_tie: dict[str, set[str]] = {}
    for tie, aim in aims:  # type: ignore[misc]
        by_tie.setdefault(short(str(tie)), set()).add(short(str(aim)))
    assert by_tie["tie/isfahan--freiburg"] == {"aim/political"}  # line 1702, footnote 3
    assert by_tie["tie/isfahan--florence"] == {"aim/cultural", "aim/tourism", "aim/economic"}
    assert "aim/sports" in by_tie["tie/isfahan--barcelona"]  # line 1749: and sports
    assert "clause/non-interference" in by_tie["tie/yazd--urumqi"]  # line 1753


# -- the paper's words at their lines -------------------------------------------------------------

_NOISE = re.compile(r"[\u200c\u200f\u200e\s()«»:؛،.,\-–0-9ـ]+")  # noqa: RUF001


def _squash(text: str) -> str:
    """Persian text without joiners, spaces, punctuation and digits: the extraction scrambles
    word order and drops ZWNJs, but keeps each word's letters together."""
    return _NOISE.sub("", text).replace("ي", "ی").replace("ك", "ک")


def test_every_quote_is_at_its_lines(kg_graph: Graph) -> None:
    """Each word of a quotation (cdkg:quote) occurs in the paper's text at the lines its node
    cites. A wrong line number, or words that are not the paper's, fail."""
    lines = PAPER.read_text(encoding="utf-8").splitlines()
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for node, quote, start, end in kg_graph.query(
        PREFIXES
        + """SELECT ?node ?quote ?start ?end WHERE {
          ?node cdkg:quote ?quote ;
                prov:wasDerivedFrom [ cdkg:lineStart ?start ; cdkg:lineEnd ?end ] }"""
    ):  # type: ignore[misc]
        spans.setdefault((str(node), str(quote)), []).append((int(start), int(end)))
    checked = 0
    for (node, quote), cited in spans.items():
        text = _squash(" ".join(" ".join(lines[s - 1 : e]) for s, e in sorted(cited)))
        # A word's parts around a ZWNJ (گفتمان‌های) are printed apart: check each part. The
        # lam-alef ligature (لا) is torn out of its word in places (lines 584-590): words that
        # hold it are not looked for.
        parts = re.split(r"[\s\u200c]+", quote)
        words = [w for w in (_squash(w) for w in parts) if len(w) > 2 and "لا" not in w]
        missing = [w for w in words if w not in text]
        assert len(missing) <= len(words) // 10, (short(node), cited, missing[:8])
        checked += 1
    assert checked > 40


# -- the canned queries ---------------------------------------------------------------------------


def test_rq2_argument_every_row_has_lines_and_an_author(
    kg_dataset: Dataset, registry: Registry
) -> None:
    found = rows(kg_dataset, registry, "rq2-argument")
    assert len(found) > 100
    assert {r["asserted_by"] for r in found} == {"paper", "cdkg"}
    assert all(re.fullmatch(r"\d+(-\d+)?(, \d+(-\d+)?)*", r["lines"]) for r in found)
    ours = [r for r in found if r["asserted_by"] == "cdkg"]
    assert all(r.get("note", "").startswith(("Our ", "The ", "Iran's", "Counted")) for r in ours)


def test_rq2_argument_shows_the_issues_links(kg_dataset: Dataset, registry: Registry) -> None:
    found = rows(kg_dataset, registry, "rq2-argument", finding="finding/2")
    links = {
        (short(r.get("claim", "")), short(r.get("evidence", "")), short(r.get("principle", ""))): (
            r.get("evidence_kind", ""),
            r["asserted_by"],
            r["lines"],
        )
        for r in found
    }
    assert links[("claim/islamic-countries-priority", "figure/text-islamic-countries", "")] == (
        "printed figure",
        "paper",
        "1192-1202",
    )
    assert links[("claim/islamic-countries-priority", "count/islamic-share", "")][:2] == (
        "computed count",
        "cdkg",
    )
    assert links[("claim/political-exception-freiburg", "tie/isfahan--freiburg", "")][:2] == (
        "tie",
        "paper",
    )
    for partner in ("florence", "barcelona", "saint-petersburg"):
        kind = links[("claim/cultural-ties-same-period", f"content/isfahan--{partner}", "")]
        assert kind[:2] == ("agreement content", "paper")
    assert links[("claim/non-interference-clause", "tie/yazd--urumqi", "")][:2] == ("tie", "paper")
    # The principle is the project's reading: the paper does not cite it at lines 1751-1759.
    assert links[("claim/non-interference-clause", "", "principle/non-intervention")] == (
        "",
        "cdkg",
        "1751-1759",
    )
    assert links[("claim/periphery-rings", "ring/west-of-iran", "")][:2] == (
        "geopolitical ring",
        "paper",
    )
    memberships = [k for k, v in links.items() if v[0] == "membership"]
    assert len(memberships) == 21  # the Asian Mayors Forum's 16, UNESCO's networks' 5
    assert all(r["finding"] == ID + "finding/2" for r in found)


def test_principle_query_lists_the_yazd_urumqi_tie(kg_dataset: Dataset, registry: Registry) -> None:
    found = rows(kg_dataset, registry, "principle", principle="principle/non-intervention")
    assert {short(r["principle"]) for r in found} == {"principle/non-intervention"}
    evidence = {short(r.get("evidence", "")) for r in found}
    assert {"tie/yazd--urumqi", "content/yazd--urumqi-clause", "tie/isfahan--freiburg"} <= evidence
    assert {r["asserted_by"] for r in found} == {"cdkg"}  # the paper links neither to it
    dialogue = rows(kg_dataset, registry, "principle", principle="principle/peaceful-coexistence")
    assert [(short(r["invoked_by"]), r["asserted_by"], r["lines"]) for r in dialogue] == [
        ("discourse/dialogue-among-civilisations", "paper", "756-764")
    ]


def test_the_micropublication_view_holds_the_papers_steps_only(app: Flask) -> None:
    dataset = app.extensions["cdkg"].dataset
    view = dataset.get_context(URIRef("https://w3id.org/cdkg/graph/micropublication"))
    supported = set(view.subject_objects(MP.supportedBy))
    papers = {
        (r[0], r[1])  # type: ignore[index]
        for r in dataset.query(
            PREFIXES
            + """SELECT ?c ?p WHERE { GRAPH <https://w3id.org/cdkg/graph/cdkg> {
              ?l cdkg:conclusion ?c ; cdkg:premise ?p ; prov:wasDerivedFrom ?loc } }"""
        )
    }
    ours = {
        (r[0], r[1])  # type: ignore[index]
        for r in dataset.query(
            PREFIXES
            + """SELECT ?c ?p WHERE { GRAPH <https://w3id.org/cdkg/graph/cdkg> {
              ?l cdkg:conclusion ?c ; cdkg:premise ?p ;
                 prov:wasAttributedTo <https://w3id.org/cdkg/id/project> } }"""
        )
    }
    assert supported == papers
    assert not supported & ours
    argued = set(view.subject_objects(MP.argues))
    assert argued == {
        (URIRef(ID + "argument/1"), URIRef(ID + "finding/1")),
        (URIRef(ID + "argument/2"), URIRef(ID + "finding/2")),
    }


# -- the pages ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(kg_dataset: Dataset) -> Flask:
    return create_app(Settings(), kg_dataset)


def test_a_ties_page_reaches_the_principle(app: Flask) -> None:
    page = app.test_client().get("/id/tie/yazd--urumqi", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    table = html[html.index('id="argument"') :]
    assert 'href="/id/claim/non-interference-clause"' in table
    assert 'href="/id/principle/non-intervention"' in table
    assert "cdkg&#39;s reading" in table
    assert "the paper" in table
    assert 'href="/source/paper#L1751-L1759"' in table


def test_a_principles_page_lists_the_evidence(app: Flask) -> None:
    page = app.test_client().get("/id/principle/non-intervention", headers={"Accept": "text/html"})
    table = page.get_data(as_text=True).split('id="argument"', 1)[1]
    assert 'href="/id/tie/yazd--urumqi"' in table
    assert 'href="/id/content/yazd--urumqi-clause"' in table
