"""``cdkg bench``: start-up work (load + validate) timed side by side against a named peer.

Each step runs ``repeat`` times, alternating ours and the peer's, and reports medians and the
ratio peer/ours (above 1: we are faster). This machine is noisy; only the ratios are meant to be
compared across runs.

| step | ours | peer |
|---|---|---|
| parse the ontology and data | ``cdkg.kg.graph.load_dataset`` (Oxigraph, as ``cdkg serve``) | raw
pyoxigraph ``Store.load`` |
| SHACL shapes | pyshacl-turbo | pySHACL |
| ``*-violation.rq`` checks | Oxigraph (pyoxigraph) | rdflib SPARQL |
| OWL 2 RL consistency | owlrl | (none) |

``cdkg bench-report`` (:mod:`cdkg_bench.report`) is the full benchmark, beside the Oxigraph server.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdkg.flags import add_flags, from_args, option
from cdkg.kg import consistency
from cdkg.kg.graph import kg_files, load_dataset, load_graph
from cdkg.kg.validate import _shacl, load_checks, load_shapes, run_checks
from cdkg.names import CDKG_GRAPH

Timing = tuple[str, str, float, str | None, float | None]


@dataclass(frozen=True)
class Options:
    """A run; each field is an option of ``cdkg bench``."""

    repeat: int = option(5, "runs per step")


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _oxigraph_load(files: list[Path]) -> Callable[[], Any] | None:
    try:
        import pyoxigraph  # noqa: PLC0415  (optional: only the benchmark peer needs it)
    except ImportError:
        return None

    def load() -> Any:
        store = pyoxigraph.Store()
        for path in files:
            store.load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
        return store

    return load


def run(repeat: int = Options.repeat) -> list[Timing]:
    """Time each start-up step; one row per step: (step, ours, median, peer, median)."""
    files = kg_files()
    graph = load_graph(files)
    shapes = load_shapes()
    checks = load_checks()
    rows: list[Timing] = []
    ox = _oxigraph_load(files)
    rows.append(
        (
            "parse ontology + data",
            "cdkg load_dataset (Oxigraph)",
            median_time(lambda: load_dataset(files=files), repeat),
            "pyoxigraph" if ox else None,
            median_time(ox, repeat) if ox else None,
        )
    )
    rows.append(
        (
            "SHACL shapes",
            "pyshacl-turbo",
            median_time(lambda: _shacl(graph, shapes, "turbo"), repeat),
            "pySHACL",
            median_time(lambda: _shacl(graph, shapes, "pyshacl"), repeat),
        )
    )
    rows.append(
        (
            "violation checks",
            "Oxigraph (pyoxigraph)",
            median_time(lambda: run_checks(graph, checks, "oxigraph"), repeat),
            "rdflib SPARQL",
            median_time(lambda: run_checks(graph, checks, "rdflib"), repeat),
        )
    )
    rows.append(
        (
            "OWL 2 RL consistency",
            "owlrl",
            median_time(lambda: consistency.check(graph), max(1, repeat // 2)),
            None,
            None,
        )
    )

    def startup() -> None:  # what `cdkg serve` validates before it builds its app and listens
        kg = load_dataset(files=files).get_context(CDKG_GRAPH)
        _shacl(kg, shapes, "turbo")
        run_checks(kg, checks)

    rows.append(
        ("start-up: load + SHACL + checks", "cdkg", median_time(startup, repeat), None, None)
    )
    return rows


def render(rows: list[Timing], triples: int, repeat: int) -> str:
    lines = [
        f"Median of {repeat} runs on {triples} triples.",
        "",
        "| step | ours | median | peer | median | peer / ours |",
        "|---|---|---|---|---|---|",
    ]
    for step, ours, t, peer, tp in rows:
        ratio = f"{tp / t:.2f}x" if tp is not None else "-"
        peer_t = f"{tp * 1000:.0f} ms" if tp is not None else "-"
        lines.append(
            f"| {step} | {ours} | {t * 1000:.0f} ms | {peer or '-'} | {peer_t} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def configure(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, Options)


def main(args: argparse.Namespace) -> int:
    options = from_args(Options, args)
    rows = run(options.repeat)
    print(render(rows, len(load_graph()), options.repeat), end="")
    return 0
