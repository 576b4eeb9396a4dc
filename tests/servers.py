"""The one way the tests start a server and wait until it answers.

- :func:`start_and_wait`: a child process (``cdkg serve``, the Oxigraph server), ready once a GET
  of its URL answers 200; :func:`stop` ends it.
- :func:`serve_in_thread`: a small HTTP server inside the test process (a stand-in for another
  service, a page on another origin), ready as soon as it is bound.

Virtuoso is the exception: ``scripts/virtuoso`` starts it, so the tests run the recipe the docs
give (``virtuoso_fixtures``). Ports come from :func:`cdkg_bench.ports.free_port`.
"""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: How often a starting server is asked whether it answers yet, in seconds: a refused connection
#: costs next to nothing, and every start waits for the next probe after it is ready.
PROBE_EVERY = 0.05


class DidNotStart(RuntimeError):
    """The server exited, or did not answer in time; the message ends with its log's tail."""


def answers(url: str) -> bool:
    """Whether a GET of ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def tail(log: Path, lines: int = 60) -> str:
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def start_and_wait(
    command: Sequence[str | Path],
    url: str,
    *,
    log: Path,
    ready_within: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` (its output, both streams, to ``log``) and return it once a GET of
    ``url`` answers 200. Raises :class:`DidNotStart` if it exits first, or does not answer within
    ``ready_within`` seconds (it is stopped then)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(part) for part in command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
    name = Path(command[0]).name
    deadline = time.monotonic() + ready_within
    while not answers(url):
        if process.poll() is not None:
            raise DidNotStart(f"{name} exited with {process.returncode}:\n{tail(log)}")
        if time.monotonic() > deadline:
            stop(process)
            raise DidNotStart(f"{name} did not answer within {ready_within:g} s:\n{tail(log)}")
        time.sleep(PROBE_EVERY)
    return process


def stop(process: subprocess.Popen[bytes], within: float = 10) -> None:
    """Terminate ``process`` and wait for it; kill it if it is still there after ``within`` s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


#: How often a server in a thread checks whether it is told to stop, in seconds: ``shutdown()``
#: waits for that check (the standard library checks every 0.5 s).
SHUTDOWN_POLL = 0.05


@contextlib.contextmanager
def serve_in_thread(
    handler: Callable[..., Any],
    *,
    daemon_threads: bool = True,
) -> Iterator[http.server.ThreadingHTTPServer]:
    """A threading HTTP server on a free loopback port, serving ``handler`` until the block ends.
    With ``daemon_threads=False``, closing it waits for each request still being answered."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = daemon_threads
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
