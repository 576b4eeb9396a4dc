"""Tables for a terminal (cdkg.sparql.table): a literal's text alone, widths as a terminal counts
them (ZWNJ and marks take none, wide letters two), fitted to the width, right-to-left cells
isolated; ``cdkg query`` and ``cdkg audit`` fitted to ``--width`` or ``COLUMNS``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from cdkg.kg.graph import load_graph
from cdkg.scholarly.audit import run_audit
from cdkg.scholarly.audit_render import to_table
from cdkg.sparql.table import (
    ELLIPSIS,
    FSI,
    PDI,
    columns,
    cut,
    display_width,
    fit,
    table,
    terminal_width,
)

ZWNJ = "\u200c"
XSD = "http://www.w3.org/2001/XMLSchema#"


def answer(names: list[str], *rows: dict[str, dict[str, str]]) -> bytes:
    """A SPARQL JSON results document."""
    return json.dumps({"head": {"vars": names}, "results": {"bindings": list(rows)}}).encode()


def lit(value: str, **extra: str) -> dict[str, str]:
    return {"type": "literal", "value": value, **extra}


def test_a_literal_is_its_text_without_tag_or_datatype() -> None:
    body = answer(
        ["label", "year", "n"],
        {
            "label": lit("Tehran", **{"xml:lang": "en"}),
            "year": lit("1989", datatype=f"{XSD}gYear"),
            "n": lit("6", datatype=f"{XSD}integer"),
        },
    )
    assert table(body).splitlines()[2] == "Tehran  1989  6"


def test_display_width_counts_what_a_terminal_shows() -> None:
    assert display_width(f"سیتی{ZWNJ}نت") == 6  # ZWNJ takes no column
    assert display_width("Tehra\u0304n") == 6  # a combining macron takes none
    assert display_width("北京") == 4  # East Asian wide letters take two
    assert display_width(f"{FSI}تهران{PDI}") == 5  # the isolates take none


def test_a_zwnj_does_not_shift_the_columns_after_it() -> None:
    lines = columns(["fa", "n"], [[f"سیتی{ZWNJ}نت", "1"], ["تهران", "2"]])
    # the second column starts at the same display column on every line
    starts = [display_width(line.rsplit("  ", 1)[0]) for line in lines[2:]]
    assert len(set(starts)) == 1, lines


def test_right_to_left_cells_are_isolated_left_to_right_ones_are_not() -> None:
    lines = columns(["en", "fa", "n"], [["Iraq", "عراق", "6"]])
    assert lines[2] == f"Iraq  {FSI}عراق{PDI}  6"


def test_bidi_controls_and_control_characters_in_data_are_made_visible() -> None:
    # an RLO would reverse the rest of the line, a PDI close the cell's isolate, ESC drive the
    # terminal: each is shown as an escape
    (line,) = columns(["x"], [["a\u202eb\u2069c\x1bd\te"]])[2:]
    assert line == "a\\u202eb\\u2069c\\x1bd\\te"


def test_fit_cuts_the_widest_columns_first() -> None:
    assert fit([3, 40, 50], 0) == [3, 40, 50]  # no limit
    assert fit([3, 40, 50], 100) == [3, 40, 50]  # it fits
    widths = fit([3, 40, 50], 40)
    assert widths[0] == 3
    assert sum(widths) + 2 * 2 == 40
    assert abs(widths[1] - widths[2]) <= 1
    assert fit([10, 10, 10], 5) == [3, 3, 3]  # never under three columns, even past the width


def test_cut_ends_in_an_ellipsis_and_keeps_marks_with_their_letter() -> None:
    assert cut("Middle East", 11) == "Middle East"
    assert cut("Middle East", 7) == "Middle" + ELLIPSIS
    assert display_width(cut("北京北京", 4)) <= 4
    assert cut(f"سیتی{ZWNJ}نت", 5) == f"سیتی{ZWNJ}" + ELLIPSIS


def test_a_long_name_wraps_after_its_underscores_rather_than_being_cut() -> None:
    lines = columns(["printed_region_total", "computed_region_total"], [["20", "20"]], 20)
    assert lines[:3] == ["printed_  computed_", "region_   region_", "total     total"]
    assert all(display_width(line) <= 20 for line in lines)


def test_terminal_width_honours_the_option_then_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "77")
    assert terminal_width(None) == 77
    assert terminal_width(0) == 0
    assert terminal_width(120) == 120


def widest(text: str) -> int:
    return max(display_width(line) for line in text.splitlines())


@pytest.mark.parametrize("width", [60, 80, 120])
def test_table2_fits_the_width(run_cdkg, width: int) -> None:  # type: ignore[no-untyped-def]
    result = run_cdkg("query", "table2", "--width", width)
    assert result.returncode == 0, result.stderr
    assert widest(result.stdout) <= width
    assert "@en" not in result.stdout
    assert "@fa" not in result.stdout
    assert ELLIPSIS in result.stdout


def test_columns_variable_is_honoured_and_a_pipe_is_not_cut(cdkg_script: Path) -> None:
    def run(env: dict[str, str]) -> str:
        done = subprocess.run(
            [str(cdkg_script), "query", "table2"],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
            env=env,
        )
        return done.stdout

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    assert widest(run({**env, "COLUMNS": "90"})) <= 90
    whole = run(env)  # stdout is a pipe: no terminal, no width, nothing cut
    assert ELLIPSIS not in whole
    assert widest(whole) > 150


@pytest.mark.parametrize("width", [80, 120])
def test_audit_fits_the_width_and_leads_with_the_disagreements(width: int) -> None:
    findings = run_audit(load_graph())
    lines = to_table(findings, width).splitlines()
    body = lines[2 : 2 + len(findings)]
    assert all(display_width(line) <= width for line in body + lines[:2])
    verdicts = [line.rsplit(None, 1)[-1] for line in body]
    disagreements = sum(f.agrees.value == "false" for f in findings)
    assert disagreements
    assert verdicts[:disagreements] == ["false"] * disagreements


def test_audit_command_takes_width(run_cdkg) -> None:  # type: ignore[no-untyped-def]
    result = run_cdkg("audit", "--width", "100")
    assert result.returncode == 0, result.stderr
    assert widest(result.stdout.split("\n(")[0]) <= 100
    bad = run_cdkg("audit", "--width", "-3")
    assert bad.returncode == 2
    assert "not a number of columns" in bad.stderr
