"""Answers carry an ETag and Cache-Control, and a client holding an answer gets a 304
(cdkg.web.caching): browsers and proxies can cache too."""

from __future__ import annotations

from urllib.parse import quote

from flask.testing import FlaskClient

from cdkg.settings import Settings
from cdkg.web import create_app
from cdkg.web.caching import MAX_AGE

JSON = "application/sparql-results+json"
QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def test_a_get_answer_has_a_strong_etag_and_may_be_cached(client: FlaskClient) -> None:
    response = client.get(f"/sparql?query={quote(QUERY)}", headers={"Accept": JSON})
    assert response.status_code == 200
    etag, weak = response.get_etag()
    assert etag
    assert not weak
    assert response.cache_control.public
    assert response.cache_control.max_age == MAX_AGE
    assert "Accept" in response.headers["Vary"]


def test_if_none_match_gets_a_304_without_a_body(client: FlaskClient) -> None:
    url = f"/sparql?query={quote(QUERY)}"
    first = client.get(url, headers={"Accept": JSON})
    etag = first.headers["ETag"]
    again = client.get(url, headers={"Accept": JSON, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    other = client.get(url, headers={"Accept": JSON, "If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.get_data() == first.get_data()


def test_each_format_has_its_own_etag(client: FlaskClient) -> None:
    url = f"/sparql?query={quote(QUERY)}"
    as_json = client.get(url, headers={"Accept": JSON}).headers["ETag"]
    as_csv = client.get(url, headers={"Accept": "text/csv"}).headers["ETag"]
    assert as_json != as_csv


def test_post_answers_get_no_etag(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"query": QUERY}, headers={"Accept": JSON})
    assert response.status_code == 200
    assert "ETag" not in response.headers


def test_errors_are_never_cached(client: FlaskClient) -> None:
    response = client.get("/sparql?query=SELECT", headers={"Accept": JSON})
    assert response.status_code == 400
    assert "ETag" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_canned_answers_are_cacheable_and_revalidate() -> None:
    client = create_app(Settings()).test_client()  # the shipped canned queries
    first = client.get("/queries/table1", headers={"Accept": JSON})
    assert first.status_code == 200
    assert first.cache_control.max_age == MAX_AGE
    again = client.get(
        "/queries/table1", headers={"Accept": JSON, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
