"""The one declared table of settings.

Each field of :class:`Settings` is declared once, with its default, its ``CDKG_*`` environment
variable, its CLI flag and its help. Everything else is derived from that declaration: the argparse
options (:func:`add_arguments`), the precedence defaults < environment < CLI
(:func:`from_sources`), and the Markdown table in docs/command-line.md (:func:`render_markdown`,
checked by a test so the docs cannot drift).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cdkg.errors import BadParameter
from cdkg.flags import Flag, add_flags, show
from cdkg.names import ABSOLUTE_IRI, local_host

T = TypeVar("T")
GraphSpec = tuple[str, Path]

_LIST_SEPARATOR = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Spec:
    """How one setting is read and documented."""

    env: str
    flag: str
    help: str
    kind: str  # the type as the docs name it
    parse: Callable[[str], Any]  # one CLI value or one list item -> value; raises ValueError
    repeatable: bool = False  # a list: the flag may repeat, the variable is comma/space separated
    metavar: str | None = None


def _setting(default: T, spec: Spec) -> T:
    # A setting that is off by default is a switch: its flag takes no value (cdkg.flags).
    parse = None if default is False else spec.parse
    flag = Flag(spec.help, parse, spec.repeatable, spec.metavar, spec.flag)
    return field(default=default, metadata={"spec": spec, "flag": flag})


def _int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValueError(f"{value} is out of range: must be {bound}")
        return value

    return parse


def _switch(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is neither true nor false (1/0, yes/no, on/off)")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value > 0:
        raise ValueError(f"{value} must be greater than 0")
    return value


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


def _path(text: str) -> Path:
    return Path(_non_empty(text))


def parse_graph(text: str) -> GraphSpec:
    """``IRI=PATH``: the file PATH is loaded as the named graph IRI."""
    iri, sep, path = text.rpartition("=")
    if not sep or not iri or not path:
        raise ValueError(f"{text!r} is not IRI=PATH")
    if not ABSOLUTE_IRI.fullmatch(iri):
        raise ValueError(f"{iri!r} is not an absolute IRI")
    return (iri, Path(path))


#: The embedded stores ``--store`` names; anything else must be an external endpoint's URL.
EMBEDDED_STORES = ("oxigraph",)


def _store(text: str) -> str:
    value = _non_empty(text)
    if value.lower() in EMBEDDED_STORES:
        return value.lower()
    if re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        return value
    raise ValueError(
        f"{value!r} is neither oxigraph nor an http(s) URL (rdflib's engine no longer answers "
        "queries: Oxigraph does, from query text to bytes)"
    )


def _public_url(text: str) -> str:
    """An http(s) base URL readers can reach, without a trailing slash, query or fragment."""
    value = _non_empty(text).rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ValueError(f"{value!r} has no valid port") from None
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} has a query or fragment: give the base URL alone")
    if local_host(parts.hostname):
        raise ValueError(
            f"{parts.hostname} is a local address: citations must name a URL readers can reach"
        )
    return value


@dataclass(frozen=True)
class Settings:
    """The settings of a cdkg process, immutable once built."""

    host: str = _setting(
        "127.0.0.1",
        Spec("CDKG_HOST", "--host", "Address the endpoint listens on.", "string", _non_empty),
    )
    port: int = _setting(
        8000, Spec("CDKG_PORT", "--port", "TCP port of the endpoint.", "integer", _int_in(0, 65535))
    )
    timeout: float = _setting(
        10.0,
        Spec(
            "CDKG_TIMEOUT",
            "--timeout",
            "Time limit of one query, in seconds.",
            "float (seconds)",
            _positive_float,
        ),
    )
    max_rows: int = _setting(
        10_000,
        Spec(
            "CDKG_MAX_ROWS",
            "--max-rows",
            "Most result rows one query returns.",
            "integer",
            _int_in(1),
        ),
    )
    max_body: int = _setting(
        1_000_000,
        Spec(
            "CDKG_MAX_BODY",
            "--max-body",
            "Largest request body accepted.",
            "integer (bytes)",
            _int_in(1),
        ),
    )
    cors_origins: tuple[str, ...] = _setting(
        ("*",),
        Spec(
            "CDKG_CORS_ORIGINS",
            "--cors-origin",
            "Origins allowed to read responses (CORS); `*` allows any.",
            "list of origins",
            _non_empty,
            repeatable=True,
            metavar="ORIGIN",
        ),
    )
    allow_service: tuple[str, ...] = _setting(
        (),
        Spec(
            "CDKG_ALLOW_SERVICE",
            "--allow-service",
            "Remote SPARQL endpoints a query may call with SERVICE; none by default.",
            "list of URLs",
            _non_empty,
            repeatable=True,
            metavar="URL",
        ),
    )
    service_timeout: float = _setting(
        5.0,
        Spec(
            "CDKG_SERVICE_TIMEOUT",
            "--service-timeout",
            "Time limit of one SERVICE call to an allow-listed endpoint, in seconds; never more "
            "than what remains of the query's own time limit.",
            "float (seconds)",
            _positive_float,
        ),
    )
    wikidata_snapshot: Path | None = _setting(  # noqa: RUF009 - as the others
        None,
        Spec(
            "CDKG_WIKIDATA_SNAPSHOT",
            "--wikidata-snapshot",
            "Wikidata P190 snapshot CSV that /wikidata-diff compares the paper with.",
            "path",
            _path,
            metavar="FILE",
        ),
    )
    graphs: tuple[GraphSpec, ...] = _setting(
        (),
        Spec(
            "CDKG_GRAPHS",
            "--graph",
            "Extra RDF file loaded as its own named graph, as IRI=PATH.",
            "list of IRI=PATH",
            parse_graph,
            repeatable=True,
            metavar="IRI=PATH",
        ),
    )
    store: str = _setting(
        "oxigraph",
        Spec(
            "CDKG_STORE",
            "--store",
            "Where queries run: `oxigraph` (embedded), or the http(s) URL of an external "
            "SPARQL 1.1 query endpoint.",
            "oxigraph or URL",
            _store,
            metavar="STORE",
        ),
    )
    serve_store_version: bool = _setting(
        False,
        Spec(
            "CDKG_SERVE_STORE_VERSION",
            "--serve-store-version",
            "With an external store: serve the dataset version the store holds even if the "
            "files' version differs (otherwise the server refuses to start); the log says so.",
            "switch",
            _switch,
        ),
    )
    cache_entries: int = _setting(
        256,
        Spec(
            "CDKG_CACHE_ENTRIES",
            "--cache-entries",
            "Answers kept in the in-memory result cache; 0 turns the cache off.",
            "integer",
            _int_in(0),
        ),
    )
    public_url: str | None = _setting(
        None,
        Spec(
            "CDKG_PUBLIC_URL",
            "--public-url",
            "Public base URL of this server (where its `/` is, e.g. https://cdkg.example.org): "
            "the URL citations, the query listing, the service description, VoID, OpenAPI and "
            "the views show. None: the request's own URL (a citation never shows a local one).",
            "URL",
            _public_url,
            metavar="URL",
        ),
    )
    long_after: float = _setting(
        0.25,
        Spec(
            "CDKG_LONG_AFTER",
            "--long-after",
            "Seconds after which a running query counts as long: its engine process drops to "
            "the lowest CPU priority and the query leaves its query slot for a long-query slot "
            "(none free: 503). The default is five times the paper's slowest canned query; "
            "raise it with the data (e.g. --data at 200,000 triples or more), never past "
            "--timeout. Queries an external store evaluates never turn long.",
            "float (seconds)",
            _positive_float,
        ),
    )
    workers: int = _setting(
        2,
        Spec(
            "CDKG_WORKERS",
            "--workers",
            "Query capacity: twice this many queries are evaluated at once, each in an engine "
            "process of its own (set it to the number of cores).",
            "integer",
            _int_in(1),
        ),
    )


def specs() -> list[tuple[dataclasses.Field[Any], Spec]]:
    """The declared table: each field of :class:`Settings` with its :class:`Spec`, in order."""
    return [(f, f.metadata["spec"]) for f in dataclasses.fields(Settings)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per setting. Unset options stay ``None``, so the environment can apply."""
    group = parser.add_argument_group("settings (flag > CDKG_* variable > default)")
    add_flags(group, Settings, unset=True, note=lambda f: f"{f.metadata['spec'].env}; ")


def from_sources(args: argparse.Namespace | None, environ: Mapping[str, str]) -> Settings:
    """Build :class:`Settings` from defaults, then ``environ`` (``CDKG_*``), then ``args``.

    ``args`` is a namespace from a parser set up by :func:`add_arguments` (or ``None``); a list
    given on the command line replaces the environment's list rather than extending it.
    Raises :class:`BadParameter` naming the variable when an environment value is invalid.
    """
    values: dict[str, Any] = {}
    for f, spec in specs():
        cli = getattr(args, f.name, None) if args is not None else None
        if cli is not None:
            values[f.name] = tuple(cli) if spec.repeatable else cli
        elif spec.env in environ:
            values[f.name] = _parse_env(spec, environ[spec.env])
    return Settings(**values)


def _parse_env(spec: Spec, text: str) -> Any:
    try:
        if spec.repeatable:
            return tuple(spec.parse(item) for item in _LIST_SEPARATOR.split(text) if item)
        return spec.parse(text)
    except ValueError as err:
        raise BadParameter(
            f"{spec.env}={text!r}: {err}", hint=f"{spec.env} takes a {spec.kind}: {spec.help}"
        ) from None


def render_markdown() -> str:
    """The settings table as Markdown, as it stands in docs/command-line.md."""
    lines = [
        "| Setting | Environment variable | CLI flag | Type | Default | Description |",
        "|---|---|---|---|---|---|",
    ]
    for f, spec in specs():
        flag = f"`{spec.flag} {spec.metavar or f.name.upper()}`"
        if f.default is False:
            flag = f"`{spec.flag}`"
        if spec.repeatable:
            flag += " (repeatable)"
        lines.append(
            f"| `{f.name}` | `{spec.env}` | {flag} | {spec.kind} "
            f"| `{show(f.default)}` | {spec.help} |"
        )
    return "\n".join(lines) + "\n"
