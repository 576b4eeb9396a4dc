"""The claims audit: every printed figure is checked, the paper's known inconsistencies show as
disagreements (never forced to match), and the CLI and /audit give the same report."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pytest
from flask import Flask
from rdflib import Dataset, Graph

from cdkg.canned.registry import Registry
from cdkg.cli import main
from cdkg.resources import kg_dir
from cdkg.scholarly.audit import COLUMNS, Finding, Verdict, run_audit
from cdkg.scholarly.audit_render import render
from cdkg.settings import Settings
from cdkg.web import create_app

FIGURE = "https://w3id.org/cdkg/ontology#PrintedFigure"
#: What Chromium sends for a page.
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


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
    assert (
        len(figures) == 68
    )  # figures.ttl: 67 numbers as printed, and the network named "the most"
    assert {f.figure for f in findings} == figures
    assert all(f.location and f.reported and f.computed for f in findings)


def test_the_known_disagreements(findings: list[Finding]) -> None:
    disagreeing = {
        f.claim.split(" [")[0] + " | " + f.reading.split(":")[0]
        for f in findings
        if f.agrees is Verdict.FALSE
    }
    assert disagreeing == {
        # Table 3, 2005-2013 (line 1662) and 2013- (line 1674) under the "begins" rule
        "table3-justice-centred-principlism | rule begins",
        "table3-moderation | rule begins",
        # Table 3's country list for 2005-2013: Kuwait printed, Chile and Qatar not
        "table3-justice-centred-principlism countries | rule table3; not printed",
        "table3-justice-centred-principlism countries | rule begins; not printed",
        "table3-moderation countries | rule begins; not printed",
        # "10 organisations and networks" (line 2048) against Table 4's 12 rows
        "text-organisations | table4-rows",
        # the periphery's 31 (line 1260) by the five rings' named members
        "text-periphery | rings",
        # "MoUs with 9 cities" (line 1180): 9 MoUs, but with 8 cities (Baghdad twice)
        "text-mous-tehran-mashhad | cities",
        # Table 4 prints no member for the Creative Cities Network; Table 1 lists Isfahan
        "table4-members-creative-cities | member cities by any table (Table 1 or Table 4)",
    }


def test_what_the_source_cannot_settle_is_unknown_not_false(findings: list[Finding]) -> None:
    unknown = {
        f.claim.split(" [")[0] + " | " + f.reading.split(":")[0]
        for f in findings
        if f.agrees is Verdict.UNKNOWN
    }
    assert unknown == {
        # "more than 30" Islamic countries by OIC membership: the paper gives none (line 1194)
        "text-islamic-countries | oic-membership",
        # Istanbul's 75 (line 1188): only the printed figure is in the graph
        "text-istanbul-ties | Istanbul's own ties",
    }


def test_the_new_rows_of_the_audit(findings: list[Finding]) -> None:
    rows = {(f.figure.rsplit("/", 1)[1], f.reading.split(":")[0]): f for f in findings}
    mous = rows[("text-mous-tehran-mashhad", "MoUs")]
    cities = rows[("text-mous-tehran-mashhad", "cities")]
    assert (mous.reported, mous.computed, mous.agrees) == ("9", "9", Verdict.TRUE)
    assert (cities.reported, cities.computed, cities.agrees) == ("9", "8", Verdict.FALSE)
    amf = rows[
        (
            "text-asian-mayors-forum-most",
            "the network(s) with the most Iranian member cities, by any table",
        )
    ]
    assert amf.agrees is Verdict.TRUE
    assert amf.computed == "Asian Mayors Forum (16)"  # Tables 1 and 4: 16 member cities
    sports = next(f for f in findings if f.figure.endswith("/text-sports-events"))
    assert (sports.reported, sports.computed, sports.agrees) == ("1", "1", Verdict.TRUE)
    assert "1974" in sports.reading
    creative = [f for f in findings if f.figure.endswith("/table4-members-creative-cities")]
    assert [(f.computed, f.agrees) for f in creative] == [("1", Verdict.FALSE), ("0", Verdict.TRUE)]


def test_every_row_links_to_its_lines(findings: list[Finding]) -> None:
    for f in findings:
        assert f.source.startswith("/source/paper#L"), f
        assert str(f.line_start) in f.location


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
    assert row.agrees is Verdict.FALSE


def test_both_readings_of_ambiguous_terms(findings: list[Finding]) -> None:
    islamic = [f for f in findings if f.figure.endswith("/text-islamic-countries")]
    assert [(f.reported, f.computed, f.agrees) for f in islamic] == [
        ("more than 30", "32", Verdict.TRUE),  # by Table 2's labels naming Islamic
        ("more than 30", "not in the source", Verdict.UNKNOWN),  # by OIC membership
    ]
    periphery = [f for f in findings if f.figure.endswith("/text-periphery")]
    assert [(f.computed, f.agrees) for f in periphery] == [
        ("31", Verdict.TRUE),
        ("13", Verdict.FALSE),
    ]
    organisations = [f for f in findings if f.figure.endswith("/text-organisations")]
    assert [(f.computed, f.agrees) for f in organisations] == [
        ("10", Verdict.TRUE),
        ("12", Verdict.FALSE),
    ]


def test_csv_columns_exact(findings: list[Finding]) -> None:
    rows = list(csv.reader(io.StringIO(render(findings, "csv"))))
    assert rows[0] == ["claim", "location", "reported", "computed", "agrees"] == list(COLUMNS)
    assert {r[4] for r in rows[1:]} == {"true", "false", "unknown"}
    assert len(rows) == len(findings) + 1


@pytest.mark.slow
def test_cli_audit_csv(capsys: pytest.CaptureFixture[str], findings: list[Finding]) -> None:
    assert main(["audit", "--format", "csv"]) == 0
    assert capsys.readouterr().out == render(findings, "csv")


def test_cli_table_leads_with_disagreements(findings: list[Finding]) -> None:
    lines = render(findings, "table").splitlines()
    verdicts = [line.rsplit(None, 1)[-1] for line in lines[2 : 2 + len(findings)]]
    first_true = verdicts.index("true")
    assert set(verdicts[:first_true]) == {"false", "unknown"}
    assert verdicts[: verdicts.index("unknown")] == ["false"] * verdicts.index("unknown")
    assert any(line.startswith("agrees=unknown:") for line in lines)


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
    report = json.loads(as_json.get_data(as_text=True))
    assert report["claims"] == len(findings)
    assert report["unknown"] == 2
    assert set(report["verdicts"]) == {"true", "false", "unknown"}
    assert {f["agrees"] for f in report["findings"]} == {"true", "false", "unknown"}
    assert all(f["source"].startswith("/source/paper#L") for f in report["findings"])
    refused = client.get("/audit", headers={"Accept": "image/png"})
    assert refused.status_code == 406


class _Rows(HTMLParser):
    """The audit page's finding rows: each row's verdict and the links in it, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tr" and "data-agrees" in attributes:
            self.rows.append((attributes["data-agrees"] or "", []))
        elif tag == "a" and self.rows and attributes.get("href"):
            self.rows[-1][1].append(attributes["href"] or "")


@pytest.mark.slow
def test_audit_page_for_browsers(kg_dataset: Dataset, findings: list[Finding]) -> None:
    """A browser's Accept gets the page (it was a 406): the disagreements first, then what the
    source cannot settle, then the agreements, each row linked to its lines in the viewer."""
    client = create_app(Settings(), kg_dataset).test_client()
    page = client.get("/audit", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Accept" in page.headers["Vary"]
    assert client.get("/audit", headers={"Accept": "*/*"}).mimetype == "application/json"
    parser = _Rows()
    parser.feed(page.get_data(as_text=True))
    verdicts = [verdict for verdict, _ in parser.rows]
    expected = [v.value for v in (Verdict.FALSE, Verdict.UNKNOWN, Verdict.TRUE)]
    assert verdicts == sorted(verdicts, key=expected.index)
    assert len(verdicts) == len(findings)
    assert {v: verdicts.count(v) for v in expected} == {
        v: sum(f.agrees.value == v for f in findings) for v in expected
    }
    ranked = sorted(findings, key=lambda f: expected.index(f.agrees.value))
    for finding, (_, links) in zip(ranked, parser.rows, strict=True):
        lines = f"#L{finding.line_start}" + (
            f"-L{finding.line_end}" if finding.line_end != finding.line_start else ""
        )
        assert f"/source/paper{lines}" in links, finding.claim
        assert f"/queries/{finding.query}" in links, finding.claim
    # the page links where it says: the lines exist in the viewer, and so does every query
    viewer = client.get("/source/paper", headers={"Accept": "text/html"}).get_data(as_text=True)
    for finding in findings:
        assert f'id="L{finding.line_start}"' in viewer
        assert client.get(f"/queries/{finding.query}?format=json").status_code == 200
