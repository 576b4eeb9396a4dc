"""A private Virtuoso for the external-store tests (a pytest plugin, named in ``conftest.py``).

``virtuoso`` is session-scoped: Debian's ``virtuoso-t`` started from a copy of the packaged
``virtuoso.ini`` in a temporary directory, listening on loopback on two free ports (SQL and
HTTP), with a fresh random ``dba`` password set through ``isql``; it is killed at the end of the
session. How and why: ``docs/external-store.md`` (its worked example runs one).

Without ``/usr/bin/virtuoso-t`` the tests that use it are skipped, except in CI (``CI=true``),
where a missing Virtuoso is a failure: ``scripts/test`` installs ``virtuoso-opensource``.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

VIRTUOSO = Path("/usr/bin/virtuoso-t")
ISQL = Path("/usr/bin/isql-vt")
PACKAGED_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
#: How long the server may take to answer /sparql (about 10-15 s on a 2-core machine).
READY_WITHIN = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def edit_ini(text: str, changes: Mapping[tuple[str, str], str]) -> str:
    """``text`` (an ini file) with each ``(section, key)`` of ``changes`` set to its value;
    keys not there are added at the end of their section. Comments and order are kept."""
    pending = dict(changes)
    out: list[str] = []
    section = ""

    def flush(name: str) -> None:
        for (sec, key), value in list(pending.items()):
            if sec == name:
                out.append(f"{key} = {value}")
                del pending[(sec, key)]

    for line in text.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            flush(section)
            section = header.group(1)
            out.append(line)
            continue
        entry = re.match(r"\s*([A-Za-z_0-9]+)\s*=", line)
        if entry and (section, entry.group(1)) in pending:
            out.append(f"{entry.group(1)} = {pending.pop((section, entry.group(1)))}")
        elif entry and (section, entry.group(1)) in changes:
            continue  # a repeated key: the first occurrence was already set
        else:
            out.append(line)
    flush(section)
    for (sec, key), value in pending.items():  # a section the file lacks
        out += [f"[{sec}]", f"{key} = {value}"]
    return "\n".join(out) + "\n"


@dataclass
class Virtuoso:
    """A running private Virtuoso: where it listens and the ``dba`` password."""

    directory: Path
    http_port: int
    sql_port: int
    password: str
    process: subprocess.Popen[bytes]
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

    def isql(self, statement: str, password: str | None = None) -> str:
        done = subprocess.run(
            [
                str(ISQL),
                str(self.sql_port),
                "dba",
                password or self.password,
                f"exec={statement}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise RuntimeError(f"isql {statement!r} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def log(self, lines: int = 40) -> str:
        path = self.directory / "virtuoso.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_virtuoso(directory: Path, ready_within: float = READY_WITHIN) -> Virtuoso:
    """Start a private Virtuoso with its database in ``directory``; wait until /sparql answers;
    set a random ``dba`` password. Raises RuntimeError (with the server's log) on failure."""
    began = time.monotonic()
    http_port, sql_port = free_port(), free_port()
    db = directory
    ini = edit_ini(
        PACKAGED_INI.read_text(),
        {
            ("Database", "DatabaseFile"): str(db / "virtuoso.db"),
            ("Database", "ErrorLogFile"): str(db / "virtuoso.log"),
            ("Database", "LockFile"): str(db / "virtuoso.lck"),
            ("Database", "TransactionFile"): str(db / "virtuoso.trx"),
            ("Database", "xa_persistent_file"): str(db / "virtuoso.pxa"),
            ("TempDatabase", "DatabaseFile"): str(db / "virtuoso-temp.db"),
            ("TempDatabase", "TransactionFile"): str(db / "virtuoso-temp.trx"),
            ("Parameters", "ServerPort"): f"127.0.0.1:{sql_port}",
            ("Parameters", "DirsAllowed"): f"., {db}, /usr/share/virtuoso-opensource-7/vad",
            ("Parameters", "NumberOfBuffers"): "20000",
            ("Parameters", "CheckpointInterval"): "0",
            ("HTTPServer", "ServerPort"): f"127.0.0.1:{http_port}",
            ("URIQA", "DefaultHost"): f"127.0.0.1:{http_port}",
        },
    )
    (db / "virtuoso.ini").write_text(ini)
    with (db / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [str(VIRTUOSO), "+foreground", "+configfile", str(db / "virtuoso.ini")],
            cwd=db,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Virtuoso(db, http_port, sql_port, "dba", process)
    try:
        _wait_until_ready(server, ready_within)
        password = "p" + secrets.token_hex(12)  # isql reads a bare word: a letter, then hex
        server.isql(f"set password dba {password};", password="dba")  # noqa: S106 - the default
    except BaseException:
        server.stop()
        raise
    server.password = password
    server.started_in = time.monotonic() - began
    return server


def _wait_until_ready(server: Virtuoso, ready_within: float) -> None:
    deadline = time.monotonic() + ready_within
    probe = f"{server.sparql}?" + urllib.parse.urlencode({"query": "ASK {}"})
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"virtuoso-t exited with {server.process.returncode}:\n{server.log()}"
            )
        try:
            with urllib.request.urlopen(probe, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"Virtuoso did not answer within {ready_within:g} s:\n{server.log()}"
            )
        time.sleep(0.3)


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
