"""The engine (:mod:`cdkg.engine.runner`, :mod:`cdkg.engine.processes`): queries answered in
forked engine children, a runaway one killed at the time limit while others are served, a dead
child turned into a 503, the children holding none of the server's files, nothing left running
after ``close()``, and the cache.

These run real processes: the engine master and its children, forked from the test process.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from cdkg.engine.cache import ResultCache
from cdkg.engine.evaluate import Answer, QueryRequest
from cdkg.engine.runner import Engine, running
from cdkg.errors import QuerySyntaxError, QueryTimeout, ServiceUnavailable
from cdkg.kg.store import new_dataset
from cdkg.settings import Settings

G = "http://example.org/g"
#: Runs until it is killed: a cross product Oxigraph evaluates row by row, counted at the end.
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { "
    + " ".join(f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(40))} }}" for i in range(9))
    + " }"
)
QUICK = f"SELECT ?s WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }} ORDER BY ?s LIMIT 3"


def make_engine(**settings: object) -> Engine:
    dataset = new_dataset()
    graph = dataset.graph(URIRef(G))
    for n in range(50):
        graph.add(
            (URIRef(f"http://example.org/s{n:02}"), URIRef("http://example.org/p"), Literal(n))
        )
    return Engine(dataset, Settings(**settings))  # type: ignore[arg-type]


@pytest.fixture
def engine() -> Iterator[Engine]:
    with running(make_engine(timeout=2.0, cache_entries=0)) as started:
        yield started


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def start_runaway(engine: Engine) -> threading.Thread:
    """A thread running :data:`RUNAWAY` on ``engine``, which must end in a QueryTimeout."""

    def runaway() -> None:
        with pytest.raises(QueryTimeout):
            engine.run(QueryRequest(RUNAWAY))

    thread = threading.Thread(target=runaway)
    thread.start()
    return thread


def nice_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_long_after_sets_when_a_query_steps_aside() -> None:
    """--long-after raised (data larger than the paper's): a query running 1 s is still a
    normal one, at normal priority in its query slot; past 1.5 s it steps aside."""
    with running(make_engine(timeout=4.0, cache_entries=0, long_after=1.5)) as engine:
        master = master_pid(engine)
        thread = start_runaway(engine)
        time.sleep(1.0)
        (child,) = children_of(master)
        assert nice_of(child) == 0
        time.sleep(1.2)  # past 1.5 s, and well before the time limit
        assert nice_of(child) == 19
        thread.join(10)


def master_pid(engine: Engine) -> int:
    master = engine._master
    assert master is not None
    return master.pid


def rows(body: bytes) -> list[str]:
    return [r["s"]["value"] for r in json.loads(body)["results"]["bindings"]]


def test_run_answers_as_execute_does(engine: Engine) -> None:
    request = QueryRequest(QUICK, format="json")
    forked = engine.run(request)
    here = engine.execute(request, math.inf)
    assert forked == here
    assert rows(forked.body) == [f"http://example.org/s{n:02}" for n in range(3)]


def test_a_child_answers_one_query_after_another(engine: Engine) -> None:
    for n in range(5):
        engine.run(QueryRequest(f"{QUICK} # {n}", format="json"))
    assert len(children_of(master_pid(engine))) == 1  # one child, kept and reused


def test_errors_come_back_with_their_fields(engine: Engine) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        engine.run(QueryRequest("SELECT * WHERE {\n  ?s ?p", format="json"))
    body = caught.value.to_json()["error"]
    assert (body["type"], body["status"], body["line"]) == ("QuerySyntaxError", 400, 2)


def test_a_runaway_query_is_stopped_at_the_limit_while_others_are_served(engine: Engine) -> None:
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        try:
            engine.run(QueryRequest(RUNAWAY, format="json"))
        except QueryTimeout as err:
            outcome["error"] = err
        outcome["took"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    quick_started = time.monotonic()
    assert rows(engine.run(QueryRequest(QUICK, format="json")).body)
    quick_took = time.monotonic() - quick_started
    thread.join(10)
    assert isinstance(outcome.get("error"), QueryTimeout)
    assert 2.0 <= float(outcome["took"]) < 3.0  # type: ignore[arg-type]
    assert quick_took < 1.5  # served beside it, not after it
    assert rows(engine.run(QueryRequest(QUICK + " # after", format="json")).body)


def test_a_long_query_drops_to_the_lowest_priority_and_its_child_is_not_kept(
    engine: Engine,
) -> None:
    master = master_pid(engine)
    thread = start_runaway(engine)
    time.sleep(engine.settings.long_after + 0.5)
    (child,) = children_of(master)
    assert nice_of(child) == 19
    thread.join(10)
    gone_by = time.monotonic() + 5  # a killed process at nice 19 may wait for a CPU to die
    while child in children_of(master) and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert child not in children_of(master)


def test_a_child_killed_from_outside_is_a_503_and_the_next_query_works(engine: Engine) -> None:
    master = master_pid(engine)
    engine.run(QueryRequest(QUICK, format="json"))  # a child now idles, kept
    outcome: dict[str, BaseException] = {}

    def victim() -> None:
        try:
            engine.run(QueryRequest(RUNAWAY))
        except ServiceUnavailable as err:
            outcome["error"] = err

    thread = threading.Thread(target=victim)
    thread.start()
    time.sleep(0.3)
    for child in children_of(master):
        os.kill(child, 9)
    thread.join(10)
    assert "ended before it answered" in outcome["error"].message  # type: ignore[attr-defined]
    assert rows(engine.run(QueryRequest(QUICK + " # again", format="json")).body)


def test_a_query_that_needs_too_much_memory_is_a_503() -> None:
    """A million rows of a kilobyte each, sorted: Oxigraph must hold them all, past the child's
    address-space limit (MEMORY_HEADROOM above its size), and aborts; the server answers."""
    text = (
        "SELECT ?x WHERE { "
        + " ".join(f"VALUES ?d{i} {{ {' '.join(str(n) for n in range(10))} }}" for i in range(6))
        + f' BIND(CONCAT(STR(?d0), STR(?d1), STR(?d2), STR(?d3), STR(?d4), "{"x" * 1500}") AS ?x)'
        + " } ORDER BY DESC(?x)"
    )
    with running(make_engine(timeout=60.0, cache_entries=0, max_rows=1)) as engine:
        with pytest.raises(ServiceUnavailable, match="memory"):
            engine.run(QueryRequest(text))
        assert rows(engine.run(QueryRequest(QUICK, format="json")).body)


def test_a_child_holds_none_of_the_servers_files(engine: Engine, tmp_path: Path) -> None:
    with (tmp_path / "held.txt").open("w") as held:
        engine.run(QueryRequest(QUICK, format="json"))
        (child,) = children_of(master_pid(engine))
        targets = [str(fd.readlink()) for fd in Path(f"/proc/{child}/fd").iterdir()]
    assert held.name not in targets
    # its standard streams, the connection it answers on, nothing else
    assert len([t for t in targets if t.startswith("socket:")]) == 1, targets


def test_close_stops_the_master_and_its_children() -> None:
    engine = make_engine()
    engine.start()
    engine.run(QueryRequest(QUICK, format="json"))
    master = master_pid(engine)
    assert children_of(master)
    engine.close()
    assert not Path(f"/proc/{master}").exists() or not children_of(master)
    with pytest.raises(ProcessLookupError):
        os.kill(master, 0)


def test_a_killed_master_is_forked_again() -> None:
    with running(make_engine(cache_entries=0)) as engine:
        os.kill(master_pid(engine), 9)
        time.sleep(0.2)
        assert rows(engine.run(QueryRequest(QUICK, format="json")).body)


def test_answers_are_cached_and_the_cache_can_be_turned_off() -> None:
    with running(make_engine(cache_entries=8)) as engine:
        first = engine.run(QueryRequest(QUICK, format="json"))
        engine.close()  # no engine process left: only the cache can answer
        engine._master_lock.acquire()  # and none may be forked
        try:
            assert engine.run(QueryRequest(QUICK, format="json")) is first
        finally:
            engine._master_lock.release()
    with running(make_engine(cache_entries=0)) as engine:
        first = engine.run(QueryRequest(QUICK, format="json"))
        assert engine.run(QueryRequest(QUICK, format="json")) is not first


def test_the_engine_ends_with_the_server_however_it_ends(tmp_path: Path) -> None:
    """A server killed outright (SIGKILL: no handler, no atexit) leaves no engine process."""
    script = tmp_path / "server.py"
    script.write_text(
        "import sys, time\n"
        "sys.path[:0] = " + repr([str(Path(__file__).parent)]) + "\n"
        "from test_engine import make_engine, QUICK\n"
        "from cdkg.engine.evaluate import QueryRequest\n"
        "engine = make_engine()\n"
        "engine.run(QueryRequest(QUICK, format='json'))\n"
        "print(engine._master.pid, flush=True)\n"
        "time.sleep(60)\n",
        encoding="utf-8",
    )
    with subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        master = int(server.stdout.readline())
        assert children_of(master)  # a child answered, and idles
        server.kill()
    gone_by = time.monotonic() + 5
    while Path(f"/proc/{master}").exists() and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert not Path(f"/proc/{master}").exists()


def test_runaway_queries_leave_the_query_slots_to_short_ones() -> None:
    """One worker: 2 query slots, 2 long-query slots. Two runaways turn long and move to the
    long-query slots; a third, with none free, is stopped; short queries run all the while."""
    with running(make_engine(workers=1, timeout=4.0, cache_entries=0)) as engine:
        assert (engine.slots, engine.long_slots) == (2, 2)
        outcomes: list[str] = []

        def runaway(n: int) -> None:
            try:
                engine.run(QueryRequest(f"{RUNAWAY} # {n}"))
            except ServiceUnavailable as err:
                outcomes.append(type(err).__name__)

        threads = [threading.Thread(target=runaway, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
            time.sleep(0.4)  # each is long before the next starts
        for n in range(3):
            started = time.monotonic()
            assert rows(engine.run(QueryRequest(f"{QUICK} # {n}", format="json")).body)
            assert time.monotonic() - started < 1.5
        for thread in threads:
            thread.join(10)
        assert sorted(outcomes) == ["QueryTimeout", "QueryTimeout", "ServiceUnavailable"]


def test_the_cache_keeps_no_answer_another_endpoint_gave() -> None:
    """An answer with a SERVICE call in it may change with the other endpoint: never cached; a
    query that only names a local WDQS service (the label service) is cached like any other."""
    cache = ResultCache(8)
    request = QueryRequest("ASK {}", format="json")
    cache.put(request, Answer(b"{}", "application/json", 1, called_out=True))
    assert cache.get(request) is None
    local = Answer(b"{}", "application/json", 1)
    cache.put(request, local)
    assert cache.get(request) is local
    with running(make_engine(cache_entries=8)) as engine:
        text = (
            "SELECT ?item ?itemLabel WHERE { ?item wdt:P31 wd:Q515 . "
            'SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } } LIMIT 1'
        )
        first = engine.run(QueryRequest(text, format="json"))
        assert engine.run(QueryRequest(text, format="json")) is first
