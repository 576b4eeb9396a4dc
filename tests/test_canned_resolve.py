"""Canned-query parameters take what scholars type, and a canned query's text is at its URL.

An ``iri`` parameter resolves a cdkg IRI, a bare id, a Wikidata QID or IRI and an English or
Persian label (read as the search query reads it) to the one entity it names, of the class its
header declares; a value that names none, or several, is a 400 (``cdkg query``: exit 2) listing
the closest candidates. ``/queries/NAME`` answers its text with ``format=rq`` or ``Accept:
application/sparql-query``, parameters bound as the query runs; that text, or the file's own,
sent to ``/sparql`` gets the citation headers ``/queries/NAME`` gives, and no other text does.

Over the shipped graph, with its own IDs: Tehran is ``city/tehran``, Wikidata's Q3616.
"""

from __future__ import annotations

import hashlib
import urllib.parse
import urllib.request
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset

from cdkg.canned.registry import CannedQuery, Registry
from cdkg.cli import main
from cdkg.kg.graph import load_dataset
from cdkg.names import ID
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg.web import create_app
from endpoint_fixtures import LiveServer

CANNED = Registry.load(kg_dir("queries"))
TEHRAN = ID + "city/tehran"
SPARQL_QUERY = "application/sparql-query"
CITATION_HEADERS = ("CDKG-Query", "CDKG-Query-SHA256", "CDKG-Dataset-Version", "Link")
#: A query whose parameter names no class: a label two entities share is ambiguous there.
ANY_ENTITY = CannedQuery.parse(
    "any-entity",
    "#+ title: Any entity's labels (a test query)\n"
    "#+ param: entity | iri | - | Any entity of the graph\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "SELECT ?entity ?label WHERE { ?entity rdfs:label ?label }\n",
)


@pytest.fixture(scope="module")
def app() -> Flask:
    served: Dataset = load_dataset()  # create_app publishes the queries into it: this module's own
    queries = Registry({**CANNED.queries, ANY_ENTITY.name: ANY_ENTITY})
    return create_app(Settings(timeout=60.0), served, queries=queries)


class ReachableClient(FlaskClient):
    """Requests to a host readers can reach, so that answers name their URL (rel="cite-as")."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", "https://cdkg.example.org")
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = ReachableClient
    return app.test_client()


def rows(client: FlaskClient, name: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/queries/{name}", query_string={**params, "format": "json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    found: list[dict[str, Any]] = response.json["results"]["bindings"]
    return found


def bound_text(client: FlaskClient, name: str, **params: str) -> str:
    response = client.get(f"/queries/{name}", query_string={**params, "format": "rq"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def refusal(client: FlaskClient, name: str, **params: str) -> str:
    response = client.get(f"/queries/{name}", query_string=params)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["type"] == "BadParameter"
    return f"{error['message']} {error['hint']}"


# --- every form a scholar types --------------------------------------------------------------


TEHRAN_FORMS = [
    TEHRAN,  # the cdkg IRI
    f"<{TEHRAN}>",
    "city/tehran",  # a bare id
    "Q3616",  # Wikidata's QID, linked by skos:exactMatch in data/cities.ttl
    "wd:Q3616",
    "http://www.wikidata.org/entity/Q3616",
    "https://www.wikidata.org/entity/Q3616",
    "https://www.wikidata.org/wiki/Q3616",  # the page a browser shows
    "Tehran",  # the English label
    " tehran ",
    "تهران",  # the Persian label
]


@pytest.mark.parametrize("typed", TEHRAN_FORMS)
def test_every_form_of_tehran_binds_its_iri(client: FlaskClient, typed: str) -> None:
    assert f"VALUES ?city {{ <{TEHRAN}> }}" in bound_text(client, "ties", city=typed)
    found = rows(client, "ties", city=typed)
    assert found == rows(client, "ties", city=TEHRAN)
    assert found  # Table 1's ties of Tehran
    assert {row["iranian_city"]["value"] for row in found} == {"Tehran"}


# The Arabic letters are written as escapes: they look like the Persian ones they stand for.
@pytest.mark.parametrize(
    ("typed", "entity"),
    [
        ("\u0634\u064a\u0631\u0627\u0632", "city/shiraz"),  # Arabic yeh for the ی of شیراز
        ("\u0627\u0631\u0627\u0643", "city/arak"),  # Arabic kaf for the ک of اراک
        # Arabic kaf, and a ZWNJ inside کرمانشاه
        ("\u0643\u0631\u0645\u0627\u0646\u200c\u0634\u0627\u0647", "city/kermanshah"),
        # Arabic yeh, and teh marbuta for the final heh of ارومیه
        ("\u0627\u0631\u0648\u0645\u064a\u0629", "city/urmia"),
        ("KERMAN", "city/kerman"),  # case
    ],
)
def test_labels_are_read_as_the_search_reads_them(
    client: FlaskClient, typed: str, entity: str
) -> None:
    assert f"VALUES ?city {{ <{ID}{entity}> }}" in bound_text(client, "ties", city=typed)


def test_a_label_is_resolved_within_the_class_the_header_names(client: FlaskClient) -> None:
    # "Dialogue among civilisations" labels a discourse and a principle: each parameter, its own
    label = "Dialogue among civilisations"
    assert f"<{ID}discourse/dialogue-among-civilisations>" in bound_text(
        client, "table3", discourse=label
    )
    assert f"<{ID}principle/dialogue-among-civilisations>" in bound_text(
        client, "principle", principle=label
    )
    # owl:Class: the class cdkg:Country, not the property cdkg:country that shares its label
    assert "<https://w3id.org/cdkg/ontology#Country>" in bound_text(
        client, "unlinked", **{"class": "country"}
    )


# --- what names nothing, several things, or the wrong thing ----------------------------------


def test_an_unknown_label_is_a_400_listing_the_closest(client: FlaskClient) -> None:
    said = refusal(client, "ties", city="Tehrn")
    assert "'city'" in said
    assert "is no label of a cdkg:IranianCity" in said
    assert f"Tehran / تهران <{TEHRAN}>" in said  # the candidate, its labels and its IRI


def test_an_unknown_id_and_iri_are_a_400_listing_the_closest(client: FlaskClient) -> None:
    assert f"<{TEHRAN}>" in refusal(client, "ties", city="city/teheran")
    said = refusal(client, "ties", city=ID + "city/tehrann")
    assert "names nothing in the graph" in said
    assert f"<{TEHRAN}>" in said


def test_an_unlinked_qid_is_a_400(client: FlaskClient) -> None:
    said = refusal(client, "ties", city="Q3617")
    assert "Q3617 is linked (skos:exactMatch) to no cdkg:IranianCity" in said


def test_an_entity_of_another_class_is_a_400_naming_its_class(client: FlaskClient) -> None:
    said = refusal(client, "ties", city="country/iran")
    assert f"<{ID}country/iran>" in said
    assert "a cdkg:Country, not a cdkg:IranianCity" in said
    said = refusal(client, "ties", city="Q794")  # Iran, the country
    assert "a cdkg:Country, not a cdkg:IranianCity" in said


def test_an_ambiguous_label_is_a_400_listing_each_entity(client: FlaskClient) -> None:
    said = refusal(client, "any-entity", entity="Dialogue among civilisations")
    assert "is the label of 2 entities" in said
    assert f"<{ID}discourse/dialogue-among-civilisations>" in said
    assert f"<{ID}principle/dialogue-among-civilisations>" in said
    assert "give the IRI of the one you mean" in said


def test_a_value_that_resolves_runs_the_test_query(client: FlaskClient) -> None:
    found = rows(client, "any-entity", entity="Q3616")
    assert {row["entity"]["value"] for row in found} == {TEHRAN}


def test_cli_resolves_as_the_endpoint_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "ties", "--param", "city=تهران", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) > 1
    assert all(line.startswith("Tehran,") for line in out[1:])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Tehrn", f"Tehran / تهران <{TEHRAN}>"),
        ("country/iran", "a cdkg:Country, not a cdkg:IranianCity"),
    ],
)
def test_cli_exits_2_listing_the_closest(
    capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    assert main(["query", "ties", "--param", f"city={value}"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


# --- the text at the query's URL --------------------------------------------------------------


def test_the_text_is_served_by_format_and_by_accept(client: FlaskClient) -> None:
    by_format = client.get("/queries/ties", query_string={"city": "Tehran", "format": "rq"})
    by_accept = client.get(
        "/queries/ties", query_string={"city": "Tehran"}, headers={"Accept": SPARQL_QUERY}
    )
    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response.mimetype == SPARQL_QUERY
        # the text as it runs: the file, with the resolved IRI bound
        assert response.get_data(as_text=True) == CANNED.get("ties").bind({"city": TEHRAN})
        assert response.headers["CDKG-Query"] == "ties"
        assert 'rel="cite-as"' in response.headers["Link"]


def test_the_text_without_parameters_is_the_file(client: FlaskClient) -> None:
    assert bound_text(client, "ties") == CANNED.get("ties").text
    # a default is bound as the query runs: city defaults to Tehran
    city = CANNED.get("city")
    assert bound_text(client, "city") == city.bind({})
    assert bound_text(client, "city") != city.text


def test_a_bad_value_is_a_400_for_the_text_too(client: FlaskClient) -> None:
    response = client.get("/queries/ties", query_string={"city": "Tehrn", "format": "rq"})
    assert response.status_code == 400


# --- citation headers on /sparql --------------------------------------------------------------


def citation_headers(headers: Any) -> dict[str, str | None]:
    return {name: headers.get(name) for name in CITATION_HEADERS}


def cited_by_queries(client: FlaskClient, name: str, **params: str) -> dict[str, str | None]:
    response = client.get(f"/queries/{name}", query_string={**params, "format": "csv"})
    assert response.status_code == 200
    return citation_headers(response.headers)


def post(client: FlaskClient, text: str, **extra: str) -> Any:
    response = client.post(
        "/sparql",
        data={"query": text, **extra},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_the_file_text_on_sparql_is_cited_as_its_query(client: FlaskClient) -> None:
    text = CANNED.get("ties").text
    expected = cited_by_queries(client, "ties")
    assert expected["CDKG-Query-SHA256"] == hashlib.sha256(text.encode()).hexdigest()
    assert citation_headers(post(client, text).headers) == expected
    got = client.get("/sparql", query_string={"query": text}, headers={"Accept": "text/csv"})
    assert citation_headers(got.headers) == expected
    direct = client.post("/sparql", data=text.encode(), content_type=SPARQL_QUERY)
    assert citation_headers(direct.headers) == expected


def test_a_bound_text_on_sparql_is_cited_as_its_url(client: FlaskClient) -> None:
    text = bound_text(client, "ties", city="Tehran", kind="cooperation_mou")
    expected = cited_by_queries(client, "ties", city=TEHRAN, kind="cooperation_mou")
    assert citation_headers(post(client, text).headers) == expected
    # a default binds as /queries/city binds it: cited as /queries/city
    assert citation_headers(post(client, bound_text(client, "city")).headers) == (
        cited_by_queries(client, "city")
    )


def test_the_file_of_a_query_with_defaults_is_cited_without_a_url(client: FlaskClient) -> None:
    # /queries/city binds its default: no URL runs the file's own text, so nothing is cite-as
    headers = post(client, CANNED.get("city").text).headers
    assert headers["CDKG-Query"] == "city"
    assert 'rel="cite-as"' not in headers["Link"]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1",
        CANNED.get("ties").text + " ",  # one space more is another text
        CANNED.get("ties").text.replace("ORDER BY", "ORDER  BY"),
        # a value /queries/ties would refuse (no such city) bound where it binds
        CANNED.get("ties").bind({"city": ID + "city/atlantis"}),
    ],
    ids=["other", "space", "inner-space", "unknown-city"],
)
def test_other_text_on_sparql_gets_no_citation(client: FlaskClient, text: str) -> None:
    headers = post(client, text).headers
    assert all(name not in headers for name in CITATION_HEADERS)


def test_a_canned_text_over_another_dataset_gets_no_citation(client: FlaskClient) -> None:
    headers = post(client, CANNED.get("ties").text, **{"default-graph-uri": ID + "graph"}).headers
    assert "CDKG-Query" not in headers


# --- a real server, a real client -------------------------------------------------------------


def test_over_a_live_server(live_server: LiveServer) -> None:
    """The Persian label resolved, the text downloaded, and that text cited on /sparql."""
    query = urllib.parse.urlencode({"city": "تهران"})
    request = urllib.request.Request(  # noqa: S310 - the live server's http URL
        f"{live_server.url}/queries/ties?{query}", headers={"Accept": SPARQL_QUERY}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.headers.get_content_type() == SPARQL_QUERY
        cited = {name: response.headers[name] for name in ("CDKG-Query", "CDKG-Query-SHA256")}
        text = response.read()
    assert f"VALUES ?city {{ <{TEHRAN}> }}".encode() in text
    posted = urllib.request.Request(  # noqa: S310 - the live server's http URL
        live_server.sparql,
        data=text,
        headers={"Content-Type": SPARQL_QUERY, "Accept": "text/csv"},
    )
    with urllib.request.urlopen(posted, timeout=30) as response:  # noqa: S310
        assert {name: response.headers[name] for name in cited} == cited
        assert cited["CDKG-Query"] == "ties"
        assert response.read().splitlines()[1].startswith(b"Tehran,")
