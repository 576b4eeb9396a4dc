"""A private Virtuoso for the external-store tests (a pytest plugin, named in ``conftest.py``).

``virtuoso`` is session-scoped and started by ``scripts/virtuoso start``, the one command
``docs/external-store.md`` gives for a private instance: so the recipe readers follow is the one
the tests run. The script writes its own ``virtuoso.ini`` in a temporary directory, listens on
loopback on two free ports (SQL and HTTP), sets a fresh random ``dba`` password and writes the URLs
and credentials to ``store.env``, which :func:`start_virtuoso` reads. ``scripts/virtuoso stop``
ends it at the end of the session.

Without ``/usr/bin/virtuoso-t`` the tests that use it are skipped, except in CI (``CI=true``),
where a missing Virtuoso is a failure: ``scripts/test`` installs ``virtuoso-opensource``.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "virtuoso"
VIRTUOSO = Path("/usr/bin/virtuoso-t")
ISQL = Path("/usr/bin/isql-vt")
#: How long the server may take to answer /sparql (about 10-15 s on a 2-core machine).
READY_WITHIN = 120


@dataclass
class Virtuoso:
    """A running private Virtuoso: where it listens, the ``dba`` password, what the script said."""

    directory: Path
    http_port: int
    sql_port: int
    password: str
    said: str  # scripts/virtuoso start's output: the URLs and credentials
    started_in: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        """The anonymous, read-only SPARQL endpoint."""
        return f"{self.base}/sparql"

    @property
    def sparql_auth(self) -> str:
        """The SPARQL endpoint behind digest authentication: updates as ``dba``."""
        return f"{self.base}/sparql-auth"

    @property
    def graph_store(self) -> str:
        """The SPARQL 1.1 Graph Store HTTP Protocol endpoint, behind digest authentication."""
        return f"{self.base}/sparql-graph-crud-auth"

    def log(self, lines: int = 40) -> str:
        path = self.directory / "virtuoso.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        script(["stop", "--dir", str(self.directory)], timeout=60)


def script(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``scripts/virtuoso ARGS``, its output captured."""
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_env(path: Path) -> dict[str, str]:
    """The ``export NAME=VALUE`` lines ``scripts/virtuoso`` writes, as a dict."""
    found = re.findall(r"^export (\w+)=(\S*)$", path.read_text(), re.MULTILINE)
    return dict(found)


def start_virtuoso(directory: Path, ready_within: int = READY_WITHIN) -> Virtuoso:
    """``scripts/virtuoso start`` with its database in ``directory``. Raises RuntimeError (with
    what the script said) on failure."""
    began = time.monotonic()
    done = script(
        ["start", "--dir", str(directory), "--wait", str(ready_within)], timeout=ready_within + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/virtuoso start exited {done.returncode}:\n{done.stderr}")
    env = read_env(directory / "store.env")
    return Virtuoso(
        directory,
        int(env["VIRTUOSO_HTTP_PORT"]),
        int(env["VIRTUOSO_SQL_PORT"]),
        env["CDKG_STORE_PASSWORD"],
        done.stdout,
        time.monotonic() - began,
    )


def cdkg(script: Path, *args: str | Path, env: dict[str, str] | None = None) -> Any:
    """Run the installed ``cdkg`` with the environment minus ``CDKG_*``, plus ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
    return subprocess.run(
        [str(script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**clean, **(env or {})},
    )


@dataclass
class Loaded:
    """What the session's ``cdkg load`` did."""

    done: subprocess.CompletedProcess[str]
    seconds: float


@pytest.fixture(scope="session")
def loaded(virtuoso: Virtuoso, cdkg_script: Path) -> Loaded:
    """``cdkg load`` of the shipped data into the session's Virtuoso, by Graph Store PUT; the
    credentials from the environment, as the docs advise."""
    began = time.monotonic()
    done = cdkg(
        cdkg_script,
        "load",
        "--endpoint",
        virtuoso.sparql,
        "--graph-store",
        virtuoso.graph_store,
        env={"CDKG_STORE_USER": "dba", "CDKG_STORE_PASSWORD": virtuoso.password},
    )
    if done.returncode != 0:
        pytest.fail(f"cdkg load exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return Loaded(done, time.monotonic() - began)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    """A private Virtuoso on loopback for the session, empty but for its system graphs."""
    if not (VIRTUOSO.exists() and ISQL.exists()):
        reason = f"{VIRTUOSO} is missing: apt-get install virtuoso-opensource (scripts/test does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
        yield server
    finally:
        server.stop()
