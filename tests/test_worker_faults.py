"""A query worker that dies before answering: killed from outside (503, retry), crashed (500)."""

from __future__ import annotations

import json
import os
import resource
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest

from cdkg.errors import InternalError, QueryTimeout, ServiceUnavailable
from cdkg.soak import memory
from cdkg.soak.memory import busy
from cdkg.worker import run_forked


def _die_by(signum: int) -> Callable[[], None]:
    def job() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file from SIGSEGV
        os.kill(os.getpid(), signum)
        time.sleep(5)

    return job


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_worker_killed_from_outside_is_a_503(signum: int) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        run_forked(_die_by(signum), timeout=5)
    assert not isinstance(caught.value, QueryTimeout)
    assert caught.value.status == 503
    assert "retry" in (caught.value.hint or "")


def test_a_worker_that_crashes_is_a_500() -> None:
    with pytest.raises(InternalError):
        run_forked(_die_by(signal.SIGSEGV), timeout=5)


def test_a_worker_that_exits_without_answering_is_a_500() -> None:
    with pytest.raises(InternalError):
        run_forked(lambda: os._exit(3), timeout=5)


def test_a_worker_that_aborts_is_a_503_about_memory() -> None:
    """Oxigraph (Rust) aborts the process when an allocation fails at the worker's memory limit;
    the soak's doubling CONCAT chain did exactly that."""
    with pytest.raises(ServiceUnavailable) as caught:
        run_forked(_die_by(signal.SIGABRT), timeout=5)
    assert "memory" in caught.value.message


def test_a_worker_over_its_memory_limit_in_oxigraph_is_a_503() -> None:
    import pyoxigraph as ox  # noqa: PLC0415

    doubling = 'BIND("ab" AS ?s0) ' + " ".join(
        f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(40)
    )
    with pytest.raises(ServiceUnavailable) as caught:
        run_forked(lambda: list(ox.Store().query(f"SELECT ?s40 WHERE {{ {doubling} }}")), 30)
    assert not isinstance(caught.value, QueryTimeout)


def test_a_worker_stopped_by_its_cpu_limit_is_a_timeout() -> None:
    with pytest.raises(QueryTimeout):
        run_forked(_die_by(signal.SIGXCPU), timeout=5)


# -- on a real server ---------------------------------------------------------------------------

#: A query that keeps a worker busy far longer than the test takes, on either engine.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"


def _query_workers(pid: int) -> set[int]:
    """The query workers of server ``pid``: its descendants but the zygote that forks them."""
    return set(memory.query_workers(memory.children(pid)))


def _ask(url: str, query: str, timeout: float = 60) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - a test server's http URL
        f"{url}?{urllib.parse.urlencode({'query': query})}",
        headers={"Accept": "application/sparql-results+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_a_worker_killed_mid_query_gives_503_and_the_next_query_works(start_server) -> None:
    server = start_server("--timeout", "30", "--workers", "1")
    assert server.process is not None
    answer: list[tuple[int, dict[str, object]]] = []
    client = threading.Thread(target=lambda: answer.append(_ask(server.sparql, SLOW)))
    client.start()
    deadline = time.monotonic() + 20
    workers: set[int] = set()
    while not workers and time.monotonic() < deadline:  # the worker running the slow query
        workers = {pid for pid in _query_workers(server.process.pid) if busy(pid)}
        time.sleep(0.05)
    assert workers, "no query worker appeared"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    client.join(timeout=30)
    assert answer, "the client got no answer"
    status, body = answer[0]
    assert status == 503
    error = body["error"]
    assert isinstance(error, dict)
    assert error["type"] == "ServiceUnavailable"
    assert "retry" in error["hint"]
    status, body = _ask(server.sparql, "ASK { ?s ?p ?o }")
    assert (status, body["boolean"]) == (200, True)
    assert server.alive()
