"""The canned queries of issue 4 against their golden results and against the paper.

Golden files are compared, never written here (``tests/update_golden.py`` writes them). The
printed numbers in the table tests are copied from the paper's text (line numbers of
``sources/paper/city-diplomacy-iran.fa.txt`` in the comments), never computed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from answers import answer_json
from cdkg.canned.params import Param
from cdkg.canned.registry import Registry
from cdkg.cli import main
from cdkg.engine.runner import Engine
from cdkg.errors import BadParameter
from cdkg.kg.served import served_dataset
from cdkg.resources import kg_dir
from cdkg.settings import Settings

GOLDEN = Path(__file__).parent / "golden"
ID = "https://w3id.org/cdkg/id/"
REGISTRY = Registry.load(kg_dir("queries"))
NAMES = REGISTRY.names()
#: The queries this file owns (issue 4): the tables, the research questions, the city, the audit.
OURS = [n for n in NAMES if n.startswith(("table", "rq1-", "rq2-", "audit-")) or n == "city"]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load(kg_dir("queries"))


def run_json(engine: Engine, registry: Registry, name: str, **params: str) -> dict[str, Any]:
    return answer_json(engine, registry.bind(name, params))


def golden(name: str) -> dict[str, Any]:
    path = GOLDEN / f"{name}.json"
    if not path.is_file():
        pytest.fail(f"no golden result for queries/{name}.rq: run tests/update_golden.py {name}")
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def column(result: dict[str, Any], var: str) -> list[str | None]:
    return [row[var]["value"] if var in row else None for row in result["results"]["bindings"]]


# -- golden results ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", OURS)
def test_every_query_has_a_header_and_a_golden_file(name: str) -> None:
    query = REGISTRY.get(name)
    assert query.title
    assert query.description
    assert query.rq in ("RQ1", "RQ2")
    assert query.source
    assert (GOLDEN / f"{name}.json").is_file(), f"run tests/update_golden.py {name}"


@pytest.mark.parametrize("name", OURS)
def test_result_equals_golden(kg_engine: Engine, registry: Registry, name: str) -> None:
    assert run_json(kg_engine, registry, name) == golden(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", OURS)
def test_cli_json_equals_golden(capsys: pytest.CaptureFixture[str], name: str) -> None:
    assert main(["query", name, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == golden(name)


# -- the tables, as printed -------------------------------------------------------------------


def test_table1_as_printed() -> None:
    result = golden("table1")
    assert column(result, "row") == [str(n) for n in range(1, 71)]  # Table 1, 70 rows
    kinds = column(result, "kind")
    assert kinds.count("sister_city") == 61  # line 1178: 61 sister-city ties
    assert kinds.count("cooperation_mou") == 9  # line 1180: 9 MoUs (Tehran and Mashhad)
    assert sum(y is not None for y in column(result, "year")) == 40  # line 1582: 40 dated
    first = result["results"]["bindings"][0]
    assert first["iranian_city"]["value"] == "Tehran"  # line 810: Tehran, Los Angeles, 1972
    assert first["partner_city"]["value"] == "Los Angeles"
    assert first["year"]["value"] == "1972"


#: Table 2's region totals as printed (lines of the total cells).
TABLE2_TOTALS = {
    "Middle East and West Asia": 20,  # line 1347
    "Central Asia and the Caucasus": 11,  # line 1399
    "East Asia": 10,  # line 1429
    "Eastern Europe": 13,  # line 1478
    "Africa": 3,  # line 1500
    "Western Europe and North America": 7,  # line 1544
    "Central and South America": 6,  # line 1578
}


def test_table2_as_printed() -> None:
    result = golden("table2")
    rows = result["results"]["bindings"]
    assert len(rows) == 39  # Table 2 lists 39 countries
    totals = {r["region_label"]["value"]: int(r["printed_region_total"]["value"]) for r in rows}
    computed = {r["region_label"]["value"]: int(r["computed_region_total"]["value"]) for r in rows}
    assert totals == TABLE2_TOTALS
    assert computed == TABLE2_TOTALS  # for Table 2, the ties agree with the print
    for row in rows:
        assert row["printed_count"]["value"] == row["computed_count"]["value"], row
    iraq = next(r for r in rows if r["country_label"]["value"] == "Iraq")
    assert iraq["printed_count"]["value"] == "6"  # Table 2: Iraq, 6


#: Table 3 as printed: period, count (lines 1622-1674).
TABLE3 = [
    ("before-1979", 2),  # line 1622
    ("1979-1989", 1),  # line 1627
    ("1989-1997", 3),  # line 1636
    ("1997-2005", 15),  # line 1647
    ("2005-2013", 15),  # line 1662
    ("2013-", 4),  # line 1674
]


def test_table3_as_printed() -> None:
    result = golden("table3")
    periods = column(result, "period")
    printed = [int(v or 0) for v in column(result, "printed_count")]
    assert list(zip(periods, printed, strict=True)) == TABLE3
    table3_rule = [int(v or 0) for v in column(result, "computed_count_table3_rule")]
    begins_rule = [int(v or 0) for v in column(result, "computed_count_begins_rule")]
    assert table3_rule == [n for _, n in TABLE3]  # the rule Table 3's counts imply
    assert begins_rule == [2, 1, 3, 15, 13, 6]  # 2013's Yeosu and Batumi move to 2013-
    row5 = result["results"]["bindings"][4]["printed_countries"]["value"]
    assert "Kuwait" in row5
    assert "Chile" not in row5
    assert "Qatar" not in row5


#: Table 4's member counts as printed (lines 1820-2044), in its row order.
TABLE4_PRINTED = [7, 7, 16, 1, 1, 2, 5, 3, 4, 0, 5, 3]


def test_table4_as_printed() -> None:
    result = golden("table4")
    assert [int(v or 0) for v in column(result, "printed_member_count")] == TABLE4_PRINTED
    assert column(result, "scope")[:3] == ["global", "global", "regional"]
    creative = result["results"]["bindings"][9]
    assert creative["all_members"]["value"] == "Isfahan"  # from Table 1 only


# -- the research questions -----------------------------------------------------------------


def test_rq1_principles() -> None:
    result = golden("rq1-principles")
    # Section 4 names 15 (lines 494-690, the principle of peace at 523-525 among them); Section 5
    # calls détente, peaceful coexistence and dialogue among civilisations principles (758-764).
    assert len(result["results"]["bindings"]) == 18
    assert "endorses" in column(result, "stance")
    discourses = dict(
        zip(column(result, "principle_label"), column(result, "discourses"), strict=True)
    )
    # The paper's own link (lines 758-760), and the project's reading marked as such.
    assert discourses["Peaceful coexistence"] == "Dialogue among civilisations"
    assert "Revolutionism (cdkg)" in (discourses["Invitation (da'wa)"] or "")


def test_rq2_readings() -> None:
    islamic = golden("rq2-islamic-share")
    assert column(islamic, "reading") == ["civilisation-label", "oic-membership"]
    assert column(islamic, "ties") == ["32", None]  # line 1194: "more than 30"; OIC not given
    assert "not in the source" in (column(islamic, "note")[1] or "")
    periphery = golden("rq2-periphery-share")
    both = [r for r in periphery["results"]["bindings"] if r["row"]["value"] == "99"]
    assert {r["reading"]["value"]: r["ties"]["value"] for r in both} == {
        "table2-regions": "31",  # line 1260: 31
        "rings": "13",
    }
    assert column(golden("rq2-dated"), "printed") == ["40", "30"]  # lines 1582-1584
    assert column(golden("rq2-networks"), "members")[0] == "16"  # the Asian Mayors Forum
    istanbul = golden("rq2-istanbul")["results"]["bindings"][0]
    assert istanbul["istanbul_printed"]["value"] == "75"  # line 1188
    assert istanbul["iran_has_fewer"]["value"] == "true"


def test_oic_reading_counts_a_user_supplied_graph(tmp_path: Path, registry: Registry) -> None:
    """The OIC reading uses only what the user loads: here, a made-up membership of Iraq."""
    oic = tmp_path / "oic.ttl"
    oic.write_text(
        "<http://www.wikidata.org/entity/Q796> "
        "<http://www.wikidata.org/prop/direct/P463> <http://www.wikidata.org/entity/Q47543> .\n",
        encoding="utf-8",
    )
    engine = Engine(served_dataset(extra_graphs=[("https://example.org/oic", oic)]), Settings())
    result = run_json(engine, registry, "rq2-islamic-share")
    assert column(result, "ties")[1] == "6"  # Iraq's 6 ties (Table 2)


# -- parameters: a valid and an invalid value each ------------------------------------------------


def params() -> list[tuple[str, Param]]:
    return [(name, p) for name in OURS for p in REGISTRY.get(name).params]


def valid(param: Param) -> str:
    if param.type == "enum":
        return param.allowed[-1]
    return param.description.split("e.g. ")[1].split()[0]


@pytest.mark.parametrize(("name", "param"), params(), ids=lambda v: getattr(v, "name", v))
def test_parameter_valid_value_runs(
    kg_engine: Engine, registry: Registry, name: str, param: Param
) -> None:
    result = run_json(kg_engine, registry, name, **{param.name: valid(param)})
    assert result["results"]["bindings"], (name, param.name)


@pytest.mark.parametrize(("name", "param"), params(), ids=lambda v: getattr(v, "name", v))
def test_parameter_invalid_value_is_refused(registry: Registry, name: str, param: Param) -> None:
    bad = "no-such-value" if param.type == "enum" else "not an iri"
    with pytest.raises(BadParameter) as err:
        registry.bind(name, {param.name: bad})
    assert param.name in err.value.message
    if param.type == "enum":
        assert all(v in (err.value.hint or "") for v in param.allowed)
