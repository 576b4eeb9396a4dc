"""The phases of a soak run against a started ``cdkg serve`` (see :mod:`cdkg_bench.soak`):
warm-up, unloaded baseline, probes, warm-up load, load, settle, baseline again; the figures they
add to the report, judged by :mod:`.verdict`."""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdkg import settings as settings_module
from cdkg.canned.registry import CannedQuery
from cdkg.engine.runner import QUERIES_PER_WORKER
from cdkg.flags import option
from cdkg.settings import Settings
from cdkg_bench.server import Server
from cdkg_bench.soak.memory import Memory
from cdkg_bench.soak.traffic import HOSTILE, Mix, Outcome, Target, attempt, get
from cdkg_bench.soak.verdict import criteria, latency, normal_ok, summarize


@dataclass(frozen=True)
class Options:
    """A soak run; each field with a flag is an option of ``cdkg soak`` (:mod:`.command`)."""

    clients: int = option(50, "concurrent clients")
    duration: float = option(60.0, "seconds of load")
    think: float = option(
        1.0,
        "mean seconds each client pauses between an answer and its next request "
        "(exponential; 0: no pause, the server saturated)",
    )
    hostile_share: float = option(0.05, "share of hostile requests in the load")
    # normal requests timed one at a time: about as many as the load's normal requests, so that
    # the two p99s are read from samples of a size (the p99 of a small sample, a handful of worst
    # requests, moves from run to run). They are paced like the load's arrivals (see
    # ``baseline_gap``); half as many again are sent back to back, for the report.
    baseline: int = option(
        3000,
        "normal requests in the unloaded baseline, paced like the load's arrivals (half as many "
        "again are sent back to back, for the report)",
    )
    warm_load: float = option(10.0, "seconds of the same load before memory is first read")
    queries: tuple[str, ...] = option(
        (),
        "a canned query to use (none given: all of them)",
        repeatable=True,
        name="--query",
        metavar="NAME",
    )
    server_args: tuple[str, ...] = option(
        (),
        "an argument for cdkg serve, e.g. --server-arg=--timeout=2 (none given: the default "
        "settings)",
        repeatable=True,
        name="--server-arg",
        metavar="ARG",
    )
    settle: float = option(5.0, "seconds of rest after the load before memory is read again")
    seed: int = 7  # of the mix and the pauses; not a flag
    report_dir: Path = option(  # noqa: RUF009 - a Path, immutable
        Path("reports"), "where soak.json and soak.md go"
    )


@dataclass
class Tally:
    """Outcomes of one phase, added to by the client threads under ``lock``."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def baseline_gap(options: Options) -> float:
    """The mean pause (seconds) before each unloaded request: the load's mean time between two
    arrivals, the think time over the clients (0, back to back, when the clients do not
    think). The load's requests come to a machine that idles between them, and a request after an
    idle spell is slower (caches cold, CPUs woken; docs/performance.md, "The soak's own costs").
    Back to back, the baseline would measure a machine no client of the load ever meets, and the
    p99 criterion would judge that difference as well as the load's."""
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


class _Laps:
    """A stopwatch over the phases: ``lap(name)`` records the seconds since the last lap (or since
    it was made) under ``name``."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.phases, self.clock = phases, time.monotonic()

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = round(now - self.clock, 1)
        self.clock = now


def run_phases(
    server: Server,
    canned: list[CannedQuery],
    effective: Settings,
    options: Options,
    report: dict[str, Any],
) -> int:
    """Run the phases against the started ``server`` and judge them; the figures and verdicts go
    into ``report``. Returns 0 if every criterion passed, else 1."""
    process = server.process
    if process is None:
        raise RuntimeError("the server was not started")
    pid, port = process.pid, server.port
    target = Target(port, effective.max_body)
    mix = Mix(canned, target, options.hostile_share)

    lap = _Laps(report["phases_s"])

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
    load_before = load_average()
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
    report["machine"]["load_average_after"] = load_average()
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


def load_average() -> float:
    """The load average of the last minute, rounded."""
    return round(os.getloadavg()[0], 2)
