"""The ``cdkg`` command line: one sub-command per job, each a :class:`Command` in :data:`COMMANDS`.

Results go to stdout, diagnostics to stderr. Exit codes are in :data:`EPILOG`.
To add a sub-command (e.g. ``serve``), write a :class:`Command` in the module that owns the job and
add it to :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdkg import __version__, settings
from cdkg.canned.citation import Citation, paper_reference
from cdkg.canned.registry import CannedQuery, Registry
from cdkg.errors import BadParameter, CdkgError, MissingExtra
from cdkg.kg.graph import (
    add_source_arguments,
    dataset_version,
    load_dataset,
    load_graph,
    source_files,
)
from cdkg.kg.validate import load_checks, load_shapes, validate
from cdkg.resources import kg_dir
from cdkg.sparql.prefixes import PREFIXES
from cdkg.sparql.table import FORMATS, add_width_argument, table, terminal_width

EPILOG = """exit codes:
  0  success (validate: the data conforms)
  1  validate: the data does not conform; load: the data does not conform (nothing is
     sent), or the store's triple counts differ from ours; release: the data does not
     conform (nothing is written)
  2  bad usage, an unknown query or parameter, a file that cannot be loaded
     (the message names the file and line), or a port serve cannot listen on
"""


#: The measuring tools' package: installed by the bench and test extras, not with cdkg itself.
TOOLS = "cdkg_bench"


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported when first called: ``cdkg serve`` then starts without importing
    every other command's module (benchmarks, the soak, the generator...)."""

    def call(*args: Any) -> Any:
        try:
            loaded = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if not module.startswith(TOOLS):  # cdkg's own module missing: a broken install
                raise
            raise MissingExtra(
                f"this command is one of cdkg's measuring tools ({TOOLS}, in the checkout's "
                f"tools/), and this install lacks the module {err.name}",
                hint="install the tools with the bench extra, from the checkout: "
                ".venv/bin/pip install '.[bench]'",
            ) from None
        return getattr(loaded, name)(*args)

    call.__name__ = name
    return call


@dataclass(frozen=True)
class Command:
    """A sub-command: its help line, how it adds its arguments, and what it runs."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# -- validate -------------------------------------------------------------------------------------


def _configure_validate(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument(
        "--shapes",
        metavar="DIR",
        type=Path,
        help="read shapes from DIR/*.ttl and checks from DIR/checks/*-violation.rq",
    )
    parser.add_argument(
        "--reason",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also check OWL 2 RL consistency with owlrl (default: on)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _run_validate(args: argparse.Namespace) -> int:
    files = source_files(args)
    graph = load_graph(files)
    shapes_dir: Path | None = args.shapes
    report = validate(
        graph,
        load_shapes(shapes_dir),
        checks=load_checks(shapes_dir / "checks" if shapes_dir else None),
        reason=args.reason,
    )
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(report.text(), end="")
    print(
        f"cdkg: validated {len(files)} file(s), {len(graph)} triples: "
        f"{'conforms' if report.conforms else 'does not conform'}",
        file=sys.stderr,
    )
    return 0 if report.conforms else 1


VALIDATE = Command(
    "validate", "check the data against shapes, checks and OWL", _configure_validate, _run_validate
)


# -- query ----------------------------------------------------------------------------------------


def _configure_query(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="NAME|FILE.rq", help="a canned query name or a .rq file")
    parser.add_argument(
        "--param",
        "-p",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="bind a declared parameter (repeatable)",
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        default="table",
        help="table (for people), or a format the endpoint answers in, by its short name; "
        "the bytes are the endpoint's own (default: table)",
    )
    add_width_argument(parser)
    parser.add_argument(
        "--graph",
        metavar="IRI=PATH",
        action="append",
        default=[],
        type=_graph_argument,
        help="load an extra RDF file as its own named graph, as `cdkg serve --graph` does "
        "(repeatable)",
    )
    add_source_arguments(parser)


def _graph_argument(text: str) -> tuple[str, Path]:
    try:
        return settings.parse_graph(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _find_query(ref: str) -> CannedQuery:
    """A ``.rq`` path, or a canned query by name: only that file is parsed, since loading the
    registry parses every query, a cost one ``cdkg query`` should not pay for the others."""
    if ref.endswith(".rq") or Path(ref).is_file():
        return CannedQuery.from_file(ref)
    directory = kg_dir("queries")
    path = directory / f"{ref}.rq"
    if "/" not in ref and path.is_file():
        return CannedQuery.from_file(path)
    return Registry.load(directory).get(ref)  # raises QueryNotFound listing the names


def _parse_params(pairs: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadParameter(f"--param {pair!r} is not KEY=VALUE")
        params[key] = value
    return params


def _run_query(args: argparse.Namespace) -> int:
    """The endpoint's query path, in this process: the dataset it serves (derived graphs
    included), the guard, Oxigraph's evaluation and its writers (:mod:`cdkg.engine.evaluate`)."""
    import math  # noqa: PLC0415 - the CLI imports what each command needs

    from cdkg.canned.resolve import Resolver  # noqa: PLC0415
    from cdkg.engine.evaluate import QueryRequest  # noqa: PLC0415
    from cdkg.engine.runner import Engine  # noqa: PLC0415
    from cdkg.kg.served import add_derived_graphs  # noqa: PLC0415
    from cdkg.names import CDKG_GRAPH  # noqa: PLC0415

    query = _find_query(args.query)
    params = _parse_params(args.param)
    files = source_files(args)
    dataset = load_dataset(args.graph, files=files)
    # an iri value is resolved (QID, label...) in the cdkg graph, as the endpoint resolves it
    text = query.bind(params, Resolver(dataset.get_context(CDKG_GRAPH)))
    add_derived_graphs(dataset, Registry.load(kg_dir("queries")))
    engine = Engine(dataset, settings.Settings())
    wire = "json" if args.format == "table" else args.format
    answer = engine.execute(QueryRequest(text, format=wire), math.inf)
    if args.format == "table" and answer.media_type == "application/sparql-results+json":
        # the prefixes the loaded files declare, then the engine's own
        declared = {prefix: str(ns) for prefix, ns in dataset.namespaces() if prefix}
        width = terminal_width(args.width)
        sys.stdout.write(table(answer.body, {**declared, **PREFIXES}, width))
    else:
        sys.stdout.buffer.write(answer.body)
        sys.stdout.flush()
    if answer.truncated:
        print(f"cdkg query: the answer was cut at {answer.rows} rows (--max-rows)", file=sys.stderr)
    cite = Citation.of(query, dataset_version(files), paper_reference(dataset), params=params)
    print(f"cite as:\n{cite.text()}", file=sys.stderr)  # stdout stays the result alone
    return 0


QUERY = Command("query", "run a canned query or a .rq file", _configure_query, _run_query)


# -- queries --------------------------------------------------------------------------------------


def _run_queries(args: argparse.Namespace) -> int:
    registry = Registry.load(kg_dir("queries"))
    width = max((len(q.name) for q in registry), default=0)
    for q in registry:
        params = f"  [{', '.join(f'{p.name}: {p.describe_type()}' for p in q.params)}]"
        print(f"{q.name.ljust(width)}  {q.title}{params if q.params else ''}")
    if not len(registry):
        print(f"cdkg: no canned queries in {kg_dir('queries')}", file=sys.stderr)
    return 0


QUERIES = Command("queries", "list the canned queries", lambda parser: None, _run_queries)


# -- serve ----------------------------------------------------------------------------------------


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    settings.add_arguments(parser)
    add_source_arguments(parser)
    parser.add_argument(
        "--shapes",
        metavar="DIR",
        type=Path,
        help="validate at start-up with DIR/*.ttl and DIR/checks/*-violation.rq",
    )


def _run_serve(args: argparse.Namespace) -> int:
    files = source_files(args) if args.data or args.ontology else None
    from cdkg.web.server import serve  # noqa: PLC0415 - the web stack, only for this command

    return serve(settings.from_sources(args, os.environ), files, args.shapes)


SERVE = Command(
    "serve",
    "serve the SPARQL endpoint (/sparql), the query page (/) and downloads; validates first",
    _configure_serve,
    _run_serve,
)


# -- main -----------------------------------------------------------------------------------------

BENCH = Command(
    "bench",
    "time start-up (load + validate) against named peers",
    _lazy("cdkg_bench.startup", "configure"),
    _lazy("cdkg_bench.startup", "main"),
)

BENCH_HTTP = Command(
    "bench-http",
    "load cdkg serve and rdflib-endpoint side by side with concurrent clients",
    _lazy("cdkg_bench.concurrent", "configure"),
    _lazy("cdkg_bench.concurrent", "main"),
)

AUDIT = Command(
    "audit",
    "check every figure the paper prints against the graph",
    _lazy("cdkg.scholarly.audit_render", "configure"),
    _lazy("cdkg.scholarly.audit_render", "main"),
)

FORMAT = Command(
    "format",
    "rewrite Turtle files in the house style",
    _lazy("cdkg.kg.turtlefmt", "configure"),
    _lazy("cdkg.kg.turtlefmt", "main"),
)

WIKIDATA_DIFF = Command(
    "wikidata-diff",
    "compare the paper's ties with Wikidata's P190 (snapshot CSV or SPARQL endpoint)",
    _lazy("cdkg.scholarly.wikidata", "configure"),
    _lazy("cdkg.scholarly.wikidata", "main"),
)

COMMANDS: tuple[Command, ...] = (
    VALIDATE,
    QUERY,
    QUERIES,
    SERVE,
    BENCH,
    BENCH_HTTP,
    Command(
        "bench-report",
        "run every benchmark (per-query load, cold start, scale, memory, an external store); "
        "write docs/bench/",
        _lazy("cdkg_bench.report", "configure"),
        _lazy("cdkg_bench.report", "main"),
    ),
    FORMAT,
    WIKIDATA_DIFF,
    AUDIT,
    Command(
        "load",
        "push the served graphs into an external SPARQL 1.1 store, then verify the counts",
        _lazy("cdkg.kg.publish", "configure"),
        _lazy("cdkg.kg.publish", "run"),
    ),
    Command(
        "generate",
        "write a synthetic graph of about N triples, shaped and proportioned like data/",
        _lazy("cdkg_bench.generate", "configure"),
        _lazy("cdkg_bench.generate", "run"),
    ),
    Command(
        "soak",
        "run cdkg serve under hostile load on loopback, bounded in time; report in reports/",
        _lazy("cdkg_bench.soak", "configure"),
        _lazy("cdkg_bench.soak", "main"),
    ),
    Command(
        "release",
        "write a dated release for an archive: dumps, queries, results, VoID, DCAT, RO-Crate, zip",
        _lazy("cdkg.scholarly.release", "configure"),
        _lazy("cdkg.scholarly.release", "main"),
    ),
)


def build_parser(
    commands: Sequence[Command] = COMMANDS, only: str | None = None
) -> argparse.ArgumentParser:
    """The parser of every command; with ``only``, only that command's options are set up (the
    others still list with their help), so only its module is imported."""
    parser = argparse.ArgumentParser(
        prog="cdkg",
        description="The City Diplomacy Knowledge Graph: validate and query it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cdkg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands:
        child = sub.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if only is None or command.name == only:
            try:
                command.configure(child)
            except MissingExtra:
                if only is not None:
                    raise
                # listing every command (cdkg --help): a tool missing here is still listed;
                # running it says what to install
        child.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    given = list(sys.argv[1:] if argv is None else argv)
    names = {command.name for command in COMMANDS}
    chosen = next((arg for arg in given if arg in names), None)
    try:
        parser = build_parser(only=chosen)
        args = parser.parse_args(given)
        code: int = args.run(args)
    except SystemExit as exit_:  # --help, --version, usage errors: keep argparse's code
        return exit_.code if isinstance(exit_.code, int) else 2
    except CdkgError as err:
        print(f"cdkg: error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"hint: {err.hint}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # e.g. `cdkg query ... | head`
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
