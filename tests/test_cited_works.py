"""The works the paper cites in its running text (``data/works.ttl``), against the paper itself.

The paper has no reference list: its citations are in-text, author-year (Solar Hijri years for
Persian works, Gregorian for Latin-script ones). Each cited work is a ``cdkg:CitedWork`` with the
citations as printed (``cdkg:citedAs``) and one ``cdkg:PaperLocation`` per place it is cited. The
expected lines below were read by hand from ``sources/paper/city-diplomacy-iran.fa.txt``, never
computed from the data: if the data loses a citation, these tests fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "sources" / "paper" / "city-diplomacy-iran.fa.txt"

CDKG = "https://w3id.org/cdkg/ontology#"
CITED_WORK = URIRef(CDKG + "CitedWork")
CITED_AS = URIRef(CDKG + "citedAs")
LINE_START = URIRef(CDKG + "lineStart")
LINE_END = URIRef(CDKG + "lineEnd")
PRINTED_FORM = URIRef(CDKG + "printedForm")
SECTION = URIRef(CDKG + "section")
WAS_DERIVED_FROM = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
CITES = URIRef("http://purl.org/spar/cito/cites")
PAPER_NODE = URIRef("https://w3id.org/cdkg/id/paper")
WORK = "https://w3id.org/cdkg/id/work/"

# Other parts of the graph point at these slugs: they must stay as they are.
FIXED_SLUGS = (
    "mohammadi-1389",
    "dehshiri-1393b",
    "khomeini-1371",
    "tabatabaei-motamani-1387",
    "mowlana-1387",
)

# Distinct works cited author-year in the running text (34, read through every section).
WORK_COUNT = 34

# Works checked by hand against the paper: slug -> the first line of each place it is cited.
HAND_CHECKED = {
    "mohammadi-1389": {543, 709},  # «(محمدی، 1389: 41-42)»; «… و نیز محمدی، 1389، ص 134-135)»
    "mohammadi-1386": {1246},  # «(رک: محمدی، 1386)», lines 1246-1248: a different work
    "mowlana-1387": {709, 729, 760},  # «(مولانا و محمدی، 1387: …)» three times in section 5
    "ghavam-1384": {55, 63, 189},  # pages 207, 208, 209
    "ghavam-1388": {447},  # «(رک: قوام، 1388: 231-291 و یزدان‌فام، 1387)»
    "khomeini-1371": {533},  # «(خمینی، ج 11، 1371: 266)», lines 533-535
    "dehshiri-1393a": {303},
    "dehshiri-1393b": {590},
    "tabatabaei-motamani-1387": {633},
    "eyvazi-1387": {749, 786},
    "pluijm-2007": {233, 354},  # the second printed «Pliujim and Mellissin, 2007: 22»
    "sizoo-1394": {241, 382},  # printed «سیزرو» on 241, «سیزو» on 382
    "websters-dictionary-1943": {49},  # «(Webster's Dictionary, 1943: 152)», curly apostrophe
}

SECTIONS = {"abstract", "1", "2", "3", "4", "5", "5-1", "5-2", "conclusion"}


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return PAPER.read_text(encoding="utf-8").split("\n")


def works(graph: Graph) -> set[URIRef]:
    return {w for w in graph.subjects(RDF.type, CITED_WORK) if isinstance(w, URIRef)}


def locations(graph: Graph, work: URIRef) -> list[URIRef]:
    return [loc for loc in graph.objects(work, WAS_DERIVED_FROM) if isinstance(loc, URIRef)]


def number(graph: Graph, loc: URIRef, prop: URIRef) -> int:
    value = graph.value(loc, prop)
    assert isinstance(value, Literal), (loc, prop)
    return int(value.toPython())


def label(graph: Graph, work: URIRef, lang: str) -> list[Literal]:
    return [
        lbl
        for lbl in graph.objects(work, RDFS.label)
        if isinstance(lbl, Literal) and lbl.language == lang
    ]


def test_fixed_slugs_are_cited_works(kg_graph: Graph) -> None:
    for slug in FIXED_SLUGS:
        assert (URIRef(WORK + slug), RDF.type, CITED_WORK) in kg_graph, slug


def test_number_of_cited_works(kg_graph: Graph) -> None:
    assert len(works(kg_graph)) == WORK_COUNT


def test_slugs_are_lowercase_ascii(kg_graph: Graph) -> None:
    for work in works(kg_graph):
        assert str(work).startswith(WORK), work
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*-[0-9]{4}[ab]?", str(work)[len(WORK) :]), work


def test_every_work_has_both_labels_and_a_citation(kg_graph: Graph) -> None:
    for work in works(kg_graph):
        assert len(label(kg_graph, work, "en")) == 1, work
        assert len(label(kg_graph, work, "fa")) == 1, work
        assert list(kg_graph.objects(work, CITED_AS)), work


def test_citations_carry_the_labelled_year(kg_graph: Graph) -> None:
    """Every printed citation of a work prints the year its labels give; Persian ones are @fa."""
    for work in works(kg_graph):
        year = re.search(r"[0-9]{4}", str(label(kg_graph, work, "fa")[0]))
        assert year, work
        for cited in kg_graph.objects(work, CITED_AS):
            assert isinstance(cited, Literal)
            assert year.group() in str(cited), (work, cited)
            persian = re.search(r"[\u0600-\u06FF]", str(cited)) is not None
            assert cited.language == ("fa" if persian else None), (work, cited)
            assert str(cited).startswith("("), (work, cited)
            assert str(cited).endswith(")"), (work, cited)


def test_every_work_is_cited_by_the_paper(kg_graph: Graph) -> None:
    for work in works(kg_graph):
        assert (PAPER_NODE, CITES, work) in kg_graph, work
    assert set(kg_graph.objects(PAPER_NODE, CITES)) >= works(kg_graph)


def test_every_location_quotes_its_first_line(kg_graph: Graph, lines: list[str]) -> None:
    for work in works(kg_graph):
        locs = locations(kg_graph, work)
        assert locs, work
        for loc in locs:
            first, last = number(kg_graph, loc, LINE_START), number(kg_graph, loc, LINE_END)
            printed = kg_graph.value(loc, PRINTED_FORM)
            assert printed is not None, loc
            assert 1 <= first <= last <= len(lines), loc
            assert last - first <= 2, loc  # a citation breaks over one line at most (blank between)
            assert lines[first - 1].strip() == str(printed), (loc, first)
            assert str(kg_graph.value(loc, SECTION)) in SECTIONS, loc


def test_every_location_prints_the_year(kg_graph: Graph, lines: list[str]) -> None:
    """The cited lines, as extracted, contain the work's year."""
    for work in works(kg_graph):
        year = re.search(r"[0-9]{4}", str(label(kg_graph, work, "fa")[0]))
        assert year, work
        for loc in locations(kg_graph, work):
            first, last = number(kg_graph, loc, LINE_START), number(kg_graph, loc, LINE_END)
            span = " ".join(lines[first - 1 : last])
            assert year.group() in span, (work, loc)


@pytest.mark.parametrize("slug", sorted(HAND_CHECKED))
def test_hand_checked_citations(kg_graph: Graph, slug: str) -> None:
    work = URIRef(WORK + slug)
    assert (work, RDF.type, CITED_WORK) in kg_graph, slug
    found = {number(kg_graph, loc, LINE_START) for loc in locations(kg_graph, work)}
    assert found == HAND_CHECKED[slug]


def test_sections_of_hand_checked_citations(kg_graph: Graph) -> None:
    # Headings: L.253 «2.», L.397 «3.», L.492 «4.», L.694 «5.», L.1176 «5-1».
    expected = {
        ("mohammadi-1389", 543): "4",
        ("mohammadi-1389", 709): "5",
        ("mohammadi-1386", 1246): "5-1",
        ("ghavam-1388", 447): "3",
        ("pluijm-2007", 354): "2",
        ("pluijm-2007", 233): "1",
    }
    for (slug, line), section in expected.items():
        (loc,) = [
            loc
            for loc in locations(kg_graph, URIRef(WORK + slug))
            if number(kg_graph, loc, LINE_START) == line
        ]
        assert str(kg_graph.value(loc, SECTION)) == section, (slug, line)


def test_same_surname_different_works(kg_graph: Graph) -> None:
    """محمدی 1386, محمدی 1389 and مولانا و محمدی 1387 are three works; دهشیری has three too."""
    for slug in (
        "mohammadi-1386",
        "mohammadi-1389",
        "mowlana-1387",
        "dehshiri-1392",
        "dehshiri-1393a",
        "dehshiri-1393b",
    ):
        assert (URIRef(WORK + slug), RDF.type, CITED_WORK) in kg_graph, slug
    assert Literal("(محمدی، 1389: 41-42)", lang="fa") in set(
        kg_graph.objects(URIRef(WORK + "mohammadi-1389"), CITED_AS)
    )
