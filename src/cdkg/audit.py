"""The claims audit: every figure the paper prints, checked against the graph by canned queries.

For each ``cdkg:PrintedFigure`` (listed by ``queries/audit-claims.rq``) the audit says what the
paper reports, where, what the graph gives and whether the two agree (``comparator`` "more than"
means computed > printed). The numbers come from canned queries only (``audit-ties-*``,
``rq2-islamic-share``, ``rq2-periphery-share``, ``audit-organisations``, ``audit-events``,
``rq2-istanbul``, ``table3``, ``rq2-periods``). Where a claim depends on how a term is counted
("Islamic countries", "periphery", Table 3's overlapping period bounds, "organisations") the audit
gives one row per reading, and it never forces a match: a reading the paper's data cannot compute
says so and does not agree.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rdflib import Graph

from cdkg import store
from cdkg.graph import load_graph
from cdkg.queries import Registry
from cdkg.resources import kg_dir

#: The CSV columns, in order.
COLUMNS = ("claim", "location", "reported", "computed", "agrees")
FORMATS = ("table", "csv", "json")
ID = "https://w3id.org/cdkg/id/"
TIE_QUERIES = ("audit-ties-country", "audit-ties-region", "audit-ties-city", "audit-ties-overall")
NOT_IN_SOURCE = "not in the source"


@dataclass(frozen=True)
class Finding:
    """One row of the audit: a claim (a figure, under one reading) and its check."""

    claim: str
    location: str
    reported: str
    computed: str
    agrees: bool
    figure: str
    label: str
    reading: str
    query: str

    def row(self) -> dict[str, str]:
        """The CSV row: the five columns, ``agrees`` as ``true``/``false``."""
        return {
            "claim": self.claim,
            "location": self.location,
            "reported": self.reported,
            "computed": self.computed,
            "agrees": "true" if self.agrees else "false",
        }


class _Runner:
    """Runs canned queries on one graph; rows as dicts of Python strings."""

    def __init__(self, graph: Graph, registry: Registry) -> None:
        self.graph = graph
        self.registry = registry

    def rows(self, name: str, params: Mapping[str, str] | None = None) -> list[dict[str, str]]:
        result = store.query(self.graph, self.registry.bind(name, dict(params or {})))
        names = [str(v) for v in result.vars or []]
        return [
            {n: str(v) for n, v in zip(names, row, strict=True) if v is not None}  # type: ignore[arg-type]
            for row in result
        ]


def _agrees(computed: int, printed: int, comparator: str) -> bool:
    return computed > printed if comparator == "more than" else computed == printed


def _reported(printed: str, comparator: str) -> str:
    return f"more than {printed}" if comparator == "more than" else printed


def run_audit(graph: Graph, registry: Registry | None = None) -> list[Finding]:
    """Check every printed figure in ``graph``; one Finding per figure and reading."""
    runner = _Runner(graph, registry or Registry.load(kg_dir("queries")))
    return list(_findings(runner))


def _findings(run: _Runner) -> Iterator[Finding]:  # noqa: PLR0912 (a branch per measure)
    ties: dict[str, tuple[str, int]] = {}
    for name in TIE_QUERIES:
        for row in run.rows(name):
            ties[row["figure"]] = (name, int(row["computed"]))
    by_rule: dict[tuple[str, str], int] = {}
    for row in run.rows("audit-ties-discourse"):
        by_rule[(row["figure"], row["rule"])] = int(row["computed"])
    for row in run.rows("audit-ties-discourse", {"rule": "begins"}):
        by_rule[(row["figure"], row["rule"])] = int(row["computed"])

    printed_lists = {
        r["discourse"]: _split(r.get("printed_countries", "")) for r in run.rows("table3")
    }
    computed_lists = {
        (r["discourse"], rule): _split(r.get("partner_countries", ""))
        for rule in ("table3", "begins")
        for r in run.rows("rq2-periods", {"rule": rule})
    }
    for fig in run.rows("audit-claims"):
        iri, key, measure = fig["figure"], fig["key"], fig["measure"]
        printed, comparator = fig["printed_value"], fig["comparator"]

        def finding(
            reading: str, computed: str, agrees: bool, query: str, fig: Mapping[str, str] = fig
        ) -> Finding:
            claim = f"{fig['key']} [{reading}]" if reading else fig["key"]
            shown = _reported(fig["printed_value"], fig["comparator"])
            return Finding(
                claim,
                fig["location"],
                shown,
                computed,
                agrees,
                fig["figure"],
                fig["label"],
                reading,
                query,
            )

        if key.startswith("table3-"):
            for rule, note in (
                (
                    "table3",
                    "rule table3: a bound year goes to the period it begins, 2013 to 2005-2013",
                ),
                ("begins", "rule begins: a bound year goes to the period it begins, 2013 included"),
            ):
                n = by_rule.get((iri, rule), 0)
                yield finding(
                    note, str(n), _agrees(n, int(printed), comparator), "audit-ties-discourse"
                )
            yield from _table3_countries(run, fig, key, printed_lists, computed_lists)
        elif measure == "ties-with-islamic-countries":
            for row in run.rows("rq2-islamic-share"):
                reading = f"{row['reading']}: {row['note']}"
                if "ties" in row:
                    n = int(row["ties"])
                    yield finding(
                        reading, str(n), _agrees(n, int(printed), comparator), "rq2-islamic-share"
                    )
                else:
                    yield finding(reading, NOT_IN_SOURCE, False, "rq2-islamic-share")
        elif measure == "organisations-and-networks":
            for row in run.rows("audit-organisations"):
                n = int(row["computed"])
                reading = f"{row['reading']}: {row['note']}"
                yield finding(
                    reading, str(n), _agrees(n, int(printed), comparator), "audit-organisations"
                )
        elif measure == "major-cultural-events":
            events = run.rows("audit-events")
            cities = ", ".join(sorted({e.get("city_label", "") for e in events}))
            n = len(events)
            yield finding(
                f"capitals of Islamic culture and tourism: {cities}",
                str(n),
                _agrees(n, int(printed), comparator),
                "audit-events",
            )
        elif measure == "partner-city-bilateral-ties":
            row = run.rows("rq2-istanbul")[0]
            yield finding(
                "Istanbul's own ties: the graph holds only the printed figure",
                NOT_IN_SOURCE,
                False,
                "rq2-istanbul",
            )
            yield Finding(
                f"{key} [Iran's total is fewer than Istanbul's]",
                fig["location"],
                f"fewer than {printed}",
                row["iran_computed"],
                row["iran_has_fewer"] == "true",
                iri,
                fig["label"],
                "Iran's total is fewer than Istanbul's",
                "rq2-istanbul",
            )
        elif iri in ties:
            query, n = ties[iri]
            reading = ""
            if key == "text-periphery":
                reading = (
                    "table2-regions: Middle East and West Asia + Central Asia and the Caucasus"
                )
            yield finding(reading, str(n), _agrees(n, int(printed), comparator), query)
            if key == "text-periphery":
                rings = [
                    r
                    for r in run.rows("rq2-periphery-share", {"reading": "rings"})
                    if r["row"] == "99"
                ]
                n = int(rings[0]["ties"])
                yield finding(
                    "rings: the named members of the five geopolitical rings",
                    str(n),
                    _agrees(n, int(printed), comparator),
                    "rq2-periphery-share",
                )
        elif measure in {
            "bilateral-ties",
            "sister-city-ties",
            "cooperation-mous",
            "dated-bilateral-ties",
            "undated-bilateral-ties",
        }:  # a tie figure no tie matches: its audit query gives no row
            yield finding("", "0", _agrees(0, int(printed), comparator), "audit-ties-*")
        else:
            yield finding("no canned query checks this measure", NOT_IN_SOURCE, False, "")


def _table3_countries(
    run: _Runner,
    fig: Mapping[str, str],
    key: str,
    printed_lists: Mapping[str, set[str]],
    computed_lists: Mapping[tuple[str, str], set[str]],
) -> Iterator[Finding]:
    """Table 3's printed country list for one period against the countries of its dated ties."""
    discourse = ID + "discourse/" + key.removeprefix("table3-")
    printed = printed_lists.get(discourse, set())
    for rule in ("table3", "begins"):
        computed = computed_lists.get((discourse, rule), set())
        missing, extra = sorted(computed - printed), sorted(printed - computed)
        note = f"rule {rule}"
        if missing:
            note += f"; not printed: {', '.join(missing)}"
        if extra:
            note += f"; printed, but no dated tie: {', '.join(extra)}"
        yield Finding(
            f"{key} countries [{note}]",
            fig["location"],
            "; ".join(sorted(printed)),
            "; ".join(sorted(computed)),
            printed == computed,
            fig["figure"],
            fig["label"] + " (countries)",
            note,
            "rq2-periods",
        )


def _split(text: str) -> set[str]:
    return {part.strip() for part in text.split(";") if part.strip()}


# -- output ---------------------------------------------------------------------------------------


def to_csv(findings: Sequence[Finding]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(f.row() for f in findings)
    return out.getvalue()


def to_json(findings: Sequence[Finding]) -> dict[str, Any]:
    return {
        "columns": list(COLUMNS),
        "claims": len(findings),
        "disagreements": sum(not f.agrees for f in findings),
        "findings": [asdict(f) for f in findings],
    }


def to_table(findings: Sequence[Finding]) -> str:
    rows = [list(COLUMNS)] + [list(f.row().values()) for f in findings]
    widths = [min(max(len(r[i]) for r in rows), 70) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    disagree = sum(not f.agrees for f in findings)
    lines.append(f"({len(findings)} claims, {disagree} do not agree)")
    return "\n".join(lines) + "\n"


def render(findings: Sequence[Finding], fmt: str) -> str:
    if fmt == "csv":
        return to_csv(findings)
    if fmt == "json":
        return json.dumps(to_json(findings), indent=2, ensure_ascii=False) + "\n"
    return to_table(findings)


# -- the command ----------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")


def main(args: argparse.Namespace) -> int:
    findings = run_audit(load_graph())
    sys.stdout.write(render(findings, args.format))
    return 0
