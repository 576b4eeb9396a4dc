"""``cdkg soak``: its arguments, and the command (run, write the report, print it)."""

from __future__ import annotations

import argparse
import sys

from cdkg.flags import add_flags, from_args
from cdkg_bench.server import stopping_on_sigterm
from cdkg_bench.soak.phases import Options
from cdkg_bench.soak.runner import run
from cdkg_bench.soak.verdict import markdown, write


def configure(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, Options)


def main(args: argparse.Namespace) -> int:
    options = from_args(Options, args)
    with stopping_on_sigterm():
        code, report = run(options)
    write(report, options.report_dir)
    print(markdown(report), end="")
    print(f"cdkg soak: report in {options.report_dir}/soak.md and soak.json", file=sys.stderr)
    return code
