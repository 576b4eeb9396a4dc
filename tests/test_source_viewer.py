"""``/source/paper``, the paper's text with a line per anchor, and the links to it: every line of
the file as ``id="L<n>"`` in HTML, the file byte for byte as text, an entity page's provenance and a
canned query's source header linked to their lines. Flask's test client, no socket."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset, URIRef
from rdflib.namespace import PROV

from cdkg.canned.registry import Registry
from cdkg.kg.graph import load_dataset
from cdkg.names import CDKG, CDKG_GRAPH, ID
from cdkg.resources import kg_dir, paper_text
from cdkg.settings import Settings
from cdkg.web import create_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
#: One line of the page: its anchor, its number linked to itself, its text right to left.
LINE = re.compile(
    r'<div class="line" id="L(\d+)"><a href="#L\1">\1</a>'
    r'<span class="fa" lang="fa" dir="rtl">(.*?)</span></div>'
)


@pytest.fixture(scope="module")
def paper_bytes() -> bytes:
    return paper_text().read_bytes()


@pytest.fixture(scope="module")
def served() -> Dataset:
    """The shipped graph, for this module alone: create_app publishes the queries into it."""
    return load_dataset()


@pytest.fixture(scope="module")
def shipped_app(served: Dataset) -> Flask:
    return create_app(Settings(), served, queries=Registry.load(kg_dir("queries")))


@pytest.fixture
def shipped(shipped_app: Flask) -> FlaskClient:
    return shipped_app.test_client()


# --- the viewer ---------------------------------------------------------------------------------


def test_the_page_anchors_every_line_of_the_file(client: FlaskClient, paper_bytes: bytes) -> None:
    response = client.get("/source/paper", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    lines = paper_bytes.decode("utf-8").split("\n")
    assert len(lines) >= 2155
    shown = LINE.findall(page)
    assert [int(number) for number, _ in shown] == list(range(1, len(lines) + 1))
    assert [html.unescape(text) for _, text in shown] == lines
    assert 'id="L1"' in page
    assert 'id="L2155"' in page
    assert f'id="L{len(lines) + 1}"' not in page


def test_the_page_says_what_the_text_is(shipped: FlaskClient) -> None:
    # The landing page comes from the paper's record in the served graph (data/paper.ttl).
    page = shipped.get("/source/paper").get_data(as_text=True)  # no Accept: the page
    assert 'href="http://fp.ipisjournals.ir/article_33092.html"' in page
    assert "every provenance reference in cdkg uses" in page
    assert "Foreign Policy Quarterly" in page
    assert "<script>" in page
    assert not re.search(r"""(src|href)=["']https?://(?!fp\.ipisjournals\.ir)""", page), (
        "the page loads nothing from elsewhere (no CDN, no font)"
    )


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Accept": "text/plain"}, {}),
        ({"Accept": BROWSER}, {"format": "txt"}),
        ({}, {"format": "text/plain"}),
    ],
)
def test_the_text_is_the_file_byte_for_byte(
    client: FlaskClient, paper_bytes: bytes, headers: dict[str, str], query: dict[str, str]
) -> None:
    response = client.get("/source/paper", headers=headers, query_string=query)
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.data == paper_bytes
    assert "Accept" in response.headers["Vary"]


def test_the_answer_is_cacheable(client: FlaskClient) -> None:
    first = client.get("/source/paper?format=txt")
    again = client.get("/source/paper?format=txt", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_an_unknown_format_is_a_406_naming_the_formats(client: FlaskClient) -> None:
    response = client.get("/source/paper", headers={"Accept": "application/json"})
    assert response.status_code == 406
    error = response.json["error"]  # type: ignore[index]
    assert "html" in error["hint"]
    assert "txt" in error["hint"]


# --- links to it --------------------------------------------------------------------------------


def test_an_entity_page_links_each_provenance_line(shipped: FlaskClient, served: Dataset) -> None:
    tie = URIRef(ID + "tie/yazd--urumqi")
    graph = served.get_context(CDKG_GRAPH)
    locations = list(graph.objects(tie, PROV.wasDerivedFrom))
    assert locations
    page = shipped.get("/id/tie/yazd--urumqi", headers={"Accept": BROWSER}).get_data(as_text=True)
    for location in locations:
        start = int(str(graph.value(location, CDKG.lineStart)))
        end = int(str(graph.value(location, CDKG.lineEnd)))
        fragment = f"L{start}" if start == end else f"L{start}-L{end}"
        words = f"line {start}" if start == end else f"lines {start}-{end}"
        assert f'<a class="line-link" href="/source/paper#{fragment}">{words}</a>' in page
    assert 'href="/id/loc/' in page, "the location's own page is still linked"


def test_a_canned_query_page_links_its_source_lines(shipped: FlaskClient) -> None:
    query = Registry.load(kg_dir("queries")).get("table1")
    assert query.source is not None
    ranges = re.findall(r"lines (\d+)-(\d+)", query.source)
    assert ranges, "table1 names the lines of Table 1"
    page = shipped.get("/queries/table1", headers={"Accept": BROWSER}).get_data(as_text=True)
    source = page.split('<span id="source">', 1)[1].split("</span>", 1)[0]
    for start, end in ranges:
        assert (
            f'<a class="line-link" href="/source/paper#L{start}-L{end}">lines {start}-{end}</a>'
            in source
        )


def test_the_query_list_links_the_lines_of_every_source(shipped: FlaskClient) -> None:
    registry = Registry.load(kg_dir("queries"))
    mentioning = [q for q in registry if q.source and re.search(r"\blines? \d", q.source)]
    assert mentioning
    page = shipped.get("/queries", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert page.count('class="line-link" href="/source/paper#L') >= len(mentioning)
