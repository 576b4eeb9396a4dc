"""A long query cannot hold up short ones: past a grace period it is demoted to the lowest CPU
priority and gives its worker slot back (cdkg.engine.LONG_QUERY_GRACE, cdkg.worker.demote), and
answers in the result cache need no worker at all."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from cdkg.engine import LONG_QUERY_GRACE, Engine, LongJobs, QueryRequest
from cdkg.graph import load_dataset
from cdkg.settings import Settings
from cdkg.worker import demote, run_forked

JSON = "application/sparql-results+json"
#: A cross product of every triple with every triple, twice: minutes on the shipped graph.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SHORT = "SELECT ?s WHERE { ?s a <https://w3id.org/cdkg/ontology#IranianCity> } LIMIT 3"


def test_demote_sets_the_lowest_priority() -> None:
    seen: list[int] = []

    def job() -> int:
        spent = time.process_time() + 0.3
        while time.process_time() < spent:  # CPU time, which is what makes a job long
            pass
        return os.getpriority(os.PRIO_PROCESS, 0)

    niceness = run_forked(job, 5, grace=0.05, on_long=lambda pid: (seen.append(pid), demote(pid)))
    assert len(seen) == 1
    assert niceness == 19


def test_a_quick_job_is_never_called_long() -> None:
    seen: list[int] = []
    assert run_forked(lambda: 42, 5, grace=2, on_long=seen.append) == 42
    assert seen == []


def test_a_job_that_waits_without_using_cpu_is_not_long() -> None:
    """Long means CPU time: a query waiting for a CPU (or for a SERVICE) under load keeps its
    priority."""
    seen: list[int] = []

    def job() -> int:
        time.sleep(0.5)
        return os.getpriority(os.PRIO_PROCESS, 0)

    assert run_forked(job, 5, grace=0.2, on_long=seen.append) == 0
    assert seen == []


def test_short_queries_run_while_every_worker_holds_a_runaway_query() -> None:
    settings = Settings(workers=1, timeout=6)
    engine = Engine(load_dataset(), settings, warm=False)
    outcome: list[BaseException | None] = []

    def runaway() -> None:
        try:
            engine.run(QueryRequest(RUNAWAY, format=JSON))
            outcome.append(None)
        except Exception as err:  # the time limit stops it
            outcome.append(err)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(LONG_QUERY_GRACE + 0.5)  # the runaway query is now long: its slot is free again
    assert engine._slots.acquire(blocking=False), "the long query still holds the only slot"
    engine._slots.release()
    answer = engine.run(QueryRequest(SHORT, format=JSON))
    assert answer.rows == 3
    assert thread.is_alive(), "the short query ran while the runaway one was still running"
    thread.join(timeout=settings.timeout + 5)
    assert outcome
    assert outcome[0] is not None
    assert outcome[0].status == 503


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def _wait_for_state(pid: int, wanted: set[str]) -> str:
    deadline = time.monotonic() + 5
    state = _state(pid)
    while state not in wanted and time.monotonic() < deadline:
        time.sleep(0.02)
        state = _state(pid)
    return state


def test_a_long_query_is_paused_while_short_ones_run() -> None:
    """LongJobs stops (SIGSTOP) the workers of long queries while any short query runs and lets
    them go on (SIGCONT) when none does; a long query that ends is let go for good."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    jobs = LongJobs()
    try:
        jobs.short_started()  # the query that will turn long, counted short at first
        jobs.short_started()  # another, short one
        jobs.became_long(spinner.pid)
        assert jobs.paused
        assert _wait_for_state(spinner.pid, {"T"}) == "T"
        jobs.short_ended()  # no short query left
        assert not jobs.paused
        assert _wait_for_state(spinner.pid, {"R"}) == "R"
        jobs.short_started()
        assert _wait_for_state(spinner.pid, {"T"}) == "T"
        jobs.ended(spinner.pid)  # the long query is over: its worker may serve again
        assert _wait_for_state(spinner.pid, {"R"}) == "R"
        jobs.short_ended()
    finally:
        spinner.kill()
        spinner.wait()
