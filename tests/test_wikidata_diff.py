"""``cdkg wikidata-diff`` against the Wikidata snapshot in ``reference/`` (Tehran and Isfahan)."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph

from cdkg.scholarly import wikidata

Run = Callable[..., subprocess.CompletedProcess[str]]
SNAPSHOT = Path(__file__).resolve().parents[1] / "reference" / "wikidata-p190-snapshot.csv"
WD = "http://www.wikidata.org/entity/"


@pytest.fixture(scope="module")
def snapshot() -> Path:
    return SNAPSHOT


@pytest.fixture(scope="module")
def rows(kg_graph: Graph, snapshot: Path) -> dict[tuple[str, str], str]:
    diff = wikidata.diff(wikidata.paper_ties(kg_graph), wikidata.read_snapshot(snapshot))
    return {(r.iranian_city, r.partner_city): r.status for r in diff}


def test_statuses_of_known_pairs(rows: dict[tuple[str, str], str]) -> None:
    assert rows[("Tehran", "Los Angeles")] == "both"
    assert rows[("Tehran", "London")] == "wikidata_only"  # reference/README.md names it
    assert rows[("Isfahan", "Cairo")] == "wikidata_only"
    assert rows[("Tehran", "Bishkek")] == "paper_only"
    assert rows[("Isfahan", "Gyeongju")] == "paper_only"


def test_only_cities_the_snapshot_covers(rows: dict[tuple[str, str], str]) -> None:
    assert {city for city, _ in rows} == {"Tehran", "Isfahan"}
    # every tie the paper gives Tehran (24) and Isfahan (14) is reported
    assert sum(1 for (c, _), s in rows.items() if c == "Tehran" and s != "wikidata_only") == 24
    assert sum(1 for (c, _), s in rows.items() if c == "Isfahan" and s != "wikidata_only") == 14


def test_cli_csv_columns(run_cdkg: Run, snapshot: Path) -> None:
    result = run_cdkg("wikidata-diff", "--snapshot", snapshot, "--format", "csv")
    assert result.returncode == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(table[0]) == list(wikidata.COLUMNS)
    la = next(r for r in table if r["partner_city"] == "Los Angeles")
    assert la["iranian_city_wikidata"] == WD + "Q3616"
    assert la["partner_city_wikidata"] == WD + "Q65"
    assert {r["status"] for r in table} == {"both", "paper_only", "wikidata_only"}


def test_quickstatements_add_missing_twinnings_with_a_reference(
    run_cdkg: Run, snapshot: Path
) -> None:
    result = run_cdkg("wikidata-diff", "--snapshot", snapshot, "--quickstatements")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Q3616\tP190\tQ9361\tS1476" in "\n".join(lines)  # Tehran-Bishkek, paper only
    assert all(line.split("\t")[1] == "P190" and "\tS1476\t" in line for line in lines)
    assert not any("\tQ90\t" in line for line in lines)  # Tehran-Paris is an MoU, not a twinning
    assert not any("\tQ65\t" in line for line in lines)  # Los Angeles is in both already


def test_missing_snapshot_exits_2(run_cdkg: Run, tmp_path: Path) -> None:
    result = run_cdkg("wikidata-diff", "--snapshot", tmp_path / "nope.csv")
    assert result.returncode == 2
    assert "nope.csv" in result.stderr


def test_not_a_snapshot_exits_2(run_cdkg: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    result = run_cdkg("wikidata-diff", "--snapshot", bad)
    assert result.returncode == 2
    assert "missing columns" in result.stderr
