"""Persian-aware search (``queries/search.rq``), one test per normalisation case, run on the
shipped graph straight through rdflib, and through ``/queries/search`` and ``/views/search``."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset

from cdkg.canned.registry import Registry
from cdkg.kg.graph import load_dataset
from cdkg.resources import kg_dir
from cdkg.settings import Settings
from cdkg.web import create_app

CANNED = Registry.load(kg_dir("queries"))
ZWNJ = "\u200c"
IDS = "https://w3id.org/cdkg/id/"

#: (what is typed, the entity it must find first, the case it covers)
CASES = [
    ("Isfahan", "city/isfahan", "English label"),
    ("isfahan", "city/isfahan", "lower case"),
    ("TEHRAN", "city/tehran", "upper case"),
    ("اصفهان", "city/isfahan", "Persian label"),
    ("Esfahan", "city/isfahan", "transliteration alias Esfahan"),
    ("Tiflis", "city/tbilisi", "transliteration alias Tiflis"),
    ("Teheran", "city/tehran", "transliteration alias Teheran"),
    ("تفليس", "city/tbilisi", "Arabic yeh ي for Persian ی"),
    ("مسكو", "city/moscow", "Arabic kaf ك for Persian ک"),
    ("كرمان", "city/kerman", "Arabic kaf ك for Persian ک, at the start"),
    ("سیتی نت", "org/citynet", "a space where the label has a ZWNJ"),
    ("سیتینت", "org/citynet", "nothing where the label has a ZWNJ"),
    (f"سیتی{ZWNJ}نت", "org/citynet", "ZWNJ as in the label"),
    (f"کوالا{ZWNJ}لامپور", "city/kuala-lumpur", "a ZWNJ where the label has none"),
    ("كوالا لامپور", "city/kuala-lumpur", "a space and Arabic kaf"),
    ("KualaLumpur", "city/kuala-lumpur", "English without the space"),
    ("Urumqi", "city/urumqi", "no accents for Ürümqi"),
    ("Brasilia", "city/brasilia", "no accent for Brasília"),
]


@pytest.fixture(scope="module")
def shipped() -> Dataset:
    return load_dataset()


def search(dataset: Dataset, q: str) -> list[str]:
    rows = dataset.query(CANNED.get("search").bind({"q": q}))
    found: list[str] = []
    for row in rows:
        entity = str(row.entity)  # type: ignore[union-attr]
        if entity not in found:
            found.append(entity)
    return found


@pytest.mark.parametrize(("q", "expected", "case"), CASES, ids=[c[2] for c in CASES])
def test_search_normalises(shipped: Dataset, q: str, expected: str, case: str) -> None:
    found = search(shipped, q)
    assert found, f"{case}: nothing found for {q!r}"
    assert found[0] == IDS + expected, f"{case}: {q!r} found {found[:5]}"


def test_search_finds_nothing_for_nonsense(shipped: Dataset) -> None:
    assert search(shipped, "xyzzy") == []


def test_search_without_q_lists_named_entities(shipped: Dataset) -> None:
    rows = list(shipped.query(CANNED.get("search").bind({})))
    assert len(rows) == 200  # the query's LIMIT
    assert {str(row.entity).split("/id/")[1].split("/")[0] for row in rows} >= {"city", "country"}  # type: ignore[union-attr]


def test_aliases_are_data_in_the_query() -> None:
    """The transliteration table is the query's VALUES block, each alias a different spelling."""
    text = CANNED.get("search").text
    assert '("esfahan" "isfahan")' in text
    assert '("tiflis" "tbilisi")' in text


@pytest.fixture(scope="module")
def app(shipped: Dataset) -> Flask:
    return create_app(Settings(timeout=60), shipped, queries=CANNED)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_search_over_http(client: FlaskClient) -> None:
    response = client.get(
        "/queries/search",
        query_string={"q": "تفليس"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    entities = {b["entity"]["value"] for b in response.json["results"]["bindings"]}
    assert IDS + "city/tbilisi" in entities


def test_search_page(client: FlaskClient) -> None:
    response = client.get("/views/search", query_string={"q": "Esfahan"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="Esfahan"' in page
    assert "views/search.js" in page
