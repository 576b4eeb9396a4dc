"""The versions of what a benchmark runs, for its report: Python, the packages, the Oxigraph
server and wrk."""

from __future__ import annotations

import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from cdkg_bench.servers import oxigraph_binary


def versions() -> str:
    """The versions of what a benchmark runs: Python, the packages, the Oxigraph server and wrk."""
    found = [f"Python {platform.python_version()}"]
    packages = ("cdkg", "pyoxigraph", "rdflib", "flask", "waitress", "rdflib-endpoint", "uvicorn")
    for package in packages:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    for tool, command in (("oxigraph server", oxigraph_binary()), ("wrk", shutil.which("wrk"))):
        found.append(f"{tool} {_tool_version(command) if command else '(not installed)'}")
    return ", ".join(found)


def _tool_version(command: str) -> str:
    """What ``command --version`` (``-v`` for wrk) says, first line, without the tool's name."""
    flag = "-v" if Path(command).name == "wrk" else "--version"
    try:
        done = subprocess.run(
            [command, flag], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "(version unknown)"
    first = (done.stdout or done.stderr).strip().splitlines()[:1]
    words = first[0].split() if first else []
    return words[1] if len(words) > 1 else "(version unknown)"
