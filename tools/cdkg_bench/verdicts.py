"""The verdicts of a ``cdkg bench-report`` run: each of issue 16's targets, and issue 19's for an
external store (:mod:`cdkg_bench.targets`), judged from the report's figures, with a note on the
figures behind it and, for a miss, why (:mod:`cdkg_bench.why`)."""

from __future__ import annotations

import math
from typing import Any

from cdkg.settings import Settings
from cdkg_bench import targets
from cdkg_bench.per_query_figures import CACHED, UNCACHED
from cdkg_bench.queries import CANNED, GRAPH
from cdkg_bench.servers import CDKG, LABELS
from cdkg_bench.store_figures import DIRECT, STORE, by_status, refused, worst
from cdkg_bench.units import mib as _mib
from cdkg_bench.units import ms as _ms
from cdkg_bench.units import s as _s
from cdkg_bench.units import x as _x
from cdkg_bench.why import (
    why_cold,
    why_latency,
    why_memory,
    why_serving,
    why_store_load,
    why_store_overhead,
    why_store_refused,
    why_throughput,
)

#: cdkg serve's default time limit: the 503 target is judged with it.
DEFAULT_TIMEOUT = Settings().timeout


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


def judge_store(store: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 19's targets for an external store, judged from the store part's figures: cdkg's
    overhead over the store at each size, its 503s at eight clients, its loading beside curl's.
    Each is "not measured" when the part was skipped."""
    points = store.get("sizes", [])
    sizes = [f"{p['triples']:,} triples" for p in points] or [
        f"{n:,} triples" for n in store.get("options", {}).get("sizes", ())
    ]
    out = []
    for rank, size in enumerate(sizes):
        point = points[rank] if rank < len(points) else {}
        queries = point.get("queries", [])
        t = targets.Target(
            f"at {size}: cdkg serve --store / the same request straight to the store, uncached "
            f"median, one client, worst of {len(queries) or 'the'} canned queries",
            targets.STORE_OVERHEAD,
            higher=False,
            unit="x",
        )
        top = worst(queries)
        note = "; ".join(
            f"{q['name']} {_x(q['ratio'])} ({_ms(q['median'].get(STORE, math.nan))} vs "
            f"{_ms(q['median'].get(DIRECT, math.nan))})"
            for q in queries
        ) or point.get("skipped", "")
        value = top["ratio"] if top else math.nan
        out.append(targets.judge(t, value, note, why_store_overhead(point)))
    crowded: dict[str, Any] = next((p for p in points if "clients" in p), {})
    clients = crowded.get("clients", {})
    where = f"at {crowded['triples']:,} triples" if crowded else "at the smallest size"
    t = targets.Target(
        f"{clients.get('clients', 8)} clients on Table 2 {where}, cdkg serve --store, the "
        f"default time limit ({DEFAULT_TIMEOUT:g} s): 503 answers",
        targets.STORE_REFUSED,
        higher=False,
        unit="503s",
    )
    ours = clients.get("ways", {}).get(STORE)
    note = ""
    if ours:
        note = f"of {ours['requests']} requests in {clients['duration']} s: {by_status(ours)}"
    value = float(refused(ours)) if ours else math.nan
    out.append(targets.judge(t, value, note, why_store_refused(crowded)))
    largest: dict[str, Any] = max(points, key=lambda p: p["triples"], default={})
    load = largest.get("load", {})
    where = f"at {largest['triples']:,} triples" if largest else "at the largest size"
    t = targets.Target(
        f"{where}: cdkg load / curl PUT of the same N-Triples to the same graphs",
        targets.STORE_LOAD,
        higher=False,
        unit="x",
    )
    note = ""
    if load:
        note = (
            f"{_s(load['cdkg']['seconds'])} vs {_s(load['curl']['seconds'])}; "
            f"{largest['served_triples']:,} triples in {len(largest['graphs'])} graphs"
        )
        for way in ("cdkg", "curl"):
            if load[way].get("error"):
                note += f"; {way} failed: {load[way]['error']}"
            for failed in load[way].get("failed", []):
                note += f"; an attempt of {way} failed and was made again: {failed}"
    out.append(targets.judge(t, load.get("ratio", math.nan), note, why_store_load(largest)))
    return out
