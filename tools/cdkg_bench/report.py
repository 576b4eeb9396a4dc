"""``cdkg bench-report``: every benchmark in one run, written as Markdown, JSON and a PNG.

(a) every canned query, and a few CONSTRUCT and DESCRIBE queries, on cdkg beside the Oxigraph
server (and rdflib-endpoint): uncached latency at one client, throughput at eight clients with
cdkg's cache off and on (:mod:`cdkg_bench.per_query`); (b) cold start at the paper's size, beside
the Oxigraph server; (c) the Table 2 query at 10k, 100k and 1M generated triples, cdkg's path beside
raw pyoxigraph; (d) at the largest size, ``cdkg serve`` to its first answer and its peak memory,
beside ``oxigraph load`` and raw pyoxigraph (:mod:`cdkg_bench.scale`). Each figure is judged
against issue 16's targets (:mod:`cdkg_bench.targets`): PASS, or MISS, by how much and why.
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cdkg.canned.registry import Registry
from cdkg.resources import kg_dir
from cdkg_bench import targets
from cdkg_bench.concurrent import PEER, versions
from cdkg_bench.per_query import (
    CACHED,
    CANNED,
    CDKG,
    CDKG_CACHED,
    GRAPH,
    LABELS,
    OXIGRAPH,
    OXIGRAPH_DISK,
    UNCACHED,
    LoadOptions,
    QueryLoad,
    bench_queries,
    load_json,
    measure_cold_start,
    measure_load,
    prepare_data,
    startup_phases,
    summary,
)
from cdkg_bench.scale import ScaleOptions, ScalePoint, measure_scale

PARTS = ("load", "cold", "scale", "serving")
#: The canned query timed at scale and used for cold start.
TABLE2 = "table2"


def run(
    load: LoadOptions,
    scale: ScaleOptions,
    cold_runs: int,
    parts: tuple[str, ...] = PARTS,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run the ``parts`` asked for; the report as a JSON-ready dict."""
    registry = Registry.load(kg_dir("queries"))
    queries = bench_queries(registry, load.queries)
    (table2,) = bench_queries(registry, [TABLE2])
    report: dict[str, Any] = {"meta": _meta(load, scale, cold_runs)}
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


# --- the verdicts -------------------------------------------------------------------------------


def judge_all(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of issue 16 judged from the measured figures of ``report``."""
    out = []
    clients = report["load"]["clients"]
    s = report["load"]["summary"]
    for kind, bound, label in (
        (CANNED, targets.LATENCY_RATIO, "canned queries"),
        (GRAPH, targets.GRAPH_LATENCY_RATIO, "CONSTRUCT and DESCRIBE"),
    ):
        lat = s["latency"].get(kind, {})
        t = targets.Target(
            f"uncached median latency, one client, {label}: geometric mean of cdkg / Oxigraph "
            "server",
            bound,
            higher=False,
            unit="x",
        )
        note = ""
        if lat.get("queries"):
            note = (
                f"{lat['queries']} queries; worst {lat['worst']} {_x(lat['worst_ratio'])}; "
                f"median p50 cdkg {_ms(lat['cdkg_median_p50'])}, Oxigraph "
                f"{_ms(lat['oxigraph_median_p50'])}"
            )
        value = lat.get("geomean_ratio", math.nan)
        out.append(targets.judge(t, value, note, why_latency(report, kind)))
    for mode, bound, label in (
        (UNCACHED, targets.THROUGHPUT_UNCACHED, "uncached"),
        (CACHED, targets.THROUGHPUT_CACHED, "cdkg's cache on (Oxigraph has none: its uncached"),
    ):
        tp = s["throughput"].get(mode, {})
        name = f"throughput at {clients} clients, {label}"
        name += " figure)" if mode == CACHED else ""
        t = targets.Target(
            f"{name}: geometric mean of cdkg / Oxigraph server", bound, higher=True, unit="x"
        )
        note = ""
        if tp.get("queries"):
            note = (
                f"{tp['queries']} queries; lowest {tp['lowest']} {_x(tp['lowest_ratio'])}; "
                f"canned only {_x(tp['canned_geomean_ratio'])}; even mix {_x(tp['mix_ratio'])}"
            )
        value = tp.get("geomean_ratio", math.nan)
        out.append(targets.judge(t, value, note, why_throughput(report, mode)))
    cold = report["cold_start"]
    medians = cold["medians"]
    t = targets.Target(
        "cold start at the paper's size, spawn to first answer (median)",
        targets.COLD_START,
        higher=False,
        unit="s",
    )
    note = ", ".join(f"{LABELS[k]} {_s(v)}" for k, v in medians.items() if k != CDKG)
    out.append(targets.judge(t, medians.get(CDKG, math.nan), note, why_cold(report)))
    serving = report["serving"]
    size = f"{serving['triples']:,} triples" if serving else "the largest size"
    t = targets.Target(
        f"at {size}: cdkg serve, spawn to first answer / `oxigraph load` of the same files",
        targets.SERVE_VS_LOAD,
        higher=False,
        unit="x",
    )
    note = ""
    load = serving.get("oxigraph_load", {})
    if serving:
        note = f"{_s(serving['cdkg']['seconds'])} vs {_s(load.get('seconds', math.nan))}"
    out.append(targets.judge(t, serving.get("time_ratio", math.nan), note, why_serving(report)))
    t = targets.Target(
        f"at {size}: cdkg serve's peak memory / raw pyoxigraph's holding the same files",
        targets.PEAK_MEMORY,
        higher=False,
        unit="x",
    )
    note = ""
    if serving:
        note = (
            f"{_mib(serving['cdkg']['peak'])} vs {_mib(serving['pyoxigraph']['VmHWM'])}; "
            f"`oxigraph load` {_mib(load.get('peak', math.nan))}"
        )
    out.append(targets.judge(t, serving.get("memory_ratio", math.nan), note, why_memory(report)))
    return out


def judge_secondary(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The earlier targets kept for comparison (not issue 16's): Table 2 at the largest size."""
    points = report["scale"]["points"]
    top = max(points, key=lambda p: p["triples"], default=None)
    size = f"{top['triples']:,} triples" if top else "largest size"
    out = []
    for key, how in (("ratio_execute", "Engine.execute"), ("ratio_run", "Engine.run")):
        t = targets.Target(
            f"Table 2 at {size}, cdkg {how} / raw pyoxigraph",
            targets.TABLE2_RATIO,
            higher=False,
            unit="x",
        )
        out.append(targets.judge(t, top[key] if top else math.nan))
    return out


# --- why a target is missed, from the run's own figures -----------------------------------------


def _measured(report: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [
        q
        for q in report["load"]["queries"]
        if not q["skipped"] and (kind is None or q["kind"] == kind)
    ]


def why_latency(report: dict[str, Any], kind: str) -> str:
    """Why cdkg's one-client medians trail the Oxigraph server's: its fixed cost per request,
    its in-process path, the slowest queries relative to Oxigraph, and slow guards."""
    lat = report["load"]["summary"]["latency"].get(kind, {})
    queries = _measured(report, kind)
    if not queries:
        return ""
    ranked = sorted(
        (q for q in queries if not _nan(q["latency_ratio"])),
        key=lambda q: q["latency_ratio"],
        reverse=True,
    )
    worst = "; ".join(
        f"{q['name']} {_x(q['latency_ratio'])} ({_ms(q['latency'][CDKG]['p50'])} vs "
        f"{_ms(q['latency'][OXIGRAPH]['p50'])})"
        for q in ranked[:4]
    )
    guards = [
        f"{q['name']} {_ms(q['in_process']['guard'])}"
        for q in queries
        if q["in_process"].get("guard", 0) > 0.005
    ]
    text = (
        f"cdkg's fixed cost: its one-client median minus its in-process path is "
        f"{_ms(lat['front_cost_median'])} a request (median; waitress, Flask, the round trip to "
        f"the engine child), while the Oxigraph server answers half of these queries within "
        f"{_ms(lat['oxigraph_median_p50'])} in all; in-process, cdkg's path (guard, TSV, then "
        f"the format asked for) adds {_ms(lat['path_cost_median'])} to raw pyoxigraph's. "
        f"Furthest behind: {worst}"
    )
    if guards:
        text += f". The guard alone takes {', '.join(guards)}"
    return text + "."


def why_throughput(report: dict[str, Any], mode: str) -> str:
    """Why cdkg answers fewer requests a second than the Oxigraph server: its ceiling."""
    tp = report["load"]["summary"]["throughput"].get(mode, {})
    queries = _measured(report)
    if not queries:
        return ""
    key = CDKG if mode == UNCACHED else CDKG_CACHED
    rates = sorted(q["throughput"][key]["per_second"] for q in queries if key in q["throughput"])
    spread = (
        f"from {_rate(rates[0])} to {_rate(rates[-1])}, median {_rate(rates[len(rates) // 2])}"
        if rates
        else ""
    )
    text = (
        f"cdkg answers at most {_rate(tp['cdkg_most_per_second'])} requests a second "
        f"({'uncached' if mode == UNCACHED else 'cache hits'}; {spread}) where the Oxigraph server "
        f"answers up to {_rate(tp['oxigraph_most_per_second'])}: every request"
        f"{', a cache hit too,' if mode == CACHED else ''} passes through one Python process "
        "(waitress and Flask, one interpreter lock), on CPUs shared with wrk and the engine "
        "children"
    )
    lowest = sorted(
        (q for q in queries if not _nan(q["throughput_ratio"][mode])),
        key=lambda q: q["throughput_ratio"][mode],
    )[:3]
    if lowest:
        text += "; lowest: " + "; ".join(
            f"{q['name']} {_x(q['throughput_ratio'][mode])} "
            f"({_rate(q['throughput'][key]['per_second'])} vs "
            f"{_rate(q['throughput'][OXIGRAPH]['per_second'])} req/s)"
            for q in lowest
        )
    return text + "."


def _phases(found: dict[str, Any]) -> str:
    phases = found.get("phases", {})
    return ", ".join(f"{k} {_s(v)}" for k, v in phases.items())


def why_cold(report: dict[str, Any]) -> str:
    cold = report["cold_start"]
    if not cold["phases"]:
        return ""
    return (
        f"where cdkg's start-up goes (one fresh interpreter): {_phases(cold['phases'])}; the "
        "Oxigraph server opens a store or parses N-Quads, and validates nothing"
    )


def why_serving(report: dict[str, Any]) -> str:
    serving = report["serving"]
    if not serving:
        return ""
    served, generated = serving["cdkg"]["served_triples"], serving["triples"]
    return (
        f"cdkg serve loads the files, validates them (SHACL and the checks) and builds its "
        f"catalog and views before it answers ({served:,} triples served from {generated:,} "
        f"generated: the ontology, catalog and views add {served - generated:,}); "
        f"`oxigraph load` parses and indexes only. Where cdkg's start-up goes at this size: "
        f"{_phases(serving.get('phases', {}))}"
    )


def why_memory(report: dict[str, Any]) -> str:
    serving = report["serving"]
    if not serving:
        return ""
    cdkg = serving["cdkg"]
    peaks = serving.get("phases", {}).get("peaks", {})
    after = ", ".join(f"{k} {_mib(v)}" for k, v in peaks.items())
    procs = "; ".join(
        f"{p['role']} RSS {_mib(p.get('VmRSS', 0))}, Pss {_mib(p.get('Pss', 0))}, private "
        f"{_mib(p.get('Private', 0))}"
        for p in cdkg["processes"]
    )
    return (
        f"the server process peaks at {_mib(cdkg['peak_server'])} (one start-up's peak after each "
        f"phase: {after}); at the first answer: {procs}; the tree's Pss peaked at "
        f"{_mib(cdkg['peak_tree_pss'])}"
    )


# --- Markdown -----------------------------------------------------------------------------------


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _x(value: float) -> str:
    return "-" if _nan(value) else f"{value:.3g}x"


def _ms(value: float) -> str:
    if _nan(value):
        return "-"
    return f"{value * 1000:.2f} ms" if value < 0.01 else f"{value * 1000:.0f} ms"


def _s(value: float) -> str:
    return "-" if _nan(value) else f"{value:.2f} s"


def _rate(value: float) -> str:
    return "-" if _nan(value) else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _mib(value: float) -> str:
    return "-" if _nan(value) else f"{value / 2**20:.0f} MiB"


def _verdicts(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| target | wanted | measured | | by how much | why |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {t['target']} | {t['wanted']} | {t['figure']} | **{t['status']}** | {t['by']} "
        f"| {t.get('why', '')} |"
        for t in rows
    ]
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: targets, then one section per part."""
    meta = report["meta"]
    averages = ", ".join(f"{k} {v}" for k, v in meta["load_average"].items())
    lines = [
        f"Run {meta['date']} on {meta['machine']}; load average (1 min): {averages}. "
        f"{meta['versions']}.",
        "",
        "**Targets** (issue 16; reported, never asserted):",
        "",
        *_verdicts(report["targets"]),
    ]
    if report["secondary"]:
        lines += ["", "Secondary (an earlier target, kept for comparison):", ""]
        lines += _verdicts(report["secondary"])
    lines += _latency_lines(report)
    lines += _throughput_lines(report)
    lines += _cold_lines(report["cold_start"], meta["options"]["cold_runs"])
    lines += _scale_lines(report["scale"]["points"], meta["options"]["scale"])
    lines += _serving_lines(report["serving"])
    return "\n".join(lines) + "\n"


def _rows_cell(q: dict[str, Any]) -> str:
    count = q["rows"].get(CDKG, -1)
    shown = "failed" if count < 0 else str(count)
    if q["mismatch"]:
        shown += f" **MISMATCH** ({q['mismatch']})"
    return shown


def _latency_lines(report: dict[str, Any]) -> list[str]:
    queries = report["load"]["queries"]
    if not queries:
        return []
    lo = report["meta"]["options"]["load"]
    lines = [
        "",
        f"**(a) Per query, one client, uncached.** The same {report['load']['quads']:,} quads on "
        "every server (cdkg's served dataset, dumped as N-Quads). Canned queries with their "
        "default parameters, SPARQL JSON; CONSTRUCT and DESCRIBE (kind graph) as N-Triples; the "
        "other servers get cdkg's predeclared prefixes declared. Requests in a row on one "
        f"connection, each a new text (a numbered comment): at most {lo['latency_requests']}, "
        f"at least {lo['min_requests']}, about {lo['latency_budget']:g} s per server; median "
        "(p50) and p90. cdkg runs with `--cache-entries 0`; Oxigraph = `oxigraph serve "
        "--union-default-graph` in memory, the store cdkg embeds (the RocksDB column: "
        "`oxigraph serve-read-only` over `oxigraph load`'s store). Cache hit = cdkg with its "
        "cache on, the same text. In-process, over the same store in the benchmark's process: "
        "raw pyoxigraph (query, then its own writer), cdkg's path (`cdkg.engine.evaluate.answer`: "
        "guard, Oxigraph, TSV, the format asked for), the guard alone. rdflib-endpoint: "
        f"at most {lo['peer_requests']} requests within {lo['peer_budget']:g} s (n); a "
        f"request is given up after {lo['peer_timeout']:g} s (and rdflib-endpoint restarted, as "
        "it would go on with it).",
        "",
        "| query | kind | rows | cdkg p50 | p90 | Oxigraph p50 | p90 | **cdkg / Oxigraph** "
        "| Oxigraph RocksDB p50 | cdkg cache hit p50 | in-process: raw pyoxigraph | cdkg path "
        "| guard | rdflib-endpoint p50 (n) |",
        "|---|" + "---|" * 13,
    ]
    for q in queries:
        if q["skipped"]:
            lines.append(f"| {q['name']} | {q['kind']} | {q['skipped']} |" + " |" * 11)
            continue
        lat, inside = q["latency"], q["in_process"]

        def p(key: str, which: str, lat: dict[str, Any] = lat) -> str:
            return _ms(lat[key][which]) if key in lat else "-"

        peer = (
            f"{p(PEER, 'p50')} ({lat[PEER]['answered']})"
            if PEER in lat
            else q.get("peer_note") or "failed"
        )
        lines.append(
            f"| {q['name']} | {q['kind']} | {_rows_cell(q)} | {p(CDKG, 'p50')} | {p(CDKG, 'p90')} "
            f"| {p(OXIGRAPH, 'p50')} | {p(OXIGRAPH, 'p90')} | **{_x(q['latency_ratio'])}** "
            f"| {p(OXIGRAPH_DISK, 'p50')} | {p(CDKG_CACHED, 'p50')} "
            f"| {_ms(inside.get('raw', math.nan))} | {_ms(inside.get('answer', math.nan))} "
            f"| {_ms(inside.get('guard', math.nan))} | {peer} |"
        )
    lat = report["load"]["summary"]["latency"]
    for kind, label in ((CANNED, "canned queries"), (GRAPH, "CONSTRUCT and DESCRIBE")):
        if lat.get(kind, {}).get("queries"):
            lines.append(
                f"| **geometric mean, {label}** | | | | | | | **{_x(lat[kind]['geomean_ratio'])}**"
                " | | | | | | |"
            )
    return lines


def _throughput_lines(report: dict[str, Any]) -> list[str]:
    queries = [q for q in report["load"]["queries"] if not q["skipped"]]
    if not queries:
        return []
    lo = report["meta"]["options"]["load"]
    clients = report["load"]["clients"]
    lines = [
        "",
        f"**(a) Per query, {clients} clients** (wrk: one thread, {clients} connections, "
        f"{lo['duration']} s per server and mode). Uncached: cdkg with `--cache-entries 0`, a "
        "new text every request. Cached: cdkg with its cache on, the same text every request. "
        "Oxigraph (in memory) gets a new text every request; it has no result cache, so its "
        "figure is the same either way and serves both ratios. req/s counts answers with status "
        "200 and the length of the server's first answer; errors = other statuses, wrong "
        "lengths, timeouts and socket errors.",
        "",
        "| query | cdkg uncached req/s | p50 | p99 | cdkg cached req/s | p50 | p99 "
        "| Oxigraph req/s | p50 | p99 | **uncached / Oxigraph** | **cached / Oxigraph** "
        "| errors |",
        "|---|" + "---|" * 12,
    ]
    for q in queries:
        cells = [q["name"]]
        errors = 0
        for key in (CDKG, CDKG_CACHED, OXIGRAPH):
            st = q["throughput"].get(key)
            if st is None:
                cells += ["-", "-", "-"]
                continue
            errors += st["errors"] + st["wrong_rows"]
            cells += [_rate(st["per_second"]), _ms(st["p50"]), _ms(st["p99"])]
        cells += [
            f"**{_x(q['throughput_ratio'][UNCACHED])}**",
            f"**{_x(q['throughput_ratio'][CACHED])}**",
            str(errors),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    tp = report["load"]["summary"]["throughput"]
    lines.append(
        "| **geometric mean** | | | | | | | | | | "
        f"**{_x(tp[UNCACHED]['geomean_ratio'])}** | **{_x(tp[CACHED]['geomean_ratio'])}** | |"
    )
    return lines


def _cold_lines(cold: dict[str, Any], runs: int) -> list[str]:
    if not cold["runs"]:
        return []
    what = {
        CDKG: "cdkg serve (load, SHACL, checks, views, engine)",
        OXIGRAPH_DISK: "Oxigraph server, read-only over an already loaded store",
        OXIGRAPH: "Oxigraph server in memory (spawn, POST the N-Quads, answer)",
        PEER: "rdflib-endpoint serve (parse the N-Quads)",
    }
    lines = [
        "",
        f"**(b) Cold start at the paper's size**: from spawning the server to its first "
        f"answered query (Table 2), {runs} runs each, alternating.",
        "",
        "| server | runs | median |",
        "|---|---|---|",
    ]
    for key, values in cold["runs"].items():
        lines.append(
            f"| {what.get(key, key)} | {', '.join(_s(v) for v in values)} "
            f"| **{_s(cold['medians'][key])}** |"
        )
    if cold["phases"]:
        lines += [
            "",
            f"Where cdkg's start-up goes (one fresh interpreter): {_phases(cold['phases'])}.",
        ]
    return lines


def _scale_lines(points: list[dict[str, Any]], opts: dict[str, Any]) -> list[str]:
    if not points:
        return []
    lines = [
        "",
        f"**(c) Table 2 (`queries/table2.rq`) on generated graphs** (`cdkg generate`), median of "
        f"{opts['repeat']} (rdflib: of {max(1, opts['repeat'] // 2)}); cache off, no row cap; "
        "in the benchmark's process. execute = `Engine.execute` "
        "(`cdkg.engine.evaluate.answer`: guard, Oxigraph, TSV, JSON); run = `Engine.run`, "
        "in an engine child (as a request, minus HTTP); guard = `cdkg.sparql.guard.admit` "
        "alone; raw pyoxigraph reads every value of every "
        "solution; pyoxigraph → JSON writes them with pyoxigraph's own serialiser; rdflib = its "
        "memory store and engine.",
        "",
        "| triples | rows | cdkg execute | cdkg run | guard | raw pyoxigraph "
        "| pyoxigraph → JSON | rdflib | execute / raw | run / raw | load cdkg | load raw |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        rows = (
            str(p["rows_cdkg"])
            if p["rows_cdkg"] == p["rows_raw"]
            else (f"{p['rows_cdkg']} / raw {p['rows_raw']} MISMATCH")
        )
        lines.append(
            f"| {p['triples']:,} | {rows} | {_ms(p['cdkg_execute'])} | {_ms(p['cdkg_run'])} "
            f"| {_ms(p['guard'])} | {_ms(p['raw'])} | {_ms(p['raw_json'])} | {_ms(p['rdflib'])} "
            f"| **{_x(p['ratio_execute'])}** | **{_x(p['ratio_run'])}** "
            f"| {_ms(p['load_cdkg'])} | {_ms(p['load_raw'])} |"
        )
    return lines


def _serving_lines(serving: dict[str, Any]) -> list[str]:
    if not serving:
        return []
    cdkg, raw = serving["cdkg"], serving["pyoxigraph"]
    load = serving.get("oxigraph_load", {})
    lines = [
        "",
        f"**(d) Serving {serving['triples']:,} generated triples** (the ontology and "
        f"`cdkg generate`'s N-Triples: {', '.join(serving['files'])}). cdkg serve --data: from "
        "spawn to its first answered query (`ASK { ?s ?p ?o }`); its peak memory is the larger "
        "of the server process's VmHWM and the process tree's summed Pss (sampled every "
        "0.25 s and at the first answer). `oxigraph load`: a new RocksDB store, peak RSS from "
        "wait4; then `oxigraph serve-read-only` over it to its first answer. Raw pyoxigraph: "
        "`Store().load` of the same files in a fresh interpreter, VmHWM.",
        "",
        "| | seconds | peak memory | |",
        "|---|---|---|---|",
        f"| cdkg serve --data, spawn to first answer | **{_s(cdkg['seconds'])}** "
        f"| **{_mib(cdkg['peak'])}** | {cdkg['served_triples']:,} triples served |",
        f"| `oxigraph load` | **{_s(load.get('seconds', math.nan))}** "
        f"| {_mib(load.get('peak', math.nan))} | then serve-read-only to first answer: "
        f"{_s(load.get('serve_first_answer', math.nan))} |",
        f"| raw pyoxigraph `Store().load` | {_s(raw['seconds'])} | **{_mib(raw['VmHWM'])}** "
        f"| {raw['triples']:,} triples; RSS {_mib(raw['VmRSS'])} at the end |",
        f"| **cdkg / oxigraph load** | **{_x(serving['time_ratio'])}** | | |",
        f"| **cdkg / raw pyoxigraph** | | **{_x(serving['memory_ratio'])}** | |",
        "",
        "cdkg's processes at the first answer:",
        "",
        "| process | pid | VmRSS | VmHWM | Pss | private |",
        "|---|---|---|---|---|---|",
    ]
    for p in cdkg["processes"]:
        lines.append(
            f"| {p['role']} | {p['pid']} | {_mib(p.get('VmRSS', math.nan))} "
            f"| {_mib(p.get('VmHWM', math.nan))} | {_mib(p.get('Pss', math.nan))} "
            f"| {_mib(p.get('Private', math.nan))} |"
        )
    phases = serving.get("phases", {})
    if phases:
        lines += [
            "",
            f"Where cdkg's start-up goes at this size (one fresh interpreter; "
            f"{phases.get('triples', 0):,} triples once the views are built, "
            f"{phases.get('violations', 0)} violations; the interpreter's exit, freeing it all, "
            f"took {_s(phases.get('exit (not part of start-up)', math.nan))} more):",
            "",
            "| phase | seconds | peak memory after it |",
            "|---|---|---|",
        ]
        for key, value in phases["phases"].items():
            lines.append(f"| {key} | {_s(value)} | {_mib(phases['peaks'].get(key, math.nan))} |")
    return lines


# --- the command --------------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("docs/bench"),
        help="directory for report.md, report.json, bench.png (default docs/bench)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny durations, 10k triples only, one cold start (for tests)",
    )
    parser.add_argument("--clients", type=int, help="concurrent clients (default 8)")
    parser.add_argument(
        "--duration", type=int, help="seconds of wrk per query, server and mode (default 2)"
    )
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME",
        help="only this query (a canned query, or describe-tehran, describe-ties, "
        "construct-ties, construct-wikidata-view; repeatable; default all)",
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        metavar="N",
        help="triples of the generated graphs (default 10000 100000 1000000); the largest is "
        "also served",
    )
    parser.add_argument("--repeat", type=int, help="runs per timing at scale (default 5)")
    parser.add_argument("--cold-runs", type=int, help="cold starts per server (default 3)")
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to run (default all)"
    )


def options(args: argparse.Namespace) -> tuple[LoadOptions, ScaleOptions, int]:
    """The options of a run: ``--quick``'s or the defaults, then each flag given."""
    load, scale, cold_runs = LoadOptions(), ScaleOptions(), 3
    if args.quick:
        load = LoadOptions(
            duration=1,
            latency_requests=5,
            latency_budget=0.2,
            min_requests=3,
            peer_requests=1,
            peer_budget=0.5,
            peer_timeout=10.0,
            in_process_budget=0.05,
        )
        scale = ScaleOptions(sizes=(10_000,), repeat=2)
        cold_runs = 1
    load = LoadOptions(
        clients=args.clients or load.clients,
        duration=args.duration or load.duration,
        latency_requests=load.latency_requests,
        latency_budget=load.latency_budget,
        min_requests=load.min_requests,
        peer_requests=load.peer_requests,
        peer_budget=load.peer_budget,
        peer_timeout=load.peer_timeout,
        in_process_budget=load.in_process_budget,
        queries=tuple(args.query),
    )
    scale = ScaleOptions(
        sizes=tuple(args.sizes or scale.sizes),
        repeat=args.repeat or scale.repeat,
        rdflib_max=scale.rdflib_max,
    )
    return load, scale, args.cold_runs or cold_runs


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
    """report.md, report.json and bench.png in ``out``; their paths."""
    from cdkg_bench.plot import plot  # noqa: PLC0415  (imports matplotlib)

    out.mkdir(parents=True, exist_ok=True)
    md, js, png = out / "report.md", out / "report.json", out / "bench.png"
    md.write_text(markdown(report), encoding="utf-8")
    text = json.dumps(finite(report), indent=2, ensure_ascii=False, allow_nan=False)
    js.write_text(text + "\n", encoding="utf-8")
    plot(report, png)
    return [md, js, png]


def problems(report: dict[str, Any]) -> list[str]:
    """What makes the run fail: a query on which cdkg and the Oxigraph server disagree, or an
    answer from cdkg with another row count than its first."""
    found = []
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
    load, scale, cold_runs = options(args)

    def progress(message: str) -> None:
        print(f"cdkg bench-report: {message}", file=sys.stderr, flush=True)

    report = run(load, scale, cold_runs, tuple(args.parts), progress)
    for path in write(report, args.out):
        progress(f"wrote {path}")
    print(markdown(report), end="")
    bad = problems(report)
    for problem in bad:
        progress(f"problem: {problem}")
    return 1 if bad else 0
