"""Why a target of ``cdkg bench-report`` is missed, told from the run's own figures: where
cdkg's time goes per request, its throughput ceiling, its start-up phases, its memory; with an
external store, what cdkg adds to the store's answers, its refusals under load, its loading."""

from __future__ import annotations

import math
from typing import Any

from cdkg.engine.runner import LONG_QUERIES_PER_WORKER
from cdkg.settings import Settings
from cdkg_bench.per_query_figures import CACHED, UNCACHED
from cdkg_bench.servers import CDKG, CDKG_CACHED, OXIGRAPH
from cdkg_bench.store_figures import DIRECT, EMBEDDED, STORE, by_status
from cdkg_bench.units import mib as _mib
from cdkg_bench.units import ms as _ms
from cdkg_bench.units import nan as _nan
from cdkg_bench.units import phases as _phases
from cdkg_bench.units import rate as _rate
from cdkg_bench.units import x as _x

#: cdkg serve's default --workers: the long-query slots a default server has.
WORKERS = Settings().workers


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


# --- the external store (issue 19) ---------------------------------------------------------------


def why_store_overhead(point: dict[str, Any]) -> str:
    """Why cdkg serve --store trails the same request sent straight to the store: reading the
    store's answer and writing it again, per 1,000 rows; its fixed cost, on the
    smallest answer; each query's difference."""
    queries = [q for q in point.get("queries", []) if not _nan(q["added"])]
    if not queries:
        return ""

    def rows(q: dict[str, Any]) -> int:
        count: int = q["rows"].get(DIRECT, -1)
        return count

    def inside(q: dict[str, Any], key: str) -> float:
        value: float = q["in_process"].get(key, math.nan)
        return value

    def one(q: dict[str, Any]) -> str:
        return (
            f"{q['name']} {_x(q['ratio'])}: {_signed_ms(q['added'])} on the store's "
            f"{_ms(q['median'][DIRECT])} ({rows(q):,} rows, {q['bytes'].get(DIRECT, 0) / 1024:.0f} "
            f"KiB of JSON; reading it {_ms(inside(q, 'read'))}, writing it "
            f"{_ms(inside(q, 'write'))})"
        )

    big, small = max(queries, key=rows), min(queries, key=rows)
    per = (inside(big, "read") + inside(big, "write")) / max(rows(big), 1) * 1000
    text = (
        "cdkg reads the store's SPARQL JSON answer (by Oxigraph), then writes its own (both "
        f"timed in this process over the store's answer): about {_ms(per)} per 1,000 rows "
        f"({big['name']}, {rows(big):,} rows), so the queries with large answers trail most; "
        f"the smallest answer ({small['name']}, {rows(small):,} rows) shows cdkg's fixed cost "
        "(waitress, Flask, the guard, the round trip to the engine child, its own connection to "
        f"the store): {_signed_ms(small['added'])}. By query: "
        + "; ".join(one(q) for q in sorted(queries, key=lambda q: q["ratio"], reverse=True))
    )
    below = [q["name"] for q in queries if q["added"] < 0]
    if below:
        text += (
            f". Through cdkg, {', '.join(below)} came out faster than straight to the store: the "
            "store's own spread from round to round is larger there than what cdkg adds"
        )
    return text + "."


def _signed_ms(value: float) -> str:
    return f"-{_ms(-value)}" if value < 0 else f"+{_ms(value)}"


def why_store_refused(point: dict[str, Any]) -> str:
    """Why cdkg serve --store refused requests at eight clients: what its 503s said, what the
    store alone did under the same load, and how long Table 2 takes there at one client."""
    crowd = point.get("clients", {}).get("ways", {})
    ours = crowd.get(STORE)
    if not ours:
        return ""
    said = "; ".join(f'{status}: "{text}"' for status, text in ours["messages"].items())
    table2 = next((q for q in point.get("queries", []) if q["name"] == "table2"), None)
    text = f"cdkg answered {_statuses(ours)}; it said {said}"
    if table2 is not None:
        one = table2["median"].get(DIRECT, math.nan)
        long_after = Settings().long_after
        text += (
            f". Table 2 takes {_ms(one)} on the store at one client, past the {long_after:g} s "
            f"(--long-after) after which cdkg moves a running query to a long-query slot "
            f"({LONG_QUERIES_PER_WORKER} per --workers: {LONG_QUERIES_PER_WORKER * WORKERS} by "
            "default); a query that turns long when none is free is stopped (503), and the "
            "store, which is not told, goes on with it"
        )
    alone = crowd.get(DIRECT)
    if alone:
        text += (
            f". The store alone, under the same {point['clients']['clients']} clients: "
            f"{_statuses(alone)}, p50 {_ms(alone['p50'])}"
        )
    embedded = crowd.get(EMBEDDED)
    if embedded:
        text += f"; cdkg embedded: {_statuses(embedded)}, p50 {_ms(embedded['p50'])}"
    return text + "."


def _statuses(figures: dict[str, Any]) -> str:
    return f"{figures['requests']} requests ({by_status(figures)})"


def why_store_load(point: dict[str, Any]) -> str:
    """Why cdkg load takes longer than curl PUT of the same N-Triples: its phases as it reports
    them, and its sending beside curl's, graph by graph."""
    load = point.get("load", {})
    cdkg, curl = load.get("cdkg"), load.get("curl")
    if not cdkg or not curl:
        return ""
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in cdkg["phases"].items())
    sent = "; ".join(
        f"<{iri}> {seconds:.1f} s (curl {curl['sent'].get(iri, math.nan):.1f} s)"
        for iri, seconds in cdkg["sent"].items()
    )
    return (
        f"curl only sends bytes already written; cdkg load ({cdkg['seconds']:.1f} s from spawn "
        f"to exit) first loads the files and validates them (SHACL and the checks), builds the "
        f"catalog and the views, then counts each graph on the store and stamps it: {phases}. "
        f"Its sending, from a thread while the views are built: {sent}"
        + (
            f"; {cdkg['again']} of its requests sent again, refused by the store as deadlocked"
            if cdkg.get("again")
            else ""
        )
    )
