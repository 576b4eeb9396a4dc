"""``cdkg serve``: load, validate, and serve the graph on waitress, a production WSGI server.

Why waitress: it is pure Python (no compiler, any platform), it serves from threads in one process,
and that one process is what the engine processes fork from (:mod:`cdkg.engine.processes`): the
loaded graph is shared copy-on-write, with nothing to load per process. gunicorn would fork its own
workers, each needing the graph, for no gain: queries are CPU-bound in the engine processes, not in
the server's threads. granian (Rust) answers a constant page 2.4x as fast, but it answers a
malformed request line with an empty plain-text 400 of its own, where cdkg promises its JSON error
(docs/architecture.md, "The HTTP server").

Start-up order (refuse early, serve only what conforms): check that the address can be listened
on (a busy port is one line naming it and ``--port``, exit 2: :class:`cdkg.errors.CannotListen`),
load the files (a file that is not well-formed names the file and line; exit 2), validate the cdkg
graph and the extra graphs that use cdkg terms with the SHACL shapes and ``*-violation.rq`` checks
(:mod:`cdkg.kg.snapshot`; a report on stderr and exit 1 if they do not conform), build the app (the
engine warms up), then listen.
``SIGHUP`` does it all again in the background and swaps to the new app only if the data loads and
conforms (:mod:`cdkg.web.reload`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from rdflib import Dataset
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.task import ErrorTask, Task, WSGITask
from waitress.utilities import RequestEntityTooLarge

from cdkg.errors import CannotListen
from cdkg.kg.graph import kg_files
from cdkg.kg.snapshot import NotConforming, load_snapshot
from cdkg.kg.validate import load_checks, load_shapes
from cdkg.settings import Settings
from cdkg.web import create_app
from cdkg.web.body import TOO_LARGE
from cdkg.web.reload import Reloader, SwappableApp

log = logging.getLogger("cdkg.serve")

#: Server threads beyond the query slots: they answer cached queries, pages, descriptions and
#: downloads while every worker is busy, and wait for a worker on behalf of queued queries. Idle
#: threads cost little; too few, and a burst of slow queries holds them all, so that even answers
#: in the cache queue behind it (the soak showed it with 4, and with 16 under 50 clients).
EXTRA_THREADS = 48


def serve(
    settings: Settings, files: Sequence[Path] | None = None, shapes: Path | None = None
) -> int:
    """Serve until interrupted; returns the exit code (1 if the graph does not conform); raises
    :class:`CannotListen` if the port is taken.

    ``files`` replace the shipped ontology and data; ``shapes`` is a directory of shapes
    (``*.ttl``) and checks (``checks/*-violation.rq``) replacing the shipped ``shapes/``.
    """
    # a busy port is refused before the graph is loaded and validated, not after
    check_listen(settings.host, settings.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    files = list(kg_files() if files is None else files)
    rules, checks = load_shapes(shapes), load_checks(shapes / "checks" if shapes else None)

    def load() -> Dataset:
        return load_snapshot(settings.graphs, files, rules, checks)

    try:
        app = create_app(settings, load(), files=files)
    except NotConforming as err:
        sys.stderr.write(err.text())
        sys.stderr.write("cdkg serve: the data does not conform; refusing to start\n")
        return 1
    state = app.extensions["cdkg"]
    log.info(
        "serving %d triples (%d named graphs) at http://%s:%d/sparql; timeout %g s, "
        "row cap %d, %d queries at once; SIGHUP reloads the data",
        state.triples,
        len(state.engine.graphs),
        settings.host,
        settings.port,
        settings.timeout,
        settings.max_rows,
        state.engine.slots,
    )
    wsgi = SwappableApp(app)

    def make_app(dataset: Dataset) -> Flask:  # the canned queries stay as they are
        return create_app(settings, dataset, files=files, queries=state.queries)

    Reloader(wsgi, load, make_app).install()
    try:
        server = create_server(
            wsgi,
            host=settings.host,
            port=settings.port,
            threads=state.engine.slots + EXTRA_THREADS,
            # waitress buffers a whole body before the app sees it. Up to this size it reads the
            # body and the app answers 413 on a connection that stays open; beyond it, waitress
            # reads no body and _Channel has the app answer 413 all the same, then closes the
            # connection.
            max_request_body_size=max(settings.max_body * 4, 1 << 20),
            ident="cdkg",
        )
    except OSError as err:  # taken since check_listen looked
        raise cannot_listen(err, settings.host, settings.port) from None
    listeners = (server.map or {}).values() if isinstance(server, MultiSocketServer) else [server]
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = _Channel
    server.print_listen("Serving on http://{}:{}")
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


def check_listen(host: str, port: int) -> None:
    """Raise :class:`CannotListen` if ``cdkg serve`` could not listen on ``host``:``port`` now."""
    if port != 0 and (err := _bind_error(host, port)) is not None:
        raise cannot_listen(err, host, port)


def _bind_error(host: str, port: int) -> OSError | None:
    """Why a listening socket on ``host``:``port`` cannot be bound, or None if it can. Bound as
    waitress binds (every address ``host`` names, SO_REUSEADDR set), so that what this refuses
    waitress would refuse, and a port left in TIME_WAIT by a server just stopped is not."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as err:
        return err
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as err:
                return err
    return None


def cannot_listen(err: OSError, host: str, port: int) -> CannotListen:
    """The one line that says why ``cdkg serve`` cannot listen, and how to choose otherwise: a
    traceback would bury it (the CLI prints a :class:`CdkgError` as one line and exits 2)."""
    if err.errno == errno.EADDRINUSE:
        free = next(
            (p for p in range(port + 1, min(port + 100, 65535) + 1) if not _bind_error(host, p)),
            None,
        )
        example = f", e.g. cdkg serve --port {free}" if free else ""
        return CannotListen(
            f"port {port} on {host} is in use (another cdkg serve?): "
            f"pick another with --port (or CDKG_PORT){example}"
        )
    if err.errno == errno.EACCES:
        return CannotListen(
            f"no permission to listen on port {port} of {host} (ports below 1024 need privileges): "
            "pick another with --port (or CDKG_PORT), e.g. cdkg serve --port 8000"
        )
    return CannotListen(
        f"cannot listen on {host}:{port} ({err.strerror or err}): "
        "pick another address with --host or another port with --port"
    )


class _TooLargeTask(WSGITask):
    """A request whose body waitress would not read, answered by the app (our JSON 413, with
    CORS) rather than by waitress's plain-text 413. The unread body is still on the wire, so the
    connection closes after the answer."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ[TOO_LARGE] = True
        return environ

    def execute(self) -> None:
        self.set_close_on_finish()
        super().execute()


class _JsonErrorTask(ErrorTask):
    """A request waitress could not parse (a bad request line, headers too large, an unsupported
    transfer coding): answered in our one JSON error shape, with CORS, not waitress's plain text;
    the connection closes, as waitress would close it."""

    def execute(self) -> None:
        error: Any = getattr(self.request, "error")  # noqa: B009 - waitress's request parser, untyped
        message = f"{error.reason}: {error.body}" if error.body else error.reason
        body = json.dumps(
            {
                "error": {
                    "status": error.code,
                    "type": "MalformedRequest",
                    "message": f"the HTTP request could not be read ({message})",
                    "hint": "send a well-formed HTTP/1.1 request: percent-encode the URL "
                    "(no spaces, ASCII only) and keep headers short",
                    "spec": "https://www.rfc-editor.org/rfc/rfc9112",
                }
            }
        ).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers = [
            *self.response_headers,
            ("Content-Type", "application/json"),
            ("Access-Control-Allow-Origin", "*"),
            ("Cache-Control", "no-store"),
        ]
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


def _error_task(channel: HTTPChannel, request: Any) -> Task:
    if isinstance(request.error, RequestEntityTooLarge):
        return _TooLargeTask(channel, request)
    return _JsonErrorTask(channel, request)


class _Channel(HTTPChannel):
    error_task_class = staticmethod(_error_task)  # type: ignore[assignment]
