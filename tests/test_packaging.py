"""The wheel carries the knowledge directories, and an installed cdkg finds them from anywhere."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cdkg.resources import KG_DIRS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from this checkout, offline (hatchling from the test extra)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("cdkg-*.whl")
    return built


def test_the_build_hook_packs_the_directories_cdkg_looks_for() -> None:
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None
    assert spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    assert hook.KG_DIRS == KG_DIRS


@pytest.mark.slow
def test_wheel_carries_every_knowledge_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "cdkg/cli.py" in names
    assert any(name.endswith("entry_points.txt") for name in names)
    for directory in KG_DIRS:
        for path in (ROOT / directory).rglob("*"):
            if path.is_file():
                packaged = f"cdkg/_kg/{path.relative_to(ROOT).as_posix()}"
                assert packaged in names, f"{packaged} is missing from the wheel"
    assert not any(name.startswith(("tests/", "cdkg/_kg/tests")) for name in names)
    assert "cdkg/_kg/CITATION.cff" in names  # cdkg release copies it (cdkg.resources.citation_file)


@pytest.mark.slow
def test_no_measuring_tool_ships_in_the_wheel(wheel: Path) -> None:
    """Benchmarks, the soak and the generator are tools/cdkg_bench, a package of their own."""
    with zipfile.ZipFile(wheel) as archive:
        code = [name for name in archive.namelist() if name.endswith(".py")]
    assert "cdkg/cli.py" in code
    assert not [name for name in code if not name.startswith("cdkg/")]
    assert not [name for name in code if any(w in name for w in ("bench", "soak", "generate"))]


@pytest.mark.slow
def test_installed_wheel_validates_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cdkg.resources import kg_dir, paper_text as p; print(kg_dir('ontology'), p())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    ontology, paper = map(Path, where.stdout.split())
    assert ontology == target / "cdkg" / "_kg" / "ontology"
    assert paper == target / "cdkg" / "_kg" / "sources" / "paper" / "city-diplomacy-iran.fa.txt"
    assert paper.read_bytes() == (ROOT / "sources" / "paper" / paper.name).read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "cdkg.cli", "validate", "--no-reason"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
