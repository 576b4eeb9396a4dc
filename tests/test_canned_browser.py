"""A canned query's HTML page in real headless Chromium (Debian's, via Playwright), offline: the
results table, the parameter form (GET, so the URL stays stable), the citation, and the link that
opens the query in YASGUI and runs it there. A screenshot is saved for people to look at."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cdkg.canned.registry import Registry
from cdkg.resources import kg_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CANNED = Registry.load(kg_dir("queries"))
#: A query with an enum parameter, to drive the form with: ``ties`` (a quick one) if it has one.
WITH_ENUM = next(
    (
        (q, p)
        for q in sorted(CANNED, key=lambda q: q.name != "ties")
        for p in q.params
        if p.type == "enum"
    ),
    (None, None),
)


@pytest.fixture
def server(shipped_server):
    """``cdkg serve`` on the shipped graph alone, with room for the slower canned queries."""
    return shipped_server


@pytest.fixture
def page(open_local_page):
    """A page that may reach only 127.0.0.1; anything else is aborted and recorded."""
    return open_local_page(viewport={"width": 1280, "height": 900})


def test_query_page_shows_rows_form_citation_and_opens_in_yasgui(page, server):
    query, param = WITH_ENUM
    if query is None or param is None:
        pytest.fail("no canned query has an enum parameter to drive the form with")
    response = page.goto(f"{server.url}/queries/{query.name}")
    assert response.status == 200, page.content()
    assert page.title().startswith(query.title.split(" — ")[0])
    rows = page.locator("#results tbody tr").count()
    assert rows > 0
    assert page.locator("#citation").inner_text().count(query.name) >= 1
    assert page.locator("form#params").get_attribute("method") == "get"

    # the form: choose a value, submit; the URL carries it, and the table is filtered
    value = param.allowed[-1]
    page.select_option(f"form#params select[name={param.name}]", value)
    page.click("form#params button[type=submit]")
    page.wait_for_load_state()
    assert parse_qs(urlsplit(page.url).query)[param.name] == [value]
    filtered = page.locator("#results tbody tr").count()
    assert 0 < filtered <= rows

    shot = Path(tempfile.mkdtemp(prefix="cdkg-canned-")) / f"{query.name}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")  # for the person running the tests

    # the YASGUI link: the bound query in a tab of its own, run against this endpoint
    page.click("#yasgui-link")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=30_000)
    editor = page.evaluate("() => window.cdkgYasgui.getTab().getQuery()")
    assert f'VALUES ?{param.name} {{ "{value}" }}' in editor
    assert page.evaluate("() => window.cdkgYasgui.getTab().getEndpoint()") == server.sparql
    # YASGUI runs a query that came in a link by itself (clicking the button now would abort it)
    page.wait_for_selector(".yasr table tbody tr", timeout=30_000)
    assert page.locator(".yasr table tbody tr").count() == filtered
    assert page.outside == [], "the page reached for the network"  # type: ignore[attr-defined]


def test_queries_list_links_every_query(page, server):
    page.goto(f"{server.url}/queries")
    links = page.locator("#queries tbody tr td:first-child a").all_inner_texts()
    assert links == CANNED.names()
    assert page.outside == []  # type: ignore[attr-defined]
