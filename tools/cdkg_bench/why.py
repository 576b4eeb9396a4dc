"""Why a target of ``cdkg bench-report`` is missed, told from the run's own figures: where
cdkg's time goes per request, its throughput ceiling, its start-up phases, its memory."""

from __future__ import annotations

from typing import Any

from cdkg_bench.per_query_figures import CACHED, UNCACHED
from cdkg_bench.servers import CDKG, CDKG_CACHED, OXIGRAPH
from cdkg_bench.units import mib as _mib
from cdkg_bench.units import ms as _ms
from cdkg_bench.units import nan as _nan
from cdkg_bench.units import phases as _phases
from cdkg_bench.units import rate as _rate
from cdkg_bench.units import x as _x


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
