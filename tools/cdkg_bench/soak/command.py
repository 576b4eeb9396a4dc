"""``cdkg soak``: its arguments, and the command (run, write the report, print it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cdkg_bench.soak.phases import Options
from cdkg_bench.soak.runner import run
from cdkg_bench.soak.verdict import markdown, write


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = Options()
    parser.add_argument("--clients", type=int, default=defaults.clients, help="default 50")
    parser.add_argument(
        "--duration", type=float, default=defaults.duration, help="seconds of load (default 60)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=defaults.think,
        help="mean seconds each client pauses between an answer and its next request "
        "(exponential; default 1; 0: no pause, the server saturated)",
    )
    parser.add_argument(
        "--hostile-share",
        type=float,
        default=defaults.hostile_share,
        help="share of hostile requests in the load (default 0.05)",
    )
    parser.add_argument(
        "--baseline",
        type=int,
        default=defaults.baseline,
        help="normal requests in the unloaded baseline, paced like the load's arrivals (default "
        "3000; half as many again are sent back to back, for the report)",
    )
    parser.add_argument(
        "--warm-load",
        type=float,
        default=defaults.warm_load,
        help="seconds of the same load before memory is first read (default 10)",
    )
    parser.add_argument(
        "--query",
        dest="queries",
        action="append",
        default=[],
        metavar="NAME",
        help="a canned query to use (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--server-arg",
        dest="server_args",
        action="append",
        default=[],
        metavar="ARG",
        help="an argument for cdkg serve, e.g. --server-arg=--timeout=2 (repeatable; "
        "default: none, the default settings)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=defaults.settle,
        help="seconds of rest after the load before memory is read again (default 5)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=defaults.report_dir,
        help="where soak.json and soak.md go (default: reports)",
    )


def main(args: argparse.Namespace) -> int:
    options = Options(
        clients=args.clients,
        duration=args.duration,
        think=args.think,
        hostile_share=args.hostile_share,
        baseline=args.baseline,
        warm_load=args.warm_load,
        queries=tuple(args.queries),
        server_args=tuple(args.server_args),
        settle=args.settle,
        report_dir=args.report_dir,
    )
    code, report = run(options)
    write(report, options.report_dir)
    print(markdown(report), end="")
    print(f"cdkg soak: report in {options.report_dir}/soak.md and soak.json", file=sys.stderr)
    return code
