"""The servers a benchmark starts, by key, each on a free loopback port: ``cdkg serve``,
rdflib-endpoint, and the Oxigraph server (PyPI ``oxigraph``) in memory, filled with
:func:`load_quads`, or read-only over a RocksDB store."""

from __future__ import annotations

import http.client
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from cdkg_bench.ports import free_port
from cdkg_bench.server import Server

#: The servers, by key: cdkg with its cache off and on, the Oxigraph server in memory and on disk,
#: and rdflib-endpoint.
CDKG, CDKG_CACHED = "cdkg", "cdkg-cached"
OXIGRAPH, OXIGRAPH_DISK = "oxigraph", "oxigraph-disk"
PEER = "rdflib-endpoint"
LABELS = {
    CDKG: "cdkg (--cache-entries 0)",
    CDKG_CACHED: "cdkg (cache on)",
    OXIGRAPH: "Oxigraph server (in memory)",
    OXIGRAPH_DISK: "Oxigraph server (RocksDB, read-only)",
    PEER: "rdflib-endpoint",
}


def cdkg_server(name: str, extra: Sequence[str], logs: Path, data: Sequence[Path] = ()) -> Server:
    """``cdkg serve`` (not started) with the arguments ``extra``, serving ``data`` if given."""
    port = free_port()
    command = [sys.executable, "-m", "cdkg.cli", "serve", "--port", str(port), *extra]
    if data:
        command += ["--data", *map(str, data)]
    return Server(name, command, port, "/sparql", logs / f"{name.replace(' ', '_')}.log")


def peer_server(files: Sequence[Path], logs: Path) -> Server:
    """``rdflib-endpoint serve`` over ``files`` (not started)."""
    port = free_port()
    command = [sys.executable, "-m", "rdflib_endpoint", "serve", *map(str, files)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return Server(PEER, command, port, "/", logs / "rdflib-endpoint.log")  # its CLI serves at /


def oxigraph_binary() -> str | None:
    """The Oxigraph server's command (PyPI ``oxigraph``, beside this Python, or on PATH)."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


def oxigraph_server(name: str, logs: Path, location: Path | None = None) -> Server:
    """The Oxigraph server (not started): read-only over the store at ``location`` (RocksDB, as
    ``oxigraph load`` wrote it), or in memory and empty (:func:`load_quads` fills it). Both take
    the union of the named graphs as the default graph, as cdkg does."""
    binary = oxigraph_binary()
    if binary is None:
        raise RuntimeError("the Oxigraph server is not installed: pip install 'cdkg[bench]'")
    port = free_port()
    bind = ["--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    if location is None:
        command = [binary, "serve", *bind]
    else:
        command = [binary, "serve-read-only", "--location", str(location), *bind]
    return Server(name, command, port, "/query", logs / f"{name.replace(' ', '_')}.log")


def load_quads(server: Server, path: Path, timeout: float = 600.0) -> None:
    """POST the N-Quads file ``path`` into the in-memory Oxigraph ``server``'s dataset."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/n-quads"}
        conn.request("POST", "/store", body=path.read_bytes(), headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status not in (200, 201, 204):
        raise RuntimeError(f"{server.name} refused the data: {response.status} {body[:300]!r}")
