"""The shipped data against the paper itself.

The expected numbers below are copied from the paper's text (line numbers of
``sources/paper/city-diplomacy-iran.fa.txt`` in the comments), never computed from the data: if the
data drifts from what the paper prints, these tests fail.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from cdkg.canned.registry import Registry
from cdkg.resources import kg_dir, paper_text

PREFIXES = """
PREFIX cdkg: <https://w3id.org/cdkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#>
"""
ID = "https://w3id.org/cdkg/id/"
REPO = Path(__file__).resolve().parents[1]


def count(graph: Graph, where: str) -> int:
    rows = list(graph.query(PREFIXES + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"))
    return int(rows[0][0])  # type: ignore[index]


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load(kg_dir("queries"))


@pytest.fixture(scope="session")
def paper_lines() -> list[str]:
    return paper_text().read_text(encoding="utf-8").split("\n")


# -- the paper's own totals ---------------------------------------------------------------


def test_sister_city_ties_as_printed(kg_graph: Graph) -> None:
    # L.1178: «61 مورد روابط خواهرخواندگی»
    assert count(kg_graph, "?t a cdkg:SisterCityTie") == 61


def test_cooperation_mous_as_printed(kg_graph: Graph) -> None:
    # L.1180: Tehran and Mashhad have 9 cooperation MoUs
    assert count(kg_graph, "?t a cdkg:CooperationMoU") == 9
    assert (
        count(
            kg_graph,
            f"?t a cdkg:CooperationMoU ; cdkg:iranianCity ?c . "
            f"FILTER (?c IN (<{ID}city/tehran>, <{ID}city/mashhad>))",
        )
        == 9
    )


def test_all_bilateral_ties_as_printed(kg_graph: Graph) -> None:
    # L.1194 and L.1582: «70 مورد روابط دوجانبه»
    assert count(kg_graph, "?t a/rdfs:subClassOf* cdkg:BilateralTie") == 70


def test_dated_and_undated_ties_as_printed(kg_graph: Graph) -> None:
    # L.1582-1584: 40 ties have a date, 30 have none
    assert count(kg_graph, "?t cdkg:startYear ?y") == 40
    assert (
        count(
            kg_graph,
            "?t a/rdfs:subClassOf* cdkg:BilateralTie FILTER NOT EXISTS { ?t cdkg:startYear ?y }",
        )
        == 30
    )


def test_table2_region_totals_as_printed(kg_graph: Graph) -> None:
    # Table 2, L.1347-1578: 20, 11, 10, 13, 3, 7, 6
    printed = {
        "middle-east-west-asia": 20,
        "central-asia-caucasus": 11,
        "east-asia": 10,
        "eastern-europe": 13,
        "africa": 3,
        "western-europe-north-america": 7,
        "central-south-america": 6,
    }
    for region, n in printed.items():
        ties = count(
            kg_graph, f"?t cdkg:partnerCity/cdkg:country/cdkg:region <{ID}region/{region}>"
        )
        assert ties == n, region


def test_table3_rows_as_printed(kg_graph: Graph) -> None:
    # Table 3, L.1604-1676: the count printed for each discourse period
    printed = {
        "independent-national-policy": 2,
        "revolutionism": 1,
        "expediency": 3,
        "dialogue-among-civilisations": 15,
        "justice-centred-principlism": 15,
        "moderation": 4,
    }
    for discourse, n in printed.items():
        value = kg_graph.value(
            URIRef(f"{ID}figure/table3-{discourse}"),
            URIRef("https://w3id.org/cdkg/ontology#printedValue"),
        )
        assert value == Literal(n), discourse


def test_table3_contradiction_is_recorded_not_fixed(kg_graph: Graph) -> None:
    """Table 3 lists Kuwait for 2005-2013, but no dated tie with Kuwait falls in that period."""
    assert (
        count(
            kg_graph,
            f"<{ID}figure/table3-justice-centred-principlism> "
            f"cdkg:printedCountry <{ID}country/kuwait>",
        )
        == 1
    )
    assert (
        count(
            kg_graph,
            f"?t cdkg:partnerCity/cdkg:country <{ID}country/kuwait> ; "
            "cdkg:startYear ?y FILTER (STR(?y) >= '2005' && STR(?y) <= '2013')",
        )
        == 0
    )


def test_text_figures_recorded_as_printed(kg_graph: Graph) -> None:
    printed = {
        "text-sister-city-ties": 61,
        "text-mous-tehran-mashhad": 9,
        "text-istanbul-ties": 75,
        "text-bilateral-ties": 70,
        "text-islamic-countries": 30,
        "text-periphery": 31,
        "text-east-asia-eastern-europe": 23,
        "text-other-regions": 16,
        "text-dated": 40,
        "text-undated": 30,
        "text-organisations": 10,
        "text-cultural-events": 3,
    }
    for key, n in printed.items():
        assert kg_graph.value(
            URIRef(f"{ID}figure/{key}"), URIRef("https://w3id.org/cdkg/ontology#printedValue")
        ) == Literal(n), key


# -- Table 1 and Table 4, row by row -------------------------------------------------------

# Table 1 as printed (L.797-1166): Iranian city -> partners in printed order (MoUs marked *).
TABLE1 = {
    "tehran": [
        "los-angeles",
        "bishkek",
        "havana",
        "moscow",
        "minsk",
        "caracas",
        "seoul",
        "pretoria",
        "beijing",
        "istanbul",
        "sanaa",
        "kuwait-city",
        "khartoum",
        "brasilia",
        "dushanbe",
        "bangkok",
        "budapest",
        "tbilisi",
        "*baghdad",
        "*kabul",
        "*paris",
        "*milan",
        "*saint-petersburg",
        "*sarajevo",
    ],
    "isfahan": [
        "xian",
        "kuala-lumpur",
        "freiburg",
        "florence",
        "iasi",
        "barcelona",
        "yerevan",
        "kuwait-city",
        "havana",
        "lahore",
        "saint-petersburg",
        "dakar",
        "baalbek",
        "gyeongju",
    ],
    "tabriz": [
        "istanbul",
        "baku",
        "gaza",
        "kazan",
        "khujand",
        "mogilev",
        "ganja",
        "erzurum",
        "karbala",
    ],
    "yazd": ["jaszbereny", "yeosu", "urumqi", "holguin", "nizwa"],
    "shiraz": ["nicosia", "dushanbe", "chongqing", "weimar", "pecs"],
    "mashhad": ["urumqi", "lahore", "karachi", "najaf", "*baghdad", "*karbala", "*kadhimiya"],
    "arak": ["novi-sad", "karaganda", "batumi", "tbilisi"],
    "ramsar": ["puerto-montt", "al-wakrah"],
}


def test_every_table1_row_is_in_the_graph_in_order(kg_graph: Graph) -> None:
    expected = [(city, p.lstrip("*"), p.startswith("*")) for city, ps in TABLE1.items() for p in ps]
    rows = kg_graph.query(
        PREFIXES
        + """
        SELECT ?city ?partner ?mou WHERE {
          ?t cdkg:ordinal ?o ; cdkg:iranianCity ?city ; cdkg:partnerCity ?partner .
          BIND (EXISTS { ?t a cdkg:CooperationMoU } AS ?mou)
        } ORDER BY ?o"""
    )
    got = [
        (str(r[0]).rsplit("/", 1)[1], str(r[1]).rsplit("/", 1)[1], bool(r[2].toPython()))  # type: ignore[index]
        for r in rows
    ]
    assert got == expected


# Table 4 (L.1807-2044): network -> member cities as printed
TABLE4 = {
    "metropolis": {"tehran", "isfahan", "tabriz", "shiraz", "mashhad", "karaj", "ahvaz"},
    "uclg": {"tehran", "isfahan", "tabriz", "shiraz", "mashhad", "karaj", "ahvaz"},
    "asian-mayors-forum": {
        "tehran",
        "isfahan",
        "tabriz",
        "shiraz",
        "kashan",
        "mashhad",
        "karaj",
        "ahvaz",
        "urmia",
        "rasht",
        "zahedan",
        "qom",
        "kerman",
        "kermanshah",
        "qazvin",
        "hamadan",
    },
    "oicc": {"tehran"},
    "silk-road-cities-summit": {"yazd"},
    "citynet": {"tehran", "isfahan"},
    "league-of-historical-cities": {"isfahan", "yazd", "shiraz", "kashan", "neyshabur"},
    "iccn": {"isfahan", "shiraz", "neyshabur"},
    "learning-cities": {"arak", "shiraz", "kashan", "behbahan"},
    "creative-cities": set(),
}


@pytest.mark.parametrize("network", sorted(TABLE4))
def test_every_table4_row_is_in_the_graph_with_provenance(kg_graph: Graph, network: str) -> None:
    rows = kg_graph.query(
        PREFIXES
        + f"""
        SELECT ?city WHERE {{
          ?m cdkg:network <{ID}org/{network}> ; cdkg:memberCity ?city ;
             prov:wasDerivedFrom [ cdkg:inTable 4 ] .
        }}"""
    )
    assert {str(r[0]).rsplit("/", 1)[1] for r in rows} == TABLE4[network]  # type: ignore[index]


def test_every_fact_location_quotes_the_paper_line(kg_graph: Graph, paper_lines: list[str]) -> None:
    """Each location's printed form is the text at its first line (or starts with it)."""
    rows = list(
        kg_graph.query(
            PREFIXES
            + """
        SELECT ?loc ?line ?last ?printed
        WHERE { ?loc cdkg:lineStart ?line ; cdkg:lineEnd ?last ; cdkg:printedForm ?printed }"""
        )
    )
    assert len(rows) > 300
    for loc, line, last, printed in rows:  # type: ignore[misc]
        # A location over several lines may keep them all, joined by " / " (a single line may
        # print " / " itself, as the running heads do).
        first = str(printed) if line == last else str(printed).split(" / ")[0]
        assert paper_lines[int(line) - 1].strip() == first, (loc, int(line))


def test_table1_footnote_urls(kg_graph: Graph) -> None:
    """Ties with a footnote carry its source URL, e.g. Los Angeles (Table 1, footnote 1)."""
    rows = list(
        kg_graph.query(
            PREFIXES
            + f"""
        SELECT ?url WHERE {{
          <{ID}tie/tehran--los-angeles> prov:wasDerivedFrom/cdkg:footnote/cdkg:sourceURL ?url
        }}"""
        )
    )
    assert [str(r[0]) for r in rows] == ["http://sistercities.lacity.org/html/11.htm"]  # type: ignore[index]


# -- canned queries ---------------------------------------------------------------------------

TIES_COLUMNS = [
    "iranian_city",
    "iranian_city_wikidata",
    "partner_city",
    "partner_city_wikidata",
    "partner_country",
    "partner_country_wikidata",
    "year",
    "kind",
]


def test_ties_query_columns_and_rows(kg_graph: Graph, registry: Registry) -> None:
    result = kg_graph.query(registry.bind("ties", {}))
    assert [str(v) for v in result.vars or []] == TIES_COLUMNS
    rows = list(result)
    assert len(rows) == 70
    first = rows[0]
    assert str(first.iranian_city) == "Tehran"
    assert str(first.partner_city) == "Los Angeles"
    assert str(first.partner_country_wikidata) == "http://www.wikidata.org/entity/Q30"  # type: ignore[union-attr]
    assert str(first.year) == "1972"
    assert str(first.kind) == "sister_city"
    kinds = {str(r.kind) for r in rows}  # type: ignore[union-attr]
    assert kinds == {"sister_city", "cooperation_mou"}
    kadhimiya = [r for r in rows if str(r.partner_city) == "Kadhimiya"]  # type: ignore[union-attr]
    assert kadhimiya
    # reference/entities.csv confirms Kadhimiya as Q311315 (with its coordinates)
    assert str(kadhimiya[0].partner_city_wikidata) == "http://www.wikidata.org/entity/Q311315"


def test_ties_query_binds_parameters(kg_graph: Graph, registry: Registry) -> None:
    rows = list(
        kg_graph.query(
            registry.bind("ties", {"city": f"{ID}city/mashhad", "kind": "cooperation_mou"})
        )
    )
    assert sorted(str(r.partner_city) for r in rows) == ["Baghdad", "Kadhimiya", "Karbala"]  # type: ignore[union-attr]


def test_memberships_query(kg_graph: Graph, registry: Registry) -> None:
    result = kg_graph.query(registry.bind("memberships", {}))
    assert [str(v) for v in result.vars or []] == ["network", "scope", "city", "city_wikidata"]
    rows = list(result)
    assert {str(r.scope) for r in rows} == {"global", "regional"}  # type: ignore[union-attr]
    # Table 4's member cells plus Isfahan in the Creative Cities Network (Table 1 only)
    assert len(rows) == sum(len(v) for v in TABLE4.values()) + 1


@pytest.mark.parametrize("name", sorted(p.stem for p in kg_dir("queries").glob("*.rq")))
def test_every_canned_query_runs(kg_graph: Graph, registry: Registry, name: str) -> None:
    result = kg_graph.query(registry.bind(name, {}))
    assert len(list(result)) > 0


# -- Wikidata links and coordinates -----------------------------------------------------------


def test_every_entity_the_reference_file_confirms_is_linked(kg_graph: Graph) -> None:
    """The other direction: each city, country, organisation and person whose Wikidata ID the
    reference file confirms is linked to it (its properties and classes are the Wikidata view's
    alignments, not entities of the graph)."""
    path = REPO / "reference" / "entities.csv"
    with path.open(encoding="utf-8") as f:
        confirmed = {
            row["wikidata"]: row["name_en"]
            for row in csv.DictReader(f)
            if row["wikidata"] and row["kind"] not in ("property", "class")
        }
    linked = {str(o).rsplit("/", 1)[1] for o in kg_graph.objects(None, SKOS.exactMatch)}
    assert len(confirmed) > 130
    assert {qid: name for qid, name in confirmed.items() if qid not in linked} == {}


def test_every_wikidata_link_is_in_the_reference_file(kg_graph: Graph) -> None:
    path = REPO / "reference" / "entities.csv"
    with path.open(encoding="utf-8") as f:
        reference = {row["wikidata"]: row for row in csv.DictReader(f) if row["wikidata"]}
    rows = list(
        kg_graph.query(
            PREFIXES
            + """
        SELECT ?e ?wd ?lat ?long WHERE { ?e skos:exactMatch ?wd
          OPTIONAL { ?e geo:lat ?lat ; geo:long ?long } }"""
        )
    )
    assert len(rows) > 100
    for entity, wd, lat, long in rows:  # type: ignore[misc]
        qid = str(wd).rsplit("/", 1)[1]
        assert qid in reference, (entity, qid)
        row = reference[qid]
        if row["latitude"]:
            assert (lat, long) != (None, None), entity
            assert Decimal(str(lat)) == Decimal(row["latitude"]), entity
            assert Decimal(str(long)) == Decimal(row["longitude"]), entity
