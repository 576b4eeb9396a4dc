"""The phases of a soak run (see :mod:`cdkg_bench.soak`), and the ``cdkg soak`` command."""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import cdkg
from cdkg import settings as settings_module
from cdkg.canned.registry import CannedQuery
from cdkg.engine.processes import QUERIES_PER_WORKER
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg_bench.concurrent import Server, free_port
from cdkg_bench.soak.memory import Memory
from cdkg_bench.soak.traffic import CLIENT_TIMEOUT, HOSTILE, Mix, Outcome, Target, attempt, get
from cdkg_bench.soak.verdict import criteria, latency, markdown, normal_ok, summarize, write

#: Lines of the server log kept in the report when it logged errors.
LOG_TAIL = 40


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    clients: int = 50
    duration: float = 60.0
    think: float = 1.0  # mean seconds a client pauses between an answer and its next request
    hostile_share: float = 0.05
    # normal requests timed one at a time: about as many as the load's normal requests, so that
    # the two p99s are read from samples of a size (from 1,000, the 10th worst, it moved between
    # 7.4 and 11.4 ms from run to run). They are paced like the load's arrivals (see
    # ``baseline_gap``); half as many again are sent back to back, for the report.
    baseline: int = 3000
    warm_load: float = 10.0  # seconds of the same load before memory is first read
    queries: tuple[str, ...] = ()  # canned query names; empty: all of them
    server_args: tuple[str, ...] = ()
    settle: float = 5.0
    seed: int = 7
    report_dir: Path = Path("reports")


@dataclass
class Tally:
    """Outcomes of one phase, added to by the client threads under ``lock``."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


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


def baseline_gap(options: Options) -> float:
    """The mean pause (seconds) before each unloaded request: the load's mean time between two
    arrivals, the think time over the clients (0, back to back, when the clients do not
    think). The load's requests come to a machine that idles between them, and a request after an
    idle spell is slower (caches cold, CPUs woken): measured side by side once, one at a time (a
    throwaway script), p50 2.9 ms paced and 2.1 ms back to back, p99 10.7 and 9.1 ms. Back to
    back, the baseline would measure a machine no client of the load ever meets, and the p99
    criterion would judge that difference as well as the load's."""
    return options.think / options.clients if options.think > 0 and options.clients else 0.0


def one_at_a_time(port: int, mix: Mix, rng: random.Random, count: int, gap: float) -> list[Outcome]:
    """``count`` normal requests, each sent once the one before is answered, after a pause drawn
    from an exponential distribution of mean ``gap`` seconds (none if 0)."""
    outcomes = []
    for _ in range(count):
        if gap > 0:
            time.sleep(rng.expovariate(1 / gap))
        outcomes.append(attempt(port, mix.normal(rng)))
    return outcomes


def load_canned(names: Sequence[str]) -> list[CannedQuery]:
    directory = kg_dir("queries")
    paths = [directory / f"{name}.rq" for name in names] or sorted(directory.glob("*.rq"))
    return [CannedQuery.from_file(path) for path in paths]


def drive(port: int, mix: Mix, options: Options, tally: Tally, duration: float) -> float:
    """``options.clients`` threads sending ``mix`` until ``duration`` seconds are over, then
    waiting for their last answers; returns the seconds the whole phase took.

    Each client waits for its answer, then pauses a think time drawn from an exponential
    distribution of mean ``options.think`` (none if 0: then each sends as fast as the server
    answers, and the latency is the number of clients over the server's throughput, Little's
    law); the clients start spread over the first think time."""
    deadline = time.monotonic() + duration

    def pause(seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, deadline - time.monotonic())))

    def client(number: int) -> None:
        rng = random.Random(options.seed * 1000 + number)  # noqa: S311 - a reproducible mix
        if options.think > 0:
            pause(rng.uniform(0, options.think))
        while time.monotonic() < deadline:
            tally.add(attempt(port, mix.draw(rng)))
            if options.think > 0:
                pause(rng.expovariate(1 / options.think))

    started = time.monotonic()
    threads = [
        threading.Thread(target=client, args=(i,), daemon=True) for i in range(options.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def run(options: Options) -> tuple[int, dict[str, Any]]:
    """Start the server, run the phases, and judge; (exit code, report)."""
    report: dict[str, Any] = {
        "command": "cdkg soak " + " ".join(_argv(options)),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_before": _load()},
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
    # collections while it runs: a full collection over them held the client threads for 25-34 ms
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
            code = _phases(server, canned, effective, options, report)
            report["server_log"] = _log_summary(server)
            return code, report
        finally:
            server.stop()


def warm_up(port: int, mix: Mix) -> list[dict[str, Any]]:
    """Each canned query (both ways) and ad-hoc template once, so the canned answers are in the
    result cache; a query that fails is dropped from ``mix`` and returned."""
    left_out = []
    for query in mix.canned:
        got = [attempt(port, mix.canned_get(query)), attempt(port, mix.canned_post(query))]
        bad = [o for o in got if not normal_ok(o)]
        if bad:
            left_out.append({"query": query.name, "status": bad[0].status, "error": bad[0].error})
    failed = {item["query"] for item in left_out}
    mix.canned = [q for q in mix.canned if q.name not in failed]
    for template in list(mix.templates):
        answer = attempt(port, mix.adhoc(template))
        if not normal_ok(answer):
            mix.templates.remove(template)
            name = "ad hoc: " + " ".join(template.split())[:60]
            left_out.append({"query": name, "status": answer.status, "error": answer.error})
    return left_out


def _slots(effective: settings_module.Settings) -> int:
    """Engine children the server may keep idle: one per query slot."""
    return effective.workers * QUERIES_PER_WORKER


def _phases(
    server: Server,
    canned: list[CannedQuery],
    effective: Settings,
    options: Options,
    report: dict[str, Any],
) -> int:
    process = server.process
    if process is None:
        raise RuntimeError("the server was not started")
    pid, port = process.pid, server.port
    target = Target(port, effective.max_body)
    mix = Mix(canned, target, options.hostile_share)

    phases = report["phases_s"]
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        phases[name] = round(now - clock, 1)
        clock = now

    # 1. warm-up: fill the result cache; leave out canned queries that fail on a quiet server
    report["left_out"] = warm_up(port, mix)
    report["canned_queries"] = [q.name for q in mix.canned]
    if not mix.canned or not mix.templates:
        report["error"] = "every canned or every ad-hoc query failed on the quiet server"
        return 1
    lap("warm_up")

    # 2. the unloaded baseline, its first half (the second comes after the load: the machine's
    # other work changes over minutes, and the baseline should not catch one moment of it); and
    # half of the back-to-back sample
    rng = random.Random(options.seed)  # noqa: S311 - a reproducible mix
    gap = baseline_gap(options)
    baseline = one_at_a_time(port, mix, rng, options.baseline // 2, gap)
    back_to_back = one_at_a_time(port, mix, rng, options.baseline // 4, 0.0)
    lap("baseline")

    # 3. each hostile kind once, on a quiet server
    probes = [attempt(port, hostile.build(target)) for hostile in HOSTILE]
    lap("probes")

    # 4. a short run of the same load, so that memory is compared like for like: the bounded
    # caches and the pool of query workers at their working size before and after the load
    warming = Tally()
    drive(port, mix, options, warming, options.warm_load)
    memory = Memory(pid)
    before = memory.quiet(within=effective.timeout + 5, idle_workers=_slots(effective))
    lap("warm_load")

    # 5. the load
    load_before = _load()
    tally, elapsed = _under_watch(memory, lambda t: drive(port, mix, options, t, options.duration))
    lap("load")

    # 6. settle
    time.sleep(options.settle)
    after = memory.quiet(within=effective.timeout + 5, idle_workers=_slots(effective))
    answer = attempt(port, get("alive", "/sparql", {"query": "ASK {}"}))
    alive = process.poll() is None and answer.status == 200
    lap("settle")

    # 7. the unloaded baseline, its second half
    halves = (baseline, one_at_a_time(port, mix, rng, options.baseline // 2, gap))
    baseline = [*halves[0], *halves[1]]
    back_to_back += one_at_a_time(port, mix, rng, options.baseline // 4, 0.0)
    lap("baseline_after")

    report["machine"]["load_average_during"] = load_before
    report["machine"]["load_average_after"] = _load()
    report.update(
        summarize(
            baseline, probes, tally.outcomes, elapsed, options.duration, back_to_back=back_to_back
        )
    )
    report["unloaded"]["halves_p99_ms"] = [latency(half)["p99_ms"] for half in halves]
    report["memory"] = {
        "before_kib": before.kib,
        "peak_kib": memory.peak_total,
        "peak_server_kib": memory.peak_server,
        "after_kib": after.kib,
        "change": (after.kib - before.kib) / before.kib if before.kib else math.nan,
        "most_query_workers_seen": memory.most_workers,
        "workers_before": before.workers,
        "workers_after": after.workers,
        "server_before_kib": before.server_kib,
        "server_after_kib": after.server_kib,
        "warm_load_requests": len(warming.outcomes),
        "samples": memory.samples,
    }
    report["alive"] = alive
    report["criteria"] = criteria(report)
    report["passed"] = all(c["passed"] for c in report["criteria"])
    return 0 if report["passed"] else 1


def _under_watch(memory: Memory, load: Callable[[Tally], float]) -> tuple[Tally, float]:
    """``load`` run while ``memory`` is sampled; its outcomes and the seconds it took."""
    tally = Tally()
    stop = threading.Event()
    watcher = threading.Thread(target=memory.watch, args=(stop,), daemon=True)
    watcher.start()
    try:
        elapsed = load(tally)
    finally:
        stop.set()
        watcher.join()
    return tally, elapsed


def _log_summary(server: Server) -> dict[str, Any]:
    lines = server.log.read_text(errors="replace").splitlines()
    errors = sum(" ERROR " in line or line.startswith("Traceback") for line in lines)
    return {"errors": errors, "tail": lines[-LOG_TAIL:] if errors else []}


def _load() -> float:
    return round(os.getloadavg()[0], 2)


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


# --- the command --------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = Options()
    parser.add_argument("--clients", type=int, default=defaults.clients, help="default 50")
    parser.add_argument(
        "--duration", type=float, default=defaults.duration, help="seconds of load (default 60)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=defaults.think,
        help="mean seconds each client pauses between an answer and its next request "
        "(exponential; default 1; 0: no pause, the server saturated)",
    )
    parser.add_argument(
        "--hostile-share",
        type=float,
        default=defaults.hostile_share,
        help="share of hostile requests in the load (default 0.05)",
    )
    parser.add_argument(
        "--baseline",
        type=int,
        default=defaults.baseline,
        help="normal requests in the unloaded baseline, paced like the load's arrivals (default "
        "3000; half as many again are sent back to back, for the report)",
    )
    parser.add_argument(
        "--warm-load",
        type=float,
        default=defaults.warm_load,
        help="seconds of the same load before memory is first read (default 10)",
    )
    parser.add_argument(
        "--query",
        dest="queries",
        action="append",
        default=[],
        metavar="NAME",
        help="a canned query to use (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--server-arg",
        dest="server_args",
        action="append",
        default=[],
        metavar="ARG",
        help="an argument for cdkg serve, e.g. --server-arg=--timeout=2 (repeatable; "
        "default: none, the default settings)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=defaults.settle,
        help="seconds of rest after the load before memory is read again (default 5)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=defaults.report_dir,
        help="where soak.json and soak.md go (default: reports)",
    )


def main(args: argparse.Namespace) -> int:
    options = Options(
        clients=args.clients,
        duration=args.duration,
        think=args.think,
        hostile_share=args.hostile_share,
        baseline=args.baseline,
        warm_load=args.warm_load,
        queries=tuple(args.queries),
        server_args=tuple(args.server_args),
        settle=args.settle,
        report_dir=args.report_dir,
    )
    code, report = run(options)
    write(report, options.report_dir)
    print(markdown(report), end="")
    print(f"cdkg soak: report in {options.report_dir}/soak.md and soak.json", file=sys.stderr)
    return code
