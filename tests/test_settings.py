"""The settings table: precedence defaults < CDKG_* < flags, parsing, and the copy in
docs/command-line.md."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from cdkg import settings
from cdkg.errors import BadParameter
from cdkg.settings import Settings, add_arguments, from_sources, render_markdown


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("env", "argv", "field", "expected"),
    [
        ({}, [], "port", 8000),
        ({"CDKG_PORT": "9000"}, [], "port", 9000),
        ({"CDKG_PORT": "9000"}, ["--port", "9001"], "port", 9001),
        ({}, ["--port", "9001"], "port", 9001),
        ({}, [], "host", "127.0.0.1"),
        ({"CDKG_HOST": "0.0.0.0"}, [], "host", "0.0.0.0"),
        ({"CDKG_HOST": "0.0.0.0"}, ["--host", "::1"], "host", "::1"),
        ({}, [], "timeout", 10.0),
        ({"CDKG_TIMEOUT": "2.5"}, [], "timeout", 2.5),
        ({"CDKG_TIMEOUT": "2.5"}, ["--timeout", "0.5"], "timeout", 0.5),
        ({}, [], "max_rows", 10_000),
        ({"CDKG_MAX_ROWS": "5"}, ["--max-rows", "7"], "max_rows", 7),
        ({}, [], "max_body", 1_000_000),
        ({"CDKG_MAX_BODY": "2048"}, [], "max_body", 2048),
        ({}, [], "workers", 2),
        ({"CDKG_WORKERS": "4"}, [], "workers", 4),
        ({}, [], "cors_origins", ("*",)),
        ({"CDKG_CORS_ORIGINS": "https://a.org, https://b.org"}, [], "cors_origins",
         ("https://a.org", "https://b.org")),
        ({"CDKG_CORS_ORIGINS": "https://a.org"}, ["--cors-origin", "https://c.org"],
         "cors_origins", ("https://c.org",)),
        ({}, [], "allow_service", ()),
        ({"CDKG_ALLOW_SERVICE": "https://query.wikidata.org/sparql https://x.org/sparql"}, [],
         "allow_service", ("https://query.wikidata.org/sparql", "https://x.org/sparql")),
        ({}, ["--allow-service", "https://a/sparql", "--allow-service", "https://b/sparql"],
         "allow_service", ("https://a/sparql", "https://b/sparql")),
        ({}, [], "graphs", ()),
        ({}, ["--graph", "https://e.org/g=extra.ttl"], "graphs",
         (("https://e.org/g", Path("extra.ttl")),)),
        ({"CDKG_GRAPHS": "https://e.org/g?a=b=x.nt,urn:g2=y.ttl"}, [], "graphs",
         (("https://e.org/g?a=b", Path("x.nt")), ("urn:g2", Path("y.ttl")))),
    ],
)  # fmt: skip
def test_precedence(env: dict[str, str], argv: list[str], field: str, expected: object) -> None:
    assert getattr(from_sources(parse(argv), env), field) == expected


def test_defaults_match_an_empty_source() -> None:
    assert from_sources(None, {}) == Settings()


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_every_field_is_declared_once() -> None:
    declared = settings.specs()
    assert [f.name for f, _ in declared] == [f.name for f in dataclasses.fields(Settings)]
    assert len({spec.env for _, spec in declared}) == len(declared)
    assert len({spec.flag for _, spec in declared}) == len(declared)
    assert all(spec.env.startswith("CDKG_") and spec.help for _, spec in declared)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CDKG_PORT": "eighty"}, "CDKG_PORT"),
        ({"CDKG_PORT": "70000"}, "out of range"),
        ({"CDKG_TIMEOUT": "0"}, "greater than 0"),
        ({"CDKG_WORKERS": "0"}, "at least 1"),
        ({"CDKG_GRAPHS": "not-an-iri-at-all"}, "IRI=PATH"),
        ({"CDKG_GRAPHS": "relative=x.ttl"}, "absolute IRI"),
    ],
)
def test_bad_environment_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(BadParameter, match=message) as caught:
        from_sources(None, env)
    assert next(iter(env)) in caught.value.message


def test_bad_flag_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(["--port", "eighty"])
    assert caught.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_the_command_line_page_has_the_rendered_table() -> None:
    page = (Path(__file__).parents[1] / "docs" / "command-line.md").read_text(encoding="utf-8")
    begin, end = "<!-- settings-table:begin -->\n", "<!-- settings-table:end -->"
    assert begin in page
    assert end in page
    documented = page.split(begin, 1)[1].split(end, 1)[0]
    assert documented == render_markdown(), (
        "docs/command-line.md's settings table is stale; paste the output of "
        '`python -c "import cdkg.settings as s; print(s.render_markdown(), end=str())"`'
    )
