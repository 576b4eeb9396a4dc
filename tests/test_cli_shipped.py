"""The installed ``cdkg`` command on the shipped graph, as a new user runs it from any directory."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]
SHAPE_FIXTURES = Path(__file__).parent / "shapes" / "invalid"


def test_validate_shipped_graph_exits_0(run_cdkg: Run) -> None:
    result = run_cdkg("validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_own_data_against_shipped_shapes_exits_1(run_cdkg: Run) -> None:
    result = run_cdkg(
        "validate", "--no-reason", "--data", SHAPE_FIXTURES / "BilateralTieShape.same-country.ttl"
    )
    assert result.returncode == 1
    assert "two different countries" in result.stdout


def test_query_ties_csv_from_any_directory(run_cdkg: Run) -> None:
    result = run_cdkg("query", "ties", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 70  # Table 1's 70 bilateral ties (paper L.1194)
    assert rows[0]["partner_city"] == "Los Angeles"


def test_query_memberships_csv(run_cdkg: Run) -> None:
    result = run_cdkg("query", "memberships", "--format", "csv")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert header == "network,scope,city,city_wikidata"
