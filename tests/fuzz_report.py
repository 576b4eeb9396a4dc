"""What the fuzz tests share (a pytest plugin, named in ``conftest.py``): the pass criteria every
response must meet; the fuzzed server (``fuzz_server``, one per session); and the tally of cases
tried (``tally``, one per module), written to ``reports/fuzz.json`` and printed at the end of each
fuzz module.

The pass criteria (issue 7): never a 500 for any input; every error (4xx, and the 503 of a query
past its time limit) is our one JSON error shape (:meth:`cdkg.errors.CdkgError.to_json`); no body
ever carries a Python traceback.

The report is merged, not overwritten: each test's entry says how many cases it tried, in how many
seconds, and which pytest command produced it, so docs/ can quote the numbers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from endpoint_fixtures import FIXTURES, LiveServer

REPORT = Path(__file__).resolve().parents[1] / "reports" / "fuzz.json"
#: Environment variable scaling every fuzz test's examples (a deeper, randomised run); without
#: it the tests run their fixed, derandomised budget, the same cases every time.
EXAMPLES_ENV = "FUZZ_EXAMPLES"

ERROR_KEYS = {"status", "type", "message", "hint", "spec"}
SYNTAX_KEYS = {"line", "column"}
#: The body cap of the fuzzed server: small, so that bodies past it are cheap to send.
MAX_BODY = 4096
#: Its time limit: a mutated query that runs away is answered 503 within it.
TIMEOUT = 3
#: What a Python traceback or a frame of one looks like in a body.
TRACEBACK = re.compile(
    rb'Traceback \(most recent call last\)|File "/|\.py", line \d+|site-packages/'
)


def examples(default: int) -> int:
    """The number of examples a test runs: ``default``, or ``$FUZZ_EXAMPLES`` when set."""
    return int(os.environ.get(EXAMPLES_ENV, default))


def derandomize() -> bool:
    """Fixed cases in the default run (CI is reproducible); random ones in a deeper run."""
    return EXAMPLES_ENV not in os.environ


def check_response(
    status: int, content_type: str | None, body: bytes, *, method: str = "GET"
) -> None:
    """Assert the pass criteria on one response."""
    assert status != 500, f"a 500 (a bug): {body[:500]!r}"
    assert status < 500 or status == 503, f"unexpected {status}: {body[:500]!r}"
    assert not TRACEBACK.search(body), f"a traceback in the body: {body[:2000]!r}"
    if status < 400:
        return
    assert (content_type or "").split(";")[0].strip() == "application/json", (
        f"a {status} that is not JSON ({content_type}): {body[:500]!r}"
    )
    if method == "HEAD":
        return
    check_error_shape(status, body)


def check_error_shape(status: int, body: bytes) -> None:
    """``body`` is ``{"error": {status, type, message, hint, spec}}`` (plus ``line`` and
    ``column`` for a syntax error), with the response's status."""
    doc = json.loads(body)
    assert set(doc) == {"error"}, doc
    error = doc["error"]
    keys = set(error)
    assert keys == ERROR_KEYS or keys == ERROR_KEYS | SYNTAX_KEYS, error
    assert error["status"] == status, error
    assert isinstance(error["type"], str), error
    assert error["type"], error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    assert error["hint"] is None or isinstance(error["hint"], str), error
    assert error["spec"] is None or isinstance(error["spec"], str), error


@dataclass
class Tally:
    """Cases tried per test (the pytest node id), and the seconds they took."""

    cases: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, test: str, status: int | None = None) -> None:
        self.cases[test] = self.cases.get(test, 0) + 1
        if status is not None:
            seen = self.statuses.setdefault(test, {})
            seen[str(status)] = seen.get(str(status), 0) + 1

    def timed(self, test: str, started: float) -> None:
        self.seconds[test] = self.seconds.get(test, 0.0) + time.monotonic() - started


def merge(doc: object, tally: Tally, command: str) -> dict[str, object]:
    """The report ``doc`` with each test of ``tally`` put in, run by ``command``."""
    tests: dict[str, object] = doc.get("tests", {}) if isinstance(doc, Mapping) else {}
    when = datetime.now(UTC).isoformat(timespec="seconds")
    for test, cases in sorted(tally.cases.items()):
        tests[test] = {
            "cases": cases,
            "seconds": round(tally.seconds.get(test, 0.0), 1),
            "statuses": dict(sorted(tally.statuses.get(test, {}).items())),
            "command": command,
            "examples_env": os.environ.get(EXAMPLES_ENV),
            "when": when,
        }
    return {
        "about": "fuzz cases tried per test (written by tests/fuzz_report.py; regenerate with "
        "the command of each entry)",
        "total_cases": sum(int(t["cases"]) for t in tests.values() if isinstance(t, dict)),
        "tests": dict(sorted(tests.items())),
    }


def write_report(tally: Tally, config: pytest.Config, report: Path = REPORT) -> None:
    """Merge ``tally`` into ``report`` and print it on the terminal."""
    command = " ".join(["pytest", *config.invocation_params.args])
    report.parent.mkdir(exist_ok=True)
    report.touch()
    # one merge at a time: the fuzz modules may end together, in parallel workers (pytest -n)
    with report.open("r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            doc = json.loads(handle.read())
        except ValueError:
            doc = {}
        merged = merge(doc, tally, command)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if terminal is None:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        terminal.write_line("")
        for test, cases in sorted(tally.cases.items()):
            seconds = tally.seconds.get(test, 0.0)
            terminal.write_line(f"fuzz: {cases:6d} cases in {seconds:5.1f} s  {test}")
        terminal.write_line(f"fuzz: written to {report}")


@pytest.fixture(scope="module")
def tally(pytestconfig: pytest.Config) -> Iterator[Tally]:
    """The module's tally, written to the report when the module is done."""
    found = Tally()
    yield found
    if found.cases:
        write_report(found, pytestconfig)


@pytest.fixture(scope="session")
def fuzz_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """A real ``cdkg serve`` on the small valid fixture graph, with the shipped canned queries
    (fast to start and to query), a small body cap and a short time limit."""
    return start_server(
        "--ontology",
        str(FIXTURES / "ontology"),
        "--data",
        str(FIXTURES / "data" / "valid.ttl"),
        "--shapes",
        str(FIXTURES / "shapes"),
        "--max-body",
        str(MAX_BODY),
        "--timeout",
        str(TIMEOUT),
        "--workers",
        "2",
    )
