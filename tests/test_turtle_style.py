"""One Turtle house style: ontology/ and data/ are exactly what ``cdkg format`` writes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cdkg.kg import turtlefmt
from cdkg.kg.graph import kg_files


@pytest.mark.parametrize("path", kg_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_file_is_in_house_style(path: Path) -> None:
    assert path.read_text(encoding="utf-8") == turtlefmt.canonical(path), (
        f"{path} is not in the house style: run `cdkg format {path}`"
    )


def test_format_check_and_rewrite(tmp_path: Path) -> None:
    messy = tmp_path / "messy.ttl"
    messy.write_text(
        "@prefix ex: <https://example.org/> .\nex:b ex:p 2 . ex:a ex:p 1 .\n", encoding="utf-8"
    )
    before = messy.read_text(encoding="utf-8")
    assert turtlefmt.main(argparse.Namespace(files=[messy], check=True)) == 1
    assert messy.read_text(encoding="utf-8") == before  # --check changes nothing
    assert turtlefmt.main(argparse.Namespace(files=[messy], check=False)) == 0
    assert turtlefmt.main(argparse.Namespace(files=[messy], check=True)) == 0
    text = messy.read_text(encoding="utf-8")
    assert text.index("ex:a") < text.index("ex:b")  # subjects sorted
