"""``cdkg.sparql.federation.call``, the only HTTP client rdflib's SERVICE may use, without a cdkg
server:
its limits, checked against tiny local HTTP servers."""

from __future__ import annotations

import contextlib
import http.server
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from cdkg.errors import BadGateway, Forbidden, GatewayTimeout
from cdkg.sparql import federation
from servers import serve_in_thread

Reply = tuple[int, bytes, float]  # status, body, seconds to wait before answering


@pytest.fixture
def remote() -> Iterator[Callable[[Reply], str]]:
    """Start a server that gives one fixed reply; returns its URL."""
    servers = contextlib.ExitStack()

    def start(reply: Reply) -> str:
        status, body, delay = reply

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        server = servers.enter_context(serve_in_thread(Handler))
        return f"http://127.0.0.1:{server.server_address[1]}/sparql"

    with servers:
        yield start


EMPTY = b'{"head": {"vars": []}, "results": {"bindings": []}}'


def request(url: str) -> urllib.request.Request:
    return urllib.request.Request(url + "?query=ASK%7B%7D")  # noqa: S310 - never opened here


def test_an_allow_listed_answer_comes_back(remote: Callable[[Reply], str]) -> None:
    url = remote((200, EMPTY, 0))
    answer = federation.call(request(url), (url,), time.monotonic() + 10, 5)
    assert answer.status == 200
    assert answer.read() == EMPTY


def test_off_the_list_is_refused_before_connecting() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
        with pytest.raises(Forbidden):
            federation.call(request(url), ("http://other.example/sparql",), time.monotonic() + 5, 5)
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_no_time_left_means_no_call() -> None:
    url = "http://127.0.0.1:9/sparql"
    with pytest.raises(GatewayTimeout, match="no time was left"):
        federation.call(request(url), (url,), time.monotonic() + federation.MARGIN / 2, 5)


def test_the_call_gets_the_smaller_of_its_limit_and_the_querys(
    remote: Callable[[Reply], str],
) -> None:
    url = remote((200, EMPTY, 5))
    started = time.monotonic()
    with pytest.raises(GatewayTimeout):
        federation.call(request(url), (url,), started + 30, service_timeout=1)
    assert time.monotonic() - started < 2.5
    started = time.monotonic()
    with pytest.raises(GatewayTimeout):
        federation.call(request(url), (url,), started + 1 + federation.MARGIN, service_timeout=30)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        ((500, b"boom", 0), "HTTP 500"),
        ((302, b"", 0), "HTTP 302"),  # redirects are not followed
        ((200, b"<html>not json</html>", 0), "SPARQL JSON"),
        ((200, b'{"head": {}}', 0), "SPARQL JSON"),
    ],
)
def test_a_bad_answer_is_a_bad_gateway(
    remote: Callable[[Reply], str], reply: Reply, said: str
) -> None:
    url = remote(reply)
    with pytest.raises(BadGateway, match=said):
        federation.call(request(url), (url,), time.monotonic() + 10, 5)


def test_a_refused_connection_is_a_bad_gateway() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"  # bound, not listening
        with pytest.raises(BadGateway, match="failed"):
            federation.call(request(url), (url,), time.monotonic() + 10, 5)
