"""The Cite control of a canned query's page in real headless Chromium (Debian's, via Playwright)
against a real ``cdkg serve --public-url``, offline: a button per format shows that citation,
Copy puts it on the clipboard, Download saves the file; what arrives is read back by the same
parsers as in tests/test_citations.py (bibtexparser, rispy, json), and names the public URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
import rispy
from playwright.sync_api import expect

from endpoint_fixtures import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PUBLIC = "https://cdkg.example.org"
QUERY = "ties"
#: The format names the control's buttons and panels are keyed by, and what each button says.
BUTTONS = {
    "bibliography": "Formatted text (APA)",
    "bibtex": "BibTeX",
    "csl-json": "CSL-JSON",
    "ris": "RIS",
}


@pytest.fixture(scope="module")
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server("--timeout", "30", "--workers", "1", "--public-url", PUBLIC)


@pytest.fixture
def page(local_page: Any, server: LiveServer) -> Any:
    """The query's page, with the clipboard open to it (as a person allows it when asked)."""
    local_page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    response = local_page.goto(f"{server.url}/queries/{QUERY}?city=city/mashhad")
    assert response.status == 200
    return local_page


def visible_panels(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        ".cite-format", "panels => panels.filter(p => !p.hidden).map(p => p.id)"
    )
    return ids


def test_the_control_shows_one_citation_at_a_time(page: Any) -> None:
    control = page.locator("#cite-control")
    assert control.is_visible()
    assert control.locator("button.cite-choice").all_inner_texts() == list(BUTTONS.values())
    assert visible_panels(page) == []  # the script folds them until one is asked for
    for name, label in BUTTONS.items():
        page.get_by_role("button", name=label).click()
        assert visible_panels(page) == [f"cite-{name}"]
        pressed = control.locator(f"button[aria-controls=cite-{name}]")
        assert pressed.get_attribute("aria-expanded") == "true"
    assert PUBLIC in page.locator("#citation-text").inner_text()
    assert "127.0.0.1" not in page.locator("#citation").inner_text()


def test_copy_puts_the_bibtex_on_the_clipboard(page: Any) -> None:
    page.get_by_role("button", name="BibTeX").click()
    panel = page.locator("#cite-bibtex")
    panel.get_by_role("button", name="Copy").click()
    # The status is written when the clipboard's promise settles, after the click returns.
    expect(panel.locator(".cite-status")).to_have_text("Copied.")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    library = bibtexparser.parse_string(copied)
    assert not library.failed_blocks
    own, paper = library.entries
    assert own.fields_dict["url"].value == f"{PUBLIC}/queries/{QUERY}?city=city%2Fmashhad"
    assert "city=city/mashhad" in own.fields_dict["howpublished"].value
    assert paper.entry_type == "article"


def test_download_saves_the_ris_file(page: Any, tmp_path: Path) -> None:
    page.get_by_role("button", name="RIS").click()
    link = page.locator("#cite-ris a.cite-download")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".ris"
    assert saved.name == link.get_attribute("download")
    own, paper = rispy.loads(saved.read_text(encoding="utf-8"))
    assert own["type_of_reference"] == "DATA"
    assert own["urls"] == [f"{PUBLIC}/queries/{QUERY}?city=city%2Fmashhad"]
    assert paper["type_of_reference"] == "JOUR"


def test_copy_of_csl_json_is_the_json_the_server_gives(page: Any, server: LiveServer) -> None:
    page.get_by_role("button", name="CSL-JSON").click()
    page.locator("#cite-csl-json").get_by_role("button", name="Copy").click()
    copied = json.loads(page.evaluate("() => navigator.clipboard.readText()"))
    served = page.evaluate(
        """url => fetch(url).then(r => r.json())""",
        f"{server.url}/queries/{QUERY}?city=city/mashhad&format=csl-json",
    )
    assert copied == served
    assert [item["type"] for item in copied] == ["dataset", "article-journal"]
