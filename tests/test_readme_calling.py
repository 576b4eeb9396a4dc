"""The README's "A first query" snippets, run as written against a real server: each curl call, the
SPARQLWrapper snippet, and the ``fetch()`` for a browser console (in Debian's Chromium, from a
page on another origin). Only the endpoint's address is replaced by the test server's."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import re
import shlex
import shutil
import subprocess

import pytest

from endpoint_fixtures import REPO, LiveServer
from servers import serve_in_thread

pytestmark = pytest.mark.slow

README_URL = "http://127.0.0.1:8000/sparql"


def calling_blocks(language: str) -> list[str]:
    """The ``language`` code blocks of the README's "## A first query" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## A first query\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def curl_commands(server: LiveServer) -> list[list[str]]:
    [block] = calling_blocks("bash")
    joined = block.replace("\\\n", " ").replace(README_URL, server.sparql)
    return [shlex.split(line) for line in joined.splitlines() if line.startswith("curl ")]


def test_the_readme_has_a_curl_call_a_sparqlwrapper_snippet_and_a_fetch():
    assert len(calling_blocks("bash")) == 1
    assert "SPARQLWrapper" in calling_blocks("python")[0]
    assert "fetch(" in calling_blocks("js")[0]


def test_the_readme_curl_calls_answer(live_server: LiveServer):
    if not shutil.which("curl"):
        pytest.fail("curl is missing: apt-get install curl")
    commands = curl_commands(live_server)
    assert len(commands) == 2
    table = subprocess.run(
        [*commands[0], "--fail-with-body", "--silent", "--show-error"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    ).stdout
    rows = list(csv.DictReader(io.StringIO(table)))
    assert rows
    assert set(rows[0]) == {"class", "n"}
    answer = subprocess.run(
        [*commands[1], "--fail-with-body", "--silent", "--show-error"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,  # the call sends @queries/memberships.rq
        timeout=60,
    ).stdout
    assert json.loads(answer)["results"]["bindings"]


def test_the_readme_sparqlwrapper_snippet_prints_five_labels(live_server, capsys):
    [snippet] = calling_blocks("python")
    exec(snippet.replace(README_URL, live_server.sparql), {})  # noqa: S102 - our README
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    assert all(line.split(" ", 1)[0].startswith(("http://", "https://")) for line in lines)


@pytest.mark.browser
def test_the_readme_fetch_runs_in_a_browser_console_on_another_origin(
    live_server, tmp_path, open_local_page
):
    [snippet] = calling_blocks("js")
    (tmp_path / "console.html").write_text("<!doctype html><title>another origin</title>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with serve_in_thread(handler) as origin:  # another port: another origin
        page = open_local_page()
        page.goto(f"http://127.0.0.1:{origin.server_address[1]}/console.html")
        logged: list = []
        # Playwright needs a Python function here, not a bound builtin method
        page.on("console", lambda message: logged.append(message))  # noqa: PLW0108
        page.evaluate(f"async () => {{ {snippet.replace(README_URL, live_server.sparql)} }}")
        page.wait_for_timeout(200)
        # the snippet's console.log; the page may also log a failed favicon request
        [printed] = [message for message in logged if message.type == "log"]
        status, bindings = (arg.json_value() for arg in printed.args)
    assert status == 200
    assert len(bindings) == 5
    assert {"s", "label"} <= set(bindings[0])
