"""The query page at ``/`` in real headless Chromium (Debian's, via Playwright), offline: the
canned queries wait in a picker (a tab for each filled half the screen) that opens one in the
current tab or a new one, and results read as plain values (``1``, not ``"1"^^xsd:integer``).
A screenshot goes to ``VIEWS_SCREENSHOTS`` (a temporary directory unless set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cdkg.canned.registry import Registry
from cdkg.resources import kg_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CANNED = Registry.load(kg_dir("queries"))
#: Terms of three kinds, each written in full unless the table shows plain values.
TERMS = """SELECT ?number ?text ?iri WHERE {
  VALUES (?number ?text ?iri) { (1 "Tehran"@en <https://w3id.org/cdkg/id/city/tehran>) }
}"""


@pytest.fixture
def server(shipped_server):
    return shipped_server


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("VIEWS_SCREENSHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("yasgui-screenshots")


def tabs(page) -> int:
    count: int = page.locator(".tabsList .tab").count()
    return count


def test_canned_queries_in_a_picker_not_a_tab_each(local_page, server, shots):
    page = local_page
    page.goto(server.url + "/")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=60_000)
    assert tabs(page) == 1
    # the tab row is one line, so the editor starts in the top third of the window
    assert page.locator(".yasqe").bounding_box()["y"] < 800 / 3
    titles = page.locator("#canned-query option").all_inner_texts()
    assert titles == [q.title for q in CANNED]
    page.screenshot(path=shots / "yasgui.png")

    chosen = CANNED.get("inventory")
    page.select_option("#canned-query", label=chosen.title)
    page.click("#open-here")
    assert tabs(page) == 1
    assert page.evaluate("() => window.cdkgYasgui.getTab().getQuery()") == chosen.text
    assert page.evaluate("() => window.cdkgYasgui.getTab().getName()") == chosen.title

    other = CANNED.get("table2")
    page.select_option("#canned-query", label=other.title)
    page.click("#open-new")
    assert tabs(page) == 2
    assert page.evaluate("() => window.cdkgYasgui.getTab().getQuery()") == other.text
    assert page.evaluate("() => window.cdkgYasgui.getTab().getName()") == other.title


def test_results_read_as_plain_values(local_page, server, shots):
    page = local_page
    page.goto(server.url + "/")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=60_000)
    page.evaluate("(text) => { window.cdkgYasgui.getTab().setQuery(text); }", TERMS)
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table tbody tr", timeout=30_000)
    heads = [h.strip() for h in page.locator(".yasr table thead th").all_inner_texts()]
    cells = page.locator(".yasr table tbody tr").first.locator("td").all_inner_texts()
    shown = dict(zip(heads, (c.strip() for c in cells), strict=True))
    assert (shown["number"], shown["text"], shown["iri"]) == (
        "1",
        "Tehran",
        "https://w3id.org/cdkg/id/city/tehran",
    )
    page.screenshot(path=shots / "yasgui-plain-values.png")
