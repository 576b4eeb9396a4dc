"""``cdkg bench-report``: every benchmark in one run, written as Markdown, JSON and a PNG.

(a) every canned query, and a few CONSTRUCT and DESCRIBE queries, on cdkg beside the Oxigraph
server (and rdflib-endpoint): uncached latency at one client, throughput at eight clients with
cdkg's cache off and on (:mod:`cdkg_bench.per_query`); (b) cold start at the paper's size, beside
the Oxigraph server (:mod:`cdkg_bench.coldstart`); (c) the Table 2 query at 10k, 100k and 1M
generated triples, cdkg's path beside raw pyoxigraph (:mod:`cdkg_bench.scale`); (d) at the largest
size, ``cdkg serve`` to its first answer and its peak memory, beside ``oxigraph load`` and raw
pyoxigraph (:mod:`cdkg_bench.serving`); (e) an external store at 200k and 1M generated triples:
canned queries through ``cdkg serve --store``, straight to the store and embedded, eight clients
on Table 2, ``cdkg load`` beside curl (:mod:`cdkg_bench.store`; skipped, saying why, without
Virtuoso). Each figure is judged against issue 16's targets, the store's against issue 19's
(:mod:`cdkg_bench.verdicts`, :mod:`cdkg_bench.targets`): PASS, or MISS, by how much and why
(:mod:`cdkg_bench.why`). The report is written by :mod:`cdkg_bench.report_markdown` and
:mod:`cdkg_bench.plot`: parts a to d in report.md, report.json and bench.png, part e in store.md
and store.json, so that a run of some parts leaves the other parts' files as they were.
``--quick`` shortens everything (for the tests).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cdkg.canned.registry import Registry
from cdkg.flags import add_flags, from_args, option
from cdkg.resources import kg_dir
from cdkg_bench.coldstart import measure_cold_start, startup_phases
from cdkg_bench.dataset import prepare_data
from cdkg_bench.per_query import LoadOptions, measure_load
from cdkg_bench.per_query_figures import QueryLoad, load_json, summary
from cdkg_bench.queries import bench_queries
from cdkg_bench.report_markdown import markdown, store_markdown
from cdkg_bench.scale import ScaleOptions, ScalePoint, measure_scale
from cdkg_bench.server import stopping_on_sigterm
from cdkg_bench.servers import CDKG, CDKG_CACHED, OXIGRAPH
from cdkg_bench.store import StoreOptions, measure_store
from cdkg_bench.verdicts import judge_all, judge_secondary, judge_store
from cdkg_bench.versions import versions

PARTS = ("load", "cold", "scale", "serving", "store")
#: The parts written to report.md, report.json and bench.png; "store" has store.md and store.json.
MAIN_PARTS = ("load", "cold", "scale", "serving")
#: The canned query timed at scale and used for cold start.
TABLE2 = "table2"


def run(
    load: LoadOptions,
    scale: ScaleOptions,
    cold_runs: int,
    parts: tuple[str, ...] = PARTS,
    progress: Callable[[str], None] = lambda _: None,
    *,
    store: StoreOptions | None = None,
) -> dict[str, Any]:
    """Run the ``parts`` asked for; the report as a JSON-ready dict (the store part's under
    ``"store"``)."""
    registry = Registry.load(kg_dir("queries"))
    queries = bench_queries(registry, load.queries)
    (table2,) = bench_queries(registry, [TABLE2])
    report: dict[str, Any] = {"meta": _meta(load, scale, cold_runs)}
    report["meta"]["parts"] = list(parts)
    averages = report["meta"]["load_average"]
    loads: list[QueryLoad] = []
    report["cold_start"] = {"runs": {}, "medians": {}, "phases": {}}
    with tempfile.TemporaryDirectory(prefix="cdkg-bench-") as tmp:
        quads = 0
        if "load" in parts or "cold" in parts:
            prepared = prepare_data(Path(tmp))
            quads = prepared.count
            progress(f"served dataset: {quads} quads, dumped and loaded into Oxigraph")
            if "load" in parts:
                averages["load"] = _average()
                loads = measure_load(queries, prepared, load, progress)
            if "cold" in parts:
                averages["cold"] = _average()
                starts = measure_cold_start(prepared, table2, cold_runs)
                report["cold_start"] = {
                    "runs": starts.runs,
                    "medians": starts.medians(),
                    "phases": startup_phases(),
                }
                progress(f"cold start: {json.dumps(starts.runs)}")
    report["load"] = {
        "clients": load.clients,
        "quads": quads,
        "queries": load_json(loads),
        "summary": summary(loads),
    }
    points: list[ScalePoint] = []
    serving: dict[str, Any] = {}
    if "scale" in parts or "serving" in parts:
        averages["scale"] = _average()
        points, serving = measure_scale(
            table2.text,
            scale,
            progress,
            scale="scale" in parts,
            serving="serving" in parts,
        )
    report["scale"] = {"query": TABLE2, "points": [p.to_json() for p in points]}
    report["serving"] = serving
    if "store" in parts:
        averages["store"] = _average()
        report["store"] = measure_store(store or StoreOptions(), progress)
        report["store"]["targets"] = judge_store(report["store"])
    averages["after"] = _average()
    report["meta"]["load_after"] = averages["after"]
    report["targets"] = judge_all(report)
    report["secondary"] = judge_secondary(report)
    return report


def _average() -> float:
    return round(os.getloadavg()[0], 2)


def _meta(load: LoadOptions, scale: ScaleOptions, cold_runs: int) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC)
    return {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, shared with other jobs",
        "load_before": _average(),
        "load_average": {"before": _average()},
        "versions": versions(),
        "options": {"load": asdict(load), "scale": asdict(scale), "cold_runs": cold_runs},
    }


# --- the command --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportOptions:
    """A run of ``cdkg bench-report``; each field is an option. The defaults are those of
    :class:`LoadOptions` and :class:`ScaleOptions`; ``--quick`` starts from :data:`QUICK`."""

    out: Path = option(  # noqa: RUF009 - a Path, immutable
        Path("docs/bench"),
        "directory for report.md, report.json, bench.png (parts load to serving), store.md and "
        "store.json (part store)",
    )
    quick: bool = option(
        False, "tiny durations, 10k triples only, one cold start, the store at 2.5k (for tests)"
    )
    clients: int = option(LoadOptions.clients, "concurrent clients")
    duration: int = option(LoadOptions.duration, "seconds of wrk per query, server and mode")
    queries: tuple[str, ...] = option(
        LoadOptions.queries,
        "only this query (a canned query, or describe-tehran, describe-ties, construct-ties, "
        "construct-wikidata-view; none given: all)",
        repeatable=True,
        name="--query",
        metavar="NAME",
    )
    sizes: tuple[int, ...] = option(
        ScaleOptions.sizes,
        "triples of the generated graphs; the largest is also served",
        several=True,
        metavar="N",
    )
    repeat: int = option(ScaleOptions.repeat, "runs per timing at scale")
    cold_runs: int = option(3, "cold starts per server")
    store_sizes: tuple[int, ...] = option(
        StoreOptions.sizes,
        "triples of the generated graphs the external store is timed on; the smallest also "
        "takes the concurrent clients, the largest judges the load",
        several=True,
        metavar="N",
    )
    store_repeat: int = option(StoreOptions.repeat, "rounds per query and size on the store")
    store_duration: int = option(
        StoreOptions.duration, "seconds of the concurrent clients on the store, per way"
    )
    parts: tuple[str, ...] = option(PARTS, "what to run", several=True, choices=PARTS)

    def load(self) -> LoadOptions:
        base = _QUICK_LOAD if self.quick else LoadOptions()
        return replace(base, clients=self.clients, duration=self.duration, queries=self.queries)

    def scale(self) -> ScaleOptions:
        return replace(ScaleOptions(), sizes=self.sizes, repeat=self.repeat)

    def store(self) -> StoreOptions:
        return replace(
            StoreOptions(),
            sizes=self.store_sizes,
            repeat=self.store_repeat,
            clients=self.clients,
            duration=self.store_duration,
        )


#: ``--quick``'s per-query load: short budgets and few requests.
_QUICK_LOAD = LoadOptions(
    duration=1,
    latency_requests=5,
    latency_budget=0.2,
    min_requests=3,
    peer_requests=1,
    peer_budget=0.5,
    peer_timeout=10.0,
    in_process_budget=0.05,
)
#: ``--quick``'s options, below any flag given.
QUICK = ReportOptions(
    quick=True,
    duration=_QUICK_LOAD.duration,
    sizes=(10_000,),
    repeat=2,
    cold_runs=1,
    store_sizes=(2_500,),
    store_repeat=2,
    store_duration=2,
)


def configure(parser: argparse.ArgumentParser) -> None:
    # unset: a flag not given stays None, so that --quick's values apply below the flags given
    add_flags(parser, ReportOptions, unset=True)


def options(args: argparse.Namespace) -> ReportOptions:
    """The options of a run: --quick's or the defaults, then each flag given."""
    return from_args(ReportOptions, args, base=QUICK if args.quick else None)


def finite(value: Any) -> Any:
    """``value`` with every NaN (a figure not measured) as ``None``: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def write(report: dict[str, Any], out: Path) -> list[Path]:
    """In ``out``: report.md, report.json and bench.png if any of parts a to d ran; store.md
    and store.json if the store part ran; their paths. A file of a part not run is left as it
    was: a run of the store alone does not overwrite the last full report."""
    from cdkg_bench.plot import plot  # noqa: PLC0415  (imports matplotlib)

    out.mkdir(parents=True, exist_ok=True)
    written = []
    if set(report["meta"]["parts"]) & set(MAIN_PARTS):
        md, js, png = out / "report.md", out / "report.json", out / "bench.png"
        main = {k: v for k, v in report.items() if k != "store"}
        md.write_text(markdown(main), encoding="utf-8")
        _write_json(main, js)
        plot(main, png)
        written += [md, js, png]
    if "store" in report:
        md, js = out / "store.md", out / "store.json"
        md.write_text(store_markdown(report["store"], report["meta"]), encoding="utf-8")
        _write_json({"meta": report["meta"], "store": report["store"]}, js)
        written += [md, js]
    return written


def _write_json(found: dict[str, Any], path: Path) -> None:
    text = json.dumps(finite(found), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def problems(report: dict[str, Any]) -> list[str]:
    """What makes the run fail: a query on which cdkg and the Oxigraph server disagree, or an
    answer from cdkg with another row count than its first; a query on which cdkg through the
    store and the store itself disagree."""
    found = [
        f"{q['name']} at {p['triples']:,} triples: {q['mismatch']}"
        for p in report.get("store", {}).get("sizes", [])
        for q in p["queries"]
        if q["mismatch"]
    ]
    for q in report["load"]["queries"]:
        rows = q["rows"]
        if rows.get(CDKG, -1) >= 0 and rows.get(OXIGRAPH, -1) >= 0 and rows[CDKG] != rows[OXIGRAPH]:
            found.append(f"{q['name']}: cdkg {rows[CDKG]} rows, Oxigraph {rows[OXIGRAPH]}")
        for phase in ("latency", "throughput"):
            for key in (CDKG, CDKG_CACHED):
                stats = q[phase].get(key)
                if stats and stats["wrong_rows"]:
                    found.append(f"{q['name']}: {stats['wrong_rows']} wrong answers from {key}")
    return found


def main(args: argparse.Namespace) -> int:
    try:
        import matplotlib  # noqa: F401, PLC0415
        import rdflib_endpoint  # noqa: F401, PLC0415
    except ImportError as err:
        print(
            f"cdkg bench-report: {err.name} is not installed; pip install 'cdkg[bench]' "
            "(bash scripts/bench does)",
            file=sys.stderr,
        )
        return 2
    chosen = options(args)

    def progress(message: str) -> None:
        print(f"cdkg bench-report: {message}", file=sys.stderr, flush=True)

    load, scale, store = chosen.load(), chosen.scale(), chosen.store()
    with stopping_on_sigterm():
        report = run(load, scale, chosen.cold_runs, chosen.parts, progress, store=store)
    for path in write(report, chosen.out):
        progress(f"wrote {path}")
    if set(chosen.parts) & set(MAIN_PARTS):
        print(markdown(report), end="")
    if "store" in report:
        print(store_markdown(report["store"], report["meta"]), end="")
    bad = problems(report)
    for problem in bad:
        progress(f"problem: {problem}")
    return 1 if bad else 0
