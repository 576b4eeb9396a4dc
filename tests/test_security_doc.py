"""docs/security.md names the defaults and limits of the code: its tables must match
``cdkg.settings`` and the modules' constants, so the security note cannot drift."""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from cdkg import settings
from cdkg.settings import Settings
from cdkg.sparql import refusals

DOC = Path(__file__).parents[1] / "docs" / "security.md"


def table(name: str) -> list[list[str]]:
    """The rows of the table between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``, each
    cell stripped of its backticks."""
    text = DOC.read_text(encoding="utf-8")
    begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
    assert begin in text, f"docs/security.md has no {name} table"
    assert end in text, f"docs/security.md's {name} table has no end marker"
    lines = text.split(begin, 1)[1].split(end, 1)[0].strip().splitlines()[2:]  # no header
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines]


def shown(value: Any) -> str:
    """A default as the settings table (docs/command-line.md) shows it."""
    if value is None or value == ():
        return "(none)"
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    return str(value)


SPECS = {f.name: (f, spec) for f, spec in settings.specs()}
DEFAULTS = table("security-defaults")


@pytest.mark.parametrize("row", DEFAULTS, ids=[row[0] for row in DEFAULTS])
def test_a_documented_default_is_the_settings_default(row):
    name, flag, variable, default = row[:4]
    assert name in SPECS, f"docs/security.md names a setting {name!r} that does not exist"
    field, spec = SPECS[name]
    assert (flag, variable) == (spec.flag, spec.env)
    assert default == shown(field.default), f"{name}: the doc says {default}"
    assert default == shown(getattr(Settings(), name))


def test_the_doc_names_every_limit_a_client_can_hit():
    documented = {row[0] for row in DEFAULTS}
    limits = {"timeout", "max_rows", "max_body", "workers", "allow_service", "cors_origins"}
    assert limits <= documented
    assert {f.name for f in dataclasses.fields(Settings)} >= documented


CONSTANTS = table("security-constants")


@pytest.mark.parametrize("row", CONSTANTS, ids=[row[0] for row in CONSTANTS])
def test_a_documented_constant_is_the_code(row):
    path, value = row[:2]
    module, _, attribute = path.rpartition(".")
    assert getattr(importlib.import_module(module), attribute) == float(value), path


def test_the_prose_states_the_same_limits():
    """Numbers in the refusal table's prose are those of the code."""
    text = DOC.read_text(encoding="utf-8")
    assert f"over {refusals.MAX_QUERY_CHARS:,} characters" in text
    assert f"nested deeper than {refusals.MAX_NESTING}" in text
    assert re.search(r"client_max_body_size\s+1m;", text)  # about --max-body, 1,000,000 bytes
    assert f"({Settings().max_body:,} bytes)" in text
