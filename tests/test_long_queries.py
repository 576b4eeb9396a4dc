"""A long query cannot hold up short ones: past a grace period it is demoted to the lowest CPU
priority and gives its worker slot back (cdkg.engine.LONG_QUERY_GRACE, cdkg.worker.demote), and
answers in the result cache need no worker at all."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cdkg import engine as engine_module
from cdkg.engine import LONG_QUERY_GRACE, Engine, LongJobs, QueryRequest
from cdkg.errors import ServiceUnavailable
from cdkg.graph import load_dataset
from cdkg.settings import Settings
from cdkg.worker import WorkerPool, demote, run_forked

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


def _sleep_then_tell_priority(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpriority(os.PRIO_PROCESS, 0)


def test_a_job_that_waits_without_using_cpu_is_not_long() -> None:
    """Long means CPU time: a query waiting for a CPU (or for a SERVICE) under load keeps its
    priority. On a kept worker, as the server's are: a worker forked for the job from this large
    test process may spend more than HEAVY_AFTER of CPU time on its own start (pages copied on
    first write), which would lower it for a reason that is not the job's."""
    seen: list[int] = []
    pool = WorkerPool(_sleep_then_tell_priority, keep=1)
    try:
        assert pool.run(0.0, 5) == 0  # the worker's start-up is paid here
        assert pool.run(0.5, 5, grace=0.2, on_long=seen.append) == 0
        assert seen == []
    finally:
        pool.close()


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


def _in_thread(call: Callable[[], None]) -> None:
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()


def test_a_long_query_is_paused_while_requests_are_served() -> None:
    """LongJobs stops (SIGSTOP) the workers of long queries while any request is being served and
    lets them go on (SIGCONT) once none has been for its quiet period; the request waiting for a
    long query does not count; a long query that ends is let go for good."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    jobs = LongJobs(quiet=0.5)
    other = threading.Event()
    try:
        jobs.request_started()  # this thread: the request whose query will turn long
        _in_thread(lambda: (jobs.request_started(), other.set()))  # another request, still served
        jobs.became_long(spinner.pid)  # this request stops counting; the other one still does
        assert jobs.paused
        assert _wait_for_state(spinner.pid, {"T"}) == "T"
        jobs.request_ended()  # counted out already: changes nothing
        assert jobs.paused
        stopped = threading.Event()

        def end_the_other() -> None:
            jobs._counted.yes = True  # as if in the other request's thread
            jobs.request_ended()
            stopped.set()

        _in_thread(end_the_other)
        ended = time.monotonic()
        assert stopped.is_set()
        assert jobs.paused, "not let go before the quiet period"
        assert _wait_for_state(spinner.pid, {"R"}) == "R"
        assert time.monotonic() - ended >= 0.5 - 0.05
        assert not jobs.paused
        _in_thread(jobs.request_started)  # a new request: paused again
        assert _wait_for_state(spinner.pid, {"T"}) == "T"
        jobs.ended(spinner.pid)  # the long query is over: its worker goes on, and is forgotten
        assert _wait_for_state(spinner.pid, {"R"}) == "R"
        assert not jobs.paused
    finally:
        jobs.close()
        spinner.kill()
        spinner.wait()


def test_a_long_query_on_a_quiet_server_goes_on_at_once() -> None:
    """Neither its own request nor one that ended before it started starts the quiet period:
    no other request wants the CPU while it runs."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    jobs = LongJobs(quiet=30)
    try:
        _in_thread(lambda: (jobs.request_started(), jobs.request_ended()))  # just before it
        since = time.monotonic()
        jobs.request_started()
        jobs.became_long(spinner.pid, since=since)
        assert _wait_for_state(spinner.pid, {"R"}) == "R"
        assert not jobs.paused
        time.sleep(0.3)
        assert _state(spinner.pid) == "R"
    finally:
        jobs.close()
        spinner.kill()
        spinner.wait()


def test_the_app_counts_its_requests() -> None:
    from cdkg.web import create_app  # noqa: PLC0415

    app = create_app(Settings())
    engine = app.extensions["cdkg"].engine
    try:
        seen: list[int] = []
        original = engine.long_jobs.request_started

        def spy() -> None:
            original()
            seen.append(engine.long_jobs._requests)

        engine.long_jobs.request_started = spy  # type: ignore[method-assign]
        assert app.test_client().get("/sparql?query=ASK%20%7B%7D").status_code == 200
        assert seen == [1]
        assert engine.long_jobs._requests == 0, "the request was counted out when it ended"
    finally:
        engine.close()


def test_long_queries_beyond_the_long_slots_wait_and_beyond_that_are_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One long-query slot: the first runaway takes it, the second waits for it (paused, without
    a worker slot), the third is stopped at once with 503; a short query is answered meanwhile."""
    monkeypatch.setattr(engine_module, "LONG_SLOTS_PER_WORKER", 1)
    engine = Engine(load_dataset(), Settings(workers=1, timeout=5, cache_entries=0), warm=False)
    outcomes: list[BaseException | None] = []
    lock = threading.Lock()

    def runaway(number: int) -> None:
        try:
            engine.run(QueryRequest(f"{RUNAWAY} # {number}", format=JSON))
            result: BaseException | None = None
        except Exception as err:
            result = err
        with lock:
            outcomes.append(result)

    try:
        threads = [threading.Thread(target=runaway, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
            time.sleep(0.6)  # each turns long before the next starts
        started = time.monotonic()
        assert engine.run(QueryRequest(SHORT, format=JSON)).rows == 3
        assert time.monotonic() - started < 2, "the short query did not wait for the long ones"
        for thread in threads:
            thread.join(timeout=15)
    finally:
        engine.close()
    kinds = sorted(type(err).__name__ for err in outcomes if err is not None)
    assert len(outcomes) == 3
    assert kinds == ["QueryTimeout", "QueryTimeout", "ServiceUnavailable"], outcomes
    stopped = next(err for err in outcomes if isinstance(err, ServiceUnavailable))
    assert "waited" in stopped.message
