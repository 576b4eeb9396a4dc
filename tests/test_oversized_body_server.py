"""Regression: a body beyond what waitress buffers got waitress's plain-text 413, without CORS
or our JSON error. Now every oversized body gets our JSON 413 with CORS, from a real server,
and the server keeps serving."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable

import pytest

from endpoint_fixtures import LiveServer

pytestmark = pytest.mark.slow

#: waitress reads bodies up to max(4 x cap, 1 MiB); ten times this cap is beyond that.
CAP = 200_000


@pytest.fixture(scope="module")
def capped_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server("--max-body", str(CAP), "--timeout", "5")


def raw_post(
    server: LiveServer,
    body: bytes,
    *,
    declared: int | None = None,
    chunked: bool = False,
    path: str = "/sparql",
) -> tuple[int, dict[str, str], bytes]:
    """POST ``body`` on a raw socket, claiming ``Content-Length: declared`` (default: its
    length) or sent in 64 KiB chunks, while reading the answer: the server may answer, and
    close, before it has read the body, and a client that only reads once it has sent
    everything would see a reset."""
    framing = f"Content-Length: {len(body) if declared is None else declared}"
    if chunked:
        framing = "Transfer-Encoding: chunked"
        pieces = [body[i : i + 65536] for i in range(0, len(body), 65536)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/sparql-query\r\nOrigin: https://scholar.example\r\n"
        f"{framing}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:

        def send() -> None:
            with contextlib.suppress(OSError):  # the server may close first, having answered
                sock.sendall(head + body)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        raw = b""
        with contextlib.suppress(ConnectionResetError):  # follows the answer if body unread
            while not _complete(raw) and (chunk := sock.recv(65536)):
                raw += chunk
        sender.join(timeout=30)
    header, _, content = raw.partition(b"\r\n\r\n")
    status_line, *lines = header.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
    return int(status_line.split()[1]), headers, content


def _complete(raw: bytes) -> bool:
    """Whether ``raw`` holds a whole response with a Content-Length (ours all have one)."""
    header, sep, content = raw.partition(b"\r\n\r\n")
    for line in header.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if sep and name.strip().lower() == "content-length":
            return len(content) >= int(value)
    return False


def assert_json_413(status: int, headers: dict[str, str], content: bytes) -> None:
    assert status == 413, content[:300]
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-type"].startswith("application/json")
    error = json.loads(content)["error"]
    assert error["type"] == "PayloadTooLarge"
    assert f"{CAP:,}" in error["message"]


def assert_still_serving(server: LiveServer) -> None:
    status, _, content = raw_post(server, b"ASK {}")
    assert status == 200, content[:300]
    assert json.loads(content)["boolean"] is True
    assert server.alive(), server.tail()


def test_a_body_ten_times_the_cap_gets_the_json_413_with_cors(capped_server):
    body = b"ASK {} #" + b"x" * (10 * CAP)
    assert_json_413(*raw_post(capped_server, body))
    assert_still_serving(capped_server)


def test_a_declared_length_ten_times_the_cap_gets_the_json_413_unread(capped_server):
    assert_json_413(*raw_post(capped_server, b"ASK {}", declared=10 * CAP))
    assert_still_serving(capped_server)


@pytest.mark.parametrize("size", [CAP + 1, 3 * CAP])
def test_a_body_waitress_reads_gets_the_same_413(capped_server, size):
    assert_json_413(*raw_post(capped_server, b"x" * size))
    assert_still_serving(capped_server)


def test_an_oversized_body_on_another_path_gets_the_413(capped_server):
    status, headers, content = raw_post(capped_server, b"x" * (10 * CAP), path="/void")
    assert_json_413(status, headers, content)
    assert_still_serving(capped_server)


@pytest.mark.parametrize("size", [3 * CAP, 10 * CAP])
def test_a_chunked_body_over_the_cap_gets_the_json_413(capped_server, size):
    """Chunked: no Content-Length to refuse on; waitress counts while it reads (up to its own
    limit: 3 x the cap is read whole, 10 x the cap is cut off), and both end in our 413."""
    assert_json_413(*raw_post(capped_server, b"ASK {} #" + b"x" * size, chunked=True))
    assert_still_serving(capped_server)


def test_a_chunked_body_under_the_cap_is_answered(capped_server):
    status, _, content = raw_post(capped_server, b"ASK {}", chunked=True)
    assert status == 200, content[:300]
    assert json.loads(content)["boolean"] is True
