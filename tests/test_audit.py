"""The claims audit: every printed figure is checked, the paper's known inconsistencies show as
disagreements (never forced to match), and the CLI and /audit give the same report."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask
from rdflib import Dataset, Graph

from cdkg.audit import COLUMNS, Finding, render, run_audit
from cdkg.cli import main
from cdkg.queries import Registry
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg.web import create_app

FIGURE = "https://w3id.org/cdkg/ontology#PrintedFigure"


@pytest.fixture(scope="module")
def findings(kg_graph: Graph) -> list[Finding]:
    return run_audit(kg_graph, Registry.load(kg_dir("queries")))


def by_claim(findings: list[Finding]) -> dict[str, Finding]:
    return {f.claim: f for f in findings}


def test_every_printed_figure_is_audited(kg_graph: Graph, findings: list[Finding]) -> None:
    figures = {
        str(row[0])  # type: ignore[index]
        for row in kg_graph.query(f"SELECT ?f WHERE {{ ?f a <{FIGURE}> }}")
    }
    assert len(figures) == 65  # figures.ttl: 65 numbers as printed
    assert {f.figure for f in findings} == figures
    assert all(f.location and f.reported and f.computed for f in findings)


def test_the_known_disagreements(findings: list[Finding]) -> None:
    disagreeing = {
        f.claim.split(" [")[0] + " | " + f.reading.split(":")[0] for f in findings if not f.agrees
    }
    assert disagreeing == {
        # Table 3, 2005-2013 (line 1662) and 2013- (line 1674) under the "begins" rule
        "table3-justice-centred-principlism | rule begins",
        "table3-moderation | rule begins",
        # Table 3's country list for 2005-2013: Kuwait printed, Chile and Qatar not
        "table3-justice-centred-principlism countries | rule table3; not printed",
        "table3-justice-centred-principlism countries | rule begins; not printed",
        "table3-moderation countries | rule begins; not printed",
        # "more than 30" Islamic countries by OIC membership: not in the source (line 1194)
        "text-islamic-countries | oic-membership",
        # Istanbul's 75 (line 1188): only the printed figure is in the graph
        "text-istanbul-ties | Istanbul's own ties",
        # "10 organisations and networks" (line 2048) against Table 4's 12 rows
        "text-organisations | table4-rows",
        # the periphery's 31 (line 1260) by the five rings' named members
        "text-periphery | rings",
    }


def test_table3_country_list_names_what_differs(findings: list[Finding]) -> None:
    row = next(
        f
        for f in findings
        if f.claim.startswith("table3-justice-centred-principlism countries [rule table3")
    )
    assert "Kuwait" in row.reported
    assert "Kuwait" not in row.computed
    assert "Chile" in row.computed
    assert "Qatar" in row.computed
    assert "Chile" not in row.reported
    assert not row.agrees


def test_both_readings_of_ambiguous_terms(findings: list[Finding]) -> None:
    islamic = [f for f in findings if f.figure.endswith("/text-islamic-countries")]
    assert [(f.reported, f.computed, f.agrees) for f in islamic] == [
        ("more than 30", "32", True),  # by Table 2's labels naming Islamic
        ("more than 30", "not in the source", False),  # by OIC membership
    ]
    periphery = [f for f in findings if f.figure.endswith("/text-periphery")]
    assert [(f.computed, f.agrees) for f in periphery] == [("31", True), ("13", False)]
    organisations = [f for f in findings if f.figure.endswith("/text-organisations")]
    assert [(f.computed, f.agrees) for f in organisations] == [("10", True), ("12", False)]


def test_csv_columns_exact(findings: list[Finding]) -> None:
    rows = list(csv.reader(io.StringIO(render(findings, "csv"))))
    assert rows[0] == ["claim", "location", "reported", "computed", "agrees"] == list(COLUMNS)
    assert {r[4] for r in rows[1:]} == {"true", "false"}
    assert len(rows) == len(findings) + 1


@pytest.mark.slow
def test_cli_audit_csv(capsys: pytest.CaptureFixture[str], findings: list[Finding]) -> None:
    assert main(["audit", "--format", "csv"]) == 0
    assert capsys.readouterr().out == render(findings, "csv")


@pytest.mark.slow
def test_audit_over_http(kg_dataset: Dataset, findings: list[Finding]) -> None:
    app: Flask = create_app(Settings(), kg_dataset)
    client = app.test_client()
    answer = client.get("/audit?format=csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.get_data(as_text=True) == render(findings, "csv")
    as_json = client.get("/audit", headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    assert json.loads(as_json.get_data(as_text=True))["claims"] == len(findings)
    refused = client.get("/audit", headers={"Accept": "image/png"})
    assert refused.status_code == 406
