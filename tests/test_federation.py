"""Federation through a real ``cdkg serve``: SERVICE to an allow-listed local stand-in for WDQS
(``wikidata_standin``), refused (403) off the allow-list without any connection, bounded by its
own time limit (504) and failing cleanly (502); ``cdkg wikidata-diff --endpoint`` against it."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from cdkg.canned.registry import Registry
from cdkg.resources import kg_dir
from endpoint_fixtures import LiveServer
from wikidata_standin import INVENTED, StandIn, standin_graph

pytestmark = pytest.mark.slow

SNAPSHOT = Path(__file__).resolve().parents[1] / "reference" / "wikidata-p190-snapshot.csv"
WDQS = "https://query.wikidata.org/sparql"
WD = "http://www.wikidata.org/entity/"
ENRICH = Registry.load(kg_dir("queries") / "federated").get("wikidata-enrich")
SERVICE_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn(standin_graph(SNAPSHOT)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fed_server(start_server: Callable[..., LiveServer], standin: StandIn) -> LiveServer:
    return start_server(
        *("--allow-service", standin.sparql),
        *("--allow-service", standin.url + "/slow"),
        *("--allow-service", standin.url + "/broken"),
        *("--allow-service", standin.url + "/redirect"),
        *("--timeout", "20", "--service-timeout", str(SERVICE_TIMEOUT)),
        *("--wikidata-snapshot", str(SNAPSHOT)),
    )


def post(server: LiveServer, query: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - a local test server
        server.sparql,
        data=urlencode({"query": query}).encode(),
        headers={"Accept": "application/sparql-results+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def rows(body: dict[str, Any]) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in body["results"]["bindings"]]


def enrich(standin: StandIn, **params: str) -> str:
    """The canned federated query, pointed at the stand-in (rdflib reads a SERVICE IRI only from
    the text, so the IRI is replaced; nothing else changes)."""
    return ENRICH.bind(params).replace(f"<{WDQS}>", f"<{standin.sparql}>")


def test_enrich_joins_our_cities_with_the_standin(fed_server: LiveServer, standin: StandIn):
    before = len(standin.requests)
    status, body = post(fed_server, enrich(standin))
    assert status == 200, body
    found = {r["item"]: r for r in rows(body)}
    assert set(found) == {WD + q for q in INVENTED}  # only these have names in other languages
    tehran = found[WD + "Q3616"]
    assert tehran["label"] == "Tehran"
    assert tehran["wikidata_population"] == str(INVENTED["Q3616"][0])
    assert tehran["wikidata_coordinates"] == INVENTED["Q3616"][1]
    assert set(tehran["wikidata_names"].split(" | ")) == set(INVENTED["Q3616"][2].values())
    calls = standin.requests[before:]
    # a bound join: one call per linked Iranian city, each carrying its item in VALUES
    assert len(calls) == 21  # the 21 Iranian cities of reference/entities.csv, Ramsar included
    assert all(path == "/sparql" and "VALUES" in query for _, path, query in calls)
    assert any(f"<{WD}Q42053>" in query for _, _, query in calls)


def test_enrich_takes_a_city(fed_server: LiveServer, standin: StandIn):
    before = len(standin.requests)
    status, body = post(fed_server, enrich(standin, city="city/isfahan"))
    assert status == 200, body
    assert [r["label"] for r in rows(body)] == ["Isfahan"]
    assert len(standin.requests) - before == 1


def test_the_same_query_text_runs_on_the_standin_and_on_cdkg(
    fed_server: LiveServer, standin: StandIn
):
    """A WDQS-style query, unchanged, against Wikidata's shape (the stand-in, from the snapshot)
    and against cdkg's Wikidata-shaped view: Los Angeles is in both, London only on Wikidata."""
    text = (
        "PREFIX wd: <http://www.wikidata.org/entity/>\n"
        "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?partner ?partnerLabel WHERE { wd:Q3616 wdt:P190 ?partner . "
        '?partner rdfs:label ?partnerLabel FILTER(lang(?partnerLabel)="en") }'
    )
    with urllib.request.urlopen(  # noqa: S310
        standin.sparql + "?" + urlencode({"query": text}), timeout=30
    ) as response:
        wikidata = {r["partnerLabel"] for r in rows(json.loads(response.read()))}
    status, body = post(fed_server, text)
    assert status == 200, body
    ours = {r["partnerLabel"] for r in rows(body)}
    assert "Los Angeles" in wikidata & ours
    assert "London" in wikidata - ours
    assert "Bishkek" in ours - wikidata


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket that listens and never accepts: any connection attempt would queue on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def test_service_off_the_allow_list_is_refused_without_a_connection(
    fed_server: LiveServer, listener: socket.socket
):
    port = listener.getsockname()[1]
    status, body = post(
        fed_server, f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    )
    assert status == 403
    assert body["error"]["type"] == "Forbidden"
    assert "allow-list" in body["error"]["message"]
    time.sleep(0.5)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected


def test_a_slow_service_gets_its_own_time_limit(fed_server: LiveServer, standin: StandIn):
    started = time.monotonic()
    status, body = post(
        fed_server, f"SELECT * WHERE {{ SERVICE <{standin.url}/slow> {{ ?s ?p ?o }} }}"
    )
    elapsed = time.monotonic() - started
    assert status == 504, body
    assert body["error"]["type"] == "GatewayTimeout"
    assert elapsed < SERVICE_TIMEOUT + 2  # not the query's 20 s, not the stand-in's 10 s


def test_a_failing_service_is_502(fed_server: LiveServer, standin: StandIn):
    status, body = post(
        fed_server, f"SELECT * WHERE {{ SERVICE <{standin.url}/broken> {{ ?s ?p ?o }} }}"
    )
    assert status == 502, body
    assert body["error"]["type"] == "BadGateway"
    assert "HTTP 500" in body["error"]["message"]


def test_a_redirect_off_the_allow_list_is_not_followed(
    fed_server: LiveServer, standin: StandIn, listener: socket.socket
):
    standin.redirect_to = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
    status, body = post(
        fed_server, f"SELECT * WHERE {{ SERVICE <{standin.url}/redirect> {{ ?s ?p ?o }} }}"
    )
    assert status == 502, body
    assert "HTTP 307" in body["error"]["message"]
    time.sleep(0.5)
    with pytest.raises(BlockingIOError):
        listener.accept()  # the redirect's target was never contacted


def test_wikidata_diff_from_the_standin_endpoint_equals_the_snapshots(
    run_cdkg: Callable[..., subprocess.CompletedProcess[str]], standin: StandIn
):
    from_endpoint = run_cdkg("wikidata-diff", "--endpoint", standin.sparql, "--format", "csv")
    assert from_endpoint.returncode == 0, from_endpoint.stderr
    from_snapshot = run_cdkg("wikidata-diff", "--snapshot", SNAPSHOT, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(from_endpoint.stdout)))
    assert {r["status"] for r in table} == {"both", "paper_only", "wikidata_only"}
    assert from_endpoint.stdout == from_snapshot.stdout


def fetch_text(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - local servers
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


def test_wikidata_diff_over_http_from_the_snapshot_and_the_standin(
    fed_server: LiveServer,
    standin: StandIn,
    run_cdkg: Callable[..., subprocess.CompletedProcess[str]],
):
    cli = run_cdkg("wikidata-diff", "--snapshot", SNAPSHOT, "--format", "csv")
    status, snapshot = fetch_text(fed_server.url + "/wikidata-diff?format=csv")
    assert status == 200
    assert snapshot == cli.stdout
    query = urlencode({"format": "csv", "endpoint": standin.sparql})
    status, endpoint = fetch_text(f"{fed_server.url}/wikidata-diff?{query}")
    assert status == 200, endpoint
    assert endpoint == cli.stdout
    status, refused = fetch_text(
        fed_server.url + "/wikidata-diff?" + urlencode({"endpoint": "http://127.0.0.1:9/x"})
    )
    assert status == 403, refused
