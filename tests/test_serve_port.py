"""``cdkg serve`` on a port that is taken: one line naming the port and ``--port``, exit 2, before
the graph is loaded; tested with a real second server on a real busy port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cdkg.errors import CannotListen
from cdkg.web.server import check_listen
from endpoint_fixtures import LiveServer

CDKG = str(Path(sys.executable).parent / "cdkg")


def serve_again(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CDKG, "serve", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_second_server_on_a_busy_port(start_server: Callable[..., LiveServer]) -> None:
    first = start_server()
    started = time.monotonic()
    second = serve_again("--port", str(first.port))
    took = time.monotonic() - started
    assert second.returncode == 2, second.stderr
    assert second.stdout == ""
    (line,) = second.stderr.splitlines()  # one line: no traceback, no log lines
    assert line.startswith(f"cdkg: error: port {first.port} on 127.0.0.1 is in use")
    assert "--port" in line
    suggested = int(line.rsplit("--port ", 1)[1])
    assert suggested != first.port
    with socket.socket() as sock:  # the port it suggests was free when it looked
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", suggested))
    assert first.alive()  # the first server is untouched, and still answers
    assert took < 30, f"refused after {took:.1f} s: it should refuse before loading the graph"


def test_the_check_refuses_a_listening_socket_and_accepts_a_free_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CannotListen, match=f"port {port} on 127.0.0.1 is in use"):
            check_listen("127.0.0.1", port)
    check_listen("127.0.0.1", port)  # closed: free again
    check_listen("127.0.0.1", 0)  # any port: nothing to check


def test_an_address_that_is_not_ours_is_one_line_too() -> None:
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine
    result = serve_again("--host", "192.0.2.1", "--port", "8000")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("cdkg: error: cannot listen on 192.0.2.1:8000")
    assert "--host" in line
