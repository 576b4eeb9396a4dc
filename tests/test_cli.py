"""The command line, as a user runs it: the installed ``cdkg`` script, from an empty directory."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cdkg.cli import main

Run = Callable[..., "subprocess.CompletedProcess[str]"]  # the run_cdkg fixture


def mini(fixtures_dir: Path, data: str) -> list[str | Path]:
    """Arguments that point a sub-command at the fixture ontology and one fixture data file."""
    return [
        "--ontology",
        fixtures_dir / "ontology",
        "--data",
        fixtures_dir / "data" / f"{data}.ttl",
    ]


def validate(fixtures_dir: Path, data: str, *extra: str) -> list[str | Path]:
    return ["validate", *mini(fixtures_dir, data), "--shapes", fixtures_dir / "shapes", *extra]


@pytest.mark.parametrize(
    ("data", "extra", "code"),
    [
        ("valid", (), 0),
        ("invalid-shape", (), 1),
        ("invalid-check", (), 1),
        ("inconsistent", (), 1),
        ("inconsistent", ("--no-reason",), 0),
        ("broken", (), 2),
    ],
)
def test_validate_exit_codes(
    run_cdkg: Run, fixtures_dir: Path, data: str, extra: tuple[str, ...], code: int
) -> None:
    result = run_cdkg(*validate(fixtures_dir, data, *extra))
    assert result.returncode == code, result.stderr


def test_validate_report_goes_to_stdout(run_cdkg: Run, fixtures_dir: Path) -> None:
    result = run_cdkg(*validate(fixtures_dir, "invalid-shape"))
    assert "focus:   id:nameless" in result.stdout
    assert "message: A place needs a label" in result.stdout
    assert "does not conform" in result.stderr
    assert "focus" not in result.stderr


def test_validate_json(run_cdkg: Run, fixtures_dir: Path) -> None:
    result = run_cdkg(*validate(fixtures_dir, "invalid-check", "--format", "json"))
    body = json.loads(result.stdout)
    assert body["conforms"] is False
    assert [r["source"] for r in body["results"]] == ["self-twin-violation.rq"]


def test_broken_turtle_names_file_and_line(run_cdkg: Run, fixtures_dir: Path) -> None:
    result = run_cdkg(*validate(fixtures_dir, "broken"))
    assert result.returncode == 2
    assert f"{fixtures_dir / 'data' / 'broken.ttl'}:5:" in result.stderr
    assert result.stdout == ""


def terms(fixtures_dir: Path, fmt: str) -> list[str]:
    args = ["query", fixtures_dir / "queries" / "terms.rq", *mini(fixtures_dir, "valid")]
    return [*map(str, args), "--format", fmt]


EXPECTED = {
    "csv": (
        "iri,text,number,missing\r\n"
        "https://example.org/id/alpha,plain,1,\r\n"
        'https://example.org/id/b%C3%A9ta,"comma, ""quote""\ttab\nline",2.5,\r\n'
    ),
    "tsv": (
        "?iri\t?text\t?number\t?missing\n"
        # integers and decimals in their short form (SPARQL 1.1 TSV results §3.2: Turtle's)
        '<https://example.org/id/alpha>\t"plain"\t1\t\n'
        '<https://example.org/id/b%C3%A9ta>\t"comma, \\"quote\\"\\ttab\\nline"@en\t2.5\t\n'
    ),
    "table": (  # a literal's text alone: no language tag, no datatype
        "iri           text                       number  missing\n"
        "------------  -------------------------  ------  -------\n"
        "id:alpha      plain                      1\n"
        'id:b%C3%A9ta  comma, "quote"\\ttab\\nline  2.5\n'
        "(2 rows)\n"
    ),
}


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_query_formats(fixtures_dir: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    # the table as wide as it needs: not fitted to the width of whatever terminal runs the tests
    assert main(terms(fixtures_dir, fmt) + (["--width", "0"] if fmt == "table" else [])) == 0
    assert capsys.readouterr().out == EXPECTED[fmt]


def test_query_json_is_sparql_results_json(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(terms(fixtures_dir, "json")) == 0
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert json.loads(capsys.readouterr().out) == {
        "head": {"vars": ["iri", "text", "number", "missing"]},
        "results": {
            "bindings": [
                {
                    "iri": {"type": "uri", "value": "https://example.org/id/alpha"},
                    "text": {"type": "literal", "value": "plain"},
                    "number": {"type": "literal", "value": "1", "datatype": f"{xsd}integer"},
                },
                {
                    "iri": {"type": "uri", "value": "https://example.org/id/b%C3%A9ta"},
                    "text": {
                        "type": "literal",
                        "value": 'comma, "quote"\ttab\nline',
                        "xml:lang": "en",
                    },
                    "number": {"type": "literal", "value": "2.5", "datatype": f"{xsd}decimal"},
                },
            ]
        },
    }


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json"])
def test_ask_in_each_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fixtures_dir: Path, fmt: str
) -> None:
    query = tmp_path / "ask.rq"
    query.write_text("ASK { ?s ?p ?o }\n", encoding="utf-8")
    assert main(["query", str(query), *map(str, mini(fixtures_dir, "valid")), "-f", fmt]) == 0
    out = capsys.readouterr().out
    # the endpoint's bytes; CSV and TSV as Jena writes an ASK (the spec defines none)
    expected = {"table": "true\n", "csv": "_askResult\r\ntrue\r\n", "tsv": "?_askResult\ntrue\n"}
    assert json.loads(out)["boolean"] is True if fmt == "json" else out == expected[fmt]


def test_query_with_params_through_the_script(run_cdkg: Run, fixtures_dir: Path) -> None:
    towns = fixtures_dir / "queries" / "towns.rq"
    args = ["query", towns, *mini(fixtures_dir, "valid"), "--format", "csv"]
    result = run_cdkg(*args, "--param", "town=https://example.org/id/alpha", "-p", "lang=fa")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [  # text mode reads CRLF as \n
        "town,label,twin",
        "https://example.org/id/alpha,آلفا,https://example.org/id/beta",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "lang=de"], "is not one of: en, fa"),
        (["--param", "nope=1"], "unknown parameter 'nope'"),
        (["--param", "lang"], "is not KEY=VALUE"),
    ],
)
def test_bad_params_exit_2(
    fixtures_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    towns = str(fixtures_dir / "queries" / "towns.rq")
    assert main(["query", towns, *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_unknown_query_exits_2_and_lists_names(run_cdkg: Run) -> None:
    result = run_cdkg("query", "no-such-query")
    assert result.returncode == 2
    assert "no canned query named 'no-such-query'" in result.stderr
    assert "available queries" in result.stderr or "no canned queries" in result.stderr


def test_queries_lists_the_canned_queries(run_cdkg: Run) -> None:
    result = run_cdkg("queries")
    assert result.returncode == 0, result.stderr


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "exit codes:" in capsys.readouterr().out
    assert main(["validate", "--help"]) == 0
    assert "1  validate: the data does not conform" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["query", "x", "--format", "yaml"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_query_reads_extra_graphs_as_serve_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text('<https://example.org/s> <https://example.org/p> "x" .\n', encoding="utf-8")
    query = tmp_path / "g.rq"
    query.write_text("SELECT ?g WHERE { GRAPH ?g { ?s <https://example.org/p> ?o } }\n")
    assert (
        main(["query", str(query), "--graph", f"https://example.org/g={extra}", "-f", "csv"]) == 0
    )
    assert capsys.readouterr().out == "g\r\nhttps://example.org/g\r\n"
    assert main(["query", str(query), "--graph", "not-an-iri=x.ttl"]) == 2


#: The command line of an install without the measuring tools (``pip install .``, as
#: scripts/serve installs): cdkg_bench cannot be imported.
WITHOUT_TOOLS = (
    "import sys; sys.modules['cdkg_bench'] = None; "  # an import of it now fails, as when absent
    "from cdkg.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize(
    "argv",
    [["generate", "-n", "10", "-o", "unused.nt"], ["bench-report", "--quick"], ["soak", "-h"]],
)
def test_a_tool_without_the_bench_extra_says_what_to_install(
    argv: list[str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TOOLS, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "cdkg: error: this command is one of cdkg's measuring tools" in done.stderr
    assert "hint: install the tools with the bench extra" in done.stderr
    assert not (tmp_path / "unused.nt").exists()


def test_the_help_lists_every_command_without_the_bench_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TOOLS, "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "generate" in done.stdout
    assert "serve" in done.stdout
