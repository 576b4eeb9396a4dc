"""A canned query's HTML page links to the map, timeline and network views of the same query."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient

from cdkg.settings import Settings
from cdkg.web import create_app


@pytest.fixture(scope="module")
def shipped() -> FlaskClient:
    """The app on the shipped graph and canned queries."""
    return create_app(Settings()).test_client()


def test_query_page_links_to_each_view(shipped: FlaskClient) -> None:
    client = shipped
    page = client.get("/queries/ties?format=html&kind=sister_city").get_data(as_text=True)
    links = [html.unescape(h) for h in re.findall(r'class="view-link" href="([^"]+)"', page)]
    assert [link.split("?")[0] for link in links] == [
        "/views/map",
        "/views/timeline",
        "/views/network",
    ]
    for link in links:
        assert "name=ties" in link
        assert "kind=sister_city" in link  # the parameters travel with the query
        assert client.get(link).status_code == 200


def test_a_view_binds_parameters_as_the_query_page_does(shipped: FlaskClient) -> None:
    """A view of ``city`` with ``city=Tehran`` (a label, as scholars type it) draws Tehran's rows:
    the same resolver as /queries/NAME, not the raw text bound as an IRI."""
    page = shipped.get("/views/map?name=city&city=Tehran").get_data(as_text=True)
    assert "https://w3id.org/cdkg/id/city/tehran" in html.unescape(page)
    assert shipped.get("/views/map?name=city&city=Nowhere-at-all").status_code == 400
