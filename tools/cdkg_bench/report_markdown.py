"""The report of a ``cdkg bench-report`` run as Markdown (``report.md``, and ``store.md`` for the
external store): its targets' verdicts, then one table per part, each with what it measured and
how."""

from __future__ import annotations

import math
from typing import Any

from cdkg_bench.per_query_figures import CACHED, UNCACHED
from cdkg_bench.queries import CANNED, GRAPH
from cdkg_bench.servers import CDKG, CDKG_CACHED, OXIGRAPH, OXIGRAPH_DISK, PEER
from cdkg_bench.store_figures import BARE, DIRECT, EMBEDDED, STORE, by_status
from cdkg_bench.store_figures import LABELS as STORE_LABELS
from cdkg_bench.units import mib as _mib
from cdkg_bench.units import ms as _ms
from cdkg_bench.units import phases as _phases
from cdkg_bench.units import rate as _rate
from cdkg_bench.units import s as _s
from cdkg_bench.units import x as _x


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


def store_markdown(store: dict[str, Any], meta: dict[str, Any]) -> str:
    """The store part (``store.md``): its targets' verdicts, then each query three ways, the
    eight clients, and the loads."""
    lines = [
        f"Run {meta['date']} on {meta['machine']}; load average (1 min) before "
        f"{meta['load_average'].get('store', '-')}. {meta['versions']}; Virtuoso "
        f"{store.get('virtuoso', '(not installed)')}.",
        "",
    ]
    if store["skipped"]:
        lines.append(f"**(e) The external store: skipped.** {store['skipped']}.")
        return "\n".join(lines) + "\n"
    lines += ["**Targets** (issue 19; reported, never asserted):", "", *_verdicts(store["targets"])]
    opts, points = store["options"], store["sizes"]
    lines += [
        "",
        f"**(e) Each query three ways**, one client, uncached, median of n rounds (one request "
        f"a way each; at least {opts['repeat']}, up to {opts['most']} within "
        f"{opts['budget']:g} s a query): "
        "`cdkg serve --store` over a private Virtuoso (`scripts/virtuoso`, "
        f"{store['buffers']:,} buffers) holding what `cdkg load` put there; the same request "
        "straight to Virtuoso's /sparql (what cdkg sends: the text with cdkg's prefixes "
        "declared, cdkg's graphs named by default-graph-uri and named-graph-uri; and the same "
        "text with no dataset named); `cdkg serve` on the same files, embedded. Both cdkg "
        f"servers `--cache-entries 0 --max-rows {opts['max_rows']}` (no answer is cut); each "
        "request a new text and a new connection; the ways in a rotating order. In-process: "
        "the store's own answer read (`cdkg.sparql.store_answers.select_tsv`) and written "
        "again (`cdkg.engine.evaluate.write_table`).",
        "",
        "| triples | query | rows | n | cdkg --store p50 | Virtuoso direct p50 "
        "| **cdkg / direct** | direct, no dataset named | cdkg embedded p50 | --store / embedded "
        "| in-process: read | write |",
        "|---|" + "---|" * 11,
    ]
    for p in points:
        if p.get("skipped"):
            lines.append(f"| {p['triples']:,} | {p['skipped']} |" + " |" * 10)
        for q in p.get("queries", []):
            med, inside = q["median"], q["in_process"]
            counts = str(q["rows"].get(STORE, -1))
            if q["mismatch"]:
                counts += f" **MISMATCH** ({q['mismatch']})"
            if q["errors"]:
                failed = "; ".join(f"{k}: {v}" for k, v in q["errors"].items())
                counts += f" (failed: {failed})"
            lines.append(
                f"| {p['triples']:,} | {q['name']} | {counts} | {q.get('rounds', '-')} "
                f"| {_ms(med.get(STORE, math.nan))} "
                f"| {_ms(med.get(DIRECT, math.nan))} | **{_x(q['ratio'])}** "
                f"| {_ms(med.get(BARE, math.nan))} | {_ms(med.get(EMBEDDED, math.nan))} "
                f"| {_x(q['vs_embedded'])} | {_ms(inside.get('read', math.nan))} "
                f"| {_ms(inside.get('write', math.nan))} |"
            )
    lines += _store_crowd_lines(points)
    lines += [
        "",
        "**(e) Loading** each size into a fresh Virtuoso: `cdkg load --graph-store URL --data "
        "FILE` (Digest credentials from the environment) from spawn to exit, beside `curl "
        "--digest -X PUT --data-binary @graph.nt` of the N-Triples cdkg load sends (written "
        "beforehand by the same code), cut as cdkg load cuts them (a PUT of a graph's first 8 MiB, "
        "a POST of each other 8 MiB: one large body deadlocks Virtuoso 7.2's loader), into "
        "another fresh Virtuoso.",
        "",
        "| triples | sent | N-Triples | curl PUT | counted after curl | cdkg load "
        "| **cdkg / curl** | cdkg load's phases | attempts that failed, each made again |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        load = p["load"]
        counted = sum(load["curl"]["counted"].values())
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in load["cdkg"]["phases"].items())
        if load["cdkg"].get("again"):
            phases += f"; {load['cdkg']['again']} requests sent again (the store: deadlocked)"
        curl, cdkg = (
            f"failed: {load[way]['error']}" if load[way]["error"] else _s(load[way]["seconds"])
            for way in ("curl", "cdkg")
        )
        lines.append(
            f"| {p['triples']:,} | {p['served_triples']:,} triples, {len(p['graphs'])} graphs "
            f"| {sum(g['bytes'] for g in p['graphs']) / 2**20:.0f} MiB "
            f"| {curl} | {counted:,} | {cdkg} | **{_x(load['ratio'])}** | {phases} "
            f"| {_failed(load)} |"
        )
    return "\n".join(lines) + "\n"


def _failed(load: dict[str, Any]) -> str:
    return "; ".join(
        f"{way}: {error}" for way in ("curl", "cdkg") for error in load[way].get("failed", [])
    )


def _store_crowd_lines(points: list[dict[str, Any]]) -> list[str]:
    crowded = next((p for p in points if "clients" in p), None)
    if crowded is None:
        return []
    crowd = crowded["clients"]
    lines = [
        "",
        f"**(e) {crowd['clients']} clients on Table 2 at {crowded['triples']:,} triples**, "
        f"{crowd['duration']} s a way (Python threads, each request a new text and a new "
        "connection), in this order: Virtuoso direct, cdkg embedded, `cdkg serve --store`; "
        "cdkg with its default time limit and workers, cache off.",
        "",
        "| way | requests | by status | answers/s | p50 | p90 | what a refusal said |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, f in crowd["ways"].items():
        said = "; ".join(f"{status}: {text}" for status, text in f["messages"].items())
        lines.append(
            f"| {STORE_LABELS[key]} | {f['requests']} | {by_status(f)} | {_rate(f['per_second'])} "
            f"| {_ms(f['p50'])} | {_ms(f['p90'])} | {said} |"
        )
    return lines
