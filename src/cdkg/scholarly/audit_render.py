"""The claims audit as people and programs read it: CSV, JSON, a terminal table and the groups
the HTML page shows, and the ``cdkg audit`` command."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from cdkg.kg.graph import load_graph
from cdkg.scholarly.audit import COLUMNS, VERDICT_MEANINGS, Finding, Verdict, run_audit
from cdkg.sparql.table import add_width_argument, columns, terminal_width

FORMATS = ("table", "csv", "json")


def to_csv(findings: Sequence[Finding]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(f.row() for f in findings)
    return out.getvalue()


def to_json(findings: Sequence[Finding]) -> dict[str, Any]:
    """The audit as JSON: each finding with ``agrees`` as "true", "false" or "unknown" (the same
    strings as CSV and the CLI) and ``source``, the viewer URL of its lines."""
    return {
        "columns": list(COLUMNS),
        "verdicts": {v.value: VERDICT_MEANINGS[v] for v in Verdict},
        "claims": len(findings),
        "disagreements": sum(f.agrees is Verdict.FALSE for f in findings),
        "unknown": sum(f.agrees is Verdict.UNKNOWN for f in findings),
        "findings": [{**asdict(f), "agrees": f.agrees.value, "source": f.source} for f in findings],
    }


#: The order people read the audit in: what does not agree first (the findings a scholar came
#: for), then what the source cannot settle, then the agreements.
READING_ORDER = (Verdict.FALSE, Verdict.UNKNOWN, Verdict.TRUE)


def by_verdict(findings: Sequence[Finding]) -> list[tuple[Verdict, list[Finding]]]:
    """The findings in :data:`READING_ORDER`, one group per verdict (empty groups kept), each
    group in the audit's order."""
    return [(v, [f for f in findings if f.agrees is v]) for v in READING_ORDER]


def to_table(findings: Sequence[Finding], width: int = 0) -> str:
    """The audit for a terminal: disagreements first, then what the source cannot settle, then
    the agreements; each group in the audit's order; fitted to ``width`` columns (0: no limit)."""
    ranked = [f for _, group in by_verdict(findings) for f in group]
    lines = columns(COLUMNS, [list(f.row().values()) for f in ranked], width)
    disagree = sum(f.agrees is Verdict.FALSE for f in findings)
    unknown = sum(f.agrees is Verdict.UNKNOWN for f in findings)
    lines.append(
        f"({len(findings)} claims: {disagree} do not agree, {unknown} cannot be settled from the "
        "source)"
    )
    lines.extend(f"agrees={v.value}: {VERDICT_MEANINGS[v]}" for v in Verdict)
    return "\n".join(lines) + "\n"


def render(findings: Sequence[Finding], fmt: str, width: int = 0) -> str:
    """The audit in ``fmt``; a table is fitted to ``width`` columns (0: no limit)."""
    if fmt == "csv":
        return to_csv(findings)
    if fmt == "json":
        return json.dumps(to_json(findings), indent=2, ensure_ascii=False) + "\n"
    return to_table(findings, width)


# -- the command ----------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", "-f", choices=FORMATS, default="table")
    add_width_argument(parser)


def main(args: argparse.Namespace) -> int:
    findings = run_audit(load_graph())
    sys.stdout.write(render(findings, args.format, terminal_width(args.width)))
    return 0
