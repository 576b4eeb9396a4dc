"""Real headless Chromium (Debian's, driven by Playwright) against a real ``cdkg serve``.

- A page served from a second origin (another local HTTP server, another port) calls ``fetch()``:
  a GET, a POST with ``Content-Type: application/sparql-query`` (which needs a CORS preflight),
  and failing queries whose JSON error and status the page must be able to read.
- The YASGUI page loads with the network cut off (only the endpoint's own origin is reachable),
  and runs its first canned query, showing the rows.
"""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator

import pytest

from servers import serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>another origin</title></head>
<body><p id="ready">a page on another origin</p></body></html>"""


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    """A tiny HTTP server on another port: a different origin from the endpoint's."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    with serve_in_thread(Handler) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/page.html"


@pytest.fixture
def page(open_local_page, live_server):
    """A fresh page whose requests may reach only the two local origins; others are aborted
    and recorded."""
    return open_local_page()


FETCH = """async ([url, options]) => {
  const response = await fetch(url, options);
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    maxRows: response.headers.get("CDKG-Max-Rows"),
    body: text,
  };
}"""


def fetch(page, url: str, **options: object) -> dict:
    return page.evaluate(FETCH, [url, options])


def test_fetch_get_from_another_origin(page, other_origin, live_server):
    page.goto(other_origin)
    query = "SELECT ?s WHERE { GRAPH <https://example.org/graph/a> { ?s ?p ?o } } ORDER BY ?s"
    url = live_server.sparql + "?query=" + query.replace(" ", "%20").replace("#", "%23")
    answer = fetch(page, url, headers={"Accept": "application/sparql-results+json"})
    assert answer["status"] == 200
    assert answer["type"].startswith("application/sparql-results+json")
    assert answer["maxRows"], "the row-cap header is exposed to scripts"
    rows = page.evaluate(
        "(text) => JSON.parse(text).results.bindings.map(b => b.s.value)", answer["body"]
    )
    assert rows == ["https://example.org/extra/a1", "https://example.org/extra/a2"]


def test_fetch_post_with_a_preflight(page, other_origin, live_server):
    page.goto(other_origin)
    answer = fetch(
        page,
        live_server.sparql,
        method="POST",
        headers={
            "Content-Type": "application/sparql-query",
            "Accept": "application/sparql-results+json",
        },
        body="ASK { GRAPH <https://example.org/graph/b> { ?s ?p 'B' } }",
    )
    assert answer["status"] == 200
    assert json.loads(answer["body"])["boolean"] is True


ERRORS = [
    # (request, status, error type)
    ({"method": "GET", "query": "SELECT * WHERE {"}, 400, "QuerySyntaxError"),
    (
        {"method": "GET", "query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"},
        403,
        "Forbidden",
    ),
    (
        {"method": "POST", "body": "CLEAR ALL", "type": "application/sparql-update"},
        403,
        "Forbidden",
    ),
    (
        {"method": "PUT", "body": "ASK {}", "type": "application/sparql-query"},
        405,
        "MethodNotAllowed",
    ),
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda case: case[2] + "-" + case[0]["method"])
def test_errors_are_readable_from_another_origin(page, other_origin, live_server, case):
    options, status, kind = case
    page.goto(other_origin)
    url = live_server.sparql
    init: dict[str, object] = {"method": options["method"]}
    if "query" in options:
        url += "?query=" + page.evaluate("(q) => encodeURIComponent(q)", options["query"])
    if "body" in options:
        init["body"] = options["body"]
        init["headers"] = {"Content-Type": options["type"]}
    answer = fetch(page, url, **init)
    assert answer["status"] == status
    assert answer["type"] == "application/json"
    error = page.evaluate("(text) => JSON.parse(text).error", answer["body"])
    assert (error["status"], error["type"]) == (status, kind)
    assert error["message"]


def test_yasgui_runs_a_canned_query_offline(page, live_server):
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(live_server.url + "/")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=30_000)
    # the first tab holds the first canned query, ready to run against this endpoint
    editor_text = page.evaluate("() => window.cdkgYasgui.getTab().getQuery()")
    assert "SELECT" in editor_text.upper()
    assert page.evaluate("() => window.cdkgYasgui.getTab().getEndpoint()") == live_server.sparql
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table tbody tr", timeout=30_000)
    rows = page.locator(".yasr table tbody tr").count()
    assert rows > 0
    assert page.outside == [], "the page reached for the network"  # type: ignore[attr-defined]
    assert [url for url in failed if "127.0.0.1" in url] == []
