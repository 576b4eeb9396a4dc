"""The pool of query workers (cdkg.worker.WorkerPool): a worker is reused for the next job, and
replaced when it may no longer be trusted to run one (killed, timed out, demoted, a bug, too many
jobs); each job gets its own limits; a worker holds none of the server's files or sockets."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cdkg import worker as worker_module
from cdkg.engine import Engine, QueryRequest
from cdkg.errors import BadQuery, InternalError, QueryTimeout, ServiceUnavailable
from cdkg.graph import load_dataset
from cdkg.settings import Settings
from cdkg.worker import (
    HEAVY_AFTER,
    HEAVY_NICE,
    WorkerPool,
    demote,
    may_raise_priority,
    renice,
)


def _spin(seconds: float) -> None:
    spent = time.process_time() + seconds
    while time.process_time() < spent:
        pass


_REMEMBERED: list[tuple[str, int]] = []


def _act(action: tuple[str, Any]) -> Any:  # noqa: PLR0911, PLR0912 - one verb, one answer
    """What a test's worker does with a job: ``(verb, argument)``."""
    verb, argument = action
    if verb == "pid":
        return os.getpid()
    if verb == "nice":
        return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)
    if verb == "spin-nice":
        _spin(argument)
        return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)
    if verb == "spin":
        _spin(argument)
        return os.getpid()
    if verb == "sleep":
        time.sleep(argument)
        return os.getpid()
    if verb == "limits":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return resource.getrlimit(resource.RLIMIT_CPU)[0], usage.ru_utime + usage.ru_stime
    if verb == "fds":
        targets = {}
        for entry in Path("/proc/self/fd").iterdir():
            if int(entry.name) > 2:
                with contextlib.suppress(FileNotFoundError):  # the listing's own, now closed
                    targets[int(entry.name)] = str(entry.readlink())
        return targets
    if verb == "ppid":
        return os.getpid(), os.getppid()
    if verb == "remember":  # a warm job
        _REMEMBERED.append((argument, os.getpid()))
        return None
    if verb == "exit":
        os._exit(3)
    if verb == "recall":
        return list(_REMEMBERED)
    if verb == "refuse":
        raise BadQuery("no", hint="a CdkgError: the worker is fine")
    if verb == "bug":
        raise KeyError(argument)
    raise AssertionError(verb)


@pytest.fixture
def pool():
    made = WorkerPool(_act, keep=2)
    yield made
    made.close()


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _dead(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` has ended within ``within`` seconds: gone, or a zombie (an orphan
    waits for PID 1 to reap it, which a container's PID 1 may never do)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


def _gone(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` has ended and been reaped within ``within`` seconds (the zygote
    reaps a stopped worker when it hears of its end, not at once)."""
    deadline = time.monotonic() + within
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _alive(pid)


def test_a_worker_is_reused(pool: WorkerPool) -> None:
    pids = {pool.run(("pid", None), 5) for _ in range(20)}
    assert len(pids) == 1
    assert pool.forks == 1
    assert pids.pop() != os.getpid()


def test_no_more_idle_workers_than_kept(pool: WorkerPool) -> None:
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(pool.run(("sleep", 0.3), 5)))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 5  # five jobs at once: five workers
    assert pool.idle == 2
    gone = [pid for pid in set(results) if _gone(pid)]
    assert len(gone) == 3, "the workers not kept were stopped and reaped"


def test_a_worker_killed_while_idle_is_replaced(pool: WorkerPool) -> None:
    first = pool.run(("pid", None), 5)
    os.kill(first, signal.SIGKILL)
    time.sleep(0.1)
    second = pool.run(("pid", None), 5)
    assert second != first
    assert pool.run(("pid", None), 5) == second


def test_a_worker_past_the_deadline_is_killed_and_replaced(pool: WorkerPool) -> None:
    first = pool.run(("pid", None), 5)
    with pytest.raises(QueryTimeout):
        pool.run(("sleep", 30), 0.5)
    assert _gone(first)
    assert pool.run(("pid", None), 5) != first


def test_a_demoted_worker_is_not_reused(pool: WorkerPool) -> None:
    """A long job's worker is demoted, which an unprivileged process cannot undo: it is replaced,
    and the next job runs at full priority."""
    seen: list[int] = []

    def on_long(pid: int) -> None:
        seen.append(pid)
        demote(pid)

    long_one = pool.run(("spin-nice", 0.4), 5, grace=0.1, on_long=on_long)
    assert seen == [long_one[0]]
    assert long_one[1] == 19, "the long job ran on at the lowest priority"
    pid, niceness = pool.run(("nice", None), 5)
    assert pid != long_one[0]
    assert niceness == 0, "the next query must not inherit the lowest priority"


def test_a_heavy_job_runs_lowered_then_its_worker_is_raised_back(pool: WorkerPool) -> None:
    """Past HEAVY_AFTER of CPU time (and before it is long) a job runs at nice HEAVY_NICE where the
    server may raise it back (as root), and its worker is raised back and kept when it ends; an
    unprivileged server leaves it alone (its worker would have to be replaced). Either way the
    next job runs at full priority on the same worker."""
    seen: list[int] = []
    assert HEAVY_AFTER < 0.3
    pid, niceness = pool.run(("spin-nice", 0.3), 10, grace=5, on_long=seen.append)
    assert seen == [], "not long: it stayed under its grace period"
    # lowered only where it can be raised back (as root); else left alone, not lowered for good
    assert niceness == (HEAVY_NICE if may_raise_priority() else 0)
    after, now = pool.run(("nice", None), 10, grace=5, on_long=seen.append)
    assert now == 0, "the next job must not inherit the lowered priority"
    assert after == pid, "raised back (or never lowered), the worker is kept"
    assert pool.run(("nice", None), 10, grace=5, on_long=seen.append) == (after, 0)


def test_renice_tells_whether_a_raise_was_allowed() -> None:
    """An unprivileged process may lower a priority, not raise it back: renice says so (the pool
    then replaces the worker), and may_raise_priority knows it beforehand (the pool then lowers
    none). Tried from a forked child that is unprivileged (nobody, when the tests run as root), on
    a child of its own."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            child = subprocess.Popen(["sleep", "30"])
            try:
                seen = [
                    may_raise_priority.__wrapped__(),  # not the parent's answer, kept
                    renice(child.pid, 10),
                    os.getpriority(os.PRIO_PROCESS, child.pid),
                    renice(child.pid, 0),
                    os.getpriority(os.PRIO_PROCESS, child.pid),
                ]
            finally:
                child.kill()
                child.wait()
            os.write(write, repr(seen).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    with os.fdopen(read) as answer:
        seen = answer.read()
    assert os.waitpid(pid, 0)[1] == 0
    assert seen == repr([False, True, 10, False, 10])


def test_a_refusal_keeps_the_worker_and_a_bug_replaces_it(pool: WorkerPool) -> None:
    first = pool.run(("pid", None), 5)
    with pytest.raises(BadQuery):
        pool.run(("refuse", None), 5)
    assert pool.run(("pid", None), 5) == first
    with pytest.raises(InternalError):
        pool.run(("bug", "x"), 5)
    assert pool.run(("pid", None), 5) != first


def test_a_worker_is_replaced_after_its_share_of_jobs(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "JOBS_PER_WORKER", 3)
    pids = [pool.run(("pid", None), 5) for _ in range(7)]
    assert pids[0] == pids[1] == pids[2]
    assert pids[3] == pids[4] == pids[5] != pids[0]
    assert pids[6] not in (pids[0], pids[3])


def test_each_job_gets_the_whole_cpu_limit(pool: WorkerPool) -> None:
    """The CPU-time rlimit counts from each job's start, not from the worker's."""
    pool.run(("spin", 0.5), 5)
    pool.run(("spin", 0.5), 5)
    soft, used = pool.run(("limits", None), 1)
    assert used >= 1.0
    assert soft - used >= 1 + 1


def test_a_worker_holds_none_of_the_servers_files(pool: WorkerPool) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        fds = pool.run(("fds", None), 5)
    assert not [target for target in fds.values() if target.startswith("socket:")]
    assert sum(target.startswith("pipe:") for target in fds.values()) == 2  # its job and answer
    assert len(fds) <= 3  # and perhaps the directory it lists


def test_closing_stops_the_idle_workers() -> None:
    pool = WorkerPool(_act, keep=2)
    pid = pool.run(("pid", None), 5)
    pool.close()
    assert pool.idle == 0
    assert _gone(pid)


def test_the_engine_runs_its_queries_in_kept_workers() -> None:
    engine = Engine(load_dataset(), Settings(cache_entries=0, workers=2), warm=False)
    try:
        for number in range(10):
            text = f"ASK {{ ?s ?p ?o }} # {number}"
            assert engine.run(QueryRequest(text, format="application/sparql-results+json")).body
        assert engine._pool.forks == 1
    finally:
        engine.close()
    assert engine._pool.idle == 0


def test_a_long_idle_worker_is_stopped_and_reaped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trimming thread stops workers idle for IDLE_SECONDS (it runs every TRIM_EVERY s), and
    reaps them: no zombie is left, and the next job gets a new worker."""
    monkeypatch.setattr(worker_module, "IDLE_SECONDS", 0.3)
    pool = WorkerPool(_act, keep=2)
    try:
        first = pool.run(("pid", None), 5)
        deadline = time.monotonic() + 10
        while _alive(first) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(first), "the idle worker was neither stopped nor reaped"
        assert pool.idle == 0
        assert pool.run(("pid", None), 5) != first
    finally:
        pool.close()


def test_a_worker_outlives_the_thread_that_asked_for_it(pool: WorkerPool) -> None:
    """PR_SET_PDEATHSIG fires when the forking *thread* ends: workers are forked by one
    long-lived thread, so a worker started for a short-lived thread stays."""
    started: list[int] = []
    thread = threading.Thread(target=lambda: started.append(pool.run(("pid", None), 5)))
    thread.start()
    thread.join()
    time.sleep(0.3)
    assert _alive(started[0])
    assert "zombie" not in Path(f"/proc/{started[0]}/status").read_text()
    assert pool.run(("pid", None), 5) == started[0]


def test_a_worker_that_cannot_be_started_is_a_503_and_the_pool_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = WorkerPool(_act, keep=1)
    try:

        def no_more_processes() -> int:
            raise BlockingIOError(11, "Resource temporarily unavailable")

        with monkeypatch.context() as patch:
            patch.setattr(os, "fork", no_more_processes)
            with pytest.raises(ServiceUnavailable) as caught:
                pool.run(("pid", None), 5)
        assert "could not start a query worker" in caught.value.message
        assert pool.run(("pid", None), 5) != os.getpid()
    finally:
        pool.close()


def test_workers_are_forked_by_the_zygote_not_the_server(pool: WorkerPool) -> None:
    """Once the zygote runs, a new worker costs the server no fork of its own (a fork stops
    every thread of the forking process)."""
    pid, parent = pool.run(("ppid", None), 5)
    assert pool.zygote is not None
    assert parent == pool.zygote.pid != os.getpid()
    assert Path(f"/proc/{parent}/comm").read_text().strip() == "cdkg-zygote"
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "cdkg-worker"

    def no_fork_here() -> int:
        raise AssertionError("the server forked")

    original = os.fork
    os.fork = no_fork_here  # type: ignore[assignment]
    try:
        os.kill(pid, signal.SIGKILL)
        assert _gone(pid)
        for _ in range(3):  # a new worker, and jobs that kill theirs: each a new fork
            with pytest.raises(QueryTimeout):
                pool.run(("sleep", 30), 0.3)
        after, parent_after = pool.run(("ppid", None), 5)
    finally:
        os.fork = original  # type: ignore[assignment]
    assert after != pid
    assert parent_after == parent


def test_the_zygote_warms_once_and_its_workers_start_warm() -> None:
    pool = WorkerPool(_act, keep=1, warm=("remember", "warm"))
    try:
        pool.start()
        assert pool.zygote is not None
        remembered = pool.run(("recall", None), 5)
        assert remembered[0] == ("warm", pool.zygote.pid)  # run once, in the zygote
    finally:
        pool.close()


def test_a_killed_zygote_is_replaced_and_the_next_job_runs() -> None:
    pool = WorkerPool(_act, keep=2)
    try:
        worker, zygote = pool.run(("ppid", None), 5)
        os.kill(zygote, signal.SIGKILL)
        assert _gone(zygote)
        assert _dead(worker), "a worker dies with its zygote"
        again, new_zygote = pool.run(("ppid", None), 5)
        assert new_zygote != zygote
        assert again != worker
    finally:
        pool.close()


def test_a_closed_pool_lets_its_zygote_go() -> None:
    pool = WorkerPool(_act, keep=2)
    worker, zygote = pool.run(("ppid", None), 5)
    pool.close()
    assert _gone(worker)
    assert _gone(zygote), "the zygote exits once its workers have, and is reaped"


def test_a_worker_that_dies_is_classified_through_the_zygote(pool: WorkerPool) -> None:
    """The zygote reaps its workers and tells the server how one ended."""
    started: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            pool.run(("sleep", 30), 10)
        except BaseException as err:  # recorded for the test
            errors.append(err)

    started.append(pool.run(("pid", None), 5))
    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    os.kill(started[0], signal.SIGSEGV)
    thread.join(10)
    assert errors
    assert isinstance(errors[0], InternalError), "a crash is a bug (500)"
    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    busy = pool.run(("pid", None), 5)  # another worker: the busy one is not idle
    assert busy != started[0]
    errors.clear()
    for pid in _workers_of(pool) - {busy}:
        os.kill(pid, signal.SIGKILL)
    thread.join(10)
    assert errors
    assert isinstance(errors[0], ServiceUnavailable), "killed from outside: 503"


def _workers_of(pool: WorkerPool) -> set[int]:
    assert pool.zygote is not None
    found = set()
    for task in Path(f"/proc/{pool.zygote.pid}/task").iterdir():
        found |= {int(pid) for pid in (task / "children").read_text().split()}
    return found


def test_a_warm_job_that_kills_the_zygote_costs_only_the_warming() -> None:
    pool = WorkerPool(_act, keep=1, warm=("exit", None))
    try:
        pid, parent = pool.run(("ppid", None), 5)
        assert pool.zygote is not None
        assert parent == pool.zygote.pid
        assert pool.run(("pid", None), 5) == pid
    finally:
        pool.close()


def test_workers_started_before_a_renewal_are_not_kept() -> None:
    """renew() while warm workers are still starting: they come from the old zygote, so they
    are stopped when they are ready instead of kept (tests patch the server, then renew)."""
    pool = WorkerPool(_act, keep=2, warm=("sleep", 0.3))
    try:
        pool.start()  # the zygote warms, then two workers are forked and warmed
        assert pool.zygote is not None
        old = pool.zygote.pid
        # renew once both are forked (by the old zygote) and still warming: a fork asked for
        # only after the renewal comes from the new zygote, and is rightly kept
        for _ in range(500):
            if pool.forks == 2:
                break
            time.sleep(0.01)
        assert pool.forks == 2
        pool.renew()
        time.sleep(1.5)
        assert pool.idle == 0
        _, parent = pool.run(("ppid", None), 5)
        assert parent != old
    finally:
        pool.close()
