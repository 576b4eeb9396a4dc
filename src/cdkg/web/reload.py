"""Reload on SIGHUP: build a new validated snapshot, then swap the whole app atomically.

The server keeps answering from the snapshot it validated, whatever happens to the files on disk.
On ``SIGHUP`` a background thread loads and validates the data files again and builds a new app on
them (:func:`cdkg.web.create_app`: engine, result cache, descriptions, downloads, every per-app
cache; the canned queries, shapes and checks stay as loaded at start-up). If that succeeds,
:class:`SwappableApp` points at the new app in one assignment: a request reads the app once, when
it starts, so requests in flight finish on the old snapshot and the next ones see the new one. If
it fails (a file does not load, or the data does not conform), the report is logged and the old
snapshot stays.

Signals that arrive while a reload runs are coalesced into one more reload after it.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from flask import Flask
from rdflib import Dataset

from cdkg.errors import CdkgError
from cdkg.kg.snapshot import NotConforming

log = logging.getLogger("cdkg.serve")

#: The WSGI callable's signature, as waitress calls it.
StartResponse = Callable[..., Any]


class SwappableApp:
    """A WSGI app that hands each request to the current Flask app."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        app = self.app  # read once: the whole request runs on this snapshot
        return app(environ, start_response)


class Reloader:
    """Rebuilds the app when asked (:meth:`request`, e.g. from a signal handler): ``load`` gives a
    validated dataset (:func:`cdkg.kg.snapshot.load_snapshot`), ``make_app`` the app serving it.

    The engine of the app replaced is stopped once the queries it may still be answering have
    run out their time limit."""

    def __init__(
        self,
        target: SwappableApp,
        load: Callable[[], Dataset],
        make_app: Callable[[Dataset], Flask],
    ) -> None:
        self.target = target
        self.load = load
        self.make_app = make_app
        self.reloads = 0  # successful ones
        self._wanted = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cdkg-reload", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for a reload; returns at once (safe in a signal handler)."""
        self._wanted.set()

    def install(self, signum: int = signal.SIGHUP) -> None:
        """Reload on ``signum`` (main thread only)."""

        def handler(_signum: int, _frame: FrameType | None) -> None:
            self.request()

        signal.signal(signum, handler)

    def reload(self) -> bool:
        """Load, validate, build a new app and swap to it; whether it succeeded. Never raises."""
        log.info("reload: loading and validating the data files again")
        try:
            dataset = self.load()
            app = self.make_app(dataset)
        except NotConforming as err:
            log.error("reload refused, still serving the previous data:\n%s", err.text())
            return False
        except CdkgError as err:
            log.error(
                "reload refused, still serving the previous data: %s%s",
                err.message,
                f" (hint: {err.hint})" if err.hint else "",
            )
            return False
        except Exception:
            log.exception("reload failed, still serving the previous data")
            return False
        replaced, self.target.app = self.target.app, app
        self.reloads += 1
        previous = replaced.extensions.get("cdkg")
        if previous is not None:  # its engine processes hold the old snapshot's pages
            grace = previous.settings.timeout + 1
            threading.Timer(grace, previous.engine.close).start()
        # The old app is garbage once its last request ends; the new engine froze it with the
        # rest (gc.freeze, before its fork), so thaw, collect what is already free.
        gc.unfreeze()
        gc.collect()
        state = app.extensions["cdkg"]
        log.info(
            "reload done: now serving data version %s (%d triples)",
            state.version,
            state.triples,
        )
        return True

    def _loop(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            self.reload()
