"""``cdkg bench-http``: the endpoint under concurrent clients, side by side with rdflib-endpoint.

One run starts ``cdkg serve`` and ``rdflib-endpoint serve`` (PyPI ``rdflib-endpoint``, on uvicorn)
on two free loopback ports, over the same files (the shipped ontology and data), and checks that
both return the same number of rows for each canned query, timing that first answer; a query that
fails on either server is reported and left out of the load. Then, in rounds that alternate which
server goes first, ``--clients`` threads send the canned queries (``queries/*.rq``
with their default parameters, POSTed as ``query=`` forms, JSON results) to one server at a time
for ``--duration`` seconds or ``--max-requests`` requests, whichever ends first. It does so twice:

- ``same``: each query's text is the same every time, so cdkg answers from its result cache and
  rdflib-endpoint from its cache of parsed queries: what a client repeating a query sees;
- ``unique``: a numbered comment makes every text new, so every request is parsed and evaluated.

For each server and mode it reports requests, errors (by kind), answers whose row count differs
from that server's own first answer, throughput (answered requests per second), and p50 and p99
latency of the answered requests, then the ratios cdkg / rdflib-endpoint. Errors are counted,
never raised: a server failing under load is a result. The load generator runs on the same
machine and takes CPU from both servers alike; only the ratios are meant to be compared.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdkg.canned.registry import Registry
from cdkg.flags import add_flags, from_args, option
from cdkg.kg.graph import kg_files
from cdkg.resources import kg_dir
from cdkg_bench.loadgen import Tally, drive
from cdkg_bench.server import Server, first_answer, stopping_on_sigterm
from cdkg_bench.servers import PEER, cdkg_server, peer_server
from cdkg_bench.stats import ratio, summarize
from cdkg_bench.units import x as _x
from cdkg_bench.versions import versions

OURS = "cdkg"
MODES = ("same", "unique")


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f} ms"


def servers(files: Sequence[Path], logs: Path, workers: int | None) -> tuple[Server, Server]:
    """``cdkg serve`` (which serves the shipped ``files``) and ``rdflib-endpoint serve`` over
    ``files``, not started."""
    extra = [] if workers is None else ["--workers", str(workers)]
    return cdkg_server(OURS, extra, logs), peer_server(files, logs)


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """A run; each field is an option of ``cdkg bench-http``."""

    clients: int = option(20, "concurrent clients")
    duration: float = option(15.0, "seconds per server, mode and round")
    rounds: int = option(2, "rounds per mode, alternating which server goes first")
    max_requests: int = option(5000, "most requests per server, mode and round")
    workers: int | None = option(None, "cdkg serve's --workers (none: its own default)", parse=int)


def run(options: Options, out: list[str]) -> int:
    """Start both servers, check rows, measure; append the report's lines to ``out``.

    Returns 0, or 1 if the servers disagree on a row count or either answered wrongly.
    """
    registry = Registry.load(kg_dir("queries"))
    names = [q.name for q in registry]
    texts = [q.bind({}) for q in registry]
    files = kg_files()
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-http-") as logs:
        pair = servers(files, Path(logs), options.workers)
        try:
            for server in pair:
                server.start()
            for server in pair:
                server.wait_ready(within=120)
            return _measure(pair, names, texts, options, out)
        finally:
            for server in pair:
                server.stop()


def _measure(
    pair: tuple[Server, Server],
    names: Sequence[str],
    texts: Sequence[str],
    options: Options,
    out: list[str],
) -> int:
    first = {s.name: [first_answer(s, text) for text in texts] for s in pair}
    counts = {name: [n for n, _, _ in answers] for name, answers in first.items()}
    out += [
        f"{options.clients} concurrent clients; {len(names)} canned queries "
        f"({', '.join(names)}) with default parameters, POSTed as forms, JSON results; "
        f"{options.rounds} rounds of at most {options.duration:g} s or "
        f"{options.max_requests} requests per server and mode, alternating which goes first; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before. {versions()}.",
        "",
        f"| query | rows from {OURS} | rows from {PEER} | | first answer, {OURS} "
        f"| first answer, {PEER} |",
        "|---|---|---|---|---|---|",
    ]
    disagree, load = 0, []
    for i, name in enumerate(names):
        (a, _, took_a), (b, _, took_b) = first[OURS][i], first[PEER][i]
        same = a == b and a >= 0
        disagree += not same
        if a >= 0 and b >= 0:
            load.append(i)
        out.append(
            f"| {name} | {_count(a)} | {_count(b)} | {'same' if same else 'MISMATCH'} "
            f"| {_ms(took_a)} | {_ms(took_b)} |"
        )
    left_out = [names[i] for i in range(len(names)) if i not in load]
    if left_out:
        out += [
            "",
            f"Left out of the load, as they failed on a server: {', '.join(left_out)}.",
        ]
    if not load:
        return 1
    texts = [texts[i] for i in load]
    counts = {name: [c[i] for i in load] for name, c in counts.items()}
    out += [
        "",
        "| texts | server | answered | errors | wrong rows | req/s | p50 | p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    wrong = 0
    for mode in MODES:
        tallies = {s.name: Tally() for s in pair}
        for round_ in range(options.rounds):
            for server in pair if round_ % 2 == 0 else pair[::-1]:
                drive(
                    server,
                    texts,
                    counts[server.name],
                    clients=options.clients,
                    duration=options.duration,
                    max_requests=options.max_requests,
                    unique=mode == "unique",
                    tally=tallies[server.name],
                )
        stats = {}
        for server in pair:
            t = tallies[server.name]
            stats[server.name] = s = summarize(
                t.latencies, sum(t.errors.values()), t.wrong_rows, t.elapsed
            )
            wrong += s.wrong_rows
            kinds = ", ".join(f"{k}: {v}" for k, v in t.errors.most_common())
            out.append(
                f"| {mode} | {server.name} | {s.answered} | {s.errors}"
                f"{f' ({kinds})' if kinds else ''} | {s.wrong_rows} | {s.per_second:.1f} "
                f"| {_ms(s.p50)} | {_ms(s.p99)} |"
            )
        ours, peer = stats[OURS], stats[PEER]
        out.append(
            f"| {mode} | **{OURS} / {PEER}** | | | | "
            f"**{_x(ratio(ours.per_second, peer.per_second))}** "
            f"| {_x(ratio(ours.p50, peer.p50))} | {_x(ratio(ours.p99, peer.p99))} |"
        )
    out += [
        "",
        f"req/s counts answers with the right rows; above 1x, {OURS} answers more per second; "
        f"latency ratios below 1x: {OURS} answers sooner. "
        f"Load average {os.getloadavg()[0]:.1f} after.",
    ]
    return 1 if disagree or wrong else 0


def _count(n: int) -> str:
    return "failed" if n < 0 else str(n)


# --- the command --------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, Options)


def main(args: argparse.Namespace) -> int:
    try:
        import rdflib_endpoint  # noqa: F401, PLC0415  (optional: the peer, from the bench extra)
    except ImportError:
        print(
            "cdkg bench-http: rdflib-endpoint is not installed; pip install 'cdkg[bench]' "
            "(bash scripts/bench-http does)",
            file=sys.stderr,
        )
        return 2
    options = from_args(Options, args)
    out: list[str] = []
    with stopping_on_sigterm():
        code = run(options, out)
    print("\n".join(out))
    return code
