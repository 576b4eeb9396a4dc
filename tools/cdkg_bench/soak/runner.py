"""One soak run: ``cdkg serve`` started on a free loopback port, the phases run against it
(:mod:`.phases`), and the report's record of the run: its command line, the machine, versions,
the commit, the server's settings and log."""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import cdkg
from cdkg import settings as settings_module
from cdkg.canned.registry import CannedQuery
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg_bench.ports import free_port
from cdkg_bench.server import Server
from cdkg_bench.soak.phases import Options, baseline_gap, load_average, run_phases
from cdkg_bench.soak.traffic import CLIENT_TIMEOUT

#: Lines of the server log kept in the report when it logged errors.
LOG_TAIL = 40


def server_settings(server_args: Sequence[str]) -> Settings:
    """The settings ``cdkg serve`` gets from ``server_args`` (and its defaults)."""
    parser = argparse.ArgumentParser(add_help=False)
    settings_module.add_arguments(parser)
    args, _ = parser.parse_known_args(list(server_args))
    return settings_module.from_sources(args, {})


def start(options: Options, logs: Path) -> Server:
    """``cdkg serve`` on a free loopback port, running the same cdkg as this process."""
    port = free_port()
    command = [sys.executable, "-m", "cdkg.cli", "serve", "--host", "127.0.0.1", "--port"]
    command += [str(port), *options.server_args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDKG_")}
    source = str(Path(cdkg.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    server = Server("cdkg", command, port, "/sparql", logs / "cdkg.log")
    with server.log.open("wb") as log:
        server.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    return server


def load_canned(names: Sequence[str]) -> list[CannedQuery]:
    directory = kg_dir("queries")
    paths = [directory / f"{name}.rq" for name in names] or sorted(directory.glob("*.rq"))
    return [CannedQuery.from_file(path) for path in paths]


def run(options: Options) -> tuple[int, dict[str, Any]]:
    """Start the server, run the phases, and judge; (exit code, report)."""
    report: dict[str, Any] = {
        "command": "cdkg soak " + " ".join(_argv(options)),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_before": load_average()},
        "versions": _versions(),
        "source": _source(),
        "options": {
            "clients": options.clients,
            "duration_s": options.duration,
            "think_s": options.think,
            "hostile_share": options.hostile_share,
            "baseline_requests": options.baseline,
            "baseline_gap_s": baseline_gap(options),
            "back_to_back_requests": 2 * (options.baseline // 4),
            "warm_load_s": options.warm_load,
            "server_args": list(options.server_args),
            "client_timeout_s": CLIENT_TIMEOUT,
            "seed": options.seed,
            "settle_s": options.settle,
        },
    }
    effective = server_settings(options.server_args)
    report["server_settings"] = {
        "timeout_s": effective.timeout,
        "max_rows": effective.max_rows,
        "max_body": effective.max_body,
        "workers": effective.workers,
        "allow_service": list(effective.allow_service),
    }
    canned = load_canned(options.queries)
    # this process's objects so far (rdflib's, the canned queries) are left out of its garbage
    # collections while it runs: a full collection over them holds every client thread (they share
    # the interpreter lock), and the pause would count as the server's latency
    gc.collect()
    gc.freeze()
    try:
        return _run(options, canned, effective, report)
    finally:
        gc.unfreeze()


def _run(
    options: Options, canned: list[CannedQuery], effective: Settings, report: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """:func:`run`'s work: start the server, run the phases, and judge."""
    with tempfile.TemporaryDirectory(prefix="cdkg-soak-") as logs:
        started = time.monotonic()
        server = start(options, Path(logs))
        try:
            try:
                server.wait_ready(within=180)
            except RuntimeError as err:
                report["error"] = str(err)
                return 2, report
            report["phases_s"] = {"start": round(time.monotonic() - started, 1)}
            code = run_phases(server, canned, effective, options, report)
            report["server_log"] = _log_summary(server)
            return code, report
        finally:
            server.stop()


def _log_summary(server: Server) -> dict[str, Any]:
    lines = server.log.read_text(errors="replace").splitlines()
    errors = sum(" ERROR " in line or line.startswith("Traceback") for line in lines)
    return {"errors": errors, "tail": lines[-LOG_TAIL:] if errors else []}


def _versions() -> str:
    found = []
    for package in ("cdkg", "rdflib", "pyoxigraph", "waitress"):
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found) + f", Python {sys.version.split()[0]}"


def _source() -> dict[str, Any]:
    """The git commit of the checkout this cdkg runs from, and whether it has uncommitted changes
    (empty for an installed wheel)."""
    root = Path(cdkg.__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return {}
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {"commit": commit, "uncommitted_changes": bool(changes.strip())}


def _argv(options: Options) -> list[str]:
    argv = ["--clients", str(options.clients), "--duration", f"{options.duration:g}"]
    argv += ["--think", f"{options.think:g}"]
    if options.hostile_share != Options.hostile_share:
        argv += ["--hostile-share", f"{options.hostile_share:g}"]
    if options.warm_load != Options.warm_load:
        argv += ["--warm-load", f"{options.warm_load:g}"]
    if options.settle != Options.settle:
        argv += ["--settle", f"{options.settle:g}"]
    for name in options.queries:
        argv += ["--query", name]
    for arg in options.server_args:
        argv.append(f"--server-arg={arg}")
    return argv
