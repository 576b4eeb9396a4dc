"""Data changed while serving: the server answers from its validated snapshot until SIGHUP; a reload
that loads and conforms swaps the snapshot (requests in flight finish on the old one), one that does
not is logged and changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from rdflib import Dataset
from werkzeug.test import Client

from cdkg.errors import LoadError
from cdkg.kg.graph import data_files
from cdkg.kg.report import ValidationReport
from cdkg.kg.snapshot import Failure, NotConforming
from cdkg.web.reload import Reloader, SwappableApp
from cdkg.web.state import endpoint
from endpoint_fixtures import LiveServer

AHVAZ = "https://w3id.org/cdkg/id/city/ahvaz"
LABEL = f'SELECT ?label WHERE {{ <{AHVAZ}> <http://www.w3.org/2000/01/rdf-schema#label> ?label . FILTER(lang(?label) = "en") }}'  # noqa: E501


def label(server: LiveServer) -> str:
    url = f"{server.sparql}?{urllib.parse.urlencode({'query': LABEL})}"
    request = urllib.request.Request(  # noqa: S310 - a test server's http URL
        url, headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        rows = json.load(response)["results"]["bindings"]
    return str(rows[0]["label"]["value"])


def download(server: LiveServer) -> str:
    with urllib.request.urlopen(f"{server.url}/download/cdkg.nt", timeout=60) as response:  # noqa: S310
        return str(response.read().decode("utf-8"))


def wait_for(condition: Callable[[], bool], within: float = 90) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


@pytest.fixture
def served(tmp_path: Path, start_server: Callable[..., LiveServer]) -> tuple[LiveServer, Path]:
    """A server on copies of the data files; the copy of ``cities.ttl``."""
    copies = []
    for path in data_files():
        copies.append(tmp_path / path.name)
        shutil.copyfile(path, copies[-1])
    server = start_server("--timeout", "30", "--workers", "2", "--data", *copies)
    return server, tmp_path / "cities.ttl"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def hangup(server: LiveServer) -> None:
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGHUP)


def test_edits_on_disk_change_nothing_until_sighup(served: tuple[LiveServer, Path]) -> None:
    server, cities = served
    assert label(server) == "Ahvaz"
    edit(cities, '"Ahvaz"@en', '"Ahvaz (edited)"@en')
    time.sleep(1)
    assert label(server) == "Ahvaz"
    assert '"Ahvaz"@en' in download(server)  # serialised now, from the snapshot, not the file

    hangup(server)
    assert wait_for(lambda: "reload done" in server.tail()), server.tail()
    assert label(server) == "Ahvaz (edited)"
    assert '"Ahvaz (edited)"@en' in download(server)


def test_a_reload_that_fails_keeps_the_old_snapshot(served: tuple[LiveServer, Path]) -> None:
    server, cities = served
    edit(cities, '"Ahvaz"@en', '"Ahvaz (broken)@en')  # an unterminated string
    hangup(server)
    assert wait_for(lambda: "reload refused" in server.tail()), server.tail()
    assert f"{cities}:" in server.tail()  # names the file
    assert label(server) == "Ahvaz"

    edit(cities, '"Ahvaz (broken)@en', '"Ahvaz"@en')
    edit(cities, '"اهواز"@fa', '"اهوازي"@fa')  # Arabic yeh: loads, does not conform
    hangup(server)
    assert wait_for(lambda: "arabic-yeh-kaf-violation.rq" in server.tail(200)), server.tail()
    assert label(server) == "Ahvaz"
    assert server.alive()


# -- in process: the swap itself --------------------------------------------------------------


def test_a_request_in_flight_finishes_on_the_app_it_started_on(
    make_app: Callable[..., Flask],
) -> None:
    old, new = make_app(), make_app()
    started, release = threading.Event(), threading.Event()

    def block() -> str:
        started.set()
        release.wait(10)
        return f"old {endpoint() is old.extensions['cdkg']}"

    old.add_url_rule("/_block", view_func=block)
    new.add_url_rule("/_block", view_func=lambda: "new")
    wsgi = SwappableApp(old)
    answers: list[str] = []
    thread = threading.Thread(
        target=lambda: answers.append(Client(wsgi).get("/_block").get_data(as_text=True))
    )
    thread.start()
    assert started.wait(10)
    wsgi.app = new
    assert Client(wsgi).get("/_block").get_data(as_text=True) == "new"
    release.set()
    thread.join(10)
    assert answers == ["old True"]


def test_a_reload_swaps_only_when_the_data_loads_and_conforms(
    make_app: Callable[..., Flask], endpoint_dataset: Dataset
) -> None:
    old, new = make_app(), make_app()
    wsgi = SwappableApp(old)
    loads: list[Callable[[], Dataset]] = []

    def load() -> Dataset:
        return loads.pop(0)()

    reloader = Reloader(wsgi, load, lambda dataset: new)

    def not_loading() -> Dataset:
        raise LoadError("data/cities.ttl", "Turtle syntax error", line=3)

    def not_conforming() -> Dataset:
        raise NotConforming([Failure("the cdkg graph", ValidationReport([]))])

    def crashing() -> Dataset:
        raise RuntimeError("a bug")

    for failing in (not_loading, not_conforming, crashing):
        loads.append(failing)
        assert reloader.reload() is False
        assert wsgi.app is old
    loads.append(lambda: endpoint_dataset)
    assert reloader.reload() is True
    assert (wsgi.app, reloader.reloads) == (new, 1)
