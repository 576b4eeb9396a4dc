"""Finding the knowledge directories: packaged copy first, else the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdkg import resources
from cdkg.resources import KG_DIRS, kg_dir


@pytest.mark.parametrize("name", KG_DIRS)
def test_kg_dir_is_the_packaged_copy_or_the_repository_one(name: str) -> None:
    found = kg_dir(name)
    assert found.name == name
    package = Path(resources.__file__).resolve().parent
    assert found in (package / "_kg" / name, package.parents[1] / name)


def test_ontology_is_found() -> None:
    assert sorted(kg_dir("ontology").glob("*.ttl")), "no ontology/*.ttl found"


def test_packaged_copy_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "cdkg"
    (package / "_kg" / "data").mkdir(parents=True)
    monkeypatch.setattr(resources, "_PACKAGE", package)
    assert kg_dir("data") == package / "_kg" / "data"
    assert kg_dir("queries") == tmp_path / "queries"  # no packaged copy: two levels up


def test_unknown_directory_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown knowledge directory"):
        kg_dir("secrets")
