"""A private Virtuoso for a benchmark, run by ``scripts/virtuoso`` in a directory of its own:
whether it can run here (and why not), started, stopped; and ``curl --digest`` of an N-Triples
file to its Graph Store (PUT, then POST, in parts), the plain client ``cdkg load`` is compared
with."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cdkg.kg.publish import LOAD_TIMEOUT
from cdkg.kg.sending import CHUNK_BYTES, parts

#: The script the tests and the docs start Virtuoso with: one recipe for all three.
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "virtuoso"
VIRTUOSO = Path("/usr/bin/virtuoso-t")
BASH = shutil.which("bash") or "/bin/bash"
ISQL = Path("/usr/bin/isql-vt")
#: Virtuoso's page buffers (8 KiB each: about 780 MiB), so that 1.5M triples and their indexes
#: stay in memory: the store is timed answering, not paging (the script's default is 20,000).
BUFFERS = 100_000
#: Seconds Virtuoso may take to answer /sparql after its start (about 5-15 s on 2 cores).
READY_WITHIN = 180
#: Seconds one request of a load may take: the limit ``cdkg load`` gives each of its requests.
PUT_TIMEOUT = LOAD_TIMEOUT
#: Largest body curl sends, cdkg load's (:data:`cdkg.kg.sending.CHUNK_BYTES`): a graph's N-Triples
#: go as a PUT of the first part, then a POST of each other part, cut at line ends as cdkg load
#: cuts them (:func:`cdkg.kg.sending.parts`), so that both send the same requests. Virtuoso 7.2.5's
#: loader deadlocks on one large body (docs/external-store.md, "Loading at scale").
PART_BYTES = CHUNK_BYTES


def unavailable() -> str:
    """Why no private Virtuoso can run here, or ``""`` if one can."""
    for path, what in ((VIRTUOSO, "virtuoso-t"), (ISQL, "isql-vt")):
        if not path.exists():
            return f"{what} is not installed ({path}; Debian: apt-get install virtuoso-opensource)"
    if shutil.which("curl") is None:
        return "curl is not installed"
    if not SCRIPT.exists():
        return f"{SCRIPT} is missing (the store part runs from a checkout)"
    return ""


def version() -> str:
    """Virtuoso's version, as ``virtuoso-t --version`` says it (on standard error)."""
    try:
        done = subprocess.run(
            [str(VIRTUOSO), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "(version unknown)"
    found = re.search(r"Version (\S+)", done.stdout + done.stderr)
    return found.group(1) if found else "(version unknown)"


@dataclass(frozen=True)
class Virtuoso:
    """A running private Virtuoso: its directory and what ``DIR/store.env`` says."""

    directory: Path
    env: dict[str, str]
    started_in: float

    @property
    def query(self) -> str:
        """The anonymous, read-only SPARQL endpoint."""
        return self.env["VIRTUOSO_QUERY"]

    @property
    def port(self) -> int:
        return int(self.env["VIRTUOSO_HTTP_PORT"])

    @property
    def graph_store(self) -> str:
        """The Graph Store HTTP Protocol endpoint, behind Digest authentication."""
        return self.env["VIRTUOSO_GRAPH_STORE"]

    @property
    def credentials(self) -> dict[str, str]:
        """``CDKG_STORE_USER`` and ``CDKG_STORE_PASSWORD``, as ``cdkg load`` reads them."""
        return {k: v for k, v in self.env.items() if k.startswith("CDKG_STORE_")}

    def stop(self) -> None:
        _script("stop", self.directory, timeout=120)


def _script(command: str, directory: Path, *args: str, timeout: float) -> str:
    done = subprocess.run(
        [BASH, str(SCRIPT), command, "--dir", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/virtuoso {command} exited {done.returncode}: {done.stderr}")
    return done.stdout


def start(directory: Path) -> Virtuoso:
    """A fresh Virtuoso with its database in ``directory`` (new or empty), on loopback."""
    began = time.perf_counter()
    args = ("--buffers", str(BUFFERS), "--wait", str(READY_WITHIN))
    _script("start", directory, *args, timeout=READY_WITHIN + 60)
    text = (directory / "store.env").read_text(encoding="utf-8")
    env = dict(re.findall(r"^export (\w+)=(\S*)$", text, re.MULTILINE))
    return Virtuoso(directory, env, time.perf_counter() - began)


def curl_put(store: Virtuoso, graph: str, path: Path, config: Path) -> float:
    """The N-Triples file ``path`` into ``graph`` by curl, in parts cut as cdkg load cuts them
    (:func:`cdkg.kg.sending.parts`): ``curl --digest -X PUT --data-binary @-`` of the first
    (replacing the graph), ``-X POST`` of each other (merged into it); seconds, from the first
    spawn to the last exit. RuntimeError if the store did not answer 2xx within
    :data:`PUT_TIMEOUT`. The credentials are in the curl ``config`` file (mode 600), not on the
    command line, which ``ps`` shows."""
    url = f"{store.graph_store}?{urllib.parse.urlencode({'graph': graph})}"
    began = time.perf_counter()
    for rank, part in enumerate(parts(path.read_bytes(), PART_BYTES)):
        method = "PUT" if rank == 0 else "POST"
        command = [shutil.which("curl") or "curl", "-sS", "-K", str(config), "--digest"]
        command += ["-X", method, "--max-time", f"{PUT_TIMEOUT:g}"]
        command += ["-H", "Content-Type: application/n-triples", "--data-binary", "@-"]
        command += ["-w", "\n%{http_code}", url]
        done = subprocess.run(
            command, input=part, capture_output=True, timeout=PUT_TIMEOUT + 60, check=False
        )
        body, _, status = done.stdout.decode("utf-8", "replace").rpartition("\n")
        if done.returncode != 0 or status not in ("200", "201", "204"):
            text = " ".join(re.sub(r"<[^>]+>", " ", body).split())[-200:]  # Virtuoso answers HTML
            said = done.stderr.decode("utf-8", "replace").strip() or f"answered {status}: {text}"
            took = f"after {time.perf_counter() - began:.0f} s"
            raise RuntimeError(f"curl {method} of part {rank + 1} to <{graph}> {took}: {said}")
    return time.perf_counter() - began


def curl_config(store: Virtuoso, path: Path) -> Path:
    """A curl config file holding ``store``'s user and password, readable by its owner only."""
    path.touch(mode=0o600)
    user, password = store.env["CDKG_STORE_USER"], store.env["CDKG_STORE_PASSWORD"]
    path.write_text(f'user = "{user}:{password}"\n', encoding="utf-8")
    return path
