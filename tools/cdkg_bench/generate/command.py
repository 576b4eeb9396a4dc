"""``cdkg generate``: the scale whose graph has about the triples asked for, and the command."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cdkg.errors import BadParameter
from cdkg.flags import add_flags, from_args, option
from cdkg_bench.generate.profile import Profile, measure
from cdkg_bench.generate.writer import write

SUFFIXES = {".nt": "N-Triples", ".ttl": "Turtle"}


@dataclass(frozen=True)
class Options:
    """A run of ``cdkg generate``. ``triples`` and ``out`` have no default: they are required
    arguments, set up by :func:`configure` by hand; ``seed`` is an option."""

    triples: int  # about how many
    out: Path  # FILE.nt or FILE.ttl
    seed: int = option(0, "random seed", metavar="S")


def minimum_triples(profile: Profile, seed: int = Options.seed) -> int:
    """The smallest graph: the copied vocabulary and one entity of each kind."""
    return write(profile, 0.0, seed, None, turtle=False)


def scale_for(profile: Profile, triples: int, seed: int) -> float:
    """The scale whose graph has about ``triples`` triples. The count is nearly linear in the
    scale, so two dry runs (counting, not writing) fit it; below 20,000 triples, where rounding
    each kind's count matters most and a dry run costs milliseconds, bisection closes in."""

    def count(scale: float) -> int:
        return write(profile, scale, seed, None, turtle=False)

    one, three = count(1.0), count(3.0)
    per_copy = (three - one) / 2
    scale = max(0.0, (triples - (one - per_copy)) / per_copy)
    if triples > 20_000:
        return scale
    low, high = max(0.0, scale * 0.8 - 0.1), scale * 1.2 + 0.1
    best, miss = scale, abs(count(scale) - triples)
    for _ in range(12):
        if miss <= triples / 500:
            break
        middle = (low + high) / 2
        found = count(middle)
        if abs(found - triples) < miss:
            best, miss = middle, abs(found - triples)
        low, high = (middle, high) if found < triples else (low, middle)
    return best


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--triples",
        "-n",
        metavar="N",
        type=int,
        required=True,
        help="about how many triples (the exact count goes to stderr)",
    )
    parser.add_argument(
        "--out",
        "-o",
        metavar="FILE",
        type=Path,
        required=True,
        help="the file to write: FILE.nt (N-Triples) or FILE.ttl (Turtle)",
    )
    add_flags(parser, Options)


def run(args: argparse.Namespace) -> int:
    options = from_args(Options, args, triples=args.triples, out=args.out)
    path = options.out
    if path.is_dir():
        raise BadParameter(
            f"--out {path} is a directory", hint=f"name a file in it, e.g. --out {path / 'cdkg.nt'}"
        )
    syntax = SUFFIXES.get(path.suffix.lower())
    if syntax is None:
        raise BadParameter(
            f"--out {path}: cannot tell the syntax from the suffix {path.suffix!r}",
            hint=f"name the file {path.stem}.nt (N-Triples, fastest) or {path.stem}.ttl (Turtle)",
        )
    if not path.parent.is_dir():
        raise BadParameter(
            f"--out {path}: {path.parent} is not an existing directory",
            hint=f"create it first (mkdir -p {path.parent}) or write elsewhere",
        )
    profile = measure()
    smallest = minimum_triples(profile, options.seed)
    if options.triples < smallest:
        raise BadParameter(
            f"--triples {options.triples}: too few for a graph with one entity of each kind",
            hint=f"use --triples {smallest} or more (the classification vocabulary alone is "
            f"{len(profile.vocabulary)} triples)",
        )
    started = time.perf_counter()
    scale = scale_for(profile, options.triples, options.seed)
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream:
            count = write(profile, scale, options.seed, stream, turtle=syntax == "Turtle")
        partial.replace(path)
    except OSError as err:
        if partial.parent.is_dir():
            partial.unlink(missing_ok=True)
        raise BadParameter(
            f"--out {path}: cannot write: {err.strerror or err}",
            hint="choose a path in an existing, writable directory, e.g. --out /tmp/cdkg.nt",
        ) from None
    print(
        f"cdkg: wrote {count} triples ({syntax}, scale {scale:.3f}, seed {options.seed}) to {path} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0
