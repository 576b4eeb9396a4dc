"""Where the knowledge directories are: in the installed wheel, or in the source checkout.

A wheel carries ``ontology/``, ``shapes/``, ``data/``, ``queries/`` and ``sources/`` (the paper's
text) inside the package at ``cdkg/_kg/<name>`` (see ``hatch_build.py``). A source checkout or an
editable install has no ``_kg``; there the directories sit at the repository root, two levels
above ``src/cdkg``.
"""

from __future__ import annotations

from pathlib import Path

KG_DIRS = ("ontology", "shapes", "data", "queries", "sources")

_PACKAGE = Path(__file__).resolve().parent


def kg_dir(name: str) -> Path:
    """The directory ``name`` (one of :data:`KG_DIRS`): packaged copy first, else the repo's.

    The returned path may not exist (e.g. no queries written yet); callers glob it and find
    nothing.
    """
    if name not in KG_DIRS:
        raise ValueError(f"unknown knowledge directory {name!r}; expected one of {KG_DIRS}")
    packaged = _PACKAGE / "_kg" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parents[1] / name


def paper_text() -> Path:
    """The paper's extracted text, the file every ``cdkg:lineStart``/``lineEnd`` counts lines of."""
    return kg_dir("sources") / "paper" / "city-diplomacy-iran.fa.txt"


def citation_file() -> Path:
    """``CITATION.cff``, how to cite the dataset: the wheel's copy (``cdkg/_kg/CITATION.cff``, see
    ``hatch_build.py``) first, else the repository's. The path may not exist."""
    packaged = _PACKAGE / "_kg" / "CITATION.cff"
    return packaged if packaged.is_file() else _PACKAGE.parents[1] / "CITATION.cff"
