"""Bad data files: each gives a clear error, never a traceback or a hang, wherever it is loaded.

Each file of ``tests/fixtures/bad/`` is loaded by ``cdkg validate --data FILE``, by
``cdkg serve --data FILE`` and by ``cdkg serve --graph IRI=FILE`` on both stores. A file that is
not well-formed RDF exits 2 naming the file and the line; well-formed data that breaks a check exits
1 with the report. ``cdkg serve`` never listens in either case.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdkg.errors import LoadError
from cdkg.kg.graph import kg_files, rdf_format
from cdkg.kg.wellformed import check, may_hold_non_ascii_numbers
from cdkg_bench.ports import free_port

BAD = Path(__file__).parent / "fixtures" / "bad"
#: No case may take longer than this, in seconds (a billion-laughs file would take forever).
BOUND = 120
EXTRA = "https://example.org/graph/bad"


@dataclass(frozen=True)
class Case:
    file: str
    exit_code: int
    says: str  # a phrase stderr (exit 2) or the report (exit 1) must hold
    line: int | None = None  # the line the message names, for exit 2


CASES = [
    Case("turtle-syntax.ttl", 2, "A dot is expected", 7),
    Case("iri-with-space.ttl", 2, "percent-encode", 4),
    Case("relative-iri.ttl", 2, "relative IRI", 4),
    Case("lone-surrogate.ttl", 2, "D800", 4),
    Case("not-utf8.ttl", 2, "UTF-8", 4),
    Case("persian-digits.ttl", 2, "ASCII digits only", 5),
    Case("billion-laughs.rdf", 2, "<!ENTITY", 3),
    Case("external-entity.rdf", 2, "<!ENTITY", 3),
    Case("remote-context.jsonld", 2, "@context"),
    Case("arabic-yeh-kaf.ttl", 1, "arabic-yeh-kaf-violation.rq"),
    Case("nfd-persian.ttl", 1, "nfd-persian-violation.rq"),
    Case("persian-digits-year.ttl", 1, "persian-digits-in-numbers-violation.rq"),
]
IDS = [case.file for case in CASES]


def test_every_bad_file_has_a_case() -> None:
    files = sorted(p.name for p in BAD.iterdir() if p.name != "README.md")
    assert files == sorted(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wellformed_names_the_line(case: Case) -> None:
    path = BAD / case.file
    if case.exit_code != 2:
        check(path, path.read_bytes(), rdf_format(path))  # well-formed: the checks find it
        return
    with pytest.raises(LoadError) as caught:
        check(path, path.read_bytes(), rdf_format(path))
    assert (caught.value.path, caught.value.line) == (path, case.line)
    assert case.says in f"{caught.value.message} {caught.value.hint}"


def _cdkg(*args: str | Path) -> list[str]:
    return [str(Path(sys.executable).parent / "cdkg"), *map(str, args)]


def _expect(case: Case, result: subprocess.CompletedProcess[str], path: Path) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == case.exit_code, result.stderr
    if case.exit_code == 2:
        where = f"{path}:{case.line}:" if case.line is not None else f"{path}:"
        assert where in result.stderr
        assert case.says in result.stderr
    else:
        assert case.says in result.stdout + result.stderr


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_validate(case: Case, tmp_path: Path) -> None:
    path = BAD / case.file
    result = subprocess.run(
        _cdkg("validate", "--data", path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    _expect(case, result, path)
    if case.exit_code == 1:
        assert "<https://w3id.org/cdkg/id/" in result.stdout  # the report names the entity


def run_serve(*args: str | Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], bool]:
    """Run ``cdkg serve ARGS`` on a free port until it exits (at most :data:`BOUND` s); the
    process, and whether its port ever accepted a connection."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
    command = _cdkg("serve", "--port", str(port), *args)
    (cwd / "stdout").touch()
    with (cwd / "stdout").open("w+") as out, (cwd / "stderr").open("w+") as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env=env)
        deadline = time.monotonic() + BOUND
        listened = False
        try:
            while process.poll() is None and time.monotonic() < deadline:
                with socket.socket() as probe:
                    probe.settimeout(0.2)
                    listened = listened or probe.connect_ex(("127.0.0.1", port)) == 0
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.1)  # returns as soon as it exits
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
                pytest.fail(f"cdkg serve {' '.join(map(str, args))} still running after {BOUND} s")
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    return result, listened


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_serve_graph(case: Case, tmp_path: Path) -> None:
    path = BAD / case.file
    result, listened = run_serve("--graph", f"{EXTRA}={path}", cwd=tmp_path)
    assert not listened
    _expect(case, result, path)
    if case.exit_code == 1:
        assert f"<{EXTRA}> from {path}" in result.stderr  # the report says which graph


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_serve_data(case: Case, tmp_path: Path) -> None:
    path = BAD / case.file
    result, listened = run_serve("--data", path, cwd=tmp_path)
    assert not listened
    _expect(case, result, path)
    if case.exit_code == 1:
        assert "refusing to start" in result.stderr


@pytest.mark.parametrize(
    "name", ["persian-digits.ttl", "billion-laughs.rdf", "external-entity.rdf"]
)
def test_what_oxigraph_lets_through_is_refused_before_it_parses(name: str) -> None:
    path = BAD / name
    with pytest.raises(LoadError):
        check(path, path.read_bytes(), rdf_format(path), parse=False)


def test_the_shipped_files_are_parsed_once_on_oxigraph() -> None:
    assert not any(may_hold_non_ascii_numbers(p.read_bytes(), "turtle") for p in kg_files())
    assert may_hold_non_ascii_numbers((BAD / "persian-digits.ttl").read_bytes(), "turtle")
    assert may_hold_non_ascii_numbers(b'<x:a> <x:b> "\\u06F6"^^<x:c> .', "nt")
